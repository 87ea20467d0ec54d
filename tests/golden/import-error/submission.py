import torch
import torch.nn as nn
import torch_layernorm_helpers  # not installed anywhere


class LayerNorm(nn.Module):
    pass
