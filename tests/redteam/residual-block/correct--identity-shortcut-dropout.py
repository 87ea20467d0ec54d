import torch
import torch.nn as nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels, dropout=0.0):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)
        self.drop = nn.Dropout(dropout)
        self.shortcut = nn.Identity()
        self.act = nn.ReLU()

    def forward(self, x):
        branch = self.fc2(self.drop(self.act(self.fc1(x))))
        return self.act(branch + self.shortcut(x))
