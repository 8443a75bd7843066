"""SimpleCNN: two 3x3 conv blocks and two linear layers for 28x28 grey images (103,018 parameters)."""

from __future__ import annotations

import tinygrad_cnn.nn as nn
from tinygrad_cnn.tensor import Tensor


class SimpleCNN(nn.Module):
    """conv 1->8 k3 p1, ReLU, maxpool 2, conv 8->16 k3 p1, ReLU, maxpool 2, flatten,
    linear 784->128, ReLU, linear 128->10. Input (N, 1, 28, 28), output logits (N, num_classes).

    Its state_dict keys (conv1.*, conv2.*, fc1.*, fc2.*) are those of the same model in PyTorch.
    """

    input_shape = (1, 28, 28)

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, kernel_size=3, padding=1)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(8, 16, kernel_size=3, padding=1)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 7 * 7, 128)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(128, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(self.flatten(x)))
        return self.fc2(x)
