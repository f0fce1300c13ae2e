"""Spoken commands through `dictate stream --fast --profile dictation`, on real speech.

Each test file joins LibriSpeech utterances that tiny.en transcribes well with a command said as its own
phrase, synthesised by espeak-ng, with PAUSE_S of silence after every piece (the VAD ends the utterance,
and the pause is longer than the text stage's PHRASE_PAUSE_S). tiny.en's own errors are allowed for by
comparing with the words the engine committed for each piece (the `--events` log of the same run) or with
what the default profile writes for the same file, never with the LibriSpeech reference.

Every file is built and streamed once per module; one run serves several assertions. The paragraph file's
one run writes every export: the CLI's transcript goes to each exporter (see `stream`). The default
profile's run of the "scratch that" file shows that without a profile the command words stay words.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from whisper_normalizer.english import EnglishTextNormalizer

from dictate import cli
from dictate.streaming.guards import word_key
from dictate.transcript import exporters
from dictate.transcript.types import Transcript, Word
from tests.scripted_speech import (
    COMMAND_VOICE,
    PAUSE_S,
    JoinedFile,
    build_joined,
    espeak,
    librispeech,
    spoken_piece,
)

FORMATS = ("txt", "srt", "vtt", "json", "md")
normalise = EnglishTextNormalizer()


@dataclass(frozen=True)
class Run:
    """One `dictate stream` run: its exports and the words the engine committed."""

    exports: dict[str, str]  # format -> file text (json always)
    words: list[Word]

    @property
    def text(self) -> str:
        """The transcript's text (json's "text")."""
        return json.loads(self.exports["json"])["text"]

    def words_of(self, file: JoinedFile, piece: int) -> list[Word]:
        """The committed words said during a piece (its span widened by half the pause on each side)."""
        start, end = file.spans[piece]
        return [w for w in self.words if start - PAUSE_S / 2 <= (w.start + w.end) / 2 < end + PAUSE_S / 2]


def keys(text: str) -> str:
    """Word keys (lower case, no punctuation) joined by single spaces."""
    return " ".join(k for k in (word_key(t) for t in text.split()) if k)


def said(words: Sequence[Word]) -> str:
    return "".join(w.text for w in words)


@contextmanager
def every_export_written() -> Iterator[None]:
    """While active, the CLI's `write_transcript(transcript, out.EXT)` also writes out.<each other format>."""
    write = exporters.write_transcript

    def write_all(transcript: Transcript, path: str | Path, fmt: str | None = None) -> Path:
        for other in FORMATS:
            write(transcript, Path(path).with_suffix(f".{other}"), other)
        return write(transcript, path, fmt)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(exporters, "write_transcript", write_all)
        yield


def stream(file: JoinedFile, profile: str | None, all_formats: bool = False) -> Run:
    """`dictate stream --input FILE --fast --no-journal [--profile NAME] -o out.json --events out.jsonl`.

    `profile` None: no --profile option (the default). `all_formats`: the run's transcript is written in
    every export format (the CLI writes one, by -o's extension; exporting is a pure function of the transcript).
    """
    stem = file.wav.with_name(f"{file.wav.stem}-{profile or 'default'}")
    out, events = stem.with_suffix(".json"), stem.with_suffix(".jsonl")
    argv = ["stream", "--input", str(file.wav), "--fast", "--no-journal", "-o", str(out), "--events", str(events)]
    argv += ["--profile", profile] if profile else []
    if all_formats:
        with every_export_written():
            code = cli.main(argv)
    else:
        code = cli.main(argv)
    assert code == 0
    words = [Word(w["start"], w["end"], w["text"]) for line in events.read_text(encoding="utf-8").splitlines()
             if (record := json.loads(line))["type"] == "Committed" for w in record["words"]]
    exports = {fmt: stem.with_suffix(f".{fmt}").read_text(encoding="utf-8")
               for fmt in (FORMATS if all_formats else ("json",))}
    return Run(exports, words)


def assert_heard(run: Run, file: JoinedFile, piece: int, phrase: str) -> None:
    """The engine committed `phrase` for the piece (else the synthesised command was misheard: no stage test)."""
    heard = keys(said(run.words_of(file, piece)))
    assert heard == phrase, f"tiny.en heard the synthesised {phrase!r} as {heard!r}: try another voice or rate"


# --- "new paragraph" ---------------------------------------------------------------------------------------

PARAGRAPH_PIECES = ("1688-142285-0002", "new paragraph", "1688-142285-0003")  # A, command, B


@pytest.fixture(scope="module")
def paragraph_file(audio_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> JoinedFile:
    folder = tmp_path_factory.mktemp("paragraph")
    pieces = [spoken_piece(name, audio_dir, folder) for name in PARAGRAPH_PIECES]
    return build_joined(folder, "paragraph", pieces)


@pytest.fixture(scope="module")
def paragraph_run(paragraph_file: JoinedFile, tiny_model_dir: Path) -> Run:
    return stream(paragraph_file, "dictation", all_formats=True)


@pytest.fixture(scope="module")
def paragraph_texts(paragraph_run: Run, paragraph_file: JoinedFile) -> tuple[str, str]:
    """The word keys of what the engine committed for the utterances before and after the command."""
    assert_heard(paragraph_run, paragraph_file, 1, "new paragraph")
    return (keys(said(paragraph_run.words_of(paragraph_file, 0))),
            keys(said(paragraph_run.words_of(paragraph_file, 2))))


def stray_marks(text: str) -> list[str]:
    """Sentence marks that follow no word: at the start, after a space or a line break, or after another mark."""
    return re.findall(r"(?:^|\s)[.,?!:;]+|[.,?!:;]{2,}", text)


def cue_texts(export: str) -> list[str]:
    """The texts of an srt or vtt export's cues."""
    return [block.split(" --> ", 1)[1].split("\n", 1)[1] for block in export.strip().split("\n\n") if " --> " in block]


def test_new_paragraph_breaks_the_text_once(paragraph_run: Run, paragraph_texts: tuple[str, str]) -> None:
    txt = paragraph_run.exports["txt"]
    assert txt.endswith("\n") and "\n\n\n" not in txt and txt.count("\n\n") == 1, repr(txt)
    paragraphs = txt.rstrip("\n").split("\n\n")
    assert [keys(p) for p in paragraphs] == list(paragraph_texts), repr(txt)
    assert "new paragraph" not in keys(txt)


def test_new_paragraph_reaches_json(paragraph_run: Run, paragraph_texts: tuple[str, str]) -> None:
    document = json.loads(paragraph_run.exports["json"])
    assert document["text"] == paragraph_run.exports["txt"].rstrip("\n")
    # the segment that starts the second paragraph carries the break (the caption exports cut there)
    breaks = [keys(segment["text"]) for segment in document["segments"] if segment["text"].startswith("\n\n")]
    assert len(breaks) == 1 and paragraph_texts[1].startswith(breaks[0]), document["segments"]


def test_new_paragraph_starts_a_markdown_paragraph(paragraph_run: Run, paragraph_texts: tuple[str, str]) -> None:
    md = paragraph_run.exports["md"]
    # PAUSE_S is shorter than the pause that starts a Markdown paragraph by itself: the break does it
    bodies = [re.sub(r"^\*\*\[[\d:]+\]\*\* ", "", line) for line in md.splitlines() if line.startswith("**[")]
    assert [keys(body) for body in bodies] == list(paragraph_texts), md


@pytest.mark.parametrize("fmt", ["srt", "vtt"])
def test_new_paragraph_starts_a_caption_cue(paragraph_run: Run, paragraph_texts: tuple[str, str], fmt: str) -> None:
    cue_keys = [keys(cue) for cue in cue_texts(paragraph_run.exports[fmt])]
    before, after = paragraph_texts
    # the cues up to one hold the first utterance, the cues from it on the second
    split = next((n for n in range(1, len(cue_keys)) if " ".join(k for k in cue_keys[:n] if k) == before), None)
    assert split is not None and " ".join(k for k in cue_keys[split:] if k) == after, cue_keys
    assert "new paragraph" not in " ".join(cue_keys)


# --- "scratch that" ----------------------------------------------------------------------------------------

SCRATCH_PIECES = ("1089-134691-0000", "1688-142285-0008", "scratch that", "7902-96591-0000")  # A, B, command, C


@pytest.fixture(scope="module")
def scratch_file(audio_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> JoinedFile:
    folder = tmp_path_factory.mktemp("scratch")
    pieces = [spoken_piece(name, audio_dir, folder) for name in SCRATCH_PIECES]
    return build_joined(folder, "scratch", pieces)


@pytest.fixture(scope="module")
def scratch_plain(scratch_file: JoinedFile, tiny_model_dir: Path) -> Run:
    """The default profile's run (no --profile option)."""
    return stream(scratch_file, None)


@pytest.fixture(scope="module")
def scratch_dictation(scratch_file: JoinedFile, tiny_model_dir: Path) -> Run:
    return stream(scratch_file, "dictation")


def test_scratch_that_removes_exactly_the_last_utterance(scratch_file: JoinedFile, scratch_plain: Run,
                                                        scratch_dictation: Run) -> None:
    assert_heard(scratch_plain, scratch_file, 2, "scratch that")
    a, b, c = (normalise(said(scratch_plain.words_of(scratch_file, piece))) for piece in (0, 1, 3))
    assert a and b and c
    text = normalise(scratch_dictation.text)
    assert text == f"{a} {c}", (scratch_dictation.text, scratch_plain.text)
    assert not set(b.split()) & set(text.split()), scratch_dictation.text


def test_no_mark_is_left_over_from_a_command(paragraph_run: Run, scratch_dictation: Run) -> None:
    paragraphs = paragraph_run.exports["txt"].rstrip("\n").split("\n\n")
    assert all(paragraph[:1].isupper() for paragraph in paragraphs), paragraphs  # each starts a sentence
    md = [line.split("** ", 1)[1] for line in paragraph_run.exports["md"].splitlines() if line.startswith("**[")]
    outputs = [paragraph_run.exports["txt"], *md, *cue_texts(paragraph_run.exports["srt"]),
               *cue_texts(paragraph_run.exports["vtt"]), scratch_dictation.text]
    assert not [(output, stray_marks(output)) for output in outputs if stray_marks(output)]


def test_the_default_profile_writes_the_command_words(scratch_plain: Run) -> None:
    # the text as before profiles: the committed words joined, the command among them as words
    assert scratch_plain.text == said(scratch_plain.words).strip()
    assert " scratch that " in f" {keys(scratch_plain.text)} ", scratch_plain.text


# --- "period" inside a sentence ----------------------------------------------------------------------------

# "...the later traditions tend to extend the period" (real speech), then a synthesised sentence.
PERIOD_PIECES = ("2609-156975-0009", "The period of the study was long.")


@pytest.fixture(scope="module")
def period_file(audio_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> JoinedFile:
    folder = tmp_path_factory.mktemp("period")
    pieces = [librispeech(audio_dir, PERIOD_PIECES[0]), espeak(PERIOD_PIECES[1], folder, COMMAND_VOICE)]
    return build_joined(folder, "period", pieces)


def test_period_inside_a_sentence_is_a_word(period_file: JoinedFile, tiny_model_dir: Path) -> None:
    run = stream(period_file, "dictation")
    for piece in (0, 1):
        assert "period" in keys(said(run.words_of(period_file, piece))).split(), said(run.words)
    assert keys(run.text).split().count("period") == 2, run.text
    assert normalise(run.text) == normalise(said(run.words)), (run.text, said(run.words))
    assert not stray_marks(run.text), run.text
