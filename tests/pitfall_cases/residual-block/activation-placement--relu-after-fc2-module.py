import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)
        self.act = nn.ReLU()

    def forward(self, x):
        out = self.act(self.fc2(self.act(self.fc1(x))))
        return self.act(out + x)
