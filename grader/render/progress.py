"""Rich rendering of the learner's progress: `dlprep stats` and `dlprep history`."""
from __future__ import annotations

from datetime import datetime, timedelta

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from grader.practice.progress import Stats

_WORDS = {
    "en": {"topic": "Topic", "answers": "Answers", "accuracy": "Accuracy", "cards": "Cards",
           "recall": "Recall now", "due": "Due in the next 7 days", "today": "today",
           "streak": "Streak: {n} day(s)", "weakest": "Weakest questions", "pitfalls": "Mistakes you keep making",
           "nothing": "Nothing recorded yet: answer some questions (`dlprep quiz` or `dlprep review`).",
           "next": "Next card due: {when}", "when": "When", "what": "What", "result": "Result",
           "store": "Store: {path}", "none_due": "No card is scheduled yet.",
           "nothing_due": "Nothing is due now. The next card is due {when}.",
           "nothing_yet": "Nothing to review: no card is scheduled and today's new questions are done.",
           "queue": "{due} due, {new} new"},
    "zh": {"topic": "主题", "answers": "作答数", "accuracy": "正确率", "cards": "卡片",
           "recall": "当前记忆率", "due": "未来 7 天到期", "today": "今天",
           "streak": "连续练习：{n} 天", "weakest": "最薄弱的题目", "pitfalls": "反复出现的错误",
           "nothing": "还没有记录：先答几道题（`dlprep quiz` 或 `dlprep review`）。",
           "next": "下一张卡片到期：{when}", "when": "时间", "what": "内容", "result": "结果",
           "store": "记录文件：{path}", "none_due": "还没有安排任何卡片。",
           "nothing_due": "现在没有到期的题目。下一张卡片在 {when} 到期。",
           "nothing_yet": "没有可复习的题目：没有安排中的卡片，今天的新题也已做完。",
           "queue": "{due} 道到期，{new} 道新题"},
}
BAR_CELLS = 30


def _w(lang: str) -> dict[str, str]:
    return _WORDS["zh" if lang == "zh" else "en"]


def local(moment: datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def nothing_due(next_due: datetime | None, lang: str) -> str:
    w = _w(lang)
    return w["nothing_due"].format(when=local(next_due)) if next_due else w["nothing_yet"]


def queue_line(due: int, new: int, lang: str) -> str:
    return _w(lang)["queue"].format(due=due, new=new)


def stats(data: Stats, lang: str, now: datetime) -> None:
    w = _w(lang)
    out = Console(highlight=False)
    if not data.answers and not data.submissions:
        out.print(Text(w["nothing"]))
        out.print(Text(w["store"].format(path=data.store), style="dim"))
        return
    table = Table(title=None)
    for name in ("topic", "answers", "accuracy", "cards", "recall"):
        table.add_column(w[name], justify="left" if name == "topic" else "right")
    for row in data.topics:
        recall = f"{row.retrievability:.0%}" if row.retrievability is not None else "-"
        table.add_row(row.topic, str(row.answers), f"{row.accuracy:.0%}", str(row.cards), recall)
    out.print(table)
    out.print(Text(w["due"], style="bold"))
    out.print(due_chart(data.due_next_days, now, lang))
    out.print(Text(w["streak"].format(n=data.streak_days)))
    out.print(Text(w["next"].format(when=local(data.next_due)) if data.next_due else w["none_due"]))
    if data.weakest:
        out.print(Text(w["weakest"], style="bold"))
        for item in data.weakest:
            out.print(Text(f"  {item['id']}  {item['retrievability']:.0%} ({w['accuracy']} {item['accuracy']:.0%})"))
    if data.pitfalls:
        out.print(Text(w["pitfalls"], style="bold"))
        for pitfall, count in data.pitfalls[:5]:
            out.print(Text(f"  {pitfall}  ×{count}"))
    out.print(Text(w["store"].format(path=data.store), style="dim"))


def due_chart(counts: list[int], now: datetime, lang: str) -> Group:
    """One bar per local day; bars scale to the busiest day."""
    top = max(counts) or 1
    day = now.astimezone().date()
    rows = []
    for offset, count in enumerate(counts):
        label = _w(lang)["today"] if offset == 0 else (day + timedelta(days=offset)).strftime("%a %m-%d")
        bar = "█" * round(BAR_CELLS * count / top) if count else ""
        rows.append(Text.assemble((f"  {label:<10}", "dim"), (bar, "cyan"), f" {count}"))
    return Group(*rows)


def history(rows: list[dict], lang: str) -> None:
    w = _w(lang)
    out = Console(highlight=False)
    if not rows:
        out.print(Text(w["nothing"]))
        return
    table = Table()
    for name in ("when", "what", "result"):
        table.add_column(w[name])
    for row in rows:
        when = local(datetime.fromisoformat(row["at"]))
        if row["kind"] == "answer":
            result = f"{row['score']:.0%}"
        else:
            score = f" {row['score']:g}/{row['max_score']:g}" if row["score"] is not None and row["max_score"] else ""
            pitfalls = f" ({', '.join(row['pitfalls'])})" if row["pitfalls"] else ""
            result = f"{row['verdict']}{score}{pitfalls}"
        table.add_row(when, Text(f"{row['kind']}: {row['id']}"), Text(result))
    out.print(table)
