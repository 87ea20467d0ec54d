"""Chinese words for the free-text grader: where a negation stands and what it reaches.

jieba costs 0.6 s on its first segmentation in a process, logs to stderr and writes a 9 MB cache,
so it is imported here only, when a Chinese answer is graded: quiet, its cache under dlprep's cache
directory (DLPREP_HOME or the platform's), and told the domain's words. Those words matter for
negation: 不稳定 ("unstable") and 无关 ("independent of") are words whose negation stays inside
them, while 不 and 不会 reach the words that follow.
"""
from __future__ import annotations

import logging
from functools import lru_cache

from grader.home import cache_dir

# Kept whole, so a negation inside one does not reach past it, and a phrase is not cut mid-term.
DOMAIN_WORDS = [
    "不稳定", "不一致", "不变", "不改变", "无关", "无偏", "有偏", "非线性", "不足", "不同", "不断", "无论", "不仅",
    "均方根", "均值", "方差", "标准差", "梯度", "梯度消失", "梯度爆炸", "残差", "恒等", "恒等映射", "雅可比",
    "链式法则", "连乘", "预热", "学习率", "归一化", "层归一化", "批归一化", "捷径", "跳连", "阈值", "范数",
    "过拟合", "退化", "偏置", "增益", "平移", "缩放", "去中心化", "中心化", "子层", "分支", "指数级",
]
# Negations that reach forward over the clause (a word, as jieba cuts it).
FREE_NEGATIONS = {
    "不", "没", "没有", "无", "未", "非", "并非", "不会", "不再", "不能", "无法", "无需", "不用", "不必", "不要",
    "别", "勿", "并不", "并没有", "不是", "从不", "从未", "毫无", "绝不", "不可", "不可能", "不需", "不需要",
    "未必", "并未", "不曾", "甭", "无须", "毋需", "不至于",
}
# Words that start with a negation character without negating anything outside themselves.
NOT_NEGATIONS = {"不同", "不断", "不仅", "不但", "不管", "不论", "无论", "非常", "无偏", "不少", "不久", "无限",
                 "非零", "不只", "不光"}
_NEGATION_CHARS = ("不", "没", "无", "未", "非", "别")
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
    return "fused"
