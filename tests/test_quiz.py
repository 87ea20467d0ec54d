"""Picking questions, the quiz session and its summary, on-screen shuffling, answers files."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from grader.bank import catalog as banks
from grader.practice import quiz
from grader.errors import UsageError

FIXTURES = Path(__file__).parent / "banks"


@pytest.fixture(scope="module")
def questions():
    catalog = banks.load_paths([FIXTURES])
    return {qid: entry.question for qid, entry in catalog.questions.items()}


def ids(items):
    return [q.id for q in items]


def test_filter_by_topics_and_difficulty(questions):
    assert ids(quiz.filter_questions(questions.values(), topics=["fx-residual"])) == ["t-short", "t-tf"]
    assert ids(quiz.filter_questions(questions.values(), difficulty="medium")) == ["t-multi", "t-num"]
    both = quiz.filter_questions(questions.values(), topics=["fx-norm", "fx-residual"], difficulty="easy")
    assert ids(both) == ["t-single", "t-tf"]


def test_same_seed_same_quiz_whatever_the_input_order(questions):
    forward = quiz.start_session(questions.values(), seed=7, count=3)
    backward = quiz.start_session(reversed(list(questions.values())), seed=7, count=3)
    assert ids(forward.questions) == ids(backward.questions)
    assert len(forward.questions) == 3
    orders = {tuple(ids(quiz.start_session(questions.values(), seed=s).questions)) for s in range(6)}
    assert len(orders) > 1  # the seed does choose the order


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"topics": ["fx-nrom"]}, "unknown topic fx-nrom (topics: fx-norm, fx-residual)"),
        ({"difficulty": "extreme"}, "--difficulty must be one of easy, medium, hard"),
        ({"lang": "fr"}, "--lang must be one of en, zh"),
        ({"count": 0}, "--count must be at least 1"),
        ({"topics": ["fx-residual"], "difficulty": "medium"}, "no questions match these options"),
    ],
)
def test_bad_quiz_options_are_usage_errors(questions, options, message):
    with pytest.raises(UsageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        quiz.start_session(questions.values(), **options)


def test_session_grades_in_order_and_summarises_by_topic(questions):
    session = quiz.QuizSession([questions["t-single"], questions["t-multi"], questions["t-tf"]])
    assert session.current.id == "t-single"
    assert session.answer("B").correct
    assert session.answer("A").score == 0.5
    assert session.current.id == "t-tf"
    summary = session.summary()
    assert (summary.answered, summary.asked, summary.score, summary.max_score) == (2, 3, 1.5, 2)
    (norm,) = summary.topics
    assert (norm.topic, norm.answered, norm.correct, norm.score) == ("fx-norm", 2, 1, 1.5)


def test_a_wrong_form_leaves_the_session_where_it_was(questions):
    session = quiz.QuizSession([questions["t-single"]])
    with pytest.raises(ValueError):
        session.answer("Z")
    assert session.current.id == "t-single" and session.results == []


def test_shuffled_letters_map_back_to_the_bank_order(questions):
    question = questions["t-multi"]
    assert quiz.choice_order(question, None) == [0, 1, 2, 3]
    order = quiz.choice_order(question, random.Random(3))
    assert sorted(order) == [0, 1, 2, 3] and order != [0, 1, 2, 3]
    # The learner types the on-screen letters of the bank's A and B.
    typed = "".join("ABCD"[order.index(bank_index)] for bank_index in (0, 1))
    assert sorted(quiz.to_bank_letters(typed, order)) == ["A", "B"]
    assert quiz.to_bank_letters("a, z", [2, 0, 1]) == "C, Z"  # junk passes through to be reported


def test_answers_file_grades_exactly_those_and_reports_problems(tmp_path, questions):
    path = tmp_path / "answers.yaml"
    path.write_text("t-multi: AB\nt-num: 1e3\nnope: A\nt-single: E\n", encoding="utf-8")
    report = quiz.grade_answers_file(path, questions)
    assert ids(report.results) == ["t-multi", "t-num"]
    assert [r.score for r in report.results] == [1.0, 0.0]
    assert report.problems == [
        f"{path}:3: id=nope: unknown question id",
        f"{path}:4: id=t-single: cannot read the answer: 'E' is not a choice (A-C)",
    ]
    data = report.to_dict()
    assert (data["score"], data["max_score"]) == (1.0, 2)
    assert not report.all_correct


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such answers file"),
        ("- A\n- B\n", "a YAML mapping of question id to answer"),
        ("", "a YAML mapping of question id to answer"),
        ("t-single: [A\n", "YAML syntax error"),
    ],
)
def test_unusable_answers_files_are_usage_errors(tmp_path, questions, content, message):
    path = tmp_path / "answers.yaml"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UsageError, match=message):
        quiz.grade_answers_file(path, questions)
