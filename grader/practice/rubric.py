"""Grade free text against a rubric of key points, as an examiner would, and say why.

A key point is made when one of its matchers occurs as an assertion: not negated ("does not
subtract the mean", "梯度不会消失", "overfitting is not the cause"), not said of another subject
(what post-LN does, said of pre-LN, is a swap), and, for a misconception, not a warning, a
hypothetical or a quote ("x.var() applies Bessel's correction by default, which would not match").
A point may also be made by denying something (`denies`: "RMSNorm 不再计算和减去均值" makes "no
re-centering"). Matching runs on the folded text (grader.practice.notation); Chinese negation scope
uses jieba's words (grader.practice.chinese), loaded only for an answer holding Chinese.

Score: the weight of the points made, less the weight of points swapped and half the weight of
points contradicted, over the total; less each misconception's penalty; clipped to 0..1. Where the
evidence is thin (a long answer on the question's subject that makes few points and contradicts
nothing) the verdict is `unsure`: the quiz then asks the learner to rate themselves.

Every search is bounded (matchers run once over the text, negation cues are found once and looked
up by position), so grading stays linear in the answer's length.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from grader.bank.schema import KeyPoint, Matchers, Misconception, ShortQuestion
from grader.practice import notation

# How far a negation reaches forward inside its clause, in characters: "does not really make" fits;
# Chinese packs a word into two characters, so it reaches fewer.
NEGATION_REACH = {"en": 24, "zh": 14}
# How many characters a Chinese matcher may leave between its words ("减均值" in "减去均值").
CJK_GAP = 3
# A swapped point costs what it would have earned; a contradicted one half of it.
SWAP_COST, CONTRADICTION_COST = 1.0, 0.5
# Unsure: an answer this long (words, or CJK characters / 2) that makes under this share of the
# points, contradicts and misstates nothing, and speaks the question's own vocabulary.
UNSURE_MIN_WORDS, UNSURE_BELOW, UNSURE_TOPICAL = 25, 0.6, 0.3

_CLAUSE_END = re.compile(
    r"[;:!?,。；：！？，、\n]|\.(?=\s|$)|\b(?:but|rather|instead|whereas|while|although|though)\b|而是|但是|但|却|反而|然而"
)
_SENTENCE_END = re.compile(r"[!?;。！？；\n]|\.(?=\s|$)")
_EN_NEGATION = re.compile(
    r"\b(?:not|never|no|none|neither|nor|cannot|without|nothing|lacks?|lacking|fails? to)\b|n't\b"
)
_EN_NOT_NEGATION = re.compile(r"\bnot only\b|\bno matter\b|\bnot just\b|\bno longer than\b|\bnothing but\b")
_CJK_RUN = re.compile(r"[^\s,.;:!?，。；：！？、]*[\u4e00-\u9fff][^\s,.;:!?，。；：！？、]*")
_WORD_BREAK = r"(?:(?!\b(?:and|but|so|which|that|while|because|since|when|if|then|as)\b)[^.;:!?,])"
_POST_NEGATION = re.compile(
    rf"^{_WORD_BREAK}{{0,16}}?\b(?:is|are|was|were|does|do|did|has|have|had|will|can|could|should)(?:n't|\s+not|\s+never)\b(?!\s+only)"
    rf"|^{_WORD_BREAK}{{0,16}}?\b(?:is|are|was|were)\s+(?:wrong|false|a myth|incorrect|untrue|not true)\b"
    r"|^\s*(?:never|no longer)\b|^\s*(?:does not|doesn't|do not|don't) help\b"
    r"|^[^，。；,;]{0,4}?(?:不会出现|不会发生|不存在|不成立|是错的|是错误的|并不成立|不对|没有发生|并不存在|并非如此|没有帮助|没有用|没用|无济于事|帮助不大)"
    r"|^[^，。；,;]{0,4}?(?:并不是|不是|并非)[^，。；,;]{0,10}(?:原因|问题|关键|根源)"
)
# A misconception said as a warning, a hypothetical or a counter-example is not asserted.
_HYPOTHETICAL = re.compile(r"\b(?:if|would|could|might|suppose|whether|unless|otherwise)\b|如果|假如|假设|要是|若|否则|可能会")
_WARNING = re.compile(
    r"\b(?:avoid|mistake|mistaken|wrong|incorrect|bug|buggy|pitfall|myth|beware|careful|mismatch|misconception|"
    r"instead of|rather than|not match|doesn't match|don't use|do not use|shouldn't|should not|common error)\b"
    r"|避免|错误|误以为|误认为|陷阱|而不是|而非|不要用|别用|不应|不匹配|对不上|误区|常见的错|以为"
)
_QUOTE = re.compile(r'"[^"\n]{1,300}"|\'[^\'\n]{8,300}\'')
_CONTRAST_BEFORE = re.compile(
    r"(?:\b(?:unlike|than|versus|vs\.?|compared (?:to|with)|instead of|rather than|as opposed to|in contrast to|"
    r"relative to)\s+(?:the\s+|a\s+)?|不同于|相比于?|比起|较之|相较于|比)\s*$"
)
_CONTRAST_AFTER = re.compile(r"^\s*(?:不同|相比|相反|比较|比起来)")
_CONTRAST_WITH = re.compile(r"(?:与|和|跟|同)\s*$")


@dataclass
class Verdict:
    score: float
    hit: list[KeyPoint] = field(default_factory=list)
    missed: list[KeyPoint] = field(default_factory=list)
    swapped: list[tuple[KeyPoint, str]] = field(default_factory=list)  # (point, the subject it was said of)
    contradicted: list[KeyPoint] = field(default_factory=list)
    misconceptions: list[Misconception] = field(default_factory=list)
    unsure: bool = False


# ---- matchers ---------------------------------------------------------------------------------


def _stem(word: str) -> str:
    for suffix in ("ies", "ing", "ed", "es", "s", "e", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def _plain_pattern(text: str, cjk: bool) -> str:
    """A plain matcher as a regex: English words in any inflection ("subtracts", "subtracting"),
    Chinese words with a short gap between them ("减均值" meets "减去均值"); a gap must stay in the
    clause, and a negation inside it is caught like any other."""
    norm = notation.normalise(text)
    parts = []
    if cjk and notation.has_cjk(norm):
        from grader.practice import chinese

        tokens = [t for t in chinese.words(norm) if t.strip()]
        gap = rf"[^,.;:!?，。；：！？、]{{0,{CJK_GAP}}}?"
        return gap.join(_plain_pattern(t, cjk=False) if not notation.has_cjk(t) else re.escape(t) for t in tokens)
    for token in re.split(r"([a-z]{4,})", norm):
        if re.fullmatch(r"[a-z]{4,}", token):
            parts.append(re.escape(_stem(token)) + r"[a-z]*")
        else:
            parts.append(re.escape(token))
    pattern = "".join(parts)
    return (r"(?<![a-z0-9])" if re.match(r"[a-z0-9]", norm) else "") + pattern


@lru_cache(maxsize=8192)
def _compile(matcher: str, cjk: bool) -> re.Pattern | None:
    """One matcher as a pattern over folded text, or None where it cannot occur in this answer
    (a Chinese matcher and an answer without Chinese)."""
    if matcher.startswith("re:"):
        source = notation.symbols(matcher[3:])
        if not cjk and notation.has_cjk(source) and not re.search(r"[a-z]{2}", re.sub(r"\\.", "", source)):
            return None
        return re.compile(source, re.IGNORECASE)
    if notation.has_cjk(matcher) and not cjk:
        return None
    return re.compile(_plain_pattern(matcher, cjk))


# ---- the answer, read once --------------------------------------------------------------------


@dataclass
class _Cue:
    start: int
    end: int
    fused: bool  # a word that negates only itself (不一致)
    zh: bool


class Reading:
    """An answer folded, cut into clauses and sentences, its negation cues and quotes found."""

    def __init__(self, text: str):
        self.text = notation.normalise(text)
        self.cjk = notation.has_cjk(self.text)
        self.clause_ends = [m.start() for m in _CLAUSE_END.finditer(self.text)]
        self.sentence_ends = [m.start() for m in _SENTENCE_END.finditer(self.text)]
        self.quotes = [m.span() for m in _QUOTE.finditer(self.text)]
        self.cues = self._english_cues() + (self._chinese_cues() if self.cjk else [])
        self.cues.sort(key=lambda c: c.start)
        self._cue_starts = [c.start for c in self.cues]

    def _english_cues(self) -> list[_Cue]:
        blanked = _EN_NOT_NEGATION.sub(lambda m: " " * len(m.group()), self.text)
        return [_Cue(m.start(), m.end(), False, False) for m in _EN_NEGATION.finditer(blanked)]

    def _chinese_cues(self) -> list[_Cue]:
        from grader.practice import chinese

        cues = []
        for run in _CJK_RUN.finditer(self.text):
            offset = run.start()
            for word in chinese.words(run.group()):
                kind = chinese.negation_kind(word)
                if kind:
                    cues.append(_Cue(offset, offset + len(word), kind == "fused", True))
                offset += len(word)
        return cues

    def _between(self, ends: list[int], a: int, b: int) -> bool:
        i = bisect.bisect_left(ends, a)
        return i < len(ends) and ends[i] < b

    def _span_of(self, ends: list[int], pos: int) -> tuple[int, int]:
        i = bisect.bisect_right(ends, pos - 1)
        start = ends[i - 1] + 1 if i > 0 else 0
        end = ends[i] if i < len(ends) else len(self.text)
        return start, end

    def negated(self, start: int, end: int, pattern: re.Pattern) -> bool:
        """A negation before the match in its clause, a fused one (不一致) over its start, one
        inside a gap the matcher did not spell, or a negated predicate right after it."""
        lo = bisect.bisect_left(self._cue_starts, start - 40)
        inside = []
        for cue in self.cues[lo:]:
            if cue.start >= end:
                break
            if cue.end <= start:
                reach = NEGATION_REACH["zh" if cue.zh else "en"]
                if not cue.fused and start - cue.end <= reach and not self._between(self.clause_ends, cue.end, start):
                    return True
            elif cue.start < start:  # a fused word such as 不稳定 over the match's start
                return True
            elif cue.start > start and not cue.fused:
                inside.append(cue)
        if inside and self._gap_negated(start, inside, pattern):
            return True
        clause_end = self._span_of(self.clause_ends, end)[1]
        after = self.text[end : min(clause_end, end + 40)] if clause_end > end else ""
        return bool(after) and _POST_NEGATION.search(after) is not None

    def _gap_negated(self, start: int, inside: list[_Cue], pattern: re.Pattern) -> bool:
        """A negation inside a match counts unless the matcher spelled it ("should not be there"):
        the match still holds with the negation blanked out, and not when cut off before it ("deeper
        nets did not have a higher error"; "rescale so the norm is no larger than" holds cut off)."""
        if pattern.match(self.text, start, inside[0].start):
            return False
        blanked = list(self.text)
        for cue in inside:
            blanked[cue.start : cue.end] = " " * (cue.end - cue.start)
        return pattern.match("".join(blanked), start) is not None

    def hedged(self, start: int, end: int) -> bool:
        """A claim said as a hypothetical (its clause), a warning (its sentence) or a quote."""
        if any(a <= start and end <= b for a, b in self.quotes):
            return True
        c0, c1 = self._span_of(self.clause_ends, start)
        if _HYPOTHETICAL.search(self.text, c0, max(c1, end)):
            return True
        s0, s1 = self._span_of(self.sentence_ends, start)
        return _WARNING.search(self.text, s0, max(s1, end)) is not None

    def matches(self, matchers: Matchers | None):
        """Each (start, end, pattern) where one of the matchers occurs."""
        if matchers is None:
            return
        for matcher in matchers.all():
            pattern = _compile(matcher, self.cjk)
            if pattern is None:
                continue
            for m in pattern.finditer(self.text):
                if m.end() > m.start():
                    yield m.start(), m.end(), pattern


# ---- subjects ---------------------------------------------------------------------------------


def _mentions(reading: Reading, question: ShortQuestion) -> list[tuple[int, int, str, bool]]:
    """Where each subject is named: (start, end, name, named in contrast: "unlike pre-LN", "比 post-LN")."""
    found = []
    for subject in question.subjects:
        for start, end, _ in reading.matches(subject.match):
            before = reading.text[max(0, start - 24) : start]
            contrast = bool(_CONTRAST_BEFORE.search(before)) or (
                bool(_CONTRAST_WITH.search(before)) and bool(_CONTRAST_AFTER.search(reading.text[end : end + 8]))
            )
            found.append((start, end, subject.name, contrast))
    return sorted(found)


# After "unlike LayerNorm", a claim binds to LayerNorm only in that clause or a "which ..." one.
_CONTRAST_SCOPE = re.compile(r"^[^,.;:!?，。；：！？]*(?:,\s*(?:which|that|where|who)\b[^,.;:!?，。；：！？]*)?$")


def _in_contrast(reading: Reading, mention_end: int, start: int) -> bool:
    return _CONTRAST_SCOPE.match(reading.text[mention_end:start]) is not None


def _subject_of(reading: Reading, mentions, start: int, end: int) -> str | None:
    """The subject a claim at start..end is about: one named inside it, else the nearest named
    before it in its sentence, else the first named after it in its sentence, else the last one
    named before (the topic carries over sentences), else none."""
    if not mentions:
        return None
    inside = [m for m in mentions if m[0] < end and m[1] > start]
    if inside:
        return inside[0][2]
    s0, s1 = reading._span_of(reading.sentence_ends, start)
    before = [m for m in mentions if m[1] <= start and (not m[3] or _in_contrast(reading, m[1], start))]
    if before and before[-1][0] >= s0:
        return before[-1][2]
    after = [m for m in mentions if m[0] >= end and m[0] < s1 and not m[3]]
    if after:
        return after[0][2]
    return before[-1][2] if before else None


# ---- grading ----------------------------------------------------------------------------------


def _occurrences(reading: Reading, item, mentions):
    """(asserted, negated) occurrences of a point or misconception: each a subject or None."""
    asserted, negated = [], []
    for start, end, pattern in reading.matches(item.match):
        subject = _subject_of(reading, mentions, start, end)
        (negated if reading.negated(start, end, pattern) else asserted).append((start, end, subject))
    for start, end, pattern in reading.matches(item.denies):
        if reading.negated(start, end, pattern):
            asserted.append((start, end, _subject_of(reading, mentions, start, end)))
    return asserted, negated


def _about(item, subject: str | None) -> bool:
    return item.about is None or subject is None or subject == item.about


def grade(question: ShortQuestion, text: str) -> Verdict:
    reading = Reading(text)
    mentions = _mentions(reading, question) if question.subjects else []
    verdict = Verdict(score=0.0)
    earned = lost = 0.0
    for point in question.rubric:
        asserted, negated = _occurrences(reading, point, mentions)
        if any(_about(point, s) for _, _, s in asserted):
            verdict.hit.append(point)
            earned += point.weight
        elif asserted:
            verdict.swapped.append((point, next(s for _, _, s in asserted if s != point.about)))
            lost += SWAP_COST * point.weight
        elif any(_about(point, s) for _, _, s in negated):
            verdict.contradicted.append(point)
            verdict.missed.append(point)
            lost += CONTRADICTION_COST * point.weight
        else:
            verdict.missed.append(point)
    penalty = 0.0
    for wrong in question.misconceptions:
        asserted, _ = _occurrences(reading, wrong, mentions)
        if any(_about(wrong, s) and not reading.hedged(a, b) for a, b, s in asserted):
            verdict.misconceptions.append(wrong)
            penalty += wrong.penalty
    total = sum(point.weight for point in question.rubric)
    verdict.score = round(min(max((earned - lost) / total - penalty, 0.0), 1.0), 6)
    verdict.unsure = _unsure(question, reading, verdict, earned / total)
    return verdict


# ---- how sure ---------------------------------------------------------------------------------


def _content_words(text: str, cjk: bool) -> set[str]:
    norm = notation.normalise(text)
    found = {_stem(w) for w in re.findall(r"[a-z][a-z-]{3,}", norm)} - _STOPWORDS
    if cjk and notation.has_cjk(norm):
        from grader.practice import chinese

        found |= {w for w in chinese.words(norm) if len(w) >= 2 and notation.has_cjk(w)}
    return found


_STOPWORDS = {_stem(w) for w in (
    "this that with from they them their there then than have been will would could should each "
    "which what when where while about into over under only also more most much very such some "
    "does done make makes made like just well even because since your yours itself these those"
).split()}


def _vocabulary(question: ShortQuestion, cjk: bool) -> frozenset[str]:
    texts = [question.prompt, question.model_answer, *(p.point for p in question.rubric)]
    return _words_of(tuple(getattr(text, lang) or "" for text in texts for lang in ("en", "zh")), cjk)


@lru_cache(maxsize=256)
def _words_of(texts: tuple[str, ...], cjk: bool) -> frozenset[str]:
    return frozenset(word for text in texts for word in _content_words(text, cjk))


def _length(reading: Reading) -> int:
    cjk_chars = len(re.findall(r"[\u4e00-\u9fff]", reading.text))
    return len(re.findall(r"[a-z0-9]+", reading.text)) + cjk_chars // 2


def _unsure(question: ShortQuestion, reading: Reading, verdict: Verdict, share: float) -> bool:
    if verdict.misconceptions or verdict.swapped or verdict.contradicted or share >= UNSURE_BELOW:
        return False
    if _length(reading) < UNSURE_MIN_WORDS:
        return False
    words = _content_words(reading.text, reading.cjk)
    if not words:
        return False
    topical = len(words & _vocabulary(question, reading.cjk)) / len(words)
    return topical >= UNSURE_TOPICAL
