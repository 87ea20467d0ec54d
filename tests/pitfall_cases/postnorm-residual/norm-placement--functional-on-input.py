"""F.layer_norm on the branch's input."""
import torch.nn as nn
import torch.nn.functional as F


class PostNormResidual(nn.Module):
    def __init__(self, d_model, sublayer, p_drop=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.p_drop = p_drop

    def forward(self, x):
        h = F.layer_norm(x, self.norm.normalized_shape, self.norm.weight, self.norm.bias, self.norm.eps)
        return x + F.dropout(self.sublayer(h), self.p_drop, training=self.training)
