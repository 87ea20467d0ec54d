"""Pre-norm written for post-norm."""
import torch.nn as nn


class PostNormResidual(nn.Module):
    def __init__(self, d_model, sublayer, p_drop=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.dropout = nn.Dropout(p_drop)
        self.p = p_drop

    def forward(self, x):
        return x + self.dropout(self.sublayer(self.norm(x)))
