import torch
import torch.nn as nn


class LayerNormalization(nn.Module):
    def __init__(self, normalized_shape, eps=1e-5):
        super().__init__()


class Helper:
    pass
