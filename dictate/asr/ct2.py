"""Reader for CTranslate2 `model.bin` files (binary version 6), without CTranslate2.

Layout (little endian): u32 version, string spec name, u32 revision, u32 count, then
`count` variables (string name, u8 rank, u32 dims[rank], u8 dtype, u32 byte count, raw
bytes), then u32 alias count and (alias, target) string pairs. A string is a u16 length
(NUL included), the UTF-8 bytes and a NUL. Rank-0 variables are settings, not weights.
Int8 weights come with `<name>_scale` (CTranslate2 stores `q = round(w * scale)`, so
`w = q / scale`, one scale per output row); int16 weights with one scalar scale.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dictate.modelstore.errors import ModelError

SUPPORTED_VERSION = 6
SCALE_SUFFIX = "_scale"
# Type ids written by ctranslate2/specs/model_spec.py (`_dtype_to_type_id`).
DTYPES: dict[int, str] = {0: "float32", 1: "int8", 2: "int16", 3: "int32", 4: "float16", 5: "bfloat16"}
_NUMPY_DTYPES = {
    "float32": np.dtype("<f4"),
    "int8": np.dtype("i1"),
    "int16": np.dtype("<i2"),
    "int32": np.dtype("<i4"),
    "float16": np.dtype("<f2"),
    "bfloat16": np.dtype("<u2"),  # raw bits; widened to float32 on read
}


@dataclass(frozen=True)
class Ct2Variable:
    """One stored variable: the raw array (a view into the file) and its CTranslate2 dtype name."""

    array: np.ndarray
    dtype: str


class Ct2Model:
    """The variables of one `model.bin`; weights come out as float32 numpy arrays."""

    def __init__(self, path: Path, spec: str, revision: int, variables: dict[str, Ct2Variable],
                 aliases: dict[str, str]) -> None:
        self.path = path
        self.spec = spec  # e.g. "WhisperSpec"
        self.revision = revision
        self._variables = variables
        self._aliases = aliases

    def names(self) -> list[str]:
        """Every variable and alias name, sorted."""
        return sorted({*self._variables, *self._aliases})

    def __contains__(self, name: str) -> bool:
        return self._aliases.get(name, name) in self._variables

    def raw(self, name: str) -> Ct2Variable:
        """The stored variable (aliases resolved), without conversion."""
        target = self._aliases.get(name, name)
        if target not in self._variables:
            raise ModelError(f"{self.path}: variable {name!r} is missing; the file is not a complete "
                             f"{self.spec} model")
        return self._variables[target]

    def setting(self, name: str) -> int:
        """A rank-0 setting such as `encoder/num_heads`, as an int."""
        variable = self.raw(name)
        if variable.array.ndim != 0:
            raise ModelError(f"{self.path}: {name!r} is a weight, not a setting")
        return int(variable.array)

    def weight(self, name: str) -> np.ndarray:
        """A weight as float32, dequantised when stored as int8/int16 with `<name>_scale`."""
        target = self._aliases.get(name, name)
        variable = self.raw(target)
        array, dtype = variable.array, variable.dtype
        if dtype == "float32":
            return np.asarray(array)
        if dtype == "float16":
            return array.astype(np.float32)
        if dtype == "bfloat16":
            return (array.astype(np.uint32) << 16).view(np.float32)
        if dtype in ("int8", "int16") and target + SCALE_SUFFIX in self:
            scale = self.weight(target + SCALE_SUFFIX)
            scale = scale.reshape(scale.shape + (1,) * (array.ndim - scale.ndim))
            return (array.astype(np.float32) / scale).astype(np.float32)
        raise ModelError(f"{self.path}: weight {name!r} has dtype {dtype} without a scale; "
                         "only float32, float16, bfloat16 and scaled int8/int16 weights are supported")


class _Cursor:
    """Bounds-checked little-endian reads from a buffer; running past the end is a ModelError."""

    def __init__(self, path: Path, buffer: np.ndarray) -> None:
        self.path = path
        self.buffer = buffer
        self.offset = 0

    def take(self, size: int) -> memoryview:
        end = self.offset + size
        if end > len(self.buffer):
            raise ModelError(f"{self.path} is truncated or corrupt (needs byte {end}, has "
                             f"{len(self.buffer)}); reinstall the package that provides it")
        view = memoryview(self.buffer[self.offset:end])
        self.offset = end
        return view

    def unpack(self, fmt: str) -> tuple:
        return struct.unpack("<" + fmt, self.take(struct.calcsize("<" + fmt)))

    def string(self) -> str:
        (length,) = self.unpack("H")
        raw = bytes(self.take(length))
        if length == 0 or raw[-1] != 0:
            raise ModelError(f"{self.path} is corrupt: bad string at byte {self.offset - length}")
        return raw[:-1].decode("utf-8", errors="replace")


def read_ct2(path: Path) -> Ct2Model:
    """Map `path` and index its variables (no weight is copied until asked for)."""
    path = Path(path)
    try:
        buffer = np.memmap(path, dtype=np.uint8, mode="r")
    except (OSError, ValueError) as error:  # missing, unreadable or empty file
        raise ModelError(f"cannot read CTranslate2 model {path}: {error}") from error
    cursor = _Cursor(path, buffer)
    (version,) = cursor.unpack("I")
    if version != SUPPORTED_VERSION:
        raise ModelError(f"{path}: CTranslate2 binary version {version} is not supported "
                         f"(expected {SUPPORTED_VERSION}); convert it with ctranslate2>=3")
    spec = cursor.string()
    (revision,) = cursor.unpack("I")
    (count,) = cursor.unpack("I")
    variables: dict[str, Ct2Variable] = {}
    for _ in range(count):
        name = cursor.string()
        (rank,) = cursor.unpack("B")
        shape = cursor.unpack(f"{rank}I") if rank else ()
        (type_id,) = cursor.unpack("B")
        (num_bytes,) = cursor.unpack("I")
        if type_id not in DTYPES:
            raise ModelError(f"{path}: variable {name!r} has unknown dtype id {type_id}")
        dtype = DTYPES[type_id]
        numpy_dtype = _NUMPY_DTYPES[dtype]
        if num_bytes != int(np.prod(shape, dtype=np.int64)) * numpy_dtype.itemsize:
            raise ModelError(f"{path} is corrupt: variable {name!r} {list(shape)} {dtype} "
                             f"has {num_bytes} bytes")
        start = cursor.offset
        cursor.take(num_bytes)
        array = buffer[start:start + num_bytes].view(numpy_dtype).reshape(shape)
        variables[name] = Ct2Variable(array, dtype)
    (alias_count,) = cursor.unpack("I")
    aliases = {cursor.string(): cursor.string() for _ in range(alias_count)}
    return Ct2Model(path, spec, revision, variables, aliases)
