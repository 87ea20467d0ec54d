"""One spelling for what learners write many ways, so a rubric's matcher meets the answer halfway.

Answers and plain matchers go through the same `normalise`: a Markdown table read as one sentence a
cell, its subject first (`tables`; one pasted onto a single line too), bold and italic markers
dropped, width and case folded (ＬＮ, LN),
Unicode and LaTeX-like math spelled out (√ σ² ε, \\sqrt{\\sigma^2+\\epsilon} -> sqrt(sigma^2+eps)),
one-letter subscripts dropped (x_l, x_{l+1}, xₗ, dx_l, σ²_{b,t} -> x, x, x, dx, sigma^2: the rubric
speaks of x), a sum's bounds dropped (Σ_{i=l}^{L-1} -> sum), code squares spelled as powers
(x.pow(2), x**2 -> x^2), spaces around operators removed (x + F(x) -> x+f(x)), a small constant
added in a formula named (var + 1e-5 -> var+eps), code's `self.` dropped, w.r.t. -> wrt, formulas said aloud
(x plus F of x -> x+f(x)), abbreviations without
their dots (et al., e.g.), British spellings and a few domain synonyms folded (normalisation, layer
norm, pre-norm, warm up, error signal, 规范化, 误差信号 -> normalization, layernorm, pre-ln, warmup,
gradient, 归一化, 梯度). A regex matcher sees only the symbol table (`symbols`), since its text is syntax, and is
written against the folded forms listed in `CANONICAL`.
"""
from __future__ import annotations

import re
import unicodedata

_SUPERSCRIPT = str.maketrans({"⁰": "^0", "¹": "^1", "²": "^2", "³": "^3", "⁴": "^4", "⁻": "^-", "ᵀ": "^t"})
_SUBSCRIPT = {c: "_" + s for c, s in zip("₀₁₂₃₄₅₆₇₈₉ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ", "0123456789aehijklmnoprstuvx")}
_SUBSCRIPT_TABLE = str.maketrans(_SUBSCRIPT)

_LATEX_WORDS = {
    "sigma": "σ", "mu": "μ", "epsilon": "ε", "varepsilon": "ε", "gamma": "γ", "beta": "β", "alpha": "α",
    "lambda": "λ", "partial": "∂", "nabla": "∇", "sum": "∑", "prod": "∏", "cdot": "*", "times": "*", "odot": "*",
    "circ": " o ", "implies": "->", "rightarrow": "->", "leftarrow": "<-", "neq": "!=", "ne": "!=",
    "lvert": "|", "rvert": "|", "lVert": "||", "rVert": "||", "vert": "|", "Vert": "||",
    "approx": "≈", "leq": "≤", "geq": "≥", "le": "≤", "ge": "≥", "to": "->", "infty": "∞",
}
_LATEX = re.compile(r"\\(partial|nabla|cdot|times) ?|\\([a-z]+)", re.IGNORECASE)  # \partial y -> dy
_LATEX_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_LATEX_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_LATEX_DROP = re.compile(r"\\(?:left|right|bigg|big|,|;|!| )")
_LATEX_TEXT = re.compile(r"\\(?:mathrm|text|mathbf|mathit|mathcal|boldsymbol|operatorname|textrm)\s*\{([^{}]*)\}")

# Symbols as words, in answers and in every matcher (regexes included: none of these is syntax).
SYMBOLS = {
    "√": "sqrt", "∑": "sum ", "Σ": "sum ", "∏": "prod ", "Π": "prod ", "σ": "sigma", "μ": "mu", "ε": "eps", "ϵ": "eps", "γ": "gamma", "β": "beta",
    "α": "alpha", "λ": "lambda", "τ": "tau", "θ": "theta", "η": "eta", "δ": "delta", "Δ": "delta", "ρ": "rho", "ℓ": "l", "∂": "d", "∇": "grad ", "·": "*", "⋅": "*", "×": "*", "∗": "*", "⊙": "*", "∘": " o ", "−": "-", "–": "-",
    "→": "->", "⟶": "->", "⇒": "->", "⟹": "->", "⇔": "<->", "←": "<-", "≠": "!=", "≡": "=", "≔": "=", "‖": "||", "ℒ": "l", "“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"',
    "『": '"', "』": '"',
}
_SYMBOL_TABLE = str.maketrans(SYMBOLS)

# Folded spellings (answers and plain matchers; regexes are written against the right-hand side).
CANONICAL = [
    (r"\bepsilon\b", "eps"),
    # RMSNorm's full name, before "layer normalization" folds (the root mean square stays said).
    (r"\broot[- ]mean[- ]square (?:layer[- ]?)?normali[sz]ations?\b", "root mean square rmsnorm"),
    (r"均方根(?:层)?(?:归一化|规范化|标准化)", "均方根rmsnorm"),
    (r"\bunity\b", "1"),  # "singular values below unity"
    (r"\blayer[- ]?normali[sz]ations?\b|\blayer[- ]norms?\b|\blayernorms?\b", "layernorm"),
    (r"\bbatch[- ]?normali[sz]ations?\b|\bbatch[- ]norms?\b|\bbatchnorms?\b", "batchnorm"),
    (r"\brms[- ]norms?\b|\brmsnorms?\b", "rmsnorm"),
    (r"\bpre[- ]?(?:ln|layernorm|norm)\b", "pre-ln"),
    (r"\bpost[- ]?(?:ln|layernorm|norm)\b", "post-ln"),
    (r"\bwarm[- ]?ups?\b", "warmup"),
    (r"\blearning[- ]rates?\b", "lr"),
    (r"\bgrads\b", "gradients"), (r"\bgrad\b(?!\()", "gradient"),
    # What learners call the gradient in words: "the error signal reaches the first layers".
    (r"\b(?:training|error|learning|gradient|backward|backprop(?:agation)?) signals\b", "gradients"),
    (r"\b(?:training|error|learning|gradient|backward|backprop(?:agation)?) signal\b", "gradient"),
    (r"(?:训练|误差|学习|梯度|反向|反传)信号", "梯度"),
    (r"\b(normal|initial|regular|standard|stabil|minim|maxim|optim|recogn|parameter|summar|general|"
     r"central|util|real|visual|random|vector)is(e|ed|es|ing|ation|ations|er|ers)\b", r"\1iz\2"),
    (r"\bbehaviour", "behavior"), (r"\bcentre", "center"), (r"\bcentring", "centering"),
    (r"规范化", "归一化"), (r"批量归一化|批标准化", "批归一化"), (r"层标准化", "层归一化"), (r"热身", "预热"), (r"定心", "中心化"),
]
_CANONICAL = [(re.compile(pattern, re.ASCII), repl) for pattern, repl in CANONICAL]  # \b beside Chinese too

# A one-letter name's subscript: x_l, x_{l+1}, h_t -> x, x, h (max_norm and ln_f keep theirs).
# Also a derivative's (dx_l), a power's (sigma^2_(b,t)) and a sum's or product's bounds (sum_(i=l)^(l-1) f -> sum f).
_SUB = r"_(?:\{[^{}]{0,12}\}|\([^()]{0,12}\)|[a-z0-9]+\b|[a-z0-9])"
_ONE_LETTER_SUBSCRIPT = re.compile(rf"(?<![a-z0-9_\\])(d?[a-z]|mu|sigma|eps|gamma|beta|alpha|lambda|[a-z]+\^[a-z0-9])(?<!\bdd){_SUB}", re.ASCII)
_BOUNDS = re.compile(rf"\b(sum|prod) ?{_SUB}(?:\^(?:\([^()]{{0,12}}\)|[a-z0-9]+))? ?", re.ASCII)
# Code spellings of a square: x.pow(2), x**2, x.square() -> x^2.
_CODE_POWER = re.compile(r"\.pow\((\d)\)|\*\*\s?(\d)|\.square\(\)", re.ASCII)
_OPERATOR_SPACE = re.compile(r"[ \t]*(->|[+*/=^<>|≈≤≥])[ \t]*")
# A spaced minus between math tokens ("x - mean", "h(x) - x"); a spaced dash between words is a pause.
_MINUS_SPACE = re.compile(r"(?:(?<![a-z0-9][a-z0-9])(?<=[a-z0-9])|(?<=\)))[ \t]+-[ \t]+(?=[\w(])", re.ASCII)
# A small constant added in a formula is its epsilon: var + 1e-5 -> var+eps.
_ADDED_EPSILON = re.compile(r"\+(?:1e-0?\d{1,2}|10\^-\d{1,2})\b", re.ASCII)
_DASH = re.compile(r"[ \t]+(?:--?|—|–)[ \t]+|—")
_PAREN_SPACE = re.compile(r"\(\s+|\s+\)")
_CJK = r"[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]"
# Whitespace next to a CJK character carries no meaning (YAML's folded lines, "每个 token").
_SPACE_BY_CJK = re.compile(rf"(?<={_CJK})[ \t]+(?=[\w(]|{_CJK})|(?<=[\w)])[ \t]+(?={_CJK})")
_HAS_CJK = re.compile(r"[\u4e00-\u9fff]")
# Abbreviations lose their dots, so "He et al. observed" is one sentence.
_ABBREVIATION = re.compile(r"\b(?:et al|e\.g|i\.e|vs|cf|approx|resp|fig|eq|sec)\.(?=\s|,|$)", re.ASCII)


def has_cjk(text: str) -> bool:
    return _HAS_CJK.search(text) is not None


def symbols(text: str) -> str:
    """Only the symbol table: what a regex matcher's source goes through."""
    return text.translate(_SUPERSCRIPT).translate(_SUBSCRIPT_TABLE).translate(_SYMBOL_TABLE)


def _latex(text: str) -> str:
    if "\\" not in text:
        return text
    text = _LATEX_TEXT.sub(r"\1", text)
    text = re.sub(r"([_^])\{([^{}]{0,12})\}", r"\1(\2)", text)  # x_{l+1}, ^{(l)}: round, so \sqrt{...} can nest them
    text = re.sub(r"\^\{(\w{1,3})\}", r"^\1", text)  # ^{2}: one group fewer to nest
    for _ in range(3):  # \frac{\sqrt{a}}{b}: inner groups first
        text = _LATEX_SQRT.sub(r"sqrt(\1)", text)
        text = _LATEX_FRAC.sub(r"(\1)/(\2)", text)
    text = _LATEX_DROP.sub("", text).replace("\\|", "||")
    return _LATEX.sub(lambda m: _LATEX_WORDS.get(m.group(1) or m.group(2), _LATEX_WORDS.get((m.group(1) or m.group(2)).lower(), m.group(2) or "")), text)


# A Markdown table: a header row, a separator row (|---|:--:|), then the rows.
_TABLE_ROW = re.compile(r"^\s*\|?(.*?)\|?\s*$")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)+\|?\s*$")
# A header's first cell that names no subject: the subjects are then the other columns' heads
# ("| | Post-LN | Pre-LN |", "| Aspect | LayerNorm | BatchNorm |").
_ASPECT_HEAD = re.compile(r"^(?:|aspect|aspects|feature|features|property|properties|dimension|criterion|criteria|"
                          r"item|point|category|comparison|difference|differences|what|"
                          r"方面|对比项|对比|比较|比较项|特性|特点|项目|维度|区别|差异|项)$", re.IGNORECASE)
# A cell that answers its row's aspect with no or yes first ("no (works at batch size 1)", "是，…").
# "none for identity shortcuts" answers the aspect; "no learnable gamma/beta" (a "Problem" cell) says
# what is missing in its own words, so a bare "no" or 没有 answers only when nothing but a comment follows.
_CELL_NO = re.compile(r"^(?:(?:none|n/a|not needed|-|—|–|✗|✘|×|❌|无|否|不需要|不用)(?=$|[\s,;:.(，；：。（])"
                      r"|(?:no|没有|不)(?=$|\s*[,;:.(，；：。（]))", re.IGNORECASE)
_CELL_YES = re.compile(r"^(?:yes|✓|✔|✅|有|是|需要)(?=$|[\s,;:.(，；：。（])", re.IGNORECASE)
_ASPECT_VERB = re.compile(r"^(?:depends|needs|requires|uses|has|have|is|are|works|learns|keeps|subtracts|centers|"
                          r"centres|scales|changes|differs|matters)\b", re.IGNORECASE)


_BOLD = re.compile(r"(?<![\w)\]])\*\*(?=[^\s*\d])|(?<=[^\s*])\*\*(?![\w(])")  # hugging words: x ** 2 and x**2 stay
# *training* set: single asterisks around words, hugging them (a*b, x * y and *args stay).
_ITALIC = re.compile(r"(?<![\w*\\])\*(?=[A-Za-z])([^*\n]{1,80}?)(?<=[A-Za-z.])\*(?![\w*])")


def tables(text: str) -> str:
    """A Markdown table as sentences, one line a cell, each naming its subject first: a comparison
    ("| | LayerNorm | BatchNorm |" over rows of aspects) gives "LayerNorm: statistics over the
    features of one sample."; a table of things by attributes ("| Variant | Formula |" over rows of
    variants) gives "Post-LN: formula LN(x + F(x))." A cell of "no", "none" or "-" says "no <the
    row's aspect>", one of "yes" or a tick says the aspect."""
    if "|" not in text or "-" not in text:
        return text
    lines = "\n".join(map(_unflatten_table, text.split("\n"))).split("\n")
    out, i = [], 0
    budget = 2 * len(text) + 2000  # what the sentences may add: a head repeated per row stays bounded
    while i < len(lines):
        if i + 1 < len(lines) and lines[i].count("|") >= 1 and _TABLE_RULE.match(lines[i + 1]):
            head = _cells(lines[i])
            j = i + 2
            rows = []
            while j < len(lines) and "|" in lines[j] and lines[j].strip():
                rows.append(_cells(lines[j]))
                j += 1
            sentences = _table_sentences(head, rows) if len(head) >= 2 and rows else []
            added = sum(map(len, sentences))
            if sentences and added <= budget:
                budget -= added
                out += sentences
                i = j
                continue
        out.append(lines[i])
        i += 1
    return "\n".join(out)


_INLINE_RULE = re.compile(r"\|(?:\s*:?-{3,}:?\s*\|){2,}")


def _unflatten_table(line: str) -> str:
    """A table pasted onto one line ("| | A | B | |---|---|---| | row | a | b | trailing text"), its
    rows back on lines of their own: the rule gives the number of columns, and each row is that many
    cells after an empty one (the "| |" between two rows). Anything else is left as it is."""
    rule = _INLINE_RULE.search(line)
    if rule is None or _TABLE_RULE.match(line):
        return line
    n = rule.group().count("|") - 1
    head = line[: rule.start()].split("|")
    if len(head) < n + 1 or head[-1].strip():
        return line
    cells = line[rule.end():].split("|")
    rows, i = [], 0
    while i + n < len(cells) and not cells[i].strip():
        rows.append(cells[i + 1 : i + 1 + n])
        i += n + 1
    if not rows:
        return line
    before, header = "|".join(head[: -n - 1]), head[-n - 1 : -1]
    rest = "|".join(cells[i:]).strip()
    table = ["|" + "|".join(header) + "|", "|" + "---|" * n] + ["|" + "|".join(r) + "|" for r in rows]
    return "\n".join(([before.strip()] if before.strip() else []) + table + ([rest] if rest else []))


def _cells(line: str) -> list[str]:
    inner = _TABLE_ROW.match(line).group(1)
    return [c.strip().strip("*_`").strip() for c in inner.split("|")]


LABEL_MAX = 60  # a head or row label repeated in every sentence of its column or row


def _table_sentences(head: list[str], rows: list[list[str]]) -> list[str]:
    # Two columns ("| Item | What to do |"): each row says its second cell of its first.
    by_column = len(head) > 2 and _ASPECT_HEAD.match(head[0]) is not None  # the subjects head the columns
    sentences = []
    for row in rows:
        label = row[0] if row else ""
        for j in range(1, min(len(head), len(row))):
            cell = row[j]
            if not cell:
                continue
            if len(head) == 2:
                subject, aspect = label, ""
            else:
                subject, aspect = (head[j], label) if by_column else (label, head[j])
            said = _cell_said(aspect[:LABEL_MAX], cell)
            sentences.append(f"{subject[:LABEL_MAX]}: {said}." if subject else f"{said}.")
    return sentences


def _cell_said(aspect: str, cell: str) -> str:
    """The aspect as the cell answers it: "no running stats", "不依赖 batch 大小 (…)", "depends on ..."."""
    if not aspect:
        return cell
    whether = re.match(r"^(?:是否|是不是|有没有|要不要)", aspect)
    bare = aspect[whether.end():] if whether else aspect
    for answer, negative in ((_CELL_NO, True), (_CELL_YES, False)):
        found = answer.match(cell)
        if found:
            rest = cell[found.end():].strip(" ,;:.，；：。")
            if re.fullmatch(r"[(（][^()（）]*[)）]", rest):
                rest = rest[1:-1]
            if not negative:
                said = bare
            elif has_cjk(bare):
                said = ("不" if whether else "没有") + bare
            else:
                said = ("not " if _ASPECT_VERB.match(bare) else "no ") + bare
            return f"{said} ({rest})" if rest else said
    return f"{aspect} {cell}"


_LIST_MARK = re.compile("[\u2460-\u249b\u24ea-\u24ff\u2776-\u2793]")


def normalise(text: str) -> str:
    """The folded form of an answer or a plain matcher (see the module docstring)."""
    text = symbols(_latex(tables(text)))
    text = _BOLD.sub("", text)  # **Left out:** -> Left out: (x**2 stays a power)
    text = _ITALIC.sub(r"\1", text)
    # "① dim 错了 ② 没有 gamma ③ …": a circled number starts a list item, a sentence of its own
    # (NFKC would make it a bare digit inside one long sentence).
    text = _LIST_MARK.sub("\n", text)
    text = unicodedata.normalize("NFKC", text).casefold()
    text = text.translate(_SYMBOL_TABLE)  # NFKC may have produced some (full-width forms)
    text = text.replace("{", "(").replace("}", ")")
    text = re.sub(r"\^\((\w{1,3})\)", r"^\1", text)  # ^{2} -> ^(2) -> ^2
    text = _BOUNDS.sub(r"\1 ", text)
    text = _ONE_LETTER_SUBSCRIPT.sub(r"\1", text)
    text = _CODE_POWER.sub(lambda m: "^" + (m.group(1) or m.group(2) or "2"), text)
    text = re.sub(r"\((\w{1,6})\)/\((\w{1,6})\)", r"\1/\2", text)  # \frac{dy}{dx} -> (dy)/(dx) -> dy/dx
    # A line break ends a sentence (a list item, a line of code); other runs of space are one space.
    text = re.sub(r"[^\S\n]*\n\s*", "\n", text)
    text = re.sub(r"[^\S\n]+", " ", text).strip()
    text = _ABBREVIATION.sub(lambda m: m.group().replace(".", ""), text)
    text = re.sub(r"\bw\.r\.t\.?", "wrt", text)
    text = re.sub(r"\bself\.(?=[a-z_])", "", text)  # code: self.ln1(x + self.attn(x)) -> ln1(x+attn(x))
    # Said aloud: "x plus F of x" -> x+f(x), "I plus dF/dx" -> i+df/dx (one-letter names only).
    text = re.sub(r"\b([fgh]) of ([a-z])\b", r"\1(\2)", text)
    text = re.sub(r"\b([a-z1]) plus (?=[a-z]{1,2}(?:\(|/|\b))", r"\1+", text)
    text = _SPACE_BY_CJK.sub("", text)
    text = _OPERATOR_SPACE.sub(r"\1", text)
    text = _MINUS_SPACE.sub("-", text)
    text = _ADDED_EPSILON.sub("+eps", text)
    text = _DASH.sub(", ", text)
    text = _PAREN_SPACE.sub(lambda m: m.group().strip(), text)
    for pattern, repl in _CANONICAL:
        text = pattern.sub(repl, text)
    return text
