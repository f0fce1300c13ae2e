"""Terminal captions of `dictate stream`: committed sentences on their own lines, the microphone's start told."""

from __future__ import annotations

import io

import pytest

from dictate.cli_stream import LiveCaptions
from dictate.streaming.events import Committed, EngineStatus
from dictate.transcript.types import Word


class Terminal(io.StringIO):
    """What the captions write to a terminal (escape sequences included)."""

    def isatty(self) -> bool:
        return True


def status(audio_time: float) -> EngineStatus:
    return EngineStatus(audio_time=audio_time, lag=0.0, rtf=0.0, level_db=-30.0, speaking=False)


def test_a_live_microphone_is_announced_once_when_its_first_audio_arrives(capsys: pytest.CaptureFixture[str]) -> None:
    captions = LiveCaptions(Terminal(), live=True)
    captions.show(status(0.0))  # the engine runs, the device has delivered nothing yet
    assert capsys.readouterr().err == ""
    captions.show(status(0.25))
    captions.show(status(0.5))
    assert capsys.readouterr().err == "dictate stream: listening (Ctrl-C to stop)\n"


@pytest.mark.parametrize("out, live", [(Terminal(), False), (io.StringIO(), True)], ids=["file input", "not a tty"])
def test_no_announcement_for_a_file_or_a_pipe(out: io.StringIO, live: bool, capsys: pytest.CaptureFixture[str]) -> None:
    captions = LiveCaptions(out, live=live)
    captions.show(status(0.25))
    assert capsys.readouterr().err == ""


def test_each_committed_sentence_ends_its_line() -> None:
    out = io.StringIO()
    captions = LiveCaptions(out)
    captions.show(Committed((Word(0.0, 0.4, " Ask"), Word(0.4, 0.6, " not."), Word(1.0, 1.3, " Ask"))))
    captions.show(Committed((Word(1.3, 1.5, " what."),)))
    assert out.getvalue().splitlines() == ["Ask not.", "Ask what."]


def test_a_sentence_ends_its_line_but_mr_does_not() -> None:
    out = io.StringIO()
    captions = LiveCaptions(out)
    texts = [" Margaret", " said", " Mr.", " Hale", " as", " he", " returned.", " Why"]
    captions.show(Committed(tuple(Word(i, i + 0.5, text) for i, text in enumerate(texts))))
    captions.end_line()
    assert out.getvalue() == "Margaret said Mr. Hale as he returned.\nWhy\n"
