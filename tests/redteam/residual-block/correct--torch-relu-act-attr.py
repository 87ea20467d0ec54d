"""残差块：relu(fc2(relu(fc1(x))) + x)"""
import torch
from torch import nn


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels, bias=True)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(in_channels, in_channels)
        self.num_layers = 2
        self.description = "two linear layers and a skip"

    def forward(self, x):
        h = self.act(self.fc1(x))
        return torch.relu(self.fc2(h) + x)


if __name__ == "__main__":
    block = ResidualBlock(8)
    print(block(torch.randn(3, 8)).shape)
