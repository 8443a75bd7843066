"""The differentiable ops, one module per family; each op is a Function subclass."""
