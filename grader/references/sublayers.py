"""Sublayers a task hands to the submission's constructor (module-valued arguments, issue 19).

Instruments, not answers: the child builds one and passes it to the submission, the judge builds an
identical copy for the reference (grader.grading.modargs). The child reads no file, so the CLI puts
this file's source in the job and the child compiles it; keep it to torch imports.
"""
import torch.nn as nn
import torch.nn.functional as F


class FeedForward(nn.Module):
    """A Transformer's position-wise MLP: d_model -> hidden (2 * d_model) -> d_model."""

    def __init__(self, d_model, hidden=None):
        super().__init__()
        hidden = hidden or 2 * d_model
        self.fc1 = nn.Linear(d_model, hidden)
        self.fc2 = nn.Linear(hidden, d_model)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))  # (..., d_model)
