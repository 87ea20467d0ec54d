"""The sublayer kept as self.ff; dropout in place on the branch."""
import torch.nn as nn


class PreNormResidual(nn.Module):
    def __init__(self, d_model, sublayer, p_drop=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.ff = sublayer  # any attribute name: the sublayer is the one it was given
        self.drop = nn.Dropout(p_drop, inplace=True)

    def forward(self, x):
        h = self.ff(self.norm(x))
        return x + self.drop(h)
