"""Quiz logic without I/O: pick questions, hold a session's answers, summarise by topic, and grade
an answers file. No Rich, no torch.

Picking is split into `filter_questions` (what the learner asked for) and `pick` (which of those,
in what order), so a spaced-repetition scheduler can later order due questions first.
"""
from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from grader.bank import yamlsrc
from grader.practice.answers import AnswerFormError, AnswerResult, grade, rate_self
from grader.errors import UsageError
from grader.bank.schema import LANGS, LETTERS


def filter_questions(
    questions: Iterable[Any], *, topics: Iterable[str] = (), difficulty: str | None = None
) -> list[Any]:
    """The questions of the given topics (all when none) and difficulty, in id order."""
    wanted = set(topics)
    return sorted(
        (q for q in questions if (not wanted or q.topic in wanted) and (difficulty in (None, q.difficulty))),
        key=lambda q: q.id,
    )


def pick(candidates: list[Any], *, count: int | None = None, seed: int | None = None) -> list[Any]:
    """`count` of the candidates in a random order; the same seed gives the same quiz."""
    chosen = list(candidates)
    random.Random(seed).shuffle(chosen)
    return chosen[:count] if count is not None else chosen


DIFFICULTIES = ("easy", "medium", "hard")


def check_topics(topics: Iterable[str], questions: Iterable[Any]) -> None:
    """UsageError for a topic no question has: a typo would otherwise give an empty quiz."""
    known = sorted({q.topic for q in questions})
    unknown = [t for t in topics if t not in known]
    if unknown:
        raise UsageError(f"unknown topic {', '.join(unknown)} (topics: {', '.join(known)})")


def start_session(
    questions: Iterable[Any],
    *,
    topics: Iterable[str] = (),
    difficulty: str | None = None,
    count: int | None = None,
    seed: int | None = None,
    lang: str = "en",
) -> QuizSession:
    """A quiz of the questions the options ask for, or UsageError when the options are bad or
    nothing matches them."""
    questions, topics = list(questions), list(topics)
    if lang not in LANGS:
        raise UsageError(f"--lang must be one of {', '.join(LANGS)}, not {lang!r}")
    if difficulty is not None and difficulty not in DIFFICULTIES:
        raise UsageError(f"--difficulty must be one of {', '.join(DIFFICULTIES)}, not {difficulty!r}")
    if count is not None and count < 1:
        raise UsageError("--count must be at least 1")
    check_topics(topics, questions)
    candidates = filter_questions(questions, topics=topics, difficulty=difficulty)
    if not candidates:
        raise UsageError("no questions match these options")
    return QuizSession(pick(candidates, count=count, seed=seed), lang=lang)


def choice_order(question: Any, rng: random.Random | None) -> list[int]:
    """Bank indexes of the choices in on-screen order: shuffled with `rng`, or the bank's order
    without one or when the question sets `shuffle: false` ("both of the above" must stay last).
    Shuffling reorders the screen only: answers files and results use the bank's letters."""
    order = list(range(len(getattr(question, "choices", []))))
    if rng is not None and getattr(question, "shuffle", False):
        rng.shuffle(order)
    return order


def to_bank_letters(typed: str, order: list[int]) -> str:
    """Map letters typed against the on-screen order back to the bank's letters. Characters that are
    not on-screen letters pass through, so the grader reports them as it would in an answers file."""
    out = []
    for char in unicodedata.normalize("NFKC", typed).upper():  # full-width Ａ is the screen's A
        index = LETTERS.find(char)
        out.append(LETTERS[order[index]] if 0 <= index < len(order) else char)
    return "".join(out)


@dataclass
class TopicScore:
    topic: str
    answered: int = 0
    correct: int = 0
    score: float = 0.0


@dataclass
class Summary:
    topics: list[TopicScore]
    answered: int
    asked: int  # questions in the session, answered or not
    score: float
    max_score: int  # one point per answered question


@dataclass
class QuizSession:
    """The questions of one quiz and the results so far; `current` is the next to ask."""

    questions: list[Any]
    lang: str = "en"
    results: list[AnswerResult] = field(default_factory=list)

    @property
    def current(self) -> Any | None:
        done = len(self.results)
        return self.questions[done] if done < len(self.questions) else None

    def answer(self, raw: Any) -> AnswerResult:
        """Grade an answer to the current question (AnswerFormError leaves the session unchanged)."""
        result = grade(self.current, raw, self.lang)
        self.results.append(result)
        return result

    def rate(self, made: list[bool]) -> AnswerResult:
        """The learner's own rating of the last answer, one yes/no per key point (asked when the
        grader was unsure of a short answer)."""
        question = self.questions[len(self.results) - 1]
        rate_self(question, self.results[-1], made, self.lang)
        return self.results[-1]

    def summary(self) -> Summary:
        return summarise(self.results, {q.id: q.topic for q in self.questions}, asked=len(self.questions))


def summarise(results: list[AnswerResult], topic_of: dict[str, str], *, asked: int) -> Summary:
    by_topic: dict[str, TopicScore] = {}
    for result in results:
        row = by_topic.setdefault(topic_of[result.id], TopicScore(topic_of[result.id]))
        row.answered += 1
        row.correct += result.correct
        row.score += result.score
    rows = [by_topic[t] for t in sorted(by_topic)]
    total = round(sum(r.score for r in results), 6)
    return Summary(rows, answered=len(results), asked=asked, score=total, max_score=len(results))


# ---- answers files --------------------------------------------------------------------------


@dataclass
class AnswersReport:
    """An answers file graded: results for known ids (in file order), problems for the rest."""

    results: list[AnswerResult]
    problems: list[str]  # FILE:LINE: id=ID: message
    summary: Summary

    @property
    def all_correct(self) -> bool:
        return not self.problems and all(r.correct for r in self.results)

    def to_dict(self) -> dict:
        return {
            "results": [r.to_dict() for r in self.results],
            "score": self.summary.score,
            "max_score": self.summary.max_score,
            "problems": self.problems,
        }


def grade_answers_file(path: Path, questions: dict[str, Any], lang: str = "en") -> AnswersReport:
    """Grade exactly the questions an answers file (a YAML mapping id -> answer) names. An unknown
    id or an answer of the wrong form is a problem line; a file that cannot be used at all (missing,
    not YAML, not a mapping) raises UsageError."""
    if not path.is_file():
        raise UsageError(f"{path} is a directory, not an answers file" if path.is_dir() else f"no such answers file: {path}")
    try:
        source = yamlsrc.read(path)
    except yamlsrc.SourceError as exc:
        raise UsageError("cannot read the answers file:\n" + "\n".join(exc.problems)) from None
    if not isinstance(source.data, dict) or not source.data:
        raise UsageError(f"{path}: an answers file is a YAML mapping of question id to answer")
    results, problems = [], []
    for qid, raw in source.data.items():
        line = source.lines.get((str(qid),), 1)
        question = questions.get(str(qid))
        if question is None:
            problems.append(yamlsrc.problem(path, line, "unknown question id", str(qid)))
            continue
        try:
            results.append(grade(question, raw, lang))
        except AnswerFormError as exc:
            problems.append(yamlsrc.problem(path, line, f"cannot read the answer: {exc}", question.id))
    topic_of = {r.id: questions[r.id].topic for r in results}
    return AnswersReport(results, problems, summarise(results, topic_of, asked=len(results)))
