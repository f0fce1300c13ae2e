"""Whisper's tokenizer on tiktoken, built offline from the vocabulary that ships with the weights.

The CTranslate2 `vocabulary.txt` lists one token per line, in id order, spelled with
GPT-2's byte-to-unicode table. Ids below `<|endoftext|>` are byte-level BPE tokens
whose ranks equal their ids; everything from `<|endoftext|>` on is a special token
(language tokens, task tokens, `<|notimestamps|>` and the 1501 timestamps).
"""

from __future__ import annotations

import json

import string
from collections.abc import Sequence
from functools import cached_property, lru_cache
from pathlib import Path

import tiktoken

from dictate.constants import TIME_PRECISION

# GPT-2's pre-tokenisation regex, as openai-whisper and tiktoken's "gpt2" use it.
GPT2_PATTERN = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

# Language codes in Whisper's token order (openai-whisper `tokenizer.LANGUAGES`).
LANGUAGES: dict[str, str] = {
    "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian",
    "ko": "korean", "fr": "french", "ja": "japanese", "pt": "portuguese", "tr": "turkish",
    "pl": "polish", "ca": "catalan", "nl": "dutch", "ar": "arabic", "sv": "swedish",
    "it": "italian", "id": "indonesian", "hi": "hindi", "fi": "finnish", "vi": "vietnamese",
    "he": "hebrew", "uk": "ukrainian", "el": "greek", "ms": "malay", "cs": "czech",
    "ro": "romanian", "da": "danish", "hu": "hungarian", "ta": "tamil", "no": "norwegian",
    "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian",
    "la": "latin", "mi": "maori", "ml": "malayalam", "cy": "welsh", "sk": "slovak",
    "te": "telugu", "fa": "persian", "lv": "latvian", "bn": "bengali", "sr": "serbian",
    "az": "azerbaijani", "sl": "slovenian", "kn": "kannada", "et": "estonian", "mk": "macedonian",
    "br": "breton", "eu": "basque", "is": "icelandic", "hy": "armenian", "ne": "nepali",
    "mn": "mongolian", "bs": "bosnian", "kk": "kazakh", "sq": "albanian", "sw": "swahili",
    "gl": "galician", "mr": "marathi", "pa": "punjabi", "si": "sinhala", "km": "khmer",
    "sn": "shona", "yo": "yoruba", "so": "somali", "af": "afrikaans", "oc": "occitan",
    "ka": "georgian", "be": "belarusian", "tg": "tajik", "sd": "sindhi", "gu": "gujarati",
    "am": "amharic", "yi": "yiddish", "lo": "lao", "uz": "uzbek", "fo": "faroese",
    "ht": "haitian creole", "ps": "pashto", "tk": "turkmen", "nn": "nynorsk", "mt": "maltese",
    "sa": "sanskrit", "lb": "luxembourgish", "my": "myanmar", "bo": "tibetan", "tl": "tagalog",
    "mg": "malagasy", "as": "assamese", "tt": "tatar", "haw": "hawaiian", "ln": "lingala",
    "ha": "hausa", "ba": "bashkir", "jw": "javanese", "su": "sundanese", "yue": "cantonese",
}  # fmt: skip

TASKS = ("transcribe", "translate")

# Languages written without spaces: words are split at unicode code points instead.
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "th", "lo", "my", "yue"})

VOCABULARY_FILES = ("vocabulary.txt", "vocabulary.json")  # CTranslate2 < 4 writes .txt, >= 4 .json
EOT_TOKEN = "<|endoftext|>"


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character table."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    table = {byte: chr(byte) for byte in printable}
    extra = 0
    for byte in range(256):
        if byte not in table:
            table[byte] = chr(256 + extra)
            extra += 1
    return table


def find_vocabulary(model_dir: Path) -> Path:
    """The CTranslate2 vocabulary file of a weights or prepared-model folder."""
    for name in VOCABULARY_FILES:
        if (model_dir / name).is_file():
            return model_dir / name
    raise FileNotFoundError(f"tokenizer vocabulary not found in {model_dir}: expected one of "
                            f"{', '.join(VOCABULARY_FILES)} (re-prepare the model)")


def read_vocabulary(path: Path) -> list[str]:
    """Token strings in id order from `vocabulary.txt` (one per line) or `vocabulary.json` (a list)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    return text.removesuffix("\n").split("\n")


@lru_cache(maxsize=4)
def load_encoding(vocabulary_path: Path) -> tiktoken.Encoding:
    """A tiktoken `Encoding` with the BPE ranks and Whisper's special tokens of one vocabulary."""
    tokens = read_vocabulary(vocabulary_path)
    byte_of = {char: byte for byte, char in bytes_to_unicode().items()}
    eot = tokens.index(EOT_TOKEN)
    ranks = {bytes(byte_of[char] for char in token): rank for rank, token in enumerate(tokens[:eot])}
    specials = {token: token_id for token_id, token in enumerate(tokens) if token_id >= eot}
    return tiktoken.Encoding(
        name=f"whisper-{len(tokens)}", pat_str=GPT2_PATTERN, mergeable_ranks=ranks, special_tokens=specials
    )


class Tokenizer:
    """Text <-> token ids for one Whisper vocabulary, with the special tokens by name."""

    def __init__(self, encoding: tiktoken.Encoding) -> None:
        self.encoding = encoding
        self._special = encoding._special_tokens  # name -> id; tiktoken keeps no public accessor

    @classmethod
    def from_model_dir(cls, model_dir: Path) -> Tokenizer:
        """The tokenizer of a weights or prepared-model folder (reads its vocabulary file)."""
        return cls(load_encoding(find_vocabulary(Path(model_dir).resolve())))

    def special(self, name: str) -> int:
        """The id of a special token, e.g. `special("<|en|>")`."""
        return self._special[name]

    @cached_property
    def eot(self) -> int:
        return self.special(EOT_TOKEN)

    @cached_property
    def sot(self) -> int:
        return self.special("<|startoftranscript|>")

    @cached_property
    def transcribe(self) -> int:
        return self.special("<|transcribe|>")

    @cached_property
    def translate(self) -> int:
        return self.special("<|translate|>")

    @cached_property
    def sot_lm(self) -> int:
        return self.special("<|startoflm|>")

    @cached_property
    def sot_prev(self) -> int:
        return self.special("<|startofprev|>")

    @cached_property
    def no_speech(self) -> int:
        return self._special.get("<|nospeech|>", self._special.get("<|nocaptions|>", -1))

    @cached_property
    def no_timestamps(self) -> int:
        return self.special("<|notimestamps|>")

    @cached_property
    def timestamp_begin(self) -> int:
        return self.special("<|0.00|>")

    @property
    def n_vocab(self) -> int:
        return self.encoding.n_vocab

    @cached_property
    def multilingual(self) -> bool:
        """Multilingual vocabularies have one more BPE token (51865 ids vs 51864)."""
        return self.n_vocab >= 51865

    @cached_property
    def language_tokens(self) -> tuple[int, ...]:
        """The `<|xx|>` tokens, which lie between `<|startoftranscript|>` and `<|translate|>`."""
        return tuple(range(self.sot + 1, self.translate))

    @cached_property
    def language_codes(self) -> tuple[str, ...]:
        """The language codes this vocabulary has tokens for, in token order."""
        return tuple(self.encoding.decode_single_token_bytes(t).decode()[2:-2] for t in self.language_tokens)

    def language_token(self, language: str) -> int:
        """The `<|xx|>` token of a language code; `ValueError` for an unknown code."""
        if language not in self.language_codes:
            raise ValueError(f"unknown language code {language!r}; known: {', '.join(self.language_codes)}")
        return self.special(f"<|{language}|>")

    def sot_sequence(self, language: str | None = "en", task: str = "transcribe") -> tuple[int, ...]:
        """`<|startoftranscript|>` (+ language + task on multilingual vocabularies)."""
        if task not in TASKS:
            raise ValueError(f"unknown task {task!r}; expected one of {TASKS}")
        if not self.multilingual:
            return (self.sot,)
        return (self.sot, self.language_token(language or "en"), getattr(self, task))

    def encode(self, text: str) -> list[int]:
        """Ordinary text -> ids (special-token spellings are encoded as plain text)."""
        return self.encoding.encode_ordinary(text)

    def decode(self, tokens: Sequence[int]) -> str:
        """Ids -> text, dropping timestamp tokens."""
        return self.encoding.decode([t for t in tokens if t < self.timestamp_begin])

    def decode_with_timestamps(self, tokens: Sequence[int]) -> str:
        """Ids -> text with timestamps spelled `<|1.08|>`."""
        return self.encoding.decode(list(tokens))

    def timestamp_seconds(self, token: int) -> float:
        """Seconds (from the window start) of a timestamp token."""
        return (token - self.timestamp_begin) * TIME_PRECISION

    @cached_property
    def non_speech_tokens(self) -> tuple[int, ...]:
        """Tokens of speaker tags and non-speech annotations (♪, brackets, ...), as openai-whisper."""
        symbols = list('"#()*+/:;<=>@[\\]^_`{|}~「」『』')
        symbols += "<< >> <<< >>> -- --- -( -[ (' (\" (( )) ((( ))) [[ ]] {{ }} ♪♪ ♪♪♪".split()
        # one-character symbols U+2640..U+267F share their first UTF-8 bytes: suppress the first token
        miscellaneous = set("♩♪♫♬♭♮♯")
        result = {self.encode(" -")[0], self.encode(" '")[0]}
        for symbol in symbols + sorted(miscellaneous):
            for tokens in (self.encode(symbol), self.encode(" " + symbol)):
                if len(tokens) == 1 or symbol in miscellaneous:
                    result.add(tokens[0])
        return tuple(sorted(result))

    def split_to_word_tokens(
        self, tokens: Sequence[int], language: str = "en"
    ) -> tuple[list[str], list[list[int]]]:
        """Group tokens into words: at spaces/punctuation, or at code points for unspaced scripts."""
        if language in UNSPACED_LANGUAGES:
            return self.split_tokens_on_unicode(tokens)
        return self.split_tokens_on_spaces(tokens)

    def split_tokens_on_unicode(self, tokens: Sequence[int]) -> tuple[list[str], list[list[int]]]:
        """Split wherever the decoded text so far ends on a whole unicode character."""
        decoded_full = self.decode_with_timestamps(tokens)
        replacement_char = "\ufffd"
        words: list[str] = []
        word_tokens: list[list[int]] = []
        current: list[int] = []
        unicode_offset = 0
        for token in tokens:
            current.append(token)
            decoded = self.decode_with_timestamps(current)
            index = decoded.find(replacement_char)
            if index < 0 or (
                index + unicode_offset < len(decoded_full) and decoded_full[index + unicode_offset] == replacement_char
            ):
                words.append(decoded)
                word_tokens.append(current)
                current = []
                unicode_offset += len(decoded)
        return words, word_tokens

    def split_tokens_on_spaces(self, tokens: Sequence[int]) -> tuple[list[str], list[list[int]]]:
        """Start a new word at a leading space, a punctuation mark or a special token."""
        words: list[str] = []
        word_tokens: list[list[int]] = []
        for subword, subword_tokens in zip(*self.split_tokens_on_unicode(tokens)):
            special = subword_tokens[0] >= self.eot
            with_space = subword.startswith(" ")
            punctuation = subword.strip() in string.punctuation
            if special or with_space or punctuation or not words:
                words.append(subword)
                word_tokens.append(subword_tokens)
            else:
                words[-1] += subword
                word_tokens[-1].extend(subword_tokens)
        return words, word_tokens
