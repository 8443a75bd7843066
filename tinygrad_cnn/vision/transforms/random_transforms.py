"""torchvision's remaining geometric transform classes (RandomResizedCrop, RandomVerticalFlip, FiveCrop,
TenCrop, RandomPerspective, GaussianBlur, ElasticTransform), the composition classes (RandomApply,
RandomChoice, RandomOrder) and LinearTransformation.

Random draws come from the package's generator (tinygrad_cnn.random.generator()), in
torchvision's order, so ``tinygrad_cnn.manual_seed`` makes them reproducible. Arguments,
checks and reprs follow torchvision's.
"""

from __future__ import annotations

import bisect
import itertools
import math
import numbers
from typing import Any, Callable, Sequence

import numpy as np

from tinygrad_cnn.random import generator
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.vision.transforms import functional as F
from tinygrad_cnn.vision.transforms.image import InterpolationMode, check_scale_ratio, interpolation_mode, is_pil
from tinygrad_cnn.vision.transforms.transforms import _setup_size, _uniform, _WithProbability

_SIZE_ERROR = "Please provide only two dimensions (h, w) for size."


class RandomResizedCrop:
    """A random crop (area fraction from ``scale``, aspect ratio w/h from ``ratio``, log-uniform) resized
    to ``size`` ((h, w) or int) with ``interpolation``."""

    def __init__(self, size: int | Sequence[int], scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        self.size = _setup_size(size, error_msg=_SIZE_ERROR)
        check_scale_ratio(scale, ratio)
        self.interpolation = interpolation_mode(interpolation)
        self.antialias, self.scale, self.ratio = antialias, scale, ratio

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float]) -> tuple[int, int, int, int]:
        """``(top, left, height, width)`` of a random crop: up to 10 draws, then a central crop of the
        image clamped to ``ratio``."""
        _, height, width = F.get_dimensions(img)
        area = height * width
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        for _ in range(10):
            target_area = area * _uniform(scale[0], scale[1])
            aspect_ratio = math.exp(_uniform(log_ratio[0], log_ratio[1]))
            w = int(round(math.sqrt(target_area * aspect_ratio)))
            h = int(round(math.sqrt(target_area / aspect_ratio)))
            if 0 < w <= width and 0 < h <= height:
                i = int(generator().integers(0, height - h + 1))
                j = int(generator().integers(0, width - w + 1))
                return i, j, h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            w, h = int(round(height * max(ratio))), height
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, img: Any) -> Any:
        i, j, h, w = self.get_params(img, self.scale, self.ratio)
        return F.resized_crop(img, i, j, h, w, self.size, self.interpolation, antialias=self.antialias)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, scale={tuple(round(s, 4) for s in self.scale)}, "
                f"ratio={tuple(round(r, 4) for r in self.ratio)}, interpolation={self.interpolation.value}, "
                f"antialias={self.antialias})")


class RandomVerticalFlip(_WithProbability):
    """Mirror top to bottom with probability ``p``."""

    def _apply(self, img: Any) -> Any:
        return F.vflip(img)


class FiveCrop:
    """The four corner crops and the centre crop of ``size`` ((h, w) or int), as a tuple of 5 images."""

    def __init__(self, size: int | Sequence[int]) -> None:
        self.size = _setup_size(size, error_msg=_SIZE_ERROR)

    def __call__(self, img: Any) -> tuple[Any, ...]:
        return F.five_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class TenCrop:
    """FiveCrop of the image and of its mirror (vertical when ``vertical_flip``), as a tuple of 10 images."""

    def __init__(self, size: int | Sequence[int], vertical_flip: bool = False) -> None:
        self.size = _setup_size(size, error_msg=_SIZE_ERROR)
        self.vertical_flip = vertical_flip

    def __call__(self, img: Any) -> tuple[Any, ...]:
        return F.ten_crop(img, self.size, self.vertical_flip)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, vertical_flip={self.vertical_flip})"


class RandomPerspective:
    """With probability ``p``, a perspective warp moving each corner inwards by up to ``distortion_scale``
    times half the width/height; uncovered pixels get ``fill``."""

    def __init__(self, distortion_scale: float = 0.5, p: float = 0.5,
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR, fill: Any = 0) -> None:
        self.p = p
        self.interpolation = interpolation_mode(interpolation)
        self.distortion_scale = distortion_scale
        if fill is None:
            fill = 0
        elif not isinstance(fill, (Sequence, numbers.Number)):
            raise TypeError("Fill should be either a sequence or a number.")
        self.fill = fill

    @staticmethod
    def get_params(width: int, height: int, distortion_scale: float) -> tuple[list[list[int]], list[list[int]]]:
        """``(startpoints, endpoints)``: the image corners [top-left, top-right, bottom-right, bottom-left]
        as [x, y], and random corners at most ``distortion_scale`` * half the size inwards."""
        dx, dy = int(distortion_scale * (width // 2)), int(distortion_scale * (height // 2))
        rng = generator()

        def draw(low: int, high: int) -> int:
            return int(rng.integers(low, high))

        topleft = [draw(0, dx + 1), draw(0, dy + 1)]
        topright = [draw(width - dx - 1, width), draw(0, dy + 1)]
        botright = [draw(width - dx - 1, width), draw(height - dy - 1, height)]
        botleft = [draw(0, dx + 1), draw(height - dy - 1, height)]
        startpoints = [[0, 0], [width - 1, 0], [width - 1, height - 1], [0, height - 1]]
        return startpoints, [topleft, topright, botright, botleft]

    def __call__(self, img: Any) -> Any:
        fill = self.fill
        channels, height, width = F.get_dimensions(img)
        if not is_pil(img):
            fill = [float(fill)] * channels if isinstance(fill, (int, float)) else [float(f) for f in fill]
        if generator().random() < self.p:
            startpoints, endpoints = self.get_params(width, height, self.distortion_scale)
            return F.perspective(img, startpoints, endpoints, self.interpolation, fill)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class GaussianBlur:
    """Gaussian blur with an odd ``kernel_size`` ((kx, ky) or int) and a sigma drawn uniformly from
    ``sigma`` ((min, max), or a fixed number)."""

    def __init__(self, kernel_size: int | Sequence[int], sigma: float | Sequence[float] = (0.1, 2.0)) -> None:
        self.kernel_size = _setup_size(kernel_size, "Kernel size should be a tuple/list of two integers")
        for ks in self.kernel_size:
            if ks <= 0 or ks % 2 == 0:
                raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (sigma, sigma)
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.sigma = sigma

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float) -> float:
        """A sigma drawn uniformly from ``[sigma_min, sigma_max]``."""
        return _uniform(sigma_min, sigma_max)

    def __call__(self, img: Any) -> Any:
        sigma = self.get_params(self.sigma[0], self.sigma[1])
        return F.gaussian_blur(img, list(self.kernel_size), [sigma, sigma])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"


def _float_pair(value: Any, name: str) -> list[float]:
    if not isinstance(value, (float, Sequence)):
        raise TypeError(f"{name} should be float or a sequence of floats. Got {type(value)}")
    if isinstance(value, Sequence):
        if len(value) != 2:
            raise ValueError(f"If {name} is a sequence its length should be 2. Got {len(value)}")
        for element in value:
            if not isinstance(element, float):
                raise TypeError(f"{name} should be a sequence of floats. Got {type(element)}")
        return list(value)
    return [float(value), float(value)]


class ElasticTransform:
    """Displace every pixel by a random field: uniform noise in [-1, 1] blurred by a Gaussian of ``sigma``
    (x, y), scaled by ``alpha`` (x, y) pixels; uncovered pixels get ``fill``."""

    def __init__(self, alpha: float | Sequence[float] = 50.0, sigma: float | Sequence[float] = 5.0,
                 interpolation: InterpolationMode | int = InterpolationMode.BILINEAR, fill: Any = 0) -> None:
        self.alpha = _float_pair(alpha, "alpha")
        self.sigma = _float_pair(sigma, "sigma")
        self.interpolation = interpolation_mode(interpolation)
        if isinstance(fill, (int, float)):
            fill = [float(fill)]
        elif isinstance(fill, (list, tuple)):
            fill = [float(f) for f in fill]
        else:
            raise TypeError(f"fill should be int or float or a list or tuple of them. Got {type(fill)}")
        self.fill = fill

    @staticmethod
    def get_params(alpha: Sequence[float], sigma: Sequence[float], size: Sequence[int]) -> Tensor:
        """A (1, H, W, 2) float32 displacement field (x then y) for an image of ``size`` (H, W)."""
        fields = []
        for axis in range(2):
            d = generator().random((1, 1, *size), dtype=np.float32) * 2 - 1
            if sigma[axis] > 0.0:
                k = int(8 * sigma[axis] + 1)
                k += 1 - k % 2  # the kernel size must be odd
                d = F.gaussian_blur(d, [k, k], list(sigma))
            fields.append(d * alpha[axis] / size[1 - axis])  # x normalised by the width, y by the height
        return Tensor(np.ascontiguousarray(np.concatenate(fields, axis=1).transpose(0, 2, 3, 1)))

    def __call__(self, img: Any) -> Any:
        _, height, width = F.get_dimensions(img)
        displacement = self.get_params(self.alpha, self.sigma, [height, width])
        return F.elastic_transform(img, displacement, self.interpolation, self.fill)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(alpha={self.alpha}, sigma={self.sigma}, interpolation={self.interpolation}, "
                f"fill={self.fill})")


# ---------------------------------------------------------------------------- composition
class RandomApply:
    """Apply the ``transforms`` in order, all with probability ``p`` or none."""

    def __init__(self, transforms: Sequence[Callable], p: float = 0.5) -> None:
        self.transforms, self.p = transforms, p

    def __call__(self, img: Any) -> Any:
        if self.p < generator().random():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return type(self).__name__ + f"(\n    p={self.p}" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


class RandomTransforms:
    """Base of the transforms holding a sequence ``transforms`` to pick among."""

    def __init__(self, transforms: Sequence[Callable]) -> None:
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = transforms

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError()

    def __repr__(self) -> str:
        return type(self).__name__ + "(" + "".join(f"\n    {t}" for t in self.transforms) + "\n)"


class RandomOrder(RandomTransforms):
    """Apply all the ``transforms``, in a random order."""

    def __call__(self, img: Any) -> Any:
        for i in generator().permutation(len(self.transforms)):
            img = self.transforms[i](img)
        return img


class RandomChoice(RandomTransforms):
    """Apply one of the ``transforms``, picked with the relative weights ``p`` (None: uniformly)."""

    def __init__(self, transforms: Sequence[Callable], p: Sequence[float] | None = None) -> None:
        super().__init__(transforms)
        if p is not None and not isinstance(p, Sequence):
            raise TypeError("Argument p should be a sequence")
        self.p = p

    def __call__(self, *args: Any) -> Any:
        n = len(self.transforms)
        if self.p is None:
            return self.transforms[int(generator().integers(0, n))](*args)
        # random.choices' rule: the first cumulative weight above u * total
        cum_weights = list(itertools.accumulate(self.p))
        if len(cum_weights) != n:
            raise ValueError("The number of weights does not match the population")
        total = cum_weights[-1] + 0.0
        if total <= 0.0:
            raise ValueError("Total of weights must be greater than zero")
        return self.transforms[bisect.bisect(cum_weights, generator().random() * total, 0, n - 1)](*args)

    def __repr__(self) -> str:
        return f"{super().__repr__()}(p={self.p})"


class LinearTransformation:
    """``(x.flatten - mean_vector) @ transformation_matrix``, reshaped back, on each (C, H, W) image of a
    Tensor (D = C * H * W: a (D, D) matrix and a (D,) mean vector, e.g. for ZCA whitening)."""

    def __init__(self, transformation_matrix: Tensor, mean_vector: Tensor) -> None:
        shape = tuple(transformation_matrix.shape)
        if len(shape) != 2 or shape[0] != shape[1]:
            raise ValueError(f"transformation_matrix should be square. Got {shape} rectangular matrix.")
        if mean_vector.shape[0] != shape[0]:
            raise ValueError(f"mean_vector should have the same length {mean_vector.shape[0]} as any one of the "
                             f"dimensions of the transformation_matrix [{shape}]")
        if transformation_matrix.dtype != mean_vector.dtype:
            raise ValueError(f"Input tensors should have the same dtype. Got {transformation_matrix.dtype} and "
                             f"{mean_vector.dtype}")
        self.transformation_matrix, self.mean_vector = transformation_matrix, mean_vector

    def __call__(self, tensor: Tensor) -> Tensor:
        shape = tuple(tensor.shape)
        n = shape[-3] * shape[-2] * shape[-1]
        if n != self.transformation_matrix.shape[0]:
            raise ValueError("Input tensor and transformation matrix have incompatible shape."
                             f"[{shape[-3]} x {shape[-2]} x {shape[-1]}] != {self.transformation_matrix.shape[0]}")
        flat = tensor.reshape(-1, n) - self.mean_vector
        return (flat @ self.transformation_matrix.to(flat.dtype)).reshape(shape)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(transformation_matrix={self.transformation_matrix.tolist()}, "
                f"mean_vector={self.mean_vector.tolist()})")
