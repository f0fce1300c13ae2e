"""The main window: record/stop, live captions, input and model pickers, status line, export."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from enum import Enum
from pathlib import Path
from typing import TypeVar

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dictate.asr.alternatives import find_alternatives
from dictate.asr.attention import word_attention
from dictate.asr.transcribe import Recognizer
from dictate.audio.capture import AudioSource, InputDevice, MicrophoneSource
from dictate.audio.vad import SILENCE_DBFS
from dictate.gui.app_typing import AppTyping
from dictate.gui.caption_view import CaptionView, WordSpan
from dictate.gui.device_picker import DevicePicker, rescan_input_devices
from dictate.gui.dictation_settings import DictationSettingsDialog
from dictate.gui.engine_worker import EngineWorker
from dictate.gui.hearing_panel import HearingPanel
from dictate.gui.hotkey import HotkeyController
from dictate.gui.improve_dialog import ImproveDialog, ImproveWorker, best_prepared_model
from dictate.gui.level_meter import FLOOR_DB, LevelMeter
from dictate.gui.models import model_choices
from dictate.gui.options_bar import ModelState, OptionsBar
from dictate.gui.prepare_dialog import PrepareDialog, PrepareWorker
from dictate.gui.session_store import SessionStore
from dictate.gui.settings import AUTO_LANGUAGE, AppSettings, save_settings
from dictate.gui.sounds import play_cue
from dictate.gui.text_dialogs import SaidDialog, VocabularyDialog
from dictate.gui.word_player import Stretch, WordPlayer, read_stretch
from dictate.gui.worker_threads import WorkerThreads
from dictate.modelstore.prepare import PrepareProgress
from dictate.streaming.engine import EngineOptions
from dictate.streaming.events import (
    AudioDropped,
    Committed,
    EngineError,
    EngineStatus,
    InputSilent,
    Paused,
    Tentative,
    UtteranceEnd,
)
from dictate.text.profiles import BUILTIN_PROFILES, PROFILES_FILE, Profile, load_profiles, profile_named
from dictate.text.stage import TextEdit, TextStage, feed_event
from dictate.text.vocabulary import VOCABULARY_FILE, Vocabulary, VocabularyError, config_dir, load_vocabulary
from dictate.transcript.exporters import ExportError, write_transcript
from dictate.transcript.improve import Change
from dictate.transcript.journal import JournalWriteError
from dictate.transcript.retime import build_transcript, shift_words
from dictate.transcript.session_audio import KEPT_SUFFIX, AudioRetention, SessionAudioError, copy_as_flac
from dictate.transcript.types import TranscriptInfo, Word

T = TypeVar("T")

LAG_WARNING_SECONDS = 3.0  # the status line warns when decoding trails the audio by more than this
EXPORT_FORMATS = {  # format -> file-dialog filter
    "txt": "Plain text (*.txt)",
    "srt": "SubRip subtitles (*.srt)",
    "vtt": "WebVTT subtitles (*.vtt)",
    "json": "JSON with word timings (*.json)",
    "md": "Markdown (*.md)",
}
WINDOW_TITLE = "Dictate"
DEFAULT_SIZE = (880, 600)  # px, before a saved geometry exists
RECORDING_GAP_SECONDS = 3.0  # session-time gap between one recording's last word and the next recording
EDIT_AUTOSAVE_DELAY_MS = 1000  # user edits are journaled once typing pauses this long
SILENT_INPUT_HINT = "Pick another input, or unmute; recording goes on."
PREROLL_S = 0.5  # audio from before the hotkey press fed to a dictation resumed on an open microphone


class RecorderState(Enum):
    IDLE = "Ready"
    STARTING = "Loading model…"
    OPENING = "Opening the microphone…"  # the model is loaded; no audio has arrived yet: speaking now is lost
    RECORDING = "Recording"
    PAUSED = "Paused"
    STOPPING = "Finishing…"


STOPPABLE_STATES = frozenset({RecorderState.STARTING, RecorderState.OPENING, RecorderState.RECORDING,
                              RecorderState.PAUSED})  # Stop (the record button) ends these


class MainWindow(QMainWindow):
    """The dictation window. Tests and the hidden `--input` option drive it through its public methods."""

    recording_started = Signal()  # the first audio arrived: from now on what the user says is captured
    recording_finished = Signal()  # the engine returned; the transcript holds everything it committed
    model_ready = Signal(str)  # a model finished preparing
    exported = Signal(str)  # a file was written
    state_changed = Signal()  # the recorder state changed (the tray follows it)
    typing_paused = Signal(bool)  # typing into another app waits for its window to have the focus again
    typing_failed = Signal(str)  # typing into another app failed; the words went to the clipboard

    def __init__(self, store: QSettings, settings: AppSettings, *, file_source: AudioSource | None = None,
                 sessions: SessionStore | None = None,
                 device_lister: Callable[[], Sequence[InputDevice]] = rescan_input_devices,
                 config_folder: Path | None = None) -> None:
        """`file_source` replaces the picked microphone (demos: a file; tests: a file or an injected stream);
        `device_lister` is the hardware query; `config_folder` holds the vocabulary and profiles files."""
        super().__init__()
        self._store = store
        self._settings = settings
        self._file_source = file_source
        self._device_lister = device_lister
        self._sessions = sessions or SessionStore()
        self._sessions.retention = AudioRetention(settings.audio_retention, settings.audio_days)
        self._player = WordPlayer()  # plays a word again (Ctrl+click in the transcript)
        self._word_models: dict[str, Recognizer] = {}  # loaded on the first use of Alternatives or the panel
        self._config_folder = config_dir() if config_folder is None else config_folder
        self._text_stage: TextStage | None = None  # the recording's text stage; None: the words as they come
        self._vocabulary = Vocabulary()  # the user's vocabulary as of the last Record
        self.typing = AppTyping(settings.insertion, self)  # committed words typed into the focused app
        self.typing.typing_paused.connect(self.typing_paused)
        self.typing.typing_failed.connect(self.typing_failed)
        self.hotkey = HotkeyController(hotkey=settings.hotkey or "Ctrl+Alt+Space", mode=settings.hotkey_mode,
                                       parent=self)
        self.hotkey.start_requested.connect(self.start_from_hotkey)
        self.hotkey.stop_requested.connect(self.stop_from_hotkey)
        self.hotkey.problem.connect(lambda message: self.statusBar().showMessage(message, 15000))
        self.paste_hotkey = HotkeyController(hotkey=settings.paste_hotkey or "Ctrl+Alt+V", mode="toggle", parent=self)
        for request in (self.paste_hotkey.start_requested, self.paste_hotkey.stop_requested):  # every press
            request.connect(self.paste_last_dictation)
        self._dictating = False  # between _begin_dictation and _end_dictation
        self._armed = False  # paused by the hotkey with the microphone kept open: the next press resumes
        self._hotkey_pause = False  # a hotkey pause was asked for; its Paused event ends the dictation
        self._keep_open = QTimer(self, singleShot=True)
        self._keep_open.timeout.connect(self._close_kept_microphone)
        self._state = RecorderState.IDLE
        self._worker: EngineWorker | None = None
        self._threads = WorkerThreads(self)  # preparation and engine threads: joined before the window closes
        self._threads.idle.connect(self._on_threads_idle)
        self._close_when_stopped = False
        self._preparing: str | None = None
        self._silence_banner = False  # the banner shows InputSilent's warning (cleared when sound returns)
        self._audio_time = 0.0  # audio seconds of the current recording
        self._offset = 0.0  # session time where the current recording starts (recordings follow each other)
        self._compute_device = ""  # "CPU" or "CUDA" once a model has loaded
        self._edit_timer = QTimer(self, singleShot=True, interval=EDIT_AUTOSAVE_DELAY_MS)
        self.prepare_dialog: PrepareDialog | None = None
        self.restore_box: QMessageBox | None = None
        self.setWindowTitle(WINDOW_TITLE)
        self._build_widgets()
        self._build_actions()
        self._restore(settings)
        self._update_controls()
        if QGuiApplication.platformName() != "offscreen":  # offscreen: no desktop to take keys from
            for key, controller in ((settings.hotkey, self.hotkey), (settings.paste_hotkey, self.paste_hotkey)):
                problem = controller.enable() if key else None
                if problem:
                    self.statusBar().showMessage(problem, 15000)

    # ----------------------------------------------------------------- layout

    def _build_widgets(self) -> None:
        self.record_button = QPushButton("Record", objectName="recordButton")
        self.record_button.setToolTip("Start or stop dictation (Ctrl+R)")
        self.pause_button = QPushButton("Pause", objectName="pauseButton")
        self.pause_button.setToolTip("Pause or resume listening (Ctrl+P)")
        self.save_button = QPushButton("Save As…", objectName="secondaryButton")
        self.copy_button = QPushButton("Copy All", objectName="secondaryButton")
        self.new_button = QPushButton("New Session", objectName="secondaryButton")
        self.devices = DevicePicker(self._device_lister)
        self.meter = LevelMeter()
        self.options = OptionsBar()
        self.captions = CaptionView()
        self.captions.setObjectName("captionView")
        self.hearing = HearingPanel()  # "What Whisper Hears": a dock, closed until the user opens it
        self.hearing_dock = QDockWidget("What Whisper Hears", self, objectName="hearingDock")
        self.hearing_dock.setWidget(self.hearing)
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.hearing_dock)
        self.hearing_dock.hide()
        self.banner = QLabel(objectName="banner", wordWrap=True)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()

        top = QHBoxLayout()
        top.addWidget(self.record_button)
        top.addWidget(self.pause_button)
        top.addSpacing(16)
        input_box = QVBoxLayout()
        input_box.setSpacing(4)
        input_label = QLabel("Input", objectName="fieldLabel")
        input_label.setBuddy(self.devices.combo)
        input_row = QHBoxLayout()
        input_row.addWidget(input_label)
        input_row.addWidget(self.devices, 1)
        input_box.addLayout(input_row)
        input_box.addWidget(self.meter)
        top.addLayout(input_box, 1)
        top.addSpacing(16)
        for button in (self.save_button, self.copy_button, self.new_button):
            top.addWidget(button)

        central = QWidget(objectName="central")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(16, 14, 16, 8)
        layout.setSpacing(10)
        layout.addLayout(top)
        layout.addWidget(self.options)
        layout.addWidget(self.banner)
        layout.addWidget(self.captions, 1)
        self.setCentralWidget(central)

        self.state_label = QLabel(objectName="stateLabel")
        self.model_label = QLabel(objectName="statusField")
        self.lag_label = QLabel(objectName="statusField")
        self.rtf_label = QLabel(objectName="statusField")
        self.warning_label = QLabel(objectName="warningLabel")
        status = self.statusBar()
        status.setSizeGripEnabled(False)
        status.addWidget(self.state_label)
        status.addWidget(self.warning_label, 1)
        for label in (self.model_label, self.lag_label, self.rtf_label):
            status.addPermanentWidget(label)

        self.record_button.clicked.connect(self.toggle_recording)
        self.pause_button.clicked.connect(self.toggle_pause)
        self.save_button.clicked.connect(self.save_as)
        self.copy_button.clicked.connect(self.copy_all)
        self.new_button.clicked.connect(self.new_session)
        self.devices.device_changed.connect(self._on_device_changed)
        self.options.changed.connect(self._on_options_changed)
        self.captions.user_edited.connect(self._edit_timer.start)
        self.captions.hear_requested.connect(self.hear)
        self.captions.alternatives_for = self.alternatives_for
        self.captions.show_where_heard = self.show_where_heard
        self._edit_timer.timeout.connect(self._autosave_edit)

    def _build_actions(self) -> None:
        def action(menu, text: str, shortcut: QKeySequence | str, slot) -> QAction:
            item = QAction(text, self, shortcut=QKeySequence(shortcut))
            item.triggered.connect(slot)
            menu.addAction(item)
            return item

        file_menu = self.menuBar().addMenu("&File")
        self.new_action = action(file_menu, "&New Session", QKeySequence.StandardKey.New, self.new_session)
        self.save_action = action(file_menu, "&Save As…", QKeySequence.StandardKey.Save, self.save_as)
        self.save_audio_action = action(file_menu, "Save As with &Audio…", "Ctrl+Shift+S",
                                        lambda: self.save_as(with_audio=True))
        self.copy_action = action(file_menu, "&Copy All", "Ctrl+Shift+C", self.copy_all)
        file_menu.addSeparator()
        action(file_menu, "&Quit", QKeySequence.StandardKey.Quit, self.close)
        record_menu = self.menuBar().addMenu("&Recording")
        self.record_action = action(record_menu, "&Record / Stop", "Ctrl+R", self.toggle_recording)
        self.pause_action = action(record_menu, "&Pause / Resume", "Ctrl+P", self.toggle_pause)
        record_menu.addSeparator()
        action(record_menu, "Look for &Microphones", "F5", self.devices.refresh)
        text_menu = self.menuBar().addMenu("&Text")
        self.vocabulary_action = action(text_menu, "Edit &Vocabulary…", "Ctrl+Shift+V", self.edit_vocabulary)
        self.said_action = action(text_menu, "Show What Was &Said", "Ctrl+Shift+W", self.show_what_was_said)
        self.improve_action = action(text_menu, "&Improve Transcript…", "Ctrl+Shift+I", self.improve_transcript)
        hearing = self.hearing_dock.toggleViewAction()
        hearing.setShortcut(QKeySequence("Ctrl+Shift+H"))
        hearing.triggered.connect(lambda shown: self.hearing.show_live() if shown else None)
        text_menu.addAction(hearing)
        text_menu.addSeparator()
        self.paste_last_action = action(text_menu, "&Copy Last Dictation", "", self.paste_last_dictation)
        self.into_apps_action = action(text_menu, "Dictate into &Apps…", "Ctrl+,", self.edit_dictation_settings)

    def _restore(self, settings: AppSettings) -> None:
        if not settings.geometry or not self.restoreGeometry(settings.geometry):
            self.resize(*DEFAULT_SIZE)
        self.options.set_profiles(list(self._profiles()))
        self.options.select(language=settings.language, task=settings.task, profile=settings.profile)
        self.refresh_models(settings.model)
        self.devices.start_polling()
        if settings.input_device:
            self.devices.select(settings.input_device)
        self._sessions.expire_audio()  # a crash's recording becomes FLAC; audio past its retention goes
        recovered = self._sessions.recoverable()
        if recovered is not None:
            self._offer_restore(recovered)

    # ------------------------------------------------------------ public API

    @property
    def state(self) -> RecorderState:
        return self._state

    def current_settings(self) -> AppSettings:
        """The settings as the window shows them now."""
        device = self.devices.current()
        return replace(
            self._settings,
            model=self.options.model() or self._settings.model,
            language=self.options.language(),
            task=self.options.task(),
            profile=self.options.profile() or self._settings.profile,
            input_device=device.name if device is not None else self._settings.input_device,
            geometry=self.saveGeometry().data(),
        )

    def refresh_models(self, current: str | None = None) -> None:
        """Re-read which models are prepared, installable or missing; prepare the current one if needed."""
        choices = model_choices(preparing=self._preparing)
        self.options.set_models(choices, current or self.options.model())
        self._update_controls()
        choice = self.options.model_choice()
        if choice is not None and choice.state is ModelState.INSTALLED and self._preparing is None:
            self.prepare(choice.name)

    def prepare(self, name: str) -> PrepareDialog:
        """Prepare model `name` in a worker thread behind a progress dialog; the window stays responsive.

        One preparation at a time: while one runs, its dialog is returned and nothing new starts."""
        if self._preparing is not None and self.prepare_dialog is not None:
            return self.prepare_dialog
        self._preparing = name
        worker = PrepareWorker(name)
        dialog = PrepareDialog(worker, self)
        worker.progress.connect(self._on_prepare_progress)
        worker.prepared.connect(self._on_prepared)
        worker.failed.connect(self._on_prepare_failed)
        worker.cancelled.connect(self._on_prepare_cancelled)
        self._threads.start(worker)
        self.prepare_dialog = dialog
        dialog.show()
        self._update_controls()
        return dialog

    @Slot()
    def toggle_recording(self) -> None:
        if self._state is RecorderState.IDLE:
            self.start_recording()
        elif self._state in STOPPABLE_STATES:
            self.stop_recording()

    def start_recording(self) -> None:
        """Start the engine on the chosen microphone (or the hidden input file) in a worker thread."""
        if self._state is not RecorderState.IDLE or not self._model_ready():
            return
        source = self.input_source()
        if source is None:
            return
        self._hide_banner()
        self.captions.settle()
        words = self.captions.committed_words
        self._offset = words[-1].end + RECORDING_GAP_SECONDS if words else 0.0
        self._audio_time = 0.0
        self._journal(self._sessions.begin)
        self._begin_dictation()
        self._worker = EngineWorker(self._engine_options(), source, on_audio=self._audio_sink())
        self._worker.ready.connect(self._on_engine_ready)
        self._worker.event.connect(self._on_event)
        self._worker.failed.connect(self._on_engine_failed)
        self._worker.finished.connect(self._on_engine_finished)
        self._threads.start(self._worker)
        self.devices.set_frozen(True)
        self._set_state(RecorderState.STARTING)

    @Slot()
    def start_from_hotkey(self) -> None:
        """The hotkey asks to dictate: start, or resume on the microphone kept open (with the pre-roll)."""
        if self._armed and self._worker is not None and self._state is RecorderState.PAUSED:
            self._armed = False
            self._keep_open.stop()
            self._begin_dictation()
            self._worker.resume(PREROLL_S)
            self._set_state(RecorderState.RECORDING)
            self._cue(start=True)  # the microphone is open: audio is already arriving
        elif self._state is RecorderState.IDLE:
            self.start_recording()
        self.hotkey.set_dictating(self._state is not RecorderState.IDLE)

    @Slot()
    def stop_from_hotkey(self) -> None:
        """The hotkey asks to stop: pause with the microphone kept open when the setting asks, else stop."""
        keep_open = self._settings.keep_open_s > 0 and self._worker is not None
        if keep_open and self._state is RecorderState.RECORDING:
            self._hotkey_pause = True
            self._worker.pause()
            self._set_state(RecorderState.PAUSED)
        elif self._state in STOPPABLE_STATES:
            self.stop_recording()
        self.hotkey.set_dictating(False)

    @Slot()
    def paste_last_dictation(self) -> bool:
        """Paste the last dictation typed into an app into the focused window (tray, hotkey, `dictate paste-last`);
        False when there is none. Into dictate's own window it only goes to the clipboard."""
        if not self.typing.paste_last():
            self.statusBar().showMessage("Nothing dictated into another application yet", 5000)
            return False
        return True

    def stop_recording(self) -> None:
        """Ask the engine to finish; `recording_finished` follows once the tail is flushed."""
        if self._worker is not None and self._state is not RecorderState.STOPPING:
            self._set_state(RecorderState.STOPPING)
            self._worker.stop()

    @Slot()
    def toggle_pause(self) -> None:
        if self._worker is None:
            return
        if self._state is RecorderState.RECORDING:
            self._worker.pause()
            self._set_state(RecorderState.PAUSED)
        elif self._state is RecorderState.PAUSED:
            self._worker.resume()
            self._set_state(RecorderState.RECORDING)

    def export_to(self, path: Path, fmt: str | None = None, with_audio: bool = False) -> None:
        """Write the transcript as shown (user edits included) to `path` in `fmt` (default: the suffix);
        `with_audio`: the session's audio too, as FLAC beside it (`<path stem>.flac`).

        Raises ExportError (unknown format, unwritable file) or SessionAudioError (no audio, unwritable)."""
        audio = self._sessions.session_audio() if with_audio else None
        if with_audio and audio is None:
            raise SessionAudioError("this session has no audio (it is not recorded, or was deleted)")
        transcript = build_transcript(self.captions.committed_words, self.captions.committed_text(), self._info())
        write_transcript(transcript, path, fmt)
        if audio is not None:
            copy_as_flac(audio, path.with_suffix(KEPT_SUFFIX))
        self._settings = replace(self._settings, export_dir=str(path.parent))
        self.statusBar().showMessage(f"Saved {path}" + (" and its audio" if audio is not None else ""), 5000)
        self.exported.emit(str(path))

    @Slot()
    def save_as(self, with_audio: bool = False) -> None:
        """Ask for a file name and format, then export (`with_audio`: the session's audio beside it)."""
        filters = ";;".join(EXPORT_FORMATS.values())
        start = Path(self._settings.export_dir or Path.home()) / "transcript.txt"
        path, chosen = QFileDialog.getSaveFileName(self, "Save transcript", str(start), filters)
        if not path:
            return
        fmt = next(key for key, value in EXPORT_FORMATS.items() if value == chosen)
        target = Path(path) if Path(path).suffix else Path(path).with_suffix("." + fmt)
        try:
            self.export_to(target, fmt, with_audio)
        except (ExportError, SessionAudioError, OSError) as error:
            QMessageBox.warning(self, "Could not save", str(error))

    @Slot()
    def improve_transcript(self) -> ImproveDialog | None:
        """Transcribe the session's audio again offline (beam 5, the best prepared model) and offer the changes."""
        path = self._sessions.session_audio()
        language = self._chosen_language()
        model = best_prepared_model(language)
        problem = ("Stop dictating first." if self._state is not RecorderState.IDLE else
                   "Improving needs the session's audio (Text > Dictate into Apps… > Session audio)." if path is None
                   else "No prepared model can transcribe this language." if model is None else "")
        if problem:
            self.statusBar().showMessage(problem, 8000)
            return None
        committed = "".join(word.text for word in self.captions.committed_words).lstrip()
        dialog = ImproveDialog(self.captions.committed_text(), committed, self)
        worker = ImproveWorker(path, model, language)
        worker.progress.connect(dialog.set_progress)
        worker.improved.connect(dialog.show_improved)
        worker.failed.connect(dialog.show_failure)
        dialog.rejected.connect(worker.stop)
        dialog.apply_requested.connect(self.apply_changes)
        self._threads.start(worker)
        dialog.open()
        return dialog

    @Slot(list)
    def apply_changes(self, changes: list[Change]) -> None:
        """Put accepted changes into the transcript, as the user's edits (journaled, exported)."""
        for change in sorted(changes, key=lambda change: change.start, reverse=True):
            self.captions.replace_text(change.start, change.end, change.new)
        if changes:
            self.statusBar().showMessage(f"{len(changes)} change(s) applied; Undo takes them back", 5000)

    def alternatives_for(self, spans: list[WordSpan]) -> list[str]:
        """What else the recogniser hears where these committed words are (the caption view's menu)."""
        context = self._word_context(spans)
        if context is None:
            return []
        audio_at, words = context
        language = self._chosen_language()
        current = self.options.model() or self._settings.model
        second = best_prepared_model(language, multilingual=True)  # a multilingual model, when one is prepared
        first, last = words.index(spans[0].word), words.index(spans[-1].word)
        found: list[str] = []
        for model in (current, *([second] if second not in (None, current) else [])):
            for text in find_alternatives(self._recognizer(model), audio_at, words, first, last, language=language):
                if text.strip(",.!? ").lower() not in {seen.strip(",.!? ").lower() for seen in found}:
                    found.append(text)
        return found

    def _word_context(self, spans: list[WordSpan]) -> tuple[Callable[[float, float], np.ndarray], list[Word]] | None:
        """What word-level work needs: a reader of the session's audio and the committed words (None, told, when the
        session has no audio or the words are not committed ones)."""
        path = self._sessions.session_audio()
        words = list(self.captions.committed_words)
        if path is None or any(span.word not in words for span in spans):
            self.statusBar().showMessage("This needs the session's audio (Text > Dictate into Apps… > Session audio).",
                                         5000)
            return None
        return (lambda start, end: read_stretch(path, Stretch(start, end))), words

    def _chosen_language(self) -> str | None:
        """The language picked in the window; None for auto-detection."""
        language = self.options.language()
        return None if language == AUTO_LANGUAGE else language

    def _audio_sink(self) -> Callable[[np.ndarray, float], None]:
        """What the engine hands each block it hears to (its thread): the session audio, the hearing panel."""
        record = self._sessions.audio_sink(self._offset)
        hearing = self.hearing

        def sink(samples: np.ndarray, at: float) -> None:
            if record is not None:
                record(samples, at)
            hearing.add_audio(samples, at)

        return sink

    def show_where_heard(self, span: WordSpan) -> None:
        """Open "What Whisper Hears" on a word: its audio, and where the decoder looked while writing it."""
        context = self._word_context([span])
        if context is None:
            return
        audio_at, words = context
        attention = word_attention(self._recognizer(), audio_at, words, words.index(span.word),
                                   language=self._chosen_language() or "en")
        self.hearing_dock.show()
        self.hearing.show_word(attention, span.text)

    def _recognizer(self, model: str | None = None) -> Recognizer:
        """A model (default: the current one) loaded for word-level work (alternatives, attention) on first use."""
        model = model or self.options.model() or self._settings.model
        if model not in self._word_models:
            self._word_models[model] = Recognizer.load(model)
        return self._word_models[model]

    @Slot(float, float)
    def hear(self, start: float, end: float) -> None:
        """Play the session's audio from `start` to `end` (seconds), as the caption view asks on Ctrl+click."""
        path = self._sessions.session_audio()
        problem = (self._player.play(path, Stretch(start, end)) if path is not None else
                   "This session's audio is not recorded (Text > Dictate into Apps… > Session audio).")
        if problem:
            self.statusBar().showMessage(problem, 5000)

    @Slot()
    def copy_all(self) -> None:
        """Put the whole transcript (as edited) on the clipboard."""
        QGuiApplication.clipboard().setText(self.captions.toPlainText())
        self.statusBar().showMessage("Transcript copied to the clipboard", 3000)

    @Slot()
    def edit_vocabulary(self) -> VocabularyDialog:
        """Open the vocabulary editor (used from the next Record on)."""
        dialog = VocabularyDialog(self._config_folder / VOCABULARY_FILE, self)
        dialog.open()
        return dialog

    @Slot()
    def edit_dictation_settings(self) -> DictationSettingsDialog:
        """Open the hotkey, typing and microphone settings; they apply when the dialog is accepted."""
        dialog = DictationSettingsDialog(self.current_settings(), self)
        dialog.accepted.connect(lambda: self.apply_dictation_settings(dialog.result_settings()))
        dialog.open()
        return dialog

    def apply_dictation_settings(self, settings: AppSettings) -> None:
        """Use new dictation settings now: the hotkey is taken again, typing uses the new method."""
        self._settings = settings
        self.typing.method = settings.insertion
        self._sessions.retention = AudioRetention(settings.audio_retention, settings.audio_days)
        self._sessions.expire_audio()
        self.hotkey.set_mode(settings.hotkey_mode)
        for key, controller in ((settings.hotkey, self.hotkey), (settings.paste_hotkey, self.paste_hotkey)):
            if not key:
                controller.disable()
                continue
            problem = controller.set_hotkey(key)
            if not controller.is_enabled() and QGuiApplication.platformName() != "offscreen":
                problem = controller.enable()
            if problem:
                self.statusBar().showMessage(problem, 15000)
        save_settings(self._store, self.current_settings())

    @Slot()
    def show_what_was_said(self) -> SaidDialog:
        """Show the words as heard, before the profile's commands and formatting (and before user edits)."""
        dialog = SaidDialog("".join(word.text for word in self.captions.committed_words).strip(), self)
        dialog.open()
        return dialog

    @Slot()
    def new_session(self) -> None:
        """Close the current session (its journal stays on disk) and start an empty transcript."""
        if self._state is not RecorderState.IDLE:
            return
        self._journal(self._sessions.end)
        self._edit_timer.stop()
        self.captions.clear_all()
        self._audio_time = 0.0
        self._offset = 0.0
        self.statusBar().showMessage("New session", 3000)

    # -------------------------------------------------------------- internals

    def _model_ready(self) -> bool:
        choice = self.options.model_choice()
        return choice is not None and choice.state is ModelState.PREPARED and self._preparing is None

    def _engine_options(self) -> EngineOptions:
        choice = self.options.model_choice()
        multilingual = choice is not None and choice.multilingual
        language = self.options.language() if multilingual else AUTO_LANGUAGE
        return EngineOptions(
            model=self.options.model(),
            language=None if language == AUTO_LANGUAGE else language,
            task=self.options.task() if multilingual else "transcribe",
            vocabulary=self._vocabulary.prompt(),
        )

    def _profiles(self) -> dict[str, Profile]:
        """The built-in profiles and the user's; a bad profiles file is shown, and the built-in ones remain."""
        try:
            return load_profiles(self._config_folder / PROFILES_FILE)
        except VocabularyError as error:
            self._show_banner(str(error))
            return dict(BUILTIN_PROFILES)

    def _new_text_stage(self) -> TextStage | None:
        """The stage for a new recording (None when the profile changes nothing), continuing the text so far."""
        path = self._config_folder / VOCABULARY_FILE
        try:
            self._vocabulary = load_vocabulary(path) if path.exists() else Vocabulary()
        except VocabularyError as error:
            self._vocabulary = Vocabulary()
            self._show_banner(f"{error} Dictating without the vocabulary.")
        language = self.options.language()
        try:
            profile = profile_named(self.options.profile() or "plain", self._vocabulary,
                                    language="en" if language == AUTO_LANGUAGE else language,
                                    path=self._config_folder / PROFILES_FILE)
        except VocabularyError as error:
            self._show_banner(f"{error} Dictating with the plain profile.")
            profile = replace(Profile(), vocabulary=self._vocabulary)
        return None if profile.is_identity else TextStage(profile, context=self.captions.committed_text())

    def _begin_dictation(self) -> None:
        """A dictation starts: its text stage, and typing into the focused app (if it is not this window)."""
        self._dictating = True
        self._text_stage = self._new_text_stage()
        # while the hotkey's key is down its grab takes every key: typing waits for it
        self.typing.begin(hotkey=self.hotkey.hotkey if self.hotkey.is_enabled() else None)

    def _end_dictation(self) -> None:
        """A dictation ended: the stage lets go of what it held; typing finishes."""
        if not self._dictating:
            return
        self._dictating = False
        if self._text_stage is not None:
            self._apply_stage_edit(self._text_stage.finish())
            self._text_stage = None
        self.typing.end()
        self._cue(start=False)

    def _cue(self, start: bool) -> None:
        if self._settings.sounds:
            problem = play_cue(start)
            if problem:
                self.statusBar().showMessage(problem, 5000)

    @Slot()
    def _close_kept_microphone(self) -> None:
        """Nobody dictated for `keep_open_s`: stop the engine (the microphone closes)."""
        if self._armed:
            self._armed = False
            self.stop_recording()

    def _apply_stage_edit(self, edit: TextEdit | None) -> None:
        """Show, journal and type a text-stage edit that came without words; obey "stop dictating"."""
        if edit:
            self.captions.apply_edit(edit)
            self._journal(lambda: self._sessions.record_text(edit.delete, edit.insert))
            self.typing.typed(edit)
        if self._text_stage is not None and self._text_stage.stop_requested and self._state in STOPPABLE_STATES:
            self.stop_recording()

    def input_source(self) -> AudioSource | None:
        """What Record listens to: the picked microphone (or the file source); None, with a message, if none."""
        if self._file_source is not None:
            return self._file_source
        device = self.devices.current()
        if device is None:
            self._show_banner("No microphone found. Connect one, then press ⟳ next to the input picker.")
            return None
        return MicrophoneSource(device=device.index)

    def _info(self) -> TranscriptInfo:
        words = self.captions.committed_words
        language = self.options.language()
        return TranscriptInfo(
            duration=max(self._offset + self._audio_time, words[-1].end if words else 0.0),
            language="en" if language == AUTO_LANGUAGE else language,
            model=self.options.model(),
            task=self.options.task(),
        )

    def _set_state(self, state: RecorderState) -> None:
        self._state = state
        self._update_controls()
        self.state_changed.emit()

    def _update_controls(self) -> None:
        state = self._state
        idle = state is RecorderState.IDLE
        ready = self._model_ready()
        self.record_button.setText("Record" if idle else "Stop")
        self.record_button.setProperty("recording", not idle)
        self.record_button.style().unpolish(self.record_button)
        self.record_button.style().polish(self.record_button)
        self.record_button.setEnabled((idle and ready) or state in STOPPABLE_STATES)
        self.record_action.setEnabled(self.record_button.isEnabled())
        pausable = state in (RecorderState.RECORDING, RecorderState.PAUSED)
        self.pause_button.setEnabled(pausable)
        self.pause_action.setEnabled(pausable)
        self.pause_button.setText("Resume" if state is RecorderState.PAUSED else "Pause")
        self.new_button.setEnabled(idle)
        self.new_action.setEnabled(idle)
        self.options.set_recording(not idle)
        if idle and self._preparing:
            self.state_label.setText(f"Preparing {self._preparing}…")
        elif idle and not ready:
            self.state_label.setText("Model not available")
        else:
            self.state_label.setText(state.value)
        self.model_label.setText(" · ".join(filter(None, (self.options.model(), self._compute_device))))
        if idle:
            self.meter.set_level(FLOOR_DB)

    def _show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.show()
        self._silence_banner = False

    def _hide_banner(self) -> None:
        self.banner.hide()
        self._silence_banner = False

    def _offer_restore(self, recovered: Path) -> None:
        """Ask (without blocking start-up) whether to restore the session a crash left behind."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Restore transcript?",
            "Dictate did not close properly last time. Restore the transcript it was writing?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        box.finished.connect(lambda result: self._restore_session(recovered, result == QMessageBox.StandardButton.Yes))
        self.restore_box = box
        box.open()

    def _restore_session(self, recovered: Path, accept: bool) -> None:
        restored = self._journal(lambda: self._sessions.restore(recovered, accept=accept))
        if accept and restored is not None:
            self.captions.load(*restored)
        self.restore_box = None

    def _journal(self, write: Callable[[], T]) -> T | None:
        """Run one autosave step; a failure is shown, and dictation goes on."""
        try:
            return write()
        except JournalWriteError as error:
            self._show_banner(str(error))
            return None

    @Slot()
    def _autosave_edit(self) -> None:
        self._journal(self._sessions.begin)
        self._journal(lambda: self._sessions.record_edit(self.captions.committed_text()))

    @Slot(object)
    def _on_event(self, event: object) -> None:
        match event:
            case Committed(words=words):
                words = shift_words(words, self._offset)
                edit = feed_event(self._text_stage, event) if self._text_stage is not None else None
                self.captions.append_committed(words, edit)
                text = None if edit is None else (edit.delete, edit.insert)
                self._journal(lambda: self._sessions.append(words, text))
                self.typing.typed(edit if edit is not None else TextEdit(insert="".join(w.text for w in words)))
                self._apply_stage_edit(None)
            case UtteranceEnd() if self._text_stage is not None:
                self._apply_stage_edit(feed_event(self._text_stage, event))
            case Tentative(words=words):
                self.captions.set_tentative(shift_words(words, self._offset))
                self.typing.show_tentative("".join(word.text for word in words))
            case Paused() if self._hotkey_pause:  # everything said before the hotkey's release is committed
                self._hotkey_pause = False
                self._end_dictation()
                self._armed = True
                self._keep_open.start(self._settings.keep_open_s * 1000)
            case EngineStatus():
                self.hearing.add_status(event)
                self._on_status(event)
            case AudioDropped(start=start, seconds=seconds):
                self.warning_label.setText(f"Dropped {seconds:.1f} s of audio: the computer could not keep up")
                self._journal(lambda: self._sessions.record_drop(self._offset + start, seconds))
            case InputSilent(message=message):  # the stream is open and kept: no rescan (it would close it)
                self._show_banner(f"{message} {SILENT_INPUT_HINT}")
                self._silence_banner = True
            case EngineError(message=message, recoverable=recoverable):
                if recoverable:  # the stream is gone: look for devices again so the user can switch
                    self.devices.set_frozen(False)
                    self.devices.refresh()
                hint = " Pick another input to continue; the transcript is kept." if recoverable else ""
                self._show_banner(message + hint)

    @Slot(str)
    def _on_engine_ready(self, device: str) -> None:
        self._compute_device = device
        if self._state is RecorderState.STARTING:
            self._set_state(RecorderState.OPENING)

    def _on_status(self, status: EngineStatus) -> None:
        self._audio_time = status.audio_time
        if self._state is RecorderState.OPENING and status.audio_time > 0:  # a device may take seconds to deliver
            self._set_state(RecorderState.RECORDING)
            self.recording_started.emit()
            self._cue(start=True)  # only now: a word said before the first audio would be lost
        self.typing.show_status(status.level_db, status.lag)
        if self._silence_banner and status.level_db > SILENCE_DBFS:  # the input delivers sound again
            self._hide_banner()
        self.meter.set_level(status.level_db)
        minutes, seconds = divmod(int(self._offset + status.audio_time), 60)
        if self._state is RecorderState.RECORDING:
            self.state_label.setText(f"Recording {minutes:02d}:{seconds:02d}")
        self.lag_label.setText(f"Lag {status.lag:.1f} s")
        self.rtf_label.setText(f"RTF {status.rtf:.2f}")
        behind = status.lag > LAG_WARNING_SECONDS
        self.warning_label.setText(f"Falling behind real time by {status.lag:.1f} s" if behind else "")

    @Slot(str)
    def _on_engine_failed(self, message: str) -> None:
        self._show_banner(f"Dictation stopped: {message}")

    @Slot()
    def _on_engine_finished(self) -> None:
        self._worker = None
        self._armed = self._hotkey_pause = False
        self._keep_open.stop()
        self.devices.set_frozen(False)
        self.captions.settle()
        self._end_dictation()
        self.hotkey.set_dictating(False)
        if self._silence_banner:  # "recording goes on" no longer holds
            self._hide_banner()
        if self._sessions.audio_error:
            self._show_banner(f"{self._sessions.audio_error}. The transcript is saved; its audio is not.")
        self._set_state(RecorderState.IDLE)
        self.lag_label.setText("")
        self.rtf_label.setText("")
        self.warning_label.setText("")
        self.recording_finished.emit()

    @Slot(str)
    def _on_device_changed(self, name: str) -> None:
        """A new pick while recording switches the engine's source; the transcript carries on."""
        device = self.devices.current()
        if self._worker is not None and device is not None and self._file_source is None:
            self._worker.set_source(MicrophoneSource(device=device.index))
            self.devices.set_frozen(True)
            self._hide_banner()
            self.statusBar().showMessage(f"Listening to {name}", 3000)

    @Slot()
    def _on_options_changed(self) -> None:
        self.refresh_models()
        choice = self.options.model_choice()
        if choice is not None and choice.state is ModelState.MISSING:
            self._show_banner(f"The model “{choice.name}” is not installed. Install it with:  {choice.install_command}")
        else:
            self._hide_banner()

    @Slot(object)
    def _on_prepare_progress(self, progress: PrepareProgress) -> None:
        if self._preparing is not None:
            self.options.show_progress(self._preparing, f"{progress.done}/{progress.total}" if progress.total else "")

    @Slot(str, str)
    def _on_prepared(self, name: str, _folder: str) -> None:
        self._preparing = None
        self.refresh_models()
        self.model_ready.emit(name)

    @Slot(str, str)
    def _on_prepare_failed(self, name: str, message: str) -> None:
        self._preparing = None
        self.refresh_models()
        self._show_banner(f"Could not prepare “{name}”: {message}")

    @Slot(str)
    def _on_prepare_cancelled(self, _name: str) -> None:
        self._preparing = None  # the window is closing: nothing is prepared again

    @Slot()
    def _on_threads_idle(self) -> None:
        if self._close_when_stopped:
            self.close()

    def busy(self) -> bool:
        """Whether a preparation or the engine still runs (the window closes only once neither does)."""
        return self._threads.busy()

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing while recording or preparing stops that work first; the window closes once it has ended.

        Recording finishes its tail (the words are kept); a preparation is cancelled and leaves nothing
        behind. No thread outlives the window, and none reports to a deleted widget."""
        if self._threads.busy():
            self._close_when_stopped = True
            self.stop_recording()
            self._threads.stop_all()
            self.statusBar().showMessage("Closing…")
            event.ignore()
            return
        save_settings(self._store, self.current_settings())
        if self._edit_timer.isActive():
            self._edit_timer.stop()
            self._autosave_edit()
        self._journal(self._sessions.end)
        self._player.close()
        event.accept()
