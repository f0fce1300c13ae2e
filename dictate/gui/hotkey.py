"""The global hotkey as Qt signals: `start_requested` / `stop_requested`, in hold-to-talk or toggle mode.

The backend for this session (X11 grab, GlobalShortcuts portal, pynput) reports presses and
releases from its own thread; they reach the controller queued to its thread. The window connects
the two request signals and tells the controller when dictation starts or stops some other way
(`set_dictating`), so that a toggle press always does what the user expects.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal, Slot

from dictate.hotkey import (
    DEFAULT_HOTKEY,
    BackendChoice,
    BackendKind,
    Hotkey,
    HotkeyBackend,
    HotkeyError,
    HotkeyEvent,
    HotkeyMode,
    HotkeyUnavailable,
    ModeMachine,
    Request,
    choose_backend,
    parse_hotkey,
)


class UnavailableBackend:
    """Stands in where nothing can grab a key: starting it says why."""

    name = "none"

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def start(self, hotkey, on_event, on_problem) -> None:
        raise HotkeyUnavailable(f"no global hotkey here: {self.reason}")

    def stop(self) -> None:
        pass


def create_backend(choice: BackendChoice | None = None) -> HotkeyBackend:
    """The backend `choose_backend` picks for this session (imported only when chosen)."""
    choice = choice or choose_backend()
    if choice.kind is BackendKind.X11:
        try:
            from dictate.hotkey.x11 import X11HotkeyListener
        except ImportError as exc:
            return UnavailableBackend(f"python-xlib is not installed ({exc})")
        return X11HotkeyListener()
    if choice.kind is BackendKind.PORTAL:
        try:
            from dictate.hotkey.portal import PortalHotkeyListener
        except ImportError as exc:
            return UnavailableBackend(f"jeepney is not installed ({exc})")
        return PortalHotkeyListener()
    if choice.kind is BackendKind.PYNPUT:
        from dictate.hotkey.pynput_backend import PynputHotkeyListener

        return PynputHotkeyListener()
    return UnavailableBackend(choice.reason)


class HotkeyController(QObject):
    """Owns one hotkey backend and turns its presses and releases into start / stop requests.

    Nothing is grabbed until `enable()`; `disable()` releases the key and joins the backend's
    thread (also done when the application quits or this object is destroyed)."""

    start_requested = Signal()  # start dictating (into the focused window)
    stop_requested = Signal()  # finish the utterance and stop
    problem = Signal(str)  # the hotkey does not work (any more): a message for the user
    _event = Signal(object)  # HotkeyEvent, emitted on the backend's thread
    _trouble = Signal(str)  # on_problem, emitted on the backend's thread

    def __init__(self, hotkey: Hotkey | str = DEFAULT_HOTKEY, mode: HotkeyMode | str = HotkeyMode.HOLD,
                 backend: HotkeyBackend | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._hotkey = parse_hotkey(hotkey) if isinstance(hotkey, str) else hotkey
        self._machine = ModeMachine(HotkeyMode(mode))
        self._backend = backend if backend is not None else create_backend()
        self._enabled = False
        self._event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        self._trouble.connect(self._on_trouble, Qt.ConnectionType.QueuedConnection)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.disable)
        backend_of_this = self._backend  # not `self`: the slot runs while the C++ object is destroyed
        self.destroyed.connect(lambda *_: backend_of_this.stop())

    @property
    def hotkey(self) -> Hotkey:
        return self._hotkey

    @property
    def mode(self) -> HotkeyMode:
        return self._machine.mode

    @property
    def backend_name(self) -> str:
        return self._backend.name

    def is_enabled(self) -> bool:
        return self._enabled

    def enable(self) -> str | None:
        """Grab the hotkey. Returns None when it works, else the reason (also emitted as `problem`)."""
        if self._enabled:
            return None
        try:
            self._backend.start(self._hotkey, self._event.emit, self._trouble.emit)
        except HotkeyError as exc:
            self.problem.emit(str(exc))
            return str(exc)
        self._enabled = True
        return None

    @Slot()
    def disable(self) -> None:
        """Release the key and join the backend's thread."""
        self._backend.stop()
        self._enabled = False

    def set_hotkey(self, hotkey: Hotkey | str) -> str | None:
        """Use another key (ValueError if the text does not parse); re-grabbed at once if enabled.
        Returns None when the new key works, else the reason."""
        new = parse_hotkey(hotkey) if isinstance(hotkey, str) else hotkey
        was_enabled = self._enabled
        self.disable()
        self._hotkey = new
        return self.enable() if was_enabled else None

    def set_mode(self, mode: HotkeyMode | str) -> None:
        self._machine.mode = HotkeyMode(mode)

    @Slot(bool)
    def set_dictating(self, dictating: bool) -> None:
        """Dictation started or stopped by other means (the window's button, `dictate toggle`)."""
        self._machine.set_dictating(dictating)

    @Slot(object)
    def _on_event(self, event: HotkeyEvent) -> None:
        request = self._machine.on_edge(event.edge)
        if request is Request.START:
            self.start_requested.emit()
        elif request is Request.STOP:
            self.stop_requested.emit()

    @Slot(str)
    def _on_trouble(self, message: str) -> None:
        self._backend.stop()  # its thread has ended or is ending: join it, so enable() can start afresh
        self._enabled = False
        self.problem.emit(message)
