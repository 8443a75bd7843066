"""LeNet (the common modern variant, 44,426 parameters) and LeNet5 (LeCun et al. 1998, 61,706)."""

from __future__ import annotations

import tinygrad_cnn.nn as nn
from tinygrad_cnn.tensor import Tensor


class LeNet(nn.Module):
    """conv 1->6 k5, ReLU, maxpool 2, conv 6->16 k5, ReLU, maxpool 2, flatten, linear 256->120,
    ReLU, linear 120->84, ReLU, linear 84->10. Input (N, 1, 28, 28), output logits (N, num_classes).

    Its state_dict keys (conv1.*, conv2.*, fc1.*, fc2.*, fc3.*) are those of the same model in PyTorch.
    """

    input_shape = (1, 28, 28)

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5)
        self.relu1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.relu2 = nn.ReLU()
        self.pool2 = nn.MaxPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 4 * 4, 120)
        self.relu3 = nn.ReLU()
        self.fc2 = nn.Linear(120, 84)
        self.relu4 = nn.ReLU()
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(self.flatten(x)))
        x = self.relu4(self.fc2(x))
        return self.fc3(x)


class LeNet5(nn.Module):
    """The 1998 original on MNIST's 28x28 images padded to 32x32: conv 1->6 k5 p2, tanh,
    avgpool 2, conv 6->16 k5, tanh, avgpool 2, flatten, linear 400->120, tanh, linear
    120->84, tanh, linear 84->10. Input (N, 1, 28, 28), output logits (N, num_classes).
    (Full connections between the C3 maps and plain logits replace the paper's sparse C3
    table and RBF output layer, as is usual.)
    """

    input_shape = (1, 28, 28)

    def __init__(self, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5, padding=2)
        self.tanh1 = nn.Tanh()
        self.pool1 = nn.AvgPool2d(2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.tanh2 = nn.Tanh()
        self.pool2 = nn.AvgPool2d(2)
        self.flatten = nn.Flatten()
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.tanh3 = nn.Tanh()
        self.fc2 = nn.Linear(120, 84)
        self.tanh4 = nn.Tanh()
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.pool1(self.tanh1(self.conv1(x)))
        x = self.pool2(self.tanh2(self.conv2(x)))
        x = self.tanh3(self.fc1(self.flatten(x)))
        x = self.tanh4(self.fc2(x))
        return self.fc3(x)
