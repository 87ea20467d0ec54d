"""Chinese words for the free-text grader: where a negation stands and what it reaches.

jieba costs 0.6 s on its first segmentation in a process, logs to stderr and writes a 9 MB cache,
so it is imported here only, when a Chinese answer is graded: quiet, its cache under dlprep's cache
directory (DLPREP_HOME or the platform's), and told the domain's words. Those words matter for
negation: 不稳定 ("unstable") and 无关 ("independent of") are words whose negation stays inside
them, while 不 and 不会 reach the words that follow. It also puts the English terms a Chinese answer
borrows into Chinese, for a second reading of a mixed answer.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache

from grader.home import cache_dir

# Kept whole, so a negation inside one does not reach past it, and a phrase is not cut mid-term.
DOMAIN_WORDS = [
    "不稳定", "不一致", "不变", "不改变", "无关", "无偏", "有偏", "非线性", "不足", "不同", "不断", "无论", "不仅",
    "均方根", "均值", "方差", "标准差", "梯度", "梯度消失", "梯度爆炸", "残差", "恒等", "恒等映射", "雅可比",
    "链式法则", "连乘", "预热", "学习率", "归一化", "层归一化", "批归一化", "捷径", "跳连", "阈值", "范数",
    "过拟合", "退化", "偏置", "增益", "平移", "缩放", "去中心化", "中心化", "子层", "分支", "指数级",
    "不打折扣", "不折不扣",
]
# Negations that reach forward over the clause (a word, as jieba cuts it).
FREE_NEGATIONS = {
    "不", "没", "没有", "无", "未", "非", "并非", "不会", "不再", "不能", "无法", "无需", "不用", "不必", "不要",
    "别", "勿", "并不", "并没有", "不是", "从不", "从未", "毫无", "绝不", "不可", "不可能", "不需", "不需要",
    "未必", "并未", "不曾", "甭", "无须", "毋需", "不至于", "不像", "亦非", "既非", "绝非", "并无", "亦不", "也非",
}
# Words that start with a negation character without negating anything outside themselves.
NOT_NEGATIONS = {"不同", "不断", "不仅", "不但", "不管", "不论", "无论", "非常", "无偏", "不少", "不久", "无限",
                 "非零", "不只", "不光", "不打折扣", "不折不扣"}  # 不打折扣地传回: undiminished
_NEGATION_CHARS = ("不", "没", "无", "未", "非", "别")
# A negation fused with a one-character verb still negates the verb's object (不减均值, 没乘权重, 不带偏置),
# unlike one fused with a state (不变, 不够, 不好).
_OBJECT_VERBS = set("减乘除带算含做加求需经靠存记计依留扣设改")
# Verbs that take away what follows them closely (see grader.practice.rubric).
PRIVATIVES = {"省去", "省略", "去掉", "去除", "跳过", "舍弃", "移除", "省掉", "免去", "取消", "删掉", "删除", "拿掉", "丢掉",
              "抛弃", "少了", "扔掉", "丢弃", "砍掉", "略去", "省却", "免除", "去除掉"}


@lru_cache(maxsize=1)
def _jieba():
    import jieba  # deferred: see the module docstring

    jieba.setLogLevel(logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        jieba.dt.tmp_dir = str(folder)
        jieba.dt.cache_file = "jieba.cache"
    except OSError:  # an unwritable cache dir costs speed, never the grade
        pass
    for word in DOMAIN_WORDS:
        jieba.add_word(word, freq=200000)
    for word in PRIVATIVES:  # 少了 stays one word ("少了减均值这一步"), not 少 + 了
        jieba.add_word(word, freq=20000)
    return jieba


@lru_cache(maxsize=4096)
def words(text: str) -> tuple[str, ...]:
    """The words of `text` (jieba, accurate mode), in order; they concatenate back to `text`."""
    return tuple(_jieba().cut(text, HMM=True))


def negation_kind(word: str) -> str | None:
    """'free' for a negation that reaches the following words, 'fused' for a word that negates only
    itself (不一致, 不稳定 are kept whole as terms; 不够 is 'fused' too), 'privative' for a verb that
    takes away what follows it (省略), None for any other word."""
    if word in FREE_NEGATIONS:
        return "free"
    if word in PRIVATIVES:
        return "privative"
    if word.startswith(("并不", "并没", "并非", "不会", "不能", "没有", "无法", "从不", "从未")):
        return "free"  # 并不大, 不会有: the negation reaches the word's own tail and past it
    if word in NOT_NEGATIONS or not word.startswith(_NEGATION_CHARS):
        return None
    if len(word) == 2 and word[1] in _OBJECT_VERBS:
        return "free"
    return "fused"


# English terms a Chinese answer borrows ("在 feature 维度上做 normalize", "不做 mean centering"), in the
# words the Chinese matchers use: a mixed answer is read a second time with these put in Chinese, so
# each point can be found by the matchers of either language (grader.practice.rubric).
ENGLISH_TERMS = [
    (r"residual stream", "残差流"), (r"root[- ]mean[- ]squares?|rms", "均方根"),
    # the two kinds of clipping, whole, before "clip" alone is put in Chinese (the subjects' matchers)
    (r"clip(?:ping|ped|s)? (?:the )?(?:gradients? )?by (?:the )?value|value[- ]clipping|clip_grad_value_?", "按值裁剪"),
    (r"clip(?:ping|ped|s)? (?:the )?(?:gradients? )?by (?:the |global |total )?norm|norm[- ]clipping|clip_grad_norm_?", "按范数裁剪"),
    (r"running (?:mean|var|stat[a-z]*|averages?)(?:/(?:mean|var))?|moving averages?", "滑动平均"),
    (r"mean[- ]cent(?:er|re)ing|mean subtraction|subtract[a-z]* (?:the )?mean", "减均值"),
    (r"re-?cent(?:er|re)[a-z]*|cent(?:er|re)ing", "中心化"),
    (r"per[- ]sample", "每个样本"), (r"per[- ]token", "每个token"), (r"per[- ](?:feature|channel)", "每个特征"),
    (r"last (?:dim|dimension|axis)", "最后一维"), (r"chain rule", "链式法则"), (r"skip[- ]connections?", "跳连"),
    (r"learning rates?|lr", "学习率"), (r"warmup", "预热"),
    (r"mean", "均值"), (r"var|variance", "方差"), (r"std|standard deviation", "标准差"), (r"normali[sz][a-z]*", "归一化"),
    (r"features?", "特征"), (r"channels?", "通道"), (r"samples?", "样本"), (r"sequences?", "序列"),
    (r"dims?|dimensions?", "维度"), (r"inference|eval(?:uation)?|test(?:ing)?", "推理"), (r"train(?:ing)?", "训练"),
    (r"bias(?:es)?", "偏置"), (r"gain", "增益"), (r"learnable|learned|trainable", "可学习"),
    (r"re?scal(?:e|es|ing|ed)", "缩放"), (r"shift", "平移"), (r"weights?", "权重"),
    (r"residuals?", "残差"), (r"identity", "恒等"), (r"shortcuts?", "捷径"), (r"gradients?|grads?", "梯度"),
    (r"vanish[a-z]*", "消失"), (r"explod[a-z]*|explosion", "爆炸"), (r"unstable|instability", "不稳定"),
    (r"stable|stably", "稳定"), (r"diverg[a-z]*", "发散"), (r"jacobians?", "雅可比"), (r"derivatives?", "导数"),
    (r"products?", "连乘"), (r"layers?", "层"), (r"deep(?:er)?", "深"), (r"depth", "深度"),
    (r"exponential(?:ly)?", "指数级"), (r"thresholds?", "阈值"), (r"direction", "方向"), (r"clip(?:ping|ped|s)?", "裁剪"),
    (r"optimi[sz][a-z]*", "优化"), (r"overfit[a-z]*", "过拟合"), (r"degradation", "退化"), (r"cheap(?:er)?", "更省"),
    (r"faster|speed ?ups?", "更快"), (r"performance|quality|accuracy", "效果"), (r"initiali[sz][a-z]*|init", "初始化"),
    (r"outputs?", "输出"), (r"inputs?", "输入"), (r"large|big|huge", "大"), (r"small|tiny", "小"),
    (r"bypass(?:es|ing)?", "绕过"), (r"highway(?!\s?(?:net|网络))|paths?", "通路"), (r"final", "最后"), (r"attention", "注意力"),
    (r"sub-?layers?", "子层"), (r"branch(?:es)?", "分支"), (r"feed-?forward|ffn|mlp", "前馈"), (r"add(?:ition)?", "相加"),
    (r"uniform(?:ly)?|balanced", "均衡"),
]
# ("Highway Network", a name, stays as written: a subject's matchers find it in either reading.)
_ENGLISH_TERMS = re.compile("|".join(rf"(?P<t{i}>{pattern})" for i, (pattern, _) in enumerate(ENGLISH_TERMS)))
_ENGLISH_TERM = re.compile(rf"(?<![a-z0-9_.-])(?:{_ENGLISH_TERMS.pattern})(?![a-z0-9_(-])", re.ASCII)


def english_terms_in_chinese(text: str) -> str:
    """A folded Chinese answer with its borrowed English terms in Chinese (see ENGLISH_TERMS)."""
    return _ENGLISH_TERM.sub(lambda m: ENGLISH_TERMS[int(m.lastgroup[1:])][1], text)
