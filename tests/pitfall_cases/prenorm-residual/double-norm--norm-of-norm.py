"""norm(norm(x)) on the branch."""
import torch.nn as nn


class PreNormResidual(nn.Module):
    def __init__(self, d_model, sublayer, p_drop=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.dropout = nn.Dropout(p_drop)
        self.p = p_drop

    def forward(self, x):
        h = self.norm(self.norm(x))
        return x + self.dropout(self.sublayer(h))
