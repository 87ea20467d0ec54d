"""The pitfall catalogue: every mistake dlprep can name, with its learner-facing text.

Ids are a contract (task YAML files, mutants and tests refer to them); add new ones, never rename.
Detectors (static.py, detectors.py, mutantmatch.py) decide *whether* a pitfall applies; this module
only says what it is called and how to fix it, in English and Chinese. A fix is one line of code,
written for the built-in task it applies to; an instructor's task gets none, since a line written
for another module would mislead.
"""
from __future__ import annotations

from dataclasses import dataclass

from grader.results import PitfallResult, Severity

LAYERNORM = "layernorm"
RESIDUAL = "residual-block"


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

PITFALLS: dict[str, Pitfall] = {p.id: p for p in [
    _p("extra-layers", (LAYERNORM, RESIDUAL),
       "Extra layers or parameters", "多余的层或参数",
       "The module holds parameters or parameter layers the reference does not have (a Linear, a "
       "learnable scale or gate); they change the function it computes and its state_dict.",
       "模块里有参考实现没有的参数或带参数层（Linear、可学习的缩放或门控），它们改变了模块计算的函数和 state_dict。",
       {LAYERNORM: "self.weight = nn.Parameter(torch.ones(normalized_shape))  # no nn.Linear",
        RESIDUAL: "self.fc1, self.fc2 = nn.Linear(c, c), nn.Linear(c, c)  # nothing else"}),
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
    _p("eps-outside-sqrt", (LAYERNORM,),
       "eps added to the std, not the variance", "eps 加在了标准差上而不是方差上",
       "eps belongs inside the square root: (x-mean)/sqrt(var+eps). Adding it to the std differs "
       "on rows of small variance and blows up the gradient there.",
       "eps 应该在平方根里面：(x-mean)/sqrt(var+eps)。加在标准差上，在方差很小的行上结果不同，梯度会暴涨。",
       "x_hat = (x - mean) / torch.sqrt(var + self.eps)"),
    _p("missing-eps", (LAYERNORM,),
       "No eps in the denominator", "分母里没有 eps",
       "Without eps a constant row divides 0 by 0 (NaN) and small-variance rows are unstable.",
       "没有 eps 时，常数行会出现 0/0（NaN），方差很小的行也不稳定。",
       "x_hat = (x - mean) / torch.sqrt(var + self.eps)"),
    _p("wrong-eps", (LAYERNORM,),
       "Wrong eps", "eps 取值错误",
       "nn.LayerNorm adds the eps it is built with (default 1e-5) to the variance; a different default, "
       "or a constant that ignores the eps argument, changes every row of small variance.",
       "nn.LayerNorm 把构造时给定的 eps（默认 1e-5）加到方差上；换一个默认值，或写死常数而忽略 eps 参数，"
       "都会改变方差很小的行的结果。",
       "x_hat = (x - mean) / torch.sqrt(var + self.eps)  # self.eps = eps, whose default is 1e-5"),
    _p("unstable-variance", (LAYERNORM,),
       "One-pass variance E[x^2]-E[x]^2", "单遍方差 E[x²]-E[x]²",
       "E[x^2]-E[x]^2 cancels catastrophically when rows share a large offset (x+1e4 in float32): "
       "the variance comes out wrong or negative. Subtract the mean first.",
       "当各行有很大的公共偏移（float32 下 x+1e4）时，E[x²]-E[x]² 会灾难性抵消，方差出错甚至为负。应先减去均值。",
       "var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)"),
    _p("wrong-normalized-dims", (LAYERNORM,),
       "Normalized over the wrong dimensions", "在错误的维度上规范化",
       "Layer norm normalizes over the last len(normalized_shape) dims of each sample, not dim=1 "
       "or only the last dim.",
       "层规范化作用于每个样本的最后 len(normalized_shape) 个维度，而不是 dim=1 或只有最后一维。",
       "dims = tuple(range(-len(self.normalized_shape), 0)); mean = x.mean(dims, keepdim=True)"),
    _p("missing-affine", (LAYERNORM,),
       "No learnable weight and bias", "缺少可学习的 weight 和 bias",
       "LayerNorm has an elementwise gain (ones) and bias (zeros) of shape normalized_shape, applied "
       "after normalizing.",
       "LayerNorm 有形状为 normalized_shape 的逐元素增益（初始为 1）和偏置（初始为 0），在标准化之后应用。",
       "self.weight = nn.Parameter(torch.ones(normalized_shape)); self.bias = nn.Parameter(torch.zeros(normalized_shape))"),
    _p("affine-init", (LAYERNORM,),
       "Wrong initial weight or bias", "weight 或 bias 初始值错误",
       "A fresh LayerNorm must be the plain normalization: weight starts at ones, bias at zeros.",
       "新建的 LayerNorm 应当就是单纯的标准化：weight 初始为 1，bias 初始为 0。",
       "self.weight = nn.Parameter(torch.ones(normalized_shape)); self.bias = nn.Parameter(torch.zeros(normalized_shape))"),
    _p("detached-statistics", (LAYERNORM,),
       "Mean or variance detached from the graph", "均值或方差被从计算图中分离",
       "The output is right but the gradient misses the paths through the mean and variance "
       "(.detach(), .data or no_grad on the statistics).",
       "输出正确，但梯度缺少经过均值和方差的路径（对统计量用了 .detach()、.data 或 no_grad）。",
       "mean = x.mean(dim=-1, keepdim=True)  # no .detach()", forward_right=True),
    _p("forbidden-builtin", (LAYERNORM,),
       "Uses a built-in normalization", "使用了内置的规范化",
       "The task is to write layer norm yourself; torch's fused layer/group/batch/instance/RMS norm "
       "is not allowed in any form.",
       "题目要求自己实现层规范化；任何形式的 torch 内置 layer/group/batch/instance/RMS norm 都不允许。",
       "var, mean = torch.var_mean(x, dim=-1, keepdim=True, unbiased=False)"),
    _p("modifies-input", (LAYERNORM, RESIDUAL),
       "Modifies its input in place", "原地修改了输入",
       "forward wrote into its input (x -= ..., x += ..., inplace=True): the caller's tensor changes "
       "and autograd may fail.",
       "forward 原地写入了输入（x -= ...、x += ...、inplace=True）：调用者的张量被改变，自动求导也可能出错。",
       {LAYERNORM: "x = x - mean  # not x -= mean", RESIDUAL: "out = out + x  # not x += out"}),
    _p("wrong-gradient", (LAYERNORM, RESIDUAL),
       "Forward is right, gradients are wrong", "前向正确，梯度错误",
       "The outputs match the reference but the input or parameter gradients do not (a custom "
       "backward, a detached path, a grad that is None).",
       "输出与参考一致，但输入或参数的梯度不一致（自定义 backward 有误、某条路径被分离、梯度为 None）。",
       {LAYERNORM: _LN_RETURN + "  # let autograd differentiate",
        RESIDUAL: _RB_RETURN + "  # let autograd differentiate"}, forward_right=True),
    _p("wrong-backward", (LAYERNORM, RESIDUAL),
       "Backward is not the derivative of forward", "反向传播不是前向的导数",
       "Besides the mistake in forward, the gradients are not those of the function forward computes "
       "(a hand-written backward, a straight-through or detached path): fixing forward alone will not "
       "fix them.",
       "除了前向中的错误之外，梯度也不是前向所计算函数的梯度（手写 backward 有误、直通或被分离的路径）：只修正前向并不能修正梯度。",
       {LAYERNORM: _LN_RETURN + "  # let autograd differentiate",
        RESIDUAL: _RB_RETURN + "  # let autograd differentiate"}),
    _p("unused-parameter", (LAYERNORM, RESIDUAL),
       "A parameter never reaches the output", "有参数没有作用到输出上",
       "The module holds the parameter, but forward never uses it (a bias that is never added, a "
       "Linear's bias skipped with F.linear(x, w)): no gradient reaches it and the output lacks its term.",
       "模块持有该参数，但 forward 从未使用它（从未加上的 bias、用 F.linear(x, w) 跳过了 Linear 的 bias）：梯度到不了它，输出也缺少这一项。",
       {LAYERNORM: _LN_RETURN + "  # weight and bias both used",
        RESIDUAL: "h = self.fc1(x)  # the Linear applies its own bias"}),
    _p("wrong-output", (LAYERNORM, RESIDUAL),
       "Wrong output", "输出错误",
       "The outputs differ from the reference and match no known mistake; see the worst elements.",
       "输出与参考不同，且不符合任何已知错误；请查看误差最大的元素。",
       {LAYERNORM: _LN_RETURN, RESIDUAL: _RB_RETURN}),
    _p("param-names", (LAYERNORM,),
       "Parameters not named weight and bias", "参数没有命名为 weight 和 bias",
       "Accepted (matched by initial value), but nn.LayerNorm calls them weight and bias, and state "
       "dicts rely on the names.",
       "可以接受（按初始值匹配），但 nn.LayerNorm 把它们命名为 weight 和 bias，state_dict 依赖这些名字。",
       "self.weight = nn.Parameter(torch.ones(normalized_shape))", severity="note"),
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
]}


# What an instructor's task that lists no pitfalls of its own is diagnosed with: the mistakes any
# module can make.
GENERIC = ["extra-layers", "modifies-input", "wrong-gradient", "wrong-output"]


def get(pitfall_id: str) -> Pitfall:
    return PITFALLS[pitfall_id]


def ids_for(task_id: str) -> list[str]:
    """The built-in pitfall ids of a built-in task, in catalogue order."""
    return [p.id for p in PITFALLS.values() if task_id in p.tasks]
