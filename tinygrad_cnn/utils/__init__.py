"""PyTorch's ``torch.utils`` counterpart; ``utils.data`` holds datasets, samplers and the DataLoader."""
