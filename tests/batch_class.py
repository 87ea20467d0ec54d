"""A generated class of LayerNorm submissions for `dlprep grade` tests and benchmarks/grade_throughput.py:
correct and buggy styles (tests/redteam/layernorm), hostile ones (tests/hostile, attacks left in),
broken files, folder submissions (nested, with hidden folders, with two candidates, empty) and
student-chosen names a report must survive (a spreadsheet formula, html, a newline, a duplicate)."""
from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent
REDTEAM = TESTS / "redteam" / "layernorm"
HOSTILE = TESTS / "hostile"

CORRECT = ["correct--centered-pow-mean", "correct--var-mean-correction0", "correct--g-b-names",
           "correct--keepdim-false-unsqueeze", "correct--debug-prints", "correct--einsum-flatten"]
BUGGY = ["unbiased-variance--correction1", "unbiased-variance--std-positional", "eps-outside-sqrt--var-sqrt-plus-eps",
         "missing-eps--std-biased", "wrong-normalized-dims--dim0", "extra-activation--gelu",
         "missing-affine--no-affine-flag", "modifies-input--sub-assign", "wrong-eps--bert-default-1e-12",
         "unbiased-variance+eps-outside-sqrt--std-plus-eps"]
# Fast to fail: they end in well under a second (the slow ones, loops and sleeps, cost a deadline).
HOSTILE_FAST = ["fork_bomb", "exit_at_import", "segfault", "tcp_socket", "fake_verdict", "read_reference",
                "write_home", "patch_allclose", "os_exit_in_forward", "nan_outputs", "ptrace_parent"]
HOSTILE_SLOW = ["loop_at_import"]
PRINTS_HTML = '''print("<script>alert(1)</script></svg>]]> ``` <!-- & -->")
''' + (REDTEAM / "correct--centered-pow-mean.py").read_text(encoding="utf-8")


def source(kind: str, name: str) -> str:
    folder = REDTEAM if kind != "hostile" else HOSTILE
    return (folder / f"{name}.py").read_text(encoding="utf-8")


# Of every ten submissions: five correct, three buggy, two hostile (or buggy, without hostile ones).
MIX = ("correct", "buggy", "correct", "hostile", "correct", "buggy", "correct", "buggy", "hostile", "correct")


def submissions(n: int, *, hostile: bool = True, slow: bool = False) -> list[tuple[str, str]]:
    """n (file name, source) pairs in the class mix, each style's files taken in turn and made
    distinct by a comment (so that no two share a cache entry); with `hostile`, every fast-failing
    hostile file once more after them."""
    names = {"correct": CORRECT, "buggy": BUGGY, "hostile": HOSTILE_FAST}
    used = {kind: 0 for kind in names}
    picked = []
    for i in range(n):
        kind = MIX[i % len(MIX)]
        kind = "buggy" if kind == "hostile" and not hostile else kind
        name = names[kind][used[kind] % len(names[kind])]
        used[kind] += 1
        picked.append((f"s{i:03d}-{name}.py", f"# student {i}\n" + source(kind, name)))
    if hostile:
        picked += [(f"h-{name}.py", source("hostile", name)) for name in HOSTILE_FAST]
    if slow:
        picked += [(f"h-{name}.py", source("hostile", name)) for name in HOSTILE_SLOW]
    return picked


def write_class(root: Path, n: int = 90, *, slow: bool = False) -> list[Path]:
    """A class under root/section-a (files, folders, odd names) and root/section-b (a duplicate
    name); returns the PATHs to grade."""
    a, b = root / "section-a", root / "section-b"
    a.mkdir(parents=True)
    b.mkdir()
    for name, text in submissions(n, slow=slow):
        (a / name).write_text(text, encoding="utf-8")
    correct = source("correct", CORRECT[0])
    odd = {"=HYPERLINK(\"x\")": correct, "<b>bold<\\b> & co": PRINTS_HTML, "new\nline": correct,
           "王小明": source("buggy", BUGGY[0]), "-minus": "class LayerNorm(:\n"}
    for name, text in odd.items():
        (a / f"{name}.py").write_text(text, encoding="utf-8")
    (a / "latin1.py").write_bytes("# caf\xe9\nclass LayerNorm: pass\n".encode("latin-1"))
    (a / "README.md").write_text("not a submission", encoding="utf-8")
    (a / ".hidden.py").write_text(correct, encoding="utf-8")
    nested = a / "folder-student" / "src" / "model"
    nested.mkdir(parents=True)
    (nested / "layernorm.py").write_text(correct, encoding="utf-8")
    (a / "folder-student" / "src" / "util.py").write_text("HELPER = 1\n", encoding="utf-8")
    (a / "folder-student" / ".git").mkdir()
    (a / "folder-student" / ".git" / "old.py").write_text(correct, encoding="utf-8")  # hidden: never a candidate
    two = a / "two-candidates"
    two.mkdir()
    (two / "v1.py").write_text(correct, encoding="utf-8")
    (two / "v2.py").write_text(correct, encoding="utf-8")
    (a / "empty-folder").mkdir()
    (b / "s000-correct--centered-pow-mean.py").write_text("# a different student, the same name\n" + correct,
                                                          encoding="utf-8")
    return [a, b]
