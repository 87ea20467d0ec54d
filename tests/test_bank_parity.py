"""`bank validate`'s content checks (grader.authoring.content, grader.authoring.parity): zh and en
carry the same numbers and both exist, every question cites a findable source, and no explanation
names a shuffled choice by its letter. Errors in the built-in banks, warnings in an instructor's."""
from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import cli
from grader.authoring import content, validate
from grader.authoring.parity import numbers

runner = CliRunner()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("eps = 1e-5, or 1E-05", {"1e-05"}),
        ("10⁻⁵ and 10^-5 and 10^{-5} and 1×10^-5", {"1e-05"}),
        ("2×10^4 or 2 x 10^4 or 20000 or 2 万", {"20000"}),
        ("１０２４ and 1,024", {"1024"}),
        ("512，1024", {"512", "1024"}),  # a Chinese comma between numbers is not a thousands separator
        ("50 % or 50％ or 0.50", {"0.5"}),
        ("3.15M, 3.15 million, 315 万", {"3.15e+06"}),
        ("fp16, bf16, β2, L2 and GPT-2", {"2"}),  # digits in names are not numbers; GPT-2's is
        ("dim=-1 or −1, the last", {"1"}),
        ("the end is 512.", {"512"}),
        ("`x.std(-1, unbiased=False) + 1e-6` then 4", {"4"}),  # inline code is not prose
        ("```python\ny = x @ w.T  # (8, 16)\n```\nThe output has 16 columns.", {"16"}),
    ],
)
def test_numbers_are_compared_as_values(text, expected):
    assert numbers(text) == expected


def _question(qid: str, body: str) -> str:
    return f"  - id: {qid}\n    topic: t\n    difficulty: easy\n{body}"


SOURCED = """    references:
      - title: Ba et al. 2016, Layer Normalization
        where: Section 3, Eq. 3
        quote: The statistics are computed over all hidden units of one layer.
"""

CLEAN = _question("q-clean", """    type: single
    prompt: {en: "Which eps does nn.LayerNorm use by default?", zh: "nn.LayerNorm 默认的 eps 是多少？"}
    choices:
      - {en: "1e-5", zh: "10⁻⁵"}
      - {en: "1e-8", zh: "1e-8"}
    answer: A
    explanation: {en: "eps=1e-5 is added to the variance.", zh: "方差上加 eps=1e-5。"}
""" + SOURCED)


def write_bank(directory: Path, *questions: str, name: str = "bank.yaml") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text("questions:\n" + "".join(questions), encoding="utf-8")
    return path


def test_a_clean_question_has_no_finding(tmp_path):
    catalog = validate.load([write_bank(tmp_path, CLEAN)])
    assert (catalog.problems, catalog.warnings) == ([], [])


def test_different_numbers_are_an_error_at_the_choice_even_in_an_instructor_bank(tmp_path):
    path = write_bank(tmp_path, CLEAN.replace('zh: "1e-8"', 'zh: "1e-6"'))
    catalog = validate.load([path])
    assert catalog.problems == [f"{path}:9: id=q-clean: choice B: en and zh give different numbers (zh lacks 1e-08; en lacks 1e-06)"]
    result = runner.invoke(cli.app, ["bank", "validate", str(path)])
    assert result.exit_code == 1 and result.stdout == catalog.problems[0] + "\n"


@pytest.fixture
def builtin(tmp_path, monkeypatch):
    """A directory that counts as the built-in banks (questions/)."""
    directory = tmp_path / "questions"
    monkeypatch.setattr(content, "builtin_dir", lambda: directory)
    return directory


UNSOURCED_HALF_TRANSLATED = _question("q-half", """    type: truefalse
    prompt: {en: "LayerNorm has 2 parameters per feature.", zh: "LayerNorm 每个特征有 2 个参数。"}
    answer: true
    explanation: {en: "weight and bias."}
""")


def test_missing_sources_and_translations_are_errors_in_a_builtin_bank(builtin):
    path = write_bank(builtin, UNSOURCED_HALF_TRANSLATED)
    catalog = validate.load([path])
    assert catalog.problems == [
        f"{path}:8: id=q-half: explanation has no zh text",
        f"{path}:2: id=q-half: no references: cite where the key is supported",
    ]
    assert catalog.warnings == []


def test_they_are_warnings_in_an_instructor_bank_and_keep_it_valid(tmp_path):
    path = write_bank(tmp_path, UNSOURCED_HALF_TRANSLATED)
    result = runner.invoke(cli.app, ["bank", "validate", str(path)])
    assert result.exit_code == 0 and result.stdout == ""
    assert f"{path}:8: id=q-half: warning: explanation has no zh text" in result.stderr
    assert f"{path}:2: id=q-half: warning: no references: cite where the key is supported" in result.stderr
    assert result.stderr.rstrip().endswith("1 questions, 0 tasks in 1 files: valid, 2 warnings")


def test_a_monolingual_instructor_question_is_not_asked_for_a_translation(tmp_path):
    english = UNSOURCED_HALF_TRANSLATED.replace(', zh: "LayerNorm 每个特征有 2 个参数。"', "")
    catalog = validate.load([write_bank(tmp_path, english)])
    assert not any("no zh text" in line for line in catalog.warnings + catalog.problems)


def test_each_reference_needs_where_and_a_one_sentence_quote(builtin):
    refs = """    references:
      - title: PyTorch docs, torch.nn.LayerNorm
        url: https://pytorch.org/docs/stable/generated/torch.nn.LayerNorm.html
      - title: Ba et al. 2016
        where: Section 3
        quote: "{long}"
""".format(long="x" * (content.MAX_QUOTE_CHARS + 1))
    path = write_bank(builtin, CLEAN.replace(SOURCED, refs))
    assert validate.load([path]).problems == [
        f"{path}:13: id=q-clean: references[0]: needs `where` (the section, figure, equation or doc heading) and "
        "`quote` (the supporting statement, in one sentence)",
        f"{path}:17: id=q-clean: references[1]: the quote has 401 characters; one sentence, at most 400",
    ]


@pytest.mark.parametrize(
    ("explanation", "cited"),
    [
        ('{en: "So (A) is right.", zh: "所以 A 对。"}', "(A)"),
        ('{en: "Choice B confuses it with BatchNorm.", zh: "B 项把它和 BatchNorm 混淆了。"}', "Choice B"),
        ('{en: "It is A.", zh: "所以选项 A 正确。"}', "选项 A"),
        ('{en: "B is wrong: the eps is 1e-5.", zh: "错在 eps 是 1e-5。"}', "B is wrong"),
    ],
)
def test_an_explanation_naming_a_choice_letter_is_flagged(builtin, explanation, cited):
    text = CLEAN.replace('{en: "eps=1e-5 is added to the variance.", zh: "方差上加 eps=1e-5。"}', explanation)
    path = write_bank(builtin, text)
    problems = validate.load([path]).problems
    assert problems and all(p.startswith(f"{path}:11: id=q-clean: explanation.") for p in problems)
    assert any(f"names choices by letter ({cited}" in p and "set shuffle: false" in p for p in problems)


def test_letters_are_fine_where_choices_keep_their_order_and_names_are_not_letters(builtin):
    fixed = CLEAN.replace("    answer: A\n", "    answer: A\n    shuffle: false\n").replace(
        '{en: "eps=1e-5 is added to the variance.", zh: "方差上加 eps=1e-5。"}', '{en: "(A): 1e-5.", zh: "选 A：1e-5。"}'
    )
    names = CLEAN.replace("is added to the variance.", "is what nn.LayerNorm(C) and norm (B, T, C) inputs use.")
    path = write_bank(builtin, fixed, names.replace("q-clean", "q-names"))
    assert validate.load([path]).problems == []


@pytest.mark.parametrize(
    ("en", "zh", "message"),
    [
        ("gain initialised to ones, bias to zeros", "增益初始化为 1，偏置初始化为 0", None),
        ("for a 3-D tensor", "对三维张量", None),
        ("a batch of one", "批大小为 1", None),
        ("unit variance", "方差为 1", None),
        ("eps is 1e-5", "eps 是 1e-6", "en and zh give different numbers (zh lacks 1e-05; en lacks 1e-06)"),
        ("scale the batch", "把批次乘以 3", "en and zh give different numbers (en lacks 3)"),
        ("512 features", "五百一十二个特征", "en and zh give different numbers (zh lacks 512)"),  # words only up to ten
    ],
)
def test_small_numbers_may_be_spelled_out_on_one_side(en, zh, message):
    from grader.authoring.parity import findings
    from grader.bank.schema import TrueFalseQuestion

    question = TrueFalseQuestion.model_validate({
        "id": "q", "topic": "t", "difficulty": "easy", "type": "truefalse", "answer": True,
        "prompt": {"en": en, "zh": zh}, "explanation": {"en": ".", "zh": "。"},
    })
    assert [f.message for f in findings(question)] == ([f"prompt: {message}"] if message else [])


@pytest.mark.parametrize("choice", ['{en: "Both of the above", zh: "以上都对"}', '{en: "A and B", zh: "选项 A 和 B"}'])
def test_a_choice_pointing_at_the_others_needs_a_fixed_order(builtin, choice):
    text = CLEAN.replace('{en: "1e-8", zh: "1e-8"}', choice)
    path = write_bank(builtin, text)
    assert validate.load([path]).problems == [
        f"{path}:9: id=q-clean: choice B refers to other choices by place or letter, but the quiz shuffles them: "
        "set shuffle: false"
    ]
    path.write_text(path.read_text(encoding="utf-8").replace("    answer: A\n", "    answer: A\n    shuffle: false\n"))
    assert validate.load([path]).problems == []
