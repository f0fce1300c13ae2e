"""`manifest.json` of a prepared folder: size and sha256 of every file, and the source's sha256."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from dictate.modelstore.errors import ModelError

MANIFEST_FILE = "manifest.json"
MANIFEST_FORMAT = 1
UNVERSIONED_GRAPHS = 1  # the graph version of folders whose manifest predates the field
HASH_CHUNK_BYTES = 1 << 22  # 4 MiB


@dataclass(frozen=True)
class FileRecord:
    size: int  # bytes
    sha256: str


@dataclass(frozen=True)
class Manifest:
    name: str
    source_sha256: str  # of the CTranslate2 model.bin the folder was made from
    variants: tuple[str, ...]  # e.g. ("int8", "fp32")
    files: dict[str, FileRecord]  # file name -> record
    graph_version: int  # `onnx_graphs.GRAPH_VERSION` of the converter that wrote the ONNX files

    def to_json(self) -> str:
        return json.dumps({"format": MANIFEST_FORMAT, "name": self.name, "source_sha256": self.source_sha256,
                           "graph_version": self.graph_version, "variants": list(self.variants),
                           "files": {name: {"size": r.size, "sha256": r.sha256}
                                     for name, r in sorted(self.files.items())}}, indent=2) + "\n"


def sha256_file(path: Path, on_bytes: Callable[[int], None] | None = None) -> str:
    """Hex sha256 of a file, read in chunks; `on_bytes(n)` after each chunk."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
            if on_bytes:
                on_bytes(len(chunk))
    return digest.hexdigest()


def record_files(folder: Path, names: Iterable[str]) -> dict[str, FileRecord]:
    return {name: FileRecord((folder / name).stat().st_size, sha256_file(folder / name)) for name in names}


def write_manifest(folder: Path, manifest: Manifest) -> None:
    """Write atomically (temp file + rename)."""
    temporary = folder / (MANIFEST_FILE + ".tmp")
    temporary.write_text(manifest.to_json(), encoding="utf-8")
    os.replace(temporary, folder / MANIFEST_FILE)


def read_manifest(folder: Path) -> Manifest | None:
    """The folder's manifest, or None when the folder was never (completely) prepared."""
    path = folder / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Manifest(name=data["name"], source_sha256=data["source_sha256"], variants=tuple(data["variants"]),
                        files={name: FileRecord(int(r["size"]), r["sha256"]) for name, r in data["files"].items()},
                        graph_version=int(data.get("graph_version", UNVERSIONED_GRAPHS)))
    except (ValueError, KeyError, TypeError) as error:
        raise ModelError(f"{path} is corrupt ({error!r}); run `dictate models prepare {folder.name} --force`") \
            from error


def verify(folder: Path, manifest: Manifest, full: bool = False) -> None:
    """Every listed file exists with its size (and, when `full`, its sha256); else a ModelError."""
    fix = f"run `dictate models prepare {manifest.name} --force`"
    for name, record in manifest.files.items():
        path = folder / name
        if not path.is_file():
            raise ModelError(f"{path} is missing; {fix}")
        size = path.stat().st_size
        if size != record.size:
            raise ModelError(f"{path} has {size} bytes, expected {record.size} (truncated or modified); {fix}")
        if full and sha256_file(path) != record.sha256:
            raise ModelError(f"{path} does not match its sha256 in {MANIFEST_FILE} (corrupt or modified); {fix}")
