"""ResNet20: the CIFAR-style ResNet-20 of He et al. (2016, section 4.2) for 28x28 grey images.

A 3x3 conv to 16 channels + BatchNorm + ReLU, three stages of three BasicBlocks at 16, 32
and 64 channels (28x28, 14x14, 7x7; the first block of stages 2 and 3 has stride 2 and a 1x1
conv + BatchNorm shortcut), global average pooling and a Linear to the classes: 19 conv
layers + 1 linear, 272,186 parameters for 10 classes. Initialised as torchvision's ResNets.
"""

from __future__ import annotations

import tinygrad_cnn.nn as nn
from tinygrad_cnn.models.resnet import BasicBlock, conv1x1, conv3x3, init_resnet
from tinygrad_cnn.tensor import Tensor


class ResNet20(nn.Module):
    """(N, in_channels, 28, 28) -> logits (N, num_classes); ``blocks`` per stage (3 gives
    ResNet-20; 5 ResNet-32, 9 ResNet-56) and the first stage's ``width`` are adjustable."""

    input_shape = (1, 28, 28)

    def __init__(self, num_classes: int = 10, in_channels: int = 1, blocks: int = 3, width: int = 16) -> None:
        super().__init__()
        self.conv1 = conv3x3(in_channels, width)
        self.bn1 = nn.BatchNorm2d(width)
        self.relu = nn.ReLU(inplace=True)
        self.inplanes = width
        self.layer1 = self._make_stage(width, blocks, stride=1)
        self.layer2 = self._make_stage(2 * width, blocks, stride=2)
        self.layer3 = self._make_stage(4 * width, blocks, stride=2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(4 * width, num_classes)
        init_resnet(self)

    def _make_stage(self, planes: int, blocks: int, stride: int) -> nn.Sequential:
        downsample = None
        if stride != 1 or self.inplanes != planes:
            downsample = nn.Sequential(conv1x1(self.inplanes, planes, stride), nn.BatchNorm2d(planes))
        layers = [BasicBlock(self.inplanes, planes, stride, downsample)]
        self.inplanes = planes
        layers += [BasicBlock(planes, planes) for _ in range(1, blocks)]
        return nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(self.avgpool(x).flatten(1))
