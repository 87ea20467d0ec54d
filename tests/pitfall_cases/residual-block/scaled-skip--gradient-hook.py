import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        identity = x.clone()
        if identity.requires_grad:
            identity.register_hook(lambda g: 2.0 * g)  # "boost the identity path"
        return torch.relu(self.fc2(torch.relu(self.fc1(x))) + identity)
