"""Short answers graded through the shipped banks: every rubric's graded examples (the YAML's
`examples:`, correct paraphrases, partial, negated, swapped, wrong and off-topic answers in both
languages) score in their ranges, and the behaviours the examples rely on hold on the real rubrics."""
from __future__ import annotations

import pytest

from grader.bank import catalog as banks
from grader.practice.answers import grade

SHIPPED = banks.load_catalog().questions
SHORT = sorted(qid for qid, entry in SHIPPED.items() if entry.question.type == "short")
EXAMPLES = [(qid, i) for qid in SHORT for i in range(len(SHIPPED[qid].question.examples))]


def question(qid: str):
    return SHIPPED[qid].question


@pytest.mark.parametrize("qid", SHORT)
def test_every_short_question_has_examples_of_every_kind_in_both_languages(qid):
    for lang in ("en", "zh"):
        kinds = {e.kind for e in question(qid).examples if e.lang == lang}
        assert {"correct", "partial"} <= kinds and kinds & {"negated", "swapped"} and kinds & {"wrong", "off-topic"}, (lang, kinds)


@pytest.mark.parametrize(("qid", "index"), EXAMPLES, ids=[f"{q}-{i}" for q, i in EXAMPLES])
def test_each_example_scores_in_its_range(qid, index):
    example = question(qid).examples[index]
    result = grade(question(qid), example.text, example.lang)
    low, high = example.band()
    assert low <= result.score <= high, (example.kind, example.text, result.points_hit, result.misconceptions)


def test_swapping_post_ln_and_pre_ln_is_named_and_scores_zero():
    """The content review's case: every claim right, each said of the other arrangement."""
    text = ("Pre-LN computes LayerNorm(x + Sublayer(x)) and needs warm-up because its gradients near the output "
            "are large. Post-LN computes x + Sublayer(LayerNorm(x)) and trains without warm-up.")
    result = grade(question("tf-post-vs-pre-short"), text)
    assert result.score == 0.0 and not result.unsure
    assert any(m.startswith("said of pre-LN: Post-LN") for m in result.misconceptions), result.misconceptions


@pytest.mark.parametrize("text", [
    "Post-LN is LN(x_l + Sublayer(x_l)); pre-LN is x_l + Sublayer(LN(x_l)).",
    "Post-LN: \\mathrm{LN}(x_{l} + F(x_{l})); pre-LN: x_{l} + F(\\mathrm{LN}(x_{l})).",
    "Ｐｏｓｔ－ＬＮ：ＬＮ（ｘ＋Ｆ（ｘ））；ｐｒｅ－ＬＮ：ｘ＋Ｆ（ＬＮ（ｘ））。",
])
def test_formulas_with_subscripts_latex_or_full_width_are_recognised(text):
    result = grade(question("tf-post-vs-pre-short"), text)
    assert len(result.points_hit) == 2 and not result.misconceptions, result.points_missed


def test_a_warning_about_bessels_correction_is_not_the_misconception():
    text = ("Normalize over the last dim. Note that x.var() applies Bessel's correction by default, which would "
            "not match, so use the biased variance; eps goes inside sqrt(var + eps); then a learnable weight and bias.")
    result = grade(question("ln-implement-short"), text)
    assert result.score == 1.0 and result.misconceptions == []


@pytest.mark.parametrize(("qid", "text", "point"), [
    ("ln-rmsnorm-short", "RMSNorm 不再计算和减去均值，只除以均方根。", 0),  # a denial that makes the point
    ("tr-identity-path-short", "恒等项不会让梯度指数级变小。", 2),  # negation before the phrase
    ("tr-clipping-short", "Every gradient is multiplied by the same factor, so it still points the same way.", 1),
])
def test_paraphrases_that_make_a_point(qid, text, point):
    lang = result_lang(text)
    assert question(qid).rubric[point].point.get(lang) in grade(question(qid), text, lang).points_hit


def result_lang(text: str) -> str:
    return "zh" if any("\u4e00" <= c <= "\u9fff" for c in text) else "en"


@pytest.mark.parametrize(("qid", "text"), [
    ("res-degradation-short", "更深的网络训练误差并没有变高。"),  # negation after the subject, before the verb
    ("res-degradation-short", "Deeper plain networks did not have a higher training error."),  # inside a gapped match
    ("ln-rmsnorm-short", "RMSNorm 不省略减均值。"),  # two negations cancel: it does subtract the mean
    ("res-explain-short", "Overfitting is not what residual connections address, and gradients are not helped."),
])
def test_negated_claims_earn_nothing(qid, text):
    result = grade(question(qid), text, result_lang(text))
    assert result.score == 0.0, result.points_hit


def test_a_negation_past_the_point_a_greedy_gap_needs_does_not_count():
    """"rescal…[^.]{0,60}threshold" runs greedily past "no larger"; cut before the "no" it still
    matches ("rescale … the norm"), so the point stands."""
    text = ("When the total norm exceeds max_norm, rescale all gradients so that the norm is no larger "
            "than the threshold; the direction is kept. Used against exploding gradients.")
    assert grade(question("tr-clipping-short"), text).score == 1.0


def test_a_long_on_topic_answer_that_makes_few_points_is_unsure():
    text = ("Residual connections matter a great deal in deep networks. When you train a deep network the layers "
            "interact in complicated ways, and residual connections change how each block relates to the block "
            "before it, which in practice makes deep networks behave much better during training.")
    result = grade(question("res-explain-short"), text)
    assert result.unsure and result.score < 0.8 and result.misconceptions == []
    off_topic = grade(question("res-explain-short"), "Dropout randomly zeroes activations during training so "
                      "that units cannot co-adapt; at test time all units are kept and the weights are scaled "
                      "so that the expected activation matches what the network saw while it was training.")
    assert not off_topic.unsure and off_topic.score == 0.0
