"""The code-reading questions (questions/code-reading.yaml) are claims about what PyTorch code does, so
each one is checked by running its `code:`. A check runs the snippet, asserts what the question relies
on (the buggy line really is wrong and the fix really is right, where the question is a spot-the-bug),
and returns the answer the run supports; the real quiz grader must then score that answer correct.

The snippets run in-process (each in a fresh namespace, stdout captured): they are our own code, and
one torch import keeps the whole file to a few seconds.
"""
from __future__ import annotations

import contextlib
import io
import math

import pytest

torch = pytest.importorskip("torch")

from grader.bank import catalog as banks  # noqa: E402
from grader.bank.schema import LETTERS, ChoiceQuestion  # noqa: E402
from grader.practice.answers import grade  # noqa: E402

BANK = "code-reading.yaml"


def _questions() -> dict:
    catalog = banks.load_paths([banks.builtin_dir() / BANK])
    return {qid: loaded.question for qid, loaded in catalog.questions.items()}


QUESTIONS = _questions()


def run(code: str) -> str:
    """What the snippet prints (stripped)."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<snippet>", "exec"), {"__name__": "__main__"})
    return out.getvalue().strip()


def patched(code: str, old: str, new: str) -> str:
    """The snippet with one line fixed (the old text must be there exactly once)."""
    assert code.count(old) == 1, f"{old!r} not found once in the snippet"
    return code.replace(old, new)


def choice(question, predicate) -> str:
    """The letter of the one choice whose English text satisfies predicate."""
    hits = [LETTERS[i] for i, c in enumerate(question.choices) if predicate(c.en)]
    assert len(hits) == 1, f"{question.id}: {len(hits)} choices match the observed behaviour"
    return hits[0]


def starting(question, prefix: str) -> str:
    return choice(question, lambda text: text.startswith(prefix))


def naming(question, phrase: str) -> str:
    return choice(question, lambda text: phrase in text)


# ---- one check per question: run it, assert the facts, return the answer the run supports --------------

def check_keepdim_square(q):
    assert run(q.code) == "False"
    fixed = patched(q.code, "mu = x.mean(-1)\n", "mu = x.mean(-1, keepdim=True)\n")
    assert run(fixed) == "True"  # the unbiased-variance and eps distractors need no change
    with pytest.raises(RuntimeError):  # it only ran because the input was square
        run(patched(q.code, "torch.randn(8, 8)", "torch.randn(4, 8)"))
    return naming(q, "without keepdim")


def _offset_errors(code: str) -> list[float]:
    return [float(line.split()[1]) for line in run(code).splitlines()]


def check_one_pass_variance(q):
    at_zero, at_offset = _offset_errors(q.code)
    assert at_zero < 1e-4
    assert math.isnan(at_offset) or at_offset > 0.1
    two_pass = patched(q.code, "(x * x).mean(-1, keepdim=True) - mu * mu", "((x - mu) ** 2).mean(-1, keepdim=True)")
    assert max(_offset_errors(two_pass)) < 0.05  # the two-pass form survives the offset
    return starting(q, "Below 1e-4 for offset 0, but nan or an error above 0.1")


def check_rmsnorm_fp16(q):
    half, single = run(q.code).splitlines()
    assert half == "tensor([0., 0., 0., 0.], dtype=torch.float16)"
    assert single == "tensor([1., 1., 1., 1.], dtype=torch.float16)"
    return starting(q, "Zeros, then ones")


def check_fp16_eps(q):
    single, half = run(q.code).splitlines()
    assert single == "tensor([[0., 0., 0., 0.]])"
    assert half == "tensor([[nan, nan, nan, nan]], dtype=torch.float16)"
    assert torch.tensor(1e-12, dtype=torch.float16).item() == 0.0
    # the explanation's contrast: nn.LayerNorm accumulates float16 in float32, so it stays finite
    builtin = torch.nn.LayerNorm(4, eps=1e-12, elementwise_affine=False)(torch.full((1, 4), 0.5).half())
    assert builtin.eq(0).all()
    return starting(q, "Zeros, then nan")


def check_groupnorm_convnext(q):
    printed = run(q.code)
    assert printed in ("True", "False")
    # the explanation's claim: GroupNorm(1, C) is LayerNorm over (C, H, W), not over C per pixel
    x = torch.randn(2, 8, 4, 4)
    gn = torch.nn.GroupNorm(1, 8, affine=False)(x)
    ln_chw = torch.nn.LayerNorm([8, 4, 4], elementwise_affine=False)(x)
    assert torch.allclose(gn, ln_chw, atol=1e-5)
    return printed == "True"


def check_backward_value(q):
    printed = float(run(q.code))
    x = torch.tensor([1.0, 2.0, 3.0, 4.0])
    sigma = x.var(unbiased=False).sqrt()
    xhat = (x - x.mean()) / sigma
    g = torch.tensor([1.0, 0.0, 0.0, 0.0])
    formula = (g - g.mean() - xhat * (g * xhat).mean()) / sigma  # the depth bank's formula
    assert abs(formula[0].item() - printed) < 1e-4
    return printed


def check_softmax_overflow(q):
    naive, shifted = run(q.code).splitlines()
    assert naive == "tensor([nan, nan])"
    assert shifted == "tensor([0.2689, 0.7311])"
    return starting(q, "tensor([nan, nan]), then tensor([0.2689, 0.7311])")


def check_causal_mask_fill(q):
    assert run(q.code) == "False"
    fixed = patched(q.code, "masked_fill(~mask, 0.0)", 'masked_fill(~mask, float("-inf"))')
    assert run(fixed) == "True"
    return naming(q, "fills the masked scores with 0")


def check_attn_scores_shape(q):
    printed = run(q.code)
    return choice(q, lambda text: text == printed)


def check_mha_batch_first(q):
    assert run(q.code) == "False"
    fixed = patched(q.code, "num_heads=4)", "num_heads=4, batch_first=True)")
    assert run(fixed) == "True"
    assert torch.nn.MultiheadAttention(16, 4).dropout == 0.0  # the dropout distractor is wrong
    return starting(q, "batch_first defaults to False")


def check_sdpa_mask_polarity(q):
    printed = run(q.code)
    # the other half of the claim: for nn.MultiheadAttention's key_padding_mask, True means ignore
    mha = torch.nn.MultiheadAttention(4, 1, batch_first=True)
    q_, k_ = torch.randn(1, 1, 4), torch.randn(1, 3, 4)
    _, weights = mha(q_, k_, k_, key_padding_mask=torch.tensor([[False, False, True]]))
    assert weights[0, 0, 2].item() == 0.0
    return printed == "tensor([[[0., 0., 1.]]])"


def check_zero_init_relu(q):
    return float(run(q.code))


def check_bottleneck_params(q):
    return float(run(q.code))


def check_droppath_shape(q):
    printed = run(q.code)
    namespace: dict = {}
    exec(compile(q.code.split("torch.manual_seed")[0], "<snippet>", "exec"), namespace)
    x = torch.randn(2, 3)
    assert namespace["drop_path"](x, 0.25, training=False)[0] is x  # identity at test time
    return choice(q, lambda text: text.split(":")[0] == printed)


def check_adam_vs_adamw(q):
    adam, adamw = (line.split() for line in run(q.code).splitlines())
    assert adam[0] == "Adam" and adamw[0] == "AdamW"
    return starting(q, f"Adam {adam[1]} and AdamW {adamw[1]}:")


CHECKS = {
    "ln-code-keepdim-square": check_keepdim_square,
    "ln-code-one-pass-variance": check_one_pass_variance,
    "ln-code-rmsnorm-fp16": check_rmsnorm_fp16,
    "ln-code-fp16-eps": check_fp16_eps,
    "ln-code-groupnorm-convnext": check_groupnorm_convnext,
    "ln-code-backward-value": check_backward_value,
    "tf-code-softmax-overflow": check_softmax_overflow,
    "tf-code-causal-mask-fill": check_causal_mask_fill,
    "tf-code-attn-scores-shape": check_attn_scores_shape,
    "tf-code-mha-batch-first": check_mha_batch_first,
    "tf-code-sdpa-mask-polarity": check_sdpa_mask_polarity,
    "res-code-zero-init-relu": check_zero_init_relu,
    "res-code-bottleneck-params": check_bottleneck_params,
    "res-code-droppath-shape": check_droppath_shape,
    "tr-code-adam-vs-adamw": check_adam_vs_adamw,
}


def test_every_code_question_has_a_check_and_every_check_a_question():
    assert set(CHECKS) == set(QUESTIONS)
    assert len(QUESTIONS) >= 12


def test_code_questions_carry_their_code_in_the_code_field():
    for question in QUESTIONS.values():
        assert question.code and question.code.strip(), question.id
        assert "```" not in (question.prompt.en or "") + (question.prompt.zh or ""), question.id


@pytest.mark.parametrize("qid", sorted(CHECKS))
def test_the_keyed_answer_is_what_the_code_does(qid):
    torch.manual_seed(0)
    question = QUESTIONS[qid]
    supported = CHECKS[qid](question)
    result = grade(question, supported)
    assert result.correct, f"{qid}: running the code supports {supported!r}, the key is {result.answer!r}"


def test_a_wrong_key_would_be_caught():
    # the checks compare with the key through the real grader: another answer must not pass
    question = QUESTIONS["tf-code-attn-scores-shape"]
    supported = check_attn_scores_shape(question)
    wrong = next(letter for letter in LETTERS[: len(question.choices)] if letter != supported)
    assert isinstance(question, ChoiceQuestion)
    assert not grade(question, wrong).correct
