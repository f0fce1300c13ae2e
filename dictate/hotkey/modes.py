"""Hold to talk and toggle: what a press or a release of the hotkey asks dictation to do."""

from __future__ import annotations

import enum

from dictate.hotkey.backend import HotkeyEdge


class HotkeyMode(enum.Enum):
    HOLD = "hold"  # dictation runs while the key is held; releasing it finishes the utterance
    TOGGLE = "toggle"  # press to start, press again to stop


class Request(enum.Enum):
    START = "start"
    STOP = "stop"


class ModeMachine:
    """Turns hotkey edges into start / stop requests.

    It knows whether dictation runs from its own requests and from `set_dictating`, which the owner
    calls when dictation starts or stops some other way (the window's button, `dictate toggle`), so
    that the next toggle press does what the user expects."""

    def __init__(self, mode: HotkeyMode = HotkeyMode.HOLD) -> None:
        self.mode = mode
        self.dictating = False

    def set_dictating(self, dictating: bool) -> None:
        self.dictating = dictating

    def on_edge(self, edge: HotkeyEdge) -> Request | None:
        """The request this edge makes, or None (a toggle release; a press while already running)."""
        if self.mode is HotkeyMode.TOGGLE:
            if edge is not HotkeyEdge.PRESS:
                return None
            request = Request.STOP if self.dictating else Request.START
        elif edge is HotkeyEdge.PRESS:
            request = None if self.dictating else Request.START
        else:
            request = Request.STOP if self.dictating else None
        if request is not None:
            self.dictating = request is Request.START
        return request
