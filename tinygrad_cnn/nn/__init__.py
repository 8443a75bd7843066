"""Neural-network building blocks, as torch.nn: Module, Parameter, containers, layers and losses.

``import tinygrad_cnn.nn as nn`` then ``nn.Conv2d(1, 6, 5)``; the functional forms live in
``tinygrad_cnn.nn.functional``, initialisers in ``tinygrad_cnn.nn.init`` and gradient
clipping and parameter vectors in ``tinygrad_cnn.nn.utils``. The seed
notebook's names are kept as aliases: MaxPool2D, AveragePool2D, FullyConnected,
SoftmaxCrossEntropyLoss.
"""

from tinygrad_cnn.nn import functional, init, utils
from tinygrad_cnn.nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from tinygrad_cnn.nn.layers import (
    AvgPool2d,
    Conv2d,
    Dropout,
    Flatten,
    Identity,
    Linear,
    MaxPool2d,
    ReLU,
    Sigmoid,
    Tanh,
)
from tinygrad_cnn.nn.losses import CrossEntropyLoss, MSELoss, NLLLoss
from tinygrad_cnn.nn.hooks import RemovableHandle
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.nn.parameter import Parameter

MaxPool2D = MaxPool2d
AveragePool2D = AvgPool2d
FullyConnected = Linear
SoftmaxCrossEntropyLoss = CrossEntropyLoss

__all__ = [
    "AveragePool2D", "AvgPool2d", "Conv2d", "CrossEntropyLoss", "Dropout", "Flatten", "FullyConnected", "Identity",
    "Linear", "MSELoss", "MaxPool2D", "MaxPool2d", "Module", "ModuleDict", "ModuleList", "NLLLoss", "Parameter",
    "ParameterDict", "ParameterList", "ReLU", "RemovableHandle", "Sequential", "Sigmoid", "SoftmaxCrossEntropyLoss",
    "Tanh", "functional", "init", "utils",
]
