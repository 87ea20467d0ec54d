"""SwiGLU feed-forward (Shazeer 2020, "GLU Variants Improve Transformer"; LLaMA's FeedForward):
w2(silu(w1(x)) * w3(x)), three bias-free Linear layers."""
import torch.nn as nn
import torch.nn.functional as F


class SwiGLU(nn.Module):
    def __init__(self, dim, hidden_dim=None):
        super().__init__()
        hidden_dim = hidden_dim or 4 * dim
        self.w1 = nn.Linear(dim, hidden_dim, bias=False)  # the gate
        self.w3 = nn.Linear(dim, hidden_dim, bias=False)  # the value
        self.w2 = nn.Linear(hidden_dim, dim, bias=False)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))  # (..., hidden) -> (..., dim)
