"""torch.autograd as an independent oracle for the numpy reference (float64 throughout)."""

from __future__ import annotations

import numpy as np
import torch

RTOL = 1e-7
ATOL = 1e-12


def torch_value_and_grads(fn, *arrays, upstream=None):
    """Run ``fn`` on float64 tensors built from ``arrays`` and backpropagate.

    The output is reduced with ``upstream`` (∂L/∂out, default: ones for a tensor output, 1 for a
    scalar). Returns (value as ndarray, [gradient of each array as ndarray]).
    """
    tensors = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*tensors)
    weights = torch.ones_like(out) if upstream is None else torch.as_tensor(np.asarray(upstream, dtype=np.float64))
    (out * weights).sum().backward()
    grads = [t.grad.numpy() if t.grad is not None else np.zeros(t.shape) for t in tensors]
    return out.detach().numpy(), grads


def assert_close(actual, expected, *, rtol=RTOL, atol=ATOL, what="value"):
    """``np.testing.assert_allclose`` with the suite's float64 tolerances and a named message."""
    np.testing.assert_allclose(np.asarray(actual, dtype=np.float64), np.asarray(expected, dtype=np.float64),
                               rtol=rtol, atol=atol, err_msg=what)


def assert_matches_torch(value, grads, torch_fn, *arrays, upstream=None, rtol=RTOL, atol=ATOL):
    """Check a numpy value and its gradients against ``torch_fn`` evaluated by autograd."""
    expected_value, expected_grads = torch_value_and_grads(torch_fn, *arrays, upstream=upstream)
    assert_close(value, expected_value, rtol=rtol, atol=atol, what="forward value")
    assert len(grads) == len(expected_grads)
    for i, (grad, expected) in enumerate(zip(grads, expected_grads)):
        assert np.shape(grad) == np.shape(expected), f"gradient {i}: shape {np.shape(grad)} != {np.shape(expected)}"
        assert_close(grad, expected, rtol=rtol, atol=atol, what=f"gradient {i}")
