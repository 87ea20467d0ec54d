"""The schema of a question bank file (pydantic v2, extra fields forbidden).

A bank file is YAML with a top-level `questions:` list; a coding-task file has a top-level `task:`
mapping instead (see grader/bank/taskspec.py). Loading with line numbers lives in grader/bank/catalog.py.
"""
from __future__ import annotations

import re
import string
from typing import Annotated, Any, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

LANGS = ("en", "zh")
LETTERS = string.ascii_uppercase

_SLUG = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


def _slug(value: str) -> str:
    # A human message instead of pydantic's regex dump: bank authors read it.
    if not _SLUG.match(value):
        raise ValueError(f"{value!r} must be lowercase letters, digits, '.', '_' or '-'")
    return value


_SLUG_SCHEMA = {"pattern": _SLUG.pattern}  # kept in the JSON Schema for editors
Id = Annotated[str, Field(min_length=1, max_length=80, json_schema_extra=_SLUG_SCHEMA), AfterValidator(_slug)]
Topic = Annotated[str, Field(min_length=1, max_length=40, json_schema_extra=_SLUG_SCHEMA), AfterValidator(_slug)]
Difficulty = Literal["easy", "medium", "hard"]


def check_regex(pattern: str) -> None:
    """ValueError, with re's own reason, for a pattern that does not compile, or that holds a control
    character: "\\b" in a double-quoted YAML string is a backspace, not a word boundary, and never
    matches an answer."""
    control = next((c for c in pattern if ord(c) < 32 and c not in "\t\n"), None)
    if control is not None:
        raise ValueError(f"bad regex {pattern!r}: it holds the control character U+{ord(control):04X}; in a "
                         "double-quoted YAML string write \\\\b for a word boundary (or quote it with ' ')")
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"bad regex {pattern!r}: {exc}") from None


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Text(Strict):
    """Text in English and/or Chinese; at least one. `get` falls back to the other language."""

    en: str | None = None
    zh: str | None = None

    @model_validator(mode="after")
    def _one_language(self) -> "Text":
        if not (self.en or "").strip() and not (self.zh or "").strip():
            raise ValueError("needs text in at least one language (en or zh)")
        return self

    def get(self, lang: str = "en") -> str:
        first, second = (self.zh, self.en) if lang == "zh" else (self.en, self.zh)
        return (first if (first or "").strip() else second) or ""


class Matchers(Strict):
    """Ways to recognise a key point in free text. Plain strings match as case-insensitive
    substrings (after whitespace is normalised); strings starting with `re:` are regexes.
    Both lists are tried on every answer, whatever its language."""

    en: list[str] = []
    zh: list[str] = []

    @field_validator("en", "zh")
    @classmethod
    def _regexes_compile(cls, items: list[str]) -> list[str]:
        for item in items:
            if item.startswith("re:"):
                check_regex(item[3:])
            elif not item.strip():
                raise ValueError("empty matcher")
        return items

    @model_validator(mode="after")
    def _not_empty(self) -> "Matchers":
        if not self.en and not self.zh:
            raise ValueError("needs at least one matcher (under en or zh)")
        return self

    def all(self) -> list[str]:
        return [*self.en, *self.zh]


class Claim(Strict):
    """What a key point and a misconception share: how the grader finds the claim in an answer."""

    match: Matchers
    # Phrases whose denial makes the claim ("RMSNorm does not subtract the mean" makes "no re-centering").
    denies: Matchers | None = None
    # The subject (a `subjects` name) the claim is about: said of another subject, it does not count.
    about: str | None = None


class KeyPoint(Claim):
    point: Text  # shown to the learner as hit or missed
    weight: float = Field(1.0, gt=0)


class Misconception(Claim):
    claim: Text  # shown when the answer asserts it
    penalty: float = Field(0.5, gt=0, le=1)


class Subject(Strict):
    """Something a short answer makes claims about (post-LN vs pre-LN): how feedback names it, and
    how the grader finds where the answer names it."""

    name: str = Field(min_length=1, max_length=40)
    match: Matchers
    # A third party a long answer may bring in (Highway networks beside residual connections, RAdam
    # beside Xiong et al.): what is said of it is neither a misconception, nor a point made, nor a
    # swap; naming it only keeps its claims from being read as the answer's subjects'.
    other: bool = False


EXAMPLE_KINDS = ("correct", "partial", "negated", "swapped", "wrong", "off-topic")
# The score an example of each kind must get, unless it names its own range.
EXAMPLE_BANDS = {"correct": (0.8, 1.0), "partial": (0.25, 0.75)}  # every other kind: (0, 0.2)


class Example(Strict):
    """An answer the rubric must grade right, as a task's mutant must be caught: `bank validate`
    grades it and reports a score outside its range."""

    lang: Literal["en", "zh"]
    kind: Literal["correct", "partial", "negated", "swapped", "wrong", "off-topic"]
    text: str = Field(min_length=1, max_length=5000)
    score: tuple[float, float] | None = None  # [low, high]; default by kind (EXAMPLE_BANDS)

    @field_validator("score")
    @classmethod
    def _range(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and not 0 <= value[0] <= value[1] <= 1:
            raise ValueError(f"must be [low, high] with 0 <= low <= high <= 1, got {list(value)}")
        return value

    def band(self) -> tuple[float, float]:
        return self.score or EXAMPLE_BANDS.get(self.kind, (0.0, 0.2))


class Reference(Strict):
    title: str
    url: str | None = None
    where: str | None = None  # the section, figure, equation or doc heading that supports the claim
    quote: str | None = None  # that statement, quoted or paraphrased in one sentence


class QuestionBase(Strict):
    id: Id
    topic: Topic
    difficulty: Difficulty
    tags: list[str] = []
    prompt: Text  # may hold a fenced code block (```python ... ```), rendered highlighted
    explanation: Text  # shown after answering
    references: list[Reference] = []
    # Raised when the key or the meaning changes, so a learner's schedule for it can be reset.
    revision: int = Field(1, ge=1)
    code: str | None = None  # code on the page, shared by both languages (highlighted, numbered)


def _check_letters(letters: list[str], info: ValidationInfo) -> None:
    """Each answer letter must name a choice. A field validator (not a model one), so the error
    points at the `answer:` line; choices are validated first (declared first)."""
    choices = info.data.get("choices")
    if choices is None:  # the choices themselves are broken: that error is reported already
        return
    valid = LETTERS[: len(choices)]
    for letter in letters:
        if letter not in valid:
            raise ValueError(f"{letter!r} is not among the choices (A-{valid[-1]})")


class ChoiceQuestion(QuestionBase):
    choices: list[Text] = Field(min_length=2, max_length=len(LETTERS))
    shuffle: bool = True  # false keeps the bank's order on screen (a "both of the above" choice)


class SingleQuestion(ChoiceQuestion):
    type: Literal["single"]
    answer: str  # a letter: A is the first choice in the bank's order

    @field_validator("answer", mode="before")
    @classmethod
    def _one_letter(cls, value: object) -> object:
        # The two slips instructors make, each with its fix: a choice's index, a multi answer.
        if isinstance(value, int) and not isinstance(value, bool):
            raise ValueError(f"must be a letter (A is the first choice), not the number {value}")
        if isinstance(value, list):
            raise ValueError(f"must be one letter, not a list {value!r} (several correct choices: type: multi)")
        return value

    @field_validator("answer")
    @classmethod
    def _answer_in_choices(cls, value: str, info: ValidationInfo) -> str:
        value = value.strip().upper()
        if len(value) != 1:
            hint = " (several correct choices: type: multi)" if len(value) > 1 else ""
            raise ValueError(f"{value!r} must be one letter{hint}")
        _check_letters([value], info)
        return value


class MultiQuestion(ChoiceQuestion):
    type: Literal["multi"]
    answer: list[str]  # letters; "AC" or "A, C" in YAML is accepted and split

    @field_validator("answer", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [c for c in value.replace(",", "").replace(" ", "")]
        if isinstance(value, list) and any(isinstance(v, int) and not isinstance(v, bool) for v in value):
            raise ValueError(f"must be letters (A is the first choice), not the numbers {value!r}")
        return value

    @field_validator("answer")
    @classmethod
    def _answer_in_choices(cls, value: list[str], info: ValidationInfo) -> list[str]:
        letters = [a.strip().upper() for a in value]
        if not letters:
            raise ValueError("needs at least one letter")
        twice = sorted({a for a in letters if letters.count(a) > 1})
        if twice:  # "AAC" is a typo for some other letter more often than not
            raise ValueError(f"letter {', '.join(twice)} is listed more than once")
        _check_letters(letters, info)
        return sorted(letters)


class TrueFalseQuestion(QuestionBase):
    type: Literal["truefalse"]
    answer: bool


class NumericQuestion(QuestionBase):
    type: Literal["numeric"]
    # Finite only: no answer is close to .nan, and an infinite tolerance accepts anything.
    answer: float = Field(allow_inf_nan=False)
    abs_tol: float | None = Field(None, ge=0, allow_inf_nan=False)
    rel_tol: float | None = Field(None, ge=0, allow_inf_nan=False)
    unit: str | None = None

    @model_validator(mode="after")
    def _has_tolerance(self) -> "NumericQuestion":
        if self.abs_tol is None and self.rel_tol is None:
            raise ValueError("a numeric question needs abs_tol and/or rel_tol")
        return self


class ShortQuestion(QuestionBase):
    type: Literal["short"]
    subjects: list[Subject] = []
    rubric: list[KeyPoint] = Field(min_length=1)
    misconceptions: list[Misconception] = []
    model_answer: Text
    examples: list[Example] = []

    @model_validator(mode="after")
    def _about_names_a_subject(self) -> "ShortQuestion":
        names = [subject.name for subject in self.subjects]
        for claim in [*self.rubric, *self.misconceptions]:
            if claim.about is not None and claim.about not in names:
                known = ", ".join(names) or "none: add `subjects:`"
                raise ValueError(f"about: {claim.about!r} is not a subject of this question ({known})")
        return self


Question = Annotated[
    Union[SingleQuestion, MultiQuestion, TrueFalseQuestion, NumericQuestion, ShortQuestion],
    Field(discriminator="type"),
]


class BankFile(Strict):
    """One YAML bank file."""

    title: Text | None = None
    questions: list[Question] = Field(min_length=1)


def json_schema() -> dict:
    """The JSON Schema of a bank file, for editor completion (`dlprep bank schema`)."""
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **BankFile.model_json_schema()}


def answer_form(question) -> Any:
    """The correct answer as an answers file would write it."""
    if isinstance(question, SingleQuestion):
        return question.answer
    if isinstance(question, MultiQuestion):
        return "".join(question.answer)
    if isinstance(question, ShortQuestion):
        return question.model_answer.get("en")
    return question.answer  # truefalse: bool; numeric: float
