"""What Whisper hears: the log-mel spectrogram the model is given, drawn as it scrolls by.

Live, the panel shows the last LIVE_S seconds the engine heard, with the VAD's decision under
it (speech in green) and the stretch the next decode sees outlined. For a word the user picks,
it shows the audio around the word and, over it, the decoder's cross-attention while it wrote
the word (dictate.asr.attention). The engine hands audio to the panel only while it is open,
and its mel frames are computed incrementally (each sample once) on a timer that runs only
while it is shown: closed, it costs nothing.
"""

from __future__ import annotations

import threading
from collections import deque

import numpy as np
from PySide6.QtCore import QRectF, Qt, QTimer, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QWidget

from dictate.asr.attention import WordAttention
from dictate.audio.features import IncrementalLogMel, log_mel_spectrogram, normalize_log_mel
from dictate.constants import FRAMES_PER_SECOND, HOP_LENGTH, SAMPLE_RATE, TIME_PRECISION
from dictate.streaming.events import EngineStatus

LIVE_S = 10.0  # seconds of audio shown live
REFRESH_MS = 500  # how often the live spectrogram is computed again
N_MELS = 80
BAR_PX = 8  # height of the VAD bar
SPEECH_COLOR = QColor("#3aa655")
WINDOW_COLOR = QColor("#f2b04a")
ATTENTION_COLOR = QColor("#ff5a5a")


class RecentFrames:
    """Raw log-mel frames of the engine's audio as it arrives, the last LIVE_S seconds of them.

    `add` (the engine's thread) only queues the blocks; `update` (the panel's timer) turns what came
    since into frames with an incremental STFT, so each sample is transformed once."""

    def __init__(self, seconds: float) -> None:
        self._keep = int(seconds * FRAMES_PER_SECOND)
        self._pending: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._start_at: float | None = None  # engine time of the first sample pushed into `_mel`
        self._mel = IncrementalLogMel(N_MELS)
        self._frames = np.zeros((N_MELS, 0), np.float32)
        self._dropped = 0  # frames trimmed from the front

    def add(self, samples: np.ndarray, at: float) -> None:
        with self._lock:
            if self._start_at is None:
                self._start_at = at
            self._pending.append(np.asarray(samples, np.float32))

    def update(self) -> tuple[np.ndarray, float] | None:
        """The raw frames of the last LIVE_S seconds and the engine time of the first; None before any audio."""
        with self._lock:
            pending, self._pending = self._pending, []
            start_at = self._start_at
        if start_at is None:
            return None
        if pending:
            self._frames = np.concatenate([self._frames, self._mel.push(np.concatenate(pending))], axis=1)
            excess = self._frames.shape[1] - self._keep
            if excess > 0:
                self._frames = self._frames[:, excess:]
                self._dropped += excess
        return self._frames, start_at + self._dropped / FRAMES_PER_SECOND

    def clear(self) -> None:
        with self._lock:
            self._pending, self._start_at = [], None
        self._mel = IncrementalLogMel(N_MELS)
        self._frames = np.zeros((N_MELS, 0), np.float32)
        self._dropped = 0


class HearingPanel(QWidget):
    """Draws a log-mel spectrogram with the VAD bar and decode window (live), or a word's attention."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumHeight(140)
        self.recent = RecentFrames(LIVE_S)
        self._open = threading.Event()  # the engine hands audio over only while set
        self._speech: deque[tuple[float, bool]] = deque()  # (engine time, speaking) from the status events
        self._window: tuple[float, float] | None = None
        self._mel: np.ndarray | None = None  # what is drawn: [n_mels, frames]
        self._start = 0.0  # time of the first column
        self._image: QImage | None = None
        self._attention: WordAttention | None = None
        self._word = ""
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    # --- fed by the window and the engine --------------------------------------------------

    def add_audio(self, samples: np.ndarray, at: float) -> None:
        """From the engine's thread: a block it heard, at `at` s of its timeline (kept only while open)."""
        if self._open.is_set():
            self.recent.add(samples, at)

    def add_status(self, status: EngineStatus) -> None:
        if not self._open.is_set():
            return
        self._speech.append((status.audio_time, status.speaking))
        while self._speech and self._speech[0][0] < status.audio_time - LIVE_S:
            self._speech.popleft()
        self._window = status.decode_window

    def show_word(self, attention: WordAttention, word: str) -> None:
        """Show the audio around `word` and where the decoder looked while writing it (live view paused)."""
        self._attention, self._word = attention, word
        self._draw(log_mel_spectrogram(attention.audio, n_mels=N_MELS), attention.start)

    def show_live(self) -> None:
        self._attention = None
        self.refresh()

    # --- what is shown -----------------------------------------------------------------------

    def spectrogram(self) -> np.ndarray | None:
        """The log-mel drawn now, [n_mels, frames] (None before anything was heard)."""
        return self._mel

    @property
    def attention(self) -> WordAttention | None:
        """The word attention shown (None in the live view)."""
        return self._attention

    @property
    def first_time(self) -> float:
        """The time of the first column drawn (engine time live, session time for a word)."""
        return self._start

    @Slot()
    def refresh(self) -> None:
        """Bring the live spectrogram up to the audio heard since the last refresh."""
        live = self.recent.update()
        if self._attention is None and live is not None and live[0].shape[1]:
            self._draw(normalize_log_mel(live[0]), live[1])

    def showEvent(self, event) -> None:
        self._open.set()
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self._open.clear()
        self._timer.stop()
        self.recent.clear()
        self._speech.clear()
        super().hideEvent(event)

    def _draw(self, mel: np.ndarray, start: float) -> None:
        self._mel, self._start = mel, start
        levels = np.clip((mel - mel.min()) / max(float(np.ptp(mel)), 1e-6) * 255, 0, 255).astype(np.uint8)
        pixels = np.ascontiguousarray(levels[::-1])  # low frequencies at the bottom
        self._image = QImage(pixels.data, pixels.shape[1], pixels.shape[0], pixels.shape[1],
                             QImage.Format.Format_Grayscale8).copy()
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), Qt.GlobalColor.black)
        if self._image is None or self._mel is None:
            painter.setPen(Qt.GlobalColor.gray)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Nothing heard yet")
            return
        area = QRectF(0, 0, self.width(), self.height() - BAR_PX - 2)
        painter.drawImage(area, self._image)
        seconds = self._mel.shape[1] * HOP_LENGTH / SAMPLE_RATE

        def x_of(time: float) -> float:
            return (time - self._start) / max(seconds, 1e-6) * self.width()

        if self._attention is None:
            self._paint_live(painter, area, x_of)
        else:
            self._paint_attention(painter, area, x_of)

    def _paint_live(self, painter: QPainter, area: QRectF, x_of) -> None:
        bar_top = area.bottom() + 2
        points = list(self._speech)
        for (time, speaking), (following, _) in zip(points, [*points[1:], (points[-1][0], False)] if points else []):
            if speaking:
                painter.fillRect(QRectF(x_of(time), bar_top, max(x_of(following) - x_of(time), 1), BAR_PX),
                                 SPEECH_COLOR)
        if self._window is not None:
            painter.setPen(QPen(WINDOW_COLOR, 2))
            left, right = x_of(self._window[0]), x_of(self._window[1])
            painter.drawRect(QRectF(left, area.top() + 1, max(right - left, 1), area.height() - 2))

    def _paint_attention(self, painter: QPainter, area: QRectF, x_of) -> None:
        weights = self._attention.weights
        if not len(weights):
            return
        span = float(np.ptp(weights)) or 1.0
        path = QPainterPath()
        for index, weight in enumerate(weights):
            x = x_of(self._attention.start + (index + 0.5) * TIME_PRECISION)
            y = area.bottom() - (weight - weights.min()) / span * area.height() * 0.9
            path.moveTo(x, y) if index == 0 else path.lineTo(x, y)
        painter.setPen(QPen(ATTENTION_COLOR, 2))
        painter.drawPath(path)
        painter.drawText(QRectF(x_of(self._attention.peak_time()) - 100, area.top() + 4, 200, 20),
                         Qt.AlignmentFlag.AlignCenter, self._word)
