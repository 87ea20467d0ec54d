"""Rich rendering of the quiz and the bank commands, and the interactive quiz loop (ask, read,
show feedback). Bank text is always wrapped in Text objects, never parsed as Rich markup: a
question about `x[..., None]` must print as written.
"""
from __future__ import annotations

import random
import re
import sys
import time
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.practice.answers import AnswerFormError, AnswerResult, format_number
from grader.practice.quiz import AnswersReport, QuizSession, Summary, choice_order, to_bank_letters
from grader.render.wrap import prose
from grader.bank.schema import LETTERS, answer_form, ChoiceQuestion, MultiQuestion, NumericQuestion, ShortQuestion, TrueFalseQuestion

_WORDS = {
    "en": {
        "answer_letter": "Your answer (a letter)",
        "answer_letters": "Your answer (letters, e.g. AC)",
        "answer_tf": "True or false? (t/f)",
        "answer_number": "Your answer (a number)",
        "answer_text": "Your answer (one line)",
        "correct": "Correct",
        "wrong": "Incorrect",
        "partial": "Partly correct",
        "the_answer": "The answer",
        "hit": "Key points hit",
        "missed": "Key points missed",
        "misconceptions": "Misconceptions",
        "model": "Model answer",
        "explanation": "Explanation",
        "ended": "Quiz ended early.",
        "summary": "Summary",
        "topic": "Topic",
        "answered": "Answered",
        "n_correct": "Correct",
        "score": "Score",
        "total": "Total",
        "unanswered": "{n} not answered",
        "try_again": "Cannot read that: {why}. Try again.",
        "rate_intro": "The grader is not sure of this grade. Did your answer make each key point?",
        "rate_prompt": "Made it? (y/n)",
        "rate_done": "Your own rating: {score:.0%}",
        "rating_prompt": "How well did you know it? Enter = {default} · a again · h hard · g good · e easy: ",
        "rating_names": ["again", "hard", "good", "easy"],
        "rating_again": "Type a, h, g or e (or press Enter to accept).",
        "true": "true",
        "false": "false",
        "id": "Id",
        "type": "Type",
        "difficulty": "Difficulty",
        "prompt": "Question",
        "questions": "{n} questions",
    },
    "zh": {
        "answer_letter": "你的答案（一个字母）",
        "answer_letters": "你的答案（字母，如 AC）",
        "answer_tf": "对还是错？（t/f 或 对/错）",
        "answer_number": "你的答案（一个数）",
        "answer_text": "你的答案（一行）",
        "correct": "正确",
        "wrong": "错误",
        "partial": "部分正确",
        "the_answer": "正确答案",
        "hit": "命中的要点",
        "missed": "遗漏的要点",
        "misconceptions": "误解",
        "model": "参考答案",
        "explanation": "解析",
        "ended": "测验提前结束。",
        "summary": "小结",
        "topic": "主题",
        "answered": "已答",
        "n_correct": "答对",
        "score": "得分",
        "total": "合计",
        "unanswered": "{n} 题未答",
        "try_again": "无法识别：{why}。请重新输入。",
        "rate_intro": "这次评分把握不大。你的答案是否讲到了下面每个要点？",
        "rate_prompt": "讲到了吗？(y/n)",
        "rate_done": "你的自评：{score:.0%}",
        "rating_prompt": "掌握得怎么样？回车 = {default} · a 重来 · h 困难 · g 良好 · e 简单：",
        "rating_names": ["重来", "困难", "良好", "简单"],
        "rating_again": "请输入 a、h、g 或 e（直接回车表示接受）。",
        "true": "对",
        "false": "错",
        "id": "编号",
        "type": "类型",
        "difficulty": "难度",
        "prompt": "题目",
        "questions": "共 {n} 题",
    },
}

_FENCE = re.compile(r"```([\w+-]*)[^\n]*\n(.*?)```", re.DOTALL)


def console(stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False)


def words(lang: str) -> dict[str, str]:
    return _WORDS["zh" if lang == "zh" else "en"]


def prompt_body(text: str) -> Group:
    """Prose as plain Text and each fenced code block as highlighted Syntax."""
    parts: list[Any] = []
    pos = 0
    for fence in _FENCE.finditer(text):
        if text[pos : fence.start()].strip():
            parts.append(prose(text[pos : fence.start()].strip("\n")))
        from rich.syntax import Syntax  # pygments is loaded only for questions with code

        code = fence.group(2).rstrip("\n")
        parts.append(Syntax(code, fence.group(1) or "python", theme="ansi_dark", word_wrap=True))
        pos = fence.end()
    if text[pos:].strip():
        parts.append(prose(text[pos:].strip("\n")))
    return Group(*parts)


def code_block(code: str) -> Any:
    """A question's `code:` highlighted, with line numbers a prompt or explanation can refer to.
    Without a terminal Rich drops the colours and the numbered lines read as plain text."""
    from rich.syntax import Syntax  # pygments is loaded only for questions with code

    return Syntax(code.rstrip("\n"), "python", theme="ansi_dark", line_numbers=True, word_wrap=True)


def question_panel(question: Any, lang: str, order: list[int], title: str) -> Panel:
    """The question (its `code:` under the prompt) with its choices labelled A, B, C… in on-screen
    `order`."""
    parts: list[Any] = [prompt_body(question.prompt.get(lang))]
    if question.code:
        parts += [Text(""), code_block(question.code)]
    if isinstance(question, ChoiceQuestion):
        parts.append(Text(""))
        for shown, bank_index in enumerate(order):
            choice = Text.assemble((f"{LETTERS[shown]}. ", "bold"), question.choices[bank_index].get(lang))
            parts.append(prose(choice, hang=3))
    return Panel(Group(*parts), title=Text(title), title_align="left", border_style="cyan")


def _panel_title(question: Any, number: int | None = None, total: int | None = None) -> str:
    head = f"{number}/{total} · " if number is not None else ""
    return f"{head}{question.id} · {question.topic} · {question.difficulty}"


def _answer_hint(question: Any, lang: str) -> str:
    w = words(lang)
    if isinstance(question, MultiQuestion):
        return w["answer_letters"]
    if isinstance(question, ChoiceQuestion):
        return w["answer_letter"]
    if isinstance(question, TrueFalseQuestion):
        return w["answer_tf"]
    if isinstance(question, NumericQuestion):
        return w["answer_number"]
    return w["answer_text"]


def _shown_answer(question: Any, answer: Any, lang: str, order: list[int]) -> Text:
    """The correct answer as the learner saw it: on-screen letters with the choices' text."""
    if isinstance(question, ChoiceQuestion):
        shown = Text()
        for screen_index, bank_index in enumerate(order):
            if LETTERS[bank_index] in answer:
                shown.append(f"\n  {LETTERS[screen_index]}. ", style="bold")
                shown.append(question.choices[bank_index].get(lang))
        return shown
    if isinstance(question, TrueFalseQuestion):
        return Text(" " + words(lang)["true" if answer else "false"])
    if isinstance(question, NumericQuestion):
        return Text(" " + format_number(question))
    return Text(" " + str(answer))


def feedback(question: Any, result: AnswerResult, lang: str, order: list[int] | None = None) -> Group:
    """Verdict, then for short answers the key points hit and missed and the model answer, then the
    explanation."""
    w = words(lang)
    order = order if order is not None else choice_order(question, None)
    verdict = "correct" if result.correct else "partial" if result.score > 0 else "wrong"
    mark, style = {"correct": ("✓", "green"), "partial": ("~", "yellow"), "wrong": ("✗", "red")}[verdict]
    head = Text.assemble((f"{mark} {w[verdict]}", f"bold {style}"), f"  ({result.score:.0%})")
    parts: list[Any] = [head]
    if isinstance(question, ShortQuestion):
        parts.append(prose(result.feedback))
        parts += _bullets(w["hit"], result.points_hit, "green")
        parts += _bullets(w["missed"], result.points_missed, "red")
        parts += _bullets(w["misconceptions"], result.misconceptions, "red")
        parts += [Text(f"{w['model']}:", style="bold"), prose(f"  {result.model_answer}", hang=2)]
    elif not result.correct:
        shown = _shown_answer(question, result.answer, lang, order)
        parts.append(prose(Text.assemble((f"{w['the_answer']}:", "bold"), shown), hang=5))  # under "  A. "
    parts += [Text(f"{w['explanation']}:", style="bold"), prompt_body(result.explanation)]
    return Group(*parts)


def _bullets(title: str, items: list[str], style: str) -> list[Any]:
    if not items:
        return []
    return [Text(f"{title}:", style=f"bold {style}"), *(prose(f"  • {item}", hang=4) for item in items)]


def _points(score: float) -> str:
    return f"{round(score, 2):g}"  # partial credit: 2.67, not 2.666667


def summary_table(summary: Summary, lang: str) -> Table:
    w = words(lang)
    table = Table(title=w["summary"], show_footer=True)
    table.add_column(w["topic"], footer=w["total"])
    table.add_column(w["answered"], justify="right", footer=str(summary.answered))
    table.add_column(w["n_correct"], justify="right", footer=str(sum(r.correct for r in summary.topics)))
    table.add_column(w["score"], justify="right", footer=f"{_points(summary.score)} / {summary.max_score}")
    for row in summary.topics:
        table.add_row(row.topic, str(row.answered), str(row.correct), f"{_points(row.score)} / {row.answered}")
    if summary.asked > summary.answered:
        table.caption = w["unanswered"].format(n=summary.asked - summary.answered)
    return table


# ---- the interactive quiz -------------------------------------------------------------------


def play(session: QuizSession, *, shuffle_seed: int | None = None, shuffle: bool = True, recorder=None,
         ask_rating: bool = False) -> Summary:
    """Ask every question of the session on the terminal, with feedback after each. Ctrl-C or EOF
    ends the quiz early; the summary of what was answered is shown either way. Choices are shown
    shuffled (seeded by `shuffle_seed`) unless a question sets `shuffle: false`; typed letters are
    mapped back, so the session holds answers in the bank's letters.

    With a `recorder` (grader.practice.progress.Recorder) each answer is stored the moment it is
    graded, then settled with the learner's rating: asked after every free-text answer, and after
    every answer when `ask_rating` (the review)."""
    out = console()
    _readable_input()
    rng = random.Random(shuffle_seed) if shuffle else None
    lang = session.lang
    try:
        while (question := session.current) is not None:
            order = choice_order(question, rng)
            number = len(session.results) + 1
            out.print(question_panel(question, lang, order, _panel_title(question, number, len(session.questions))))
            started = time.monotonic()
            result = _ask(out, session, question, order)
            if recorder is not None:
                recorder.answered(question, result, order, time.monotonic() - started)
            out.print(feedback(question, result, lang, order))
            if result.unsure:
                _rate_self(out, session, question)
            if recorder is not None:
                final = session.results[-1]
                asked = ask_rating or isinstance(question, ShortQuestion)
                recorder.settled(final, _ask_rating(out, lang, final.score) if asked else None)
            out.print()
    except (KeyboardInterrupt, EOFError):
        out.print()
        out.print(Text(words(lang)["ended"], style="yellow"))
    summary = session.summary()
    out.print(summary_table(summary, lang))
    return summary


def _readable_input() -> None:
    """Bytes typed that are not UTF-8 (a terminal set to Latin-1, a pasted binary) read as U+FFFD.
    Python decodes stdin strictly under most locales (the quiz died of UnicodeDecodeError) and with
    surrogate escapes under C and POSIX (the answer then failed to encode into the store)."""
    reconfigure = getattr(sys.stdin, "reconfigure", None)
    if reconfigure is not None:
        try:
            reconfigure(errors="replace")
        except (ValueError, OSError):  # a stream that cannot change: its own decoding stands
            pass


def _ask(out: Console, session: QuizSession, question: Any, order: list[int]) -> AnswerResult:
    """Read answers until one has the right form (an empty line asks again)."""
    hint = _answer_hint(question, session.lang)
    while True:
        typed = out.input(Text(f"{hint}: ", style="bold")).strip()
        if not typed:
            continue
        if isinstance(question, ChoiceQuestion):
            typed = to_bank_letters(typed, order)
        try:
            return session.answer(typed)
        except AnswerFormError as exc:
            out.print(Text(words(session.lang)["try_again"].format(why=exc.message(session.lang)), style="yellow"))


_RATINGS = {"a": 1, "again": 1, "1": 1, "重来": 1, "h": 2, "hard": 2, "2": 2, "困难": 2, "难": 2,
            "g": 3, "good": 3, "3": 3, "良好": 3, "好": 3, "e": 4, "easy": 4, "4": 4, "简单": 4}


def _ask_rating(out: Console, lang: str, score: float) -> int:
    """The learner's rating for the schedule: Enter accepts the one the grade gives."""
    from grader.practice.scheduler import rating_for

    default = int(rating_for(score))
    w = words(lang)
    prompt = Text(w["rating_prompt"].format(default=w["rating_names"][default - 1]), style="bold")
    while (typed := out.input(prompt).strip().lower()) and typed not in _RATINGS:
        out.print(Text(w["rating_again"], style="yellow"))
    return _RATINGS.get(typed, default)


_YES = {"y", "yes", "是", "对", "有", "1"}
_NO = {"n", "no", "否", "不", "没有", "错", "0"}


def _rate_self(out: Console, session: QuizSession, question: Any) -> None:
    """The grader was unsure of a short answer: the learner says, point by point, whether their
    answer made it, and that rating becomes the score."""
    w = words(session.lang)
    out.print(Text(w["rate_intro"], style="bold yellow"))
    made = []
    for point in question.rubric:
        out.print(prose(f"  • {point.point.get(session.lang)}", hang=4))
        while (typed := out.input(Text(f"    {w['rate_prompt']}: ", style="bold")).strip().lower()) not in _YES | _NO:
            pass
        made.append(typed in _YES)
    result = session.rate(made)
    out.print(Text(w["rate_done"].format(score=result.score), style="bold"))


# ---- answers files and banks ----------------------------------------------------------------


def answers_report(report: AnswersReport, questions: dict[str, Any], lang: str) -> None:
    out = console()
    for result in report.results:
        question = questions[result.id]
        out.print(Text(result.id, style="bold cyan"))
        out.print(feedback(question, result, lang))
        out.print()
    out.print(summary_table(report.summary, lang))
    err = console(stderr=True)
    for line in report.problems:
        err.print(Text(line))


# Narrower than this, a prompt column says nothing: it is left out rather than squeezing the others.
MIN_PROMPT_CELLS = 12


def bank_list(loaded: list[Any], lang: str) -> None:
    """One row per question; the prompt's first line is cut to the width the other columns leave
    (ids are never cut: they are what the learner types)."""
    from rich.cells import cell_len

    w = words(lang)
    out = console()
    names = ("id", "topic", "type", "difficulty")
    used = sum(max([cell_len(w[n]), *(cell_len(getattr(e.question, n)) for e in loaded)]) for n in names)
    prompt_width = out.width - used - 3 * (len(names) + 1) - 1  # 3 cells per column: border, padding
    shown = (*names, "prompt") if prompt_width >= MIN_PROMPT_CELLS else names
    table = Table(caption=w["questions"].format(n=len(loaded)))
    for name in shown:
        table.add_column(w[name], no_wrap=True)
    for entry in loaded:
        q = entry.question
        prompt = Text(q.prompt.get(lang).strip().splitlines()[0])
        prompt.truncate(max(prompt_width, 0), overflow="ellipsis")
        table.add_row(*(q.id, q.topic, q.type, q.difficulty, prompt)[: len(shown)])
    out.print(table)


def bank_entry(entry: Any, lang: str) -> None:
    """One question with its answer, explanation and (for short) rubric, for an instructor."""
    q = entry.question
    w = words(lang)
    order = choice_order(q, None)
    out = console()
    out.print(question_panel(q, lang, order, _panel_title(q)))
    out.print(Text(f"{entry.file}:{entry.line}", style="dim"))
    if isinstance(q, ShortQuestion):
        out.print(Text(f"{w['model']}:", style="bold"), prose(f"  {q.model_answer.get(lang)}", hang=2))
        for point in q.rubric:
            out.print(prose(f"  [{point.weight:g}] {point.point.get(lang)}: {' | '.join(point.match.all())}", hang=4))
        for wrong in q.misconceptions:
            out.print(prose(f"  [-{wrong.penalty:g}] {wrong.claim.get(lang)}: {' | '.join(wrong.match.all())}", hang=4))
    else:
        shown = _shown_answer(q, answer_form(q), lang, order)
        out.print(prose(Text.assemble((f"{w['the_answer']}:", "bold"), shown), hang=5))
    out.print(Text(f"{w['explanation']}:", style="bold"), prompt_body(q.explanation.get(lang)))
