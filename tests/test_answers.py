"""Grading of every question type, answers-file forms, and the short-answer rubric in English and
Chinese, with negation and misconceptions."""
from __future__ import annotations

import pytest

from grader.practice.answers import AnswerFormError, grade, parse_answer
from grader.bank.schema import (
    MultiQuestion,
    NumericQuestion,
    ShortQuestion,
    SingleQuestion,
    TrueFalseQuestion,
)

BASE = {"topic": "t", "difficulty": "easy", "prompt": {"en": "Q?"}, "explanation": {"en": "Why.", "zh": "原因。"}}
CHOICES = [{"en": c} for c in "wxyz"]


def single(answer="B"):
    return SingleQuestion.model_validate({**BASE, "id": "s", "type": "single", "choices": CHOICES, "answer": answer})


def multi(answer="AC"):
    return MultiQuestion.model_validate({**BASE, "id": "m", "type": "multi", "choices": CHOICES, "answer": answer})


def numeric(answer=1024.0, **tol):
    return NumericQuestion.model_validate({**BASE, "id": "n", "type": "numeric", "answer": answer, **tol})


LAYERNORM_SHORT = ShortQuestion.model_validate(
    {
        **BASE,
        "id": "ln-short",
        "type": "short",
        "rubric": [
            {
                "point": {"en": "normalizes over the features of one sample", "zh": "对单个样本的所有特征归一化"},
                "weight": 2,
                "match": {
                    "en": ["features of each sample", "features of one sample", "re:across (the )?features"],
                    "zh": ["单个样本", "每个样本", "同一样本"],
                },
            },
            {
                "point": {"en": "uses no batch statistics", "zh": "不依赖批统计量"},
                "match": {
                    "en": ["independent of the batch", "re:(no|without) (batch statistics|running)"],
                    "zh": ["与批大小无关", "不依赖批"],
                },
            },
        ],
        "misconceptions": [
            {
                "claim": {"en": "it makes the features Gaussian", "zh": "它让特征服从高斯分布"},
                "penalty": 0.5,
                "match": {"en": ["gaussian", "normal distribution"], "zh": ["高斯", "正态分布"]},
            }
        ],
        "model_answer": {"en": "x", "zh": "x"},
    }
)


def test_single_is_all_or_nothing_and_case_insensitive():
    assert grade(single(), " b ").score == 1.0
    wrong = grade(single(), "C")
    assert (wrong.score, wrong.correct, wrong.answer) == (0.0, False, "B")
    assert "the answer is B" in wrong.feedback


@pytest.mark.parametrize(
    ("given", "score"),
    [
        ("AC", 1.0),
        ("ca", 1.0),  # order and case do not matter
        ("A, C", 1.0),
        (["A", "C"], 1.0),
        ("A", 0.5),  # one of two right picks
        ("AB", 0.0),  # (1 right - 1 wrong) / 2
        ("ABC", 0.5),  # (2 - 1) / 2
        ("BD", 0.0),  # (0 - 2) / 2, floored at 0
        ("ABCD", 0.0),  # picking everything earns nothing
    ],
)
def test_multi_partial_credit_is_right_minus_wrong_over_correct(given, score):
    result = grade(multi("AC"), given)
    assert result.score == score
    assert result.correct is (score == 1.0)


def test_multi_partial_feedback_says_partly_correct():
    assert grade(multi("AC"), "A").feedback == "Partly correct (50%): the answer is AC."
    assert grade(multi("AC"), "A", lang="zh").feedback == "部分正确（50%）：正确答案是 AC。"


@pytest.mark.parametrize(("given", "expected"), [(True, True), ("yes", True), ("F", False), ("对", True), ("no", False)])
def test_truefalse_accepts_words_and_booleans(given, expected):
    question = TrueFalseQuestion.model_validate({**BASE, "id": "tf", "type": "truefalse", "answer": True})
    assert parse_answer(question, given) is expected
    assert grade(question, given).correct is expected


@pytest.mark.parametrize(
    ("tolerance", "given", "correct"),
    [
        ({"abs_tol": 0}, 1024, True),
        ({"abs_tol": 0}, "1.024e3", True),  # PyYAML reads 1e3 as a string
        ({"abs_tol": 0}, 1025, False),
        ({"abs_tol": 2}, 1026, True),
        ({"rel_tol": 0.01}, 1034, True),
        ({"rel_tol": 0.01}, 1035, False),
    ],
)
def test_numeric_within_tolerance(tolerance, given, correct):
    assert grade(numeric(1024, **tolerance), given).correct is correct


def test_numeric_string_answers_like_1e_minus_5():
    assert grade(numeric(1e-5, rel_tol=1e-6), "1e-5").correct


@pytest.mark.parametrize(
    ("question", "given", "message"),
    [
        (single(), "E", "'E' is not a choice (A-D)"),
        (single(), "AB", "expected one letter A-D"),
        (single(), 3, "expected letters A-D"),
        (multi(), "", "expected one or more letters"),
        (multi(), "AX", "'X' is not a choice"),
        (numeric(abs_tol=0), "lots", "expected a number"),
        (numeric(abs_tol=0), True, "expected a number"),
        (numeric(abs_tol=0), "nan", "expected a finite number"),
        (LAYERNORM_SHORT, "   ", "expected a non-empty text answer"),
        (LAYERNORM_SHORT, 42, "expected a non-empty text answer"),
    ],
)
def test_wrong_answer_forms_are_clear_problems(question, given, message):
    with pytest.raises(AnswerFormError, match=message.replace("(", r"\(").replace(")", r"\)")):
        grade(question, given)


def test_wrong_form_messages_in_chinese():
    with pytest.raises(AnswerFormError) as info:
        grade(single(), "E", lang="zh")
    assert info.value.message("zh") == "'E' 不是选项（A-D）"
    assert str(info.value) == "'E' is not a choice (A-D)"  # problem lines stay English


def test_truefalse_wrong_form():
    question = TrueFalseQuestion.model_validate({**BASE, "id": "tf", "type": "truefalse", "answer": False})
    with pytest.raises(AnswerFormError, match="expected true or false"):
        grade(question, "maybe")


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("It normalizes across features of one sample, independent of the batch.", 1.0),
        ("LayerNorm normalizes across the features, with no batch statistics.", 1.0),
        ("It normalizes across the features.", 2 / 3),  # weights 2 and 1
        ("It normalizes each feature over the batch.", 0.0),
        # Negation: stating the opposite of a key point must not earn it.
        ("It does not normalize across the features; it uses the batch.", 0.0),
        ("It never looks at the features of one sample.", 0.0),
        # Negation reaches only within its clause: "not X, but Y" earns Y.
        ("Not over the batch, but across the features of each sample.", 2 / 3),
        ("It is not computed over the batch but across the features.", 2 / 3),
        # Misconceptions cost their penalty unless negated.
        ("Normalizes across features of each sample and makes them Gaussian.", 2 / 3 - 0.5),
        ("Across the features of each sample, without batch statistics; it doesn't make them gaussian.", 1.0),
        # Width and case folding: full-width letters and punctuation match.
        ("ＡＣＲＯＳＳ　ＴＨＥ　ＦＥＡＴＵＲＥＳ，ｗｉｔｈｏｕｔ ｒｕｎｎｉｎｇ stats", 1.0),
    ],
)
def test_short_english_rubric_with_negation(answer, score):
    assert grade(LAYERNORM_SHORT, answer).score == pytest.approx(max(score, 0.0), abs=1e-6)


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("层归一化对单个样本的所有特征做归一化，与批大小无关。", 1.0),
        ("它在每个样本内部归一化", 2 / 3),
        # No spaces between words, and still graded.
        ("对每个样本的特征求均值和方差然后归一化不依赖批统计量", 1.0),
        # Negation in Chinese: 不 / 不是 / 并非 / 没有 before the point.
        ("它不是对单个样本归一化，而是对整个批次。", 0.0),
        ("并非每个样本单独归一化", 0.0),
        ("不是对批次，而是对每个样本的特征归一化", 2 / 3),  # 而是 ends the negation's reach
        # A word containing 不 that does not negate (不同 = different).
        ("对不同样本分别计算，每个样本内部归一化", 2 / 3),
        # Spaces between Chinese characters (folded YAML lines, typing habits) do not matter.
        ("对 单个 样本 的 特征 归一化，不 依赖 批 统计量", 1.0),
        # Misconception asserted, and negated.
        ("对每个样本归一化，使特征服从高斯分布", 2 / 3 - 0.5),
        ("对每个样本归一化，与批大小无关，但它不会让特征变成高斯分布", 1.0),
    ],
)
def test_short_chinese_rubric_with_negation(answer, score):
    assert grade(LAYERNORM_SHORT, answer, lang="zh").score == pytest.approx(max(score, 0.0), abs=1e-6)


def test_short_result_lists_points_and_misconceptions_in_the_chosen_language():
    result = grade(LAYERNORM_SHORT, "每个样本的特征是高斯分布", lang="zh")
    assert result.points_hit == ["对单个样本的所有特征归一化"]
    assert result.points_missed == ["不依赖批统计量"]
    assert result.misconceptions == ["它让特征服从高斯分布"]
    assert result.model_answer == "x"
    assert result.feedback == "命中 1/2 个要点；误解：它让特征服从高斯分布。"
    assert result.explanation == "原因。"


def test_answer_result_is_plain_json_data():
    data = grade(single(), "B").to_dict()
    assert {"id", "score", "correct", "feedback", "answer", "given", "explanation"} <= set(data)
    assert data["correct"] is True
