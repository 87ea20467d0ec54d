"""Line breaking for Chinese in Rich. Rich breaks lines only at spaces, so a run of Chinese (which
has none) that does not fit is pushed whole onto the next line and then cut: a line ends early after
"LayerNorm " and a bullet stands alone. Chinese may break between any two characters, except before
closing punctuation; Latin words and numbers stay whole unless longer than a line.
"""
from __future__ import annotations

import re

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.text import Text

_CJK_RANGE = "\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_CJK = re.compile(f"[{_CJK_RANGE}]")
# Punctuation that must not start a line: it sticks to the token before it.
_CLOSING = "，。、；：？！）」』》〉】”’,.;:?!)"
_TOKEN = re.compile(rf"\s+|[{_CJK_RANGE}][{_CLOSING}]*|[^\s{_CJK_RANGE}]+[{_CLOSING}]*")


def prose(text: str | Text, hang: int = 0) -> Text | Wrapped:
    """A renderable for text that may hold Chinese: Rich's own wrapping when it holds none.
    `hang`: continuation lines are indented by this many cells (bullets, lettered choices)."""
    text = Text(text) if isinstance(text, str) else text
    return Wrapped(text, hang) if _CJK.search(text.plain) else text


class Wrapped:
    def __init__(self, text: Text, hang: int = 0):
        self.text, self.hang = text, hang

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for line in wrap(self.text, max(options.max_width, self.hang + 2), self.hang):
            line.no_wrap, line.overflow = True, "fold"
            yield line

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Measurement:
        widest = max((cell_len(line) for line in self.text.plain.split("\n")), default=0)
        return Measurement(min(self.hang + 2, widest), widest)


def wrap(text: Text, width: int, hang: int = 0) -> list[Text]:
    """`text` (styles kept) as lines of at most `width` cells."""
    lines: list[Text] = []
    for paragraph in text.split("\n", allow_blank=True):
        lines += _wrap_paragraph(paragraph, width, hang)
    return lines


def _wrap_paragraph(paragraph: Text, width: int, hang: int) -> list[Text]:
    breaks: list[int] = []
    column = 0
    for token in _TOKEN.finditer(paragraph.plain):
        if token.group().isspace():
            column += cell_len(token.group())  # trailing spaces are trimmed at a break
            continue
        for start, cells in _pieces(token.start(), token.group(), width - hang):
            if column + cells > width and column > hang:
                breaks.append(start)
                column = hang
            column += cells
    lines = paragraph.divide(breaks) if breaks else [paragraph]
    out = []
    for index, line in enumerate(lines):
        line.rstrip()
        out.append(Text(" " * hang) + line if index and hang else line)
    return out


def _pieces(start: int, token: str, room: int):
    """(offset, cells) of a token, cut into pieces that fit `room` when it is longer than that."""
    if cell_len(token) <= room:
        yield start, cell_len(token)
        return
    for offset, char in enumerate(token):
        yield start + offset, cell_len(char)
