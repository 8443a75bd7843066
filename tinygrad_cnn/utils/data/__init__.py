"""Datasets, samplers and the DataLoader, as torch.utils.data."""

from tinygrad_cnn.utils.data._utils.collate import default_collate, default_convert
from tinygrad_cnn.utils.data.dataloader import DataLoader, WorkerInfo, get_worker_info
from tinygrad_cnn.utils.data.dataset import (
    ChainDataset, ConcatDataset, Dataset, IterableDataset, Subset, TensorDataset, random_split,
)
from tinygrad_cnn.utils.data.sampler import (
    BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler, WeightedRandomSampler,
)

__all__ = [
    "BatchSampler", "ChainDataset", "ConcatDataset", "DataLoader", "Dataset", "IterableDataset", "RandomSampler",
    "Sampler", "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "WeightedRandomSampler",
    "WorkerInfo", "default_collate", "default_convert", "get_worker_info", "random_split",
]
