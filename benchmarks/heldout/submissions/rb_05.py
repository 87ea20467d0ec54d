from collections import OrderedDict

import torch
import torch.nn as nn


class ResidualBlock(nn.Sequential):
    def __init__(self, in_channels):
        super().__init__(
            OrderedDict(
                [
                    ("fc1", nn.Linear(in_channels, in_channels)),
                    ("act", nn.ReLU()),
                    ("fc2", nn.Linear(in_channels, in_channels)),
                ]
            )
        )

    def forward(self, x):
        return torch.relu(super().forward(x) + x)
