"""Scheduling and what the records say (grader/practice/scheduler.py, progress.py), on real SQLite
files: ratings from grades, cards replayed from the log, fresh cards for a raised revision, the review
queue with its daily cap of new questions, stats (streak by local date), and imports that do not
depend on their order."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

from fsrs import Rating
from typer.testing import CliRunner

from cli import app
from grader.practice import progress, scheduler
from grader.practice.store import Store

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=timezone.utc)


def q(qid: str, topic: str = "layernorm", revision: int = 1):
    return SimpleNamespace(id=qid, topic=topic, revision=revision)


def answer(store: Store, qid: str, at: datetime, score: float = 1.0, revision: int = 1, rating: int | None = None):
    return store.record_answer(question_id=qid, revision=revision, answer="A", shown_order=None, score=score,
                               duration_s=1.0, rating=rating or int(scheduler.rating_for(score)), lang="en", at=at)


def test_ratings_come_from_the_grade():
    assert [scheduler.rating_for(s) for s in (0.0, 0.49, 0.5, 0.79, 0.8, 1.0)] == [
        Rating.Again, Rating.Again, Rating.Hard, Rating.Hard, Rating.Good, Rating.Good]


def test_card_ids_are_stable_and_distinct():
    assert scheduler.card_id("ln-eps-placement") == scheduler.card_id("ln-eps-placement") > 0
    assert scheduler.card_id("ln-eps-placement") != scheduler.card_id("ln-eps-ratio")


def test_a_fresh_install_has_nothing_due_and_new_questions_are_capped(tmp_path):
    bank = [q(f"q{i:02d}") for i in range(30)]
    with Store.open(tmp_path / "p.sqlite3") as store:
        queue = progress.review_queue(store, bank, now=NOW, new_per_day=5)
        assert (queue.due, queue.new, queue.next_due) == (0, 5, None)
        for item in bank[:3]:  # three new questions answered today already
            answer(store, item.id, NOW - timedelta(minutes=30))
        queue = progress.review_queue(store, bank, now=NOW, new_per_day=5)
        # FSRS's learning steps (1 and 10 minutes) bring them back first; two new ones are left today
        assert (queue.due, queue.new) == (3, 2)
        assert [x.id for x in queue.questions][3:] == ["q03", "q04"]
        later = progress.review_queue(store, bank, now=NOW + timedelta(days=1), new_per_day=5)
        assert later.new == 5  # a new day, a new cap


def test_due_cards_come_first_most_overdue_first(tmp_path):
    bank = [q("a"), q("b"), q("c")]
    with Store.open(tmp_path / "p.sqlite3") as store:
        answer(store, "a", NOW - timedelta(days=30), score=0.0)
        answer(store, "b", NOW - timedelta(days=40), score=0.0)
        queue = progress.review_queue(store, bank, now=NOW, new_per_day=1)
        assert [x.id for x in queue.questions] == ["b", "a", "c"] and (queue.due, queue.new) == (2, 1)


def test_a_raised_revision_starts_a_fresh_card(tmp_path):
    with Store.open(tmp_path / "p.sqlite3") as store:
        for days in (20, 10, 3):
            answer(store, "a", NOW - timedelta(days=days))
        old = scheduler.cards_from(store.answers(), {"a": 1})["a"]
        assert old.card.stability > 10
        assert "a" not in scheduler.cards_from(store.answers(), {"a": 2})  # nothing answered at revision 2
        answer(store, "a", NOW - timedelta(hours=1), revision=2)
        fresh = scheduler.cards_from(store.answers(), {"a": 2})["a"]
        assert fresh.card.stability < old.card.stability


def test_stats_streak_by_local_date_and_pitfalls(tmp_path):
    bank = [q("a"), q("b", "residual")]
    with Store.open(tmp_path / "p.sqlite3") as store:
        for days in (0, 1, 2, 4):
            answer(store, "a", NOW - timedelta(days=days))
        answer(store, "b", NOW - timedelta(hours=2), score=0.25)
        for pits in (["unbiased-variance"], ["unbiased-variance", "eps-outside-sqrt"]):
            store.record_submission(task="layernorm", verdict="fail", score=1, max_score=31, pitfalls=pits,
                                    file_hash=str(pits), file="ln.py", at=NOW)
        data = progress.stats(store, bank, now=NOW)
    assert data.streak_days == 3  # today, yesterday, the day before; not four days ago
    assert {t.topic: t.answers for t in data.topics} == {"layernorm": 4, "residual": 1}
    assert data.weakest[0]["id"] == "b"
    assert data.pitfalls == [("unbiased-variance", 2), ("eps-outside-sqrt", 1)]
    assert data.due_next_days[0] == 1 and sum(data.due_next_days) == 1  # b again today; a in weeks


def test_imports_rebuild_the_same_cards_in_either_order(tmp_path):
    stores = {}
    for name, offset in (("laptop", 0), ("desktop", 1)):
        with Store.open(tmp_path / f"{name}.sqlite3") as store:
            for days in (9, 5, 2):
                answer(store, "a", NOW - timedelta(days=days + offset * 0.5), score=1.0 if offset else 0.6)
            stores[name] = tmp_path / f"{name}.json"
            progress.export(store, stores[name])
    cards = []
    for order in (("laptop", "desktop"), ("desktop", "laptop")):
        with Store.open(tmp_path / f"merged-{order[0]}.sqlite3") as store:
            for name in order:
                progress.import_(store, stores[name])
            progress.import_(store, stores[order[0]])  # twice: nothing added
            assert len(store.answers()) == 6
            cards.append(scheduler.cards_from(store.answers(), {"a": 1})["a"].card.to_dict())
    assert cards[0] == cards[1]


def test_stats_and_history_json_from_the_cli(tmp_path):
    with Store.open() as store:
        answer(store, "ln-normalized-dims", datetime.now(timezone.utc))
    runner = CliRunner()
    doc = json.loads(runner.invoke(app, ["stats", "--json"]).stdout)
    assert doc["answers"] == 1 and doc["topics"][0]["topic"] == "layernorm" and len(doc["due_next_7_days"]) == 7
    table = runner.invoke(app, ["stats"])
    assert table.exit_code == 0 and "layernorm" in table.stdout and "█" in table.stdout
    rows = json.loads(runner.invoke(app, ["history", "--json", "--limit", "5"]).stdout)
    assert rows[0]["id"] == "ln-normalized-dims" and rows[0]["kind"] == "answer"


def test_submit_records_each_grade_unless_told_not_to(tmp_path):
    from pathlib import Path

    article = Path(__file__).parent / "golden" / "article-layernorm" / "submission.py"
    runner = CliRunner()
    graded = runner.invoke(app, ["submit", str(article), "--task", "layernorm", "--json"])
    assert graded.exit_code == 1, graded.stderr
    assert runner.invoke(app, ["submit", str(article), "--task", "layernorm", "--json", "--no-record"]).exit_code == 1
    with Store.open() as store:
        (only,) = store.submissions()
    assert only.task == "layernorm" and only.verdict == "fail" and only.max_score > 0
    assert {"unbiased-variance", "eps-outside-sqrt"} <= set(only.pitfalls) and len(only.file_hash) == 64


def test_quiz_answers_files_are_recorded_unless_told_not_to(tmp_path):
    from grader.bank.catalog import load_catalog
    from grader.bank.schema import answer_form

    key = answer_form(load_catalog().questions["ln-normalized-dims"].question)
    answers = tmp_path / "a.yaml"
    answers.write_text(f"ln-normalized-dims: {key}\nno-such-id: A\n", encoding="utf-8")
    runner = CliRunner()
    runner.invoke(app, ["quiz", "--answers", str(answers), "--json"])
    runner.invoke(app, ["quiz", "--answers", str(answers), "--json", "--no-record"])
    with Store.open() as store:
        (row,) = store.answers()
    assert (row.question_id, row.answer, row.rating) == ("ln-normalized-dims", key, int(Rating.Good))
