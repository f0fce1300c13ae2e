"""Dialogs of the text stage: the vocabulary editor and "what was said" (the words before the profile)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout, QWidget

from dictate.text.vocabulary import VocabularyError, parse_vocabulary

VOCABULARY_HELP = (
    "One name or term per line: they help Whisper spell them.\n"
    "A line 'heard -> written' replaces those words wherever they are written, e.g.  kubernetties -> Kubernetes\n"
    "Lines starting with # are comments."
)


class VocabularyDialog(QDialog):
    """Edits the vocabulary file; the text is checked before it is saved, and a bad line is named."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Vocabulary")
        self.path = path
        self.editor = QPlainTextEdit(objectName="vocabularyEditor")
        try:
            self.editor.setPlainText(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            pass
        except (OSError, UnicodeDecodeError) as error:
            self.editor.setReadOnly(True)  # never overwrite a file we could not read
            self.editor.setPlainText(f"# cannot read {path}: {error}")
        self.error_label = QLabel(objectName="warningLabel", wordWrap=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(VOCABULARY_HELP, wordWrap=True))
        layout.addWidget(self.editor, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(buttons)
        self.resize(520, 420)

    def accept(self) -> None:
        """Save when every line is valid; otherwise say which line is wrong and stay open."""
        if self.editor.isReadOnly():
            self.error_label.setText(f"{self.path} could not be read, so it is not overwritten.")
            return
        text = self.editor.toPlainText()
        try:
            parse_vocabulary(text, source="Vocabulary")
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary = self.path.with_name(f".{self.path.name}.tmp")
            temporary.write_text(text if text.endswith("\n") or not text else text + "\n", encoding="utf-8")
            os.replace(temporary, self.path)
        except VocabularyError as error:
            self.error_label.setText(str(error))
            return
        except OSError as error:
            self.error_label.setText(f"Cannot save {self.path}: {error.strerror or error}.")
            return
        super().accept()


class SaidDialog(QDialog):
    """The words as Whisper heard them, before the profile's commands and formatting (read-only, selectable)."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("What was said")
        self.text_view = QPlainTextEdit(objectName="saidText", readOnly=True)
        self.text_view.setPlainText(text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text_view, 1)
        layout.addWidget(buttons)
        self.resize(520, 360)
