"""zh/en parity of one question: the texts a learner sees exist in both languages and carry the
same numbers, so a translation cannot quietly change a claim (1e-5 in English, 1e-6 in Chinese).

Numbers are compared as values, not as spellings: 1e-5, 10^-5, 10⁻⁵ and 1×10^-5 are one number,
1,024 is 1024, 50 % is 0.5, １０ is 10, 3.15M is 315 万. Signs are dropped (prose writes "-1"
for "the last dim" in one language and "最后一维 (−1)" in the other). Digits glued to a Latin or
Greek letter belong to a name (fp16, β2, L2, GPT-2 keeps its 2), and code is not prose: fenced
blocks and `inline code` are left out (the `code:` field is shared by both languages anyway).
A number from 0 to 10 may be spelled out on one side ("ones" / "1", "3-D" / "三维").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterator

from grader.bank.schema import LETTERS, ChoiceQuestion, ShortQuestion

_FENCE = re.compile(r"```.*?(```|$)", re.DOTALL)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_FULL_WIDTH = str.maketrans("０１２３４５６７８９．％－＋", "0123456789.%-+")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_MINUS = "-−–"
# 10⁻⁵ -> 10^-5 before anything else reads the superscripts as plain digits.
_SUPER_POWER = re.compile(r"10([⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]+)")
_NUMBER = re.compile(
    r"(?<![A-Za-z_\u0370-\u03ff\d.])"  # not part of a name (fp16, β2) or of a longer number
    r"(?P<mant>\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?|\.\d+)"
    r"(?:"
    r"\s*[eE](?P<exp>[+" + _MINUS + r"]?\d+)"  # 1e-5
    r"|\s*(?:[×x*·]|\\times)\s*10\s*(?:\^|\*\*)\s*\{?(?P<exp2>[+" + _MINUS + r"]?\d+)\}?"  # 2×10^4
    r"|(?<=10)\s*(?:\^|\*\*)\s*\{?(?P<power>[+" + _MINUS + r"]?\d+)\}?"  # 10^4 (the mantissa is 10)
    r")?"
    r"(?P<suffix>\s*(?:%|万|亿|thousand\b|million\b|billion\b)|[kKMB](?![A-Za-z]))?"  # 3.15M, 7B, 4k
)
_SCALE = {"%": 0.01, "万": 1e4, "亿": 1e8, "thousand": 1e3, "million": 1e6, "billion": 1e9,
          "k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9}  # glued letters only: "4 K" is a unit


def numbers(text: str) -> set[str]:
    """The number literals of prose, as canonical values ('1e-05', '1024', '0.5')."""
    text = _INLINE_CODE.sub(" ", _FENCE.sub(" ", text or ""))
    text = _SUPER_POWER.sub(lambda m: "10^" + m.group(1).translate(_SUPERSCRIPT), text)
    text = text.translate(_FULL_WIDTH)
    found = set()
    for m in _NUMBER.finditer(text):
        if m.group("power") is not None:  # 10^4: the mantissa 10 is the base
            value = 10.0 ** _int(m.group("power"))
        else:
            value = float(m.group("mant").replace(",", ""))
            exp = m.group("exp") or m.group("exp2")
            if exp is not None:
                value *= 10.0 ** _int(exp)
        suffix = (m.group("suffix") or "").strip()
        value *= _SCALE.get(suffix, 1.0)
        found.add(_canonical(value))
    return found


# A small number may be a word in one language and digits in the other ("initialised to ones",
# "初始化为 1"; "3-D", "三维"): a literal missing from one side is excused by its word there.
# Only 0-10 and a half: larger numbers are written as digits, and a mismatch there is the one to catch.
_WORDS = {
    "en": {"0": r"zeros?", "1": r"ones?|once|single|unit", "2": r"two|twice|both|double", "3": r"three|thrice",
           "4": r"four", "5": r"five", "6": r"six", "7": r"seven", "8": r"eight", "9": r"nine", "10": r"ten",
           "0.5": r"half"},
    "zh": {"0": "零", "1": "一|单", "2": "二|两|双", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七",
           "8": "八", "9": "九", "10": "十", "0.5": "一半|半"},
}


def _spelled(number: str, text: str, lang: str) -> bool:
    word = _WORDS[lang].get(number)
    if word is None:
        return False
    pattern = rf"\b(?:{word})\b" if lang == "en" else word
    return re.search(pattern, text, re.IGNORECASE) is not None


def _int(text: str) -> int:
    return int(text.replace("−", "-").replace("–", "-"))


def _canonical(value: float) -> str:
    return f"{float(f'{value:.10g}'):g}" if abs(value) < 1e16 else f"{value:.10g}"


@dataclass(frozen=True)
class Finding:
    field: tuple  # the YAML path inside the question, for its line ("choices", 2)
    message: str
    missing: bool  # a language absent (not an error in a monolingual instructor bank)


def texts(question: Any) -> Iterator[tuple[tuple, str, Any]]:
    """(path, name, Text) of everything a learner reads for this question."""
    yield ("prompt",), "prompt", question.prompt
    if isinstance(question, ChoiceQuestion):
        for index, choice in enumerate(question.choices):
            yield ("choices", index), f"choice {LETTERS[index]}", choice
    yield ("explanation",), "explanation", question.explanation
    if isinstance(question, ShortQuestion):
        yield ("model_answer",), "model_answer", question.model_answer


def findings(question: Any) -> list[Finding]:
    """Each text missing a language, and each text whose two languages carry different numbers."""
    return compare(texts(question))


def compare(items) -> list[Finding]:
    """`findings` over any (path, name, Text) items: a question's texts, a task's hints."""
    out = []
    for path, name, text in items:
        en, zh = (text.en or "").strip(), (text.zh or "").strip()
        if not (en and zh):
            out.append(Finding(path, f"{name} has no {'zh' if en else 'en'} text", missing=True))
            continue
        in_en, in_zh = numbers(en), numbers(zh)
        lacks = {"zh": {n for n in in_en - in_zh if not _spelled(n, zh, "zh")},
                 "en": {n for n in in_zh - in_en if not _spelled(n, en, "en")}}
        if lacks["zh"] or lacks["en"]:
            gaps = [f"{lang} lacks {', '.join(sorted(nums, key=float))}" for lang, nums in lacks.items() if nums]
            out.append(Finding(path, f"{name}: en and zh give different numbers ({'; '.join(gaps)})", missing=False))
    return out
