"""Profiles: named sets of the text stage's switches. The default one changes nothing.

Built in: "plain" (the default: the words as Whisper wrote them), "dictation" (spoken
commands, numbers as digits, no fillers, text that continues the text before it) and
"chat" (dictation without the capital at the start or the trailing period). More can be
defined in `profiles.json` in the config folder:

    {"email": {"commands": true, "numbers": false, "fillers": true}}

Keys not given take their "plain" value; the user's vocabulary applies in every profile.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from pathlib import Path

from dictate.text.vocabulary import Vocabulary, VocabularyError, config_dir

PROFILES_FILE = "profiles.json"
DEFAULT_PROFILE = "plain"


@dataclass(frozen=True)
class Profile:
    """What the text stage does to the committed words."""

    name: str = DEFAULT_PROFILE
    commands: bool = False  # act on spoken commands said as their own phrase
    numbers: bool = False  # spelled-out numbers as digits
    fillers: bool = False  # remove filler words
    continue_text: bool = False  # capitals and spacing that continue the text before
    chat: bool = False  # no capital at the start, no trailing period
    language: str = "en"  # which command table, filler list and number words
    vocabulary: Vocabulary = Vocabulary()  # replacement rules applied to whole words

    @property
    def is_identity(self) -> bool:
        """Whether the stage gives the words exactly as they came."""
        switches = (self.commands, self.numbers, self.fillers, self.continue_text, self.chat)
        return not any(switches) and not self.vocabulary.replacements


BUILTIN_PROFILES: dict[str, Profile] = {
    "plain": Profile(),
    "dictation": Profile(name="dictation", commands=True, numbers=True, fillers=True, continue_text=True),
    "chat": Profile(name="chat", commands=True, numbers=True, fillers=True, continue_text=True, chat=True),
}
SWITCHES = tuple(field.name for field in fields(Profile) if field.type == "bool")


def profiles_path() -> Path:
    return config_dir() / PROFILES_FILE


def load_profiles(path: Path | None = None) -> dict[str, Profile]:
    """The built-in profiles plus those in the user's profiles file. Raises VocabularyError for a bad file."""
    path = profiles_path() if path is None else path
    profiles = dict(BUILTIN_PROFILES)
    if not path.exists():
        return profiles
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise VocabularyError(f"Cannot read the profiles file {path}: {error}.") from None
    if not isinstance(data, dict):
        raise VocabularyError(f"The profiles file {path} must hold an object of named profiles.")
    for name, switches in data.items():
        if not isinstance(switches, dict) or not all(
                key in SWITCHES and isinstance(value, bool) for key, value in switches.items()):
            raise VocabularyError(
                f"The profiles file {path}: profile {name!r} may only set {', '.join(SWITCHES)} to true or false.")
        profiles[name] = replace(Profile(name=name), **switches)
    return profiles


def profile_named(name: str, vocabulary: Vocabulary = Vocabulary(), language: str = "en",
                  path: Path | None = None) -> Profile:
    """The profile called `name` with the user's vocabulary. Raises VocabularyError for an unknown name."""
    profiles = load_profiles(path)
    if name not in profiles:
        raise VocabularyError(f"There is no profile {name!r} (profiles: {', '.join(profiles)}).")
    return replace(profiles[name], vocabulary=vocabulary, language=language)
