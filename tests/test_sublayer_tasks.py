"""Module-valued constructor arguments and dropout checked by properties of any mask (issue 19),
through the real child and judge, on the pre- and post-norm residual sublayer tasks.

The tasks' pitfall cases and alternatives are in tests/pitfall_cases/ (tests/test_pitfalls.py), their
proofs (reference passes, every mutant caught and named, for any seed) in tests/test_mutation.py, the
hostile routes around the mask record in tests/hostile/ (tests/test_hostile.py).
"""
from __future__ import annotations

import copy
import math
import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from grader.bank.taskspec import ModuleArg, TaskFile
from grader.grading.submit import grade_source

ROOT = Path(__file__).resolve().parent.parent
CASES = Path(__file__).parent / "pitfall_cases"
PRE_DOC = yaml.safe_load((ROOT / "questions" / "tasks" / "prenorm-residual.yaml").read_text(encoding="utf-8"))
FEED_FORWARD = "grader.references.sublayers:FeedForward"


def _doc(**change) -> dict:
    doc = copy.deepcopy(PRE_DOC)
    doc["task"].update(change)
    return doc


# -- the task file: module arguments, the dropout site, the families' build template (no torch) --------
def test_a_module_argument_is_parsed_shown_and_sent_as_json():
    spec = TaskFile.model_validate(PRE_DOC).task
    (sublayer,) = spec.build.module_args()
    assert isinstance(sublayer, ModuleArg) and sublayer.name == "sublayer" and sublayer.module == FEED_FORWARD
    assert spec.build.call(spec.class_name) == "PreNormResidual(16, FeedForward(16), 0.1)"
    assert spec.module_refs() == [FEED_FORWARD]
    again = TaskFile.model_validate({"task": spec.model_dump(mode="json")}).task  # what a job carries
    assert again == spec and isinstance(again.build.args[1], ModuleArg)
    assert spec.dropout.p(spec.build) == 0.1 and spec.dropout.p(spec.probes[0].build) == 0.0


@pytest.mark.parametrize("change, message", [
    ({"dropout": {"site": "ffn", "arg": 2, "keyword": "p_drop", "default": 0.1}},
     "dropout.site ffn is not a module argument of build"),
    ({"build": {"args": [16, {"module": "not a reference", "name": "sublayer"}, 0.1]}}, "package.module:Class"),
    ({"build": {"args": [16, {"module": FEED_FORWARD, "name": "sublayer", "argz": [16]}, 0.1]}}, "argz"),
    ({"probes": [{"name": "p", "build": {"args": [4, {"module": FEED_FORWARD, "name": "sublayer", "args": [4]}, 0.5]},
                  "input": {"shape": [2, 4]}, "grad": "no_grad"}]}, "probe p: dropout in train mode"),
])
def test_a_dropout_task_that_cannot_be_checked_is_refused(change, message):
    with pytest.raises(ValidationError, match=re.escape(message)):
        TaskFile.model_validate(_doc(**change))


def test_a_family_draws_dropout_only_where_it_can_be_checked():
    space = PRE_DOC["task"]["probe_space"]
    no_template = {**space, "build": None}
    with pytest.raises(ValidationError, match="dropout needs probe_space.build"):
        TaskFile.model_validate(_doc(probe_space=no_template))
    no_grad = {**space, "families": [{"name": "a", "dropout": [0.1], "grad": ["no_grad"]}]}
    with pytest.raises(ValidationError, match="dropout in train mode is checked through the gradient"):
        TaskFile.model_validate(_doc(probe_space=no_grad))
    spec = TaskFile.model_validate(PRE_DOC).task
    for seed in range(8):
        for probe in spec.drawn(seed).probes[1:]:
            d = probe.input.shape[-1]
            args = probe.build.args
            assert args[0] == d and args[1].args == [d]  # "$features", in the module argument too
            assert args[2] in (0.0, 0.1, 0.3) and (args[2] > 0) == bool({"eval-dropout", "train-dropout",
                                                                        "train-dropout-wide"} & set(probe.families))
            if spec.stochastic(probe):
                assert "backward" in probe.checks and probe.grad != "no_grad"


# Alternatives that must pass, as named pairs: each file is a `correct--` case, which
# tests/test_pitfalls.py grades (pass, nothing of severity error or warning named).
ALTERNATIVES = [
    (("nn.Dropout", "correct--nn-dropout", "nn.Dropout("), ("F.dropout", "correct--functional", "training=self.training")),
    (("nn.Sequential", "correct--sequential", "nn.Sequential("), ("functional", "correct--functional", "F.layer_norm(")),
]


@pytest.mark.parametrize("task", ["prenorm-residual", "postnorm-residual"])
@pytest.mark.parametrize("pair", ALTERNATIVES, ids=lambda pair: f"{pair[0][0]} vs {pair[1][0]}")
def test_each_named_alternative_is_a_correct_case(task, pair):
    for _, stem, spelled in pair:
        assert spelled in (CASES / task / f"{stem}.py").read_text(encoding="utf-8")


def test_bank_validate_names_a_module_argument_whose_class_is_missing(tmp_path):
    from grader.bank.catalog import load_paths

    doc = _doc(build={"args": [16, {"module": "sub.py:Nope", "name": "sublayer", "args": [16]}, 0.1]})
    (tmp_path / "sub.py").write_text("class FeedForward:\n    pass\n")
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    problems = load_paths([tmp_path], strict=False).problems
    assert any("build: module argument sub.py:Nope: sub.py does not define Nope" in p for p in problems), problems


# -- the binomial test of the keep count ------------------------------------------------------------------
def test_the_keep_count_tail_is_the_binomials_and_flags_only_implausible_masks():
    import torch

    from grader.grading.dropout import keep_problem, keep_tail

    n, q = 12, 0.7
    pmf = [math.comb(n, k) * q**k * (1 - q) ** (n - k) for k in range(n + 1)]
    for kept in (0, 3, 8, 12):
        assert keep_tail(kept, n, q) == pytest.approx(min(sum(pmf[:kept + 1]), sum(pmf[kept:])), rel=1e-9)
    assert keep_problem(torch.ones(400), 0.1) == (
        "dropout kept 100% of the elements of the branch; with p = 0.1 about 90% are kept, and a share this far "
        "off has a probability below 1e-9 (an element whose gradient at the branch's output is exactly 0 counts "
        "as dropped)")
    assert keep_problem(torch.zeros(400), 0.3).startswith("dropout kept 0% of")
    typical = (torch.arange(400) % 10 != 0).double()  # 90% kept
    assert keep_problem(typical, 0.1) == "" and keep_problem(torch.ones(12), 0.1) == ""  # few elements: no claim


# -- through the sandbox ------------------------------------------------------------------------------------
PRE_OK = (CASES / "prenorm-residual" / "correct--nn-dropout.py").read_text(encoding="utf-8")
POST_OK = (CASES / "postnorm-residual" / "correct--nn-dropout.py").read_text(encoding="utf-8")
PRE_BRANCH = "return x + self.dropout(self.sublayer(self.norm(x)))"
POST_BRANCH = "return self.norm(x + self.dropout(self.sublayer(x)))"


@pytest.fixture(scope="module")
def grade(sandbox, builtin_tasks):
    def run(task: str, source: str, **options):
        return grade_source(source, "s.py", builtin_tasks[task], sandbox, **options)

    return run


def failing(result) -> list[str]:
    return [c.name for c in result.checks if not c.passed]


def stochastic_checks(builtin_tasks, task: str) -> set[str]:
    spec = builtin_tasks[task].spec
    drawn = spec.drawn()
    return {f"{p.name}/{c}" for p in drawn.probes if drawn.stochastic(p) for c in p.checks}


# Masks drawn another way than nn.Dropout draws them: the submission's own mask is what is checked.
OWN_MASK = """
        h = self.sublayer(self.norm(x))
        if self.training and self.dropout.p > 0:
            torch.rand(7)  # the generator consumed differently
            keep = (torch.rand_like(h) >= self.dropout.p).to(h.dtype)
            h = h * keep / (1 - self.dropout.p)
        return x + h"""


@pytest.mark.parametrize("task, source", [
    ("prenorm-residual", "import torch\n" + PRE_OK.replace("\n        " + PRE_BRANCH, OWN_MASK)),
    ("postnorm-residual", POST_OK.replace("nn.Dropout(p_drop)", "nn.Dropout(p_drop, inplace=True)")),
], ids=["own-mask", "in-place"])
def test_any_mask_drawn_any_way_passes(grade, task, source):
    result = grade(task, source)
    assert result.verdict == "pass", [(c.name, c.message) for c in result.checks if not c.passed]


DROPPING = "self.training and self.dropout.p > 0"


@pytest.mark.parametrize("branch, why", [
    (f"x + 0.0 * self.sublayer(self.norm(x)) if {DROPPING} else x + self.sublayer(self.norm(x))",
     r"dropout kept 0% of the elements of the branch; with p = 0\.[13] about [79]0% are kept"),
    # no dropout: every element kept (implausible on a large probe), none scaled
    ("x + self.sublayer(self.norm(x))", r"output: \d+% of the elements off|dropout kept 100% of"),
    (f"x + self.dropout(self.sublayer(self.norm(x))) * ((1 - self.dropout.p) if {DROPPING} else 1)",
     r"output: \d+% of the elements off"),  # kept elements not scaled
    (f"x + self.dropout(self.sublayer(self.norm(x))) * ((1 - self.dropout.p) / self.dropout.p if {DROPPING} else 1)",
     r"output: \d+% of the elements off"),  # scaled by 1/p
], ids=["drops-all", "no-dropout", "no-scale", "scaled-by-1/p"])
def test_a_wrong_dropout_fails_exactly_the_stochastic_probes(grade, builtin_tasks, branch, why):
    """Eval mode and p = 0 stay right (deterministic, equal to the reference); only train mode with
    p > 0 shows the mistake, with shares, never counts, in a hidden probe's message."""
    result = grade("prenorm-residual", PRE_OK.replace(PRE_BRANCH, "return " + branch))
    assert set(failing(result)) == stochastic_checks(builtin_tasks, "prenorm-residual")
    forward = [c for c in result.checks if not c.passed and c.name.endswith("/forward")]
    assert forward and all(re.search(why, c.message) for c in forward), [c.message for c in forward]
    if "kept 0%" in why:  # no truth to measure against: the pitfall says why, not a distance from eval mode
        (pitfall,) = result.pitfalls
        assert pitfall.id == "wrong-output" and "dropout kept 0% of the elements" in pitfall.evidence


def test_the_mask_messages_follow_the_language_of_the_job(grade):
    source = PRE_OK.replace(PRE_BRANCH, f"return x + 0.0 * self.sublayer(self.norm(x)) if {DROPPING} else "
                                        "x + self.sublayer(self.norm(x))")
    result = grade("prenorm-residual", source, lang="zh")
    assert any(c.message.startswith("dropout 保留了分支中 0% 的元素") for c in result.checks if not c.passed)


def test_a_sublayer_called_around_its_hooks_cannot_show_its_mask(grade):
    result = grade("postnorm-residual", POST_OK.replace("self.sublayer(x)", "self.sublayer.forward(x)"))
    messages = {c.message for c in result.checks if not c.passed}
    assert messages == {"no gradient reached the output of sublayer, so dropout's mask cannot be read: call "
                        "the sublayer given to the constructor once in forward and keep its output in the graph"}


def test_the_sublayer_is_the_tasks_wherever_the_submission_keeps_it(grade):
    """Reported under the reference's names by identity; a sublayer of its own is not the task's."""
    renamed = grade("prenorm-residual", (CASES / "prenorm-residual" / "correct--renamed-inplace.py").read_text())
    assert renamed.verdict == "pass" and renamed.checks[0].message == "6 parameters as expected"
    own = PRE_OK.replace("self.sublayer = sublayer", "self.sublayer = nn.Linear(d_model, d_model)")
    structure = grade("prenorm-residual", own).checks[0]
    assert not structure.passed
    assert structure.message.startswith("missing parameters: sublayer.fc1.weight, sublayer.fc1.bias")


def test_a_batch_shares_the_truth_but_not_a_submissions_mask(grade):
    """The truth a batch's first judge sends on holds its own mask on the stochastic probes: every
    later judge reads its own submission's mask again."""
    from grader.grading.truth import Shared

    shared = Shared()
    first = grade("postnorm-residual", POST_OK, truth=shared)
    second = grade("postnorm-residual", "import torch\n" + POST_OK.replace(
        "    def forward(self, x):\n", "    def forward(self, x):\n        torch.rand(3)\n"), truth=shared)
    assert shared.trusted().get("truth") and first.verdict == second.verdict == "pass"


# -- the judge's side of the record: whatever the child sends, validated (in-process, trusted files) ----
@pytest.fixture(scope="module")
def answered(builtin_tasks):
    """A correct submission's answer to the pre-norm task, computed once in this process, and a judge
    for it with any tensor replaced."""
    import torch

    from grader.bank.taskfiles import module_sources
    from grader.grading.judge import Judgement
    from grader.grading.runner import child_main

    loaded = builtin_tasks["prenorm-residual"]
    spec = loaded.spec.drawn()
    job = {"task": spec.model_dump(mode="json"), "task_dir": str(loaded.dir), "source": PRE_OK, "filename": "s.py",
           "seed": loaded.spec.default_seed, "device": "cpu", "mode": "grade",
           "modules": module_sources(loaded.spec, loaded.dir)}
    sent = {}
    child_main(job, lambda meta, tensors: sent.update(meta=meta, tensors=tensors))
    stochastic = max((p for p in spec.probes if spec.stochastic(p)), key=lambda p: math.prod(p.input.shape)).name

    def judge(**replaced):
        tensors = {**sent["tensors"], **{f"{stochastic}/{k}": v for k, v in replaced.items() if v is not None}}
        for key in [k for k, v in replaced.items() if v is None]:
            del tensors[f"{stochastic}/{key}"]
        return Judgement(job, spec, sent["meta"], tensors), stochastic

    return judge, torch, sent["tensors"][f"{stochastic}/branch_grad"]


def test_a_forged_mask_record_fails_its_probe_and_nothing_else(answered):
    judge, torch, grad = answered
    honest, name = judge()
    assert honest.mask_problems == {} and all(c.passed for c in honest.checks())
    malformed = "the gradient recorded at the output of sublayer is not a tensor of its output's shape and dtype"
    for forged, why in [
        (grad[..., :-1], malformed),  # another shape: refused where the reference uses it
        (grad.double(), malformed),  # another dtype
        (torch.zeros(0), malformed),
        (None, "no gradient reached the output of sublayer"),  # none sent
        (torch.ones_like(grad), "dropout kept 100% of the elements"),  # all kept, of hundreds
    ]:
        j, _ = judge(branch_grad=forged)
        assert j.mask_problems[name].startswith(why), j.mask_problems
        assert {c.name for c in j.checks() if not c.passed} == {f"{name}/forward", f"{name}/backward"}


def test_every_mask_message_has_its_chinese():
    from types import SimpleNamespace

    import torch

    from grader.grading.dropout import keep_problem, read_mask

    spec = TaskFile.model_validate(PRE_DOC).task
    probe = spec.probes[0]

    def judge(tensors, error=None):
        return SimpleNamespace(spec=spec, tensors=tensors, probe_meta=lambda name: {"error": error})

    messages = [read_mask(judge({}), probe, "zh")[1], read_mask(judge({}, "boom"), probe, "zh")[1],
                read_mask(judge({f"{probe.name}/branch_grad": torch.zeros(0)}), probe, "zh")[1],
                keep_problem(torch.zeros(400), 0.1, "zh")]
    assert all(re.search(r"[\u4e00-\u9fff]", m) for m in messages), messages
