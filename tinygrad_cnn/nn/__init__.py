"""Neural-network building blocks, as torch.nn: Module, Parameter, Sequential, layers and losses.

``import tinygrad_cnn.nn as nn`` then ``nn.Conv2d(1, 6, 5)``; the functional forms live in
``tinygrad_cnn.nn.functional`` and initialisers in ``tinygrad_cnn.nn.init``. The seed
notebook's names are kept as aliases: MaxPool2D, AveragePool2D, FullyConnected,
SoftmaxCrossEntropyLoss.
"""

from tinygrad_cnn.nn import functional, init
from tinygrad_cnn.nn.activation import (
    ELU, GELU, Hardtanh, LeakyReLU, LogSoftmax, ReLU, ReLU6, Sigmoid, SiLU, Softmax, Softplus, Tanh,
)
from tinygrad_cnn.nn.conv import ConvTranspose2d
from tinygrad_cnn.nn.dropout import Dropout, Dropout2d
from tinygrad_cnn.nn.flatten import Flatten, Unflatten
from tinygrad_cnn.nn.layers import AvgPool2d, Conv2d, Identity, Linear, MaxPool2d
from tinygrad_cnn.nn.lazy import (
    LazyBatchNorm1d, LazyBatchNorm2d, LazyConv2d, LazyLinear, UninitializedBuffer, UninitializedParameter,
)
from tinygrad_cnn.nn.loss import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss, SmoothL1Loss,
)
from tinygrad_cnn.nn.module import Module, Parameter, RemovableHandle, Sequential
from tinygrad_cnn.nn.normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from tinygrad_cnn.nn.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, MaxUnpool2d

MaxPool2D = MaxPool2d
AveragePool2D = AvgPool2d
FullyConnected = Linear
SoftmaxCrossEntropyLoss = CrossEntropyLoss

__all__ = [
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AveragePool2D", "AvgPool2d", "BCELoss", "BCEWithLogitsLoss",
    "BatchNorm1d", "BatchNorm2d", "Conv2d", "ConvTranspose2d", "CrossEntropyLoss", "Dropout", "Dropout2d", "ELU",
    "Flatten", "FullyConnected", "GELU", "GroupNorm", "Hardtanh", "HuberLoss", "Identity", "KLDivLoss", "L1Loss",
    "LayerNorm", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyConv2d", "LazyLinear", "LeakyReLU", "Linear",
    "LogSoftmax", "MSELoss", "MaxPool2D", "MaxPool2d", "MaxUnpool2d", "Module", "NLLLoss", "Parameter", "ReLU",
    "ReLU6", "RemovableHandle", "Sequential", "SiLU", "Sigmoid", "SmoothL1Loss", "SoftmaxCrossEntropyLoss",
    "Softmax", "Softplus", "Tanh", "Unflatten", "UninitializedBuffer", "UninitializedParameter", "functional",
    "init",
]
