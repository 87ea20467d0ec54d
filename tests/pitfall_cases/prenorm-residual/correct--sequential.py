"""The branch as an nn.Sequential of the norm, the sublayer and the dropout."""
import torch.nn as nn


class PreNormResidual(nn.Module):
    def __init__(self, d_model, sublayer, p_drop=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        # the same modules, run in order: their parameters keep the names norm.* and sublayer.*
        self.branch = nn.Sequential(self.norm, self.sublayer, nn.Dropout(p_drop))

    def forward(self, x):
        return x + self.branch(x)
