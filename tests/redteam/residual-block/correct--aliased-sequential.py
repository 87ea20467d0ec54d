"""The branch built as an nn.Sequential and its Linears aliased as fc1 and fc2: every parameter is
one of the reference's, reachable under its name (docs/DESIGN.md: passes)."""
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.branch = nn.Sequential(nn.Linear(in_channels, in_channels), nn.ReLU(),
                                    nn.Linear(in_channels, in_channels))
        self.fc1, self.fc2 = self.branch[0], self.branch[2]
        self.act = nn.ReLU()

    def forward(self, x):
        return self.act(self.branch(x) + x)
