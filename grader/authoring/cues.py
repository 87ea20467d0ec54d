"""Test-taking cues: what a learner who knows nothing could score by reading the shape of the
choices instead of their meaning. `bank validate` prints these figures on stderr and warns when one
is off its goal; the guesser tests (tests/test_bank_guessers.py) play the same cues against the bank.

Each figure is a share of the questions it concerns, with its goal. A share of a handful of
questions says nothing, so a figure is judged (and warned about) only from MIN_JUDGED questions on.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Iterable

from grader.bank.schema import LETTERS, MultiQuestion, SingleQuestion, TrueFalseQuestion

# Below this many questions one question moves a share by over 20 points: printed, never judged.
MIN_JUDGED = 5

# Goals from the bank issue: no cue may tell the key much better than chance.
LONGEST_MAX = 0.35  # correct choice is the longest (or the shortest)
HEDGED_MAX = 0.35  # correct choice is the only hedged one
EXPLAINED_MAX = 0.35  # correct choice is the only one giving a reason
LETTER_MAX = 0.35  # any one key letter of single questions
POSITION_RANGE = (0.30, 0.70)  # each position of multi questions correct
TRUE_RANGE = (0.40, 0.60)  # true/false answered true, overall and among article quotes

ARTICLE_TAG = "article"  # true/false items quoting the source article

# Words that soften a claim. A correct choice that alone is hedged ("usually", "可能") gives
# itself away: careful authors hedge the true statement and write distractors as absolutes.
_HEDGES = {
    "en": re.compile(
        r"\b(?:usually|often|roughly|typically|typical|may|might|can(?!['’]t)|could|tends?|mainly|mostly|"
        r"generally|largely|approximately|likely|sometimes|partly|primarily|in practice|somewhat)\b",
        re.IGNORECASE,
    ),
    "zh": re.compile(r"通常|往往|大约|大致|一般(?!化)|(?<!不)可能|主要|大多|多半|有时|倾向|基本上|大体"),
}

# An explanation that names a choice by its letter is wrong on screen once choices are shuffled.
_LETTER_CITES = [
    re.compile(r"(?<![\w)\]])\(([A-H])\)"),  # "(B)", not nn.LayerNorm(C)
    re.compile(r"（([A-H])）"),
    re.compile(r"\b(?:[Cc]hoices?|[Oo]ptions?|[Aa]nswers?)\s+([A-H])\b"),
    re.compile(r"\b([A-H])\s+is\s+(?:correct|wrong|right|incorrect)\b"),
    re.compile(r"(?:选项|答案|选)\s*([A-H])(?![A-Za-z])"),
    re.compile(r"(?<![A-Za-z])([A-H])\s*(?:选项|项)"),
]


# A choice that points at the others by place ("all of the above", "以上都对") needs them in order.
_POINTS_AT_OTHERS = re.compile(
    r"\b(?:all|none|both|neither|either|any) of the (?:above|previous|others|preceding)\b|"
    r"(?:以上|上述|前面)(?:都|均|皆|全|各项|选项|说法|两项|几项)",
    re.IGNORECASE,
)


def points_at_others(text: str) -> bool:
    """The choice refers to the other choices by place, or names them by letter."""
    return bool(_POINTS_AT_OTHERS.search(text or "") or cited_letters(text))


# Words that justify a claim. A key that alone says why ("..., because ...") stands out the same way.
_REASONS = {
    "en": re.compile(r"\b(?:because|since|so that|so|therefore|thus|hence|as a result)\b|:\s|—|;", re.IGNORECASE),
    "zh": re.compile(r"因为|由于|所以|因此|从而|以便|因而|使得|：|；"),
}


def reasons(text: str, lang: str) -> int:
    """How many justifying words or marks the text holds."""
    return len(_REASONS["zh" if lang == "zh" else "en"].findall(text or ""))


def hedges(text: str, lang: str) -> int:
    """How many hedge words the text holds."""
    return len(_HEDGES["zh" if lang == "zh" else "en"].findall(text or ""))


def cited_letters(text: str) -> list[str]:
    """The choice letters an explanation names ("(B)", "choice C", "选项 A"), in order."""
    found = []
    for pattern in _LETTER_CITES:
        found += [m.group(0).strip() for m in pattern.finditer(text or "")]
    return found


@dataclass(frozen=True)
class Figure:
    """One cue measured over a bank: `hits` of `total` questions, against a goal range."""

    label: str
    hits: float  # may be fractional: a tie for longest counts 1/k
    total: int
    low: float | None
    high: float

    @property
    def share(self) -> float:
        return self.hits / self.total if self.total else 0.0

    @property
    def judged(self) -> bool:
        return self.total >= MIN_JUDGED

    @property
    def ok(self) -> bool:
        return not self.judged or ((self.low is None or self.share >= self.low) and self.share <= self.high)

    def line(self) -> str:
        goal = f"{self.low:.0%}–{self.high:.0%}" if self.low is not None else f"≤ {self.high:.0%}"
        hits = f"{self.hits:g}" if self.hits == int(self.hits) else f"{self.hits:.1f}"
        verdict = "" if self.judged else ", too few to judge"
        # One decimal: 12 of 34 is 35.3 %, above a 35 % goal, and must not print as 35 %.
        return f"{self.label}: {hits}/{self.total} = {self.share:.1%} (goal {goal}{verdict})"


def longest_hits(question: SingleQuestion, lang: str, sign: int = 1) -> float:
    """What picking the longest choice (sign=-1: the shortest) scores: 1/k when the key is among k
    choices tied for it."""
    lengths = [sign * len(choice.get(lang).strip()) for choice in question.choices]
    longest = [i for i, n in enumerate(lengths) if n == max(lengths)]
    key = LETTERS.index(question.answer)
    return 1 / len(longest) if key in longest else 0.0


def only_hedged(question: SingleQuestion, lang: str) -> bool:
    """The key is the one choice with a hedge word in it."""
    return _only(question, lambda text: hedges(text, lang), lang)


def only_explained(question: SingleQuestion, lang: str) -> bool:
    """The key is the one choice that gives a reason."""
    return _only(question, lambda text: reasons(text, lang), lang)


def _only(question: SingleQuestion, count, lang: str) -> bool:
    marked = [i for i, choice in enumerate(question.choices) if count(choice.get(lang))]
    return marked == [LETTERS.index(question.answer)]


def figures(questions: Iterable[Any], langs: tuple[str, ...] = ("en", "zh")) -> list[Figure]:
    """Every cue figure over these questions (those of a type the bank holds)."""
    questions = list(questions)
    single = [q for q in questions if isinstance(q, SingleQuestion)]
    multi = [q for q in questions if isinstance(q, MultiQuestion)]
    truefalse = [q for q in questions if isinstance(q, TrueFalseQuestion)]
    out = []
    if single:
        for lang in langs:
            hits = sum(longest_hits(q, lang) for q in single)
            out.append(Figure(f"single, correct choice is the longest ({lang})", hits, len(single), None, LONGEST_MAX))
        for lang in langs:  # rebalancing can overshoot: keys that are never longest are often shortest
            hits = sum(longest_hits(q, lang, sign=-1) for q in single)
            out.append(Figure(f"single, correct choice is the shortest ({lang})", hits, len(single), None, LONGEST_MAX))
        for lang in langs:
            hits = sum(only_hedged(q, lang) for q in single)
            out.append(Figure(f"single, correct choice is the only hedged one ({lang})", hits, len(single), None, HEDGED_MAX))
        for lang in langs:
            hits = sum(only_explained(q, lang) for q in single)
            out.append(Figure(f"single, correct choice is the only explained one ({lang})", hits, len(single), None, EXPLAINED_MAX))
        keys = Counter(q.answer for q in single)
        for letter in LETTERS[: max(len(q.choices) for q in single)]:
            out.append(Figure(f"single, key {letter}", keys[letter], len(single), None, LETTER_MAX))
    if multi:
        for index in range(max(len(q.choices) for q in multi)):
            having = [q for q in multi if len(q.choices) > index]
            hits = sum(LETTERS[index] in q.answer for q in having)
            out.append(Figure(f"multi, choice {LETTERS[index]} correct", hits, len(having), *POSITION_RANGE))
    if truefalse:
        out.append(Figure("true/false, answer true", sum(q.answer for q in truefalse), len(truefalse), *TRUE_RANGE))
        quoted = [q for q in truefalse if ARTICLE_TAG in q.tags]
        if quoted:
            out.append(Figure(f"true/false tagged {ARTICLE_TAG}, answer true", sum(q.answer for q in quoted), len(quoted), *TRUE_RANGE))
    return out
