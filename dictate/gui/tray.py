"""The system tray icon: dictate's state at a glance, and a menu to show the window, dictate, paste, quit."""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QObject, QRectF, Qt, Signal, Slot
from PySide6.QtGui import QAction, QColor, QIcon, QPainter, QPixmap
from PySide6.QtWidgets import QMenu, QSystemTrayIcon

from dictate.gui.resources import app_icon

ICON_SIZE = 64  # px: the tray scales it down; drawn large so the badge stays crisp on HiDPI panels
BADGE_FRACTION = 0.46  # the badge's diameter as a share of the icon
LISTENING_COLOR = QColor("#d93025")  # red: the microphone is live
PAUSED_COLOR = QColor("#f29900")  # amber: listening, but nothing is typed into the target
BADGE_RIM = QColor("#ffffff")


class TrayState(Enum):
    """What the tray shows (its tooltip text is the value)."""

    IDLE = "Idle"
    LISTENING = "Listening"
    TYPING_PAUSED = "Typing paused"  # dictating, but the focus left the target window


def state_icon(state: TrayState, base: QIcon | None = None) -> QIcon:
    """The app icon with a badge for the state: none when idle, a red dot while listening, amber pause bars."""
    pixmap = (base or app_icon()).pixmap(ICON_SIZE, ICON_SIZE)
    if pixmap.isNull():
        pixmap = QPixmap(ICON_SIZE, ICON_SIZE)
        pixmap.fill(Qt.GlobalColor.transparent)
    if state is TrayState.IDLE:
        return QIcon(pixmap)
    size = pixmap.width()
    diameter = size * BADGE_FRACTION
    badge = QRectF(size - diameter - 1, size - diameter - 1, diameter, diameter)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(BADGE_RIM)
    painter.setBrush(LISTENING_COLOR if state is TrayState.LISTENING else PAUSED_COLOR)
    painter.drawEllipse(badge)
    if state is TrayState.TYPING_PAUSED:  # two white bars: the pause sign
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(BADGE_RIM)
        bar_w, bar_h = diameter * 0.16, diameter * 0.5
        center = badge.center()
        for dx in (-bar_w * 1.1, bar_w * 1.1):
            painter.drawRect(QRectF(center.x() + dx - bar_w / 2, center.y() - bar_h / 2, bar_w, bar_h))
    painter.end()
    return QIcon(pixmap)


class Tray(QObject):
    """The tray icon and its menu. The app connects the request signals to the window.

    Create it only where `available()` is true; elsewhere the window stays the only way in."""

    show_requested = Signal()  # "Show window", or a click on the icon
    toggle_requested = Signal()  # "Start dictation" / "Stop dictation"
    paste_last_requested = Signal()  # "Paste last dictation"
    quit_requested = Signal()  # "Quit": the app closes for real

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._base = app_icon()
        self._state = TrayState.IDLE
        self.menu = QMenu()
        self.show_action = QAction("Show window", self)
        self.toggle_action = QAction("Start dictation", self)
        self.paste_last_action = QAction("Paste last dictation", self)
        self.quit_action = QAction("Quit", self)
        self.menu.addAction(self.show_action)
        self.menu.addSeparator()
        self.menu.addAction(self.toggle_action)
        self.menu.addAction(self.paste_last_action)
        self.menu.addSeparator()
        self.menu.addAction(self.quit_action)
        self.show_action.triggered.connect(self.show_requested)
        self.toggle_action.triggered.connect(self.toggle_requested)
        self.paste_last_action.triggered.connect(self.paste_last_requested)
        self.quit_action.triggered.connect(self.quit_requested)
        self.icon = QSystemTrayIcon(self)
        self.icon.setContextMenu(self.menu)
        self.icon.activated.connect(self._on_activated)
        self.set_state(TrayState.IDLE)

    @staticmethod
    def available() -> bool:
        """Whether the desktop shows tray icons (a panel with a tray or StatusNotifier host is running)."""
        return QSystemTrayIcon.isSystemTrayAvailable()

    @property
    def state(self) -> TrayState:
        return self._state

    def set_state(self, state: TrayState) -> None:
        """Show `state`: the icon's badge, the tooltip, and Start or Stop in the menu."""
        self._state = state
        self.icon.setIcon(state_icon(state, self._base))
        self.icon.setToolTip(f"Dictate: {state.value}")
        self.toggle_action.setText("Start dictation" if state is TrayState.IDLE else "Stop dictation")

    def set_paste_available(self, available: bool) -> None:
        self.paste_last_action.setEnabled(available)

    def show(self) -> None:
        self.icon.show()

    def hide(self) -> None:
        self.icon.hide()

    def is_visible(self) -> bool:
        return self.icon.isVisible()

    def notify(self, title: str, message: str) -> None:
        """A desktop notification from the tray (failed typing, for instance)."""
        self.icon.showMessage(title, message, self.icon.icon())

    @Slot(QSystemTrayIcon.ActivationReason)
    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason in (QSystemTrayIcon.ActivationReason.Trigger, QSystemTrayIcon.ActivationReason.DoubleClick):
            self.show_requested.emit()
