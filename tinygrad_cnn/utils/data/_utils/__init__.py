"""Internals of the data loader, as torch.utils.data._utils: collate."""
