"""Reference post-norm residual sublayer (the original Transformer, BERT): run the sublayer on x,
drop out, add x back, then normalize the sum."""
import torch.nn as nn


class PostNormResidual(nn.Module):
    def __init__(self, d_model, sublayer, p_drop=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(d_model)
        self.sublayer = sublayer
        self.dropout = nn.Dropout(p_drop)

    def forward(self, x):
        return self.norm(x + self.dropout(self.sublayer(x)))  # (..., d_model)
