"""Spaced repetition with FSRS (the `fsrs` package, version 6): which questions are due, and when.

A question's card is derived from its review log, the answers recorded in the store: replaying them in
time order through `Scheduler.review_card` gives the card, so an import that merges two logs rebuilds
the same schedule whatever order the files came in (a replay of hundreds of reviews takes milliseconds).
A card exists from a question's first answer (a fresh install has nothing due). A question whose
`revision` was raised starts a fresh card: only answers to the current revision count.

Ratings come from the grade (Again below 50 %, Hard below 80 %, Good from 80 %); Easy only when the
learner says so, and the learner may override any of them. Card ids are derived from the question id
(`Card()` without one sleeps a millisecond and takes a timestamp). Fuzzing spreads due dates as Anki
does; DLPREP_FSRS_FUZZ=0 turns it off (the test suite does, so due dates are exact).
"""
from __future__ import annotations

import os
import zlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from fsrs import Card, Rating, Scheduler

AGAIN_BELOW, HARD_BELOW = 0.5, 0.8
RATINGS = {"again": Rating.Again, "hard": Rating.Hard, "good": Rating.Good, "easy": Rating.Easy}
FUZZ_ENV = "DLPREP_FSRS_FUZZ"


def rating_for(score: float) -> Rating:
    if score < AGAIN_BELOW:
        return Rating.Again
    return Rating.Hard if score < HARD_BELOW else Rating.Good


def card_id(question_id: str) -> int:
    """Stable across machines and runs: an import on another machine rebuilds the same cards."""
    return zlib.crc32(question_id.encode("utf-8")) + 1  # fsrs ids are positive ints


def scheduler() -> Scheduler:
    return Scheduler(enable_fuzzing=os.environ.get(FUZZ_ENV, "1") != "0")


def replay(question_id: str, reviews: Iterable[tuple[datetime, int]], sched: Scheduler | None = None) -> Card | None:
    """The card after these (time, rating) reviews in time order; None when there are none."""
    sched = sched or scheduler()
    card = None
    for moment, rating in sorted(reviews, key=lambda r: r[0]):
        card = card or Card(card_id=card_id(question_id), due=moment)
        card, _ = sched.review_card(card, Rating(rating), review_datetime=moment.astimezone(timezone.utc))
    return card


@dataclass(frozen=True)
class CardState:
    question_id: str
    revision: int
    card: Card

    @property
    def due(self) -> datetime:
        return self.card.due

    def retrievability(self, now: datetime, sched: Scheduler | None = None) -> float:
        return (sched or scheduler()).get_card_retrievability(self.card, current_datetime=now)


def cards_from(answers, revisions: dict[str, int]) -> dict[str, CardState]:
    """Every question's card from its answers (grader.practice.store.Answer), counting only answers
    to the question's current revision (`revisions`: id -> revision; a question missing from the bank
    keeps the answers to its latest recorded revision)."""
    by_question: dict[str, list] = {}
    for answer in answers:
        by_question.setdefault(answer.question_id, []).append(answer)
    sched = scheduler()
    out = {}
    for qid, items in by_question.items():
        revision = revisions.get(qid, max(a.revision for a in items))
        reviews = [(a.answered_at, a.rating) for a in items if a.revision == revision]
        card = replay(qid, reviews, sched)
        if card is not None:
            out[qid] = CardState(qid, revision, card)
    return out


def next_due(cards: Iterable[CardState]) -> datetime | None:
    dues = [c.due for c in cards]
    return min(dues) if dues else None


def due_by_day(cards: Iterable[CardState], now: datetime, days: int = 7) -> list[int]:
    """Cards due on each of the next `days` local days (today includes everything overdue)."""
    today = now.astimezone().date()
    counts = [0] * days
    for c in cards:
        offset = (c.due.astimezone().date() - today).days
        if offset < days:
            counts[max(offset, 0)] += 1
    return counts
