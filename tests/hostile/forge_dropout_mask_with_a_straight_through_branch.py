"""Hostile: in train mode, the values of a block without dropout with the gradient of a real
dropout mask (straight through): the recorded mask is plausible, so only the comparison with the
reference run with that mask can tell that the output was never dropped.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch.nn as nn


class PostNormResidual(nn.Module):
    def __init__(self, d_model, sublayer, p_drop=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.dropout = nn.Dropout(p_drop)

    def forward(self, x):
        branch = self.sublayer(x)
        # >>> attack
        if self.training and self.dropout.p > 0:
            dropped = self.dropout(branch)
            return self.norm(x + branch.detach() + (dropped - dropped.detach()))
        # <<< attack
        return self.norm(x + self.dropout(branch))
