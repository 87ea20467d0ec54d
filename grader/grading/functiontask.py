"""Function tasks: a torch.autograd.Function graded as if it were a module (docs/DESIGN.md).

A task of `kind: function` names a Function subclass, called as `apply(x, *tensors, *rest)`: the
tensors are the task's `parameters` in order (weight, bias), each shaped like the construction's
first argument; `rest` is the construction's other arguments, padded with `function.defaults`
(eps). FunctionModule holds the tensors as its parameters and calls apply in forward, so the
runner, the judge, the mutants and the detectors grade a Function as they grade a module: the
output and the gradients of x and of every tensor, against the reference Function in float64.
Trusted code, used by the child (the zygote imports it with the runner) and by the judge.

What only a Function needs, measured in the child:
- `engine_count()`: autograd numbers its graph tasks from one process-wide counter. The runner's
  main thread reads it before and after a probe's forward and backward: every run of autograd's
  engine beyond the grader's own backward (torch.autograd.grad, .backward(), torch.func's grad and
  vjp, a checkpoint) moved it, whatever grad mode the submission set and wherever it built the
  graph. Read through C functions taken at import: nothing the submission patched runs on the
  main thread.
- `foreign_node(out)`: the type of apply's output's grad_fn when it is not a custom Function's node
  (an apply overridden with plain autograd ops gives MulBackward0): its gradients are autograd's.
- `gradcheck(...)`: torch.autograd.gradcheck (fast mode, float64) on apply, on the worker thread.
"""
from __future__ import annotations

import sys

import torch

from grader.bank.taskspec import Probe
from grader.grading.guard import GRAD_FN
from grader.grading.probes import make_input, param_values

_TB = torch._C.TensorBase.__dict__
_ZEROS, _ONES = torch.zeros, torch.ones
_MUL = _TB["mul"]
REQUIRES_GRAD = _TB["requires_grad"].__get__
_SET_HOOKS = _TB["_backward_hooks"].__set__  # a leaf's pre-hooks, installed by C (no Tensor.register_hook)
_RUN_BACKWARD = torch.autograd.variable.Variable._execution_engine.run_backward
# torch >= 2.1; without it the count is unknown and the runner reports none (docs/DESIGN.md).
_GRAPH_TASK_ID = getattr(torch._C, "_current_graph_task_id", None)
_FUNCTION_BASE = torch._C._FunctionBase
_SUBCLASS = type.__dict__["__subclasscheck__"]
_TYPE_NAME = type.__dict__["__name__"].__get__
_FLAGS = type.__dict__["__flags__"].__get__
_IMMUTABLE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE: autograd's C++ node classes
_GRADCHECK = torch.autograd.gradcheck  # as imported, before any submission could rebind the name
# torch.autograd.gradcheck is a function there; its module (the error class) is in sys.modules.
GRADCHECK_ERROR = sys.modules["torch.autograd.gradcheck"].GradcheckError
# gradcheck's failure text runs to the full Jacobians; its first lines say which input is off.
GRADCHECK_LINES = 3


class FunctionModule(torch.nn.Module):
    """`function.apply(x, *tensors, *rest)` as a module whose parameters are the tensors."""

    def __init__(self, function, names: list[tuple[str, str]], defaults: list, shape, *rest):
        super().__init__()
        object.__setattr__(self, "function", function)  # a plain attribute: never walked as a submodule
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        for name, init in names:
            fill = torch.zeros if init == "zeros" else torch.ones
            self.register_parameter(name, torch.nn.Parameter(fill(shape)))
        self.names = [name for name, _ in names]
        self.rest = tuple(rest) + tuple(defaults[len(rest):])

    def forward(self, x):
        return self.call(x, [getattr(self, name) for name in self.names])

    def call(self, x, tensors):
        return self.function.apply(x, *tensors, *self.rest)


def wrap(cls, spec):
    """For a function task, a factory building FunctionModule around `cls` from a construction's
    arguments; for a module task, `cls` itself. A closure, not a class made on the fly: type()
    would call a hostile metaclass's __set_name__ on whichever thread made it."""
    if spec.kind != "function":
        return cls
    names = [(p.name, p.init) for p in spec.parameters]
    defaults = list(spec.function.defaults)

    def build(*args, **kwargs):
        if kwargs:
            raise TypeError(f"{spec.class_name}.apply takes positional arguments only, got {', '.join(kwargs)}")
        return FunctionModule(cls, names, defaults, *args)

    return build


# -- measured by the runner's main thread ------------------------------------------------------------
def engine_count() -> int | None:
    """The id autograd's engine gives the next graph task, read inside a one-node backward of our
    own (which takes that id): the difference of two readings, less one, is how many graph tasks
    ran between them. None where this torch does not say."""
    if _GRAPH_TASK_ID is None:
        return None
    seen: list = []
    leaf = _ZEROS((), requires_grad=True)
    _SET_HOOKS(leaf, {0: lambda grad, seen=seen, task=_GRAPH_TASK_ID: seen.append(task())})
    _RUN_BACKWARD((_MUL(leaf, 1.0),), (_ONES(()),), False, False, (), True, True)
    return seen[0] if seen and type(seen[0]) is int else None


def foreign_node(out: torch.Tensor) -> str | None:
    """The type name of `out`'s grad_fn when it is autograd's own node rather than a custom
    Function's; None for a custom Function's node or no node. C attributes only."""
    node = GRAD_FN(out)
    if node is None:
        return None
    kind = type(node)
    if not _FLAGS(kind) & _IMMUTABLE and _SUBCLASS(_FUNCTION_BASE, kind):
        return None
    name = _TYPE_NAME(kind)
    return name[:80] if type(name) is str else "an autograd node"


# -- run on the submission's thread ------------------------------------------------------------------
def gradcheck(factory, spec, seed: int, device: str) -> str:
    """torch.autograd.gradcheck in float64 (fast mode: one random direction per input) on apply,
    with x of the task's `function.gradcheck` shape and seeded tensors, built as the task's basic
    construction builds: "" when it passes, else the first lines of why. The submission's own
    exceptions propagate (its backward raised)."""
    args, kwargs = spec.build.values()
    module = factory(*args, **kwargs).to(device=device, dtype=torch.float64)
    probe = Probe(name="gradcheck", input={"shape": list(spec.function.gradcheck), "dtype": "float64"})
    x = make_input(seed, probe).to(device).requires_grad_(True)
    tensors = [param_values(seed, "gradcheck", name, tuple(p.shape), torch.float64).to(device).requires_grad_(True)
               for name, p in module.named_parameters()]
    try:
        _GRADCHECK(lambda x, *ts: module.call(x, ts), (x, *tensors), fast_mode=True)
    except GRADCHECK_ERROR as exc:
        names = ["x", *module.names]
        lines = [line for line in str(exc).splitlines() if line.strip()][:GRADCHECK_LINES]
        text = " ".join(lines)
        for i, name in reversed(list(enumerate(names))):
            text = text.replace(f"input {i}", f"input {i} ({name})")
        return text
    return ""
