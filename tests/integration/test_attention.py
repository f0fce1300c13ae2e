"""Where Whisper heard a word: the alignment heads' attention while the decoder writes it, over real speech.

The words of jfk.wav come from offline transcription with word timings; the attention for each word,
computed over the audio around it, must peak inside that word's own start and end (words shorter than
0.2 s aside: their timings are a frame or two, "my" lasts 60 ms)."""

from __future__ import annotations

from pathlib import Path

from dictate.asr.attention import word_attention
from dictate.asr.transcribe import Recognizer, TranscribeOptions, transcribe
from dictate.audio.loading import load_audio
from dictate.constants import SAMPLE_RATE

MIN_WORD_S = 0.2


def test_each_words_attention_peaks_inside_the_word(jfk_wav: Path, tiny_model_dir: Path) -> None:
    recognizer = Recognizer.load(tiny_model_dir)
    segments, _ = transcribe(str(jfk_wav), recognizer, TranscribeOptions(word_timestamps=True))
    words = [word for segment in segments for word in segment.words]
    speech = load_audio(jfk_wav)

    def audio_at(start: float, end: float):
        return speech[int(start * SAMPLE_RATE) : int(end * SAMPLE_RATE)]

    checked = [(word.text, word.start, word.end, word_attention(recognizer, audio_at, words, index).peak_time())
               for index, word in enumerate(words) if word.end - word.start >= MIN_WORD_S]
    assert len(checked) >= 15
    outside = [item for item in checked if not item[1] <= item[3] <= item[2]]
    assert not outside, outside
