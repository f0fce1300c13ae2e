"""A horizontal input-level meter fed with dBFS values from `EngineStatus.level_db`."""

from __future__ import annotations

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

FLOOR_DB = -60.0  # shown as an empty meter
HOT_DB = -6.0  # from here the bar turns amber: close to clipping
METER_HEIGHT_PX = 8
TRACK_COLOR = QColor("#e3e7ee")
LEVEL_COLOR = QColor("#22a06b")
HOT_COLOR = QColor("#e2a03f")


class LevelMeter(QWidget):
    """Draws the latest input level as a rounded bar from FLOOR_DB to 0 dBFS."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._level_db = FLOOR_DB
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setToolTip("Microphone input level")

    @property
    def level_db(self) -> float:
        return self._level_db

    def set_level(self, level_db: float) -> None:
        """Show `level_db` (clamped to [FLOOR_DB, 0])."""
        self._level_db = min(0.0, max(FLOOR_DB, level_db))
        self.update()

    def sizeHint(self) -> QSize:
        return QSize(160, METER_HEIGHT_PX)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        track = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        radius = track.height() / 2
        painter.setBrush(TRACK_COLOR)
        painter.drawRoundedRect(track, radius, radius)
        fraction = (self._level_db - FLOOR_DB) / -FLOOR_DB
        if fraction > 0:
            bar = QRectF(track.left(), track.top(), max(track.height(), track.width() * fraction), track.height())
            painter.setBrush(HOT_COLOR if self._level_db >= HOT_DB else LEVEL_COLOR)
            painter.drawRoundedRect(bar, radius, radius)
