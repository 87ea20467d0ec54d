"""The judge's check messages in the job's language (`--lang`), gettext style: the English template
is the key, so an English report reads exactly as the code writes it, and a template with no
Chinese entry falls back to English rather than failing (tests/test_coding_loop.py checks that every
template checks.py uses has one).

Which language: the job's `lang`, from --lang, for every format alike. The default is English, so
JSON and Gradescope documents stay English unless a Chinese report is asked for, as the pitfall
texts already did. Text a submission produced (its exception messages, its names) stays as it was.
"""
from __future__ import annotations

import re

ZH = {
    "{items} and {n} more": "{items} 及另外 {n} 项",
    "line {line}: {text} reaches into the grader's own state, so this submission's reports about itself "
    "cannot be believed": "第 {line} 行：{text} 触及评分器自身的状态，因此这份提交关于自身的报告不可信",
    "missing parameters: {names}": "缺少参数：{names}",
    "unexpected parameters: {names}": "多余的参数：{names}",
    "{name} has shape {got}, expected {want}": "{name} 的形状是 {got}，应为 {want}",
    "none besides the module itself": "除模块本身外没有",
    "none": "没有",
    "parameter-holding submodules: {got}; expected {want}": "带参数的子模块：{got}；应为 {want}",
    "shape {shape}": "形状 {shape}",
    "a tensor missing from the reported parameters received a gradient ({shapes})":
        "一个不在所报告参数中的张量收到了梯度（{shapes}）",
    "{n} parameters as expected": "{n} 个参数，符合预期",
    "no parameter initialised to {init} for {name}": "没有为 {name} 初始化为 {init} 的参数",
    "{name} starts as {got}, expected {want}": "{name} 的初始值是 {got}，应为 {want}",
    "{probe}: output {why}": "{probe}：输出{why}",
    "output {why}": "输出{why}",
    "forward modified its input ({names})": "forward 修改了它的输入（{names}）",
    "line {line}: {text}": "第 {line} 行：{text}",
    "called: {ops}": "调用了：{ops}",
    "no gradient reached: {names}": "梯度没有到达：{names}",
    "gradient of {name}": "{name} 的梯度",
    "gradient of {name}: {why}": "{name} 的梯度{why}",
    "input": "输入",
    "output": "输出",
    "{label}: {count} elements off": "{label}：{count} 个元素不符",
    "{label}: {share}% of the elements off": "{label}：{share}% 的元素不符",
    "{label}: under 1% of the elements off": "{label}：不到 1% 的元素不符",
    "the reference's float64 result is not finite on this probe": "参考实现在这个探针上的 float64 结果不是有限值",
    " (families: {names})": "（族：{names}）",
    # Call sequences and buffers (grader.grading.stateful)
    "missing buffers: {names}": "缺少缓冲区：{names}",
    "the task declares the buffer {name}, which its reference does not register":
        "题目声明了缓冲区 {name}，但参考实现没有注册它",
    "not registered as buffers: {names} (plain attributes: state_dict and .to() leave them out)":
        "没有注册为缓冲区：{names}（普通属性：state_dict 和 .to() 都不包含它们）",
    "no buffer {name} to start as {init}": "没有初始值应为 {init} 的缓冲区 {name}",
    "step {n} ({mode}): {what}": "第 {n} 步（{mode}）：{what}",
    "{label} {why}": "{label}{why}",
    "buffer {name}": "缓冲区 {name}",
    "buffer {name}: {why}": "缓冲区 {name}{why}",
    # Function tasks (grader.grading.functionchecks)
    "autograd's engine ran {n} time(s) inside {name} (torch.autograd.grad, .backward() or torch.func in forward "
    "or backward): these gradients are autograd's, not your backward's":
        "自动求导引擎在 {name} 内部运行了 {n} 次（forward 或 backward 中的 torch.autograd.grad、.backward() 或 "
        "torch.func）：这些梯度是自动求导算出的，不是你的 backward 算出的",
    "apply's output came from {node}, not from {name}'s own backward: these gradients are autograd's":
        "apply 的输出来自 {node}，而不是 {name} 自己的 backward：这些梯度是自动求导算出的",
    "gradcheck did not run": "gradcheck 没有运行",
    "torch.autograd.gradcheck (float64) failed: {why}": "torch.autograd.gradcheck（float64）未通过：{why}",
    " and {n} more": " 及另外 {n} 个",
    "autograd computed the gradients on probes {names}": "在探针 {names} 上梯度由自动求导算出",
    # Dropout read from the submission's own mask (grader.grading.dropout)
    "dropout's mask is read from the gradient at the output of {site}, and this probe's forward or backward "
    "failed": "dropout 的掩码是从 {site} 输出处的梯度读出的，而这个探针的 forward 或 backward 失败了",
    "no gradient reached the output of {site}, so dropout's mask cannot be read: call the {site} given to the "
    "constructor once in forward and keep its output in the graph":
        "没有梯度到达 {site} 的输出，因此无法读出 dropout 的掩码：在 forward 中调用一次构造时传入的 {site}，"
        "并让它的输出留在计算图中",
    "the gradient recorded at the output of {site} is not a tensor of its output's shape and dtype":
        "在 {site} 输出处记录的梯度不是与其输出形状和 dtype 相同的张量",
    "dropout kept {share}% of the elements of the branch; with p = {p} about {want}% are kept, and a share this "
    "far off has a probability below 1e-9 (an element whose gradient at the branch's output is exactly 0 counts as "
    "dropped)": "dropout 保留了分支中 {share}% 的元素；p = {p} 时约保留 {want}%，偏离这么远的比例出现的概率低于 1e-9"
    "（分支输出处梯度恰好为 0 的元素算作被丢弃）",
    # Why a tensor the child sent was refused (grader.grading.judge.Judgement.got), as it follows
    # "output" or "gradient of X".
    "has the wrong shape": "形状不对",
    "missing": "缺失",
}

# Judgement.got's reasons, which carry values: (English pattern, Chinese template).
_WHY = [
    (re.compile(r"^a (?P<type>.+), not a torch\.Tensor$"), "是 {type}，不是 torch.Tensor"),
    (re.compile(r"^dtype (?P<got>\S+), expected (?P<want>\S+)$"), "的 dtype 是 {got}，应为 {want}"),
    (re.compile(r"^shape (?P<got>.+), expected (?P<want>.+)$"), "的形状是 {got}，应为 {want}"),
]


# Chinese puts a space between a Latin name and a Chinese word ("weight 的梯度"), none between two
# Chinese words: the space beside a placeholder goes when the value filled in is itself Chinese
# ("输入的梯度"). Only the template's own spaces change, never a value's text.
_CJK = "[\u4e00-\u9fff]"


def say(lang: str, template: str, **values) -> str:
    """`template` (English) in `lang`, filled with `values`."""
    if lang == "zh":
        template = ZH.get(template, template)
        for key, value in values.items():
            text = str(value)
            if re.search(f"{_CJK}$", text):
                template = re.sub(r"\{" + key + r"\} (?=" + _CJK + ")", "{" + key + "}", template)
            if re.match(_CJK, text):
                template = re.sub("(?<=" + _CJK + r") \{" + key + r"\}", "{" + key + "}", template)
    return template.format(**values) if values else template


def why(lang: str, reason: str) -> str:
    """A refused tensor's reason as `say` would word it; English, and any reason not known, as is."""
    if lang != "zh":
        return reason
    if reason in ZH:
        return ZH[reason]
    for pattern, template in _WHY:
        if match := pattern.match(reason):
            return template.format(**match.groupdict())
    return " " + reason
