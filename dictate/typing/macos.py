"""Typing on macOS: Quartz keyboard events carrying a Unicode string (CGEventKeyboardSetUnicodeString).

An event carries at most MAX_UNITS UTF-16 units (longer strings are cut by the
system), so `mac_events(text)` splits the text into chunks that never split a
surrogate pair; newline, tab and BackSpace are their virtual keys. The Quartz calls
need pyobjc-framework-Quartz (not a dependency; imported on darwin only) and the
Accessibility permission. Not tested on a real desktop.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from dictate.typing.base import NEWLINE, TAB, InsertError, check_typeable
from dictate.typing.windows import utf16_units

MAX_UNITS = 20  # UTF-16 units one event carries
KVK_RETURN, KVK_TAB, KVK_DELETE, KVK_ANSI_V = 0x24, 0x30, 0x33, 0x09  # virtual key codes (Events.h)
KEY_CODES = {NEWLINE: KVK_RETURN, TAB: KVK_TAB}
COMMAND_FLAG = 1 << 20  # kCGEventFlagMaskCommand


@dataclass(frozen=True)
class MacEvent:
    """A key press and release: a virtual key (`text` empty), or key 0 carrying `text` (<= MAX_UNITS units)."""

    key: int = 0
    text: str = ""
    flags: int = 0


def utf16_chunks(text: str, max_units: int = MAX_UNITS) -> list[str]:
    """`text` cut into pieces of at most `max_units` UTF-16 units, never inside a surrogate pair."""
    if max_units < 2:
        raise ValueError("max_units must be at least 2 (a surrogate pair)")
    chunks, current, units = [], "", 0
    for char in text:
        size = 2 if ord(char) > 0xFFFF else 1
        if units + size > max_units:
            chunks.append(current)
            current, units = "", 0
        current += char
        units += size
    if current:
        chunks.append(current)
    return chunks


def mac_events(text: str) -> list[MacEvent]:
    """The events that type `text`."""
    events: list[MacEvent] = []
    run = ""
    for char in text:
        if char in KEY_CODES:
            events += [MacEvent(text=chunk) for chunk in utf16_chunks(run)]
            events.append(MacEvent(key=KEY_CODES[char]))
            run = ""
        else:
            run += char
    return events + [MacEvent(text=chunk) for chunk in utf16_chunks(run)]


class QuartzInserter:
    """Types with CGEventPost (darwin only)."""

    name = "quartz"

    def __init__(self) -> None:
        if sys.platform != "darwin":
            raise InsertError("Quartz events exist only on macOS")
        try:
            import Quartz
        except ImportError:
            raise InsertError("pyobjc-framework-Quartz is not installed (pip install pyobjc-framework-Quartz)") \
                from None
        self._quartz = Quartz
        trusted = getattr(Quartz, "AXIsProcessTrusted", None)
        if trusted is not None and not trusted():
            raise InsertError("dictate may not send keys: allow it under System Settings > Privacy & Security > "
                              "Accessibility")

    def type_text(self, text: str) -> None:
        check_typeable(text, self.name)
        for event in mac_events(text):
            self._post(event)

    def backspace(self, count: int) -> None:
        for _ in range(max(count, 0)):
            self._post(MacEvent(key=KVK_DELETE))

    def paste_keystroke(self, terminal: bool = False) -> None:
        self._post(MacEvent(key=KVK_ANSI_V, flags=COMMAND_FLAG))  # Cmd+V, terminals included

    def close(self) -> None:
        pass

    def _post(self, event: MacEvent) -> None:
        q = self._quartz
        for down in (True, False):
            handle = q.CGEventCreateKeyboardEvent(None, event.key, down)
            if handle is None:
                raise InsertError("Quartz could not create a keyboard event")
            if event.text:
                q.CGEventKeyboardSetUnicodeString(handle, len(utf16_units(event.text)), event.text)
            if event.flags:
                q.CGEventSetFlags(handle, event.flags)
            q.CGEventPost(q.kCGHIDEventTap, handle)
