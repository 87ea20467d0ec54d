"""No skip: the norm of the branch alone."""
import torch.nn as nn


class PostNormResidual(nn.Module):
    def __init__(self, d_model, sublayer, p_drop=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.dropout = nn.Dropout(p_drop)
        self.p_drop = p_drop

    def forward(self, x):
        return self.norm(self.dropout(self.sublayer(x)))
