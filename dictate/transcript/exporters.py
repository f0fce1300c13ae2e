"""Transcript exporters (txt, srt, vtt, json, md) and an atomic file writer with clear errors.

Subtitle cues stay valid for any text: whitespace and line breaks inside a
segment collapse to single spaces, `-->` becomes `->`, empty cues are left out
and cue times never go backwards. Word timings appear only in JSON.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from dictate.transcript.types import Segment, Transcript

PARAGRAPH_PAUSE_SECONDS = 2.0  # a silence this long starts a new Markdown paragraph
PARAGRAPH_MAX_SECONDS = 60.0  # a Markdown paragraph never spans more audio than this
NEW_FILE_MODE = 0o644  # permissions of a newly exported file (an existing file keeps its own)

_ARROW = re.compile(r"-{2,}>")  # `-->` separates cue times; any run of dashes before `>` could form one
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#|])")


class ExportError(Exception):
    """A transcript that could not be written; the message names the file and the reason."""


def _one_line(text: str) -> str:
    """Text on one line (every run of whitespace -> one space) with no cue-timing arrow."""
    return _ARROW.sub("->", " ".join(text.split()))


def _seconds(value: float) -> float:
    return value if math.isfinite(value) and value > 0 else 0.0


def _cues(segments: list[Segment]) -> Iterator[tuple[float, float, str]]:
    """(start, end, one-line text) of the non-empty segments; starts never decrease, end >= start."""
    for start, end, text, _ in _cues_with_breaks(segments):
        yield start, end, text


def _cues_with_breaks(segments: list[Segment]) -> Iterator[tuple[float, float, str, bool]]:
    """`_cues`, each with whether its segment's text starts a new paragraph (begins with a line break)."""
    previous_start = 0.0
    for segment in segments:
        text = _one_line(segment.text)
        if not text:
            continue
        start = max(_seconds(segment.start), previous_start)
        previous_start = start
        yield start, max(_seconds(segment.end), start), text, segment.text.lstrip(" \t").startswith("\n")


def _clock(seconds: float, decimal: str) -> str:
    milliseconds = round(seconds * 1000)
    hours, rest = divmod(milliseconds, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    whole, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{whole:02d}{decimal}{millis:03d}"


def _short_clock(seconds: float) -> str:
    """mm:ss, or h:mm:ss from one hour on."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, whole = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{whole:02d}" if hours else f"{minutes:02d}:{whole:02d}"


def to_txt(transcript: Transcript) -> str:
    text = transcript.text
    return f"{text}\n" if text else ""


def to_srt(transcript: Transcript) -> str:
    blocks = [
        f"{number}\n{_clock(start, ',')} --> {_clock(end, ',')}\n{text}\n"
        for number, (start, end, text) in enumerate(_cues(transcript.segments), start=1)
    ]
    return "\n".join(blocks)


def _escape_vtt(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(transcript: Transcript) -> str:
    blocks = [
        f"{_clock(start, '.')} --> {_clock(end, '.')}\n{_escape_vtt(text)}\n"
        for start, end, text in _cues(transcript.segments)
    ]
    return "\n".join(["WEBVTT\n", *blocks])


def _number(value: float) -> float | None:
    """JSON has no NaN or infinity: those become null."""
    return value if math.isfinite(value) else None


def to_json(transcript: Transcript) -> str:
    info = transcript.info
    document = {
        "text": transcript.text,
        "language": info.language,
        "language_probability": _number(info.language_probability),
        "duration": _number(info.duration),
        "model": info.model,
        "task": info.task,
        "segments": [
            {
                "id": segment.id,
                "start": _number(segment.start),
                "end": _number(segment.end),
                "text": segment.text,
                "words": [
                    {
                        "start": _number(word.start),
                        "end": _number(word.end),
                        "word": word.text,
                        "probability": _number(word.probability),
                    }
                    for word in segment.words
                ],
                "tokens": list(segment.tokens),
                "avg_logprob": _number(segment.avg_logprob),
                "compression_ratio": _number(segment.compression_ratio),
                "no_speech_prob": _number(segment.no_speech_prob),
                "temperature": _number(segment.temperature),
            }
            for segment in transcript.segments
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def _paragraphs(cues: Iterator[tuple[float, float, str, bool]]) -> Iterator[tuple[float, list[str]]]:
    """Group cues into (start, texts) paragraphs, split at line breaks, pauses and at a maximum length."""
    start, last_end, texts = 0.0, 0.0, []
    for cue_start, cue_end, text, breaks in cues:
        if texts and (breaks or cue_start - last_end >= PARAGRAPH_PAUSE_SECONDS
                      or cue_start - start >= PARAGRAPH_MAX_SECONDS):
            yield start, texts
            texts = []
        if not texts:
            start = cue_start
        texts.append(text)
        last_end = max(last_end, cue_end)
    if texts:
        yield start, texts


def to_md(transcript: Transcript) -> str:
    info = transcript.info
    facts = [f"{_short_clock(_seconds(info.duration))} of audio", info.language, info.model]
    lines = ["# Transcript", "", "*" + " · ".join(_MARKDOWN_SPECIAL.sub(r"\\\1", fact) for fact in facts if fact) + "*"]
    for start, texts in _paragraphs(_cues_with_breaks(transcript.segments)):
        body = _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(texts))
        lines += ["", f"**[{_short_clock(start)}]** {body}"]
    return "\n".join(lines) + "\n"


EXPORTERS: dict[str, Callable[[Transcript], str]] = {
    "txt": to_txt,
    "srt": to_srt,
    "vtt": to_vtt,
    "json": to_json,
    "md": to_md,
}
FORMATS = tuple(EXPORTERS)


def export_text(transcript: Transcript, fmt: str) -> str:
    """The transcript as text in `fmt` (one of FORMATS)."""
    try:
        exporter = EXPORTERS[fmt.lower().lstrip(".")]
    except KeyError:
        raise ValueError(f"unknown transcript format {fmt!r}: use one of {', '.join(FORMATS)}") from None
    return exporter(transcript)


def _reason(error: OSError, folder: Path) -> str:
    code = error.errno
    if code == errno.ENOENT:
        return f"the folder {folder} does not exist (was it removed or unmounted?)"
    if code == errno.ENOTDIR:
        return f"{folder} is not a folder"
    if code in (errno.EACCES, errno.EPERM):
        return f"there is no permission to write in {folder}"
    if code == errno.EROFS:
        return f"{folder} is on a read-only disk"
    if code in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if code == errno.EISDIR:
        return "a folder of that name is in the way"
    return error.strerror or str(error)


def write_transcript(transcript: Transcript, path: str | Path, fmt: str | None = None) -> Path:
    """Write the transcript to `path` atomically (format from the extension unless `fmt` is given).

    The file is either the complete new transcript or left as it was. Raises ExportError.
    """
    path = Path(path)
    fmt = fmt or path.suffix.lstrip(".")
    if fmt.lower() not in EXPORTERS:
        raise ExportError(f"Cannot save {path}: choose a file ending in one of {', '.join('.' + f for f in FORMATS)}.")
    data = export_text(transcript, fmt).encode("utf-8")
    try:
        _atomic_write(path, data)
    except OSError as error:
        raise ExportError(f"Cannot save {path}: {_reason(error, path.parent)}.") from error
    return path


def _atomic_write(path: Path, data: bytes) -> None:
    """Temporary file in the same folder, written and fsynced, then renamed over `path`."""
    folder = path.parent
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mode = path.stat().st_mode & 0o777 if path.is_file() else NEW_FILE_MODE
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(folder)


def _fsync_folder(folder: Path) -> None:
    """Make the rename durable where the platform allows opening a folder."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
