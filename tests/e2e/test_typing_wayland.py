"""Typing into a Wayland-native application for real: headless Sway, foot running `cat > FILE`, wtype.

Sway refuses to run as root, so it runs as a throwaway user (tests/desktop.py); this
process (root) reaches its socket through XDG_RUNTIME_DIR and WAYLAND_DISPLAY.
"""

from __future__ import annotations

import pytest

from dictate.text.stage import TextEdit
from dictate.typing import Focus, FocusGuard, TypingSession, choose_inserter, focus_tracker
from dictate.typing.wayland import WtypeInserter
from tests.desktop import FootTarget, dictation_chunks, headless_sway

# ASCII and punctuation (a word starting with "-", which wtype would read as an option),
# newlines, a tab, Latin-1, quotes, €, CJK, and ơ (U+01A1, which wtype 0.4 would type as Ą
# if given the code point as text).
TEXT = ("Hello, world! It's 5 o'clock; (a+b)*c = 42 % -n [x] {y} <z> ~`|\\ \"q\"\n"
        "Café, Straße, “quotes”, 20 € - 漢字 ơ\tend")


@pytest.fixture
def sway():
    try:
        with headless_sway() as session:
            yield session
    except (RuntimeError, TimeoutError) as exc:
        pytest.skip(f"headless sway cannot start on this machine: {exc}")


def test_wtype_types_the_dictation_exactly_into_foot(sway):
    target = FootTarget.start(sway)
    inserter = choose_inserter("auto", sway.env)
    assert isinstance(inserter, WtypeInserter)
    session = TypingSession(inserter, FocusGuard(focus_tracker(sway.env)))
    assert session.start() is Focus.UNKNOWN  # Wayland does not tell which window has the focus
    for chunk in dictation_chunks(TEXT):
        assert not session.apply(TextEdit(0, chunk)).pending
    session.apply(TextEdit(0, " typo"))
    session.apply(TextEdit(len(" typo"), ""))  # a deletion in the same dictation: BackSpaces
    session.finish()
    assert target.finish() == TEXT + "\n"
