"""torchvision's ``transforms``: the transform classes, ``functional`` and the batch fast path ``apply_to_batch``."""

from __future__ import annotations

from typing import Callable

import numpy as np

from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.vision.transforms import functional
from tinygrad_cnn.vision.transforms.color_transforms import (
    ColorJitter, Grayscale, RandomAdjustSharpness, RandomAutocontrast, RandomEqualize, RandomGrayscale, RandomInvert,
    RandomPosterize, RandomSolarize,
)
from tinygrad_cnn.vision.transforms.image import InterpolationMode
from tinygrad_cnn.vision.transforms.pil import ToPILImage
from tinygrad_cnn.vision.transforms.random_transforms import (
    ElasticTransform, FiveCrop, GaussianBlur, LinearTransformation, RandomApply, RandomChoice, RandomOrder,
    RandomPerspective, RandomResizedCrop, RandomTransforms, RandomVerticalFlip, TenCrop,
)
from tinygrad_cnn.vision.transforms.transforms import (
    CenterCrop, Compose, ConvertImageDtype, Lambda, Normalize, Pad, PILToTensor, RandomAffine, RandomCrop,
    RandomErasing, RandomHorizontalFlip, RandomRotation, Resize, ToTensor,
)

__all__ = [
    "CenterCrop", "Compose", "ConvertImageDtype", "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Pad",
    "RandomAffine", "RandomCrop", "RandomErasing", "RandomHorizontalFlip", "RandomRotation", "Resize", "ToPILImage",
    "ToTensor",
    "apply_to_batch", "functional",
    "ColorJitter", "ElasticTransform", "FiveCrop", "GaussianBlur", "Grayscale", "LinearTransformation", "RandomApply",
    "RandomAdjustSharpness", "RandomAutocontrast", "RandomChoice", "RandomEqualize", "RandomGrayscale", "RandomInvert",
    "RandomOrder", "RandomPerspective", "RandomPosterize", "RandomResizedCrop", "RandomSolarize", "RandomTransforms",
    "RandomVerticalFlip", "TenCrop",
]


def apply_to_batch(transform: Callable, images: np.ndarray) -> Tensor | None:
    """``transform`` applied to a whole batch of uint8 images (N, H, W, C) in one array operation.

    Returns the (N, C, H, W) Tensor equal to stacking ``transform`` of each image, or None
    when ``transform`` is not made only of ToTensor / PILToTensor first, then ConvertImageDtype
    and Normalize (alone or in a Compose, exact classes, not subclasses): random and
    geometric transforms must run image by image.
    """
    steps = transform.transforms if type(transform) is Compose else [transform]
    if not steps or type(steps[0]) not in (ToTensor, PILToTensor):
        return None
    x = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
    if type(steps[0]) is ToTensor:
        x = np.divide(x, np.float32(255), dtype=np.float32)
    for step in steps[1:]:
        if type(step) is ConvertImageDtype:
            x = functional.convert_array_dtype(x, step.dtype)
        elif type(step) is Normalize and x.dtype.kind == "f":
            x = functional.normalize(x, step.mean, step.std)
        else:
            return None
    return Tensor(x, dtype=x.dtype)
