"""torch autograd as an independent oracle for the visible checks of a numpy implementation.

    value, (dW, db) = torch_value_and_grads(lambda W, b: ((to_torch(X) @ W + b) ** 2).mean(), W, b)

computes a scalar and its gradient with respect to each numpy array with torch, in float64, so a
check can compare a hand-written forward and backward pass with it. The arrays are copied into
tensors: nothing here modifies them.
"""

from __future__ import annotations

import numpy as np
import torch

from .validation import as_float_array

__all__ = ["to_torch", "torch_value_and_grads"]


def to_torch(array, requires_grad=False):
    """A float64 torch tensor holding a copy of ``array``.

    Inputs:
    - array: numpy array (any shape) or number; integers and booleans become float64.
    - requires_grad: ``True`` to make the tensor a leaf whose ``.grad`` autograd fills.

    Returns:
    - ``torch.Tensor`` of dtype float64 and the shape of ``array``, sharing no memory with it.
    """
    if not isinstance(requires_grad, bool):
        raise TypeError(f"requires_grad must be True or False, got {type(requires_grad).__name__}")
    values = as_float_array(array, "array", finite=False)
    return torch.tensor(np.array(values, dtype=np.float64), dtype=torch.float64, requires_grad=requires_grad)


def torch_value_and_grads(fn, *arrays):
    """Evaluate the scalar ``fn`` with torch and differentiate it with respect to every argument.

    Inputs:
    - fn: callable taking one float64 tensor per array and returning a scalar tensor
      (shape () or one element), built from torch operations so autograd can follow it.
    - arrays: numpy arrays (or numbers), each given to ``fn`` as a tensor with ``requires_grad``.

    Returns:
    - value: the value of ``fn`` as a Python float.
    - grads: list of float64 ndarrays, ``grads[i]`` = ∂fn/∂arrays[i] with the shape of ``arrays[i]``
      (zeros where ``fn`` does not depend on ``arrays[i]``).
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    tensors = []
    for index, array in enumerate(arrays):
        values = as_float_array(array, f"arrays[{index}]")
        tensors.append(to_torch(values, requires_grad=True))
    out = fn(*tensors)
    if not isinstance(out, torch.Tensor):
        raise TypeError(
            f"fn must return a torch tensor (build it from torch operations on its arguments), "
            f"got {type(out).__name__}"
        )
    if out.numel() != 1:
        raise ValueError(f"fn must return a scalar (one element), got a tensor of shape {tuple(out.shape)}")
    if out.requires_grad:
        out.reshape(()).backward()
    grads = [
        np.zeros(tuple(t.shape)) if t.grad is None else t.grad.detach().numpy().copy() for t in tensors
    ]
    return float(out.detach().reshape(()).item()), grads
