import torch
import torch.nn as nn
import torch.nn.functional as F


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)

    def forward(self, x):
        return F.relu(self.fc2(F.relu(self.fc1(x))) + x)


if __name__ == "__main__":
    torch.manual_seed(0)
    block = ResidualBlock(16)
    x = torch.randn(4, 16, requires_grad=True)
    y = block(x)
    assert y.shape == x.shape
    assert (y >= 0).all()
    y.sum().backward()
    assert x.grad is not None
    print("shape", tuple(y.shape), "params", sum(p.numel() for p in block.parameters()))
