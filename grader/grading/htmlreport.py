"""The html report of `dlprep grade`: one self-contained file (inline CSS and SVG, no script, no
request to anywhere; a Content-Security-Policy says so to the browser too) that an instructor can
open or mail: the summary, a score histogram and the pitfalls ranked as bar charts, and each
submission's report. Every piece of text is escaped: a submission printing `<script>` or `</svg>`
shows those characters.
"""
from __future__ import annotations

from html import escape

from grader.grading import formats
from grader.grading.reports import OUTPUT_SHOWN, words
from grader.results import BatchResult, SubmissionResult, visible

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'; base-uri 'none'"
STYLE = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:60rem;padding:0 1rem;color:#1d232b}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}h3{font-size:1.05rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{padding:.2rem .6rem;border-bottom:1px solid #dde2e8;text-align:left;vertical-align:top}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.pass{color:#1a7f37;font-weight:600}.fail{color:#cf222e;font-weight:600}.error{color:#9a6700;font-weight:600}
.partial{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem 1rem}
.stats{display:flex;gap:2rem;flex-wrap:wrap}.stat b{display:block;font-size:1.6rem}
pre{background:#f6f8fa;padding:.6rem;overflow:auto;white-space:pre-wrap;word-break:break-word}
details{border:1px solid #dde2e8;border-radius:6px;padding:.4rem .8rem;margin:.5rem 0}summary{cursor:pointer}
svg text{font:12px system-ui,sans-serif;fill:#1d232b}.bar{fill:#4f7cac}.bar.top{fill:#1a7f37}.pit{fill:#cf6f2e}
"""
# Chart geometry, in SVG user units.
HIST_W, HIST_H, HIST_PAD = 560, 180, 28
PIT_ROW, PIT_LABEL, PIT_BAR = 22, 220, 300


def to_html(batch: BatchResult, lang: str = "en") -> str:
    w = words(lang)
    summary = batch.summary()
    count = summary["count"]
    rate = f"{100 * summary['passed'] / count:.0f}%" if count else "-"
    parts = [
        "<!DOCTYPE html>", f'<html lang="{escape(lang)}">', "<head>", '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_t(w['report'])}: {_t(batch.task)}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
        f"<h1>{_t(w['report'])}: {_t(batch.task)}</h1>",
    ]
    if batch.partial:
        parts.append(f'<p class="partial">{_t(w["partial"])}</p>')
    parts.append('<div class="stats">' + "".join(
        f'<div class="stat"><b>{_t(value)}</b>{_t(label)}</div>' for value, label in (
            (rate, w["pass_rate"]), (count, w["submissions"]), (summary["passed"], w["passed"]),
            (summary["failed"], w["failed"]), (summary["errors"], w["errors"]),
            (f"{summary['mean_score']:.1f} / {summary['max_score']:g}", w["mean"]))) + "</div>")
    parts += [f"<h2>{_t(w['histogram'])}</h2>", histogram_svg(batch, lang)]
    parts += [f"<h2>{_t(w['pitfalls'])}</h2>", pitfalls_svg(batch, lang), _pitfall_list(batch, lang)]
    parts += [f"<h2>{_t(w['submissions'])}</h2>", _overview(batch, lang)]
    for i, s in enumerate(batch.submissions):
        parts.append(_submission(i, s.name, s.result, lang))
    parts += ["</body>", "</html>"]
    return "\n".join(parts) + "\n"


def _t(text) -> str:
    """Text for html: controls written out (results.visible), then <, >, & and quotes escaped."""
    return escape(visible(str(text)), quote=True)


def histogram_svg(batch: BatchResult, lang: str) -> str:
    """One bar per tenth of the points; the bars' counts add up to the number of submissions."""
    bins = batch.histogram()
    top = max(bins, default=0) or 1
    width = (HIST_W - 2 * HIST_PAD) / len(bins)
    shapes = []
    for i, n in enumerate(bins):
        h = (HIST_H - 2 * HIST_PAD) * n / top
        x, y = HIST_PAD + i * width, HIST_H - HIST_PAD - h
        lo, hi = 100 * i // len(bins), 100 * (i + 1) // len(bins)
        cls = "bar top" if i == len(bins) - 1 else "bar"
        shapes.append(f'<rect class="{cls}" data-count="{n}" x="{x + 2:.1f}" y="{y:.1f}" width="{width - 4:.1f}" '
                      f'height="{h:.1f}"><title>{lo}-{hi}%: {n}</title></rect>')
        if n:
            shapes.append(f'<text x="{x + width / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">{n}</text>')
        shapes.append(f'<text x="{x + width / 2:.1f}" y="{HIST_H - HIST_PAD + 14:.1f}" '
                      f'text-anchor="middle">{lo}%</text>')
    label = _t(words(lang)["histogram"])
    return (f'<svg class="histogram" xmlns="http://www.w3.org/2000/svg" width="{HIST_W}" height="{HIST_H}" '
            f'viewBox="0 0 {HIST_W} {HIST_H}" role="img" aria-label="{label}">' + "".join(shapes) + "</svg>")


def pitfalls_svg(batch: BatchResult, lang: str) -> str:
    """A bar per pitfall, longest first: how many submissions have it."""
    ranked = batch.pitfall_counts()
    count = max(len(batch.submissions), 1)
    height = PIT_ROW * max(len(ranked), 1) + 4
    width = PIT_LABEL + PIT_BAR + 60
    rows = []
    for i, (p, n) in enumerate(ranked):
        y = i * PIT_ROW + 2
        length = PIT_BAR * n / count
        rows.append(f'<text x="{PIT_LABEL - 6}" y="{y + 15}" text-anchor="end">{_t(p.id)}</text>')
        rows.append(f'<rect class="pit" data-pitfall="{_t(p.id)}" data-count="{n}" x="{PIT_LABEL}" y="{y + 3}" '
                    f'width="{length:.1f}" height="{PIT_ROW - 6}"><title>{_t(p.title)}: {n}</title></rect>')
        rows.append(f'<text x="{PIT_LABEL + length + 6:.1f}" y="{y + 15}">{n}</text>')
    if not ranked:
        rows.append(f'<text x="4" y="16">{_t(words(lang)["none"])}</text>')
    label = _t(words(lang)["pitfalls"])
    return (f'<svg class="pitfalls" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label="{label}">' + "".join(rows) + "</svg>")


def _pitfall_list(batch: BatchResult, lang: str) -> str:
    ranked = batch.pitfall_counts()
    if not ranked:
        return ""
    items = "".join(f"<li><b>{_t(p.id)}</b> ({n}): {_t(p.title)}. {_t(p.explanation)}</li>" for p, n in ranked)
    return f"<ol>{items}</ol>"


def _overview(batch: BatchResult, lang: str) -> str:
    w = words(lang)
    rows = [f"<tr><th>{_t(w['name'])}</th><th>{_t(w['verdict'])}</th><th class=\"num\">{_t(w['score'])}</th>"
            f"<th>{_t(w['named'])}</th></tr>"]
    for i, s in enumerate(batch.submissions):
        r = s.result
        named = r.error.kind if r.error else ", ".join(p.id for p in r.pitfalls)
        rows.append(f'<tr><td><a href="#s{i}">{_t(s.name)}</a></td><td class="{r.verdict}">'
                    f'{_t(w["verdicts"][r.verdict])}</td><td class="num">{r.score:g} / {r.max_score:g}</td>'
                    f"<td>{_t(named)}</td></tr>")
    return "<table>" + "".join(rows) + "</table>"


def _submission(i: int, name: str, r: SubmissionResult, lang: str) -> str:
    w = words(lang)
    head = (f'<summary><b>{_t(name)}</b> <span class="{r.verdict}">{_t(w["verdicts"][r.verdict])}'
            f"</span> {r.score:g} / {r.max_score:g}</summary>")
    body = [f"<p>{_t(w['task'])}: {_t(r.task)}; {_t(w['file'])} {_t(r.file)}</p>"]
    if r.error:
        body.append(f'<p class="error">{_t(w["error"])}: {_t(r.error.kind)}</p><pre>{_t(r.error.message)}</pre>')
    if r.checks:
        rows = [f"<tr><th></th><th>{_t(w['check'])}</th><th class=\"num\">{_t(w['abs'])}</th>"
                f"<th class=\"num\">{_t(w['rel'])}</th></tr>"]
        for c in r.checks:
            mark = '<span class="pass">✓</span>' if c.passed else '<span class="fail">✗</span>'
            hidden = f" ({_t(w['hidden'])})" if c.hidden else ""
            rows.append(f"<tr><td>{mark}</td><td>{_t(c.name)}{hidden}</td><td class=\"num\">{_err(c.max_abs_err)}</td>"
                        f"<td class=\"num\">{_err(c.max_rel_err)}</td></tr>")
        body.append("<table>" + "".join(rows) + "</table>")
        for c in r.checks:
            if not c.passed:
                body.append(f"<p><b>✗ {_t(c.name)}</b></p><pre>{_t(formats.check_output(c))}</pre>")
    if r.pitfalls:
        items = "".join(
            f"<li><b>[{_t(p.severity)}] {_t(p.id)}</b>: {_t(p.title)}. {_t(p.explanation)}"
            + (f"<br>{_t(w['fix'])}: <code>{_t(p.fix)}</code>" if p.fix else "")
            + (f"<br>{_t(w['evidence'])}: {_t(p.evidence)}" if p.evidence else "") + "</li>" for p in r.pitfalls)
        body.append(f"<h3>{_t(w['pitfalls'])}</h3><ul>{items}</ul>")
    if r.output.strip():
        shown = r.output[:OUTPUT_SHOWN]
        if len(r.output) > OUTPUT_SHOWN:
            shown += "\n" + w["clipped"].format(n=len(r.output) - OUTPUT_SHOWN)
        body.append(f"<h3>{_t(w['output'])}</h3><pre>{_t(shown)}</pre>")
    return f'<details id="s{i}">{head}{"".join(body)}</details>'


def _err(value: float | None) -> str:
    return "-" if value is None else f"{value:.2e}"
