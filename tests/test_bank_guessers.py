"""Guessers that know nothing about deep learning play the built-in bank: one reads only the length
of the choices, one only their hedge words ("usually", "可能"), one only the `article` tag of a
true/false item, each played both ways (longest and shortest, ...). None may beat chance by more
than 10 points, in either language. And
`dlprep bank validate` on the built-in bank is clean, with every cue figure within its goal.

Each guesser first proves it can win where the cue is planted, so these tests can fail.
"""
from __future__ import annotations

import itertools
import statistics

import pytest
from pydantic import TypeAdapter
from typer.testing import CliRunner

import cli
from grader.authoring import cues
from grader.bank import catalog as banks
from grader.bank.schema import LETTERS, MultiQuestion, Question, SingleQuestion, TrueFalseQuestion
from grader.practice.answers import grade

MARGIN = 0.10  # at most chance + 10 points
# Words that make a statement absolute; test-wise learners mark such statements false.
ABSOLUTES = {
    "en": ("always", "never", "only", "all", "every", "must", "cannot", "impossible", "guarantees"),
    "zh": ("总是", "从不", "一定", "必须", "所有", "只有", "只能", "不可能", "保证", "永远"),
}


@pytest.fixture(scope="module")
def questions():
    return [entry.question for entry in banks.load_catalog().questions.values()]


# ---- the guessers: each returns its expected score on one question ---------------------------


def single_by(question: SingleQuestion, measure) -> float:
    """Pick the choice that measures most; a tie is a coin among the tied."""
    values = [measure(choice) for choice in question.choices]
    top = [i for i, v in enumerate(values) if v == max(values)]
    return 1 / len(top) if LETTERS.index(question.answer) in top else 0.0


_CHANCE: dict[tuple, float] = {}


def multi_chance(question: MultiQuestion) -> float:
    """The grader's mean score over every non-empty set of letters."""
    key = (len(question.choices), tuple(question.answer))
    if key not in _CHANCE:
        letters = LETTERS[: len(question.choices)]
        sets = [c for n in range(1, len(letters) + 1) for c in itertools.combinations(letters, n)]
        _CHANCE[key] = statistics.mean(grade(question, "".join(s)).score for s in sets)
    return _CHANCE[key]


def multi_by(question: MultiQuestion, measure) -> float:
    """Pick the choices that measure above the question's median; when none does, no cue: chance."""
    values = [measure(choice) for choice in question.choices]
    median = statistics.median(values)
    chosen = [LETTERS[i] for i, v in enumerate(values) if v > median]
    return grade(question, "".join(chosen)).score if chosen else multi_chance(question)


def truefalse_by(question: TrueFalseQuestion, says_true) -> float:
    """says_true: True, False, or None (no cue: a coin)."""
    verdict = says_true(question)
    return 0.5 if verdict is None else float(verdict == question.answer)


def _tone(text: str, lang: str) -> int:
    """+1 hedged, -1 absolute, 0 neither or both."""
    soft = cues.hedges(text, lang) > 0
    hard = any(word in text.lower() for word in ABSOLUTES[lang])
    return int(soft) - int(hard)


def guessers(questions, lang: str, tf_median: float) -> dict[str, tuple[type, object]]:
    """name -> (question type, expected score on one question). Each cue is played both ways: a
    bank whose keys are rarely the longest choice gives away the shortest instead. The true/false
    majority guesser answers whatever the bank answers more often."""
    tf = [q for q in questions if isinstance(q, TrueFalseQuestion)]
    majority = sum(q.answer for q in tf) * 2 >= len(tf)
    length = lambda c: len(c.get(lang))  # noqa: E731
    hedging = lambda c: cues.hedges(c.get(lang), lang)  # noqa: E731
    long_prompt = lambda q: len(q.prompt.get(lang)) > tf_median  # noqa: E731
    tone = lambda q: _tone(q.prompt.get(lang), lang)  # noqa: E731
    article = lambda q: cues.ARTICLE_TAG in q.tags  # noqa: E731
    return {
        "single/longest": (SingleQuestion, lambda q: single_by(q, length)),
        "single/shortest": (SingleQuestion, lambda q: single_by(q, lambda c: -length(c))),
        "single/most-hedged": (SingleQuestion, lambda q: single_by(q, hedging)),
        "single/least-hedged": (SingleQuestion, lambda q: single_by(q, lambda c: -hedging(c))),
        "multi/longer": (MultiQuestion, lambda q: multi_by(q, length)),
        "multi/shorter": (MultiQuestion, lambda q: multi_by(q, lambda c: -length(c))),
        "multi/hedged": (MultiQuestion, lambda q: multi_by(q, hedging)),
        "multi/unhedged": (MultiQuestion, lambda q: multi_by(q, lambda c: -hedging(c))),
        "truefalse/long-is-true": (TrueFalseQuestion, lambda q: truefalse_by(q, long_prompt)),
        "truefalse/long-is-false": (TrueFalseQuestion, lambda q: truefalse_by(q, lambda q: not long_prompt(q))),
        "truefalse/hedged-is-true": (TrueFalseQuestion, lambda q: truefalse_by(q, lambda q: {1: True, -1: False}.get(tone(q)))),
        "truefalse/hedged-is-false": (TrueFalseQuestion, lambda q: truefalse_by(q, lambda q: {1: False, -1: True}.get(tone(q)))),
        "truefalse/article-is-false": (TrueFalseQuestion, lambda q: truefalse_by(q, lambda q: False if article(q) else None)),
        "truefalse/article-is-true": (TrueFalseQuestion, lambda q: truefalse_by(q, lambda q: True if article(q) else None)),
        "truefalse/majority": (TrueFalseQuestion, lambda q: truefalse_by(q, lambda q: majority)),
    }


def scores(questions, lang: str) -> dict[str, tuple[float, float]]:
    """(guesser's mean score, chance) per guesser."""
    by_type = {kind: [q for q in questions if isinstance(q, kind)] for kind in (SingleQuestion, MultiQuestion, TrueFalseQuestion)}
    chance = {
        SingleQuestion: statistics.mean(1 / len(q.choices) for q in by_type[SingleQuestion]),
        MultiQuestion: statistics.mean(multi_chance(q) for q in by_type[MultiQuestion]),
        TrueFalseQuestion: 0.5,
    }
    tf_median = statistics.median(len(q.prompt.get(lang)) for q in by_type[TrueFalseQuestion])
    return {
        name: (statistics.mean(guess(q) for q in by_type[kind]), chance[kind])
        for name, (kind, guess) in guessers(questions, lang, tf_median).items()
    }


# ---- the guessers win where the cue is planted -----------------------------------------------

_Q = TypeAdapter(Question)


def _planted():
    def q(n, kind, **fields):
        return _Q.validate_python({"id": f"p{kind}{n}", "topic": "t", "difficulty": "easy", "type": kind,
                                   "prompt": {"en": "?", "zh": "？"}, "explanation": {"en": "."}, **fields})
    key = {"en": "It usually helps, roughly in proportion to depth", "zh": "通常有帮助，大约与深度成正比"}
    wrong = [{"en": f"Wrong {i}", "zh": f"错{i}"} for i in range(3)]
    out = [q(i, "single", choices=[key, *wrong], answer="A") for i in range(8)]
    out += [q(i, "multi", choices=[key, key, *wrong[:2]], answer="AB") for i in range(8)]
    out += [q(i, "truefalse", answer=False, tags=["article"],
              prompt={"en": "All nets always need it.", "zh": "所有网络总是需要它。"}) for i in range(4)]
    out += [q(i + 4, "truefalse", answer=True,  # true twice as often, and longer
              prompt={"en": "It often helps deep nets train, roughly." + " Yes." * i, "zh": "它通常有助于深层网络的训练，大约如此。" + "是。" * i})
            for i in range(8)]
    return out


PLANTED = ("single/longest", "single/most-hedged", "multi/longer", "multi/hedged", "truefalse/long-is-true",
           "truefalse/hedged-is-true", "truefalse/article-is-false", "truefalse/majority")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_each_guesser_wins_where_its_cue_is_planted(lang):
    found = scores(_planted(), lang)
    for name in PLANTED:
        score, chance = found[name]
        assert score > chance + MARGIN, name
    reversed_ = {"single/shortest", "single/least-hedged", "multi/shorter", "multi/unhedged"}
    assert all(found[name][0] < found[name][1] for name in reversed_)  # played the wrong way, it loses


# ---- the built-in bank gives nothing away ----------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_guesser_beats_chance_by_more_than_10_points_on_the_builtin_bank(questions, lang):
    found = scores(questions, lang)
    over = {name: f"{score:.0%} vs chance {chance:.0%}" for name, (score, chance) in found.items() if score > chance + MARGIN}
    assert not over, over


def test_bank_validate_on_the_builtin_bank_is_clean_and_every_cue_within_goal():
    result = CliRunner().invoke(cli.app, ["bank", "validate", *map(str, sorted(banks.builtin_dir().glob("*.yaml")))])
    assert result.stdout == "" and result.exit_code == 0, result.stdout[:3000]
    err = result.stderr.splitlines()
    assert not [line for line in err if "warning" in line], result.stderr
    figures = [line for line in err if line.startswith("dlprep: cues: ")]
    for label in ("single, correct choice is the longest (en)", "single, correct choice is the longest (zh)",
                  "single, correct choice is the shortest (en)", "single, correct choice is the only hedged one (zh)",
                  "single, correct choice is the only explained one (en)", "single, key D",
                  "multi, choice A correct", "true/false, answer true", "true/false tagged article, answer true"):
        assert any(line.startswith(f"dlprep: cues: {label}: ") for line in figures), label
    assert not any("too few to judge" in line for line in figures if "multi, choice" not in line)
