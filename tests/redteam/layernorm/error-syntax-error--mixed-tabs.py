import torch
import torch.nn as nn


class LayerNorm(nn.Module):
    def __init__(self, n, eps=1e-5):
        super().__init__()
	self.eps = eps
