"""Model, language, task and text-profile pickers; language and task are disabled for English-only models."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from dictate.asr.tokenizer import LANGUAGES
from dictate.gui.settings import AUTO_LANGUAGE, TASKS

ENGLISH_ONLY_TIP = "This model understands English only; pick a multilingual model to choose a language or translate."


class ModelState(Enum):
    PREPARED = "prepared"  # ONNX files ready: dictation starts at once
    INSTALLED = "installed"  # weights installed; prepared (converted) on first use
    MISSING = "missing"  # weights not installed: the pip command installs them
    PREPARING = "preparing"  # conversion running now


@dataclass(frozen=True)
class ModelChoice:
    """One row of the model picker."""

    name: str  # catalogue name, e.g. "tiny.en"
    state: ModelState
    multilingual: bool  # False: English-only (".en") model
    install_command: str = ""  # pip command that installs the weights when MISSING

    def label(self, progress: str = "") -> str:
        """The picker text, e.g. "base — not installed"."""
        suffix = {
            ModelState.PREPARED: "",
            ModelState.INSTALLED: " — prepared on first use",
            ModelState.MISSING: " — not installed",
            ModelState.PREPARING: f" — preparing {progress}".rstrip(),
        }[self.state]
        return self.name + suffix


class OptionsBar(QWidget):
    """Emits `changed` whenever the user picks another model, language or task."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_box = QComboBox(objectName="modelBox")
        self.language_box = QComboBox(objectName="languageBox")
        self.task_box = QComboBox(objectName="taskBox")
        self.profile_box = QComboBox(objectName="profileBox")
        self.profile_box.setToolTip("What is written: plain (the words as heard), dictation (spoken commands, "
                                    "numbers as digits, no fillers), chat (dictation without the capital at the "
                                    "start or the trailing period)")
        self.language_box.addItem("Auto-detect", AUTO_LANGUAGE)
        for code, name in sorted(LANGUAGES.items(), key=lambda item: item[1]):
            self.language_box.addItem(name.title(), code)
        for task in TASKS:
            self.task_box.addItem(task.title(), task)
        self.model_box.setMinimumContentsLength(14)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        boxes = (("Model", self.model_box), ("Language", self.language_box), ("Task", self.task_box),
                 ("Profile", self.profile_box))
        for caption, box in boxes:
            label = QLabel(caption, objectName="fieldLabel")
            label.setBuddy(box)
            layout.addWidget(label)
            layout.addWidget(box)
            layout.addSpacing(12)
        layout.addStretch(1)
        self._choices: dict[str, ModelChoice] = {}
        self.model_box.currentIndexChanged.connect(self._on_model_changed)
        self.language_box.currentIndexChanged.connect(self.changed)
        self.task_box.currentIndexChanged.connect(self.changed)
        self.profile_box.currentIndexChanged.connect(self.changed)

    def set_models(self, choices: Sequence[ModelChoice], current: str) -> None:
        """Fill the model picker (keeping `current` selected) without emitting `changed`."""
        self.model_box.blockSignals(True)
        self.model_box.clear()
        self._choices = {choice.name: choice for choice in choices}
        for choice in choices:
            self.model_box.addItem(choice.label(), choice.name)
            tip = f"Install with:  {choice.install_command}" if choice.state is ModelState.MISSING else ""
            self.model_box.setItemData(self.model_box.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        index = self.model_box.findData(current)
        self.model_box.setCurrentIndex(max(index, 0))
        self.model_box.blockSignals(False)
        self._update_multilingual()

    def show_progress(self, name: str, text: str) -> None:
        """Show preparation progress (e.g. "40%") in the model's row."""
        index = self.model_box.findData(name)
        if index >= 0 and name in self._choices:
            preparing = ModelChoice(name, ModelState.PREPARING, self._choices[name].multilingual)
            self.model_box.setItemText(index, preparing.label(text))

    def model_choice(self) -> ModelChoice | None:
        return self._choices.get(self.model_box.currentData())

    def model(self) -> str:
        return self.model_box.currentData() or ""

    def language(self) -> str:
        return self.language_box.currentData()

    def task(self) -> str:
        return self.task_box.currentData()

    def profile(self) -> str:
        return self.profile_box.currentData() or ""

    def set_profiles(self, names: Sequence[str]) -> None:
        """Fill the profile picker (keeping the current choice where it still exists) without emitting `changed`."""
        current = self.profile()
        self.profile_box.blockSignals(True)
        self.profile_box.clear()
        for name in names:
            self.profile_box.addItem(name.title(), name)
        self.profile_box.setCurrentIndex(max(self.profile_box.findData(current), 0))
        self.profile_box.blockSignals(False)

    def select(self, *, language: str, task: str, profile: str = "") -> None:
        """Restore saved choices (unknown values keep the defaults)."""
        self.language_box.setCurrentIndex(max(self.language_box.findData(language), 0))
        self.task_box.setCurrentIndex(max(self.task_box.findData(task), 0))
        self.profile_box.setCurrentIndex(max(self.profile_box.findData(profile), 0))

    def set_recording(self, recording: bool) -> None:
        """Options are fixed while recording."""
        self.model_box.setEnabled(not recording)
        self.profile_box.setEnabled(not recording)
        self._update_multilingual(locked=recording)

    @Slot()
    def _on_model_changed(self) -> None:
        self._update_multilingual()
        self.changed.emit()

    def _update_multilingual(self, locked: bool = False) -> None:
        choice = self.model_choice()
        multilingual = choice is not None and choice.multilingual
        for box in (self.language_box, self.task_box):
            box.setEnabled(multilingual and not locked)
            box.setToolTip("" if multilingual else ENGLISH_ONLY_TIP)
