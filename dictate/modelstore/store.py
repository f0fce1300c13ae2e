"""The model cache: folders, imported-model records, and what is installed or prepared."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from dictate.modelstore.catalogue import CatalogueEntry, load_catalogue
from dictate.modelstore.errors import ModelError
from dictate.modelstore.manifest import read_manifest
from dictate.modelstore.sources import weights_installed

CACHE_ENV = "DICTATE_CACHE_DIR"  # overrides the whole cache root
APP_NAME = "dictate"
IMPORTED_FILE = "imported.json"


def cache_dir() -> Path:
    """$DICTATE_CACHE_DIR, else the platform's user cache folder for dictate."""
    override = os.environ.get(CACHE_ENV)
    return Path(override).expanduser() if override else Path(platformdirs.user_cache_dir(APP_NAME))


def models_dir() -> Path:
    """`<cache>/models`: one prepared folder per model name."""
    return cache_dir() / "models"


def model_dir(name: str) -> Path:
    """The prepared folder of `name` (it may not exist yet)."""
    if not name or name in (".", "..") or "/" in name or "\\" in name:
        raise ModelError(f"invalid model name {name!r}")
    return models_dir() / name


def load_imported() -> dict[str, CatalogueEntry]:
    """Models added with `import_model`, recorded in `<cache>/imported.json`."""
    path = cache_dir() / IMPORTED_FILE
    if not path.is_file():
        return {}
    try:
        records = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as error:
        raise ModelError(f"{path} is corrupt ({error}); delete it and import the models again") from error
    return {name: CatalogueEntry.from_json(record, imported=True) for name, record in records.items()}


def save_imported(entry: CatalogueEntry) -> None:
    """Add or replace an imported model's record (atomically)."""
    records = {name: e.to_json() for name, e in load_imported().items()}
    records[entry.name] = entry.to_json()
    path = cache_dir() / IMPORTED_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def all_entries() -> dict[str, CatalogueEntry]:
    """Catalogue models, then imported ones (an import cannot shadow a catalogue name)."""
    return {**load_imported(), **load_catalogue()}


def find_entry(name: str) -> CatalogueEntry:
    entries = all_entries()
    if name not in entries:
        raise ModelError(f"unknown model {name!r}; known: {', '.join(sorted(entries))} "
                         "(add a CTranslate2 folder with `dictate models import PATH`)")
    return entries[name]


@dataclass(frozen=True)
class ModelStatus:
    """One row of `dictate models list`."""

    entry: CatalogueEntry
    installed: bool  # the weight files are present (package installed / folder exists)
    prepared_variants: tuple[str, ...]  # ONNX variants in the cache, empty when not prepared
    prepared_bytes: int  # size of the prepared folder's files


def list_models() -> list[ModelStatus]:
    """Every known model with its install and prepare state."""
    rows = []
    for name, entry in sorted(all_entries().items()):
        manifest = read_manifest(model_dir(name))
        rows.append(ModelStatus(entry=entry, installed=weights_installed(entry),
                                prepared_variants=manifest.variants if manifest else (),
                                prepared_bytes=sum(r.size for r in manifest.files.values()) if manifest else 0))
    return rows
