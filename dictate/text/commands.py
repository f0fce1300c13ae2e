"""Spoken commands, one table per language: the phrase a user says and what it does.

A command acts only when it is said as its own phrase (the text stage decides that from
pauses); its words are matched by their keys: lower case, punctuation dropped, so
Whisper's "New paragraph." is the command "new paragraph".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from dictate.streaming.guards import word_key


class Action(Enum):
    """What a command does to the text."""

    MARK = "mark"  # a punctuation mark joined to the text before it
    BREAK = "break"  # a line or paragraph break
    OPEN_QUOTE = "open_quote"  # a quote mark the next words follow without a space
    CLOSE_QUOTE = "close_quote"  # a quote mark joined to the text before it
    SCRATCH = "scratch"  # remove the last utterance
    STOP = "stop"  # stop dictating


@dataclass(frozen=True)
class Command:
    """One spoken command."""

    phrase: str  # what is said, as word keys joined by spaces ("new paragraph")
    action: Action
    text: str = ""  # what MARK, BREAK and the quotes write

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(self.phrase.split())


@dataclass(frozen=True)
class CommandTable:
    """A language's commands and the word that makes the next command literal text."""

    commands: tuple[Command, ...]
    literal: str  # "literally period" writes the word "period"

    def match(self, keys: tuple[str, ...]) -> Command | None:
        """The command these word keys say exactly, if any."""
        return next((command for command in self.commands if command.keys == keys), None)

    def could_start(self, keys: tuple[str, ...]) -> bool:
        """Whether more words could still make these keys a command (or a literal one)."""
        if keys[:1] == (self.literal,):
            keys = keys[1:]
        return any(command.keys[: len(keys)] == keys for command in self.commands)


ENGLISH = CommandTable(
    commands=(
        Command("new line", Action.BREAK, "\n"),
        Command("new paragraph", Action.BREAK, "\n\n"),
        Command("period", Action.MARK, "."),
        Command("full stop", Action.MARK, "."),
        Command("comma", Action.MARK, ","),
        Command("question mark", Action.MARK, "?"),
        Command("exclamation mark", Action.MARK, "!"),
        Command("exclamation point", Action.MARK, "!"),
        Command("colon", Action.MARK, ":"),
        Command("open quote", Action.OPEN_QUOTE, '"'),
        Command("close quote", Action.CLOSE_QUOTE, '"'),
        Command("scratch that", Action.SCRATCH),
        Command("stop dictating", Action.STOP),
    ),
    literal="literally",
)

COMMAND_TABLES: dict[str, CommandTable] = {"en": ENGLISH}


def command_table(language: str) -> CommandTable | None:
    """The commands of `language` (a Whisper code), or None where there is no table yet."""
    return COMMAND_TABLES.get(language)


def keys_of(texts: list[str]) -> tuple[str, ...]:
    """The word keys of these word texts, words that are only punctuation left out."""
    return tuple(key for key in (word_key(text) for text in texts) if key)
