"""Test-taking cues measured by `bank validate` (grader.authoring.cues): the figures on small
banks built here, where each cue is planted on purpose, and how the CLI prints and warns."""
from __future__ import annotations

import pytest
from pydantic import TypeAdapter
from typer.testing import CliRunner

import cli
from grader.authoring import cues
from grader.bank.schema import Question

runner = CliRunner()
_QUESTION = TypeAdapter(Question)


def single(n: int, choices: list[str], answer: str, zh: list[str] | None = None):
    zh = zh or choices
    return _QUESTION.validate_python({
        "id": f"s{n}", "topic": "t", "difficulty": "easy", "type": "single", "prompt": {"en": "?", "zh": "？"},
        "choices": [{"en": e, "zh": z} for e, z in zip(choices, zh)], "answer": answer,
        "explanation": {"en": ".", "zh": "。"},
    })


def multi(n: int, answer: str, count: int = 4):
    return _QUESTION.validate_python({
        "id": f"m{n}", "topic": "t", "difficulty": "easy", "type": "multi", "prompt": {"en": "?"},
        "choices": [{"en": f"c{i}"} for i in range(count)], "answer": answer, "explanation": {"en": "."},
    })


def truefalse(n: int, answer: bool, tags: tuple[str, ...] = ()):
    return _QUESTION.validate_python({
        "id": f"t{n}", "topic": "t", "difficulty": "easy", "type": "truefalse", "prompt": {"en": "?"},
        "answer": answer, "tags": list(tags), "explanation": {"en": "."},
    })


def by_label(figures):
    return {f.label: f for f in figures}


def test_longest_counts_ties_as_a_share_and_is_measured_per_language():
    bank = [
        single(0, ["short", "the longest one"], "B", zh=["最长的那一个选项", "短"]),  # longest in en only
        single(1, ["same", "size"], "A", zh=["一样", "一样"]),  # a tie of two: half a hit
        single(2, ["a longer one", "b"], "B", zh=["长一些的", "短"]),  # neither
    ]
    figures = by_label(cues.figures(bank))
    en, zh = (figures[f"single, correct choice is the longest ({lang})"] for lang in ("en", "zh"))
    assert (en.hits, zh.hits, en.total) == (1.5, 0.5, 3)
    assert en.line() == "single, correct choice is the longest (en): 1.5/3 = 50.0% (goal ≤ 35%, too few to judge)"


def test_only_hedged_means_the_key_alone_is_hedged():
    bank = [
        single(0, ["It usually helps", "It always helps"], "A", zh=["通常有帮助", "总是有帮助"]),
        single(1, ["It can help", "It may hurt"], "A", zh=["可能有帮助", "不可能有害"]),  # both hedged in en; 不可能 is no hedge
        single(2, ["It cannot help", "Never"], "A", zh=["没用", "从不"]),  # "cannot" is no hedge
    ]
    figures = by_label(cues.figures(bank))
    assert figures["single, correct choice is the only hedged one (en)"].hits == 1
    assert figures["single, correct choice is the only hedged one (zh)"].hits == 2


def test_key_letters_multi_positions_and_true_false_shares():
    bank = [single(i, ["a", "b", "c", "d"], "A" if i < 4 else "BCD"[i % 3]) for i in range(10)]
    bank += [multi(i, "AB" if i < 5 else "CD") for i in range(6)]
    bank += [truefalse(i, i < 2, tags=("article",) if i % 2 else ()) for i in range(10)]
    figures = by_label(cues.figures(bank))
    assert (figures["single, key A"].share, figures["single, key A"].ok) == (0.4, False)  # 4 of 10 > 35 %
    assert figures["single, key B"].ok
    assert [figures[f"multi, choice {p} correct"].hits for p in "ABCD"] == [5, 5, 1, 1]
    assert not figures["multi, choice A correct"].ok and figures["multi, choice C correct"].share == pytest.approx(1 / 6)
    assert (figures["true/false, answer true"].share, figures["true/false, answer true"].ok) == (0.2, False)
    article = figures["true/false tagged article, answer true"]
    assert (article.hits, article.total) == (1, 5)


def test_a_handful_of_questions_is_printed_but_never_judged():
    figure = by_label(cues.figures([truefalse(i, True) for i in range(cues.MIN_JUDGED - 1)]))["true/false, answer true"]
    assert figure.share == 1.0 and figure.ok and not figure.judged


def test_multi_positions_count_only_questions_that_have_them():
    figures = by_label(cues.figures([multi(0, "E", count=5), *[multi(i, "A") for i in range(1, 6)]]))
    assert (figures["multi, choice E correct"].hits, figures["multi, choice E correct"].total) == (1, 1)


@pytest.mark.parametrize(
    ("text", "cited"),
    [
        ("So (B) is right, not （C）.", ["(B)", "（C）"]),
        ("Options A and choice D", ["Options A", "choice D"]),
        ("选项 B 和 C 项都不对", ["选项 B", "C 项"]),
        ("nn.LayerNorm(C) over (B, T, C) and f(A)", []),
        ("A is correct", ["A is correct"]),
    ],
)
def test_cited_letters(text, cited):
    assert sorted(cues.cited_letters(text)) == sorted(cited)


CUED_BANK = "questions:\n" + "".join(
    f"""  - id: q{i}
    topic: t
    difficulty: easy
    type: single
    prompt: {{en: "Q{i}?"}}
    choices:
      - {{en: "The right answer, long and careful"}}
      - {{en: "Wrong"}}
      - {{en: "Also wrong"}}
    answer: A
    explanation: {{en: "Because."}}
"""
    for i in range(6)
)


def test_validate_prints_the_figures_and_warns_on_stderr_but_stays_valid(tmp_path):
    path = tmp_path / "cued.yaml"
    path.write_text(CUED_BANK, encoding="utf-8")
    result = runner.invoke(cli.app, ["bank", "validate", str(path)])
    assert result.exit_code == 0 and result.stdout == ""
    err = result.stderr.splitlines()
    assert "dlprep: cues: single, correct choice is the longest (en): 6/6 = 100.0% (goal ≤ 35%)" in err
    assert "dlprep: cues: single, key B: 0/6 = 0.0% (goal ≤ 35%)" in err
    assert "dlprep: warning: cue off goal: single, correct choice is the longest (en): 6/6 = 100.0% (goal ≤ 35%)" in err
    assert "dlprep: warning: cue off goal: single, key A: 6/6 = 100.0% (goal ≤ 35%)" in err
    assert not any("key B" in line and "warning" in line for line in err)
    assert err[-1].startswith("dlprep: 6 questions, 0 tasks in 1 files: valid, ")  # warnings counted, still valid


def test_only_explained_means_the_key_alone_gives_a_reason():
    bank = [
        single(0, ["It diverges, because the gradients grow", "It converges"], "A", zh=["发散，因为梯度变大", "收敛"]),
        single(1, ["Yes: it is exact", "No: it is an estimate"], "A", zh=["是", "否"]),  # both explained in en
    ]
    figures = by_label(cues.figures(bank))
    assert figures["single, correct choice is the only explained one (en)"].hits == 1
    assert figures["single, correct choice is the only explained one (zh)"].hits == 1


def test_the_shortest_choice_is_measured_too():
    bank = [single(i, ["ok", "a much longer wrong choice", "another long wrong one"], "A") for i in range(5)]
    figures = by_label(cues.figures(bank))
    shortest = figures["single, correct choice is the shortest (en)"]
    assert (shortest.hits, shortest.ok, figures["single, correct choice is the longest (en)"].ok) == (5, False, True)
