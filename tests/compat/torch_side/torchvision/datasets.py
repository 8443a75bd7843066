"""MNIST, FashionMNIST and CIFAR10 whose pixels come from tinygrad_cnn.vision's datasets."""

import numpy as np
from PIL import Image

from tinygrad_cnn.vision import datasets as ours


class _Wrapped:
    source = None

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        self._inner = self.source(root, train=train, download=download)
        self.transform, self.target_transform = transform, target_transform
        data = self._inner.data
        self._images = np.asarray(data.numpy() if hasattr(data, "numpy") else data)
        self._targets = [int(t) for t in np.asarray(self._inner.targets.numpy() if hasattr(self._inner.targets, "numpy")
                                                    else self._inner.targets)]
        self.classes = list(self._inner.classes)

    def __len__(self):
        return len(self._targets)

    def __getitem__(self, index):
        image = Image.fromarray(self._images[index])
        target = self._targets[index]
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target


class MNIST(_Wrapped):
    source = ours.MNIST


class FashionMNIST(_Wrapped):
    source = ours.FashionMNIST


class CIFAR10(_Wrapped):
    source = ours.CIFAR10
