"""torchvision's colour transform classes: Grayscale, RandomGrayscale, ColorJitter and the random
point operations (invert, posterize, solarize, sharpness, autocontrast, equalize).

Random draws come from the package's generator (tinygrad_cnn.random.generator()), in
torchvision's order, so ``tinygrad_cnn.manual_seed`` makes them reproducible. Arguments,
checks and reprs follow torchvision's.
"""

from __future__ import annotations

import numbers
from typing import Any, Sequence

from tinygrad_cnn.random import generator
from tinygrad_cnn.tensor import Tensor
from tinygrad_cnn.vision.transforms import functional as F
from tinygrad_cnn.vision.transforms.transforms import _uniform, _WithProbability


class Grayscale:
    """Convert to grayscale with ``num_output_channels`` (1, or 3 with r = g = b) channels."""

    def __init__(self, num_output_channels: int = 1) -> None:
        self.num_output_channels = num_output_channels

    def __call__(self, img: Any) -> Any:
        return F.rgb_to_grayscale(img, num_output_channels=self.num_output_channels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale:
    """With probability ``p``, convert to grayscale keeping the channel count (3 channels become r = g = b)."""

    def __init__(self, p: float = 0.1) -> None:
        self.p = p

    def __call__(self, img: Any) -> Any:
        num_output_channels, _, _ = F.get_dimensions(img)
        if generator().random() < self.p:
            return F.rgb_to_grayscale(img, num_output_channels=num_output_channels)
        return img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class ColorJitter:
    """Adjust brightness, contrast, saturation and hue by factors drawn uniformly from their ranges, in a
    random order. A number b gives [max(0, 1 - b), 1 + b] (hue h: [-h, h], within [-0.5, 0.5]); a
    (min, max) pair is used as given; a range that is just the identity turns the adjustment off."""

    def __init__(self, brightness: float | Sequence[float] = 0, contrast: float | Sequence[float] = 0,
                 saturation: float | Sequence[float] = 0, hue: float | Sequence[float] = 0) -> None:
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    def _check_input(self, value: Any, name: str, center: float = 1, bound: tuple[float, float] = (0, float("inf")),
                     clip_first_on_zero: bool = True) -> tuple[float, float] | None:
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
        return None if value[0] == value[1] == center else tuple(value)

    @staticmethod
    def get_params(brightness: Sequence[float] | None, contrast: Sequence[float] | None,
                   saturation: Sequence[float] | None, hue: Sequence[float] | None
                   ) -> tuple[Tensor, float | None, float | None, float | None, float | None]:
        """``(order, b, c, s, h)``: a random permutation of the four adjustments (0 brightness, 1 contrast,
        2 saturation, 3 hue) as an int64 Tensor, then each factor drawn from its range (None when off)."""
        fn_idx = Tensor(generator().permutation(4))
        b = None if brightness is None else _uniform(brightness[0], brightness[1])
        c = None if contrast is None else _uniform(contrast[0], contrast[1])
        s = None if saturation is None else _uniform(saturation[0], saturation[1])
        h = None if hue is None else _uniform(hue[0], hue[1])
        return fn_idx, b, c, s, h

    def __call__(self, img: Any) -> Any:
        fn_idx, brightness, contrast, saturation, hue = self.get_params(self.brightness, self.contrast,
                                                                        self.saturation, self.hue)
        for fn_id in fn_idx.tolist():
            if fn_id == 0 and brightness is not None:
                img = F.adjust_brightness(img, brightness)
            elif fn_id == 1 and contrast is not None:
                img = F.adjust_contrast(img, contrast)
            elif fn_id == 2 and saturation is not None:
                img = F.adjust_saturation(img, saturation)
            elif fn_id == 3 and hue is not None:
                img = F.adjust_hue(img, hue)
        return img

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class RandomInvert(_WithProbability):
    """Invert the colours (``max - img``) with probability ``p``."""

    def _apply(self, img: Any) -> Any:
        return F.invert(img)


class RandomAutocontrast(_WithProbability):
    """Stretch each channel to the full range with probability ``p``."""

    def _apply(self, img: Any) -> Any:
        return F.autocontrast(img)


class RandomEqualize(_WithProbability):
    """Equalize the histogram of each channel with probability ``p``."""

    def _apply(self, img: Any) -> Any:
        return F.equalize(img)


class RandomPosterize(_WithProbability):
    """Keep only the top ``bits`` bits of each value, with probability ``p``."""

    def __init__(self, bits: int, p: float = 0.5) -> None:
        super().__init__(p)
        self.bits = bits

    def _apply(self, img: Any) -> Any:
        return F.posterize(img, self.bits)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(bits={self.bits},p={self.p})"


class RandomSolarize(_WithProbability):
    """Invert every value at or above ``threshold``, with probability ``p``."""

    def __init__(self, threshold: float, p: float = 0.5) -> None:
        super().__init__(p)
        self.threshold = threshold

    def _apply(self, img: Any) -> Any:
        return F.solarize(img, self.threshold)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(threshold={self.threshold},p={self.p})"


class RandomAdjustSharpness(_WithProbability):
    """Adjust the sharpness by ``sharpness_factor`` (0 blurs, 1 keeps, 2 sharpens), with probability ``p``."""

    def __init__(self, sharpness_factor: float, p: float = 0.5) -> None:
        super().__init__(p)
        self.sharpness_factor = sharpness_factor

    def _apply(self, img: Any) -> Any:
        return F.adjust_sharpness(img, self.sharpness_factor)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(sharpness_factor={self.sharpness_factor},p={self.p})"
