"""One running dictate per user: a local socket that later launches and `dictate toggle|start|...` talk to.

The first instance listens on a per-user QLocalServer (a Unix domain socket, a named pipe on Windows).
A client sends one command line ("toggle\\n") and gets one reply line: "ok <what happened>" or
"error <why>". The client side blocks on QLocalSocket's waitFor* calls, so it needs no QApplication
and imports only QtCore and QtNetwork (the command line stays quick).
"""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import QDeadlineTimer, QObject, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

INSTANCE_NAME_ENV = "DICTATE_INSTANCE_NAME"  # overrides the server name (tests: one private instance each)
RUNTIME_SOCKET = "dictate-instance"  # the socket's file name in $XDG_RUNTIME_DIR (per user, mode 700)
COMMANDS = ("show", "toggle", "start", "stop", "paste-last", "status", "quit")
CONNECT_TIMEOUT_MS = 1_000  # a live instance accepts at once; this only bounds a dead pipe on Windows
REPLY_TIMEOUT_MS = 10_000  # the instance runs the command on its GUI thread, which may be busy for a moment
MAX_COMMAND_BYTES = 256  # a longer line is not a command
ENCODING = "utf-8"


def instance_name() -> str:
    """The server name every launch of this user agrees on: the env override, else a per-user socket."""
    override = os.environ.get(INSTANCE_NAME_ENV)
    if override:
        return override
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if sys.platform != "win32" and runtime and os.path.isdir(runtime):
        return os.path.join(runtime, RUNTIME_SOCKET)  # a full path: QLocalServer uses it as is
    user = str(os.getuid()) if hasattr(os, "getuid") else getpass.getuser()
    return f"dictate-{user}"  # QLocalServer puts it in the temp folder (Unix) or the pipe namespace (Windows)


class NoInstance(Exception):
    """No dictate instance answers on the socket."""


@dataclass(frozen=True)
class Reply:
    """What the running instance answered."""

    ok: bool  # the command was done
    text: str  # what happened ("recording"), or why not


class CommandError(Exception):
    """Raised by a command handler: the reply is "error <message>"."""


def send_command(command: str, name: str | None = None, timeout_ms: int = REPLY_TIMEOUT_MS) -> Reply:
    """Send one command to the running instance and return its reply.

    Raises NoInstance when nothing listens on the socket (none runs, or a killed one left its socket
    behind), and TimeoutError when an instance accepted the command but did not answer in time."""
    socket = QLocalSocket()
    socket.connectToServer(name or instance_name())
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        raise NoInstance(socket.errorString())
    socket.write((command + "\n").encode(ENCODING))
    socket.waitForBytesWritten(timeout_ms)
    deadline = QDeadlineTimer(timeout_ms)
    data = b""
    while b"\n" not in data and not deadline.hasExpired():
        if not socket.bytesAvailable() and not socket.waitForReadyRead(max(1, deadline.remainingTime())):
            if socket.state() is not QLocalSocket.LocalSocketState.ConnectedState:
                break  # the instance closed the connection (it is quitting)
            continue
        data += socket.readAll().data()
    socket.abort()
    if b"\n" not in data:
        if deadline.hasExpired():
            raise TimeoutError(f"the running dictate did not answer {command!r} within {timeout_ms / 1000:g} s")
        raise NoInstance("the running dictate closed the connection without answering")
    return parse_reply(data.split(b"\n", 1)[0].decode(ENCODING, errors="replace"))


def parse_reply(line: str) -> Reply:
    """A reply line as sent by the server: "ok <text>" or "error <text>"."""
    status, _, text = line.strip().partition(" ")
    return Reply(ok=status == "ok", text=text if status in ("ok", "error") else line.strip())


class Listening(Enum):
    """What `InstanceServer.listen` found."""

    FIRST = "first"  # this process is the instance now
    ANOTHER = "another"  # another instance answers: hand over to it and exit
    FAILED = "failed"  # the socket cannot be made (permissions, path too long): run without one


Handler = Callable[[], str]  # runs a command on the GUI thread; returns what happened, or raises CommandError


class InstanceServer(QObject):
    """The first instance's end of the socket: reads one command per connection, runs its handler, replies.

    Handlers are supplied by the app (command name -> callable) once its window exists; a command that
    arrives before then, or has no handler, gets an error reply."""

    def __init__(self, name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name or instance_name()
        self.error = ""  # why listen() failed
        self._handlers: dict[str, Handler] = {}
        # No socket options: with them Qt renames a fresh socket over any existing one, and a second
        # launch would take the name from a live instance. Without them listen() fails while the name is
        # taken. The socket lies in $XDG_RUNTIME_DIR (mode 700) or has the umask's mode (others cannot write).
        self._server = QLocalServer(self)
        self._server.newConnection.connect(self._on_new_connection)
        self._buffers: dict[QLocalSocket, bytes] = {}

    def set_handlers(self, handlers: Mapping[str, Handler]) -> None:
        self._handlers = dict(handlers)

    def listen(self) -> Listening:
        """Become the instance, unless one already answers; a socket left by a killed instance is replaced."""
        if self._server.listen(self.name):
            return Listening.FIRST
        if self._answers():
            return Listening.ANOTHER
        QLocalServer.removeServer(self.name)  # nobody answers: a stale socket file
        if self._server.listen(self.name):
            return Listening.FIRST
        self.error = self._server.errorString()
        return Listening.ANOTHER if self._answers() else Listening.FAILED

    def close(self) -> None:
        """Stop listening (the socket file is removed); later launches start a new instance."""
        self._server.close()

    def _answers(self) -> bool:
        socket = QLocalSocket()
        socket.connectToServer(self.name)
        connected = socket.waitForConnected(CONNECT_TIMEOUT_MS)
        socket.abort()
        return connected

    @Slot()
    def _on_new_connection(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            self._buffers[socket] = b""
            socket.readyRead.connect(lambda socket=socket: self._on_ready_read(socket))
            socket.disconnected.connect(lambda socket=socket: self._forget(socket))
            if socket.bytesAvailable():
                self._on_ready_read(socket)

    def _on_ready_read(self, socket: QLocalSocket) -> None:
        if socket not in self._buffers:
            return  # already answered
        data = self._buffers[socket] + socket.readAll().data()
        if b"\n" in data:
            reply = self.dispatch(data.split(b"\n", 1)[0].decode(ENCODING, errors="replace").strip())
        elif len(data) > MAX_COMMAND_BYTES:
            reply = "error not a dictate command"
        else:
            self._buffers[socket] = data
            return
        del self._buffers[socket]
        socket.write((reply + "\n").encode(ENCODING))
        socket.flush()
        socket.disconnectFromServer()  # after the reply is written

    def _forget(self, socket: QLocalSocket) -> None:
        self._buffers.pop(socket, None)
        socket.deleteLater()

    def dispatch(self, command: str) -> str:
        """Run one command's handler; the reply line (without its newline)."""
        handler = self._handlers.get(command)
        if handler is None:
            if command in COMMANDS and not self._handlers:
                return "error dictate is still starting; try again in a moment"
            if command in COMMANDS:
                return f"error {command} is not available yet"
            return f"error unknown command {command!r} (commands: {', '.join(COMMANDS)})"
        try:
            return f"ok {handler()}".rstrip()
        except CommandError as error:
            return f"error {error}"
