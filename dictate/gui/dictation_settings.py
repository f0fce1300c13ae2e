"""The "Dictate into apps" settings: the hotkey and its mode, how text is inserted, the microphone kept open,
how long the session's audio is kept, the sounds, starting hidden and with the desktop session."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from dictate.gui.autostart import autostart_enabled, set_autostart
from dictate.gui.settings import HOTKEY_MODES, INSERTION_METHODS, AppSettings
from dictate.hotkey.keys import parse_hotkey
from dictate.transcript.session_audio import RETENTION_KINDS

MODE_LABELS = {"hold": "Hold to talk", "toggle": "Press to start, press again to stop"}
INSERTION_LABELS = {
    "auto": "Type into the focused app (best method found)",
    "type": "Type keys only",
    "paste": "Paste (for apps that drop typed keys)",
    "off": "Off: only the transcript window",
}
RETENTION_LABELS = {
    "days": "Keep it for",
    "session": "Keep it until the session is closed",
    "never": "Do not record it",
}
CHORD_HOLD_HINT = ("Hold to talk with Ctrl, Alt or Super in the hotkey types the words when you let go (held, they"
                   " would turn words into shortcuts). A key alone, such as F9, Pause or Insert, types them as you"
                   " speak.")
MAX_KEEP_OPEN_S = 600
MAX_AUDIO_DAYS = 3650


class DictationSettingsDialog(QDialog):
    """Edits the dictation settings; `result_settings()` gives them once accepted (the hotkey is checked)."""

    def __init__(self, settings: AppSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Dictate into apps")
        self._settings = settings
        self.hotkey_edit = QLineEdit(settings.hotkey, objectName="hotkeyEdit")
        self.hotkey_edit.setPlaceholderText("e.g. Ctrl+Alt+Space; empty: no hotkey")
        self.paste_hotkey_edit = QLineEdit(settings.paste_hotkey, objectName="pasteHotkeyEdit")
        self.paste_hotkey_edit.setPlaceholderText("e.g. Ctrl+Alt+V; empty: none")
        self.mode_box = self._combo(HOTKEY_MODES, MODE_LABELS, settings.hotkey_mode)
        self.insertion_box = self._combo(INSERTION_METHODS, INSERTION_LABELS, settings.insertion)
        self.keep_open_spin = QSpinBox(minimum=0, maximum=MAX_KEEP_OPEN_S, suffix=" s", value=settings.keep_open_s)
        self.keep_open_spin.setToolTip("After a hotkey dictation the microphone stays open this long, and the "
                                       "next one starts with the half second before the key press (0: closed)")
        self.retention_box = self._combo(RETENTION_KINDS, RETENTION_LABELS, settings.audio_retention)
        self.retention_box.setToolTip("The session's audio is saved beside its transcript, to hear a word again")
        self.audio_days_spin = QSpinBox(minimum=1, maximum=MAX_AUDIO_DAYS, suffix=" days", value=settings.audio_days)
        self.retention_box.currentIndexChanged.connect(
            lambda: self.audio_days_spin.setEnabled(self.retention_box.currentData() == "days"))
        self.audio_days_spin.setEnabled(settings.audio_retention == "days")
        self.sounds_box = QCheckBox("Play a sound when dictation starts and stops", checked=settings.sounds)
        self.hidden_box = QCheckBox("Start in the system tray, the window hidden", checked=settings.start_hidden)
        self.autostart_box = QCheckBox("Start when I log in", checked=autostart_enabled())
        self.error_label = QLabel(objectName="warningLabel", wordWrap=True)
        self.mode_hint = QLabel(CHORD_HOLD_HINT, objectName="modeHint", wordWrap=True)
        self.hotkey_edit.textChanged.connect(self._show_mode_hint)
        self.mode_box.currentIndexChanged.connect(self._show_mode_hint)
        self._show_mode_hint()
        form = QFormLayout()
        form.addRow("Hotkey", self.hotkey_edit)
        form.addRow("Mode", self.mode_box)
        form.addRow("", self.mode_hint)
        form.addRow("Paste last dictation", self.paste_hotkey_edit)
        form.addRow("Insert text", self.insertion_box)
        form.addRow("Keep microphone open", self.keep_open_spin)
        form.addRow("Session audio", self.retention_box)
        form.addRow("", self.audio_days_spin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        for box in (self.sounds_box, self.hidden_box, self.autostart_box):
            layout.addWidget(box)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)

    def _show_mode_hint(self) -> None:
        """Say, for hold to talk with a chord, that its words are typed at the release."""
        try:
            chord = not parse_hotkey(self.hotkey_edit.text().strip()).is_lone_key
        except ValueError:
            chord = False
        self.mode_hint.setVisible(chord and self.mode_box.currentData() == "hold")

    @staticmethod
    def _combo(values: tuple[str, ...], labels: dict[str, str], current: str) -> QComboBox:
        box = QComboBox()
        for value in values:
            box.addItem(labels[value], value)
        box.setCurrentIndex(max(box.findData(current), 0))
        return box

    def result_settings(self) -> AppSettings:
        """The settings as edited."""
        return replace(self._settings, hotkey=" ".join(self.hotkey_edit.text().split()),
                       paste_hotkey=" ".join(self.paste_hotkey_edit.text().split()),
                       hotkey_mode=self.mode_box.currentData(), insertion=self.insertion_box.currentData(),
                       keep_open_s=self.keep_open_spin.value(), sounds=self.sounds_box.isChecked(),
                       start_hidden=self.hidden_box.isChecked(), audio_retention=self.retention_box.currentData(),
                       audio_days=self.audio_days_spin.value())

    def accept(self) -> None:
        """Keep the dialog open, saying why, for a hotkey that cannot be used or an autostart that cannot be set."""
        try:
            for edit in (self.hotkey_edit, self.paste_hotkey_edit):
                if edit.text().strip():
                    parse_hotkey(edit.text().strip())
            if self.autostart_box.isChecked() != autostart_enabled():
                set_autostart(self.autostart_box.isChecked())
        except ValueError as error:
            self.error_label.setText(str(error))
            return
        except OSError as error:
            self.error_label.setText(f"Cannot change the login start-up entry: {error.strerror or error}.")
            return
        super().accept()
