"""F.layer_norm on the sum."""
import torch.nn as nn
import torch.nn.functional as F


class PreNormResidual(nn.Module):
    def __init__(self, d_model, sublayer, p_drop=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.p_drop = p_drop

    def forward(self, x):
        s = x + F.dropout(self.sublayer(x), self.p_drop, training=self.training)
        return F.layer_norm(s, self.norm.normalized_shape, self.norm.weight, self.norm.bias, self.norm.eps)
