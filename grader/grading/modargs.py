"""Module-valued constructor arguments (issue 19): a sublayer the task hands to the submission's
constructor, `PreNormResidual(16, FeedForward(16), 0.1)`, built from the task's own trusted class.

Both sides build it alike: the class a grader.bank.taskspec.ModuleArg names, its arguments, and
parameter values drawn from the job's seed (`INIT_KEY`), so the submission and the reference hold
identical copies; a probe's `random` values then overwrite them by the reference's names, as for any
parameter. The locked-down child reads no file: the CLI puts the class's source in the job
(`job["modules"]`, grader.bank.taskfiles.module_sources), and the child compiles it before the
submission is imported; the judge imports it as it imports the reference.

The child knows what it built by identity, so the sublayer's parameters and submodules are reported
under the reference's names (`<name>.<parameter>`) whatever attribute the submission keeps it
under. On the dropout site (grader.bank.taskspec.DropoutSite) a forward hook, a plain function so a
deep copy of the module keeps calling it, passes the site's output through an identity whose
backward records the gradient reaching it in the probe's own forward: grader.grading.dropout reads
the submission's mask there. It runs on the
submission's thread, inside the submission's forward and backward; what it records is evidence the
judge validates, never trusted.
"""
from __future__ import annotations

import types

import torch

from grader.bank.taskspec import ModuleArg
from grader.grading.guard import TENSOR
from grader.grading.probes import param_values

# The probe name under which a module argument's fresh values are drawn (probes.param_values): every
# build of it, in the child and in the judge, holds the same numbers, so `params: init` probes agree.
INIT_KEY = "module-arg"


class _Tap(torch.autograd.Function):
    """The identity, as a fresh tensor whose backward keeps the gradient it receives. A tensor hook
    would not do: an in-place dropout on a view (a Linear's output on a 3-D input is one) rebases
    the view's history and its hooks never fire; whatever is done to this output later, its node
    receives dL/d(site output) itself."""

    @staticmethod
    def forward(ctx, output, grads, slot):
        ctx.grads, ctx.slot = grads, slot
        return output.clone()

    @staticmethod
    def backward(ctx, grad):
        ctx.grads[ctx.slot] = grad
        return grad, None, None


class Recorder:
    """The gradient reaching the site's output, per call of the site since `arm()`: the probe's own
    forward, not the earlier calls of a repeated-call probe."""

    def __init__(self) -> None:
        self.armed, self.grads = False, []

    def saw(self, output):
        """The output the site returns: tapped when armed and differentiable, else as it was."""
        if not self.armed or type(output) is not TENSOR or not output.requires_grad:
            return None
        self.grads.append(None)
        return _Tap.apply(output, self.grads, len(self.grads) - 1)

    def arm(self) -> None:
        self.armed, self.grads = True, []

    def grad(self):
        """The last call's gradient (the site's output that reached dropout), or None."""
        last = self.grads[-1] if self.grads else None
        return last if type(last) is TENSOR else None


class Built:
    """What one construction's module arguments became: name -> module, the reference's name of each
    of their modules and parameters by identity (taken before the submission's constructor runs; the
    objects are held, so no id is reused), and the site's recorder."""

    def __init__(self) -> None:
        self.modules: dict[str, torch.nn.Module] = {}
        self.names: dict[int, tuple[object, str]] = {}
        self.recorder: Recorder | None = None

    def name_of(self, obj) -> str | None:
        found = self.names.get(id(obj))
        return found[1] if found is not None and found[0] is obj else None


class Maker:
    """Builds a construction's module arguments; remembers which submission module got which."""

    def __init__(self, classes: dict[str, type], seed: int, site: str | None = None):
        self.classes, self.seed, self.site = classes, seed, site
        self._bound: dict[int, tuple[object, Built]] = {}

    def resolve(self, args: tuple, kwargs: dict) -> tuple[tuple, dict, Built]:
        """The arguments with each ModuleArg replaced by a fresh module, and what was built."""
        built = Built()

        def make(value):
            return self._make(value, built) if isinstance(value, ModuleArg) else value

        return tuple(make(a) for a in args), {k: make(v) for k, v in kwargs.items()}, built

    def _make(self, arg: ModuleArg, built: Built) -> torch.nn.Module:
        args, kwargs = arg.values()
        module = self.classes[arg.module](*args, **kwargs)
        with torch.no_grad():
            for name, p in module.named_parameters():
                p.copy_(param_values(self.seed, INIT_KEY, f"{arg.name}.{name}", tuple(p.shape), p.dtype))
        built.modules[arg.name] = module
        for sub, m in module.named_modules():
            built.names[id(m)] = (m, f"{arg.name}.{sub}" if sub else arg.name)
        for sub, p in module.named_parameters():
            built.names[id(p)] = (p, f"{arg.name}.{sub}")
        if arg.name == self.site:
            recorder = built.recorder = Recorder()
            module.register_forward_hook(lambda _module, _inputs, output: recorder.saw(output))  # a lambda: deepcopy keeps it
        return module

    def bind(self, module, built: Built) -> None:
        self._bound[id(module)] = (module, built)

    def built(self, module) -> Built | None:
        """What the construction of `module` (a submission's) built, if this maker built it."""
        found = self._bound.get(id(module))
        return found[1] if found is not None and found[0] is module else None


def child_maker(job: dict, spec) -> Maker | None:
    """In the child, before the submission is imported: the task's module classes compiled from the
    job's sources (each as a module of its own); None for a task without module arguments."""
    sources = job.get("modules") or {}
    if not sources:
        return None
    classes = {}
    for i, (ref, source) in enumerate(sorted(sources.items())):
        target, name = ref.rsplit(":", 1)
        module = types.ModuleType(f"dlprep_task_module_{i}")
        exec(compile(source, f"<task module {target}>", "exec"), module.__dict__)  # noqa: S102 - the task's own code
        classes[ref] = getattr(module, name)
    return Maker(classes, int(job["seed"]), spec.dropout.site if spec.dropout else None)
