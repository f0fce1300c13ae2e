"""The input-device picker: PortAudio's input devices, the default marked, refreshed as devices come and go."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QToolButton, QWidget

from dictate.audio.capture import CaptureError, InputDevice, list_input_devices
from dictate.audio.portaudio_guard import restart_unless_streams_open

DEVICE_POLL_MS = 3000  # how often the device list is checked for added or removed devices
DEFAULT_MARK = " (default)"
NO_DEVICE_TEXT = "No microphone found"


def rescan_input_devices() -> list[InputDevice]:
    """Input devices after restarting PortAudio, which only enumerates devices when it initialises.

    Never call this while a stream is open: restarting PortAudio closes every stream. Streams counted by
    `portaudio_guard` (the word player's) put the restart off: the list is then the one PortAudio had.
    """
    import sounddevice

    def restart() -> None:
        sounddevice._terminate()
        sounddevice._initialize()

    restart_unless_streams_open(restart)
    return list_input_devices()


class DevicePicker(QWidget):
    """A combo box of input devices plus a refresh button; emits `device_changed(name)` on a new pick."""

    device_changed = Signal(str)  # the chosen device's name

    def __init__(self, lister: Callable[[], Sequence[InputDevice]] = rescan_input_devices,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lister = lister
        self._frozen = False  # True while a stream is open: the list is not re-read then
        self._devices: tuple[InputDevice, ...] | None = None  # None until the first scan
        self.combo = QComboBox(objectName="deviceBox")
        self.combo.setMinimumContentsLength(22)
        self.combo.setToolTip("Microphone to dictate from")
        self.refresh_button = QToolButton(objectName="refreshButton", text="⟳")
        self.refresh_button.setToolTip("Look for microphones again")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.refresh_button)
        self._timer = QTimer(self, interval=DEVICE_POLL_MS)
        self._timer.timeout.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.combo.activated.connect(self._on_activated)

    def start_polling(self) -> None:
        self.refresh()
        self._timer.start()

    @property
    def devices(self) -> tuple[InputDevice, ...]:
        return self._devices or ()

    def current(self) -> InputDevice | None:
        """The picked device, or None when there is none."""
        index = self.combo.currentIndex()
        return self.devices[index] if 0 <= index < len(self.devices) else None

    def select(self, name: str) -> bool:
        """Pick the device called `name` (as saved in the settings); False if it is not present."""
        for position, device in enumerate(self.devices):
            if device.name == name:
                self.combo.setCurrentIndex(position)
                return True
        return False

    def set_frozen(self, frozen: bool) -> None:
        """While recording, devices are not rescanned (that would close the open stream)."""
        self._frozen = frozen
        self.refresh_button.setEnabled(not frozen)

    @Slot()
    def refresh(self) -> None:
        """Re-read the device list; the current pick stays if the device still exists, else the default."""
        if self._frozen:
            return
        try:
            devices = tuple(self._lister())
        except CaptureError:  # no PortAudio library at all: same as no microphone
            devices = ()
        if devices == self._devices:
            return
        current = self.current()
        self._devices = devices
        self.combo.blockSignals(True)
        self.combo.clear()
        for device in devices:
            self.combo.addItem(device.name + (DEFAULT_MARK if device.is_default else ""))
        if not devices:
            self.combo.addItem(NO_DEVICE_TEXT)
        self.combo.setEnabled(bool(devices))
        kept = current is not None and self.select(current.name)
        if not kept:
            defaults = [position for position, device in enumerate(devices) if device.is_default]
            self.combo.setCurrentIndex(defaults[0] if defaults else 0)
        self.combo.blockSignals(False)
        if current is not None and not kept and self.current() is not None:
            self.device_changed.emit(self.current().name)

    @Slot(int)
    def _on_activated(self, _index: int) -> None:
        device = self.current()
        if device is not None:
            self.device_changed.emit(device.name)
