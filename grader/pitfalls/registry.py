"""The pitfall catalogue: every mistake dlprep can name, with its learner-facing text.

Ids are a contract (task YAML files, mutants and tests refer to them); add new ones, never rename.
Detectors (static.py, detectors.py, mutantmatch.py) decide *whether* a pitfall applies; this module
only says what it is called and how to fix it, in English and Chinese. A fix is one line of code,
written for the built-in task it applies to; an instructor's task gets none, since a line written
for another module would mislead.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from grader.results import PitfallResult, Severity

LAYERNORM = "layernorm"
RESIDUAL = "residual-block"
RMSNORM = "rmsnorm"


@dataclass(frozen=True)
class Pitfall:
    id: str
    severity: Severity
    tasks: tuple[str, ...]  # built-in tasks it applies to; instructor tasks list ids in their YAML
    title: dict[str, str]  # lang -> text
    explanation: dict[str, str]
    fix: dict[str, str]  # task id -> one line of code
    # The title says the forward pass is right: diagnose() names it only when every graded forward
    # check passed (a claim the evidence must back).
    forward_right: bool = False

    def result(self, evidence: str, *, task: str = "", lang: str = "en") -> PitfallResult:
        """The learner-facing PitfallResult in `lang` (falling back to English)."""
        return PitfallResult(
            id=self.id,
            severity=self.severity,
            title=_pick(self.title, lang),
            explanation=_pick(self.explanation, lang),
            fix=self.fix.get(task, ""),
            evidence=evidence,
        )


def _pick(text: dict[str, str], lang: str) -> str:
    return text.get(lang) or text["en"]


def _p(id, tasks, title_en, title_zh, expl_en, expl_zh, fix, severity="error", forward_right=False) -> Pitfall:
    if isinstance(fix, str):
        fix = {task: fix for task in tasks}
    return Pitfall(id, severity, tasks, {"en": title_en, "zh": title_zh},
                   {"en": expl_en, "zh": expl_zh}, fix, forward_right)


_LN_RETURN = "return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias"
_RB_RETURN = "return F.relu(self.fc2(F.relu(self.fc1(x))) + x)"
_RMS_RETURN = "return x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps) * self.weight"
_RMS_MS = "ms = x.pow(2).mean(dim=-1, keepdim=True)"

PITFALLS: dict[str, Pitfall] = {p.id: p for p in [
    _p("extra-layers", (LAYERNORM, RESIDUAL, RMSNORM),
       "Extra layers or parameters", "多余的层或参数",
       "The module holds parameters or parameter layers the reference does not have (a Linear, a "
       "learnable scale or gate); they change the function it computes and its state_dict.",
       "模块里有参考实现没有的参数或带参数层（Linear、可学习的缩放或门控），它们改变了模块计算的函数和 state_dict。",
       {LAYERNORM: "self.weight = nn.Parameter(torch.ones(normalized_shape))  # no nn.Linear",
        RESIDUAL: "self.fc1, self.fc2 = nn.Linear(c, c), nn.Linear(c, c)  # nothing else",
        RMSNORM: "self.weight = nn.Parameter(torch.ones(dim))  # the only parameter"}),
    _p("extra-activation", (LAYERNORM,),
       "Activation inside the normalization", "规范化里加了激活函数",
       "Layer norm is affine after normalizing; a ReLU clips every negative output to zero.",
       "层规范化在标准化之后只做仿射变换；ReLU 会把所有负输出截成 0。",
       _LN_RETURN + "  # no relu"),
    _p("unbiased-variance", (LAYERNORM,),
       "Unbiased variance (divides by n-1)", "用了无偏方差（除以 n-1）",
       "nn.LayerNorm uses the biased variance (divide by n); .std()/.var() default to n-1, which "
       "scales the output by sqrt((n-1)/n).",
       "nn.LayerNorm 使用有偏方差（除以 n）；.std()/.var() 默认除以 n-1，输出被缩放 sqrt((n-1)/n) 倍。",
       "var = x.var(dim=-1, keepdim=True, unbiased=False)"),
    _p("eps-outside-sqrt", (LAYERNORM, RMSNORM),
       "eps added outside the square root", "eps 加在了平方根外面",
       "eps belongs inside the square root: (x-mean)/sqrt(var+eps) in layer norm, x/sqrt(mean(x^2)+eps) "
       "in RMS norm. Adding it to the std (or the RMS) differs on rows of small variance (or mean square) "
       "and blows up the gradient there.",
       "eps 应该在平方根里面：LayerNorm 是 (x-mean)/sqrt(var+eps)，RMSNorm 是 x/sqrt(mean(x^2)+eps)。"
       "加在标准差（或均方根）上，在方差（或均方）很小的行上结果不同，梯度会暴涨。",
       {LAYERNORM: "x_hat = (x - mean) / torch.sqrt(var + self.eps)",
        RMSNORM: "x_hat = x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps)"}),
    _p("missing-eps", (LAYERNORM, RMSNORM),
       "No eps in the denominator", "分母里没有 eps",
       "Without eps a constant row (in RMS norm an all-zero row) divides 0 by 0 (NaN), and rows of small "
       "variance (or mean square) are unstable.",
       "没有 eps 时，常数行（RMSNorm 中是全零行）会出现 0/0（NaN），方差（或均方）很小的行也不稳定。",
       {LAYERNORM: "x_hat = (x - mean) / torch.sqrt(var + self.eps)",
        RMSNORM: "x_hat = x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + self.eps)"}),
    _p("wrong-eps", (LAYERNORM, RMSNORM),
       "Wrong eps", "eps 取值错误",
       "A norm adds the eps it is built with under the root (nn.LayerNorm's default is 1e-5, this "
       "RMSNorm's 1e-6); a different default, or a constant that ignores the eps argument, changes every "
       "row of small variance (or mean square).",
       "规范化层在根号内加上构造时给定的 eps（nn.LayerNorm 默认 1e-5，本题的 RMSNorm 默认 1e-6）；"
       "换一个默认值，或写死常数而忽略 eps 参数，都会改变方差（或均方）很小的行的结果。",
       {LAYERNORM: "x_hat = (x - mean) / torch.sqrt(var + self.eps)  # self.eps = eps, whose default is 1e-5",
        RMSNORM: "x_hat = x / torch.sqrt(ms + self.eps)  # self.eps = eps, whose default is 1e-6"}),
    _p("unstable-variance", (LAYERNORM,),
       "One-pass variance E[x^2]-E[x]^2", "单遍方差 E[x²]-E[x]²",
       "E[x^2]-E[x]^2 cancels catastrophically when rows share a large offset (x+1e4 in float32): "
       "the variance comes out wrong or negative. Subtract the mean first.",
       "当各行有很大的公共偏移（float32 下 x+1e4）时，E[x²]-E[x]² 会灾难性抵消，方差出错甚至为负。应先减去均值。",
       "var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)"),
    _p("wrong-normalized-dims", (LAYERNORM, RMSNORM),
       "Normalized over the wrong dimensions", "在错误的维度上规范化",
       "Layer norm normalizes over the last len(normalized_shape) dims of each sample, not dim=1 "
       "or only the last dim; RMS norm takes the mean square over the last dim alone, not dim=1, the "
       "batch or every dim.",
       "层规范化作用于每个样本的最后 len(normalized_shape) 个维度，而不是 dim=1 或只有最后一维；"
       "RMSNorm 只在最后一维上求均方，而不是 dim=1、批维度或全部维度。",
       {LAYERNORM: "dims = tuple(range(-len(self.normalized_shape), 0)); mean = x.mean(dims, keepdim=True)",
        RMSNORM: _RMS_MS}),
    _p("missing-affine", (LAYERNORM, RMSNORM),
       "No learnable weight (or bias)", "缺少可学习的 weight（或 bias）",
       "LayerNorm has an elementwise gain (ones) and bias (zeros) of shape normalized_shape, applied "
       "after normalizing; RMSNorm has the gain (weight, ones) alone.",
       "LayerNorm 有形状为 normalized_shape 的逐元素增益（初始为 1）和偏置（初始为 0），在标准化之后应用；"
       "RMSNorm 只有增益（weight，初始为 1）。",
       {LAYERNORM: "self.weight = nn.Parameter(torch.ones(normalized_shape)); self.bias = nn.Parameter(torch.zeros(normalized_shape))",
        RMSNORM: "self.weight = nn.Parameter(torch.ones(dim))"}),
    _p("affine-init", (LAYERNORM, RMSNORM),
       "Wrong initial weight or bias", "weight 或 bias 初始值错误",
       "A fresh norm layer must be the plain normalization: weight starts at ones (and a LayerNorm's "
       "bias at zeros).",
       "新建的规范化层应当就是单纯的标准化：weight 初始为 1（LayerNorm 的 bias 初始为 0）。",
       {LAYERNORM: "self.weight = nn.Parameter(torch.ones(normalized_shape)); self.bias = nn.Parameter(torch.zeros(normalized_shape))",
        RMSNORM: "self.weight = nn.Parameter(torch.ones(dim))"}),
    _p("detached-statistics", (LAYERNORM, RMSNORM),
       "Statistics detached from the graph", "统计量被从计算图中分离",
       "The output is right but the gradient misses the paths through the statistics (the mean and "
       "variance, or the mean square): .detach(), .data or no_grad on them.",
       "输出正确，但梯度缺少经过统计量（均值和方差，或均方）的路径（对它们用了 .detach()、.data 或 no_grad）。",
       {LAYERNORM: "mean = x.mean(dim=-1, keepdim=True)  # no .detach()",
        RMSNORM: _RMS_MS + "  # no .detach()"}, forward_right=True),
    _p("forbidden-builtin", (LAYERNORM, RMSNORM),
       "Uses a built-in normalization", "使用了内置的规范化",
       "The task is to write the normalization yourself; torch's fused layer/group/batch/instance/RMS "
       "norm is not allowed in any form (an RMS norm is also half of a layer norm of [x, -x]).",
       "题目要求自己实现规范化；任何形式的 torch 内置 layer/group/batch/instance/RMS norm 都不允许"
       "（RMSNorm 也等于 [x, -x] 的层规范化的前一半）。",
       {LAYERNORM: "var, mean = torch.var_mean(x, dim=-1, keepdim=True, unbiased=False)", RMSNORM: _RMS_MS}),
    _p("modifies-input", (LAYERNORM, RESIDUAL, RMSNORM),
       "Modifies its input in place", "原地修改了输入",
       "forward wrote into its input (x -= ..., x += ..., inplace=True): the caller's tensor changes "
       "and autograd may fail.",
       "forward 原地写入了输入（x -= ...、x += ...、inplace=True）：调用者的张量被改变，自动求导也可能出错。",
       {LAYERNORM: "x = x - mean  # not x -= mean", RESIDUAL: "out = out + x  # not x += out",
        RMSNORM: "y = x * torch.rsqrt(ms + self.eps)  # not x.mul_(...)"}),
    _p("wrong-gradient", (LAYERNORM, RESIDUAL, RMSNORM),
       "Forward is right, gradients are wrong", "前向正确，梯度错误",
       "The outputs match the reference but the input or parameter gradients do not (a custom "
       "backward, a detached path, a grad that is None).",
       "输出与参考一致，但输入或参数的梯度不一致（自定义 backward 有误、某条路径被分离、梯度为 None）。",
       {LAYERNORM: _LN_RETURN + "  # let autograd differentiate",
        RESIDUAL: _RB_RETURN + "  # let autograd differentiate",
        RMSNORM: _RMS_RETURN + "  # let autograd differentiate"}, forward_right=True),
    _p("wrong-backward", (LAYERNORM, RESIDUAL, RMSNORM),
       "Backward is not the derivative of forward", "反向传播不是前向的导数",
       "Besides the mistake in forward, the gradients are not those of the function forward computes "
       "(a hand-written backward, a straight-through or detached path): fixing forward alone will not "
       "fix them.",
       "除了前向中的错误之外，梯度也不是前向所计算函数的梯度（手写 backward 有误、直通或被分离的路径）：只修正前向并不能修正梯度。",
       {LAYERNORM: _LN_RETURN + "  # let autograd differentiate",
        RESIDUAL: _RB_RETURN + "  # let autograd differentiate",
        RMSNORM: _RMS_RETURN + "  # let autograd differentiate"}),
    _p("unused-parameter", (LAYERNORM, RESIDUAL, RMSNORM),
       "A parameter never reaches the output", "有参数没有作用到输出上",
       "The module holds the parameter, but forward never uses it (a bias that is never added, a "
       "Linear's bias skipped with F.linear(x, w)): no gradient reaches it and the output lacks its term.",
       "模块持有该参数，但 forward 从未使用它（从未加上的 bias、用 F.linear(x, w) 跳过了 Linear 的 bias）：梯度到不了它，输出也缺少这一项。",
       {LAYERNORM: _LN_RETURN + "  # weight and bias both used",
        RESIDUAL: "h = self.fc1(x)  # the Linear applies its own bias",
        RMSNORM: _RMS_RETURN + "  # the weight applied"}),
    _p("wrong-output", (LAYERNORM, RESIDUAL, RMSNORM),
       "Wrong output", "输出错误",
       "The outputs differ from the reference and match no known mistake; see the worst elements.",
       "输出与参考不同，且不符合任何已知错误；请查看误差最大的元素。",
       {LAYERNORM: _LN_RETURN, RESIDUAL: _RB_RETURN, RMSNORM: _RMS_RETURN}),
    _p("param-names", (LAYERNORM, RMSNORM),
       "Parameters not named weight and bias", "参数没有命名为 weight 和 bias",
       "Accepted (matched by initial value), but torch's norm layers call them weight and bias (an "
       "RMSNorm has the weight alone), and state dicts rely on the names.",
       "可以接受（按初始值匹配），但 torch 的规范化层把它们命名为 weight 和 bias（RMSNorm 只有 weight），"
       "state_dict 依赖这些名字。",
       {LAYERNORM: "self.weight = nn.Parameter(torch.ones(normalized_shape))",
        RMSNORM: "self.weight = nn.Parameter(torch.ones(dim))"}, severity="note"),
    _p("missing-skip", (RESIDUAL,),
       "No skip connection", "缺少跳跃连接",
       "A residual block adds its input to the branch output before the final ReLU; without it there "
       "is no identity path for the gradient.",
       "残差块在最后的 ReLU 之前把输入加到分支输出上；缺少它就没有供梯度直通的恒等路径。",
       _RB_RETURN),
    _p("detached-skip", (RESIDUAL,),
       "Skip path detached from the graph", "跳跃路径被从计算图中分离",
       "The output is right but no gradient flows through the skip (x.detach(), x.data, no_grad), "
       "which defeats the identity path.",
       "输出正确，但没有梯度经过跳跃路径（x.detach()、x.data、no_grad），恒等路径失去作用。",
       "return F.relu(self.fc2(F.relu(self.fc1(x))) + x)  # no x.detach()", forward_right=True),
    _p("scaled-skip", (RESIDUAL,),
       "Skip path's gradient scaled", "跳跃路径的梯度被缩放",
       "The output is right but the gradient through the skip is multiplied by a constant (a "
       "detached share of x, a gradient hook, a custom backward): the identity path must pass the "
       "gradient through unchanged.",
       "输出正确，但经过跳跃路径的梯度被乘了一个常数（x 的一部分被分离、梯度钩子、自定义 backward）：恒等路径必须原样传递梯度。",
       "return F.relu(self.fc2(F.relu(self.fc1(x))) + x)  # x itself, not a mix with x.detach()",
       forward_right=True),
    _p("missing-parameters", (RESIDUAL,),
       "Missing parameters", "缺少参数",
       "fc1 and fc2 are nn.Linear layers with a bias; without one (bias=False) the block computes a "
       "different function and has fewer parameters to learn.",
       "fc1 和 fc2 都是带偏置的 nn.Linear；缺少偏置（bias=False）时残差块计算的是另一个函数，可学习的参数也更少。",
       "self.fc1 = nn.Linear(in_channels, in_channels)  # bias=True, the default"),
    _p("activation-placement", (RESIDUAL,),
       "ReLU in the wrong place", "ReLU 位置错误",
       "The block is relu(fc2(relu(fc1(x))) + x): one ReLU between the layers, one after the "
       "addition; none on the input, none right after fc2.",
       "残差块是 relu(fc2(relu(fc1(x))) + x)：两层之间一个 ReLU，相加之后一个 ReLU；输入上和 fc2 之后都没有。",
       _RB_RETURN),
    _p("subtracts-mean", (RMSNORM,),
       "Subtracts the mean (that is layer norm)", "减去了均值（那是 LayerNorm 的做法）",
       "RMS norm rescales each row by the root of its mean square and never centres it: "
       "x / sqrt(mean(x^2) + eps). Subtracting the mean first makes it a layer norm without bias, "
       "wrong on every row whose mean is not zero.",
       "RMSNorm 用每行均方的平方根来缩放该行，从不中心化：x / sqrt(mean(x^2) + eps)。"
       "先减去均值就变成了不带偏置的 LayerNorm，在均值不为 0 的每一行上都出错。",
       _RMS_RETURN + "  # x itself, not x - mean"),
    _p("extra-bias", (RMSNORM,),
       "A bias term RMS norm does not have", "多了 RMSNorm 没有的偏置项",
       "RMSNorm has a gain (weight) and no bias: a learnable bias copied from LayerNorm shifts every "
       "output once trained and adds a parameter the state dict does not expect.",
       "RMSNorm 只有增益（weight），没有偏置：从 LayerNorm 照搬过来的可学习偏置在训练后会平移每个输出，"
       "还给 state_dict 多加了一个参数。",
       _RMS_RETURN + "  # no + self.bias"),
    _p("norm-not-rms", (RMSNORM,),
       "Divides by the L2 norm, not the RMS", "除以了 L2 范数而不是均方根",
       "The root mean square is sqrt(mean(x^2)) over the last dim: the sum of squares (x.norm()) "
       "without dividing by n scales every output by 1/sqrt(n).",
       "均方根是最后一维上的 sqrt(mean(x^2))：用平方和（x.norm()）而不除以 n，每个输出都被缩放 1/sqrt(n) 倍。",
       _RMS_MS + "  # the mean, not the sum"),
]}

# The causal self-attention task (issue 18): the shared mistakes with a fix line written for it,
# then its own. Added here rather than in each entry above: the ids keep their catalogue order.
ATTENTION = "causal-self-attention"
_ATTN_OUT = "return self.c_proj(y)  # y = (att @ v).transpose(1, 2).reshape(B, T, C)"
_ATTN_SHARED = {
    "extra-layers": "self.c_attn, self.c_proj = nn.Linear(d_model, 3 * d_model), nn.Linear(d_model, d_model)",
    "modifies-input": "q, k, v = self.c_attn(x).split(C, dim=2)  # x itself is never written",
    "wrong-gradient": _ATTN_OUT + "  # let autograd differentiate",
    "wrong-backward": _ATTN_OUT + "  # let autograd differentiate",
    "unused-parameter": "return self.c_proj(y)  # the Linear applies its own bias",
    "missing-parameters": "self.c_proj = nn.Linear(d_model, d_model)  # bias=True, the default",
    "wrong-output": "att = F.softmax((q @ k.transpose(-2, -1)) / math.sqrt(hs) + mask, dim=-1)",
}
for _id, _fix in _ATTN_SHARED.items():
    _shared = PITFALLS[_id]
    PITFALLS[_id] = replace(_shared, tasks=(*_shared.tasks, ATTENTION), fix={**_shared.fix, ATTENTION: _fix})
PITFALLS.update({p.id: p for p in [
    _p("wrong-scale", (ATTENTION,),
       "Scores scaled by the wrong factor", "注意力分数的缩放因子错误",
       "q·k is divided by sqrt(d_head), the size of one head (d_model / n_heads): the dot product of two "
       "head vectors has a variance that grows with d_head. Dividing by sqrt(d_model), by d_head itself or "
       "not at all makes every softmax too flat or too sharp.",
       "q·k 要除以 sqrt(d_head)，即一个头的维度（d_model / n_heads）：两个头向量点积的方差随 d_head 增长。"
       "除以 sqrt(d_model)、除以 d_head 本身或不缩放，都会让 softmax 过于平坦或过于尖锐。",
       "att = (q @ k.transpose(-2, -1)) / math.sqrt(C // self.n_heads)  # sqrt(d_head)"),
    _p("softmax-dim", (ATTENTION,),
       "Softmax over the wrong dimension", "softmax 作用在错误的维度上",
       "Each query's weights over the keys must sum to 1: the softmax runs over the last dim of the "
       "(B, n_heads, T, T) scores, the keys. Over dim -2 (the queries) or dim 1 (the heads) it mixes "
       "queries or heads.",
       "每个 query 对所有 key 的权重之和必须为 1：softmax 作用在形状为 (B, n_heads, T, T) 的分数的最后一维，"
       "即 key 所在的维度。作用在 dim -2（query）或 dim 1（头）上会把不同的 query 或不同的头混在一起。",
       "att = F.softmax(att, dim=-1)  # over the keys"),
    _p("mask-after-softmax", (ATTENTION,),
       "Causal mask applied after the softmax", "因果掩码在 softmax 之后才施加",
       "Masking after the softmax zeroes the future weights but leaves each row summing to less than 1 "
       "(or fills it with -inf, which gives NaN). Set the scores of future keys to -inf before the "
       "softmax, which then normalizes over the visible keys alone.",
       "在 softmax 之后才做掩码，虽然把未来位置的权重置零，但每行的权重之和小于 1（若填入 -inf 则得到 NaN）。"
       "应在 softmax 之前把未来 key 的分数设为 -inf，softmax 便只在可见的 key 上归一化。",
       "att = F.softmax(att.masked_fill(future, float('-inf')), dim=-1)  # mask, then softmax"),
    _p("missing-causal-mask", (ATTENTION,),
       "No causal mask", "缺少因果掩码",
       "Without the mask every token attends to the tokens after it: the model sees the future it is "
       "meant to predict. Set the scores of keys after the query to -inf before the softmax.",
       "没有掩码时，每个 token 都会关注它之后的 token：模型看到了它要预测的未来。应在 softmax 之前把 query "
       "之后的 key 的分数设为 -inf。",
       "att = att.masked_fill(torch.ones(T, T, dtype=torch.bool, device=x.device).triu(1), float('-inf'))"),
    _p("inverted-causal-mask", (ATTENTION,),
       "Causal mask inverted", "因果掩码方向反了",
       "The mask hides the wrong side: a token sees itself and the tokens before it (the lower triangle, "
       "tril), and only the keys after it are set to -inf. Masking the past instead (triu and tril "
       "swapped, or == 1 where == 0 was meant) lets a token see the future; masking the diagonal as well "
       "leaves the last token nothing to attend to (NaN).",
       "掩码遮住了错误的一侧：token 应能看到自己和之前的 token（下三角，tril），只有它之后的 key 被设为 -inf。"
       "反过来遮住过去（triu 与 tril 用反，或把 == 0 写成 == 1）会让 token 看到未来；连对角线也遮住时，"
       "最后一个 token 没有任何可关注的位置（NaN）。",
       "att = att.masked_fill(self.mask[:T, :T] == 0, float('-inf'))  # mask = torch.tril(torch.ones(n, n))"),
    _p("head-order", (ATTENTION,),
       "Heads split or merged in the wrong order", "多头的拆分或合并顺序错误",
       "Head h owns features h*d_head to (h+1)*d_head of q, k and v: split with view(B, T, n_heads, "
       "d_head).transpose(1, 2) and merge with y.transpose(1, 2).reshape(B, T, C). A view straight to "
       "(B, n_heads, T, d_head), or back to (B, T, C), without the transpose mixes tokens into heads; "
       "view(B, T, d_head, n_heads) interleaves the heads' features.",
       "第 h 个头拥有 q、k、v 的第 h*d_head 到 (h+1)*d_head 个特征：拆分用 view(B, T, n_heads, d_head).transpose(1, 2)，"
       "合并用 y.transpose(1, 2).reshape(B, T, C)。不做 transpose 直接 view 成 (B, n_heads, T, d_head) 或 (B, T, C)，"
       "会把不同 token 混进同一个头；view(B, T, d_head, n_heads) 则会让各个头的特征交错。",
       "y = y.transpose(1, 2).reshape(B, T, C)  # (B, nh, T, hs) -> (B, T, nh, hs) -> (B, T, C)"),
    _p("attention-dropout", (ATTENTION,),
       "Dropout, or something else that runs in train mode only", "使用了 dropout，或其他只在训练模式下运行的操作",
       "The outputs are right in eval mode and wrong in train mode: something random or mode-dependent "
       "runs during training. This task has no dropout (nanoGPT's attn_dropout and resid_dropout are left "
       "out), so train and eval mode compute the same function.",
       "输出在评估模式下正确、在训练模式下错误：训练时运行了随机的或依赖模式的操作。本题没有 dropout"
       "（nanoGPT 的 attn_dropout 和 resid_dropout 都去掉了），训练和评估模式计算的是同一个函数。",
       "att = F.softmax(att, dim=-1)  # no dropout in this task"),
    _p("builtin-attention", (ATTENTION,),
       "Uses torch's built-in attention", "使用了 torch 内置的注意力",
       "The task is to write attention yourself: F.scaled_dot_product_attention, nn.MultiheadAttention, "
       "the Transformer layers and torch's fused attention kernels are not allowed in any form.",
       "题目要求自己实现注意力：任何形式的 F.scaled_dot_product_attention、nn.MultiheadAttention、Transformer 层"
       "以及 torch 的融合注意力内核都不允许使用。",
       "att = (q @ k.transpose(-2, -1)) / math.sqrt(hs)  # then mask, softmax and att @ v by hand"),
]})


# The batchnorm1d task (issue 19): the shared mistakes with a fix line written for it, then its own.
BATCHNORM = "batchnorm1d"
_BN_NORM = "x_hat = (x - mean.view(shape)) / torch.sqrt(var.view(shape) + self.eps)  # var: biased"
_BN_RETURN = "return x_hat * self.weight.view(shape) + self.bias.view(shape)"
_BN_SHARED = {
    "extra-layers": "self.weight, self.bias = nn.Parameter(torch.ones(n)), nn.Parameter(torch.zeros(n))  # no others",
    "affine-init": "self.weight, self.bias = nn.Parameter(torch.ones(n)), nn.Parameter(torch.zeros(n))",
    "detached-statistics": "mean = x.mean(dim=0)  # outside torch.no_grad(): only the running update goes there",
    "forbidden-builtin": "var, mean = torch.var_mean(x, dim=0, unbiased=False)",
    "modifies-input": "x_hat = (x - mean) / torch.sqrt(var + self.eps)  # not x -= mean",
    "wrong-gradient": _BN_RETURN + "  # let autograd differentiate",
    "wrong-output": _BN_NORM,
    "param-names": "self.weight = nn.Parameter(torch.ones(num_features))  # not gamma",
}
for _id, _fix in _BN_SHARED.items():
    _shared = PITFALLS[_id]
    PITFALLS[_id] = replace(_shared, tasks=(*_shared.tasks, BATCHNORM), fix={**_shared.fix, BATCHNORM: _fix})
_BN_UPDATE = "self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)"
PITFALLS.update({p.id: p for p in [
    _p("stats-over-features", (BATCHNORM,),
       "Statistics over the features, not the batch", "统计量是在特征上而不是在批上计算的",
       "Batch norm normalizes each feature with its mean and variance over the batch (dim 0, and L for "
       "(N, C, L) inputs). Taking them over each sample's features is layer norm: every sample is "
       "normalized on its own and the running statistics cannot be per feature.",
       "BatchNorm 用每个特征在整个批上（dim 0，(N, C, L) 输入还包括 L）的均值和方差来规范化该特征。在每个样本的"
       "特征上计算统计量是 LayerNorm：每个样本各自规范化，运行统计量也无法按特征记录。",
       "mean = x.mean(dim=0)  # over the batch: one value per feature"),
    _p("unbiased-batch-variance", (BATCHNORM,),
       "Unbiased variance in the normalization", "规范化时用了无偏方差",
       "In training, nn.BatchNorm1d normalizes with the biased batch variance (divide by n); .var() "
       "defaults to n - 1, which scales every output by sqrt((n - 1) / n). The unbiased variance belongs "
       "in running_var only.",
       "训练时 nn.BatchNorm1d 用有偏的批方差（除以 n）来规范化；.var() 默认除以 n - 1，每个输出都被缩放 "
       "sqrt((n - 1) / n) 倍。无偏方差只用于 running_var。",
       "var = x.var(dim=0, unbiased=False)  # to normalize; n / (n - 1) times it for running_var"),
    _p("biased-running-variance", (BATCHNORM,),
       "Biased variance in the running estimate", "运行方差用了有偏方差",
       "nn.BatchNorm1d moves running_var toward the unbiased batch variance (divide by n - 1), an "
       "estimate of the population's variance, while it normalizes with the biased one: multiply by "
       "n / (n - 1) before the update.",
       "nn.BatchNorm1d 让 running_var 朝无偏的批方差（除以 n - 1）更新，作为总体方差的估计，而规范化用的是有偏方差："
       "更新前先乘以 n / (n - 1)。",
       "self.running_var.mul_(1 - self.momentum).add_(self.momentum * var * n / (n - 1))"),
    _p("running-stats-not-updated", (BATCHNORM,),
       "Running statistics never updated", "运行统计量从未更新",
       "In training mode each call moves running_mean and running_var toward the batch's statistics; "
       "left at zeros and ones (or updated on a copy that is thrown away), eval mode normalizes with "
       "the wrong statistics.",
       "训练模式下每次调用都要让 running_mean 和 running_var 朝本批的统计量更新；若一直停留在 0 和 1（或只更新了"
       "随后被丢弃的副本），评估模式就会用错误的统计量来规范化。",
       _BN_UPDATE + "  # in place, on the registered buffer"),
    _p("running-stats-updated-in-eval", (BATCHNORM,),
       "Running statistics updated in eval mode", "评估模式下也更新了运行统计量",
       "Eval mode only reads running_mean and running_var: updating them there (outside the "
       "`if self.training:` branch) lets evaluation batches change the model.",
       "评估模式只读取 running_mean 和 running_var：在评估时更新它们（写在 `if self.training:` 分支之外），"
       "会让评估用的批次改变模型。",
       "if self.training: self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)  # train only"),
    _p("batch-stats-in-eval", (BATCHNORM,),
       "Eval mode normalizes with the batch's statistics", "评估模式用了本批的统计量",
       "In eval mode batch norm normalizes with running_mean and running_var, so an output does not "
       "depend on the other samples of its batch; the batch's own statistics are for training only.",
       "评估模式下 BatchNorm 用 running_mean 和 running_var 来规范化，使输出不依赖同一批中的其他样本；"
       "本批自身的统计量只在训练时使用。",
       "mean, var = (batch_mean, batch_var) if self.training else (self.running_mean, self.running_var)"),
    _p("wrong-momentum", (BATCHNORM,),
       "Momentum on the old value, or ignored", "动量作用在旧值上，或被忽略",
       "PyTorch's convention is running = (1 - momentum) * running + momentum * batch_stat, with the "
       "momentum the module is built with (default 0.1). momentum * running + (1 - momentum) * "
       "batch_stat is the other convention (Keras's, d2l's 0.9): with momentum = 0.1 it keeps a tenth of "
       "the history.",
       "PyTorch 的约定是 running = (1 - momentum) * running + momentum * batch_stat，momentum 取构造时给定的值"
       "（默认 0.1）。momentum * running + (1 - momentum) * batch_stat 是另一种约定（Keras、d2l 的 0.9）："
       "在 momentum = 0.1 时只保留十分之一的历史。",
       _BN_UPDATE),
    _p("unregistered-buffers", (BATCHNORM,),
       "Running statistics are not registered buffers", "运行统计量不是注册的缓冲区",
       "running_mean and running_var must be buffers registered under those names with "
       "self.register_buffer: a plain tensor attribute (or another name) is left out of state_dict, "
       "so a saved model loses its statistics, and .to() does not move or cast it.",
       "running_mean 和 running_var 必须用 self.register_buffer 以这两个名字注册为缓冲区：普通的张量属性（或别的名字）"
       "不在 state_dict 里，保存的模型会丢失统计量，.to() 也不会移动或转换它。",
       "self.register_buffer(\"running_mean\", torch.zeros(num_features))"),
    _p("running-stats-init", (BATCHNORM,),
       "Wrong initial running statistics", "运行统计量的初始值错误",
       "A fresh BatchNorm1d starts with running_mean at zeros and running_var at ones, so that eval "
       "mode before any training is the identity up to eps.",
       "新建的 BatchNorm1d 中 running_mean 初始为 0、running_var 初始为 1，这样在任何训练之前的评估模式只差 eps 就是恒等变换。",
       "self.register_buffer(\"running_var\", torch.ones(num_features))"),
]})

# The pre- and post-norm residual sublayer tasks (issue 19): where the norm, the dropout and the
# skip go. The shared mistakes with a fix line written for each, then their own.
PRENORM, POSTNORM = "prenorm-residual", "postnorm-residual"
_PRE_RETURN = "return x + self.dropout(self.sublayer(self.norm(x)))"
_POST_RETURN = "return self.norm(x + self.dropout(self.sublayer(x)))"
_SUBLAYER_SHARED = {
    "missing-skip": (_PRE_RETURN, _POST_RETURN),
    "modifies-input": (_PRE_RETURN + "  # not x += ...", _POST_RETURN + "  # not x += ..."),
    "wrong-output": (_PRE_RETURN, _POST_RETURN),
}
for _id, (_pre, _post) in _SUBLAYER_SHARED.items():
    _shared = PITFALLS[_id]
    PITFALLS[_id] = replace(_shared, tasks=(*_shared.tasks, PRENORM, POSTNORM),
                            fix={**_shared.fix, PRENORM: _pre, POSTNORM: _post})
# missing-skip said "before the final ReLU": the residual block's place for the skip; now said of each.
PITFALLS["missing-skip"] = replace(PITFALLS["missing-skip"], explanation={
    "en": "A residual connection adds the block's input back to the branch's output (in the residual block "
          "before the final ReLU; in a pre-norm sublayer after the dropout; in a post-norm one before the norm); "
          "without it there is no identity path for the gradient.",
    "zh": "残差连接把块的输入加回到分支的输出上（残差块中在最后的 ReLU 之前；pre-norm 子层中在 dropout 之后；"
          "post-norm 子层中在规范化之前）；缺少它就没有供梯度直通的恒等路径。"})
_BOTH = (PRENORM, POSTNORM)
PITFALLS.update({p.id: p for p in [
    _p("norm-placement", _BOTH,
       "Pre-norm and post-norm swapped", "pre-norm 与 post-norm 顺序颠倒",
       "Pre-norm normalizes the branch's input and leaves the sum alone: x + dropout(sublayer(norm(x))). "
       "Post-norm normalizes the sum: norm(x + dropout(sublayer(x))). Writing one for the other changes "
       "every output, and in a deep stack decides whether the skip path carries x unchanged.",
       "pre-norm 规范化分支的输入、不动相加的结果：x + dropout(sublayer(norm(x)))。post-norm 规范化相加的结果："
       "norm(x + dropout(sublayer(x)))。把一种写成另一种会改变每个输出，在深层堆叠中也决定了跳跃路径是否原样传递 x。",
       {PRENORM: _PRE_RETURN + "  # the norm on the branch's input", POSTNORM: _POST_RETURN + "  # the norm on the sum"}),
    _p("double-norm", _BOTH,
       "The norm applied twice", "规范化做了两次",
       "The sublayer connection normalizes once: pre-norm on the branch's input, post-norm on the sum. A "
       "second norm (on both the input and the sum, or norm(norm(x))) rescales what the block returns.",
       "子层连接只规范化一次：pre-norm 在分支输入上，post-norm 在相加的结果上。再加一次规范化（输入和和都规范化，"
       "或 norm(norm(x))）会改变块返回的尺度。",
       {PRENORM: _PRE_RETURN + "  # no norm on the sum", POSTNORM: _POST_RETURN + "  # no norm on the sublayer's input"}),
    _p("dropout-on-skip", _BOTH,
       "Dropout on the skip path", "dropout 作用在了跳跃路径上",
       "Dropout belongs on the branch, the sublayer's output, before the addition: dropout(x + sublayer(...)) "
       "also zeroes elements of x, so in training the identity path loses them.",
       "dropout 应作用在分支上，即相加之前的 sublayer 输出：dropout(x + sublayer(...)) 也会把 x 的元素置零，"
       "训练时恒等路径就丢失了这些元素。",
       {PRENORM: _PRE_RETURN + "  # dropout on the branch only", POSTNORM: _POST_RETURN + "  # dropout on the branch only"}),
    _p("double-sublayer", _BOTH,
       "The sublayer applied twice", "sublayer 被调用了两次",
       "The block runs the sublayer it was given once per forward: sublayer(sublayer(h)) computes another "
       "function and doubles its cost.",
       "块在每次 forward 中只运行一次传入的 sublayer：sublayer(sublayer(h)) 计算的是另一个函数，开销也翻倍。",
       {PRENORM: "h = self.sublayer(self.norm(x))  # once", POSTNORM: "h = self.sublayer(x)  # once"}),
    _p("dropout-in-eval", _BOTH,
       "Dropout also in eval mode", "评估模式下也做了 dropout",
       "F.dropout(y, p) drops whatever the module's mode: its training argument defaults to True. In eval "
       "mode dropout must be the identity: pass training=self.training, or use nn.Dropout, which follows "
       ".train() and .eval().",
       "F.dropout(y, p) 不管模块处于什么模式都会丢弃：它的 training 参数默认为 True。评估模式下 dropout 必须是恒等映射："
       "传入 training=self.training，或者用会跟随 .train() 和 .eval() 的 nn.Dropout。",
       "y = F.dropout(y, self.p_drop, training=self.training)"),
]})

# The layernorm-backward task (issue 19): a torch.autograd.Function whose backward is derived by
# hand. The shared mistakes with a fix line written for it, then its own.
LN_BACKWARD = "layernorm-backward"
_LNB_DX = "dx = rstd * (dxhat - dxhat.mean(-1, keepdim=True) - xhat * (dxhat * xhat).mean(-1, keepdim=True))"
_LNB_SHARED = {
    "forbidden-builtin": "mean = x.mean(-1, keepdim=True); rstd = 1 / torch.sqrt(((x - mean) ** 2).mean(-1, keepdim=True) + eps)",
    "wrong-gradient": _LNB_DX + "  # dxhat = grad_out * weight",
    "wrong-output": "return (x - mean) * rstd * weight + bias  # rstd = 1 / sqrt(var + eps), var biased",
}
for _id, _fix in _LNB_SHARED.items():
    _shared = PITFALLS[_id]
    PITFALLS[_id] = replace(_shared, tasks=(*_shared.tasks, LN_BACKWARD), fix={**_shared.fix, LN_BACKWARD: _fix})
PITFALLS.update({p.id: p for p in [
    _p("missing-mean-terms", (LN_BACKWARD,),
       "Backward misses the mean terms", "反向传播缺少均值项",
       "The row's mean depends on every element of x, so each dx gets -mean(dx̂) (dx̂ = grad_out * weight) "
       "from it: without that term the input gradient of a row does not sum to zero, as it must when "
       "shifting the whole row changes no output.",
       "每行的均值依赖于 x 的每个元素，因此每个 dx 都要从它得到一项 -mean(dx̂)（dx̂ = grad_out * weight）："
       "缺少这一项时，一行的输入梯度之和不为零，而整行平移不改变任何输出，梯度之和本应为零。",
       _LNB_DX),
    _p("missing-variance-term", (LN_BACKWARD,),
       "Backward misses the variance term", "反向传播缺少方差项",
       "rstd = 1/sqrt(var + eps) depends on x through the variance: its derivative adds "
       "-x̂ * mean(dx̂ * x̂) to dx. Treating rstd as a constant leaves the gradient wrong wherever dx̂ "
       "and x̂ are correlated.",
       "rstd = 1/sqrt(var + eps) 通过方差依赖于 x：它的导数给 dx 加上 -x̂ * mean(dx̂ * x̂)。把 rstd 当作常数，"
       "在 dx̂ 与 x̂ 相关的地方梯度就是错的。",
       _LNB_DX),
    _p("wrong-param-reduction", (LN_BACKWARD,),
       "Weight and bias gradients not summed over the batch", "weight 和 bias 的梯度没有在批上求和",
       "Every position of every row uses the same weight and bias, so their gradients are sums over all "
       "leading dims: dweight = sum(grad_out * x̂), dbias = sum(grad_out). A mean (or a sum over one "
       "batch dim, then a mean) scales them down by the number of rows.",
       "每一行的每个位置都使用同一个 weight 和 bias，所以它们的梯度是在所有前导维度上的求和：dweight = sum(grad_out * x̂)，"
       "dbias = sum(grad_out)。用均值（或先在一个批维度上求和再取均值）会把它们缩小为行数分之一。",
       "dweight = (grad_out * xhat).reshape(-1, C).sum(0); dbias = grad_out.reshape(-1, C).sum(0)"),
    _p("autograd-in-backward", (LN_BACKWARD,),
       "Autograd computed the gradients", "梯度是由自动求导算出的",
       "The task is to derive backward by hand: torch.autograd.grad, .backward(), torch.func or a graph "
       "rebuilt under enable_grad inside the Function (or an apply that bypasses it) leaves the derivation "
       "to autograd. Compute the gradients from what forward saved.",
       "题目要求手工推导 backward：在 Function 内部使用 torch.autograd.grad、.backward()、torch.func，或在 "
       "enable_grad 下重建计算图（或用绕过它的 apply），都是把推导交给了自动求导。应根据 forward 保存的量计算梯度。",
       "return dx, dweight, dbias, None  # from the saved xhat, weight and rstd; no autograd here"),
]})

# What an instructor's task that lists no pitfalls of its own is diagnosed with: the mistakes any
# module can make.
GENERIC = ["extra-layers", "modifies-input", "wrong-gradient", "wrong-output"]


def get(pitfall_id: str) -> Pitfall:
    return PITFALLS[pitfall_id]


def ids_for(task_id: str) -> list[str]:
    """The built-in pitfall ids of a built-in task, in catalogue order."""
    return [p.id for p in PITFALLS.values() if task_id in p.tasks]


def for_task(task) -> dict[str, Pitfall]:
    """The catalogue a task is diagnosed with: the built-in pitfalls and the task's own (its YAML's
    `own_pitfalls`, grader.bank.taskspec.OwnPitfall), whose fix line is for that task alone."""
    own = getattr(task, "own_pitfalls", None) or []
    if not own:
        return PITFALLS
    return {**PITFALLS, **{p.id: Pitfall(p.id, "error", (task.id,), p.title.model_dump(), p.explanation.model_dump(),
                                         {task.id: p.fix}) for p in own}}


def applicable(task) -> list[str]:
    """The ids a task's submissions may be named with: those it lists (else a built-in task's own,
    else GENERIC), then its own pitfalls, which apply whether listed or not."""
    declared = list(task.pitfalls or ids_for(task.id) or GENERIC)
    own = [p.id for p in getattr(task, "own_pitfalls", None) or [] if p.id not in declared]
    catalogue = for_task(task)
    return [i for i in [*declared, *own] if i in catalogue]
