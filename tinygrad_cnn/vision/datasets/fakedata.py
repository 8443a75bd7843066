"""torchvision's FakeData: random images and labels, the same for an index on every read."""

from __future__ import annotations

from typing import Any, Callable

from tinygrad_cnn.creation import randint, randn
from tinygrad_cnn.random import Generator
from tinygrad_cnn.vision.datasets.vision import VisionDataset
from tinygrad_cnn.vision.transforms.pil import to_pil_image


class FakeData(VisionDataset):
    """``size`` samples: item i is (a PIL image of standard normal noise of ``image_size``
    (C, H, W), a label in [0, num_classes)) through the transforms, drawn from a generator
    seeded with i + ``random_offset`` (the global generator is left untouched)."""

    def __init__(self, size: int = 1000, image_size: tuple[int, int, int] = (3, 224, 224), num_classes: int = 10,
                 transform: Callable | None = None, target_transform: Callable | None = None,
                 random_offset: int = 0) -> None:
        super().__init__(transform=transform, target_transform=target_transform)
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.random_offset = random_offset

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        """(image, class index) of sample ``index``; IndexError past the end."""
        if index >= len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        generator = Generator().manual_seed(index + self.random_offset)
        image = randn(*self.image_size, generator=generator)
        target = randint(0, self.num_classes, (1,), generator=generator)[0]
        image, target = self._transformed(to_pil_image(image), target)
        return image, target.item() if hasattr(target, "item") else target

    def __len__(self) -> int:
        return self.size
