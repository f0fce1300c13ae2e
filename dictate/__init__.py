"""dictate: offline live dictation with Whisper on onnxruntime.

`from dictate import transcribe, TranscribeOptions` is cheap: the ASR modules load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
