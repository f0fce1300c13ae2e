"""Exporters: subtitle syntax checked by parsers (srt, webvtt-py and a strict grammar here), JSON and
Markdown content, atomic writes that fail clearly on a vanished folder, a full disk and a read-only disk."""

from __future__ import annotations

import html
import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import srt
import webvtt
from hypothesis import given, settings
from hypothesis import strategies as st

from dictate.transcript.exporters import FORMATS, ExportError, export_text, write_transcript
from dictate.transcript.types import Segment, Transcript, TranscriptInfo, Word


def _words(start: float, text: str) -> tuple[Word, ...]:
    """Evenly spread word timings for a segment's text."""
    tokens = text.split()
    step = 0.4
    return tuple(Word(start + i * step, start + (i + 1) * step, " " + token, 0.9) for i, token in enumerate(tokens))


# Whisper's segments for JFK's inaugural-address excerpt (misc/wav/jfk.wav)
JFK = Transcript(
    segments=[
        Segment(
            0,
            0.0,
            7.6,
            " And so my fellow Americans, ask not what your country can do for you,",
            words=_words(0.0, "And so my fellow Americans, ask not what your country can do for you,"),
        ),
        Segment(
            1,
            7.6,
            10.6,
            " ask what you can do for your country.",
            words=_words(7.6, "ask what you can do for your country."),
        ),
    ],
    info=TranscriptInfo(duration=11.0, language="en", language_probability=1.0, model="tiny.en"),
)

SRT_TIME = r"\d{2,}:\d{2}:\d{2},\d{3}"
VTT_TIME = r"\d{2,}:\d{2}:\d{2}\.\d{3}"


def _seconds(clock: str) -> float:
    hours, minutes, seconds = clock.replace(",", ".").split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def _strict_cues(document: str, time: str, numbered: bool) -> list[tuple[float, float, str]]:
    """A strict reading of SRT / WebVTT cue blocks: [number], timing line, one non-empty text line."""
    blocks = document.split("\n\n") if document else []
    assert not blocks or blocks[-1].endswith("\n") and not blocks[-1].endswith("\n\n")
    cues = []
    for number, block in enumerate(blocks, start=1):
        lines = block.rstrip("\n").split("\n")
        if numbered:
            assert lines.pop(0) == str(number)
        assert len(lines) == 2, block
        timing = re.fullmatch(f"({time}) --> ({time})", lines[0])
        assert timing, lines[0]
        text = lines[1]
        assert text.strip() and "-->" not in text and text == text.strip()
        cues.append((_seconds(timing[1]), _seconds(timing[2]), text))
    return cues


def _srt_cues(transcript: Transcript) -> list[tuple[float, float, str]]:
    document = export_text(transcript, "srt")
    parsed = list(srt.parse(document))
    cues = _strict_cues(document, SRT_TIME, numbered=True)
    assert [(round(s.start.total_seconds(), 3), round(s.end.total_seconds(), 3), s.content) for s in parsed] == [
        (round(start, 3), round(end, 3), text) for start, end, text in cues
    ]
    return cues


def _vtt_cues(transcript: Transcript) -> list[tuple[float, float, str]]:
    document = export_text(transcript, "vtt")
    header, _, body = document.partition("\n")
    assert header == "WEBVTT" and (not body or body.startswith("\n"))
    parsed = webvtt.from_string(document, strict=True)
    cues = _strict_cues(body[1:], VTT_TIME, numbered=False)
    assert [(round(_seconds(c.start), 3), round(_seconds(c.end), 3), c.raw_text) for c in parsed] == [
        (round(start, 3), round(end, 3), text) for start, end, text in cues
    ]
    return [(start, end, html.unescape(text)) for start, end, text in cues]


def test_srt_of_jfk() -> None:
    assert export_text(JFK, "srt") == (
        "1\n00:00:00,000 --> 00:00:07,600\nAnd so my fellow Americans, ask not what your country can do for you,\n\n"
        "2\n00:00:07,600 --> 00:00:10,600\nask what you can do for your country.\n"
    )
    assert _srt_cues(JFK)[1][:2] == (7.6, 10.6)


def test_vtt_of_jfk() -> None:
    assert export_text(JFK, "vtt").splitlines()[:4] == [
        "WEBVTT",
        "",
        "00:00:00.000 --> 00:00:07.600",
        "And so my fellow Americans, ask not what your country can do for you,",
    ]
    assert len(_vtt_cues(JFK)) == 2


def test_txt_is_the_text() -> None:
    assert export_text(JFK, "txt") == (
        "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.\n"
    )


def test_json_of_jfk() -> None:
    document = json.loads(export_text(JFK, "json"))
    assert document["text"] == "".join(s["text"] for s in document["segments"]).strip() == JFK.text
    assert (document["language"], document["model"], document["task"], document["duration"]) == (
        "en",
        "tiny.en",
        "transcribe",
        11.0,
    )
    first_word = document["segments"][0]["words"][0]
    assert first_word == {"start": 0.0, "end": 0.4, "word": " And", "probability": 0.9}
    assert [s["id"] for s in document["segments"]] == [0, 1]


def test_markdown_of_jfk() -> None:
    lines = export_text(JFK, "md").splitlines()
    assert lines[0] == "# Transcript"
    assert lines[2] == "*00:11 of audio · en · tiny.en*"
    assert lines[4] == "**[00:00]** " + JFK.text  # no pause: one paragraph


def test_markdown_paragraphs_at_pauses_with_hour_clock() -> None:
    transcript = Transcript(
        segments=[
            Segment(0, 3725.0, 3727.0, " First *point*."),
            Segment(1, 3727.5, 3729.0, " Same breath."),
            Segment(2, 3735.0, 3737.0, " After a pause."),
        ],
        info=TranscriptInfo(duration=3737.0),
    )
    paragraphs = export_text(transcript, "md").split("\n\n")[2:]
    assert paragraphs == ["**[1:02:05]** First \\*point\\*. Same breath.", "**[1:02:15]** After a pause.\n"]


segment_text = st.one_of(
    st.text(max_size=40),
    st.lists(
        st.sampled_from(
            ["-->", "--->", "\n", "\n\n", "\r\n", " ", "<b>", "&amp;", "é", "漢字", "1", "00:00:01,000", "word"]
        ),
        max_size=8,
    ).map("".join),
)
segments_strategy = st.lists(
    st.tuples(st.floats(0, 20_000), st.floats(0, 600), segment_text),
    max_size=12,
).map(lambda rows: [Segment(i, start, start + length, text) for i, (start, length, text) in enumerate(rows)])


def _visible(text: str) -> str:
    """The characters a cue must keep: everything but whitespace, dashes and `>` (arrows are rewritten)."""
    return re.sub(r"[\s\->]", "", text)


@settings(max_examples=200, deadline=None)
@given(segments=segments_strategy)
def test_subtitles_stay_valid_for_any_text(segments: list[Segment]) -> None:
    transcript = Transcript(segments=segments, info=TranscriptInfo(duration=25_000.0))
    kept = [segment for segment in segments if segment.text.split()]
    for cues in (_srt_cues(transcript), _vtt_cues(transcript)):
        assert len(cues) == len(kept)
        assert all(start <= end for start, end, _ in cues)
        assert [start for start, _, _ in cues] == sorted(start for start, _, _ in cues)
        assert [_visible(text) for _, _, text in cues] == [_visible(segment.text) for segment in kept]


@settings(max_examples=100, deadline=None)
@given(segments=segments_strategy)
def test_json_and_txt_keep_the_text_exactly(segments: list[Segment]) -> None:
    transcript = Transcript(segments=segments, info=TranscriptInfo(duration=1.0))
    document = json.loads(export_text(transcript, "json"))
    assert document["text"] == "".join(segment.text for segment in segments).strip()
    assert [s["text"] for s in document["segments"]] == [segment.text for segment in segments]
    assert export_text(transcript, "txt") == (document["text"] + "\n" if document["text"] else "")


def test_unknown_format() -> None:
    with pytest.raises(ValueError, match="docx"):
        export_text(JFK, "docx")


@pytest.mark.parametrize("fmt", FORMATS)
def test_write_transcript_picks_the_format_from_the_extension(tmp_path: Path, fmt: str) -> None:
    path = write_transcript(JFK, tmp_path / f"jfk.{fmt.upper()}")
    assert path.read_text(encoding="utf-8") == export_text(JFK, fmt)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]  # no temporary file left


def test_write_transcript_replaces_an_existing_file_and_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("old")
    path.chmod(0o600)
    write_transcript(JFK, path, fmt="srt")
    assert path.read_text(encoding="utf-8") == export_text(JFK, "srt")
    assert path.stat().st_mode & 0o777 == 0o600


def test_unknown_extension_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "jfk.docx"
    with pytest.raises(ExportError, match=re.escape(str(path))):
        write_transcript(JFK, path)
    assert not path.exists()


def test_vanished_folder(tmp_path: Path) -> None:
    path = tmp_path / "removed" / "jfk.srt"
    with pytest.raises(ExportError) as caught:
        write_transcript(JFK, path)
    assert str(path) in str(caught.value) and "does not exist" in str(caught.value)


@contextmanager
def _tmpfs(folder: Path, options: str) -> Iterator[Path]:
    """A small real filesystem mounted at `folder` (needs root with mount permission, as on the project's machines)."""
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs to make a full or read-only disk here: {mounted.stderr.strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


def test_full_disk_leaves_the_old_file_intact(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "small", "size=64k") as folder:
        path = folder / "jfk.json"
        path.write_text("previous export")
        long = Transcript(segments=[Segment(i, i, i + 1, " ask not" * 100) for i in range(400)])
        with pytest.raises(ExportError) as caught:
            write_transcript(long, path)
        assert str(path) in str(caught.value) and "disk is full" in str(caught.value)
        assert path.read_text() == "previous export"
        assert [p.name for p in folder.iterdir()] == ["jfk.json"]


def test_read_only_disk(tmp_path: Path) -> None:
    with _tmpfs(tmp_path / "ro", "size=64k") as folder:
        (folder / "jfk.vtt").write_text("previous export")
        subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
        with pytest.raises(ExportError) as caught:
            write_transcript(JFK, folder / "jfk.vtt")
        assert "read-only" in str(caught.value) and str(folder / "jfk.vtt") in str(caught.value)
        assert (folder / "jfk.vtt").read_text() == "previous export"


def test_paragraph_breaks_of_the_text_reach_every_export() -> None:
    from dictate.transcript.retime import build_transcript

    words = [Word(float(i), i + 0.5, " " + token) for i, token in enumerate("Dear team. The build is green.".split())]
    transcript = build_transcript(words, "Dear team.\n\nThe build is green.", TranscriptInfo(duration=7.0))
    assert export_text(transcript, "txt") == "Dear team.\n\nThe build is green.\n"
    assert json.loads(export_text(transcript, "json"))["text"] == "Dear team.\n\nThe build is green."
    assert export_text(transcript, "md").count("**[") == 2  # two paragraphs although no pause separates them
    assert [cue.split("\n")[2] for cue in export_text(transcript, "srt").split("\n\n") if cue] == [
        "Dear team.", "The build is green."]
