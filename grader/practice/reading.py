"""An answer read once for the free-text grader (grader.practice.rubric): folded (notation.py),
cut into clauses and sentences, its negation cues found (jieba's words for Chinese, chinese.py),
its quotes located; and where a rubric's matchers occur in it, with whether each occurrence is
negated. Where it hedges (warnings, verdicts, contrasts, questions, conditions) is
grader.practice.hedges's part, reached through hedged(), conditional(), supposed() and
yes_no_question().

Every search is bounded (matchers run once over the text, cues are found once and looked up by
position), so reading stays linear in the answer's length.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import lru_cache

from grader.bank.schema import Matchers
from grader.practice import hedges, notation

# How far a negation reaches forward inside its clause, in characters: "does not really make" fits;
# Chinese packs a word into two characters, so it reaches fewer.
NEGATION_REACH = {"en": 36, "zh": 14}
# How many characters a Chinese matcher may leave between its words ("减均值" in "减去均值").
CJK_GAP = 3

_NEW_PREDICATE = re.compile(r"\band (?:is|are|was|were|has|have|does|do|did|can|will|would)\b", re.ASCII)
_CLAUSE_END = re.compile(
    r"[;:!?,。；：！？，、\n]|\.(?=\s|$)|\b(?:but|whereas|while|although|though)\b|而是|但是|但|却|反而|然而"
    r"|\band (?=(?:it|they|this|these|there|which|so|then|also|its)\b)",
    re.ASCII,
)
_BRACKETED = re.compile(r"\[[^\[\]\n]{1,40}\]|\([^()\n]{1,40}\)")
_SENTENCE_END = re.compile(r"[!?;。！？；\n]|\.(?=\s|$)")
_EN_NEGATION = re.compile(
    r"\b(?:not|never|no|none|nothing|neither|nor|cannot|without|lacks?|lacking|fails? to|instead of|rather than|"
    r"as opposed to)\b|n't\b",
    re.ASCII,
)
# Verbs that take something away: they negate only what follows them closely ("skips the mean
# subtraction"), and two negations cancel ("does not skip the mean subtraction", "不省略减均值").
_EN_PRIVATIVE = re.compile(
    r"(?<!the )(?<!a )\b(?:skip(?:s|ped|ping)?(?![- ]?(?:conn|path|link))|omit(?:s|ted|ting)?|drop(?:s|ped|ping)?|"
    r"remov(?:e|es|ed|ing)|eliminat(?:e|es|ed|ing)|"
    r"leav(?:e|es|ing) out|left out|get(?:s|ting)? rid of|dispens(?:e|es|ed|ing) with|forgo(?:es)?|"
    r"throw(?:s|ing)? away|threw away|thrown away|discard(?:s|ed|ing)?|strip(?:s|ped|ping)? (?:out|away)|ditch(?:es|ed|ing)?|"
    r"(?:does|do|did) without|abandon(?:s|ed|ing)?)\b"
    # what goes away, heading what it lists: "Two things disappear: subtracting the mean, and the bias"
    r"|\b(?:disappear(?:s|ed)?|vanish(?:es|ed)?|go(?:es)? away|fall(?:s)? away|(?:is|are) gone|(?:is|are) dropped|(?:is|are) removed)(?=\s*[:：])",
    re.ASCII,
)
# A privative's object ends at a pronoun ("dropping it saves a pass") or at "and" + a new verb
# ("remove the Linear layers and use the biased variance"); "omits the mean and the bias" goes on.
_PRIVATIVE_STOP = re.compile(
    r"^\s*(?:it|them|this|that|these|those)\b|(?<!\()\band (?!(?:the|a|an|its|their|any|all|also|typically|usually|often|even)\b)",
    re.ASCII,
)
PRIVATIVE_REACH = {"en": 40, "zh": 8}
_NOT_JUST = re.compile(r"\bnot (just|only|merely|simply)\b", re.ASCII)
_EN_NOT_NEGATION = re.compile(r"\bnot only\b|\bno matter\b|\bnot just\b|\bno longer than\b|\bnothing but\b|\bdoing nothing\b", re.ASCII)
_CJK_RUN = re.compile(r"[^\s,.;:!?，。；：！？、]*[\u4e00-\u9fff][^\s,.;:!?，。；：！？、]*")
_WORD_BREAK = r"(?:(?!\b(?:and|but|so|which|that|while|because|since|when|if|then|as)\b)[^.;:!?,])"  # ASCII
_POST_NEGATION = re.compile(
    rf"^{_WORD_BREAK}{{0,16}}?\b(?:is|are|was|were)(?:n't|\s+not|\s+never)\b(?!\s+only)"
    rf"|^{_WORD_BREAK}{{0,16}}?\b(?:(?:does|do|did|will|can|could|should)(?:n't|\s+not|\s+never)|can't|cannot|won't)\s+"
    r"(?:happen|occur|exist|hold|apply|arise|matter|help|work|cause|pass|flow|reach|propagate|vanish|change|"
    r"increase|rise|grow|get|go|become|explode|shrink|decrease|explain|account for)\b"
    rf"|^{_WORD_BREAK}{{0,16}}?\b(?:is|are|was|were)\s+(?:wrong|false|a myth|incorrect|untrue|not true)\b"
    r"|^\s*(?:never|no longer)\b|^\s*(?:does not|doesn't|do not|don't) help\b"
    # "μ and b are gone", "the bias is dropped too": taken away, said after the thing.
    rf"|^{_WORD_BREAK}{{0,12}}?\b(?:is|are|was|were|gets?|got|has been|have been)\s+(?:(?:also|then|simply|just|both|entirely|completely|customarily|usually|typically|normally|often|generally|commonly)\s+)?"
    r"(?:gone|dropped|removed|eliminated|omitted|discarded|skipped|left out|thrown away|ditched|absent|missing)\b"
    # "the mean subtraction and the bias beta are dropped": both, by the plural
    r"|^\s+and (?:the |its |a |an )?[a-z-]+(?: [a-z-]+)?\s+are\s+(?:(?:both|also|then|simply|just|entirely|completely)\s+)?"
    r"(?:gone|dropped|removed|eliminated|omitted|discarded|skipped|left out|thrown away|ditched|absent|missing)\b"
    # "the identity term drops out because ...": gone from a formula
    rf"|^{_WORD_BREAK}{{0,4}}?\b(?:drops?|dropped|dropping|cancels?|cancelled|canceled) out\b"
    r"|^[^，。；,;]{0,4}?(?:也|都|就)?(?:不要了|不需要了|省了|没了|(?:去掉|省掉|拿掉|删掉|扔掉|砍掉|丢掉|干掉|拿走)了?|一并省去|也省去)"
    r"|^[^，。；,;]{0,4}?(?:不会出现|不会发生|不存在|不成立|是错的|是错误的|并不成立|不对|没有发生|并不存在|并非如此|没有帮助|没有用|没用|无济于事|帮助不大"
    r"|(?:没有|并没有|没)(?:什么|直接|太大)?(?:的)?(?:关系|联系))"
    r"|^[^，。；,;]{0,4}?(?:并不是|不是|并非)[^，。；,;]{0,10}(?:原因|问题|关键|根源)"
    # A negation right after a noun phrase negates its predicate: 训练误差并没有变高.
    r"|^(?:也|都|就|并|还|却)?(?:并没有|并不|并未|没有|没|不会|不再|未|不)(?:变|更|升|增|降|减|(?:出现|发生)(?![\u4e00-\u9fff])|上升|下降|提高|降低|增大|减小|消失|爆炸)",
    re.ASCII,
)
# What comes between a privative and the colon that introduces its objects.
# "省去了什么：", "removes two things:": what follows the colon is what is taken away.
_LISTED_THINGS = re.compile(r"\b(?:two|three|both|a few|several|some) (?:things|parts|steps|pieces|terms|operations)\s+(?:are|were|get)?\s*$", re.ASCII)
_PRIVATIVE_HEADING = re.compile(r"(?:了?(?:什么|哪些|两样|两个|几样|三样)(?:东西|部分|操作|步骤)?|\s+(?:two|three|both|a few|several|some) (?:things|parts|steps|pieces))?[?？]?[:：]")
_LIST_ITEM = re.compile(r"\s*(?:[-*•·]|\d{1,2}[.)、]|[①-⑩])\s*")
# A single quote opens and closes only beside a non-letter: "that's" and "torch.std's" quote nothing.
_QUOTE = re.compile(r'"[^"\n]{1,300}"|(?<![a-z0-9])\'[^\'\n]{8,300}\'(?![a-z0-9])')

# ---- matchers ---------------------------------------------------------------------------------


def stem(word: str) -> str:
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
        # A gap never spans a conjunction: "子层输入" is not in "子层输出与输入".
        gap = rf"[^,.;:!?，。；：！？、与和及或跟同而]{{0,{CJK_GAP}}}?"
        pattern = ""
        for i, token in enumerate(tokens):
            # A gap only between words of two characters or more: one character is too easily
            # found anywhere ("去均值" is not in "去掉了减均值").
            if i and len(token) > 1 and len(tokens[i - 1]) > 1:
                pattern += gap
            pattern += re.escape(token) if notation.has_cjk(token) else _plain_pattern(token, cjk=False)
        return pattern
    for token in re.split(r"([a-z]{4,})", norm):
        if re.fullmatch(r"[a-z]{4,}", token):
            parts.append(re.escape(stem(token)) + r"[a-z]*")
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
        return re.compile(source, re.IGNORECASE | re.ASCII)  # \b, \w: ASCII words, even beside Chinese
    if notation.has_cjk(matcher) and not cjk:
        return None
    return re.compile(_plain_pattern(matcher, cjk), re.ASCII)


# ---- the answer, read once --------------------------------------------------------------------


@dataclass
class _Cue:
    start: int
    end: int
    fused: bool  # a word that negates only itself (不一致)
    zh: bool
    privative: bool = False  # takes away what follows closely (skips, 省略)

    def reach(self) -> int:
        lang = "zh" if self.zh else "en"
        return (PRIVATIVE_REACH if self.privative else NEGATION_REACH)[lang]


_ZH_NEGATION_PREFIX = re.compile(r"并没有|并没|并不|并非|从不|从未|不|没有|没|无|未|非|别|")


_LABEL_NONE = re.compile(r"[a-z]*\s*[:：]\s*(?:none|no|n/a|nothing|无|没有|不需要)(?=$|[\s,;.。；，])")
_PARENTHESIS = re.compile(r"\([^()]*\)")  # an aside does not count towards a negation's reach
_CODE_SPAN = re.compile(r"`[^`\n]{1,80}`")  # nor does inline code ("drops the `x - x.mean(-1)` step")
_ASCII_RUN = re.compile(r"[a-z0-9_.+\-]+", re.ASCII)


def _gap_length(gap: str, cjk: bool) -> int:
    """A gap's length for a negation's reach: asides and inline code left out; in Chinese an English
    word or a formula between the words counts as one character (去掉了 LayerNorm 中的去均值)."""
    gap = _CODE_SPAN.sub(" ", _PARENTHESIS.sub("", gap))
    return len(_ASCII_RUN.sub("x", gap)) if cjk else len(gap)


def _parentheses_allow(gap: str) -> bool:
    """A negation reaches past a whole aside, and into one that only adds to its object ("removes
    the mean (and beta)"), not into one that explains ("without warm-up (large gradients")."""
    closed = _PARENTHESIS.sub("", gap)
    if "(" not in closed and ")" not in closed:
        return True
    if closed.count("(") != 1 or ")" in closed:
        return False
    before, inside = closed.split("(")
    if not inside and before.endswith(("/", "*")):
        return True  # "not (x-mean)/(std+eps)": into a formula's operand
    return re.match(r"\s*(?:(?:and|or|plus|also)\b|及|和|与|以及|还有|连同|包括|也)", inside) is not None


# "What's left out is X, and with it Y": a privative after "what" and before "is" takes away its
# whole sentence, as one before a colon does.
_WHAT_BEFORE = re.compile(r"\bwhat(?:'s| is| gets| it| they| rmsnorm)?\s*$", re.ASCII)
_IS_AFTER = re.compile(r"\s*(?:is|are)\b", re.ASCII)
# "with no nonlinearity is just one linear map", "without an activation they amount to one layer",
# "adding it to the std rather than to the variance is a cosmetic difference": a prepositional
# negation ("with no", "without", "rather than", "instead of") negates its own noun phrase; the verb
# after it starts the claim.
_PREPOSITIONAL_NEGATION = re.compile(r"(?:\bwith\s+(?:no|nothing)|\bwithout|\brather than|\binstead of|\bas opposed to)\s*$", re.ASCII)
_FINITE_VERB = re.compile(
    r"\b(?:is|are|was|were|becomes?|gives?|means?|equals?|collapses?|reduces?|amounts?|composes?|stays?|remains?)\b", re.ASCII)


def _adjacent(first: _Cue, second: _Cue, text: str) -> bool:
    """Two negations in a row, at most one word apart ("not without", "does not really skip",
    "不省略"); "no mean and no bias" are two negations side by side, not one of the other."""
    gap = text[first.end : second.start]
    if second.zh:
        return len(gap) <= 2
    return len(gap.split()) <= 1 and not re.search(r"\b(?:and|or|nor)\b", gap)


# Where a tensor is broadcast is no claim about what is normalised over or reduced: "broadcast
# gamma and beta across batch and time", "γ、β 在批维和时间维上广播" say the parameters are shared.
_BROADCAST_EN = re.compile(r"\b(broadcast(?:s|ed|ing)?\b[^.;:]{0,50}?)\b(?:across|over|along)\b", re.ASCII)
_BROADCAST_ZH = re.compile(r"[在沿]([^。；;，,]{0,14}?)上(?=(?:进行|自动)?广播)")


def _broadcast_said(text: str) -> str:
    text = _BROADCAST_EN.sub(lambda m: m.group(1) + "to", text)
    return _BROADCAST_ZH.sub("", text)


_PASSIVE_BEFORE = re.compile(r"\b(?:is|are|was|were|been|being|be|gets?|got)\s+(?:[a-z]+ly\s+|also\s+)?$", re.ASCII)
# "What it drops: 1. the mean. 2. the bias.": numbered items run on in one line after a heading.
_INLINE_ITEM = re.compile(r"(?<=[:：.;。；] )(?=\d{1,2}[.)] )")


def _inline_items(text: str) -> list[str]:
    """The text's lines, a line of inline numbered items cut before each number (pieces joined by
    one character each, as the lines by "\n", so offsets add up)."""
    pieces = []
    for line in text.split("\n"):
        cuts = [m.start() for m in _INLINE_ITEM.finditer(line)]
        bounds = [0, *cuts, len(line) + 1]
        # each piece but the last drops the space before the next number (the joining character)
        pieces += [line[a:b - 1] if b - 1 < len(line) else line[a:] for a, b in zip(bounds, bounds[1:])]
    return pieces


class Reading:
    """An answer folded, cut into clauses and sentences, its negation cues and quotes found."""

    def __init__(self, text: str, borrowed: bool = False):
        """borrowed: a Chinese answer's English terms put in Chinese (chinese.english_terms_in_chinese)."""
        self.text = _broadcast_said(notation.normalise(text))
        self.cjk = notation.has_cjk(self.text)
        if borrowed and self.cjk:
            from grader.practice import chinese

            self.text = chinese.english_terms_in_chinese(self.text)
        # A comma inside brackets of symbols ("[-v, v]", "(B, T, C)") ends no clause; one in an aside of words does.
        inside = [m.span() for m in _BRACKETED.finditer(self.text) if not re.search(r"[a-z]{3}|[\u4e00-\u9fff]", m.group())]
        self.clause_ends = [m.start() for m in _CLAUSE_END.finditer(self.text)
                            if not any(a < m.start() < b for a, b in inside)]
        self.sentence_ends = [m.start() for m in _SENTENCE_END.finditer(self.text)]
        self.quotes = [m.span() for m in _QUOTE.finditer(self.text)]
        self.cues = self._english_cues() + (self._chinese_cues() if self.cjk else [])
        self.cues.sort(key=lambda c: c.start)
        self._cue_starts = [c.start for c in self.cues]
        self.taken_away = self._listed_under_privative_heading()

    def _listed_under_privative_heading(self) -> list[tuple[int, int]]:
        """"Left out:\n- the mean\n- the bias", "省去的部分：\n- 减均值": the head of each list item under
        a heading that takes something away is what it takes away."""
        spans, heading = [], False
        offset = 0
        for line in _inline_items(self.text):
            item = _LIST_ITEM.match(line)
            if item and heading:
                spans.append((offset + item.end(), offset + min(item.end() + PRIVATIVE_REACH["en"] // 2, len(line))))
            if not item or line.rstrip().endswith(":"):  # "... 2. the bias. What it keeps: 3. ..." heads anew
                end = offset + len(line)
                # the heading is an item's last sentence: "2. drop the bias. What it keeps:" keeps
                own = offset + (max(line.rfind(". "), line.rfind("。")) + 1 if item else 0)
                # "Left out:" or a Markdown heading ("### What RMSNorm leaves out")
                heading = ((line.rstrip().endswith(":") or line.lstrip().startswith("#"))
                           and any(c.privative and own <= c.start < end for c in self.cues))
            offset += len(line) + 1
        return spans

    def _english_cues(self) -> list[_Cue]:
        blanked = _EN_NOT_NEGATION.sub(lambda m: " " * len(m.group()), self.text)
        return [_Cue(m.start(), m.end(), False, False) for m in _EN_NEGATION.finditer(blanked)] + [
            _Cue(m.start(), m.end(), False, False, privative=True) for m in _EN_PRIVATIVE.finditer(self.text)
        ]

    def _chinese_cues(self) -> list[_Cue]:
        from grader.practice import chinese

        cues = []
        for run in _CJK_RUN.finditer(self.text):
            offset = run.start()
            for word in chinese.words(run.group()):
                kind = chinese.negation_kind(word)
                if kind:
                    cues.append(_Cue(offset, offset + len(word), kind == "fused", True, kind == "privative"))
                offset += len(word)
        return cues

    def between(self, ends: list[int], a: int, b: int) -> bool:
        i = bisect.bisect_left(ends, a)
        return i < len(ends) and ends[i] < b

    def span_of(self, ends: list[int], pos: int) -> tuple[int, int]:
        i = bisect.bisect_right(ends, pos - 1)
        start = ends[i - 1] + 1 if i > 0 else 0
        end = ends[i] if i < len(ends) else len(self.text)
        return start, end

    def negated(self, start: int, end: int, pattern: re.Pattern) -> bool:
        """A negation before the match in its clause, a fused one (不一致) over its start, one
        inside a gap the matcher did not spell, a negated predicate right after it, or a yes/no
        question answered no."""
        if self.yes_no_question(start)[1]:
            return True
        # "the derivative is not just the Jacobian of F" denies a claim whose matcher spells "just":
        # "not just" counts as no negation only where the claim itself has no "just" in it.
        for m in _NOT_JUST.finditer(self.text, max(0, start - 4), end):
            if start <= m.start(1) < end:
                if m.start() < start:
                    return True
                # inside the match: a negation unless the matcher spelled it ("not only a product")
                blanked = self.text[: m.start()] + "   " + self.text[m.start() + 3 :]
                if pattern.match(blanked, start):
                    return True
        item = next((a for a, b in self.taken_away if a <= start < b), None)
        if item is not None and not any(item <= c.start <= start for c in self.cues):
            return True  # the head of an item under "Left out:", unless it spells its own negation
        lo = bisect.bisect_left(self._cue_starts, start - 160)  # a heading's privative reaches its sentence
        inside, before, own = [], [], None
        for cue in self.cues[lo:]:
            if cue.start >= end:
                break
            if cue.end <= start:
                if self._reaches(cue, start):
                    before.append(cue)
            elif cue.start < start:  # a fused word such as 不稳定 over the match's start
                return True
            elif cue.start == start:
                own = cue  # the matcher spelled a negation: "no bias", "省略减均值"
            elif not cue.fused and not self.between(self.clause_ends, cue.end, end):
                inside.append(cue)  # a negation inside the match that reaches the rest of it
        if before and self._negates(before, own, self.text):
            return True
        if inside and self._gap_negated(start, inside, pattern):
            return True
        if _LABEL_NONE.match(self.text, end):
            return True  # "Running stats: none; the same in train and eval" (a table row read as a sentence)
        clause_end = self.span_of(self.clause_ends, end)[1]
        # "减均值（re-centering）砍掉了": past an aside, whole even when it runs past the 40 characters
        # looked at ("are large (they don't shrink with depth ...)" is not negated by its aside)
        after = _PARENTHESIS.sub("", self.text[end : min(clause_end, end + 400)]) if clause_end > end else ""
        after = after.split("(", 1)[0][:40]
        return bool(after) and _POST_NEGATION.search(after) is not None

    def _reaches(self, cue: _Cue, start: int) -> bool:
        """Whether a negation cue's scope reaches a match starting at `start`: in reach, in the same
        clause, over a parenthesis only whole ("without warm-up (large gradients" stops; "drops the
        mean (re-centering) and the bias" goes on)."""
        gap = self.text[cue.end : start]
        # "What it leaves out: the mean": a colon right after a privative introduces its object.
        heading = _PRIVATIVE_HEADING.match(gap) if cue.privative else None  # "省去了什么：减均值"
        if (cue.privative and not cue.zh and _PASSIVE_BEFORE.search(self.text, max(0, cue.start - 24), cue.start)
                and not (heading and _LISTED_THINGS.search(self.text, max(0, cue.start - 30), cue.start))):
            # "the re-centering is omitted: the input is divided by its RMS": a passive privative's
            # object is its subject, before it; what follows is not taken away ("Two things are
            # dropped: ..." heads a list of them).
            return False
        if cue.privative and not cue.zh and heading is None and _WHAT_BEFORE.search(self.text, max(0, cue.start - 12), cue.start):
            heading = _IS_AFTER.match(gap)  # "what's left out is the mean subtraction, and with it the bias"
        after_colon = cue.end + heading.end() if heading else cue.end
        if cue.fused:
            return False
        # "trains without warm-up and is what modern LLMs use": a predicate of its own.
        if not cue.zh and _NEW_PREDICATE.search(self.text, cue.end, start + 6):
            return False
        # "couldn't go beyond 20 layers because the gradients vanished": a negated predicate's reach
        # ends at its reason ("not because of overfitting" negates the reason itself).
        reason = hedges.reason_at(self.text, cue.end, start)
        if reason is not None and self.text[cue.end : reason].strip(" ，,"):
            return False
        if after_colon > cue.end and not self.between(self.sentence_ends, after_colon, start):
            return True  # "What it leaves out: the mean subtraction and, usually, the bias": its whole sentence
        if self.between(self.clause_ends, after_colon, start):
            # A clause break inside a whole aside does not end the reach: "removes the mean
            # subtraction (it keeps ..., but gives up ...) and the bias".
            inner = self.text[after_colon:start]
            if "(" not in inner or _CLAUSE_END.search(_PARENTHESIS.sub("", inner)):
                return False
        if _gap_length(gap, cue.zh) > cue.reach() or not _parentheses_allow(gap):
            return False
        if cue.zh and ("就" in gap or gap.startswith(("经过任何", "通过任何"))):
            # 不经过任何权重就直接传到: 不…就… negates the condition, not what follows 就; 不经过任何
            # 权重层直接传到: "without going through any" is a negation with its own object
            return False
        if (cue.zh and not cue.privative and "的" in gap
                and not self.text.startswith(("不是", "并不是", "并非", "没有", "并没有", "不能", "不要", "不应", "不可", "不该", "别"),
                                             cue.start)):
            # 不经过权重的通路: 的 ends a verb's negation, not a copula's (不是各层导数的连乘), a
            # modal's (不能直接用默认无偏的 x.std()) nor what a privative takes away (去掉了加性的偏置)
            return False
        # Only the words right before the cue: a search from the answer's start for every cue was quadratic.
        if not cue.zh and _PREPOSITIONAL_NEGATION.search(self.text[max(0, cue.start - 12) : cue.end]) and _FINITE_VERB.search(gap):
            return False
        # "nothing is shared across the batch" negates its predicate; "LN keeps nothing and is identical",
        # "if there is nothing to do the layers push F to 0": an object's scope ends at a new phrase.
        if self.text.startswith("nothing", cue.start) and re.search(r"\b(?:and|but|the|a|an|its|their|this|these|it|they)\b", gap):
            return False
        return not (cue.privative and not cue.zh and _PRIVATIVE_STOP.search(gap))

    @staticmethod
    def _negates(before: list[_Cue], own: _Cue | None, text: str) -> bool:
        """Whether the nearest negation before a match reaches it. Only the nearest counts ("no mean
        subtraction and no bias": each "no" has its own object); two in a row cancel ("does not
        skip the mean", "不省略减均值"), and a matcher that spells its own negation is reached only
        by one right before it ("not without warm-up")."""
        nearest = before[-1]
        if own is not None:
            return _adjacent(nearest, own, text)
        return not (len(before) > 1 and _adjacent(before[-2], nearest, text))

    def _gap_negated(self, start: int, inside: list[_Cue], pattern: re.Pattern) -> bool:
        """A negation inside a match counts unless the matcher spelled it ("should not be there"):
        the match still holds with the negation blanked out, and not when cut off before it ("deeper
        nets did not have a higher error"; "rescale so the norm is no larger than" holds cut off)."""
        if pattern.match(self.text, start, inside[0].start):
            return False
        blanked = list(self.text)
        for cue in inside:
            # Only the negating part of a word: 并不大 keeps its 大 (a privative such as 去掉 is whole).
            prefix = len(_ZH_NEGATION_PREFIX.match(self.text, cue.start).group()) if cue.zh else 0
            end = cue.start + prefix if prefix else cue.end
            blanked[cue.start : end] = " " * (end - cue.start)
        return pattern.match("".join(blanked), start) is not None

    # Hedges, conditions and questions: grader.practice.hedges reads them off this reading.
    def yes_no_question(self, start: int) -> tuple[bool, bool]:
        return hedges.yes_no_question(self, start)

    def conditional(self, start: int) -> bool:
        return hedges.conditional(self, start)

    def refuted(self, start: int) -> bool:
        return hedges.refuted(self, start)

    def supposed(self, start: int) -> bool:
        return hedges.supposed(self, start)

    def hedged(self, start: int, end: int) -> bool:
        return hedges.hedged(self, start, end)

    def matches(self, matchers: Matchers | None):
        """Each (start, end, pattern) where one of the matchers occurs."""
        if matchers is None:
            return
        for matcher in matchers.all():
            pattern = _compile(matcher, self.cjk)
            if pattern is None:
                continue
            for m in pattern.finditer(self.text):
                # never across a line: a list item or a line of code is a sentence of its own
                if m.end() > m.start() and "\n" not in m.group():
                    yield m.start(), m.end(), pattern
