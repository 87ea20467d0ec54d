"""The learner's progress store: one SQLite file (WAL) under grader.home.data_dir().

Everything is recorded as it happens, one committed row per answer or submission, so a `kill -9`
mid-quiz loses nothing already answered, and two processes answering at once both land (writes take
SQLite's write lock with a generous busy timeout). Every record has a UUID, which is what export and
import deduplicate on. Times are stored in UTC (ISO 8601); the learner's local date is derived on
reading (streaks).

The schema is versioned with `PRAGMA user_version` and upgraded by the migrations below, after a
backup copy of the file. A file that is not a dlprep store, is corrupt, or comes from a newer dlprep is
reported with its path and a hint, and never written to (StoreError, exit 3).
"""
from __future__ import annotations

import json
import sqlite3
import uuid as uuidlib
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

from grader.errors import DlprepError
from grader.home import data_dir

FILE_NAME = "progress.sqlite3"
BUSY_TIMEOUT_S = 30.0  # another dlprep answering at the same moment holds the lock for milliseconds

# Schema 1: answers and submissions. Schema 2: hint use (the coding loop), and indexes for reading
# one question's or one task's log.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE answers (
        uuid TEXT PRIMARY KEY, question_id TEXT NOT NULL, revision INTEGER NOT NULL,
        answered_at TEXT NOT NULL, answer TEXT, shown_order TEXT, score REAL NOT NULL,
        duration_s REAL, rating INTEGER NOT NULL, lang TEXT NOT NULL DEFAULT 'en');
    CREATE TABLE submissions (
        uuid TEXT PRIMARY KEY, task TEXT NOT NULL, submitted_at TEXT NOT NULL, verdict TEXT NOT NULL,
        score REAL, max_score REAL, pitfalls TEXT NOT NULL DEFAULT '[]', file_hash TEXT NOT NULL,
        file TEXT);
    """,
    """
    CREATE TABLE hints (
        uuid TEXT PRIMARY KEY, task TEXT NOT NULL, used_at TEXT NOT NULL, kind TEXT NOT NULL,
        level INTEGER);
    CREATE INDEX answers_by_question ON answers (question_id, answered_at);
    CREATE INDEX submissions_by_task ON submissions (task, submitted_at);
    """,
]
SCHEMA_VERSION = len(MIGRATIONS)


class StoreError(DlprepError):
    """The store cannot be used as it is (exit 3); the file is left untouched."""


def default_path() -> Path:
    return data_dir() / FILE_NAME


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: the store keeps UTC-aware times only")
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def parse_time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def new_uuid() -> str:
    return str(uuidlib.uuid4())


@dataclass(frozen=True)
class Answer:
    uuid: str
    question_id: str
    revision: int
    answered_at: datetime
    answer: Any  # in the bank's letters / the answers-file form
    shown_order: list[int] | None  # bank indexes of the choices as they were on screen
    score: float
    duration_s: float | None
    rating: int  # fsrs.Rating value: 1 Again, 2 Hard, 3 Good, 4 Easy
    lang: str


@dataclass(frozen=True)
class Submission:
    uuid: str
    task: str
    submitted_at: datetime
    verdict: str
    score: float | None
    max_score: float | None
    pitfalls: list[str]
    file_hash: str
    file: str | None


class Store:
    """An open progress store. Use `Store.open()`; close it (or use it as a context manager)."""

    def __init__(self, path: Path, connection: sqlite3.Connection):
        self.path = path
        self._db = connection

    # ---- opening and migrating ---------------------------------------------------------------

    @classmethod
    def open(cls, path: Path | None = None) -> "Store":
        path = Path(path) if path is not None else default_path()
        fresh = not path.exists()
        if not fresh and not path.is_file():
            raise StoreError(f"the progress store {path} is not a file")
        if fresh:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"cannot create the progress store's folder {path.parent}: {exc.strerror}. Point "
                                 "DLPREP_HOME at a folder you can write, or run with `--no-record`.") from None
        try:
            db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the progress store {path}: {exc}") from None
        store = cls(path, db)
        try:
            store._prepare(fresh)
        except BaseException:
            db.close()
            raise
        return store

    def _prepare(self, fresh: bool) -> None:
        try:
            version = self._db.execute("PRAGMA user_version").fetchall()[0][0]
            if not fresh and version == 0 and self._tables():
                raise StoreError(self._unusable("is not a dlprep progress store"))
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"the progress store {self.path} was written by a newer dlprep (schema {version}; this "
                    f"dlprep reads up to {SCHEMA_VERSION}). Upgrade dlprep, or point DLPREP_HOME elsewhere; "
                    "`--no-record` lets the quiz run without it.")
            if not fresh and self._db.execute("PRAGMA quick_check").fetchall() != [("ok",)]:
                raise StoreError(self._unusable("is corrupt"))
            if version < SCHEMA_VERSION and not fresh and version > 0:
                self._backup(version)
            self._db.execute("PRAGMA journal_mode=WAL").fetchall()
            if version < SCHEMA_VERSION:
                self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(self._unusable(f"cannot be read ({exc})")) from None

    def _tables(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")]

    def _unusable(self, why: str) -> str:
        return (f"the progress store {self.path} {why}; it was left as it is. Move it aside to start "
                "afresh (or restore a backup beside it), or run with `--no-record`.")

    def _backup(self, version: int) -> None:
        """A consistent copy (SQLite's backup API, whatever the journal mode) before any upgrade."""
        target = sqlite3.connect(self.backup_path(version))
        try:
            self._db.backup(target)
        finally:
            target.close()

    def _migrate(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            current = self._db.execute("PRAGMA user_version").fetchall()[0][0]  # another process may have won
            for number in range(current, SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[number]):
                    self._db.execute(statement)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def backup_path(self, version: int) -> Path:
        """Where the copy taken before upgrading from `version` goes."""
        return self.path.with_name(f"{self.path.name}.schema{version}.bak")

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- writing ---------------------------------------------------------------------------------

    def _write(self, sql: str, params: tuple) -> None:
        try:
            self._db.execute(sql, params)  # autocommit: one row, committed before the next question
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to the progress store {self.path}: {exc}") from None

    def record_answer(self, *, question_id: str, revision: int, answer: Any, shown_order: list[int] | None,
                      score: float, duration_s: float | None, rating: int, lang: str,
                      at: datetime | None = None, uid: str | None = None) -> str:
        uid = uid or new_uuid()
        self._write(
            "INSERT OR IGNORE INTO answers VALUES (?,?,?,?,?,?,?,?,?,?)",
            (uid, question_id, revision, iso(at or now_utc()), json.dumps(answer, ensure_ascii=False),
             json.dumps(shown_order) if shown_order is not None else None, float(score), duration_s,
             int(rating), lang))
        return uid

    def settle_answer(self, uid: str, *, score: float, rating: int) -> None:
        """The final score (after a self-rating) and the rating the learner chose for an answer."""
        self._write("UPDATE answers SET score=?, rating=? WHERE uuid=?", (float(score), int(rating), uid))

    def record_submission(self, *, task: str, verdict: str, score: float | None, max_score: float | None,
                          pitfalls: list[str], file_hash: str, file: str | None,
                          at: datetime | None = None, uid: str | None = None, distinct: bool = False) -> str | None:
        """Record one graded submission. distinct=True (--watch) skips a file whose bytes match the
        task's latest recorded submission: a save with no change is not another attempt."""
        if distinct:
            last = self._db.execute(
                "SELECT file_hash FROM submissions WHERE task=? ORDER BY submitted_at DESC LIMIT 1", (task,)).fetchone()
            if last and last[0] == file_hash:
                return None
        uid = uid or new_uuid()
        self._write(
            "INSERT OR IGNORE INTO submissions VALUES (?,?,?,?,?,?,?,?,?)",
            (uid, task, iso(at or now_utc()), verdict, score, max_score, json.dumps(sorted(pitfalls)),
             file_hash, file))
        return uid

    def record_hint(self, *, task: str, kind: str, level: int | None, at: datetime | None = None,
                    uid: str | None = None) -> str:
        uid = uid or new_uuid()
        self._write("INSERT OR IGNORE INTO hints VALUES (?,?,?,?,?)",
                    (uid, task, iso(at or now_utc()), kind, level))
        return uid

    def reset(self) -> None:
        """Forget everything (the file stays, at the current schema)."""
        self._db.execute("BEGIN IMMEDIATE")
        for table in ("answers", "submissions", "hints"):
            self._db.execute(f"DELETE FROM {table}")
        self._db.execute("COMMIT")

    # ---- reading ---------------------------------------------------------------------------------

    def answers(self, *, question_id: str | None = None, newest_first: bool = False,
                limit: int | None = None) -> list[Answer]:
        sql = "SELECT * FROM answers" + (" WHERE question_id=?" if question_id else "")
        sql += f" ORDER BY answered_at {'DESC' if newest_first else 'ASC'}, uuid"
        sql += f" LIMIT {int(limit)}" if limit is not None else ""
        rows = self._db.execute(sql, (question_id,) if question_id else ()).fetchall()
        return [Answer(r[0], r[1], r[2], parse_time(r[3]), json.loads(r[4]) if r[4] else None,
                       json.loads(r[5]) if r[5] else None, r[6], r[7], r[8], r[9]) for r in rows]

    def submissions(self, *, task: str | None = None, newest_first: bool = False,
                    limit: int | None = None) -> list[Submission]:
        sql = "SELECT * FROM submissions" + (" WHERE task=?" if task else "")
        sql += f" ORDER BY submitted_at {'DESC' if newest_first else 'ASC'}, uuid"
        sql += f" LIMIT {int(limit)}" if limit is not None else ""
        rows = self._db.execute(sql, (task,) if task else ()).fetchall()
        return [Submission(r[0], r[1], parse_time(r[2]), r[3], r[4], r[5], json.loads(r[6]), r[7], r[8])
                for r in rows]

    def hints(self, task: str | None = None) -> list[tuple[str, str, datetime, str, int | None]]:
        rows = self._db.execute("SELECT uuid, task, used_at, kind, level FROM hints"
                                + (" WHERE task=?" if task else "") + " ORDER BY used_at",
                                (task,) if task else ()).fetchall()
        return [(r[0], r[1], parse_time(r[2]), r[3], r[4]) for r in rows]

    def counts(self) -> dict[str, int]:
        return {t: self._db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in ("answers", "submissions", "hints")}

    def transaction(self) -> "_Transaction":
        return _Transaction(self._db)


class _Transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error): an import lands whole or not at all."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind, *exc: object) -> None:
        self._db.execute("ROLLBACK" if kind else "COMMIT")


def _statements(script: str) -> Iterator[str]:
    """The statements of a migration, run one by one inside the migration's transaction
    (sqlite3's executescript would commit first)."""
    for statement in script.split(";"):
        if statement.strip():
            yield statement.strip()
