"""Neural-network building blocks, as torch.nn: Module, Parameter, containers, layers and losses.

``import tinygrad_cnn.nn as nn`` then ``nn.Conv2d(1, 6, 5)``; the functional forms live in
``tinygrad_cnn.nn.functional``, initialisers in ``tinygrad_cnn.nn.init`` and gradient
clipping and parameter vectors in ``tinygrad_cnn.nn.utils``. The seed
notebook's names are kept as aliases: MaxPool2D, AveragePool2D, FullyConnected,
SoftmaxCrossEntropyLoss.
"""

from tinygrad_cnn.nn import functional, init, utils
from tinygrad_cnn.nn.activation import (
    CELU, ELU, GELU, GLU, SELU, Hardshrink, Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax,
    Mish, PReLU, ReLU, ReLU6, RReLU, Sigmoid, SiLU, Softmax, Softmax2d, Softmin, Softplus, Softshrink, Softsign,
    Tanh, Tanhshrink, Threshold,
)
from tinygrad_cnn.nn.container import ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential
from tinygrad_cnn.nn.conv import ConvTranspose2d
from tinygrad_cnn.nn.distance import CosineSimilarity, PairwiseDistance
from tinygrad_cnn.nn.dropout import AlphaDropout, Dropout, Dropout2d, Dropout3d, FeatureAlphaDropout
from tinygrad_cnn.nn.flatten import Flatten, Unflatten
from tinygrad_cnn.nn.hooks import RemovableHandle
from tinygrad_cnn.nn.layers import AvgPool2d, Bilinear, Conv2d, Identity, Linear, MaxPool2d
from tinygrad_cnn.nn.layers_1d import AdaptiveAvgPool1d, AdaptiveMaxPool1d, AvgPool1d, Conv1d, Dropout1d, MaxPool1d
from tinygrad_cnn.nn.lazy import (
    LazyBatchNorm1d, LazyBatchNorm2d, LazyConv2d, LazyLinear, UninitializedBuffer, UninitializedParameter,
)
from tinygrad_cnn.nn.loss import (
    BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss, GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss,
    KLDivLoss, L1Loss, MarginRankingLoss, MSELoss, MultiLabelSoftMarginLoss, MultiMarginLoss, NLLLoss,
    PoissonNLLLoss, SmoothL1Loss, SoftMarginLoss, TripletMarginLoss,
)
from tinygrad_cnn.nn.module import Module
from tinygrad_cnn.nn.normalization import (
    BatchNorm1d, BatchNorm2d, GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LayerNorm, LocalResponseNorm,
    RMSNorm,
)
from tinygrad_cnn.nn.padding import (
    CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d, ReflectionPad1d,
    ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
    ZeroPad3d,
)
from tinygrad_cnn.nn.parameter import Buffer, Parameter
from tinygrad_cnn.nn.rnn import GRU, GRUCell, LSTM, LSTMCell, RNN, RNNCell
from tinygrad_cnn.nn.sparse import Embedding
from tinygrad_cnn.nn.parallel import DataParallel
from tinygrad_cnn.nn.transformer import (MultiheadAttention, NonDynamicallyQuantizableLinear, TransformerEncoder,
                                        TransformerEncoderLayer)
from tinygrad_cnn.nn.transformer_decoder import Transformer, TransformerDecoder, TransformerDecoderLayer
from tinygrad_cnn.nn.upsampling import (
    ChannelShuffle, PixelShuffle, PixelUnshuffle, Upsample, UpsamplingBilinear2d, UpsamplingNearest2d,
)
from tinygrad_cnn.nn.pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, MaxUnpool2d

MaxPool2D = MaxPool2d
AveragePool2D = AvgPool2d
FullyConnected = Linear
SoftmaxCrossEntropyLoss = CrossEntropyLoss

__all__ = [
    "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AlphaDropout",
    "AveragePool2D", "AvgPool1d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "BCELoss", "BCEWithLogitsLoss",
    "Bilinear", "Buffer", "CELU", "ChannelShuffle", "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d",
    "ConstantPad2d", "ConstantPad3d", "Conv1d", "Conv2d", "ConvTranspose2d", "CosineEmbeddingLoss",
    "CosineSimilarity", "CrossEntropyLoss", "DataParallel", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d", "ELU", "Embedding",
    "FeatureAlphaDropout", "Flatten", "FullyConnected", "functional", "GaussianNLLLoss", "GELU", "GLU", "GroupNorm",
    "GRU", "GRUCell", "Hardshrink", "Hardsigmoid", "Hardswish", "Hardtanh", "HingeEmbeddingLoss", "HuberLoss",
    "Identity", "init", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "KLDivLoss", "L1Loss", "LayerNorm",
    "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyConv2d", "LazyLinear", "LeakyReLU", "Linear", "LocalResponseNorm",
    "LogSigmoid", "LogSoftmax", "LSTM", "LSTMCell", "MarginRankingLoss", "MaxPool1d", "MaxPool2D", "MaxPool2d",
    "MaxUnpool2d", "Mish", "Module", "ModuleDict", "ModuleList", "MSELoss", "MultiheadAttention", "NonDynamicallyQuantizableLinear",
    "MultiLabelSoftMarginLoss", "MultiMarginLoss", "NLLLoss", "PairwiseDistance", "Parameter", "ParameterDict",
    "ParameterList", "PixelShuffle", "PixelUnshuffle", "PoissonNLLLoss", "PReLU", "ReflectionPad1d",
    "ReflectionPad2d", "ReflectionPad3d", "ReLU", "ReLU6", "RemovableHandle", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "RMSNorm", "RNN", "RNNCell", "RReLU", "SELU", "Sequential", "Sigmoid",
    "SiLU", "SmoothL1Loss", "SoftMarginLoss", "Softmax", "Softmax2d", "SoftmaxCrossEntropyLoss", "Softmin",
    "Softplus", "Softshrink", "Softsign", "Tanh", "Tanhshrink", "Threshold", "Transformer", "TransformerDecoder",
    "TransformerDecoderLayer", "TransformerEncoder", "TransformerEncoderLayer", "TripletMarginLoss", "Unflatten",
    "UninitializedBuffer", "UninitializedParameter",
    "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d", "utils", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
]
