"""Batch normalisation with a forward/backward API (deck 003: "batch normalization" against vanishing
and exploding gradients; deck 001: among the generalisation techniques; deck 000: ``nn.BatchNorm1d``):
the reference for assignment ``07_initialization_normalization_convolution``.

For a batch x (N, D), feature by feature (Ioffe & Szegedy 2015):

    μ = (1/N) Σ_n x_n,   σ² = (1/N) Σ_n (x_n − μ)²,   x̂ = (x − μ) / √(σ² + ε),   out = γ x̂ + β.

* ``batchnorm_forward(x, gamma, beta, bn_param) -> (out, cache)``: training mode normalises with the
  batch's μ and (biased) σ²; evaluation mode with the running averages in ``bn_param``;
* ``batchnorm_backward(dout, cache) -> (dx, dgamma, dbeta)``;
* ``update_running_stats(bn_param, x) -> new bn_param``: the running averages after one training batch.

``bn_param`` is a dict: ``"mode"`` (``"train"`` or ``"eval"``, required), ``"eps"`` (default 1e-5),
``"momentum"`` (default 0.1), ``"running_mean"`` (default zeros) and ``"running_var"`` (default ones),
torch's defaults and its momentum convention:
running = (1 − momentum) · running + momentum · batch statistic, with the **unbiased** batch variance
(N − 1 in the denominator) in ``running_var`` and the biased one in the normalisation
(``docs/conventions.md`` maps CS231n's momentum = 1 − torch's). Together the three functions are
``torch.nn.BatchNorm1d(D, eps, momentum)``: its forward in ``train()`` / ``eval()`` mode, its autograd
backward, and its buffers ``running_mean`` / ``running_var``, which torch updates in place during the
forward pass. Here nothing modifies its arguments: ``update_running_stats`` returns a new dict.

The cache is part of the API: ``(x_hat, gamma, std, mode)`` with ``std = √(σ² + ε)`` of the statistics
used (batch or running), shape (D,), so that ``batchnorm_backward`` works with any forward pass that
keeps it.
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array, check_positive, check_probability

from .layers import _check_dout

__all__ = ["batchnorm_forward", "batchnorm_backward", "update_running_stats", "BN_DEFAULTS"]

BN_DEFAULTS = {"eps": 1e-5, "momentum": 0.1}  # torch.nn.BatchNorm1d's


def _mode(bn_param):
    if not isinstance(bn_param, dict):
        raise TypeError(f"bn_param must be a dict, got {type(bn_param).__name__}")
    mode = bn_param.get("mode")
    if mode not in ("train", "eval"):
        raise ValueError(f"bn_param['mode'] must be 'train' or 'eval', got {mode!r}")
    return mode


def _running(bn_param, D, dtype):
    """The running mean and variance of ``bn_param`` (torch's initial zeros and ones when absent)."""
    mean = bn_param.get("running_mean")
    var = bn_param.get("running_var")
    mean = np.zeros(D, dtype=dtype) if mean is None else as_float_array(mean, "bn_param['running_mean']", ndim=1)
    var = np.ones(D, dtype=dtype) if var is None else as_float_array(var, "bn_param['running_var']", ndim=1)
    for name, value in (("running_mean", mean), ("running_var", var)):
        if value.shape != (D,):
            raise ValueError(f"bn_param['{name}'] must have shape ({D},), one entry per feature, got shape {value.shape}")
    if np.any(var < 0):
        raise ValueError("bn_param['running_var'] must be >= 0")
    return mean, var


def _batch(x, name="x"):
    x = as_float_array(x, name, ndim=2)
    return x


def _check_training_batch(x):
    if x.shape[0] < 2:
        raise ValueError(f"training mode needs more than 1 sample per feature to estimate a variance "
                         f"(torch: 'Expected more than 1 value per channel when training'), got x of shape {x.shape}")


def batchnorm_forward(x, gamma, beta, bn_param):
    """Batch normalisation of x (N, D) with scale gamma (D,) and shift beta (D,).

    ``bn_param["mode"] == "train"``: μ = mean of the batch, σ² = its biased variance (ddof = 0),
    N ≥ 2 (else ``ValueError``); ``"eval"``: μ, σ² = ``bn_param["running_mean"]``, ``["running_var"]``.
    std = √(σ² + ε) with ε = ``bn_param.get("eps", 1e-5)``; x̂ = (x − μ) / std; out = γ x̂ + β.
    Returns ``(out, cache)`` with out (N, D) and cache = ``(x_hat, gamma, std, mode)``.
    The running averages are not touched: see ``update_running_stats``.
    """
    mode = _mode(bn_param)
    x = _batch(x)
    N, D = x.shape
    gamma = as_float_array(gamma, "gamma", ndim=1)
    beta = as_float_array(beta, "beta", ndim=1)
    for name, value in (("gamma", gamma), ("beta", beta)):
        if value.shape != (D,):
            raise ValueError(f"{name} must have shape ({D},), one entry per feature of x {x.shape}, got shape {value.shape}")
    eps = check_positive(bn_param.get("eps", BN_DEFAULTS["eps"]), "bn_param['eps']")
    if mode == "train":
        _check_training_batch(x)
        mean, var = x.mean(axis=0), x.var(axis=0)
    else:
        mean, var = _running(bn_param, D, x.dtype)
    std = np.sqrt(var + eps).astype(x.dtype, copy=False)
    x_hat = (x - mean) / std
    out = gamma * x_hat + beta
    return out, (x_hat, gamma.copy(), std, mode)


def batchnorm_backward(dout, cache):
    """Backward pass of ``batchnorm_forward``: ``(dx, dgamma, dbeta)`` from dout = ∂L/∂out (N, D).

    dβ = Σ_n dout_n,  dγ = Σ_n dout_n ⊙ x̂_n,  dx̂ = dout ⊙ γ. In training mode μ and σ² depend on
    every sample, and the chain rule through them gives
    dx = (dx̂ − mean_n(dx̂) − x̂ ⊙ mean_n(dx̂ ⊙ x̂)) / std;
    in evaluation mode μ and σ² are constants and dx = dx̂ / std.
    cache = ``(x_hat, gamma, std, mode)`` from the forward pass. Shapes: dx (N, D), dgamma, dbeta (D,).
    """
    x_hat, gamma, std, mode = cache
    dout = _check_dout(dout, x_hat.shape)
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    if mode == "train":
        dx = (dx_hat - dx_hat.mean(axis=0) - x_hat * (dx_hat * x_hat).mean(axis=0)) / std
    else:
        dx = dx_hat / std
    return dx, dgamma, dbeta


def update_running_stats(bn_param, x):
    """The running averages after the training batch x (N, D): a new dict, ``bn_param`` is unchanged.

    In ``"train"`` mode (N ≥ 2, else ``ValueError``), with m = ``bn_param.get("momentum", 0.1)``:
    running_mean ← (1 − m) · running_mean + m · μ_batch,
    running_var  ← (1 − m) · running_var + m · σ²_batch,unbiased  (Σ (x − μ)² / (N − 1)),
    starting from zeros and ones when ``bn_param`` has none (torch's convention). In ``"eval"`` mode
    nothing is updated. Returns a copy of ``bn_param`` with the two entries set (new arrays).
    """
    mode = _mode(bn_param)
    x = _batch(x)
    N, D = x.shape
    mean, var = _running(bn_param, D, x.dtype)
    new = dict(bn_param)
    if mode == "train":
        _check_training_batch(x)
        momentum = check_probability(bn_param.get("momentum", BN_DEFAULTS["momentum"]), "bn_param['momentum']",
                                     allow_one=True)
        mean = (1.0 - momentum) * mean + momentum * x.mean(axis=0)
        var = (1.0 - momentum) * var + momentum * x.var(axis=0, ddof=1)
    new["running_mean"], new["running_var"] = np.array(mean), np.array(var)
    return new
