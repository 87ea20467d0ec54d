"""The schema of a question bank file (pydantic v2, extra fields forbidden).

A bank file is YAML with a top-level `questions:` list; a coding-task file has a top-level `task:`
mapping instead (see grader/taskspec.py). Loading with line numbers lives in grader/banks.py.
"""
from __future__ import annotations

import re
import string
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LANGS = ("en", "zh")
LETTERS = string.ascii_uppercase

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._-]*$", min_length=1, max_length=80)]


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
                try:
                    re.compile(item[3:])
                except re.error as exc:
                    raise ValueError(f"bad regex {item[3:]!r}: {exc}") from None
            elif not item.strip():
                raise ValueError("empty matcher")
        return items

    def all(self) -> list[str]:
        return [*self.en, *self.zh]


class KeyPoint(Strict):
    point: Text  # shown to the learner as hit or missed
    weight: float = Field(1.0, gt=0)
    match: Matchers


class Misconception(Strict):
    claim: Text  # shown when the answer asserts it
    penalty: float = Field(0.5, gt=0, le=1)
    match: Matchers


class Reference(Strict):
    title: str
    url: str | None = None


class QuestionBase(Strict):
    id: Id
    topic: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    difficulty: Literal["easy", "medium", "hard"]
    tags: list[str] = []
    prompt: Text  # may hold a fenced code block (```python ... ```), rendered highlighted
    explanation: Text  # shown after answering
    references: list[Reference] = []


def _letter_index(letter: str) -> int:
    return LETTERS.index(letter)


class ChoiceQuestion(QuestionBase):
    choices: list[Text] = Field(min_length=2, max_length=len(LETTERS))

    def _check_letters(self, letters: list[str]) -> None:
        for letter in letters:
            if letter not in LETTERS or _letter_index(letter) >= len(self.choices):
                valid = f"A-{LETTERS[len(self.choices) - 1]}"
                raise ValueError(f"answer {letter!r} is not among the choices ({valid})")


class SingleQuestion(ChoiceQuestion):
    type: Literal["single"]
    answer: str  # a letter: A is the first choice in the bank's order

    @model_validator(mode="after")
    def _answer_in_choices(self) -> "SingleQuestion":
        self.answer = self.answer.strip().upper()
        if len(self.answer) != 1:
            raise ValueError(f"answer {self.answer!r} must be one letter")
        self._check_letters([self.answer])
        return self


class MultiQuestion(ChoiceQuestion):
    type: Literal["multi"]
    answer: list[str]  # letters; "AC" in YAML is accepted and split

    @field_validator("answer", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return [c for c in value.replace(",", "").replace(" ", "")]
        return value

    @model_validator(mode="after")
    def _answer_in_choices(self) -> "MultiQuestion":
        self.answer = sorted({a.strip().upper() for a in self.answer})
        if not self.answer:
            raise ValueError("answer needs at least one letter")
        self._check_letters(self.answer)
        return self


class TrueFalseQuestion(QuestionBase):
    type: Literal["truefalse"]
    answer: bool


class NumericQuestion(QuestionBase):
    type: Literal["numeric"]
    answer: float
    abs_tol: float | None = Field(None, ge=0)
    rel_tol: float | None = Field(None, ge=0)
    unit: str | None = None

    @model_validator(mode="after")
    def _has_tolerance(self) -> "NumericQuestion":
        if self.abs_tol is None and self.rel_tol is None:
            raise ValueError("a numeric question needs abs_tol and/or rel_tol")
        return self


class ShortQuestion(QuestionBase):
    type: Literal["short"]
    rubric: list[KeyPoint] = Field(min_length=1)
    misconceptions: list[Misconception] = []
    model_answer: Text


Question = Annotated[
    Union[SingleQuestion, MultiQuestion, TrueFalseQuestion, NumericQuestion, ShortQuestion],
    Field(discriminator="type"),
]


class BankFile(Strict):
    """One YAML bank file."""

    title: Text | None = None
    questions: list[Question] = Field(min_length=1)
