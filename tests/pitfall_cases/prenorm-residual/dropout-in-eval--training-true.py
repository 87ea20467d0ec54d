"""training=True written out."""
import torch.nn as nn
import torch.nn.functional as F


class PreNormResidual(nn.Module):
    def __init__(self, d_model, sublayer, p_drop=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.p_drop = p_drop

    def forward(self, x):
        return x + F.dropout(self.sublayer(self.norm(x)), p=self.p_drop, training=True)
