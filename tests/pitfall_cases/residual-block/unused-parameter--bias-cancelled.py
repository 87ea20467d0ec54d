import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)
        self.act = nn.ReLU()

    def forward(self, x):
        branch = self.fc2(self.act(self.fc1(x))) - self.fc2.bias  # "the skip brings its own offset"
        return self.act(branch + x)
