import sys, time, traceback
import torch
print("torch", torch.__version__, "cuda", torch.cuda.is_available(), flush=True)
from pathlib import Path
from grader import banks, submit
from grader.sandbox import Sandbox
sys.path.insert(0, "tests")
tasks = banks.load_paths([Path("questions/tasks")]).tasks
G = Path("tests/golden")
cases = [(G / c / "submission.py").read_text() for c in ("article-residual-block", "article-layernorm", "nan-output", "hidden-failure", "memory-limit", "timeout")]
names = ["article-rb", "article-ln", "nan-output", "hidden-failure", "memory-limit", "timeout"]
try:
    import test_submit as T
    for n in ("VAR_BIASED", "AUTOGRAD_FUNCTION", "FLOAT64_INSIDE", "EPS_OUTSIDE", "ONE_PASS", "FUSED"):
        cases.append(T.HEADER + getattr(T, n)); names.append(n)
except Exception:
    traceback.print_exc()
for device in ("cuda", "cpu"):
    t0 = time.time()
    with Sandbox(device=device) as sb:
        print(device, sb.layers(), f"ready {time.time()-t0:.2f}s", flush=True)
        for name, src in zip(names, cases):
            task = "residual-block" if "ResidualBlock" in src else "layernorm"
            t = time.time()
            try:
                r = submit.grade_source(src, "s.py", tasks[task], sb, device=device, deadline_s=8)
                bad = [c.name for c in r.checks if not c.passed]
                print(device, name, r.verdict, r.error and r.error.kind, f"{time.time()-t:.2f}s", len(bad), bad[:5], [p.id for p in r.pitfalls], flush=True)
            except Exception as exc:
                print(device, name, "EXC", type(exc).__name__, str(exc)[:800], flush=True)
