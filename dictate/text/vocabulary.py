"""The user's vocabulary: terms that bias recognition and whole-word replacement rules, kept as a plain file.

File format (UTF-8, one entry per line):

    # a comment
    Kubernetes                 a term: it goes into the decoder's prompt
    kubernetties -> Kubernetes a replacement: the words on the left, as Whisper writes them,
                               become the right side (whole words, any case); the right side
                               is a term as well

Blank lines and lines starting with `#` are ignored.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from platformdirs import user_config_dir

CONFIG_DIR_ENV = "DICTATE_CONFIG_DIR"  # overrides the user config folder (tests, portable installs)
VOCABULARY_FILE = "vocabulary.txt"
ARROW = "->"
COMMENT = "#"
TERM_SEPARATOR = ", "  # how terms are joined in the decoder prompt


class VocabularyError(Exception):
    """A vocabulary file that cannot be read or has a bad line; the message says which and why."""


@dataclass(frozen=True)
class Replacement:
    """Whole words `heard` (matched without regard to case) are written as `written`."""

    heard: str
    written: str


@dataclass(frozen=True)
class Vocabulary:
    """Terms to prompt the decoder with, and replacement rules for the text stage."""

    terms: tuple[str, ...] = ()
    replacements: tuple[Replacement, ...] = ()

    @property
    def is_empty(self) -> bool:
        return not self.terms and not self.replacements

    def prompt(self) -> str:
        """The terms (replacement targets included, each once) as prompt text; "" for none."""
        seen: dict[str, None] = {}
        for term in (*self.terms, *(rule.written for rule in self.replacements)):
            seen.setdefault(term, None)
        return TERM_SEPARATOR.join(seen)


def parse_vocabulary(text: str, source: str = "vocabulary") -> Vocabulary:
    """The vocabulary in `text`; a malformed line raises VocabularyError naming `source` and the line."""
    terms: list[str] = []
    replacements: list[Replacement] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(COMMENT):
            continue
        if ARROW in line:
            heard, _, written = (part.strip() for part in line.partition(ARROW))
            if not heard or not written or ARROW in written:
                raise VocabularyError(
                    f"{source}, line {number}: a replacement needs words on both sides of '{ARROW}': {raw!r}")
            replacements.append(Replacement(" ".join(heard.split()), " ".join(written.split())))
        else:
            terms.append(" ".join(line.split()))
    return Vocabulary(tuple(terms), tuple(replacements))


def format_vocabulary(vocabulary: Vocabulary) -> str:
    """The file text of `vocabulary` (parse_vocabulary(format_vocabulary(v)) == v)."""
    lines = [*vocabulary.terms, *(f"{rule.heard} {ARROW} {rule.written}" for rule in vocabulary.replacements)]
    return "".join(f"{line}\n" for line in lines)


def load_vocabulary(path: str | Path) -> Vocabulary:
    """The vocabulary file at `path`. Raises VocabularyError if it cannot be read or has a bad line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise VocabularyError(f"The vocabulary file {path} does not exist.") from None
    except UnicodeDecodeError:
        raise VocabularyError(f"The vocabulary file {path} is not UTF-8 text.") from None
    except OSError as error:
        raise VocabularyError(f"Cannot read the vocabulary file {path}: {error.strerror or error}.") from None
    return parse_vocabulary(text, source=str(path))


def config_dir() -> Path:
    """`$DICTATE_CONFIG_DIR`, or dictate's folder in the platform's user config folder."""
    return Path(os.environ.get(CONFIG_DIR_ENV) or user_config_dir("dictate", appauthor=False))


def default_vocabulary_path() -> Path:
    """Where the window keeps the user's vocabulary."""
    return config_dir() / VOCABULARY_FILE
