"""What every way of putting text into the focused window shares: the protocol, its error, the clipboard.

An inserter is made for one dictation (it may hold a connection or a helper process
open) and closed at its end. It either delivers all of a call's text or raises
`InsertError`, which says why and how much of the text arrived before it failed,
so the caller can show it and fall back (failures are data, never silence).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

NEWLINE = "\n"  # typed as the Return key
TAB = "\t"  # typed as the Tab key
KEY_CHARACTERS = frozenset(NEWLINE + TAB)  # the only control characters an inserter types


class InsertError(RuntimeError):
    """Text could not be put into the focused window; the message says why, for the user.

    `delivered`: how many characters of the call's text did arrive before the failure
    (0 when nothing was sent). `retry`: the cause is passing (a modifier key held down),
    so the same text may be sent again later instead of falling back.
    """

    def __init__(self, message: str, delivered: int = 0, retry: bool = False) -> None:
        super().__init__(message)
        self.delivered = delivered
        self.retry = retry


@runtime_checkable
class TextInserter(Protocol):
    """Types text into whichever window has the keyboard focus."""

    name: str  # short, for settings and messages: "x11-xtest", "wtype", "paste", ...

    def type_text(self, text: str) -> None:
        """Type `text` ("\\n" as Return, "\\t" as Tab); raises InsertError."""

    def backspace(self, count: int) -> None:
        """Press BackSpace `count` times; raises InsertError."""

    def close(self) -> None:
        """The dictation is over: release what the inserter holds (idempotent)."""


@dataclass(frozen=True)
class Clipboard:
    """The system clipboard as two callables, so the GUI can pass Qt's and tests a command-line tool's."""

    get: Callable[[], str | None]  # the clipboard's text, None when it holds no text
    set: Callable[[str], None]  # replace the clipboard's content by this text


def check_typeable(text: str, inserter: str) -> None:
    """Raise InsertError if `text` holds a control character no key types (only newline and tab do)."""
    for char in text:
        if (ord(char) < 0x20 or 0x7F <= ord(char) < 0xA0) and char not in KEY_CHARACTERS:
            raise InsertError(f"{inserter} cannot type the control character U+{ord(char):04X}")
