"""make_grid, as torchvision's default layout (8 per row, padding 2)."""

import torch


def make_grid(tensor, nrow=8, padding=2, pad_value=0.0):
    n, c, h, w = tensor.shape
    cols = min(nrow, n)
    rows = (n + cols - 1) // cols
    grid = torch.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding), pad_value)
    for k in range(n):
        y, x = divmod(k, cols)
        grid[:, y * (h + padding) + padding:(y + 1) * (h + padding), x * (w + padding) + padding:(x + 1) * (w + padding)] = tensor[k]
    return grid
