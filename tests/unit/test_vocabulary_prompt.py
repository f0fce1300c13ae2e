"""The vocabulary file (parsing, loading, its prompt text) and how its terms share the decoder's prompt budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from dictate.asr.prompting import compose_prompt, count_terms, prompt_budget
from dictate.text.vocabulary import Replacement, Vocabulary, VocabularyError, load_vocabulary, parse_vocabulary

TINY_BUDGET = prompt_budget(448)  # tiny.en's n_text_ctx


def test_the_budget_is_whispers_prompt_length() -> None:
    assert TINY_BUDGET == 223


def test_vocabulary_comes_first_then_the_latest_previous_tokens() -> None:
    assert compose_prompt([1, 2], [10, 11, 12, 13], budget=5) == [1, 2, 11, 12, 13]
    assert compose_prompt([1, 2], [10], budget=5) == [1, 2, 10]


def test_vocabulary_takes_at_most_half_the_budget() -> None:
    vocabulary, previous = list(range(300)), list(range(1000, 1300))
    prompt = compose_prompt(vocabulary, previous, TINY_BUDGET)
    assert len(prompt) == TINY_BUDGET
    assert prompt[:111] == vocabulary[:111]
    assert prompt[111:] == previous[-112:]


def test_without_vocabulary_the_prompt_is_the_previous_texts_tail_as_before() -> None:
    previous = list(range(500))
    assert compose_prompt([], previous, TINY_BUDGET) == previous[-TINY_BUDGET:]
    assert compose_prompt([], [], TINY_BUDGET) == []


def test_terms_are_counted_as_whole_words_in_any_case() -> None:
    vocabulary = "Helstone, Nuzhat al Zaman, C++"
    assert count_terms("At helstone. HELSTONE, and Nuzhat al Zaman.", vocabulary) == 3
    assert count_terms("Helstones and Nuzhat al", vocabulary) == 0
    assert count_terms("I write C++ daily", vocabulary) == 1
    assert count_terms("anything", "") == 0


def test_parse_terms_replacements_comments_and_blank_lines() -> None:
    text = "# names\n  Helstone \n\nkubernetties  ->  Kubernetes\nNuzhat   al Zaman\n"
    vocabulary = parse_vocabulary(text)
    assert vocabulary == Vocabulary(("Helstone", "Nuzhat al Zaman"), (Replacement("kubernetties", "Kubernetes"),))
    assert vocabulary.prompt() == "Helstone, Nuzhat al Zaman, Kubernetes"


@pytest.mark.parametrize("line", ["kubernetties ->", "-> Kubernetes", "a -> b -> c", "->"])
def test_a_replacement_without_both_sides_names_the_source_and_line(line: str) -> None:
    with pytest.raises(VocabularyError, match=r"words\.txt, line 2: a replacement needs words on both sides"):
        parse_vocabulary(f"Helstone\n{line}\n", source="words.txt")


def test_load_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "vocabulary.txt"
    path.write_text("Helstone\neunuch\n", encoding="utf-8")
    assert load_vocabulary(path).prompt() == "Helstone, eunuch"


def test_load_errors_say_which_file_and_why(tmp_path: Path) -> None:
    with pytest.raises(VocabularyError, match="does not exist"):
        load_vocabulary(tmp_path / "missing.txt")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Café\n".encode("latin-1"))
    with pytest.raises(VocabularyError, match="is not UTF-8 text"):
        load_vocabulary(latin1)
    with pytest.raises(VocabularyError, match=f"Cannot read the vocabulary file {tmp_path}"):
        load_vocabulary(tmp_path)
    bad = tmp_path / "bad.txt"
    bad.write_text("x ->\n", encoding="utf-8")
    with pytest.raises(VocabularyError, match="bad.txt, line 1"):
        load_vocabulary(bad)
