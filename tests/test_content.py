"""The shipped question content: coverage the issue promises (60+ bilingual questions over four
topics and every type), and short-answer rubrics that credit natural paraphrases in both languages
while refusing negated or wrong answers. The model answers themselves are checked by
`bank validate`; these answers are deliberately worded differently from them.
"""
from __future__ import annotations

import pytest

from grader.bank import catalog as banks
from grader.practice.answers import grade
from grader.bank.schema import ChoiceQuestion, ShortQuestion

TOPICS = {"residual": "res-", "layernorm": "ln-", "transformer": "tf-", "training": "tr-"}
TYPES = {"single", "multi", "truefalse", "numeric", "short"}


@pytest.fixture(scope="module")
def catalog():
    return banks.load_paths(sorted(banks.builtin_dir().glob("*.yaml")))


@pytest.fixture(scope="module")
def questions(catalog):
    return [loaded.question for loaded in catalog.questions.values()]


def _texts(question):
    """Every bilingual text a learner can be shown for this question."""
    yield "prompt", question.prompt
    yield "explanation", question.explanation
    if isinstance(question, ChoiceQuestion):
        yield from (("choice", choice) for choice in question.choices)
    if isinstance(question, ShortQuestion):
        yield "model_answer", question.model_answer
        yield from (("rubric point", point.point) for point in question.rubric)
        yield from (("misconception", wrong.claim) for wrong in question.misconceptions)


def test_at_least_60_questions_over_the_four_topics(questions):
    assert len(questions) >= 60
    assert {q.topic for q in questions} == set(TOPICS)


def test_every_topic_has_every_type_and_a_spread_of_difficulty(questions):
    for topic in TOPICS:
        mine = [q for q in questions if q.topic == topic]
        assert {q.type for q in mine} == TYPES, topic
        assert {q.difficulty for q in mine} == {"easy", "medium", "hard"}, topic
    assert sum(q.type == "short" for q in questions) >= 10


def test_every_text_is_in_english_and_chinese(questions):
    for question in questions:
        for where, text in _texts(question):
            assert (text.en or "").strip() and (text.zh or "").strip(), f"{question.id}: {where}"
        if isinstance(question, ShortQuestion):
            for point in [*question.rubric, *question.misconceptions]:
                assert point.match.en and point.match.zh, f"{question.id}: matchers"


def test_ids_carry_their_topic_prefix_and_code_blocks_exist_in_both_languages(questions):
    for question in questions:
        assert question.id.startswith(TOPICS[question.topic]), question.id
        assert ("```" in question.prompt.en) == ("```" in question.prompt.zh), question.id


def test_the_article_claims_have_spot_the_error_questions(catalog):
    spotted = {qid for qid, loaded in catalog.questions.items() if "spot-the-error" in loaded.question.tags}
    # each wrong or loose claim of the source article has a question that names it
    for qid in (
        "ln-article-each-feature",  # "standardizes each input feature"
        "ln-not-gaussian",  # "closer to a Gaussian"
        "ln-article-code-bugs",  # Linear+ReLU, unbiased std, eps on std, dim=1, no gain/bias
        "ln-article-dim1",
        "tf-article-ln-before",  # "before each sublayer" is pre-LN, not Vaswani et al.
    ):
        assert qid in spotted, qid
    assert catalog.questions["res-article-block-correct"].question.answer == "A"  # its block is right


# (question id, a correct English answer, a correct Chinese answer, a wrong or negated answer)
PARAPHRASES = [
    (
        "res-explain-short",
        "The skip connection adds x to the block output so the block learns a residual. Gradients "
        "can flow straight back through the shortcut, which fights vanishing gradients and lets us "
        "train very deep nets.",
        "通过 shortcut 把输入加到输出，y=x+F(x)。反向传播时梯度能直接传到前面的层，避免梯度消失，"
        "网络可以做得很深；而且只需要学习残差，恒等映射很容易学到。",
        "It does not add the input; it concatenates input and output, gradients cannot flow through "
        "it, and it prevents overfitting.",
    ),
    (
        "ln-what-is-short",
        "LayerNorm computes mean and variance per token across the hidden dimension and normalizes, "
        "then scales by gamma and shifts by beta. BatchNorm computes stats per feature over the batch "
        "and needs running averages at test time; LN doesn't depend on batch size.",
        "LayerNorm 对单个样本的所有特征求均值和方差做归一化，然后有可学习的缩放和平移参数。BN 对每个特征"
        "在 batch 维上统计，推理时用 running mean；LN 与 batch 大小无关。",
        "Layer norm standardizes each input feature across the batch so the features become Gaussian.",
    ),
    (
        "ln-article-code-short",
        "It adds fc1/fc2/ReLU which shouldn't be there; std uses n-1; eps should be inside sqrt; dim "
        "should be -1; missing weight and bias.",
        "代码里多了两个全连接层和 ReLU；std 默认是无偏估计，应该用有偏方差；eps 应该加到方差上再开根号；"
        "dim=1 不对，应该在最后一维；没有可学习的 gamma 和 beta。",
        "The code is fine: it is not missing gamma and the eps is not a problem.",
    ),
    (
        "ln-rmsnorm-short",
        "It skips mean subtraction and only rescales by the RMS of the features with a learned gain; "
        "no bias. Cheaper, and works just as well, so LLaMA uses it.",
        "RMSNorm 去掉了减均值这一步，只用均方根做缩放，没有 bias，计算量更小，效果和 LayerNorm 差不多。",
        "RMSNorm subtracts the mean and normalizes over the batch.",
    ),
    (
        "tf-post-vs-pre-short",
        "Post-LN normalizes after the residual addition; pre-LN normalizes the input of each "
        "sublayer, keeping the residual path an identity. Post-LN needs warm-up because gradients "
        "near the output are large at init; pre-LN can train without warmup.",
        "Post-LN 是先做残差相加再做 LayerNorm，Pre-LN 是在子层之前做 LayerNorm，残差路径保持恒等。"
        "Post-LN 需要 warmup，否则不稳定；Pre-LN 不需要 warmup，但最后要加一个 LayerNorm。",
        "Pre-LN puts the norm after the addition and needs a longer warm-up than post-LN.",
    ),
    (
        "tf-xiong-short",
        "Post-LN has big gradients for the last layers at initialization so a large LR blows up; "
        "warm-up keeps early steps small. Pre-LN's gradients are well-behaved, so you can drop the "
        "warm-up.",
        "Post-LN 初始化时输出层附近参数的梯度过大，一开始学习率大就会训练不稳定，所以要 warm-up 让学习率"
        "从小慢慢增大；Pre-LN 梯度比较稳定，可以不用 warm-up。",
        "Warm-up is needed so LayerNorm can estimate its running statistics; post-LN gradients are "
        "not large.",
    ),
    (
        "tr-identity-path-short",
        "dy/dx = 1 + dF/dx, so even if dF/dx is tiny the gradient passes through directly. Stacked, "
        "the gradient is a sum over paths instead of a product, so no vanishing.",
        "y 对 x 的导数是 I + ∂F/∂x，有一个恒等项，梯度可以直接传回去，即使分支的梯度很小也不会消失。",
        "The gradient of the block is just dF/dx, so it is not passed on unchanged.",
    ),
    (
        "tr-vanishing-exploding-short",
        "Backprop multiplies derivatives layer by layer. If they are < 1 the gradient goes to zero "
        "exponentially and the first layers don't learn; if > 1 it blows up and you get NaNs.",
        "反向传播时梯度是各层导数相乘，导数小于1会越乘越小，前面的层几乎不更新；大于1会越乘越大导致梯度爆炸，"
        "训练发散。",
        "They only happen in RNNs.",
    ),
]


@pytest.mark.parametrize("qid,english,chinese,wrong", PARAPHRASES, ids=[p[0] for p in PARAPHRASES])
def test_short_rubrics_credit_paraphrases_and_refuse_wrong_answers(catalog, qid, english, chinese, wrong):
    question = catalog.questions[qid].question
    assert grade(question, english, "en").score >= 0.75
    assert grade(question, chinese, "zh").score >= 0.75
    assert grade(question, wrong, "en").score <= 0.25
