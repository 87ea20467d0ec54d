"""What the learner's records say: the review queue, stats, history, and export/import.

Pure functions over grader.practice.store and grader.practice.scheduler (no Rich, no torch); the CLI
renders what they return (grader.render.progress) or prints it as JSON.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from grader.errors import UsageError
from grader.practice import scheduler
from grader.practice.store import Store, iso, now_utc

DEFAULT_NEW_PER_DAY = 10
DEFAULT_REVIEW_LIMIT = 20
WEAKEST = 5


# ---- the review queue --------------------------------------------------------------------------

@dataclass
class ReviewQueue:
    questions: list[Any]  # bank question models, due ones first, then new ones
    due: int
    new: int
    next_due: datetime | None  # the earliest due date among cards not in the queue


def review_queue(store: Store, questions: list[Any], *, now: datetime | None = None, limit: int = DEFAULT_REVIEW_LIMIT,
                 new_per_day: int = DEFAULT_NEW_PER_DAY, topics: list[str] | None = None) -> ReviewQueue:
    """The due cards (most overdue first), then up to the day's cap of questions never answered.
    The cap counts the questions first answered today (local date), so several sessions a day share it."""
    if limit < 1 or new_per_day < 0:
        raise UsageError("--limit must be at least 1 and --new at least 0")
    now = now or now_utc()
    wanted = [q for q in questions if not topics or q.topic in topics]
    by_id = {q.id: q for q in wanted}
    answers = store.answers()
    cards = scheduler.cards_from(answers, {q.id: getattr(q, "revision", 1) for q in questions})
    due = sorted((c for c in cards.values() if c.question_id in by_id and c.due <= now), key=lambda c: c.due)
    first_seen: dict[str, datetime] = {}
    for a in answers:
        first_seen.setdefault(a.question_id, a.answered_at)
    today = now.astimezone().date()
    introduced_today = sum(1 for t in first_seen.values() if t.astimezone().date() == today)
    fresh = [q for q in sorted(wanted, key=lambda q: q.id) if q.id not in cards]
    new = fresh[: max(0, new_per_day - introduced_today)]
    chosen = [by_id[c.question_id] for c in due][:limit]
    chosen += new[: max(0, limit - len(chosen))]
    waiting = [c.due for c in cards.values() if c.question_id in by_id and c.due > now]
    return ReviewQueue(chosen, min(len(due), limit), len(chosen) - min(len(due), limit), min(waiting) if waiting else None)


# ---- recording ----------------------------------------------------------------------------------

def record_answer(store: Store, question: Any, result: Any, *, lang: str, shown_order: list[int] | None = None,
                  duration_s: float | None = None, rating: int | None = None) -> str:
    """Record one graded answer (grader.practice.answers.AnswerResult) to a bank question, in the
    bank's letters; the rating defaults to the one the grade gives."""
    return store.record_answer(
        question_id=question.id, revision=getattr(question, "revision", 1), answer=result.given,
        shown_order=shown_order, score=result.score, duration_s=duration_s,
        rating=int(rating if rating is not None else scheduler.rating_for(result.score)), lang=lang)


class Recorder:
    """Records an interactive session's answers as they happen: each answer the moment it is graded
    (with the rating its grade gives), then `settled` with the final score (a self-rated free-text
    answer) and the rating the learner chose. A kill between the two keeps the answer."""

    def __init__(self, store: Store, lang: str):
        self.store, self.lang = store, lang
        self._last: str | None = None

    def answered(self, question: Any, result: Any, order: list[int] | None, seconds: float) -> None:
        shown = order if getattr(question, "choices", None) else None
        self._last = record_answer(self.store, question, result, lang=self.lang, shown_order=shown,
                                   duration_s=round(seconds, 3))

    def settled(self, result: Any, rating: int | None) -> None:
        if self._last is not None:
            chosen = rating if rating is not None else int(scheduler.rating_for(result.score))
            self.store.settle_answer(self._last, score=result.score, rating=chosen)


# ---- recording a graded submission ----------------------------------------------------------

def record_submission(store: Store, result: Any, path: Path, *, distinct: bool = False) -> str | None:
    """Record a grading result (grader.results.SubmissionResult) for the file at `path`; with
    distinct=True (--watch) a file whose bytes match the task's last recorded version is skipped."""
    import hashlib

    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:  # gone since it was graded (an editor's atomic save): the grade still counts
        digest = "unreadable"
    return store.record_submission(
        task=result.task or "", verdict=result.verdict, score=result.score, max_score=result.max_score,
        pitfalls=[p.id for p in result.pitfalls], file_hash=digest, file=str(path), distinct=distinct)


# ---- stats and history -----------------------------------------------------------------------------

@dataclass
class TopicStats:
    topic: str
    answers: int
    accuracy: float  # mean score of the answers
    cards: int
    retrievability: float | None  # mean over the topic's cards, now


@dataclass
class Stats:
    answers: int
    submissions: int
    topics: list[TopicStats]
    due_next_days: list[int]  # index 0 is today (overdue included)
    streak_days: int
    weakest: list[dict]  # {id, topic, retrievability, accuracy}
    pitfalls: list[tuple[str, int]]  # pitfall id -> submissions that had it, most frequent first
    next_due: datetime | None
    store: str = ""

    def to_dict(self) -> dict:
        return {
            "store": self.store, "answers": self.answers, "submissions": self.submissions,
            "topics": [t.__dict__ for t in self.topics], "due_next_7_days": self.due_next_days,
            "streak_days": self.streak_days, "weakest": self.weakest,
            "pitfalls": [{"id": i, "count": n} for i, n in self.pitfalls],
            "next_due": iso(self.next_due) if self.next_due else None,
        }


def stats(store: Store, questions: list[Any], *, now: datetime | None = None) -> Stats:
    now = now or now_utc()
    by_id = {q.id: q for q in questions}
    answers = store.answers()
    submissions = store.submissions()
    cards = scheduler.cards_from(answers, {q.id: getattr(q, "revision", 1) for q in questions})
    sched = scheduler.scheduler()
    recall = {qid: c.retrievability(now, sched) for qid, c in cards.items()}
    topics: dict[str, list] = {}
    for a in answers:
        topic = by_id[a.question_id].topic if a.question_id in by_id else "(removed)"
        topics.setdefault(topic, []).append(a)
    rows = []
    for topic, items in sorted(topics.items()):
        ids = {a.question_id for a in items}
        values = [recall[i] for i in ids if i in recall]
        rows.append(TopicStats(topic, len(items), sum(a.score for a in items) / len(items), len(values),
                               sum(values) / len(values) if values else None))
    scores: dict[str, list[float]] = {}
    for a in answers:
        scores.setdefault(a.question_id, []).append(a.score)
    accuracy = {i: sum(v) / len(v) for i, v in scores.items()}
    # fsrs counts elapsed time in whole days, so recall ties within a day: accuracy breaks the tie
    weakest = sorted(recall, key=lambda i: (recall[i], accuracy[i], i))[:WEAKEST]
    pitfalls = Counter(p for s in submissions for p in s.pitfalls)
    return Stats(
        answers=len(answers), submissions=len(submissions), topics=rows,
        due_next_days=scheduler.due_by_day(cards.values(), now),
        streak_days=streak([a.answered_at for a in answers] + [s.submitted_at for s in submissions], now),
        weakest=[{"id": i, "topic": by_id[i].topic if i in by_id else None, "retrievability": round(recall[i], 3),
                  "accuracy": round(accuracy[i], 3)} for i in weakest],
        pitfalls=sorted(pitfalls.items(), key=lambda kv: (-kv[1], kv[0])),
        next_due=scheduler.next_due(cards.values()), store=str(store.path))


def streak(moments: list[datetime], now: datetime) -> int:
    """Consecutive local days with practice, ending today (or yesterday, when today has none yet)."""
    days = {m.astimezone().date() for m in moments}
    day: date = now.astimezone().date()
    if day not in days:
        day -= timedelta(days=1)
    count = 0
    while day in days:
        count += 1
        day -= timedelta(days=1)
    return count


def history(store: Store, *, limit: int | None = 20) -> list[dict]:
    """Answers and submissions, newest first."""
    if limit is not None and limit < 1:
        raise UsageError("--limit must be at least 1")
    rows = [{"kind": "answer", "at": a.answered_at, "id": a.question_id, "revision": a.revision,
             "answer": a.answer, "score": a.score, "rating": a.rating, "lang": a.lang, "uuid": a.uuid}
            for a in store.answers(newest_first=True, limit=limit)]
    rows += [{"kind": "submission", "at": s.submitted_at, "id": s.task, "verdict": s.verdict, "score": s.score,
              "max_score": s.max_score, "pitfalls": s.pitfalls, "file_hash": s.file_hash, "uuid": s.uuid}
             for s in store.submissions(newest_first=True, limit=limit)]
    rows.sort(key=lambda r: r["at"], reverse=True)
    rows = rows[:limit] if limit is not None else rows
    return [{**r, "at": iso(r["at"])} for r in rows]


# ---- export and import -----------------------------------------------------------------------------

FORMAT = "dlprep-progress"
EXPORT_VERSION = 1


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AnswerRecord(_Strict):
    uuid: str
    question_id: str
    revision: int
    answered_at: datetime
    answer: Any = None
    shown_order: list[int] | None = None
    score: float
    duration_s: float | None = None
    rating: int
    lang: str = "en"


class SubmissionRecord(_Strict):
    uuid: str
    task: str
    submitted_at: datetime
    verdict: str
    score: float | None = None
    max_score: float | None = None
    pitfalls: list[str] = []
    file_hash: str
    file: str | None = None


class HintRecord(_Strict):
    uuid: str
    task: str
    used_at: datetime
    kind: str
    level: int | None = None


class ProgressFile(_Strict):
    format: Literal["dlprep-progress"]
    version: Literal[1]
    exported_at: datetime
    answers: list[AnswerRecord] = []
    submissions: list[SubmissionRecord] = []
    hints: list[HintRecord] = []


def export(store: Store, path: Path) -> dict[str, int]:
    doc = ProgressFile(
        format=FORMAT, version=EXPORT_VERSION, exported_at=now_utc(),
        answers=[AnswerRecord(**a.__dict__) for a in store.answers()],
        submissions=[SubmissionRecord(**s.__dict__) for s in store.submissions()],
        hints=[HintRecord(uuid=h[0], task=h[1], used_at=h[2], kind=h[3], level=h[4]) for h in store.hints()],
    )
    tmp = path.with_name(path.name + ".part")
    try:
        tmp.write_text(doc.model_dump_json(indent=1), encoding="utf-8")
        tmp.replace(path)  # a reader never sees half a file
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    return {"answers": len(doc.answers), "submissions": len(doc.submissions), "hints": len(doc.hints)}


def load_export(path: Path) -> ProgressFile:
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        return ProgressFile.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise UsageError(f"{path} is not a dlprep progress export ({where}: {first['msg']}; "
                         f"{exc.error_count()} problem(s))") from None


def import_(store: Store, path: Path) -> dict[str, int]:
    """Merge an export into the store: records already present (same UUID) are skipped, so importing
    twice adds nothing, and cards are rebuilt from the merged log, so the order of imports does not
    matter. Lands whole or not at all."""
    doc = load_export(path)
    before = store.counts()
    with store.transaction():
        for a in doc.answers:
            store.record_answer(**{k: v for k, v in a.model_dump().items() if k not in ("uuid", "answered_at")},
                                at=_aware(a.answered_at), uid=a.uuid)
        for s in doc.submissions:
            store.record_submission(**{k: v for k, v in s.model_dump().items() if k not in ("uuid", "submitted_at")},
                                    at=_aware(s.submitted_at), uid=s.uuid)
        for h in doc.hints:
            store.record_hint(task=h.task, kind=h.kind, level=h.level, at=_aware(h.used_at), uid=h.uuid)
    after = store.counts()
    return {k: after[k] - before[k] for k in after}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
