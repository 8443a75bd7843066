"""The benchmarks' PyTorch side: LeNet, SimpleCNN and ResNet20 written in plain torch.nn, with
the same state_dict keys and shapes as tinygrad_cnn.models' (so one set of initial weights
loads into both). Imported by the benchmark workers and by tests/models (the torch side of the
ResNet20 comparison); needs torch."""

from __future__ import annotations

import torch
import torch.nn as tnn
import torch.nn.functional as tf


class LeNet(tnn.Module):
    """tinygrad_cnn.models.LeNet: two 5x5 convs with ReLU and 2x2 max-pool, three linears."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = tnn.Conv2d(1, 6, 5), tnn.Conv2d(6, 16, 5)
        self.fc1, self.fc2, self.fc3 = tnn.Linear(256, 120), tnn.Linear(120, 84), tnn.Linear(84, 10)

    def forward(self, x):
        x = tf.max_pool2d(tf.relu(self.conv1(x)), 2)
        x = tf.max_pool2d(tf.relu(self.conv2(x)), 2).flatten(1)
        return self.fc3(tf.relu(self.fc2(tf.relu(self.fc1(x)))))


class SimpleCNN(tnn.Module):
    """tinygrad_cnn.models.SimpleCNN: two padded 3x3 convs with ReLU and 2x2 max-pool, two linears."""

    def __init__(self):
        super().__init__()
        self.conv1, self.conv2 = tnn.Conv2d(1, 8, 3, padding=1), tnn.Conv2d(8, 16, 3, padding=1)
        self.fc1, self.fc2 = tnn.Linear(784, 128), tnn.Linear(128, 10)

    def forward(self, x):
        x = tf.max_pool2d(tf.relu(self.conv1(x)), 2)
        x = tf.max_pool2d(tf.relu(self.conv2(x)), 2).flatten(1)
        return self.fc2(tf.relu(self.fc1(x)))


class BasicBlock(tnn.Module):
    """torchvision.models.resnet.BasicBlock, as published."""

    def __init__(self, inplanes, planes, stride=1, downsample=None):
        super().__init__()
        self.conv1 = tnn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(planes)
        self.relu = tnn.ReLU(inplace=True)
        self.conv2 = tnn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = tnn.BatchNorm2d(planes)
        self.downsample = downsample

    def forward(self, x):
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out += identity
        return self.relu(out)


def stage(inplanes, planes, blocks, stride):
    """One ResNet stage: ``blocks`` BasicBlocks, the first with stride and a 1x1 downsample where
    the shape changes (torchvision's _make_layer)."""
    downsample = None
    if stride != 1 or inplanes != planes:
        downsample = tnn.Sequential(tnn.Conv2d(inplanes, planes, 1, stride, bias=False), tnn.BatchNorm2d(planes))
    return tnn.Sequential(BasicBlock(inplanes, planes, stride, downsample),
                          *[BasicBlock(planes, planes) for _ in range(1, blocks)])


class ResNet20(tnn.Module):
    """tinygrad_cnn.models.ResNet20: 3x3 conv + BN + ReLU, stages of 3 BasicBlocks at 16/32/64
    channels, global average pooling, a linear."""

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = tnn.Conv2d(1, 16, 3, 1, 1, bias=False)
        self.bn1 = tnn.BatchNorm2d(16)
        self.relu = tnn.ReLU(inplace=True)
        self.layer1 = stage(16, 16, 3, 1)
        self.layer2 = stage(16, 32, 3, 2)
        self.layer3 = stage(32, 64, 3, 2)
        self.avgpool = tnn.AdaptiveAvgPool2d((1, 1))
        self.fc = tnn.Linear(64, num_classes)

    def forward(self, x):
        x = self.layer3(self.layer2(self.layer1(self.relu(self.bn1(self.conv1(x))))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


MODELS = {"lenet": LeNet, "simple_cnn": SimpleCNN, "resnet": ResNet20}
