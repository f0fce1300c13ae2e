"""Alternatives from the recogniser for words it may have got wrong, with the real model and real speech.

Streaming once wrote "am I" where JFK says "my" ("And so my fellow Americans"). The offline
transcript of jfk.wav, with that word replaced by what streaming wrote, is the state the user
sees: the right word must be among the alternatives for the wrong one."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from dictate.asr.alternatives import find_alternatives
from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe
from dictate.audio.loading import load_audio
from dictate.constants import SAMPLE_RATE


def test_the_word_streaming_got_wrong_has_the_right_one_among_its_alternatives(jfk_wav: Path,
                                                                               tiny_model_dir: Path) -> None:
    recognizer = Recognizer.load(tiny_model_dir)
    segments, _ = transcribe(str(jfk_wav), recognizer, TranscribeOptions(word_timestamps=True))
    words = [word for segment in segments for word in segment.words]
    index = next(i for i, word in enumerate(words) if word.text.strip().lower() == "my")
    heard = [*words[:index], replace(words[index], text=" am I"), *words[index + 1 :]]
    speech = load_audio(jfk_wav)

    def audio_at(start: float, end: float):
        return speech[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]

    alternatives = find_alternatives(recognizer, audio_at, heard, index, index)
    assert "my" in [text.strip(",.").lower() for text in alternatives], alternatives
    assert "am I" not in alternatives  # the text shown is not offered again
