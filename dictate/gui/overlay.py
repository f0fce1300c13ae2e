"""A small floating strip near the bottom centre of the screen while dictating into another application.

It shows the state ("Listening", the input level, the lag), the tentative tail in grey (the words
the engine may still revise, which are never typed) and a notice such as "Typing paused: the focus
moved". It never takes the keyboard focus or a click: the words must keep going to the window the
user is working in. It has no timer; the window drives every update.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QCursor, QFontMetrics, QGuiApplication, QPainter, QPaintEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from dictate.gui.level_meter import LevelMeter

WIDTH_FRACTION = 0.42  # of the screen's available width...
MAX_WIDTH_PX = 760  # ...up to this
MIN_WIDTH_PX = 360
BOTTOM_MARGIN_PX = 56  # above the screen's bottom edge (a panel, the task bar)
CORNER_RADIUS_PX = 10
BACKGROUND = QColor(28, 31, 38, 230)

# Window flags and attributes that keep the overlay out of the focus chain and out of the way of input.
OVERLAY_FLAGS = (Qt.WindowType.Tool | Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint
                 | Qt.WindowType.WindowDoesNotAcceptFocus | Qt.WindowType.WindowTransparentForInput)
OVERLAY_ATTRIBUTES = (Qt.WidgetAttribute.WA_ShowWithoutActivating, Qt.WidgetAttribute.WA_TransparentForMouseEvents,
                      Qt.WidgetAttribute.WA_TranslucentBackground)

_STYLE = """
#overlayState { color: #f4f6fa; font-weight: 600; }
#overlayLag { color: #aab2c0; }
#overlayTentative { color: #9aa3b2; }
#overlayNotice { color: #f2b04a; font-weight: 600; }
"""


class DictationOverlay(QWidget):
    """The floating state strip. Create it once, without a parent; show it while dictating."""

    def __init__(self) -> None:
        super().__init__(None, OVERLAY_FLAGS)
        for attribute in OVERLAY_ATTRIBUTES:
            self.setAttribute(attribute, True)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setObjectName("dictationOverlay")
        self.setWindowTitle("Dictate overlay")
        self.setStyleSheet(_STYLE)

        self._state = QLabel(objectName="overlayState")
        self._meter = LevelMeter()
        self._meter.setFixedWidth(120)
        self._lag = QLabel(objectName="overlayLag")
        self._tentative = QLabel(objectName="overlayTentative")
        self._notice = QLabel(objectName="overlayNotice")
        self._notice.setWordWrap(True)
        self._notice.hide()
        self._tentative_text = ""
        for label in (self._state, self._lag, self._tentative, self._notice):
            label.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)

        top = QHBoxLayout()
        top.setSpacing(12)
        top.addWidget(self._state)
        top.addWidget(self._meter, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addStretch(1)
        top.addWidget(self._lag)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 10, 16, 10)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self._tentative)
        layout.addWidget(self._notice)

    # --- what the window calls ---------------------------------------------------------------

    def show_state(self, state: str, level_db: float | None = None, lag_s: float | None = None) -> None:
        """The state line: "Listening", the input level (dBFS; None hides the meter), the lag behind speech."""
        self._state.setText(state)
        self._meter.setVisible(level_db is not None)
        if level_db is not None:
            self._meter.set_level(level_db)
        self._lag.setText("" if lag_s is None else f"lag {lag_s:.1f} s")

    def set_tentative(self, text: str) -> None:
        """The words not yet committed (grey); the tail is kept when the line is too long."""
        self._tentative_text = text
        self._tentative.setText(self._elided(text))

    def show_notice(self, text: str) -> None:
        """A line that needs the user's attention ("Typing paused: the focus moved"); "" clears it."""
        self._notice.setText(text)
        self._notice.setVisible(bool(text))
        self.adjustSize()
        self._place()

    def clear_notice(self) -> None:
        self.show_notice("")

    def state_text(self) -> str:
        return self._state.text()

    def tentative_text(self) -> str:
        return self._tentative_text

    def notice_text(self) -> str:
        return self._notice.text()

    # --- placement and painting ------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        self._place()
        super().showEvent(event)

    def _place(self) -> None:
        """Bottom centre of the screen under the mouse (the one the user looks at)."""
        screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
        if screen is None:
            return
        area = screen.availableGeometry()
        width = max(MIN_WIDTH_PX, min(MAX_WIDTH_PX, int(area.width() * WIDTH_FRACTION)))
        self.setFixedWidth(min(width, area.width()))
        height = self.sizeHint().height()
        bottom_edge = area.y() + area.height()  # below the last row of pixels (QRect.bottom() is that row)
        self.setGeometry(area.center().x() - self.width() // 2, bottom_edge - BOTTOM_MARGIN_PX - height,
                         self.width(), height)
        self._tentative.setText(self._elided(self._tentative_text))

    def _elided(self, text: str) -> str:
        width = self._tentative.width() if self.isVisible() else self.width() - 32
        return QFontMetrics(self._tentative.font()).elidedText(text, Qt.TextElideMode.ElideLeft, max(width, 50))

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(BACKGROUND)
        painter.drawRoundedRect(QRectF(self.rect()), CORNER_RADIUS_PX, CORNER_RADIUS_PX)
