"""nnref.normalization against torch.nn.BatchNorm1d: forward in train() and eval() mode, the autograd
backward, the running statistics over several steps (torch's momentum convention and its unbiased
running variance), numerical gradients, and CS231n's momentum convention mapped (docs/conventions.md)."""

import copy

import numpy as np
import pytest
import torch

import nnkit.gradcheck
from nnref import normalization as bn
from torch_oracle import assert_close

RNG = np.random.default_rng(31)


def _torch_bn(D, gamma, beta, *, eps=1e-5, momentum=0.1, running_mean=None, running_var=None):
    module = torch.nn.BatchNorm1d(D, eps=eps, momentum=momentum, dtype=torch.float64)
    with torch.no_grad():
        module.weight.copy_(torch.from_numpy(gamma))
        module.bias.copy_(torch.from_numpy(beta))
        if running_mean is not None:
            module.running_mean.copy_(torch.from_numpy(running_mean))
            module.running_var.copy_(torch.from_numpy(running_var))
    return module


@pytest.mark.parametrize("N, D, shift, scale", [(2, 1, 0.0, 1.0), (8, 5, 3.0, 2.0), (16, 3, -50.0, 0.01)])
def test_training_forward_and_backward_match_batchnorm1d(N, D, shift, scale):
    x = shift + scale * RNG.normal(size=(N, D))
    gamma, beta, dout = RNG.normal(size=D), RNG.normal(size=D), RNG.normal(size=(N, D))
    out, cache = bn.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    dx, dgamma, dbeta = bn.batchnorm_backward(dout, cache)
    module = _torch_bn(D, gamma, beta).train()
    x_t = torch.tensor(x, requires_grad=True)
    out_t = module(x_t)
    out_t.backward(torch.from_numpy(dout))
    assert_close(out, out_t.detach().numpy(), rtol=1e-7, atol=1e-10)
    assert_close(dx, x_t.grad.numpy(), rtol=1e-6, atol=1e-9)
    assert_close(dgamma, module.weight.grad.numpy(), rtol=1e-7, atol=1e-10)
    assert_close(dbeta, module.bias.grad.numpy())


def test_evaluation_forward_and_backward_match_batchnorm1d():
    N, D = 6, 4
    x, gamma, beta, dout = RNG.normal(size=(N, D)), RNG.normal(size=D), RNG.normal(size=D), RNG.normal(size=(N, D))
    running_mean, running_var = RNG.normal(size=D), RNG.uniform(0.1, 3, size=D)
    param = {"mode": "eval", "eps": 1e-3, "running_mean": running_mean, "running_var": running_var}
    out, cache = bn.batchnorm_forward(x, gamma, beta, param)
    dx, dgamma, dbeta = bn.batchnorm_backward(dout, cache)
    module = _torch_bn(D, gamma, beta, eps=1e-3, running_mean=running_mean, running_var=running_var).eval()
    x_t = torch.tensor(x, requires_grad=True)
    out_t = module(x_t)
    out_t.backward(torch.from_numpy(dout))
    assert_close(out, out_t.detach().numpy())
    for got, want in ((dx, x_t.grad), (dgamma, module.weight.grad), (dbeta, module.bias.grad)):
        assert_close(got, want.numpy())
    # one sample is enough in evaluation mode
    out1, _ = bn.batchnorm_forward(x[:1], gamma, beta, param)
    assert_close(out1, out[:1])


def test_running_statistics_follow_batchnorm1d_over_several_steps():
    D = 3
    gamma, beta = RNG.normal(size=D), RNG.normal(size=D)
    for momentum in (0.1, 0.5, 1.0):
        module = _torch_bn(D, gamma, beta, momentum=momentum).train()
        param = {"mode": "train", "momentum": momentum}  # no running statistics yet: zeros and ones
        for step in range(5):
            x = RNG.normal(loc=step, scale=1 + step, size=(int(RNG.integers(2, 9)), D))
            with torch.no_grad():
                module(torch.from_numpy(x))
            new = bn.update_running_stats(param, x)
            assert new is not param and set(new) == {"mode", "momentum", "running_mean", "running_var"}
            param = new
            assert_close(param["running_mean"], module.running_mean.numpy())
            assert_close(param["running_var"], module.running_var.numpy())
        frozen = bn.update_running_stats({**param, "mode": "eval"}, RNG.normal(size=(4, D)))
        assert_close(frozen["running_mean"], param["running_mean"])
        assert_close(frozen["running_var"], param["running_var"])


def test_cs231n_momentum_is_one_minus_torch_momentum():
    # CS231n: running = m · running + (1 − m) · batch with the biased variance; torch: (1 − m) · running + m · batch
    # with the unbiased one. With m_cs231n = 1 − m_torch the means agree and the variances differ by N/(N − 1).
    x, mean0, var0 = RNG.normal(size=(5, 2)), RNG.normal(size=2), RNG.uniform(1, 2, size=2)
    m_cs231n = 0.9
    new = bn.update_running_stats({"mode": "train", "momentum": 1 - m_cs231n, "running_mean": mean0,
                                   "running_var": var0}, x)
    assert_close(new["running_mean"], m_cs231n * mean0 + (1 - m_cs231n) * x.mean(axis=0))
    assert_close(new["running_var"], m_cs231n * var0 + (1 - m_cs231n) * x.var(axis=0) * 5 / 4)


def test_training_gradients_match_numerical_gradients():
    x, gamma, beta, dout = RNG.normal(size=(5, 3)), RNG.normal(size=3), RNG.normal(size=3), RNG.normal(size=(5, 3))

    def loss(x_, gamma_, beta_):
        return float(np.sum(dout * bn.batchnorm_forward(x_, gamma_, beta_, {"mode": "train"})[0]))

    _, cache = bn.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    report = nnkit.gradcheck.gradient_check(loss, [x, gamma, beta], list(bn.batchnorm_backward(dout, cache)),
                                            tol=1e-6)
    assert report.passed, report


def test_normalised_batch_has_zero_mean_unit_variance_and_constant_features_give_beta():
    x = RNG.normal(loc=7, scale=3, size=(50, 4))
    x[:, 2] = 5.0  # a constant feature: variance 0, x̂ = 0 thanks to ε
    out, (x_hat, _, std, mode) = bn.batchnorm_forward(x, np.ones(4), np.array([0, 0, 2.5, 0.0]), {"mode": "train"})
    assert mode == "train" and std.shape == (4,)
    assert_close(out[:, [0, 1, 3]].mean(axis=0), np.zeros(3), atol=1e-12)
    assert_close(out[:, [0, 1, 3]].var(axis=0), np.ones(3) / (1 + 1e-5 / x[:, [0, 1, 3]].var(axis=0)), rtol=1e-9)
    assert_close(out[:, 2], np.full(50, 2.5))


def test_errors_and_no_mutation():
    x, gamma, beta = RNG.normal(size=(1, 3)), np.ones(3), np.zeros(3)
    with pytest.raises(ValueError, match="more than 1 sample"):
        bn.batchnorm_forward(x, gamma, beta, {"mode": "train"})
    with pytest.raises(ValueError, match="more than 1 sample"):
        bn.update_running_stats({"mode": "train"}, x)
    with pytest.raises(ValueError, match=r"bn_param\['mode'\] must be 'train' or 'eval'"):
        bn.batchnorm_forward(x, gamma, beta, {"mode": "test"})
    with pytest.raises(ValueError, match=r"gamma must have shape \(3,\)"):
        bn.batchnorm_forward(np.zeros((2, 3)), np.ones(2), beta, {"mode": "train"})
    x = RNG.normal(size=(4, 3))
    param = {"mode": "train", "running_mean": RNG.normal(size=3), "running_var": np.ones(3)}
    before = copy.deepcopy((x, gamma, beta, param))
    out, cache = bn.batchnorm_forward(x, gamma, beta, param)
    bn.batchnorm_backward(np.ones_like(out), cache)
    bn.update_running_stats(param, x)
    assert np.array_equal(x, before[0]) and np.array_equal(gamma, before[1]) and np.array_equal(beta, before[2])
    assert all(np.array_equal(param[k], before[3][k]) for k in ("running_mean", "running_var"))
    gamma *= 2  # the cache keeps its own copy
    assert_close(cache[1], np.ones(3))


def test_float32_stays_float32():
    x = RNG.normal(size=(6, 2)).astype(np.float32)
    out, cache = bn.batchnorm_forward(x, np.ones(2, np.float32), np.zeros(2, np.float32), {"mode": "train"})
    assert out.dtype == np.float32
    assert all(g.dtype == np.float32 for g in bn.batchnorm_backward(np.ones_like(out), cache))
