"""Input-device picker with injected device lists, the no-microphone message, and the Qt binding's health."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel

from dictate.audio.capture import InputDevice, MicrophoneSource
from dictate.gui.device_picker import DEFAULT_MARK, NO_DEVICE_TEXT, DevicePicker

BUILT_IN = InputDevice(index=0, name="Built-in Microphone", channels=2, default_samplerate=48000.0, is_default=True)
HEADSET = InputDevice(index=3, name="USB Headset", channels=1, default_samplerate=44100.0, is_default=False)


class Devices:
    """What PortAudio would list, changed by the test as devices come and go."""

    def __init__(self, *devices: InputDevice) -> None:
        self.devices = list(devices)

    def __call__(self) -> list[InputDevice]:
        return list(self.devices)


def test_picker_marks_the_default_keeps_the_pick_and_follows_hotplug(qtbot):
    devices = Devices(BUILT_IN)
    picker = DevicePicker(devices)
    qtbot.addWidget(picker)
    picker.refresh()
    assert picker.combo.itemText(0) == BUILT_IN.name + DEFAULT_MARK
    assert picker.current() == BUILT_IN

    devices.devices.append(HEADSET)  # plugged in
    picker.refresh()
    assert picker.current() == BUILT_IN and picker.combo.count() == 2
    assert picker.select(HEADSET.name) and picker.current() == HEADSET

    devices.devices.remove(HEADSET)  # unplugged: back to the default, and the window is told
    with qtbot.waitSignal(picker.device_changed, timeout=1000) as changed:
        picker.refresh()
    assert changed.args == [BUILT_IN.name] and picker.current() == BUILT_IN

    picker.set_frozen(True)  # recording: no rescans (they would close the open stream)
    devices.devices.clear()
    picker.refresh()
    assert picker.current() == BUILT_IN and not picker.refresh_button.isEnabled()


def test_window_records_from_the_picked_portaudio_device(make_window, tiny_model_dir):
    window = make_window(device_lister=Devices(BUILT_IN, HEADSET))
    assert window.devices.select("USB Headset")
    source = window.input_source()
    assert isinstance(source, MicrophoneSource) and source.device == HEADSET.index
    window.close()
    again = make_window(device_lister=Devices(BUILT_IN, HEADSET))
    assert again.devices.current() == HEADSET  # the pick is saved by name


def test_no_microphone_gives_a_clear_message(make_window, tiny_model_dir):
    window = make_window(device_lister=Devices())
    assert window.devices.combo.currentText() == NO_DEVICE_TEXT
    window.start_recording()
    assert window._worker is None
    assert window.banner.isVisible() and "No microphone found" in window.banner.text()


def test_qt_calls_keep_none_alive(qtbot):
    """PySide6 6.12.0 drops a reference to None on every void call under Python 3.11: the app dies within seconds."""
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("x")
    assert sys.getrefcount(None) >= before - 10
