"""The user's choices, persisted with QSettings (INI format) and restored on launch."""

from __future__ import annotations

from dataclasses import dataclass, fields

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "dictate"
APPLICATION = "dictate"
DEFAULT_MODEL = "tiny.en"
AUTO_LANGUAGE = "auto"
TASKS = ("transcribe", "translate")
_BOOL_TEXT = {"true": True, "1": True, "false": False, "0": False}  # how a bool reads back from the INI file


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

    def __post_init__(self) -> None:
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, not {self.task!r}")


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
        values[field.name] = value if isinstance(value, type(default)) else default
    try:
        return AppSettings(**values)
    except ValueError:
        return AppSettings(**{**values, "task": defaults.task})


def save_settings(store: QSettings, settings: AppSettings) -> None:
    """Write every field and flush the store to disk."""
    for field in fields(AppSettings):
        value = getattr(settings, field.name)
        store.setValue(field.name, QByteArray(value) if isinstance(value, bytes) else value)
    store.sync()
