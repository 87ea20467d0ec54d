"""Who a claim in a free-text answer is about (grader.practice.rubric): where each of a short
question's subjects is named, and which one a claim at a given place binds to.

The subject named inside the claim, else its owner right before it ("post-LN's need for warm-up"),
else one named in apposition right after it (or as "... is what BatchNorm does"), else the nearest
before it in its sentence, else one named right after it in its clause, else the label the next
sentence gives ("That's pre-LN."), else the topic carried over from an earlier sentence, else the
first after it. A subject named in contrast ("unlike LayerNorm"), as a possessive object or as the
object of another subject's verb is named, not talked about. docs/DESIGN.md's free-text section
lists the cases with examples.
"""
from __future__ import annotations

import re

from grader.bank.schema import ShortQuestion
from grader.practice.reading import _PARENTHESIS, Reading

_CONTRAST_BEFORE = re.compile(
    r"(?:\b(?:unlike|than|versus|vs\.?|compared (?:to|with)|instead of|rather than|as opposed to|in contrast to|"
    r"relative to|as well as|as good as|comparable to|similar to|the same as|equivalent to|like|on par with|matches|match|"
    r"(?<!think )(?<!thinking )of|from|(?:speed-?ups?|gains?|improvements?|advantages?|savings?|edge) over|"
    # "the re-centering step of LayerNorm", "differs from post-LN", "a speedup over LN", "it is not
    # clamping each entry; that is value clipping": named, not the subject
    r"(?:that|this|which)(?:'s| is| was))"
    r"\s+(?:the\s+|a\s+|plain\s+)?"
    r"|\b(?:unlike|versus|vs\.?|compared (?:to|with)|instead of|rather than|as opposed to|in contrast to|from)"
    r"\s+(?:[a-z][a-z-]*\s+){1,2}"  # "unlike per-element value clipping", "distinguishes it from element-wise clipping"
    r"|不同于|区别于|有别于|相比于?|比起|较之|相较于?|比|像|(?<![也即这那])就是|等于|相当于|不输于?|不亚于|媲美|接近|=|≈|~)\s*$",  # "RMSNorm = LayerNorm without re-centering"
    re.ASCII,
)
# "RMSNorm is:", "RMSNorm 就是：" right after a subject's name: what follows is about it.
_NAMED_BEFORE_COLON = re.compile(r"\s*(?:is|does|computes|就是|是|则是|的做法是|做的是)?\s*[:：]")
_CONTRAST_AFTER = re.compile(r"^\s*(?:不同|相比|相反|比较|比起来|相当|相近|一样|差不多|类似|相同|基本相同|持平|不相上下|相仿|接近|齐平|(?:最大|主要|最主要|根本|本质)?的?(?:区别|差别|不同))")
_CONTRAST_WITH = re.compile(r"(?:与|和|跟|同)\s*$")


def mentions(reading: Reading, question: ShortQuestion) -> list[tuple[int, int, str, bool, bool]]:
    """Where each subject is named: (start, end, name, named in contrast: "unlike pre-LN", "比 post-LN",
    "the gradients of post-LN", named as a possessive object: "keeps LayerNorm's mean subtraction")."""
    found = []
    for subject in question.subjects:
        for start, end, _ in reading.matches(subject.match):
            before = reading.text[max(0, start - 24) : start]
            possessive = _possessive_object(reading, start, end)
            contrast = bool(_CONTRAST_BEFORE.search(before)) or (
                # past an aside: "和按值裁剪（clip by value，逐元素截断，会改变方向）不同"
                bool(_CONTRAST_WITH.search(before)) and bool(_CONTRAST_AFTER.search(_PARENTHESIS.sub("", reading.text[end : end + 120])[:8]))
            ) or possessive or (
                # "RMSNorm is basically LayerNorm without the mean": a variant described as the other
                # subject minus something names that one; what is missing is the variant's.
                bool(_VARIANT_AFTER.match(reading.text, end)) and bool(_IS_BEFORE.search(reading.text, max(0, start - 30), start)))
            found.append((start, end, subject.name, contrast, possessive))
    # "区别于按值裁剪" also holds "值裁剪": a shorter name inside one named in contrast is so named.
    found = [(a, b, name, contrast or any(c and n == name and a2 <= a and b <= b2 for a2, b2, n, c, _ in found), p)
             for a, b, name, contrast, p in found]
    # "RMSNorm (Zhang and Sennrich, 2019) simplifies layer normalization by ...": the object of a verb
    # whose subject is the other one is named, not talked about.
    found = [(a, b, name, contrast or any(n != name and b2 <= a and _VERB_ONLY.fullmatch(_PARENTHESIS.sub("", reading.text[b2:a]))
                                          for _, b2, n, _, _ in found), p)
             for a, b, name, contrast, p in found]
    return sorted(found + _former_latter(reading, sorted(found)))


_VARIANT_AFTER = re.compile(r"\s+(?:without|minus|sans|with no|stripped of|but without)\b", re.ASCII)
_IS_BEFORE = re.compile(r"\b(?:is|it's|it is|'s|was)\s+(?:(?:basically|just|simply|essentially|really|like)\s+)*(?:a\s+|an\s+|the\s+|plain\s+)?$", re.ASCII)


_VERB_ONLY = re.compile(r"\s*(?:simplifies|replaces|extends|modifies|generali[sz]es|approximates|beats|outperforms|improves on|"
                        r"differs from|builds on|drops|simplified|replaced|extended)\s+(?:the\s+|plain\s+|standard\s+)?", re.ASCII)


_FORMER_LATTER = re.compile(r"前者|后者|\bthe (?:former|latter)\b", re.ASCII)


def _former_latter(reading: Reading, found) -> list:
    """"前者 ... 后者", "the former ... the latter": the first and the last subject named before."""
    out = []
    for m in _FORMER_LATTER.finditer(reading.text):
        named = []
        for start, end, name, _, _ in found:  # named in contrast too: "与按值裁剪不同，后者…"
            if end <= m.start() and name not in named:
                named.append(name)
        if len(named) >= 2:
            name = named[0] if m.group() in ("前者", "the former") else named[-1]
            out.append((m.start(), m.end(), name, False, False))
    return out


def _named_before_in_clause(reading: Reading, mentions, mention) -> bool:
    """Another subject named earlier in the mention's clause (the subject of its verb)."""
    c0 = reading.span_of(reading.clause_ends, mention[0])[0]
    return any(c0 <= m[0] and m[1] <= mention[0] and m[2] != mention[2] for m in mentions)


def _possessive_object(reading: Reading, start: int, end: int) -> bool:
    """"It keeps LayerNorm's invariance" (保留了 LayerNorm 中的…) names LayerNorm but is not about it;
    "Post-LN's gradients are large" (post-LN 的梯度很大), at the head of its clause, is."""
    clause_start = reading.span_of(reading.clause_ends, start)[0]
    # Chinese: "RMSNorm 保留了 LayerNorm 中的减均值", "把 LayerNorm 里 mean 那部分砍掉" name LayerNorm
    # as the owner of an object.
    if reading.text.startswith(("的", "中的", "里的", "里", "中"), end) or reading.text.endswith("把", 0, start):
        return re.search(r"[\u4e00-\u9fff]{2}", re.sub(r"^(?:而|但|和|与|所以|因此|因为|对于|对|在)", "", reading.text[clause_start:start])) is not None
    if re.search(r"\bof (?:the )?$", reading.text[max(0, start - 8):start]) and _TAKEN_FROM.match(reading.text, end):
        # "the additive bias of LayerNorm is usually dropped": what LayerNorm had is taken away,
        # which says something of what drops it, not of LayerNorm.
        return True
    if not reading.text.startswith("'s", end):
        return False
    # "Because BN's statistics depend on the batch": a conjunction before the owner leaves it the head
    return re.search(r"[a-z]{3,}", re.sub(r"\b(?:the|in|for|with|and|so|in the|because|since|as|when|if|but|while|whereas|although|though)\b",
                                          "", reading.text[clause_start:start])) is not None


# After "unlike LayerNorm", a claim binds to LayerNorm only in a "which ..." clause right after it.
# "unlike value clipping, which ...", also past a formula in apposition ("unlike value clipping,
# g <- clamp(g, -c, c), which changes direction").
_CONTRAST_SCOPE = re.compile(r"^\s*(?:,\s*[^,.;:!?()]{0,30}\([^()]{0,40}\)[^,.;:!?()]{0,10})?,?\s*(?:(?:in|by|for|under|with) )?(?:which|that|where|who)\b"
                             r"[^,.;:!?，。；：！？]*$", re.ASCII)


_OPEN_ASIDE = re.compile(r"\s*\([^()]*")
_TAKEN_FROM = re.compile(r"\s+(?:is|are|was|were|gets?)\s+(?:[a-z]+ly\s+|also\s+)?(?:dropped|removed|omitted|eliminated|left out|discarded|skipped|gone)\b",
                         re.ASCII)
_TRAILING_SUBJECT = re.compile(r"\s*(?:in|for|with|under)\s+(?:the\s+|a\s+)?", re.ASCII)
_APPOSITION = re.compile(r"[^.;:!?。；：！？]{0,15}?(?:,\s*(?:which|that|this)\s+(?:is|was)\s+(?:(?:called|known as|named)\s+|what\s+(?:is|'s)\s+called\s+|what\s+(?:we|people)\s+call\s+)?"
                         r"|\s*\(\s*(?:i\.e\.,?\s*|aka\s+|that is,?\s*)?|[，,]\s*(?:也就是|即|这就是|这是|这叫|叫做|称为)(?:所谓的?)?\s*|\s*（\s*(?:即)?)(?:the\s+|a\s+|plain\s+)?")
# "normalising each token across its features is what BatchNorm1d does": the claim is that subject's.
_IS_WHAT = re.compile(r"[^.;:!?,。；：！？，]{0,50}?\s(?:is|are)\s+(?:exactly\s+|just\s+|precisely\s+|really\s+)?what\s+(?:the\s+)?", re.ASCII)
_LABEL_SENTENCE = re.compile(r"\s*(?:(?:that|this)(?:'s|\s+is|\s+was)\s+(?:(?:called|known as)\s+|what\s+(?:we|people)\s+call\s+)?(?:the\s+|a\s+)?"
                             r"|(?:这|那)(?:就|便)?(?:是|叫(?:做)?|称为)\s*)")
_PART_OF = re.compile(r"\bof\s+(?:the\s+|a\s+|plain\s+)?$", re.ASCII)
_RESTRICTIVE = re.compile(r"\s+that\b", re.ASCII)


def _in_contrast(reading: Reading, mention, start: int) -> bool:
    """Whether a "which ..." clause right after X named in contrast is about X: "unlike LayerNorm,
    which subtracts the mean" and "the difference from value clipping, which clamps" are; "a
    simplification of layer normalization that drops the re-centering" is about the simplification,
    the head of "of X"."""
    if _PART_OF.search(reading.text, max(0, mention[0] - 12), mention[0]) and _RESTRICTIVE.match(reading.text, mention[1]):
        return False
    # ... and what an aside right after it says: "与逐元素裁剪（把每个分量截断到 [-c, c]）不同"
    return _CONTRAST_SCOPE.match(reading.text[mention[1]:start]) is not None or _OPEN_ASIDE.fullmatch(reading.text, mention[1], start) is not None


_ZH_REPORTING = "认为|觉得|指出|表示|发现|结论是|观点是|看法是"
_REPORTED_BEFORE = re.compile(rf"(?:{_ZH_REPORTING})\s*[,，:：]?\s*$")
_REPORTING = re.compile(rf"\b(?:argue[sd]?|believe[sd]?|claim(?:s|ed)?|suggest(?:s|ed)?|think|thinks|thought)\b|{_ZH_REPORTING}", re.ASCII)


def _reported(reading: Reading, pos: int) -> bool:
    """A subject named after a reporting verb in its clause ("they argue LN works because ...")."""
    c0, _ = reading.span_of(reading.clause_ends, pos)
    if _REPORTING.search(reading.text, c0, pos):
        return True
    # ... or ending the clause before it: "Zhang 和 Sennrich 的工作发现，LayerNorm 的好处主要来自缩放"
    s0, _ = reading.span_of(reading.sentence_ends, pos)
    return c0 > s0 and _REPORTED_BEFORE.search(reading.text, s0, c0) is not None


def subject_of(reading: Reading, mentions, start: int, end: int) -> str | None:
    """The subject a claim at start..end is about: one named inside it, else the nearest named
    before it in its sentence, else the topic carried over (the first one named in the last
    sentence naming one), else the first named after it in its sentence, else none. A subject named
    in contrast ("unlike LayerNorm") binds only its own clause or a "which ..." one."""
    if not mentions:
        return None
    # Named inside the claim ("the gradients of post-LN are large"), unless as its possessive object.
    inside = [m for m in mentions if m[0] < end and m[1] > start and not m[4]]
    if inside:
        return inside[0][2]
    # The claim's owner right before it: "post-LN's need for warm-up", "post-LN 的梯度很大".
    # Not an owner that is the object of another subject's verb ("RMSNorm drops LayerNorm's mean
    # subtraction"); "their claim is that post-LN's need for warm-up ..." is about post-LN.
    owner = [m for m in mentions if m[1] <= start and re.fullmatch(r"'s\s*|\s*的\s*", reading.text[m[1]:start])
             and not (m[4] and _named_before_in_clause(reading, mentions, m))]
    if owner:
        return owner[-1][2]
    s0, s1 = reading.span_of(reading.sentence_ends, start)
    # Named in apposition right after it: "people clipped each component to [-5, 5], which is
    # clipping by value", "逐元素截断到 [-c, c]，也就是按值裁剪".
    named = [m for m in mentions if end <= m[0] < s1 and (_APPOSITION.fullmatch(reading.text, end, m[0])
                                                          or _IS_WHAT.fullmatch(reading.text, end, m[0]))]
    if named:
        return named[0][2]
    before = [m for m in mentions if m[1] <= start and (not m[3] or _in_contrast(reading, m, start))]
    if before and before[-1][0] >= s0:
        # A clause set against the one before it names its own subject, after the claim too: "CNNs
        # mostly use BatchNorm, while Transformers and RNNs use LayerNorm".
        against = _SET_AGAINST_CLAUSE.search(reading.text, before[-1][1], start)
        if against:
            own = [m for m in mentions if end <= m[0] < s1 and not m[3]]
            if own and not _SET_AGAINST_CLAUSE.search(reading.text, end, own[0][0]):
                return own[0][2]
        return before[-1][2]
    # Named right after it in its clause: "the gradient is large in post-LN", "... for pre-LN".
    c1 = reading.span_of(reading.clause_ends, start)[1]
    trailing = [m for m in mentions if end <= m[0] < c1 and not m[3] and _TRAILING_SUBJECT.fullmatch(reading.text, end, m[0])]
    if trailing:
        return trailing[0][2]
    # A sentence naming no subject, labelled by the next one: "... x plus attention of LN(x). That's
    # pre-LN." (这就是 pre-LN。)
    if not any(s0 <= m[0] < s1 for m in mentions) and s1 < len(reading.text):
        t0, t1 = reading.span_of(reading.sentence_ends, s1 + 1)
        label = [m for m in mentions if t0 <= m[0] < t1]
        if len(label) == 1 and _LABEL_SENTENCE.fullmatch(reading.text[t0:label[0][0]]) and \
                re.fullmatch(r"[\W_]*", reading.text[label[0][1]:t1 + 1]):
            return label[0][2]
    # Carried over from an earlier sentence: that sentence's first subject ("RMSNorm keeps ... of
    # LayerNorm. It never centers" is about RMSNorm).
    # (not one named inside someone's view: "Zhang & Sennrich 认为 LN 好用主要靠这个" sets no topic)
    earlier = [m for m in mentions if m[1] <= start and not m[3] and not _reported(reading, m[0])]
    if earlier:
        # A sentence that ends naming a new subject before a colon ("LayerNorm is ..., RMSNorm is:")
        # hands on that one.
        last_clause = reading.span_of(reading.clause_ends, earlier[-1][0])
        if _NAMED_BEFORE_COLON.match(reading.text, earlier[-1][1], last_clause[1] + 1):
            return earlier[-1][2]
        topic = _topic(reading, earlier)
        # "... retains its direction, in contrast to value clipping": a claim set against the topic
        # carried over is not about it (which it is about, the sentence does not say).
        if any(m[3] and not m[4] and m[2] == topic and s0 <= m[0] < s1 for m in mentions):
            return None
        return topic
    after = [m for m in mentions if m[0] >= end and m[0] < s1 and not m[3]]
    return after[0][2] if after else None


# A sentence's topic is named among its first words ("Strictly speaking, RMSNorm ...") or at the head
# of a clause ("..., so BN keeps running statistics").
TOPIC_WORDS, CLAUSE_LEAD_WORDS = 6, 2


# ", while Y ...": a clause set against the one before it.
_SET_AGAINST_CLAUSE = re.compile(r",\s*(?:while|whereas)\b|[，,]\s*而(?!且)")
# A subordinate clause's subject is not what the next sentence is about ("It was pitched for RNNs,
# where BatchNorm was awkward. ..."); "nn.LayerNorm" is named by its last word.
_SUBORDINATE = re.compile(r"\W*(?:where|which|who|whose|when|because|since|as|if|unless|although|though|that)\b", re.ASCII)
_MODULE_PREFIX = re.compile(r"\b(?:torch\.)?nn\.$", re.ASCII)


def _lead_length(text: str) -> int:
    return length(_MODULE_PREFIX.sub("", text))


_LABEL_OPENS = re.compile(r"[(（]\s*$")
_SET_AGAINST = re.compile(r"\b(?:while|whereas)\b|而(?!且)", re.ASCII)
_FRONTED = re.compile(r"\W*(?:whereas|while|although|though)\b|\W*(?:虽然|尽管)", re.ASCII)


def _topic(reading: Reading, earlier) -> str:
    """The subject carried over into a sentence naming none: the first one named in the last
    sentence naming one near its start. A subject named late in a sentence is rarely what the next
    one is about ("... is what makes LayerNorm help. It needs one reduction" is about RMSNorm),
    unless at the head of a clause, so such sentences are passed over for an earlier one; if every
    one is, the last one's first."""
    for sentence_start in sorted({reading.span_of(reading.sentence_ends, m[0])[0] for m in earlier}, reverse=True):
        first = next(m for m in earlier if m[0] >= sentence_start)
        clause_end = reading.span_of(reading.clause_ends, first[0])[1]
        sentence_end = reading.span_of(reading.sentence_ends, first[0])[1]
        if _FRONTED.match(reading.text, sentence_start):
            # "Whereas LayerNorm subtracts the mean, RMSNorm divides by the RMS": the main clause's
            # subject is what the sentence is about.
            first = next((m for m in earlier if clause_end < m[0] < sentence_end), first)
        else:
            # "LayerNorm computes ..., while RMSNorm computes ...": a pronoun after it means the
            # one set against the first, the last one named.
            first = next((m for m in earlier if clause_end < m[0] < sentence_end and m[2] != first[2]
                          and _SET_AGAINST.search(reading.text, clause_end, m[0])), first)
        clause_start = reading.span_of(reading.clause_ends, first[0])[0]
        if (_lead_length(reading.text[sentence_start : first[0]]) <= TOPIC_WORDS
                or (_lead_length(reading.text[clause_start : first[0]]) <= CLAUSE_LEAD_WORDS
                    and not _SUBORDINATE.match(reading.text, clause_start))
                or _LABEL_OPENS.search(reading.text, max(0, first[0] - 4), first[0])):  # "... the FFN (pre-LN)": a label
            return first[2]
    last = reading.span_of(reading.sentence_ends, earlier[-1][0])[0]
    return next(m[2] for m in earlier if m[0] >= last)


def length(text: str) -> int:
    return len(re.findall(r"[a-z0-9]+", text)) + len(re.findall(r"[\u4e00-\u9fff]", text)) // 2
