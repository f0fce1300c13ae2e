"""The user's choices, persisted with QSettings (INI format) and restored on launch."""

from __future__ import annotations

from dataclasses import dataclass, fields

from PySide6.QtCore import QByteArray, QSettings

from dictate.transcript.session_audio import RETENTION_KINDS

ORGANIZATION = "dictate"
APPLICATION = "dictate"
DEFAULT_MODEL = "tiny.en"
AUTO_LANGUAGE = "auto"
TASKS = ("transcribe", "translate")
_BOOL_TEXT = {"true": True, "1": True, "false": False, "0": False}  # how a bool reads back from the INI file
HOTKEY_MODES = ("hold", "toggle")
INSERTION_METHODS = ("auto", "type", "paste", "off")
CHOICES = {"task": TASKS, "hotkey_mode": HOTKEY_MODES, "insertion": INSERTION_METHODS,
           "audio_retention": RETENTION_KINDS}


@dataclass(frozen=True)
class AppSettings:
    """What the window restores on the next launch."""

    model: str = DEFAULT_MODEL  # catalogue name of the model to dictate with
    language: str = AUTO_LANGUAGE  # Whisper language code, or "auto" to detect it
    task: str = "transcribe"  # "transcribe" or "translate" (to English)
    profile: str = "plain"  # text profile: what the text stage does to the words (see dictate.text.profiles)
    input_device: str = ""  # PortAudio input device name; "" = the system default
    export_dir: str = ""  # folder of the last Save As
    geometry: bytes = b""  # the window's saved geometry (QWidget.saveGeometry)
    start_hidden: bool = False  # launch into the tray (window hidden) and keep running there when it closes
    hotkey: str = "Ctrl+Alt+Space"  # the global dictation key ("" = none)
    paste_hotkey: str = "Ctrl+Alt+V"  # the global key that pastes the last dictation again ("" = none)
    hotkey_mode: str = "hold"  # "hold": dictate while the key is held; "toggle": press to start, again to stop
    insertion: str = "auto"  # typing into the focused app: "auto", "type" (keys), "paste" (clipboard) or "off"
    keep_open_s: int = 0  # after a hotkey dictation the microphone stays open this long (pre-roll for the next)
    sounds: bool = False  # a short sound when dictation starts (once audio arrives) and stops
    audio_retention: str = "days"  # the session's audio: kept "days", until the "session" is closed, or "never"
    audio_days: int = 7  # how many days "days" keeps it

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                raise ValueError(f"{name} must be one of {allowed}, not {getattr(self, name)!r}")
        if self.keep_open_s < 0:
            raise ValueError("keep_open_s must be >= 0")
        if self.audio_days < 1:
            raise ValueError("audio_days must be >= 1")


def open_settings() -> QSettings:
    """The settings store: an INI file in the user's config folder (tests move it with `QSettings.setPath`)."""
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANIZATION, APPLICATION)


def load_settings(store: QSettings) -> AppSettings:
    """The saved settings; a missing or invalid value falls back to its default."""
    defaults = AppSettings()
    values = {}
    for field in fields(AppSettings):
        default = getattr(defaults, field.name)
        value = store.value(field.name, default)
        if isinstance(value, QByteArray):
            value = value.data()
        elif isinstance(default, bool) and isinstance(value, str):  # the INI file keeps no types: "true"
            value = _BOOL_TEXT.get(value.strip().lower(), default)
        elif isinstance(default, int) and isinstance(value, str):
            value = int(value) if value.strip().isdigit() else default
        values[field.name] = value if isinstance(value, type(default)) else default
    for name, allowed in CHOICES.items():
        if values[name] not in allowed:
            values[name] = getattr(defaults, name)
    if values["audio_days"] < 1:
        values["audio_days"] = defaults.audio_days
    return AppSettings(**values)


def save_settings(store: QSettings, settings: AppSettings) -> None:
    """Write every field and flush the store to disk."""
    for field in fields(AppSettings):
        value = getattr(settings, field.name)
        store.setValue(field.name, QByteArray(value) if isinstance(value, bytes) else value)
    store.sync()
