"""Grade free text against a rubric of key points, as an examiner would, and say why.

A key point is made when one of its matchers occurs as an assertion: not negated ("does not
subtract the mean", "梯度不会消失", "overfitting is not the cause"), not said of another subject
(what post-LN does, said of pre-LN, is a swap), and, for a misconception, not a warning, a
hypothetical or a quote ("x.var() applies Bessel's correction by default, which would not match").
A point may also be made by denying something (`denies`: "RMSNorm 不再计算和减去均值" makes "no
re-centering"). Where matchers occur and whether each occurrence is negated or hedged is
grader.practice.reading's part; this module binds claims to subjects and scores.

Words that assert a misconception make no point ("LayerNorm should normalise each channel across
the time steps" does not make "over the time steps"). A Chinese answer that borrows English terms
is read twice, as written and with those terms in Chinese, and a claim found in either counts.

Score: the weight of the points made, less the weight of points swapped and half the weight of
points contradicted, over the total; less each misconception's penalty; clipped to 0..1. Where the
evidence is thin (a long answer under the bar for "correct" that contradicts nothing and says much
on the question's subject in clauses no matcher accounts for) the verdict is `unsure`: the quiz then
asks the learner to rate themselves.

"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from grader.bank.schema import KeyPoint, Misconception, ShortQuestion
from grader.practice import notation, subjects
from grader.practice.reading import Reading, stem
from grader.practice.subjects import length

# A swapped point costs what it would have earned; a contradicted one half of it.
SWAP_COST, CONTRADICTION_COST = 1.0, 0.5
# Unsure: an answer this long (words, or CJK characters / 2) that makes under this share of the
# points, contradicts and misstates nothing, and leaves UNSURE_UNEXPLAINED words in clauses where no
# matcher occurs, UNSURE_TOPICAL of them the question's own words. Chosen on blind answers graded by
# rubrics not written for them: such an answer is often right in words no matcher knows, while a
# partial answer whose every clause makes a point is graded with confidence.
UNSURE_MIN_WORDS, UNSURE_BELOW, UNSURE_TOPICAL = 30, 0.8, 0.3
UNSURE_UNEXPLAINED = 20

@dataclass
class Verdict:
    score: float
    hit: list[KeyPoint] = field(default_factory=list)
    missed: list[KeyPoint] = field(default_factory=list)
    swapped: list[tuple[KeyPoint, str]] = field(default_factory=list)  # (point, the subject it was said of)
    contradicted: list[KeyPoint] = field(default_factory=list)
    misconceptions: list[Misconception] = field(default_factory=list)
    unsure: bool = False


# ---- grading ----------------------------------------------------------------------------------


def _readings(text: str) -> list[Reading]:
    """The answer as written, and for a Chinese answer that borrows English terms ("不做 mean
    centering") a second reading with them in Chinese: a point is found by either language's matchers."""
    reading = Reading(text)
    if reading.cjk and re.search(r"[a-z]{2}", reading.text):
        borrowed = Reading(text, borrowed=True)
        if borrowed.text != reading.text:
            return [reading, borrowed]
    return [reading]


def _occurrences(readings, item):
    """(asserted, negated) occurrences of a point or misconception in any reading: each
    (reading, start, end, subject or None)."""
    asserted, negated = [], []
    for reading, mentions in readings:
        for start, end, pattern in reading.matches(item.match):
            subject = subjects.subject_of(reading, mentions, start, end)
            (negated if reading.negated(start, end, pattern) else asserted).append((reading, start, end, subject))
        for start, end, pattern in reading.matches(item.denies):
            if reading.negated(start, end, pattern):
                asserted.append((reading, start, end, subjects.subject_of(reading, mentions, start, end)))
    return asserted, negated


def _overlaps(occurrence, spans) -> bool:
    reading, start, end, _ = occurrence
    return any(r is reading and a < end and start < b for r, a, b in spans)


def _about(item, subject: str | None) -> bool:
    return item.about is None or subject is None or subject == item.about


def _named_in_sentence(reading: Reading, mentions, start: int) -> bool:
    s0, s1 = reading.span_of(reading.sentence_ends, start)
    return any(s0 <= m[0] < s1 for m in mentions)


def _stated_otherwise(points, mentions_of: dict, wrong, occurrence) -> bool:
    """A misconception about X found in a sentence that names no subject (its X only carried over:
    "Everything else, the running statistics, the train/eval gap, follows from that choice"), where
    the answer states the point that denies it of X in a sentence naming X ("LayerNorm uses only the
    current example and behaves identically in both"): the explicit statement is what it says of X.
    points: each key point with its occurrences (_occurrences); mentions_of: each reading's mentions."""
    reading, start, end, _ = occurrence
    if wrong.about is None or _named_in_sentence(reading, mentions_of[reading], start):
        return False
    for point, (asserted, _) in points:
        if point.about != wrong.about or not any(a < end and start < b for a, b, _ in reading.matches(point.denies)):
            continue
        if any(s == wrong.about and _named_in_sentence(r, mentions_of[r], a) for r, a, _, s in asserted):
            return True
    return False


def grade(question: ShortQuestion, text: str) -> Verdict:
    readings = [(r, subjects.mentions(r, question) if question.subjects else []) for r in _readings(text)]
    verdict = Verdict(score=0.0)
    # What is said of a third party (a subject marked `other`) counts for nothing.
    others = {subject.name for subject in question.subjects if subject.other}
    # Each key point's occurrences, found once: a misconception may yield to one (_stated_otherwise).
    points = [(point, _occurrences(readings, point)) for point in question.rubric]
    mentions_of = dict(readings)
    penalty, wrong_spans = 0.0, []
    for wrong in question.misconceptions:
        asserted, _ = _occurrences(readings, wrong)
        said = [(r, a, b) for r, a, b, s in asserted if s not in others and _about(wrong, s) and not r.hedged(a, b)
                and not _stated_otherwise(points, mentions_of, wrong, (r, a, b, s))]
        if said:
            verdict.misconceptions.append(wrong)
            penalty += wrong.penalty
            wrong_spans += said
    earned = lost = 0.0
    for point, (asserted, negated) in points:
        # Words that state a misconception make no point ("LayerNorm should normalise each channel
        # across the time steps" does not say "over the time steps" right).
        asserted = [o for o in asserted if not _overlaps(o, wrong_spans) and not o[0].refuted(o[1])]
        if others:  # a point said of a third party: made only when it names no subject
            asserted = [o for o in asserted if o[3] not in others or point.about is None]
            negated = [o for o in negated if o[3] not in others]
        if any(_about(point, s) for *_, s in asserted):
            verdict.hit.append(point)
            earned += point.weight
        elif claims := [o for o in asserted if not (o[0].conditional(o[1]) or o[0].supposed(o[1]))]:
            # said of the other subject as a claim, not as a condition ("skip the warm-up and post-LN diverges")
            verdict.swapped.append((point, next(s for *_, s in claims if s != point.about)))
            lost += SWAP_COST * point.weight
        elif any(_about(point, s) for r, a, _, s in negated if not r.conditional(a)):
            verdict.contradicted.append(point)
            verdict.missed.append(point)
            lost += CONTRADICTION_COST * point.weight
        else:
            verdict.missed.append(point)
    total = sum(point.weight for point in question.rubric)
    verdict.score = round(min(max((earned - lost) / total - penalty, 0.0), 1.0), 6)
    verdict.unsure = _unsure(question, readings, verdict, earned / total)
    return verdict


# ---- how sure ---------------------------------------------------------------------------------


def _content_words(text: str, cjk: bool) -> set[str]:
    norm = notation.normalise(text)
    found = {stem(w) for w in re.findall(r"[a-z][a-z-]{3,}", norm)} - _STOPWORDS
    if cjk and notation.has_cjk(norm):
        from grader.practice import chinese

        found |= {w for w in chinese.words(norm) if len(w) >= 2 and notation.has_cjk(w)}
    return found


_STOPWORDS = {stem(w) for w in (
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



def _unexplained(question: ShortQuestion, reading: Reading) -> str:
    """The clauses of the answer in which no matcher of the rubric occurs (as a claim or denied).
    Words the prompt itself uses ("deep networks" for "why does it help train deep networks?")
    account for nothing."""
    prompt = _prompt_text(question)
    spans = [
        (start, end)
        for item in [*question.rubric, *question.misconceptions]
        for matchers in (item.match, item.denies)
        for start, end, _ in reading.matches(matchers)
        if reading.text[start:end] not in prompt
    ]
    out, start = [], 0
    for end in [*reading.clause_ends, len(reading.text)]:
        if not any(a < end and start < b for a, b in spans):
            out.append(reading.text[start:end])
        start = end + 1
    return " ".join(out)


@lru_cache(maxsize=256)
def _prompt_folded(en: str, zh: str) -> str:
    return notation.normalise(en) + "\n" + notation.normalise(zh)


def _prompt_text(question: ShortQuestion) -> str:
    return _prompt_folded(question.prompt.en or "", question.prompt.zh or "")


def _unsure(question: ShortQuestion, readings, verdict: Verdict, share: float) -> bool:
    """Unsure when a long answer (UNSURE_MIN_WORDS) makes under UNSURE_BELOW of the points, misstates
    nothing, and says a good deal on the question's subject that no matcher accounts for
    (UNSURE_UNEXPLAINED words in clauses with no match): it may make points in other words."""
    if verdict.misconceptions or verdict.swapped or verdict.contradicted or share >= UNSURE_BELOW:
        return False
    reading = readings[0][0]
    if length(reading.text) < UNSURE_MIN_WORDS:
        return False
    # The reading that accounts for most of the answer (a mixed answer's second reading may).
    rest = min((_unexplained(question, r) for r, _ in readings), key=length)
    if length(rest) < UNSURE_UNEXPLAINED:
        return False
    words = _content_words(rest, reading.cjk)
    if not words:
        return False
    topical = len(words & _vocabulary(question, reading.cjk)) / len(words)
    return topical >= UNSURE_TOPICAL
