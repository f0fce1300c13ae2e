"""Improve Transcript's changes: word by word against the shown text, the user's own words kept apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from dictate.transcript.improve import apply_changes, suggest_changes


def test_only_differing_words_change_and_case_or_punctuation_alone_is_no_change():
    changes = suggest_changes("the cat sat on a mat", "the cat sat on a mat", "The cat sat on the mat.")
    assert [(c.old, c.new, c.touches_edit) for c in changes] == [("a", "the", False)]
    assert apply_changes("the cat sat on a mat", changes) == "the cat sat on the mat"


def test_a_change_to_a_word_the_user_edited_is_marked_and_accepting_the_rest_keeps_it():
    shown = "the dog sat on a mat"  # the user wrote "dog" over dictation's "cat"
    changes = suggest_changes(shown, "the cat sat on a mat", "the cat sat on the mat")
    assert [(c.old, c.new, c.touches_edit) for c in changes] == [("dog", "cat", True), ("a", "the", False)]
    assert apply_changes(shown, [c for c in changes if not c.touches_edit]) == "the dog sat on the mat"
    assert apply_changes(shown, changes) == "the cat sat on the mat"


def test_insertions_and_deletions_keep_single_spaces():
    assert apply_changes("hello world", suggest_changes("hello world", "hello world", "hello big world")) == \
        "hello big world"
    assert apply_changes("hello very big world", suggest_changes("hello very big world", "hello very big world",
                                                                 "hello big world")) == "hello big world"
    assert apply_changes("um hello", suggest_changes("um hello", "um hello", "hello")) == "hello"
    assert apply_changes("hello", suggest_changes("hello", "hello", "oh hello")) == "oh hello"


words = st.lists(st.sampled_from(["a", "b", "c", "dd", "e."]), max_size=12)


@given(words, words)
def test_accepting_every_change_gives_the_improved_words(shown: list[str], improved: list[str]):
    text = " ".join(shown)
    result = apply_changes(text, suggest_changes(text, text, " ".join(improved)))
    assert [w.strip(".") for w in result.split()] == [w.strip(".") for w in improved]
