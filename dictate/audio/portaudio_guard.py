"""PortAudio sees new devices only when it is restarted, and a restart closes every open stream.

Streams opened outside the engine (the word player's output) are counted here while they
are open, and a restart happens only when none is: the device list is then re-read later.
(The engine's capture stream is protected by the window, which stops rescans while it records.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_open_streams = 0


@contextmanager
def stream_open() -> Iterator[None]:
    """Around the life of a stream: no restart while it is open."""
    global _open_streams
    with _lock:
        _open_streams += 1
    try:
        yield
    finally:
        with _lock:
            _open_streams -= 1


def restart_unless_streams_open(restart: Callable[[], None]) -> bool:
    """Run `restart` if no counted stream is open (the count cannot change meanwhile); whether it ran."""
    with _lock:
        if _open_streams:
            return False
        restart()
        return True
