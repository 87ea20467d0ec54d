"""The sublayer deep-copied in the constructor."""
import copy

import torch.nn as nn


class PreNormResidual(nn.Module):
    def __init__(self, d_model, sublayer, p_drop=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = copy.deepcopy(sublayer)  # an identical copy (the Annotated Transformer's clones)
        self.dropout = nn.Dropout(p_drop)

    def forward(self, x):
        return x + self.dropout(self.sublayer(self.norm(x)))
