"""Short-answer grading on the shipped banks, against answers written the way learners write them
(not copied from the model answers): for each short question a correct English and a correct
Chinese paraphrase must score at least 0.75, and a wrong and a negated answer at most 0.35."""
from __future__ import annotations

import pytest

from grader.bank import catalog as banks
from grader.practice.answers import grade

CORRECT_MIN = 0.75
WRONG_MAX = 0.35

# id: (correct en, correct zh, wrong, negated)
ANSWERS = {
    "ln-implement-short": (
        "Compute mu and sigma^2 along dim -1 for every token, with the population variance "
        "(correction=0); then (x - mu) / sqrt(sigma^2 + eps), and finally scale by a learnable "
        "weight and add a bias, both of shape (C,).",
        "对每个 token 沿最后一个维度 C 求均值和方差，方差用有偏估计（除以 n），然后 (x - 均值) / sqrt(方差 + eps)，"
        "eps 在根号里面，最后乘上可学习的 γ 再加上 β。",
        "Take the mean and variance over the batch dimension for each feature, as BatchNorm does, "
        "and use running averages at inference.",
        "You do not need eps and there are no learnable parameters; the variance is not biased, use x.std().",
    ),
    "ln-article-code-short": (
        "Five bugs: fc1, fc2 and the ReLU are unnecessary and should be removed; x.std() applies "
        "Bessel's correction (n-1) but LayerNorm divides by n; 1e-5 belongs inside the square "
        "root, added to the variance; dim=1 is the sequence axis, it should be -1; and there is "
        "no learnable gamma or beta.",
        "问题有五个：两个全连接层加 ReLU 是多余的，应该去掉；x.std 默认除以 n-1，应该用有偏方差；"
        "eps 应该加在方差上放进根号里；dim=1 是序列维，应该用最后一维；另外没有可学习的 γ 和 β。",
        "The code is correct as written; it is just a slower version of nn.LayerNorm.",
        "Nothing is wrong with the Linear layers, and std is fine.",
    ),
    "ln-rmsnorm-short": (
        "RMSNorm drops the re-centering step: it only rescales each vector by its root mean square "
        "and learns a gain but no shift. That saves compute and trains about as well, which is "
        "why LLaMA picked it.",
        "RMSNorm 省去了减均值这一步，只除以特征的均方根做缩放，只有增益没有偏置；计算量更小，"
        "效果与 LayerNorm 相当，所以 LLaMA 采用它。",
        "RMSNorm normalizes across the batch instead of the features and adds running statistics.",
        "RMSNorm is not cheaper and it still subtracts the mean.",
    ),
    "ln-what-is-short": (
        "LayerNorm standardizes every token across its hidden dimension and then applies a "
        "learned scale and shift; it is independent of the batch, so it behaves the same at "
        "train and test time. BatchNorm instead normalizes each feature over the batch and keeps "
        "running mean/var for inference.",
        "层规范化在单个样本的所有特征上算均值和方差做标准化，再乘以可学习的 γ 加上 β；它和 batch 无关，"
        "训练和推理一致。BatchNorm 则是对每个特征跨批次统计，推理时用滑动平均。",
        "Layer norm standardizes each input feature across the batch so that it becomes Gaussian.",
        "Layer norm does not work per sample; it is the same as batch norm.",
    ),
    "res-explain-short": (
        "The block outputs x + F(x): the input skips over the layers and is summed with their "
        "output. In backprop the gradient can travel straight through the shortcut, so it does "
        "not vanish, and if the best thing is to do nothing the layers only have to push F to 0, "
        "which lets us train nets that are hundreds of layers deep.",
        "残差连接把输入直接加到子层的输出上，即 y = x + F(x)。反向传播时梯度可以通过这条捷径直接传回前面，"
        "缓解梯度消失；网络只需要学习残差，F 趋近于零时就是恒等映射，所以可以训练更深的网络。",
        "A residual connection concatenates the input and the output, which mainly prevents overfitting.",
        "It does not add the input back, and gradients don't flow through it.",
    ),
    "res-degradation-short": (
        "He et al. saw that stacking more layers on a plain net made even the training error "
        "worse, so it was an optimization problem rather than overfitting. With a shortcut the "
        "layers fit H(x) - x instead of H(x), and an identity mapping is just F = 0, easy to learn.",
        "何恺明等人发现普通网络加深以后训练误差反而变高，这是退化问题，是优化困难而不是过拟合。"
        "残差结构让层去拟合残差 H(x) - x，如果最优是恒等映射，只要把残差推向零即可。",
        "The deeper networks overfit the training data, so residual connections were added as a regularizer.",
        "Deeper networks did not have a higher training error; the problem was not optimization.",
    ),
    "tr-clipping-short": (
        "Compute the global L2 norm of all gradients; when it goes above max_norm, multiply every "
        "gradient by max_norm / norm. The update keeps its direction but its length is capped. "
        "It guards against exploding gradients and loss spikes in RNNs and Transformers.",
        "计算所有参数梯度的总范数，如果超过阈值，就把全部梯度按比例缩放到阈值以内，梯度方向保持不变，"
        "只限制长度。常用于 RNN 和 Transformer 训练，防止梯度爆炸。",
        "Gradient clipping sets small gradients to zero and fixes vanishing gradients.",
        "It does not rescale anything and it does not help with exploding gradients.",
    ),
    "tr-vanishing-exploding-short": (
        "The chain rule makes the gradient of an early layer a product of one factor per later "
        "layer. If those factors are below 1 the product decays exponentially with depth and the "
        "first layers barely update; if they are above 1 it grows exponentially and training "
        "diverges or overflows to NaN. More layers means more factors, so depth makes both worse.",
        "根据链式法则，前面层的梯度是后面各层导数的连乘。每一项都小于 1 时乘积随深度指数衰减，浅层几乎不更新；"
        "都大于 1 时乘积指数增长，梯度爆炸，训练发散甚至出现 NaN。层数越多，相乘的项越多，问题越严重。",
        "They only happen in RNNs, because of the tanh activation.",
        "Depth has nothing to do with it: the gradient is not a product and it never shrinks.",
    ),
    "tr-identity-path-short": (
        "By the chain rule dy/dx = I + dF/dx. The identity term hands the upstream gradient to x "
        "as is, even when the branch's Jacobian is tiny; over a stack of blocks the gradient "
        "expands into a sum over paths, one of them direct, so it does not vanish.",
        "对 x 求导得到 ∂y/∂x = I + ∂F/∂x。其中的恒等项把上游梯度原样传给 x，即使分支的导数很小也没关系；"
        "多个块堆叠时梯度是各条路径之和，其中有一条直接路径，所以不会消失。",
        "The gradient of the block is just dF/dx, the same as without the skip.",
        "There is no identity term, so the gradient is not passed on unchanged.",
    ),
    "tf-post-vs-pre-short": (
        "In post-LN, the original layout, each sublayer's output is added to x and then the sum "
        "is normalized: LN(x + F(x)). In pre-LN the norm is applied to the input of each "
        "sublayer, x + F(LN(x)), so the residual stream is a clean identity. Post-LN has large "
        "gradients near the output at init and relies on LR warm-up; pre-LN trains stably "
        "without warm-up but needs a final LayerNorm.",
        "Post-LN（原始 Transformer）先做残差相加，再对和做 LayerNorm；Pre-LN 在进入子层之前做 LayerNorm，"
        "残差路径保持恒等。Post-LN 初始化时梯度较大，需要学习率预热，否则容易发散；Pre-LN 训练稳定，"
        "不需要预热，但最后要再加一个 LayerNorm。",
        "Pre-LN puts the norm after the addition and needs a longer warm-up than post-LN.",
        "Both arrangements are the same; neither changes training.",
    ),
    "tf-xiong-short": (
        "Xiong et al. show that with post-LN the expected gradients of the parameters close to "
        "the output are large at initialization, so starting with a big learning rate makes "
        "training blow up; warm-up ramps the learning rate up gradually. With pre-LN the "
        "gradients stay well-behaved across layers, so warm-up can be removed and training is faster.",
        "Xiong 等人指出：Post-LN 初始化时靠近输出层的参数梯度很大，如果一开始就用大学习率，训练会不稳定，"
        "所以要用预热让学习率逐渐增大；Pre-LN 的梯度在初始化时比较稳定，可以不用预热，训练更快。",
        "Warm-up is needed because LayerNorm has to estimate running statistics before training starts.",
        "Post-LN gradients are not large at initialization, and pre-LN cannot drop the warm-up.",
    ),
}


@pytest.fixture(scope="module")
def shipped():
    return banks.load_catalog().questions


def test_every_short_question_has_paraphrases(shipped):
    short = {qid for qid, entry in shipped.items() if entry.question.type == "short"}
    assert short == set(ANSWERS)


@pytest.mark.parametrize("qid", sorted(ANSWERS))
def test_correct_paraphrases_pass_and_wrong_or_negated_answers_fail(shipped, qid):
    question = shipped[qid].question
    english, chinese, wrong, negated = ANSWERS[qid]
    scores = {kind: grade(question, text, lang).score
              for kind, text, lang in (("en", english, "en"), ("zh", chinese, "zh"),
                                       ("wrong", wrong, "en"), ("negated", negated, "en"))}
    assert scores["en"] >= CORRECT_MIN and scores["zh"] >= CORRECT_MIN, scores
    assert scores["wrong"] <= WRONG_MAX and scores["negated"] <= WRONG_MAX, scores


# Chinese negations (不会, 无法, 没有, 并非 before the key point) and answers mixing the languages.
MORE = [
    ("res-explain-short", "残差连接并不是把输入加到输出上，梯度也不能直接传回浅层，它不能缓解梯度消失。", 0.0, WRONG_MAX),
    ("res-explain-short", "残差连接没有恒等映射，梯度无法直接回传，也没有解决退化问题。", 0.0, WRONG_MAX),
    ("ln-what-is-short", "LayerNorm 不是在每个样本上做的，它依赖 batch，也没有 γ 和 β。", 0.0, WRONG_MAX),
    ("tr-clipping-short", "梯度裁剪不会缩放梯度，方向会改变，也不能防止梯度爆炸。", 0.0, WRONG_MAX),
    ("tr-identity-path-short", "y 对 x 的导数就是 ∂F/∂x，没有恒等项，梯度会消失。", 0.0, WRONG_MAX),
    ("tf-xiong-short", "Post-LN 初始化时梯度并不大，pre-LN 也不能去掉预热。", 0.0, WRONG_MAX),
    ("ln-rmsnorm-short", "RMSNorm 不省略减均值，也没有更快。", 0.0, WRONG_MAX),
    ("tr-clipping-short", "当 gradient norm 超过 threshold 时，把所有梯度 rescale 到 max_norm，direction 不变，"
     "用来防止 exploding gradients。", CORRECT_MIN, 1.0),
    ("ln-what-is-short", "层规范化对单个样本的所有特征求均值和方差，和 batch 无关，训练和推理一致，有可学习的 γ 和 β；"
     "BatchNorm 跨批次统计。", CORRECT_MIN, 1.0),
]


@pytest.mark.parametrize(("qid", "text", "low", "high"), MORE, ids=[f"{m[0]}-{i}" for i, m in enumerate(MORE)])
def test_chinese_negation_and_mixed_language(shipped, qid, text, low, high):
    assert low <= grade(shipped[qid].question, text, "zh").score <= high


def test_a_negation_inside_a_gapped_match_counts():
    """"deeper nets[^.]{0,40}higher" spans "did not have a higher": the negation sits inside the
    match, not before it."""
    question = banks.load_catalog().questions["res-degradation-short"].question
    result = grade(question, "Deeper plain networks did not have a higher training error.")
    assert result.points_hit == []


def test_a_negation_past_the_point_a_greedy_gap_needs_does_not_count():
    """"rescal…[^.]{0,60}threshold" runs greedily past "no larger"; cut before the "no" it still
    matches ("rescale … the norm"), so the point stands."""
    question = banks.load_catalog().questions["tr-clipping-short"].question
    text = ("When the total norm exceeds max_norm, rescale all gradients so that the norm is no larger "
            "than the threshold; the direction is kept. Used against exploding gradients.")
    assert grade(question, text).score == 1.0
