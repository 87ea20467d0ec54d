"""Grade one answer to one question: choices, multi partial credit, numeric tolerance, and short
free text by a rubric of key points (grader.practice.rubric grades the text; this module reads the
answer, turns the verdict into a result and words the feedback).

Free text is graded by matchers, not by a model: an embedding model tried here rated a negated,
wrong answer above a correct paraphrase and could not read Chinese.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from typing import Any

from grader.bank.schema import (
    LETTERS,
    ChoiceQuestion,
    MultiQuestion,
    NumericQuestion,
    ShortQuestion,
    SingleQuestion,
    TrueFalseQuestion,
    answer_form,
)
from grader.practice import rubric


class AnswerFormError(ValueError):
    """An answer that cannot be read for its question type (e.g. "Z" for four choices). str() is
    English (problem lines); `message(lang)` is what the interactive quiz shows."""

    def __init__(self, kind: str, **params: Any):
        self.kind, self.params = kind, params
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        en, zh = _FORM_MESSAGES[self.kind]
        return (zh if lang == "zh" else en).format(**self.params)


_FORM_MESSAGES = {
    "one-letter": ("expected one letter {range}", "需要一个字母 {range}"),
    "letters": ('expected one or more letters {range}, e.g. "AC"', '需要一个或多个字母 {range}，如 "AC"'),
    "not-letters": ("expected letters {range}, got {got!r}", "需要字母 {range}，收到 {got!r}"),
    "not-a-choice": ("{letter!r} is not a choice ({range})", "{letter!r} 不是选项（{range}）"),
    "boolean": ("expected true or false, got {got!r}", "需要 对/错（true/false），收到 {got!r}"),
    "number": ("expected a number, got {got!r}", "需要一个数，收到 {got!r}"),
    "finite": ("expected a finite number, got {got!r}", "需要一个有限的数，收到 {got!r}"),
    "text": ("expected a non-empty text answer", "需要非空的文字答案"),
    "too-long": ("the answer has {length} characters; at most {limit}", "答案有 {length} 个字符，最多 {limit} 个"),
}

# A short answer is a few sentences; a cap keeps a pasted book from tying up the grader.
MAX_ANSWER_CHARS = 5000


@dataclass
class AnswerResult:
    id: str
    type: str
    score: float  # 0..1
    correct: bool  # score == 1
    feedback: str
    given: Any  # the parsed answer, in answers-file form
    answer: Any  # the correct answer, in answers-file form (the model answer for short)
    explanation: str
    points_hit: list[str] = field(default_factory=list)
    points_missed: list[str] = field(default_factory=list)
    misconceptions: list[str] = field(default_factory=list)  # asserted by the answer (swaps included)
    model_answer: str | None = None
    # Short answers: the grader's evidence is thin (see grader.practice.rubric); the quiz asks the
    # learner to rate themselves against the key points.
    unsure: bool = False
    self_rated: bool = False  # the score is the learner's own rating against the key points

    def to_dict(self) -> dict:
        return asdict(self)


# ---- reading answers ------------------------------------------------------------------------

_TRUE = {"true", "t", "yes", "y", "1", "✓", "✔", "对", "是", "正确", "对的", "是的"}
_FALSE = {"false", "f", "no", "n", "0", "✗", "✘", "×", "错", "否", "错误", "错的", "不对", "不是", "不正确"}


def parse_answer(question, raw: Any) -> Any:
    """An answers-file or typed value in the form its question type needs; AnswerFormError when
    it has the wrong form. Letters are case-insensitive; multi accepts "AC", "A,C" or [A, C]."""
    if isinstance(question, SingleQuestion):
        letters = _letters(question, raw)
        if len(letters) != 1:
            raise AnswerFormError("one-letter", range=_letter_range(question))
        return letters[0]
    if isinstance(question, MultiQuestion):
        letters = _letters(question, raw)
        if not letters:
            raise AnswerFormError("letters", range=_letter_range(question))
        return "".join(sorted(set(letters)))
    if isinstance(question, TrueFalseQuestion):
        return _boolean(raw)
    if isinstance(question, NumericQuestion):
        return _number(raw, question.unit)
    if isinstance(question, ShortQuestion):
        if not isinstance(raw, str) or not raw.strip():
            raise AnswerFormError("text")
        if len(raw) > MAX_ANSWER_CHARS:
            raise AnswerFormError("too-long", limit=MAX_ANSWER_CHARS, length=len(raw))
        return raw.strip()
    raise TypeError(f"unsupported question type {type(question).__name__}")


def _letter_range(question: ChoiceQuestion) -> str:
    return f"A-{LETTERS[len(question.choices) - 1]}"


# Between and around letters: separators ("A, C", "A/C", "A、C") and the marks learners copy from
# how choices are printed ("(A)", "A.", "B)"). Anything else (a word, a digit) is not an answer.
_LETTER_DECORATION = re.compile(r"[\s,;/、()\[\].:]+")


def _letters(question: ChoiceQuestion, raw: Any) -> list[str]:
    """The letters of a choice answer, duplicates kept (multi treats "AAC" as "AC")."""
    if isinstance(raw, list) and all(isinstance(item, str) for item in raw):
        raw = ",".join(raw)
    if not isinstance(raw, str):
        raise AnswerFormError("not-letters", range=_letter_range(question), got=raw)
    # NFKC: full-width "Ａ，Ｃ" from a Chinese input method reads as "A,C".
    text = unicodedata.normalize("NFKC", raw)
    letters = _LETTER_DECORATION.sub("", text).upper()
    if letters and not (letters.isascii() and letters.isalpha()):
        raise AnswerFormError("not-letters", range=_letter_range(question), got=raw)
    for letter in letters:
        if letter not in LETTERS[: len(question.choices)]:
            # "A and C", "option B": words, not a stray letter; say what an answer looks like.
            words = _LETTER_DECORATION.split(text.strip())
            if len(words) > 1 and any(len(word) > 1 for word in words):
                raise AnswerFormError("not-letters", range=_letter_range(question), got=raw)
            raise AnswerFormError("not-a-choice", letter=letter, range=_letter_range(question))
    return list(letters)


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int) and raw in (0, 1):  # YAML reads an unquoted 1 or 0 as a number
        return bool(raw)
    if isinstance(raw, str):
        word = unicodedata.normalize("NFKC", raw).strip().rstrip(".。!！").lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
    raise AnswerFormError("boolean", got=raw)


# "1,024": commas only between groups of three digits, so a decimal comma ("1,5") is refused rather
# than read as 15.
_THOUSANDS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def _number(raw: Any, unit: str | None = None) -> float:
    # PyYAML reads 1e-5 (no dot) as a string, so numeric strings are accepted too.
    if isinstance(raw, bool):
        raise AnswerFormError("number", got=raw)
    text = raw
    if isinstance(raw, str):
        text = unicodedata.normalize("NFKC", raw).strip().replace("_", "").replace("\u2212", "-")  # − minus
        if unit and text.lower().endswith(unit.lower()):  # "0.5 %" when the question's unit is %
            text = text[: -len(unit)].strip()
        if _THOUSANDS.match(text):
            text = text.replace(",", "")
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise AnswerFormError("number", got=raw) from None
    if not math.isfinite(value):
        raise AnswerFormError("finite", got=raw)
    return value


# ---- grading --------------------------------------------------------------------------------


def grade(question, raw: Any, lang: str = "en") -> AnswerResult:
    """Grade one answer (raw: an answers-file or typed value). Raises AnswerFormError for an answer
    of the wrong form, so the caller can report it or ask again."""
    given = parse_answer(question, raw)
    result = AnswerResult(
        id=question.id,
        type=question.type,
        score=0.0,
        correct=False,
        feedback="",
        given=given,
        answer=answer_form(question),
        explanation=question.explanation.get(lang),
    )
    if isinstance(question, ShortQuestion):
        _grade_short(question, given, lang, result)
    else:
        result.score = _choice_score(question, given)
    result.score = round(min(max(result.score, 0.0), 1.0), 6)
    result.correct = result.score == 1.0
    result.feedback = _feedback(question, result, lang)
    return result


def _choice_score(question, given: Any) -> float:
    if isinstance(question, MultiQuestion):
        right = sum(1 for letter in given if letter in question.answer)
        wrong = len(given) - right
        return max(0.0, (right - wrong) / len(question.answer))
    if isinstance(question, NumericQuestion):
        close = math.isclose(
            given, question.answer, rel_tol=question.rel_tol or 0.0, abs_tol=question.abs_tol or 0.0
        )
        return 1.0 if close else 0.0
    return 1.0 if given == question.answer else 0.0  # single, truefalse


def _grade_short(question: ShortQuestion, text: str, lang: str, result: AnswerResult) -> None:
    verdict = rubric.grade(question, text)
    words = _FEEDBACK["zh" if lang == "zh" else "en"]
    result.points_hit = [point.point.get(lang) for point in verdict.hit]
    result.points_missed = [point.point.get(lang) for point in verdict.missed]
    result.misconceptions = [
        *(words["swapped"].format(point=point.point.get(lang).rstrip(".。"), subject=subject)
          for point, subject in verdict.swapped),
        *(words["contradicted"].format(point=point.point.get(lang).rstrip(".。")) for point in verdict.contradicted),
        *(wrong.claim.get(lang) for wrong in verdict.misconceptions),
    ]
    result.score = verdict.score
    result.unsure = verdict.unsure
    result.model_answer = question.model_answer.get(lang)


_FEEDBACK = {
    "en": {
        "correct": "Correct.",
        "wrong": "Incorrect: the answer is {answer}.",
        "partial": "Partly correct ({score:.0%}): the answer is {answer}.",
        "short": "{hit} of {total} key points{misc}.",
        "misc": "; misconceptions: {claims}",
        "swapped": "said of {subject}: {point}",
        "contradicted": "contradicts: {point}",
        "unsure": " Not sure of this grade: compare your answer with the key points.",
        "self_rated": " (your own rating)",
        "true": "true",
        "false": "false",
    },
    "zh": {
        "correct": "正确。",
        "wrong": "错误：正确答案是 {answer}。",
        "partial": "部分正确（{score:.0%}）：正确答案是 {answer}。",
        "short": "命中 {hit}/{total} 个要点{misc}。",
        "misc": "；误解：{claims}",
        "swapped": "说成了 {subject} 的：{point}",
        "contradicted": "与要点相反：{point}",
        "unsure": "本次评分把握不大：请对照要点自行判断。",
        "self_rated": "（你的自评）",
        "true": "对",
        "false": "错",
    },
}


def _feedback(question, result: AnswerResult, lang: str) -> str:
    words = _FEEDBACK["zh" if lang == "zh" else "en"]
    if isinstance(question, ShortQuestion):
        hit, missed = len(result.points_hit), len(result.points_missed)
        claims = "; ".join(claim.rstrip(".。") for claim in result.misconceptions)
        misc = words["misc"].format(claims=claims) if claims else ""
        note = words["self_rated"] if result.self_rated else words["unsure"] if result.unsure else ""
        return words["short"].format(hit=hit, total=hit + missed, misc=misc) + note
    if result.correct:
        return words["correct"]
    answer = result.answer
    if isinstance(question, TrueFalseQuestion):
        answer = words["true" if answer else "false"]
    elif isinstance(question, NumericQuestion):
        answer = format_number(question)
    key = "partial" if result.score > 0 else "wrong"
    return words[key].format(answer=answer, score=result.score)


def rate_self(question: ShortQuestion, result: AnswerResult, made: list[bool], lang: str = "en") -> None:
    """Replace an unsure grade by the learner's own: `made` says, per key point in rubric order,
    whether their answer made it. The grader found no misconception in an unsure answer, so the
    score is the weight of the points made over the total."""
    if len(made) != len(question.rubric):
        raise ValueError(f"expected {len(question.rubric)} ratings, got {len(made)}")
    total = sum(point.weight for point in question.rubric)
    result.score = round(sum(p.weight for p, ok in zip(question.rubric, made) if ok) / total, 6)
    result.correct = result.score == 1.0
    result.points_hit = [p.point.get(lang) for p, ok in zip(question.rubric, made) if ok]
    result.points_missed = [p.point.get(lang) for p, ok in zip(question.rubric, made) if not ok]
    result.self_rated = True
    result.feedback = _feedback(question, result, lang)


def format_number(question: NumericQuestion) -> str:
    """The expected number with its tolerance and unit, e.g. \"1024 ± 0\"."""
    text = f"{question.answer:g}"
    if question.abs_tol:
        text += f" ± {question.abs_tol:g}"
    elif question.rel_tol:
        text += f" (± {question.rel_tol:.0%})"
    return f"{text} {question.unit}" if question.unit else text
