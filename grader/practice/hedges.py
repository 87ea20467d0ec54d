"""Where an answer hedges (grader.practice.reading): what it says as a warning, a hypothetical, a
quote, a verdict on what it names, a contrast, a question or a condition, so that a misconception
said there is not asserted and a point said there of the other subject is no swap. Each function
takes `r`, a grader.practice.reading.Reading, and reads its text, clauses, sentences and quotes;
none runs any matcher (this module imports nothing of dlprep's, so reading.py may import it).

Chinese and English cues sit side by side in each pattern; DESIGN's free-text section lists them by
kind with examples.
"""
from __future__ import annotations

import re

# A clause that states a condition, up to the match.
_CONDITION = re.compile(r"^\W*(?:(?:and|but|so|or|only)\s+)?(?:if|when|whenever|unless|as long as|once)\b"
                        r"|(?:如果|若|要是|假如|只要|一旦|倘若)", re.ASCII)
# "Not the only explanation", "another view": what introduces someone else's view.
_OTHER_VIEWS = re.compile(r"\b(?:not the only|another|other|alternative|competing) (?:explanations?|views?|accounts?|theor(?:y|ies))\b"
                          r"|不是[^。；]{0,12}唯一(?:的)?(?:解释|原因|说法)|(?:另一种|其他|别的)(?:解释|观点|说法|理论)", re.ASCII)
_REPORTED = re.compile(r"\b(?:et al|argue[sd]?|attribute[sd]?|claims?|suggests?|propose[sd]?|blames?)\b|等人|认为|归因|指出", re.ASCII)
# A misconception said as a warning, a hypothetical or a counter-example is not asserted.
# "If the factors are below 1 the gradient vanishes" is a claim; "it would not match" is not.
# A reason's clause ("... because the gradients vanished") is said as a fact: a negation or a
# hypothetical before it does not reach into it (reason_at; grader.practice.reading uses it too).
_REASON = re.compile(r"\b(?:because|since)\b|因为|由于")
_HYPOTHETICAL = re.compile(
    r"\b(?:would|could|might|suppose|supposing|whether|otherwise|won't|wouldn't)\b|假如|假设|(?<![主需还总只])要是|否则|可能会|是否"
    r"|\bif you (?:just |simply |naively )?(?:write|use|call|do|pass|put|add)\b|如果(?:直接)?(?:写成|用|调用|使用|传)"
    # "The paper wants to explain why the Transformer needs warm-up": a question posed, not a claim.
    r"|\b(?:explain|explains|understand|ask|asks|asked|study|studies|investigat[a-z]*|analy[sz][a-z]*) why\b|(?:解释|研究|探究|分析|搞清楚|弄清楚|想知道|回答|问题是|问题[:：])[^，。；]{0,20}(?:为什么|为何|为啥)"
    # "Why not just clamp each entry?": a option raised to be turned down
    r"|\bwhy not\b|为什么不|为何"  # 为何 (literary "why") only asks, as in "回答…的问题：Transformer 训练为何需要预热"
    # A view reported as another's: "some people attribute it to ...", "也有人认为 ...". Not "X et al.
    # argue": in an answer about X's paper that is the answer's own claim.
    r"|\b(?:others|some (?:people|authors|papers|works?)|another (?:paper|view|explanation|line of work))\b[^.;]{0,40}?\b(?:argue|argued|attribute|attributed|claim|claimed|suggest|suggested|propose|proposed|believe|say|says|blame|blamed)\b"
    r"|(?:也有人|有人|有观点|有的论文|另一种(?:解释|观点|说法)|另一篇)[^，。；]{0,6}(?:认为|觉得|说|解释|归因|提出)",
    re.ASCII)
# A claim said of what the answer sets its subject against is not asserted: "unlike value clipping,
# which changes the direction", "不像按值裁剪那样逐元素截断": the frame reaches the end of its clause
# and a relative clause right after it.
_CONTRAST_FRAME = re.compile(
    r"\b(?:unlike|as opposed to|in contrast (?:to|with)|contrary to|whereas in|compared (?:to|with))\b|不像|不同于|有别于|区别于|相比之下"
    # "the big advantage over clipping each value into [-c, c]": what it is preferred to.
    r"|\b(?:(?:big|main|key|real|chief)\s+)?(?:advantages?|edge|improvements?|benefits?)\s+over\b|\b(?:better than|preferable to|superior to)\b|优于|好于|胜过",
    re.ASCII)
# "减均值的作用很小", "the contribution of re-centering is small": the claim's words name a topic
# the sentence weighs (its role, its effect), not something the subject is said to do.
_TOPIC_AFTER = re.compile(r"(?:这一步|这步|这个操作|本身)?的?(?:作用|贡献|意义|价值|好处|效果|影响|必要性|收益|功劳)")
_PLAYS_ROLE = re.compile(r"(?:起|起到|起了|发挥|发挥了)[^，。；,;]{0,10}$")
_TOPIC_BEFORE = re.compile(r"\b(?:the\s+)?(?:role|contribution|effect|impact|benefit|value|importance|merit)\s+of\s+(?:the\s+)?(?:[a-z-]+\s+){0,2}$", re.ASCII)
# "In a plain deep net the gradient has to squeeze through every layer", "The problem with stacking
# layers is that ...": a clause opening on the plain network a residual one is set against says what
# the plain one does.
_PLAIN_FRAME = re.compile(r"\s*(?:(?:so|but|and|whereas|while)\s+)?in\s+an?\s+(?:plain|vanilla|ordinary|non-residual)\s+(?:deep\s+)?(?:net|network|stack|mlp|cnn|model)s?\b"
                          r"|\s*the\s+(?:problem|issue|trouble|difficulty)\s+with\s+(?:stacking|very\s+deep|deep|plain|training\s+deep)\b"
                          r"|\s*在(?:普通|plain)(?:的)?(?:深层)?(?:网络|堆叠)(?:中|里)", re.ASCII)
_COLON = re.compile(r"[:：]")
_VERSUS = re.compile(r"(?:^|\s)(?:vs\.?|versus)\s", re.ASCII)
# A yes/no question (not a wh-question, whose content it presupposes) and a "no" answering it.
_YES_NO = re.compile(r"^\W*(?:(?:so|and|but|then|ok|okay)\W+)?(?:is|are|was|were|does|do|did|can|could|will|would|should|has|have|isn't|doesn't|won't|can't)\b"
                     r"|吗\s*$|是否|会不会|能不能|是不是|有没有|要不要|需不需要|可不可以", re.ASCII)
_WH_WORD = re.compile(r"\b(?:why|how|what|when|where|which|who|whom|whose)\b|为什么|为何|为啥|怎么|如何|什么|哪|谁", re.ASCII)
_NO_ANSWER = re.compile(r"\s*(?:no\b|nope\b|not really\b|not at all\b|not quite\b|not mainly\b|不[，,。！!]|不是|不会|不能|没有|并不|并非|否|主要不是|也不是)", re.ASCII)
_ZH_WITH = re.compile(r"(?:与|和|跟|同)")
_ZH_DIFFERENT = re.compile(r"(?:不同|不一样|有别|相反|区别)")
_RELATIVE = re.compile(r"\s*(?:which|that|where|who|whose)\b|\s*那(?:是|个|种|样)", re.ASCII)
# Warning words hedge a claim anywhere in its sentence ("common slip: ...", "avoid ...", "don't ...");
# verdict words only after its start ("x.std() is wrong here", "..., which is a bug"): "the main bug:
# the code reduces over C" still says what the code does.
_WARNING = re.compile(
    r"\b(?:(?<!\bto )avoid|mistakes?|mistaken|pitfalls?|myths?|beware|careful|misconceptions?|traps?|slips?|gotchas?|caveat|"
    r"not match|doesn't match|won't match|wouldn't match|mismatch|don't use|do not use|shouldn't|should not|"
    r"common (?:error|bug)|easy to (?:get wrong|miss|forget)|(?:candidates|people|students|folks|beginners|interviewees)[^.;:]{0,15}\bget (?:this |it |that )?wrong|people (?:also )?(?:often |sometimes |commonly |usually )?(?:miss|forget|think|believe|assume|say|claim|write|reach for|describe|call|treat|think of|see)|"
    # "It is also sometimes assumed that LayerNorm keeps running statistics", "it is tempting to think ..."
    r"(?:is|are) (?:also )?(?:sometimes|often|commonly|widely|frequently) (?:assumed|believed|thought|claimed)|tempting to (?:think|believe|assume|say|write|use|reach for)|"
    # a debugging tip names the usual culprits: "if it fails, nine times out of ten you used the unbiased variance"
    r"if (?:it|this|that|they|the (?:check|test|assert(?:ion)?|comparison|outputs?)) (?:fails?|breaks?|(?:doesn't|does not|don't|do not) (?:match|agree|pass))|"
    # someone's belief, told to be refuted: "another wrong belief is that ...", "the common story is
    # that ...", "the author seems to believe dim=1 is the feature axis"
    r"(?<!opposite of the )(?<!contrary to the )(?<!against the )(?:wrong|mistaken|false|common|popular|naive|frequent|widespread|usual|standard|folk) (?:belief|assumption|story|reading|"
    r"view|idea|claim|intuition|explanation|narrative|notion|misreading|misunderstanding)s?|"
    r"(?:seems?|appears?) to (?:believe|think|assume)|(?:the )?authors? (?:believes?|thinks?|assumes?)|"
    # A self-correction takes back what its sentence started to say: "wait, no, I was about to say ..."
    r"wait,? no|no,? wait|scratch that|(?:was|am) (?:about|going) to say|almost said|nearly said|"
    r"used to (?:think|assume|believe|say|claim)|"
    # an anecdote of a bug hunted down: "I once spent an afternoon chasing a failure: a colleague had written x.std()"
    r"(?:chas|debugg|track)(?:e|ed|ing) (?:down )?(?:a |an |the )?(?:[^.;]|\.(?=\w)){0,40}(?:bug|failure|mismatch|discrepanc)|"
    # one's own slip told as a story: "First, I'd used torch.var's default ... Second, I had written (x - mu) / (sigma + eps)"
    r"i(?:'d| had)(?: first| originally| accidentally| mistakenly| naively)? (?:used|written|put|added|called|forgotten|left|applied))\b"
    # ("..., never dividing by the std" describes, it does not warn)
    r"|(?:^|[:;,]\s*)(?:but |so |and )?(?:please )?(?:don't|do not|never(?!\s+[a-z]+ing\b)|avoid)\b"
    r"|避免|误以为|误认为|陷阱|不要用|别用|不应|不匹配|对不上|不一致|误区|常见的错|以为|小心|注意别|注意不要"
    r"|(?:会|就会)[^，。；,;]{0,12}有(?:细微|一点|些许|一些)?(?:偏差|出入|差异)|啊不对|我刚(?:才)?想说|差点说(?:成)?|说错了|口误|更正一下"
    r"|(?:^|[，,：:；;]\s*)(?:千万|可|但|也)?(?:别|不要)(?:直接|再|去|拿|把|用|写成|当成)",
    re.ASCII,
)
_VERDICT = re.compile(
    r"(?<!not )(?<!n't )(?<![=_.])\b(?:wrong|incorrect|bug|buggy|false|untrue|an error|a mismatch|a different (?:function|formula|layer|operation|computation|module|thing))\b"

    # "that is not what PyTorch computes", "neither is true"
    r"|\bnot (?:true|right|correct|the case)\b|\bnot what\b[^.;:]{0,30}\b(?:computes?|does|uses|implements?|means)\b|\bneither (?:(?:of (?:these|them|which) )?is (?:true|correct|right|the case)|holds?)\b"
    r"|(?<!不是)(?:错误|是错的|有误)|(?<![没并])不对|(?:是|就成了)(?:另一个|不同的)(?:函数|公式)",
    re.ASCII)
# A mistake's consequence told to the reader, anywhere later in the sentence: "the default torch.std
# divides by C-1 and you'll see a small but consistent error".
_CONSEQUENCE = re.compile(r"\byou(?:'ll| will) (?:see|get|notice) (?:a |an )?[a-z ,]{0,40}?\b(?:error|mismatch|discrepanc)", re.ASCII)
_IMPERATIVE = re.compile(r"\s*(?:skip|drop|remove|omit|use|push|raise|try|turn off|set|take away|forget)\b", re.ASCII)
_CONSEQUENT = re.compile(r"\band (?:the )?(?:loss|training|model|it|run|network|things)\b[^.;]{0,30}\b(?:diverg|blows? up|explod|fail|break|nan|crash)", re.ASCII)
_TAKEN_BACK = re.compile(r"\s*(?:(?:actually|wait|hmm|sorry|no)[,.!]?\s+)*(?:let me correct (?:that|myself)|i should correct (?:that|myself)|"
                         r"correction:|scratch that|that's (?:wrong|not right|not quite right)|that is (?:wrong|not right))"
                         r"|\s*(?:啊)?不对[，,。]|\s*(?:更正|纠正)一下|\s*说错了", re.ASCII)
_REFERS_TO_LAST = re.compile(r"(?:that|this|which)\b|(?:这|那)(?:是|就是|个|种)", re.ASCII)
_NEXT_IN_LIST = re.compile(r"(?:second|third|fourth|fifth|next|another|also|finally|lastly|last)\b[^.:;]{0,25}[:：]|(?:第[二三四五]|其[二三四五]|再者|另外|还有|最后)[^。：:；]{0,8}[:：]", re.ASCII)
_BUT = re.compile(r"(?:but|yet)\b", re.ASCII)
_REFERS_BACK = re.compile(r"\s*(?:which|that|this|it|and that|and this|neither|both)\b|\s*(?:这|这样|这是|那)", re.ASCII)


def yes_no_question(r, start: int) -> tuple[bool, bool]:
    """(whether the match sits in a yes/no question, whether the next sentence answers it no):
    "是过拟合吗？不是，…", "Does it fix vanishing gradients? No." A question asserts nothing;
    answered no, it denies what it asks."""
    s0, s1 = r.span_of(r.sentence_ends, start)
    if s1 >= len(r.text) or r.text[s1] not in "?？":
        return False, False
    asked = r.text[s0:s1]
    if not _YES_NO.search(asked) or _WH_WORD.search(asked):
        return False, False
    return True, _NO_ANSWER.match(r.text, s1 + 1) is not None


def reason_at(text: str, lo: int, start: int) -> int | None:
    """Where a reason word ("because", 因为) between lo and a match at `start` begins, the match
    itself starting with one included; None if there is none."""
    reason = _REASON.search(text, lo, start + len("because"))
    return reason.start() if reason and reason.start() <= start else None


def refuted(r, start: int) -> bool:
    """The match sits in a belief its clause sets up to be refuted ("A common misconception is that
    it just rescales the vector and keeps the direction; if that were true ..."): no key point is
    made there, as no misconception is asserted."""
    c0, _ = r.span_of(r.clause_ends, start)
    return _BELIEF_REFUTED.search(r.text, c0, start) is not None


_BELIEF_REFUTED = re.compile(
    r"\b(?:(?:a |the |one |another )?(?:common |popular |widespread |frequent |usual |naive )?(?:misconception|myth|wrong belief|mistaken belief|fallacy)s?"
    r"(?: (?:i hear|people have|is|here))* (?:is )?that|contrary to (?:popular |common )?belief,?|it is a myth that)\b"
    r"|(?:常见的?)?(?:误解|误区|迷思)(?:是|在于)", re.ASCII)


def conditional(r, start: int) -> bool:
    """The match sits in a condition ("if the norm does not exceed c, nothing happens", "如果长度
    没超过上限，就什么都不做"): a negation there denies nothing the answer claims."""
    c0, _ = r.span_of(r.clause_ends, start)
    return _CONDITION.search(r.text[c0:start]) is not None


def supposed(r, start: int) -> bool:
    """The match sits in an imperative that states a condition: "Skip the warm-up or push the
    learning rate and the loss diverges"."""
    s0, s1 = r.span_of(r.sentence_ends, start)
    return _IMPERATIVE.match(r.text, s0) is not None and _CONSEQUENT.search(r.text, start, s1) is not None


def hedged(r, start: int, end: int) -> bool:
    """A claim said as a hypothetical (its clause), a warning (its sentence), a quote, a topic
    weighed ("减均值的作用很小") or a yes/no question ("去掉减均值会不会掉点？")."""
    if any(a <= start and end <= b for a, b in r.quotes):
        return True
    if yes_no_question(r, start)[0]:
        return True
    c0, c1 = r.span_of(r.clause_ends, start)
    # "it would diverge because the gradients are large": the reason is said as a fact.
    reason = reason_at(r.text, c0, start)
    if _HYPOTHETICAL.search(r.text, c0 if reason is None else reason, max(c1, end)):
        return True
    if _in_contrast_frame(r, start):
        return True
    # "减均值的作用很小" weighs a topic; "起正则化的作用" (plays the role of) asserts it.
    if (_TOPIC_AFTER.match(r.text, end) and not _PLAYS_ROLE.search(r.text, max(c0, start - 12), start)) \
            or _TOPIC_BEFORE.search(r.text, max(c0, start - 40), start):
        return True
    if _verdict_after(r, start, max(c1, end)):
        return True
    if _library_default(r, start, max(c1, end)):
        return True
    s0, s1 = r.span_of(r.sentence_ends, start)
    if _other_view(r, s0, start):
        return True
    return (_WARNING.search(r.text[s0 : max(s1, end)].lstrip()) is not None or _warned_before(r, s0)
            or _answers_a_supposition(r, s0))


def _answers_a_supposition(r, s0: int) -> bool:
    """"You know what happens if you just call x.var()? You get the unbiased estimate": what the
    sentence after such a question says follows from what it supposes."""
    if s0 < 2 or r.text[s0 - 1] not in "?？":
        return False
    q0, _ = r.span_of(r.sentence_ends, s0 - 2)
    return _SUPPOSED_QUESTION.search(r.text, q0, s0) is not None


_SUPPOSED_QUESTION = re.compile(r"\bwhat (?:happens|do you get|would happen|goes wrong) (?:if|when)\b|如果[^。？?]{0,20}(?:会怎样|会怎么样|会发生什么)", re.ASCII)


def _warned_before(r, s0: int) -> bool:
    """A sentence that goes on with a warning before it: "Second misconception: using x.std(). That
    is the unbiased estimator", "... Third: writing (x - mean)/(std + eps)" (a list of them); or one
    the next sentence takes back: "You clamp each element. Actually, let me correct that: ..."."""
    _, s1 = r.span_of(r.sentence_ends, s0)
    if s1 < len(r.text) and _TAKEN_BACK.match(r.text, s1 + 1):
        return True
    lead = r.text[s0 : s0 + 40].lstrip()
    back = 1 if _REFERS_TO_LAST.match(lead) else 3 if _NEXT_IN_LIST.match(lead) else 0
    for _ in range(back):
        if s0 < 2:
            return False
        s0, s1 = r.span_of(r.sentence_ends, s0 - 2)
        if _WARNING.search(r.text[s0:s1].lstrip()):
            return True
    return False


def _other_view(r, s0: int, start: int) -> bool:
    """"It is not the only explanation. Liu et al. (RAdam) attribute it to ...": a view reported
    as someone else's, right after the answer says there are others."""
    p0 = r.span_of(r.sentence_ends, max(s0 - 2, 0))[0] if s0 > 1 else s0
    return (_OTHER_VIEWS.search(r.text, p0, start) is not None
            and _REPORTED.search(r.text, s0, start) is not None)


def _verdict_after(r, start: int, clause_end: int) -> bool:
    """"x.std() is wrong here", "x.std() applies Bessel's correction, which is a bug": a verdict
    in the claim's clause or in a clause right after it that refers back to it."""
    if _VERDICT.search(r.text, start, clause_end):
        return True
    if _CONSEQUENCE.search(r.text, start, r.span_of(r.sentence_ends, start)[1]):
        return True
    if _BUT.match(r.text, clause_end):  # "(x - mu) / (std + eps) looks similar but is a different function"
        return _VERDICT.search(r.text, clause_end, r.span_of(r.clause_ends, clause_end + 1)[1]) is not None
    after = clause_end + 1
    if after < len(r.text) and _REFERS_BACK.match(r.text, after):
        return _VERDICT.search(r.text, after, r.span_of(r.clause_ends, after + 1)[1]) is not None
    return False


def _library_default(r, start: int, clause_end: int) -> bool:
    """"whereas torch.std applies Bessel's correction by default and divides by C-1", "torch.std
    defaults to unbiased=True": what a library function does by default, told as what to change."""
    s0, _ = r.span_of(r.sentence_ends, start)
    named = list(_LIBRARY_FUNCTION.finditer(r.text, s0, start))  # each ends before the claim
    if not named or ";" in r.text[named[-1].end() : start]:
        return False
    return _DEFAULT.search(r.text, named[-1].end(), clause_end) is not None


_LIBRARY_FUNCTION = re.compile(r"\b(?:torch|x|np|numpy|tensor)\.(?:std|var)\b", re.ASCII)
_DEFAULT = re.compile(r"\b(?:by default|defaults? to|default(?:s)? is)\b|默认", re.ASCII)


def _in_contrast_frame(r, start: int) -> bool:
    c0, c1 = r.span_of(r.clause_ends, start)
    if _CONTRAST_FRAME.search(r.text, c0, start) or _PLAIN_FRAME.match(r.text, c0):
        return True
    # "direction preserved; vs clip-by-value g ← clip(g, -c, c), which changes direction": the rest
    # of a sentence after "vs" (not "pre-LN vs post-LN: post-LN ...", a heading).
    s0, _ = r.span_of(r.sentence_ends, start)
    versus = _VERSUS.search(r.text, s0, start)
    if versus and not _COLON.search(r.text, versus.end(), start):
        return True
    # "区别于按值裁剪：那是逐元素截断，会改变方向": after a contrast and a colon, the rest of the
    # sentence says what the contrasted thing does; not when a clause of its own comes between
    # ("Compared with LayerNorm, RMSNorm leaves out the scaling: it still ..." is about RMSNorm).
    frame = _CONTRAST_FRAME.search(r.text, s0, start)
    colon = frame and _COLON.search(r.text, frame.end(), start)
    if colon and r.span_of(r.clause_ends, frame.end())[1] >= colon.start():
        return True
    # "这一点与逐元素截断的 clip by value 不同": what 与 … 不同 frames is set against.
    if _ZH_WITH.search(r.text, c0, start) and _ZH_DIFFERENT.search(r.text, start, c1):
        return True
    if c0 > 1 and _RELATIVE.match(r.text, c0):  # "unlike X, which ...": the clause before
        p0, _ = r.span_of(r.clause_ends, c0 - 1)
        return _CONTRAST_FRAME.search(r.text, p0, c0) is not None
    return False
