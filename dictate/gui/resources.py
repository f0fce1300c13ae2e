"""The app's Qt assets (stylesheet, icon): installed as `dictate._ui`, or the repo's `ui/` in a source tree."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from PySide6.QtGui import QIcon, QPixmap

STYLESHEET_NAME = "dictate.qss"
ICON_NAME = "dictate.svg"
ASSETS_PLACEHOLDER = "@UI@"  # in the stylesheet: the folder holding the assets (for url(...))
SOURCE_UI_DIR = Path(__file__).resolve().parents[2] / "ui"


def asset(name: str) -> Traversable:
    """The asset file `name`, from the installed package data or else the source tree."""
    try:
        candidate = resources.files("dictate._ui") / name
        if candidate.is_file():
            return candidate
    except ModuleNotFoundError:
        pass
    return SOURCE_UI_DIR / name


def stylesheet() -> str:
    """The application stylesheet, its `@UI@` placeholders pointing at the assets folder."""
    folder = Path(str(asset(STYLESHEET_NAME))).parent.as_posix()
    return asset(STYLESHEET_NAME).read_text(encoding="utf-8").replace(ASSETS_PLACEHOLDER, folder)


def app_icon() -> QIcon:
    """The app icon, rendered from the SVG."""
    pixmap = QPixmap()
    pixmap.loadFromData(asset(ICON_NAME).read_bytes(), "SVG")
    return QIcon(pixmap)
