"""The recorded interactive flows through a real pseudo-terminal (pexpect): `dlprep review` with
its ratings, the self-rating after a free-text answer, and a `kill -9` mid-quiz that keeps every
answer given before it. Each test has its own DLPREP_HOME (the autouse fixture), so the store is a
real SQLite file that the test reads afterwards."""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pexpect

from grader.practice.store import Store

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).parent / "banks"
TITLE = r"(\d+)/(\d+) · (t-[a-z]+) ·"
PROMPT = r"\): "
RATING = r"Enter = (\w+) · a again"


def spawn(*args: str, topic: str = "fx-norm") -> pexpect.spawn:
    env = dict(os.environ, TERM="xterm-256color", COLUMNS="120", LINES="40")
    command = [str(ROOT / "cli.py"), *args, "--bank", str(FIXTURES), "--topic", topic]
    return pexpect.spawn(sys.executable, command, env=env, encoding="utf-8", dimensions=(40, 120), timeout=30)


def answer_for(qid: str) -> str:
    return {"t-tf": "t", "t-num": "1024", "t-short": "the identity path carries gradients directly to early layers"}.get(qid, "A")


def test_review_asks_new_questions_then_records_each_rating():
    child = spawn("review", "--new", "2", "--seed", "3")
    child.expect("0 due, 2 new")
    seen = []
    for rating in ("e", ""):  # easy, then Enter accepts the grade's rating
        child.expect(TITLE)
        seen.append(child.match.group(3))
        child.expect(PROMPT)
        child.sendline("1024" if seen[-1] == "t-num" else "A")
        child.expect(RATING)
        child.sendline(rating)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    with Store.open() as store:
        rows = store.answers()
    assert [r.question_id for r in rows] == seen == ["t-multi", "t-num"]  # new questions in id order
    assert rows[0].rating == 4 and rows[1].rating == 3  # t-num answered right: Good
    again = spawn("review", "--new", "2")
    again.expect(r"Nothing is due now\. The next card is due \d{4}-\d\d-\d\d")  # today's 2 new are used up
    again.expect(pexpect.EOF)


def test_a_kill_mid_quiz_keeps_every_answer_given_before_it():
    child = spawn("quiz", "--seed", "5", "--no-shuffle")
    answered = []
    while len(answered) < 2:
        child.expect(TITLE)
        qid = child.match.group(3)
        child.expect(PROMPT)
        child.sendline(answer_for(qid))
        answered.append(qid)
    child.expect(TITLE)  # the third question is on screen, unanswered
    child.expect(PROMPT)
    os.kill(child.pid, signal.SIGKILL)
    child.expect(pexpect.EOF)
    child.close()
    with Store.open() as store:
        assert [r.question_id for r in store.answers()] == answered


def test_after_a_free_text_answer_the_learner_rates_it():
    child = spawn("quiz", "--seed", "5", topic="fx-residual")  # t-tf and t-short
    while True:
        child.expect(TITLE)
        qid = child.match.group(3)
        child.expect(PROMPT)
        child.sendline(answer_for(qid))
        if qid == "t-short":
            child.expect("Key points")
            child.expect(RATING)
            child.sendline("h")
            break
        child.expect("✓ Correct")  # no rating prompt after a true/false answer in the quiz
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    with Store.open() as store:
        short = [r for r in store.answers() if r.question_id == "t-short"]
    assert [r.rating for r in short] == [2]
