"""The text stage: committed words in, the text the user means out, as edits at the end of the text.

Words arrive as the engine commits them. The stage groups them into utterances
(ended by the engine's end of utterance or by a pause of PHRASE_PAUSE_S between
words), acts on an utterance that is a spoken command, and formats the others by
the profile. A word that may still change what it becomes (the start of a command,
of a longer number, of a multi-word replacement) is held back until it cannot,
so the text only grows, except where a command asks otherwise ("scratch that",
a mark that takes the place of one Whisper wrote). Pure: no Qt, no clock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dictate.streaming.guards import word_key
from dictate.text.commands import Action, Command, command_table, keys_of
from dictate.text.formatting import (
    JOINING_MARKS,
    capitalized,
    decapitalized,
    digits,
    remove_fillers,
    replace_words,
    starts_sentence,
    unfinished_number,
)
from dictate.text.profiles import Profile
from dictate.transcript.types import Word

PHRASE_PAUSE_S = 0.5  # a pause this long between two words ends a phrase (the VAD's end of utterance)


@dataclass(frozen=True)
class TextEdit:
    """Remove `delete` characters from the end of the stage's text, then append `insert`."""

    delete: int = 0
    insert: str = ""

    def __bool__(self) -> bool:
        return bool(self.delete or self.insert)

    def apply(self, text: str) -> str:
        """`text` (ending with the stage's text so far) after this edit."""
        return text[: len(text) - self.delete] + self.insert


class TextStage:
    """One dictation's text: feed it committed words and ends of utterance; apply the edits it returns."""

    def __init__(self, profile: Profile = Profile(), context: str = "") -> None:
        """`context`: the text the dictation continues (capitals and spacing follow it; never edited)."""
        self.profile = profile
        self.stop_requested = False  # "stop dictating" was said
        self._commands = command_table(profile.language) if profile.commands else None
        self._context = context
        self._closed = ""  # the text of the finished utterances
        self._starts: list[int] = []  # where each finished utterance's text begins in `_closed`
        self._open: list[Word] = []  # the utterance in progress
        self._glue_next = False  # an open quote: the next words follow it without a space
        self._after_command = False  # the last utterance was a command: a mark committed after it is its own
        self._finished = False
        self._shown = ""  # the text as the consumer has it

    @property
    def text(self) -> str:
        """The stage's text so far (the context not included)."""
        return self._shown

    def add(self, words: Iterable[Word]) -> TextEdit:
        """Committed words, in order."""
        for word in words:
            if self._open and word.start - self._open[-1].end >= PHRASE_PAUSE_S:
                self._close_utterance()
            self._open.append(word)
        return self._sync()

    def end_utterance(self) -> TextEdit:
        """The engine's end of utterance: the words so far are a phrase of their own."""
        self._close_utterance()
        return self._sync()

    def finish(self) -> TextEdit:
        """The dictation ended: nothing is held back any more."""
        self._close_utterance()
        self._finished = True
        return self._sync()

    def _sync(self) -> TextEdit:
        text = self._closed + self._render(self._open, final=False)
        if self.profile.chat and text.endswith("."):
            text = text[:-1]  # held while dictation goes on, dropped at its end
        common = 0
        for new, old in zip(text, self._shown):
            if new != old:
                break
            common += 1
        edit = TextEdit(delete=len(self._shown) - common, insert=text[common:])
        self._shown = text
        return edit

    def _close_utterance(self) -> None:
        words, self._open = self._open, []
        if not words:
            return
        keys = keys_of([word.text for word in words])
        if not keys and self._after_command:
            return  # the mark Whisper wrote after the command ("New paragraph."), committed after its end
        self._after_command = False
        if self._commands is not None:
            command = self._commands.match(keys)
            if command is not None:
                self._run(command)
                self._after_command = True
                return
            if keys[:1] == (self._commands.literal,) and self._commands.match(keys[1:]):
                words = words[1:]  # "literally period": the word itself
        if keys or not self._starts:  # a mark committed after its sentence belongs to that utterance
            self._starts.append(len(self._closed))
        self._closed += self._render(words, final=True)
        self._glue_next = False

    def _run(self, command: Command) -> None:
        before = self._context + self._closed
        if command.action is Action.MARK:
            last = before.rstrip(" ")[-1:]
            if last == command.text:
                return  # Whisper wrote the mark already
            if last and last in JOINING_MARKS and self._closed.rstrip(" "):
                self._closed = self._closed.rstrip(" ")[:-1]  # the mark said takes the place of the one written
            self._closed += command.text
        elif command.action is Action.BREAK:
            self._closed += command.text
        elif command.action is Action.OPEN_QUOTE:
            space = "" if not before or before.endswith(("\n", " ")) else " "
            self._closed += space + command.text
            self._glue_next = True
        elif command.action is Action.CLOSE_QUOTE:
            self._closed += command.text
        elif command.action is Action.SCRATCH:
            if self._starts:
                self._closed = self._closed[: self._starts.pop()]
        elif command.action is Action.STOP:
            self.stop_requested = True

    def _render(self, words: Sequence[Word], final: bool) -> str:
        """The text of an utterance's words (only those that cannot change any more unless `final`)."""
        texts = [word.text for word in words]
        if not final:
            texts = texts[: len(texts) - self._held(texts)]
        if not texts:
            return ""
        profile = self.profile
        before = self._context + self._closed
        if profile.vocabulary.replacements:
            texts = replace_words(texts, profile.vocabulary.replacements, starts_sentence(before))
        if profile.fillers:
            texts = remove_fillers(texts, profile.language)
        text = "".join(texts)
        if profile.numbers:
            text = digits(text, profile.language)
        if profile.continue_text or profile.commands:
            text = self._continued(text, before)
        return text

    def _continued(self, text: str, before: str) -> str:
        """`text` spaced and capitalised to follow `before`."""
        if not text.strip():
            return ""
        first = text.split()[0]
        mark_only = first[0] in JOINING_MARKS and not word_key(first)  # a mark committed after its sentence
        glued = not before or before.endswith("\n") or self._glue_next or mark_only
        text = text.lstrip() if glued else " " + text.lstrip()
        keep = self.profile.vocabulary.terms
        if self.profile.chat and not before.strip():
            return decapitalized(text, keep)
        return capitalized(text) if starts_sentence(before) else decapitalized(text, keep)

    def _held(self, texts: Sequence[str]) -> int:
        """How many trailing words of the open utterance may still change what they become."""
        held = 0
        keys = keys_of(list(texts))
        if keys and self._commands is not None and self._commands.could_start(keys):
            return len(texts)  # a possible command
        if not keys and self._after_command:
            return len(texts)  # the mark of the command before, which goes with it
        if self.profile.numbers:
            held = unfinished_number(texts, self.profile.language)
        for rule in self.profile.vocabulary.replacements:
            heard = [word_key(part) for part in rule.heard.split()]
            for size in range(min(len(heard) - 1, len(texts)), 0, -1):
                if [word_key(text) for text in texts[-size:]] == heard[:size]:
                    held = max(held, size)
                    break
        return held


def process_words(words: Sequence[Word], profile: Profile, context: str = "") -> str:
    """The stage's text for words that are all there (a file, a restored session): pauses bound the phrases."""
    stage = TextStage(profile, context)
    stage.add(words)
    stage.finish()
    return stage.text


def feed_event(stage: TextStage, event: object) -> TextEdit | None:
    """Give the stage what it takes from an engine event: committed words, an end of utterance; else None."""
    from dictate.streaming.events import Committed, UtteranceEnd

    if isinstance(event, Committed):
        return stage.add(event.words)
    if isinstance(event, UtteranceEnd):
        return stage.end_utterance()
    return None
