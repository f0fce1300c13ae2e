"""The benchmarks' shared helpers: speech sets, normalised WER, peak RSS; the token-identity check."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from bench.common import load_set, peak_rss_mb, word_error_rate
from bench.offline import OURS, THEIRS, FileResult, token_identity

MIB = 1024 * 1024


def test_longform_set_pairs_each_file_with_its_transcript(audio_dir: Path) -> None:
    utterances = load_set("longform", audio_dir)
    assert len(utterances) == 5
    for utterance in utterances:
        assert utterance.path.is_file() and utterance.path.suffix == ".wav"
        assert utterance.reference.startswith(utterance.path.with_suffix(".txt").read_text(encoding="utf-8")[:40])
        assert len(utterance.reference.split()) > 100  # 70-95 s of read speech


def test_librispeech_set_has_every_utterance_with_an_existing_file(audio_dir: Path) -> None:
    utterances = load_set("librispeech", audio_dir)
    assert len(utterances) == 61
    assert [u.id for u in utterances] == sorted(u.id for u in utterances)
    assert all(u.path.is_file() and u.reference == u.reference.upper() and u.reference for u in utterances)


def test_unknown_set_is_refused(audio_dir: Path) -> None:
    with pytest.raises(ValueError, match="unknown set"):
        load_set("switchboard", audio_dir)


def test_wer_ignores_case_punctuation_and_spelling_variants() -> None:
    reference = "MISTER HALE SAID IT WAS TWENTY PERCENT"
    assert word_error_rate([reference], ["Mr. Hale said, it was 20%."]) == 0.0


def test_wer_counts_edits_over_all_reference_words_of_the_corpus() -> None:
    references = ["THE CAT SAT ON THE MAT", "HELLO WORLD"]  # 8 words
    hypotheses = ["The dog sat on the mat.", "Hello."]  # 1 substitution + 1 deletion
    assert word_error_rate(references, hypotheses) == pytest.approx(100 * 2 / 8)
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        word_error_rate(references, hypotheses[:1])


def test_peak_rss_covers_the_memory_in_use() -> None:
    block = np.ones(64 * MIB, dtype=np.uint8)  # touched, so resident
    resident = int(re.search(r"VmRSS:\s+(\d+) kB", Path("/proc/self/status").read_text()).group(1)) / 1024
    assert peak_rss_mb() >= resident - 1
    assert block.sum() == block.size


def test_token_identity_reports_the_first_differing_position() -> None:
    def results(*token_lists: tuple[int, ...]) -> list[FileResult]:
        return [FileResult(f"u{i}", 1.0, 0.1, "", tokens) for i, tokens in enumerate(token_lists)]

    ours = results((1, 2, 3), (1, 2, 3), (1, 2))
    theirs = results((1, 2, 3), (1, 9, 3), (1, 2, 3))
    identical, differing = token_identity({OURS: ours, THEIRS: theirs})
    assert identical == pytest.approx(100 / 3)
    assert differing == [("u1", 1), ("u2", 2)]


def test_a_missing_audio_folder_is_an_error_not_an_empty_set(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="longform not found"):
        load_set("longform", tmp_path)
