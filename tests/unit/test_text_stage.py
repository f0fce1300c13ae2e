"""The text stage over word sequences: commands, formatting switches, profiles, and edits that only grow."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dictate.streaming.guards import word_key
from dictate.text.commands import ENGLISH
from dictate.text.formatting import FILLERS
from dictate.text.profiles import BUILTIN_PROFILES, Profile, load_profiles, profile_named
from dictate.text.stage import PHRASE_PAUSE_S, TextStage, process_words
from dictate.text.vocabulary import Replacement, Vocabulary, VocabularyError
from dictate.transcript.types import Word

DICTATION = BUILTIN_PROFILES["dictation"]
CHAT = BUILTIN_PROFILES["chat"]


def phrases(*spoken: str) -> list[Word]:
    """Timed words: the words of one phrase 0.3 s apart, a 1-s pause between phrases."""
    words, clock = [], 0.0
    for phrase in spoken:
        for text in phrase.split():
            words.append(Word(clock, clock + 0.3, " " + text))
            clock += 0.3
        clock += 1.0
    return words


def streamed(words: list[Word], profile: Profile) -> tuple[str, list]:
    """The text a consumer builds from the stage's edits, one word at a time, and the edits."""
    stage, text, edits = TextStage(profile), "", []
    for word in words:
        edits.append(stage.add([word]))
        text = edits[-1].apply(text)
    edits.append(stage.finish())
    return edits[-1].apply(text), edits


@pytest.mark.parametrize(("spoken", "expected"), [
    (["Dear team.", "New paragraph.", "The build is green."], "Dear team.\n\nThe build is green."),
    (["First line", "new line", "second line"], "First line\nSecond line"),
    (["Is it ready", "Question mark."], "Is it ready?"),
    (["Dear John.", "Comma.", "Thanks for the report."], "Dear John, thanks for the report."),
    (["It works.", "Period."], "It works."),  # Whisper wrote the mark already: not doubled
    (["He said", "open quote", "hello", "close quote"], 'He said "hello"'),
    (["Keep this.", "Drop this sentence.", "Scratch that."], "Keep this."),
    (["Write the word", "literally period"], "Write the word period"),
    (["The period of time was long."], "The period of time was long."),  # inside other words: left alone
    (["We need a new paragraph here."], "We need a new paragraph here."),
])
def test_commands_said_as_their_own_phrase(spoken: list[str], expected: str) -> None:
    assert process_words(phrases(*spoken), DICTATION) == expected


def test_a_mark_committed_on_its_own_joins_the_word_before_it() -> None:
    words = [*phrases("Ask what you can do for your country"), Word(4.0, 4.1, " .")]
    assert process_words(words, DICTATION) == "Ask what you can do for your country."


def test_scratch_that_takes_the_mark_committed_after_the_utterance_with_it() -> None:
    stage = TextStage(DICTATION)
    stage.add(phrases("Keep this."))
    stage.add([Word(3.0, 3.3, " Drop"), Word(3.3, 3.6, " this")])
    stage.end_utterance()
    assert stage.add([Word(3.9, 4.0, " .")]).insert == "."  # shown at once, not held as a possible command
    stage.add([Word(5.0, 5.3, " Scratch"), Word(5.3, 5.6, " that.")])
    stage.finish()
    assert stage.text == "Keep this."


def test_the_mark_whisper_commits_after_a_command_goes_with_it() -> None:
    """As the engine commits them: the command's "." comes on its own after the end of utterance."""
    stage, text = TextStage(DICTATION), ""
    steps = [[Word(1.9, 2.2, " silly")], "end", [Word(2.2, 2.2, "."), Word(4.0, 4.2, " New"),
             Word(4.2, 4.5, " paragraph")], "end", [Word(4.5, 4.5, ".")], [Word(6.5, 6.9, " I")], "end",
             [Word(6.9, 6.9, "."), Word(8.0, 8.8, " Scratch"), Word(8.8, 9.1, " that")], "end",
             [Word(9.1, 9.1, ".")], [Word(10.8, 11.0, " Fine.")]]
    edits = []
    for step in steps:
        edits.append(stage.end_utterance() if step == "end" else stage.add(step))
        text = edits[-1].apply(text)
    text = stage.finish().apply(text)
    assert text == stage.text == "Silly.\n\nFine."
    assert sum(edit.delete for edit in edits) == len("I.")  # only what "scratch that" took back


def test_a_command_without_a_pause_before_it_is_text() -> None:
    words = phrases("the end of the first period")
    assert process_words(words, DICTATION) == "The end of the first period"


def test_scratch_that_removes_only_this_dictations_text() -> None:
    stage = TextStage(DICTATION, context="Earlier text.")
    stage.add(phrases("Scratch that.", "Scratch that."))
    stage.finish()
    assert stage.text == ""


def test_stop_dictating_is_reported_and_not_written() -> None:
    stage = TextStage(DICTATION)
    stage.add(phrases("Done for today.", "Stop dictating."))
    stage.finish()
    assert stage.stop_requested and stage.text == "Done for today."


def test_commands_can_be_switched_off() -> None:
    profile = Profile(continue_text=True)
    assert process_words(phrases("Hello.", "New paragraph."), profile) == "Hello. New paragraph."


def test_numbers_become_digits_only_when_complete() -> None:
    text, edits = streamed(phrases("I counted one hundred and twenty five birds."), DICTATION)
    assert text == "I counted 125 birds."
    assert all(edit.delete == 0 for edit in edits)  # "one", "one hundred" never shown and taken back


def test_fillers_are_removed_and_their_capital_passes_on() -> None:
    assert process_words(phrases("Um, the meeting is uh at noon."), DICTATION) == "The meeting is at noon."


def test_fillers_are_per_language() -> None:
    german = Profile(fillers=True, language="de")
    assert process_words(phrases("Ich habe um acht ähm Zeit."), german).strip() == "Ich habe um acht Zeit."


def test_chat_style_has_no_capital_at_the_start_and_no_trailing_period() -> None:
    text, edits = streamed(phrases("See you at five.", "Bring the slides."), CHAT)
    assert text == "see you at 5. Bring the slides"
    assert all(edit.delete == 0 for edit in edits)  # the trailing period is held, never typed and erased


def test_a_dictation_continues_the_text_before_it() -> None:
    stage = TextStage(DICTATION, context="I bought apples and")
    stage.add(phrases("Pears from the market."))
    stage.finish()
    assert stage.text == " pears from the market."
    after_sentence = TextStage(DICTATION, context="I bought apples.")
    after_sentence.add(phrases("pears too."))
    after_sentence.finish()
    assert after_sentence.text == " Pears too."


def test_replacements_whole_words_with_case_at_sentence_starts() -> None:
    rules = (Replacement("kubernetties", "Kubernetes"), Replacement("post gress", "postgres"))
    profile = Profile(vocabulary=Vocabulary(replacements=rules))
    words = phrases("Kubernetties runs post gress. Post gress is fast; kubernettiesx stays.")
    text, edits = streamed(words, profile)
    assert text == " Kubernetes runs postgres. Postgres is fast; kubernettiesx stays."
    assert all(edit.delete == 0 for edit in edits)


def test_a_name_in_the_vocabulary_keeps_its_capital_mid_sentence() -> None:
    profile = Profile(continue_text=True, vocabulary=Vocabulary(terms=("Kubernetes",)))
    stage = TextStage(profile, context="We deploy with")
    stage.add(phrases("Kubernetes today."))
    stage.finish()
    assert stage.text == " Kubernetes today."


def test_profiles_file_adds_profiles_and_rejects_bad_ones(tmp_path) -> None:
    path = tmp_path / "profiles.json"
    path.write_text('{"notes": {"numbers": true}}', encoding="utf-8")
    profiles = load_profiles(path)
    assert profiles["notes"] == Profile(name="notes", numbers=True)
    assert set(BUILTIN_PROFILES) <= set(profiles)
    path.write_text('{"notes": {"numbers": "yes"}}', encoding="utf-8")
    with pytest.raises(VocabularyError, match="notes"):
        load_profiles(path)
    with pytest.raises(VocabularyError, match="no profile 'nope'"):
        profile_named("nope", path=path.with_name("missing.json"))


# --- properties over any words ---------------------------------------------------------------------------

WORD_TEXT = st.one_of(
    st.sampled_from([" um", " Uh,", " new", " paragraph.", " period", " scratch", " that", " twenty", " five",
                     " and", " I", " the", " Cat.", " literally", " comma", " stop", " dictating", ",", " ?"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8).map(lambda t: " " + t),
)
TIMED_WORDS = st.lists(st.tuples(WORD_TEXT, st.floats(0.0, 1.2)), max_size=25).map(
    lambda items: [Word(start, start + 0.2, text) for text, start in _clocked(items)])


def _clocked(items: list[tuple[str, float]]) -> list[tuple[str, float]]:
    clock, result = 0.0, []
    for text, gap in items:
        clock += gap
        result.append((text, clock))
        clock += 0.2
    return result


@settings(max_examples=300, deadline=None)
@given(TIMED_WORDS, st.lists(st.integers(0, 25), max_size=4))
def test_the_default_profile_is_the_identity(words: list[Word], utterance_ends: list[int]) -> None:
    stage, text = TextStage(Profile()), ""
    for index, word in enumerate(words):
        text = stage.add([word]).apply(text)
        assert text == "".join(w.text for w in words[: index + 1])  # shown at once, nothing held
        if index in utterance_ends:
            text = stage.end_utterance().apply(text)
    assert stage.finish().apply(text) == "".join(word.text for word in words)


@settings(max_examples=300, deadline=None)
@given(TIMED_WORDS)
def test_the_stage_never_loses_a_word_that_is_not_a_filler(words: list[Word]) -> None:
    profile = Profile(fillers=True, continue_text=True)
    kept = " ".join(word_key(word.text) for word in words if word_key(word.text) not in FILLERS["en"])
    out = " ".join(word_key(token) for token in process_words(words, profile).split())
    assert kept.split() == out.split()


@settings(max_examples=200, deadline=None)
@given(TIMED_WORDS)
def test_edits_rebuild_the_stage_text(words: list[Word]) -> None:
    stage, text = TextStage(DICTATION), ""
    for word in words:
        text = stage.add([word]).apply(text)
        assert text == stage.text
    assert stage.finish().apply(text) == stage.text


def test_every_english_command_is_recognised_alone() -> None:
    for command in ENGLISH.commands:
        stage = TextStage(DICTATION, context="Text")
        stage.add(phrases(command.phrase.capitalize() + "."))
        stage.finish()
        assert command.phrase not in stage.text.lower(), command.phrase


def test_pause_threshold_separates_phrases() -> None:
    close = [Word(0.0, 0.3, " Hello"), Word(0.3 + PHRASE_PAUSE_S * 0.5, 0.9, " period")]
    apart = [Word(0.0, 0.3, " Hello"), Word(0.3 + PHRASE_PAUSE_S, 1.2, " period")]
    assert process_words(close, DICTATION) == "Hello period"
    assert process_words(apart, DICTATION) == "Hello."
