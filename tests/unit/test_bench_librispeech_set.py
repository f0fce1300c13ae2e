"""bench/librispeech_set.py: utterances joined by pauses, with segment times the yardstick can trust."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile

from bench.common import Utterance
from bench.librispeech_set import SAMPLE_RATE, write_file


def test_segments_start_after_the_utterances_and_pauses_before_them(tmp_path: Path) -> None:
    lengths, pauses = (1.5, 0.75, 2.0), (0.25, 1.5, 0.5)
    utterances = []
    for index, seconds in enumerate(lengths):
        path = tmp_path / f"u{index}.wav"
        soundfile.write(path, np.full(int(seconds * SAMPLE_RATE), 0.1 * (index + 1), np.float32), SAMPLE_RATE)
        utterances.append(Utterance(f"u{index}", path, f"WORDS OF {index}"))
    total = write_file(utterances, pauses, tmp_path, "mix")
    assert total == sum(lengths) + sum(pauses)
    rows = (tmp_path / "mix.segments.tsv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "utt_id\tstart_s\tend_s\ttext"
    assert [row.split("\t") for row in rows[1:]] == [["u0", "0.000", "1.500", "WORDS OF 0"],
                                                     ["u1", "1.750", "2.500", "WORDS OF 1"],
                                                     ["u2", "4.000", "6.000", "WORDS OF 2"]]
    assert (tmp_path / "mix.txt").read_text(encoding="utf-8") == "WORDS OF 0 WORDS OF 1 WORDS OF 2\n"
    audio, rate = soundfile.read(tmp_path / "mix.wav", dtype="float32")
    assert rate == SAMPLE_RATE and len(audio) == int(total * SAMPLE_RATE)
    assert np.allclose(audio[int(1.75 * rate) : int(2.5 * rate)], 0.2, atol=1e-3)  # u1 where its segment says
    assert not audio[int(1.5 * rate) : int(1.75 * rate)].any()  # the pause after u0
