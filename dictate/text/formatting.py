"""Formatting steps of the text stage over one utterance's word texts (each with its leading space).

Every step takes and returns a list of word texts, so the stage can run them in order
and keep words it has not finished with (an unfinished number) out of the output.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from text_to_num import alpha2digit

from dictate.streaming.guards import word_key
from dictate.text.vocabulary import Replacement

SENTENCE_MARKS = (".", "?", "!")
JOINING_MARKS = ".,?!:;"  # marks written against the word before them
FILLERS: dict[str, frozenset[str]] = {  # per language: "um" is a word in German
    "en": frozenset({"um", "umm", "uh", "uhm", "er", "erm"}),
    "de": frozenset({"äh", "ähm", "öh"}),
    "fr": frozenset({"euh", "heu"}),
    "es": frozenset({"eh", "em", "este"}),
}
NUMBER_LANGUAGES = frozenset({"en", "fr", "es", "pt", "de", "nl", "da", "it"})  # what text2num reads
ENGLISH_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand million "
    "billion trillion".split())
NUMBER_JOINERS = frozenset({"and", "point", "minus", "a"})  # words that can carry a number on
FIRST_PERSON = re.compile(r"^I(?:'[a-z]+)?$")  # "I", "I'm", "I'll": capital anywhere
_WORD_PARTS = re.compile(r"^(\s*)([\"'(\[]*)(.*?)([.,?!:;\"')\]]*)$", re.DOTALL)


def split_word(text: str) -> tuple[str, str, str, str]:
    """(leading space, opening marks, core, closing marks) of a word text."""
    match = _WORD_PARTS.match(text)
    assert match is not None  # the pattern matches any string
    return match.group(1), match.group(2), match.group(3), match.group(4)


def starts_sentence(before: str) -> bool:
    """Whether text written after `before` begins a sentence (or a line)."""
    stripped = before.rstrip(" \t")
    return not stripped or stripped.endswith((*SENTENCE_MARKS, "\n"))


def _first_letter(text: str, case: str) -> str:
    """`text` with its first letter put in `case` ("upper" or "lower"), where that keeps it one letter."""
    for index, char in enumerate(text):
        if char.isalpha():
            changed = getattr(char, case)()
            same_letter = len(changed) == 1 and changed.lower() == char.lower()  # not "ß" -> "SS", "µ" -> "Μ"
            return text[:index] + (changed if same_letter else char) + text[index + 1 :]
    return text


def capitalized(text: str) -> str:
    """`text` with its first letter upper case."""
    return _first_letter(text, "upper")


def decapitalized(text: str, keep: Collection[str] = ()) -> str:
    """`text` with its first letter lower case, unless its first word looks like a name, "I", or is in `keep`."""
    words = text.split()
    core = split_word(words[0])[2] if words else ""
    if not core or FIRST_PERSON.match(core) or core in keep or core[1:] != core[1:].lower():
        return text
    return _first_letter(text, "lower")


def replace_words(texts: Sequence[str], rules: Sequence[Replacement], sentence_start: bool) -> list[str]:
    """Whole-word replacements: the words of a rule's `heard` side (any case) become its `written` side.

    The replacement keeps the first word's leading space and opening marks and the last
    word's closing marks; at a sentence start it begins with a capital.
    """
    ordered = sorted(rules, key=lambda rule: -len(rule.heard.split()))
    keys = [word_key(text) for text in texts]
    result: list[str] = []
    index = 0
    while index < len(texts):
        for rule in ordered:
            heard = [word_key(word) for word in rule.heard.split()]
            if keys[index : index + len(heard)] == heard:
                space, opening, _, _ = split_word(texts[index])
                closing = split_word(texts[index + len(heard) - 1])[3]
                at_start = sentence_start if index == 0 else texts[index - 1].rstrip().endswith(SENTENCE_MARKS)
                written = capitalized(rule.written) if at_start else rule.written
                result.append(f"{space}{opening}{written}{closing}")
                index += len(heard)
                break
        else:
            result.append(texts[index])
            index += 1
    return result


def remove_fillers(texts: Sequence[str], language: str) -> list[str]:
    """The words without filler words ("um", "uh"); a filler's sentence mark and capital pass to its neighbours."""
    fillers = FILLERS.get(language, frozenset())
    result: list[str] = []
    capital_next = False
    for text in texts:
        space, opening, core, closing = split_word(text)
        if word_key(text) in fillers:
            mark = closing.strip(",;:")
            if mark and result and not result[-1].endswith(tuple(JOINING_MARKS)):
                result[-1] += mark
            capital_next = capital_next or core[:1].isupper()
            continue
        if capital_next:
            text, capital_next = capitalized(text), False
        result.append(text)
    return result


def digits(text: str, language: str) -> str:
    """Spelled-out numbers as digits ("twenty five" -> "25"), by text2num; unchanged where it has no rules."""
    if language not in NUMBER_LANGUAGES or not text.strip():
        return text
    return alpha2digit(text, language)


def unfinished_number(texts: Sequence[str], language: str) -> int:
    """How many trailing words may still grow into a longer number (all of them where the words are unknown)."""
    if language != "en":
        return len(texts)
    run: list[list[str]] = []  # the trailing number words and joiners, last first
    for text in reversed(texts):
        parts = word_key(text.replace("-", " ")).split() or [""]
        if not all(part in ENGLISH_NUMBER_WORDS or part in NUMBER_JOINERS for part in parts):
            break
        run.append(parts)
    while run and all(part in NUMBER_JOINERS for part in run[-1]):  # a number does not start with "and"
        run.pop()
    return len(run) if any(part in ENGLISH_NUMBER_WORDS for parts in run for part in parts) else 0
