"""A ReLU on the output."""
import torch.nn as nn
import torch.nn.functional as F


class PreNormResidual(nn.Module):
    def __init__(self, d_model, sublayer, p_drop=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.dropout = nn.Dropout(p_drop)
        self.p = p_drop

    def forward(self, x):
        return F.relu(x + self.dropout(self.sublayer(self.norm(x))))
