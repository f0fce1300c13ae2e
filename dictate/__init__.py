"""dictate: offline live dictation with Whisper on onnxruntime.

`from dictate import transcribe, TranscribeOptions` is cheap: the ASR modules load on first use.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

# numpy's OpenBLAS threads spin after every small matrix product (the mel filterbank, the panel's frames) and
# burn a core meanwhile: measured, "What Whisper Hears" cost 14.5 % of a core with them and 0.7 % without, and
# `dictate stream --fast` used 9 % less CPU for the same text. The model runs in onnxruntime's own threads.
# Set before numpy loads (this package's first import); a user's own setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from dictate.transcript.types import Segment, TranscriptInfo, Word

if TYPE_CHECKING:
    from dictate.asr.transcribe import TranscribeOptions, transcribe

__all__ = ["Segment", "TranscribeOptions", "TranscriptInfo", "Word", "transcribe"]

_LAZY = {"transcribe", "TranscribeOptions"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from dictate.asr import transcribe as module

        return getattr(module, name)
    raise AttributeError(f"module 'dictate' has no attribute {name!r}")
