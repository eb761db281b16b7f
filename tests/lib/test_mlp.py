"""nnref.mlp against torch autograd (every depth, head, activation, dropout), gradient checks on
random architectures, initialisation, dtypes and bad input."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import nnref.mlp
from nnkit.gradcheck import gradient_check
from nnref.layers import dropout_forward
from nnref.mlp import MLP, init_std, two_layer_sigmoid_forward, two_layer_sigmoid_mse_grads
from torch_oracle import assert_close, assert_matches_torch

TORCH_ACTIVATIONS = {
    "identity": lambda t: t,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": F.relu,
    "leaky_relu": F.leaky_relu,
    "hard_tanh": F.hardtanh,
}
TORCH_REDUCE = {"mean": torch.mean, "sum": torch.sum,
                "half_sum": lambda v: 0.5 * v.sum(), "half_mean": lambda v: 0.5 * v.mean()}
SIZES = {1: [6, 4], 2: [6, 8, 4], 3: [6, 8, 7, 4], 4: [6, 5, 8, 7, 4]}


def make_data(model, n=9, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, model.layer_sizes[0]))
    n_out = model.layer_sizes[-1]
    y = rng.integers(0, n_out, n) if model.head == "ce" else rng.standard_normal((n, n_out))
    return X, y


def torch_loss(model, X, y, masks=()):
    """The same network written with torch ops, as a function of the parameter tensors."""
    def loss(*params):
        h = torch.tensor(X)
        for layer in range(model.n_layers):
            h = h @ params[2 * layer] + params[2 * layer + 1]
            if layer < model.n_layers - 1:
                h = TORCH_ACTIVATIONS[model.activation](h)
                if masks:
                    h = h * torch.tensor(masks[layer])
            else:
                h = TORCH_ACTIVATIONS[model.output_activation](h)
        if model.head == "ce":
            return F.cross_entropy(h, torch.tensor(y))
        return TORCH_REDUCE[model.mse_reduction](F.mse_loss(h, torch.tensor(y), reduction="none"))
    return loss


def record_dropout_masks(monkeypatch):
    """Let the MLP draw its masks as usual, and keep a copy of each scaled mask for the oracle."""
    masks = []

    def recording_dropout(x, p, **kwargs):
        out, cache = dropout_forward(x, p, **kwargs)
        masks.append(np.ones_like(x) if cache is None else cache.copy())
        return out, cache

    monkeypatch.setattr(nnref.mlp, "dropout_forward", recording_dropout)
    return masks


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("head", ["ce", "mse"])
@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
def test_loss_and_grads_match_torch(depth, head, activation):
    model = MLP(SIZES[depth], activation=activation, head=head, rng=np.random.default_rng(depth))
    X, y = make_data(model)
    loss, grads = model.loss_and_grads(X, y)
    assert [g.shape for g in grads] == [p.shape for p in model.params]
    assert_matches_torch(loss, grads, torch_loss(model, X, y), *model.params)


@pytest.mark.parametrize("activation", ["identity", "leaky_relu", "hard_tanh"])
def test_other_hidden_activations_match_torch(activation):
    model = MLP(SIZES[3], activation=activation, rng=np.random.default_rng(0), weight_scale=0.8)
    X, y = make_data(model)
    loss, grads = model.loss_and_grads(X, y)
    assert_matches_torch(loss, grads, torch_loss(model, X, y), *model.params)


@pytest.mark.parametrize("reduction", ["mean", "sum", "half_sum", "half_mean"])
@pytest.mark.parametrize("output_activation", ["identity", "sigmoid"])
def test_mse_head_reductions_and_output_activation_match_torch(reduction, output_activation):
    model = MLP(SIZES[2], activation="sigmoid", head="mse", mse_reduction=reduction,
                output_activation=output_activation, rng=np.random.default_rng(3))
    X, y = make_data(model)
    loss, grads = model.loss_and_grads(X, y)
    assert_matches_torch(loss, grads, torch_loss(model, X, y), *model.params)


@pytest.mark.parametrize("depth", [2, 3, 4])
@pytest.mark.parametrize("head", ["ce", "mse"])
def test_dropout_with_the_drawn_masks_matches_torch(depth, head, monkeypatch):
    masks = record_dropout_masks(monkeypatch)
    model = MLP(SIZES[depth], head=head, dropout=0.4, rng=np.random.default_rng(0))
    X, y = make_data(model)
    loss, grads = model.loss_and_grads(X, y, rng=np.random.default_rng(1))
    assert len(masks) == depth - 1 and all(np.any(m == 0) for m in masks)
    assert_matches_torch(loss, grads, torch_loss(model, X, y, masks), *model.params)


@pytest.mark.parametrize("scale", [30.0, 300.0])
def test_huge_logits_match_torch(scale):
    model = MLP(SIZES[2], rng=np.random.default_rng(4), weight_scale=scale)
    X, y = make_data(model)
    assert np.abs(model.forward(X)).max() > 1e3
    loss, grads = model.loss_and_grads(X, y)
    assert np.isfinite(loss)
    assert_matches_torch(loss, grads, torch_loss(model, X, y), *model.params)


def test_forward_predict_and_proba_match_torch_in_eval_mode():
    model = MLP(SIZES[3], dropout=0.5, rng=np.random.default_rng(5))
    X, y = make_data(model)
    with torch.no_grad():
        net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                                  torch.nn.Linear(8, 7), torch.nn.ReLU(), torch.nn.Dropout(0.5),
                                  torch.nn.Linear(7, 4)).double().eval()
        for linear, (w, b) in zip(net[::3], zip(model.params[::2], model.params[1::2])):
            linear.weight.copy_(torch.tensor(w.T))
            linear.bias.copy_(torch.tensor(b))
        logits = net(torch.tensor(X))
    assert_close(model.forward(X), logits.numpy())
    assert_close(model.forward(X), model.forward(X))  # evaluation mode is deterministic
    assert np.array_equal(model.predict(X), logits.argmax(dim=1).numpy())
    assert_close(model.predict_proba(X), torch.softmax(logits, dim=1).numpy())
    eval_loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y)).item()
    assert model.loss(X, y) == pytest.approx(eval_loss, rel=1e-12)


@settings(max_examples=12, deadline=None, derandomize=True)
@given(widths=st.lists(st.integers(1, 4), min_size=2, max_size=5),
       activation=st.sampled_from(["relu", "leaky_relu", "sigmoid", "tanh", "hard_tanh", "identity"]),
       head=st.sampled_from(["ce", "mse"]), n=st.integers(1, 4), seed=st.integers(0, 2**32 - 1))
def test_gradient_check_passes_for_random_architectures(widths, activation, head, n, seed):
    if head == "ce" and widths[-1] == 1:
        widths = widths[:-1] + [2]
    model = MLP(widths, activation=activation, head=head, rng=np.random.default_rng(seed), weight_scale=0.7)
    rng = np.random.default_rng(seed + 1)
    model.params[1::2] = [rng.standard_normal(b.shape) * 0.3 for b in model.params[1::2]]
    X, y = make_data(model, n=n, seed=seed)
    loss, grads = model.loss_and_grads(X, y)
    assert [g.shape for g in grads] == [p.shape for p in model.params]
    assert model.forward(X).shape == (n, widths[-1]) and np.isfinite(loss)
    probe = MLP(widths, activation=activation, head=head, rng=rng)

    def loss_at(*params):
        probe.params = list(params)
        return probe.loss_and_grads(X, y)[0]

    # finite differences carry ~1e-11 of round-off: the floor keeps vanishing gradients
    # (e.g. a chain of width-1 leaky units) from turning that noise into a large relative error
    report = gradient_check(loss_at, model.params, grads, h=1e-5, tol=1e-5, floor=1e-6)
    assert report.passed, str(report)
    wrong = [g * 1.001 for g in grads]
    if any(np.abs(g).max() > 1e-4 for g in grads):  # a 0.1 % error in any visible gradient is caught
        assert not gradient_check(loss_at, model.params, wrong, h=1e-5, tol=1e-5, floor=1e-6).passed


def test_initialisation_he_xavier_and_weight_scale():
    relu = MLP([400, 300, 10], activation="relu", rng=np.random.default_rng(0))
    tanh = MLP([400, 300, 10], activation="tanh", rng=np.random.default_rng(0))
    fixed = MLP([400, 300, 10], rng=np.random.default_rng(0), weight_scale=0.01)
    assert relu.params[0].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert tanh.params[0].std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)
    assert fixed.params[0].std() == pytest.approx(0.01, rel=0.02)
    assert init_std(400, 300, "leaky_relu") == np.sqrt(2 / 400) and init_std(400, 300, "sigmoid") == np.sqrt(2 / 700)
    assert all(np.all(b == 0) for b in relu.params[1::2])
    assert abs(relu.params[0].mean()) < 0.01
    again = MLP([400, 300, 10], activation="relu", rng=np.random.default_rng(0))
    assert all(np.array_equal(a, b) for a, b in zip(relu.params, again.params))


def test_float32_model_stays_float32_and_agrees_with_float64():
    m32 = MLP(SIZES[3], rng=np.random.default_rng(6), dtype=np.float32)
    m64 = MLP(SIZES[3], rng=np.random.default_rng(6))
    m64.params = [p.astype(np.float64) for p in m32.params]
    X, y = make_data(m32)
    loss32, grads32 = m32.loss_and_grads(X, y)
    loss64, grads64 = m64.loss_and_grads(X, y)
    assert all(p.dtype == np.float32 for p in m32.params) and m32.forward(X).dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads32)
    assert loss32 == pytest.approx(loss64, rel=1e-5)
    for g32, g64 in zip(grads32, grads64):
        assert_close(g32, g64, rtol=1e-4, atol=1e-5)


def test_one_output_regression_accepts_flat_targets():
    model = MLP([3, 4, 1], head="mse", rng=np.random.default_rng(0))
    X = np.random.default_rng(1).standard_normal((5, 3))
    y = np.arange(5.0)
    flat = model.loss_and_grads(X, y)
    column = model.loss_and_grads(X, y[:, None])
    assert flat[0] == column[0]
    assert model.predict(X).shape == (5, 1)


# ---- lecture 000 / 003 explicit formulas -----------------------------------------------------------

@pytest.mark.parametrize("form", ["lecture000", "lecture003"])
@pytest.mark.parametrize("n", [1, 6])
def test_two_layer_sigmoid_mse_grads_match_torch(form, n):
    rng = np.random.default_rng(n)
    X, D = rng.standard_normal((n, 4)), rng.uniform(0, 1, (n, 3))
    V, W = rng.standard_normal((4, 5)), rng.standard_normal((5, 3))
    E, dV, dW = two_layer_sigmoid_mse_grads(X, D, V, W, form=form)
    per_sample = (lambda sq: sq.mean(dim=1) / 2) if form == "lecture000" else (lambda sq: sq.sum(dim=1) / 2)

    def torch_E(V_, W_):
        O = torch.sigmoid(torch.sigmoid(torch.tensor(X) @ V_) @ W_)
        return per_sample((O - torch.tensor(D)) ** 2).mean()

    assert_matches_torch(E, [dV, dW], torch_E, V, W)


def test_two_layer_formulas_element_by_element_lecture_000():
    # ∂E/∂w_jk = (1/K)(o_k − d_k) o_k(1 − o_k) y_j;  ∂E/∂v_ij = Σ_k [(1/K)(o_k − d_k) f'(net_k) w_jk] f'(net_j) x_i
    rng = np.random.default_rng(9)
    x, d = rng.standard_normal(3), rng.uniform(0, 1, 2)
    V, W = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))
    _, dV, dW = two_layer_sigmoid_mse_grads(x[None], d[None], V, W)
    y = 1 / (1 + np.exp(-(x @ V)))
    o = 1 / (1 + np.exp(-(y @ W)))
    K = 2
    for j in range(4):
        for k in range(2):
            assert dW[j, k] == pytest.approx((o[k] - d[k]) / K * o[k] * (1 - o[k]) * y[j], rel=1e-12)
    for i in range(3):
        for j in range(4):
            back = sum((o[k] - d[k]) / K * o[k] * (1 - o[k]) * W[j, k] for k in range(K))
            assert dV[i, j] == pytest.approx(back * y[j] * (1 - y[j]) * x[i], rel=1e-12)


@pytest.mark.parametrize("form, reduction, n", [("lecture000", "half_mean", 5), ("lecture003", "half_sum", 1)])
def test_mlp_mse_reduction_expresses_the_lecture_forms(form, reduction, n):
    rng = np.random.default_rng(2)
    X, D = rng.standard_normal((n, 4)), rng.uniform(0, 1, (n, 3))
    V, W = rng.standard_normal((4, 5)), rng.standard_normal((5, 3))
    model = MLP([4, 5, 3], activation="sigmoid", head="mse", mse_reduction=reduction,
                output_activation="sigmoid", rng=rng)
    model.params = [V, np.zeros(5), W, np.zeros(3)]
    E, dV, dW = two_layer_sigmoid_mse_grads(X, D, V, W, form=form)
    loss, grads = model.loss_and_grads(X, D)
    assert_close(loss, E)
    assert_close(grads[0], dV)
    assert_close(grads[2], dW)
    assert_close(two_layer_sigmoid_forward(X, V, W)[1], model.forward(X))


# ---- bad input -----------------------------------------------------------------------------------

def test_bad_constructor_arguments_are_named():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"layer_sizes must list at least two positive ints .* got \[5\]"):
        MLP([5], rng=rng)
    with pytest.raises(ValueError, match=r"layer_sizes must list .* got \[5, 0, 3\]"):
        MLP([5, 0, 3], rng=rng)
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator, got int"):
        MLP([5, 3], rng=0)
    with pytest.raises(ValueError, match=r"activation must be one of .*'relu'.*, got 'softplus'"):
        MLP([5, 3], activation="softplus", rng=rng)
    with pytest.raises(ValueError, match=r"head must be one of 'ce', 'mse', got 'svm'"):
        MLP([5, 3], head="svm", rng=rng)
    with pytest.raises(ValueError, match="head='ce' takes logits, so output_activation must be 'identity', got 'sigmoid'"):
        MLP([5, 3], output_activation="sigmoid", rng=rng)
    with pytest.raises(ValueError, match=r"mse_reduction must be one of .* got 'avg'"):
        MLP([5, 3], head="mse", mse_reduction="avg", rng=rng)
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 1.5"):
        MLP([5, 3], dropout=1.5, rng=rng)
    with pytest.raises(TypeError, match="dtype must be np.float32 or np.float64, got int64"):
        MLP([5, 3], dtype=np.int64, rng=rng)


def test_bad_data_is_named():
    model = MLP([5, 4, 3], rng=np.random.default_rng(0), dropout=0.5)
    X = np.zeros((4, 5))
    with pytest.raises(ValueError, match=r"X must have shape \(N, 5\) for this network, got shape \(4, 6\)"):
        model.forward(np.zeros((4, 6)))
    with pytest.raises(ValueError, match=r"X must be 2-D, got shape \(5,\)"):
        model.predict(np.zeros(5))
    with pytest.raises(ValueError, match=r"y has class index 3 but there are only 3 classes"):
        model.loss_and_grads(X, np.array([0, 1, 2, 3]), rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"X and y must have the same number of samples \(rows\): X has shape \(4, 5\), y has shape \(3,\)"):
        model.loss_and_grads(X, np.array([0, 1, 2]), rng=np.random.default_rng(0))
    with pytest.raises(TypeError, match="rng must be a numpy.random.Generator when train=True and p > 0, got NoneType"):
        model.loss_and_grads(X, np.array([0, 1, 2, 0]))
    with pytest.raises(ValueError, match=r"X contains 1 NaN"):
        model.forward(np.where(np.arange(20).reshape(4, 5) == 7, np.nan, 0.0))
    regression = MLP([5, 2], head="mse", rng=np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"predict_proba needs head='ce', this network has head='mse'"):
        regression.predict_proba(X)
    with pytest.raises(ValueError, match=r"y must have shape \(4, 2\) for X of shape \(4, 5\), got shape \(3, 2\)"):
        regression.loss_and_grads(X, np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"y must have shape \(4, 2\) for X of shape \(4, 5\), got shape \(4,\)"):
        regression.loss_and_grads(X, np.zeros(4))
    with pytest.raises(ValueError, match=r"shapes do not chain: X \(4, 5\) needs V of shape \(5, J\) and W of shape \(J, K\); got V \(4, 3\) and W \(3, 2\)"):
        two_layer_sigmoid_mse_grads(X, np.zeros((4, 2)), np.zeros((4, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"D must have the shape of the network outputs \(4, 2\), got shape \(4, 3\)"):
        two_layer_sigmoid_mse_grads(X, np.zeros((4, 3)), np.zeros((5, 3)), np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"form must be one of 'lecture000', 'lecture003', got 'cs231n'"):
        two_layer_sigmoid_mse_grads(X, np.zeros((4, 2)), np.zeros((5, 3)), np.zeros((3, 2)), form="cs231n")


@pytest.mark.parametrize("head", ["ce", "mse"])
def test_from_params_adopts_the_arrays_and_matches_torch(head):
    source = MLP(SIZES[3], head=head, activation="tanh", rng=np.random.default_rng(7))
    X, y = make_data(source)
    net = MLP.from_params(source.params, head=head, activation="tanh")
    assert all(mine is theirs for mine, theirs in zip(net.params, source.params))
    assert net.layer_sizes == source.layer_sizes
    before = [p.copy() for p in net.params]
    loss, grads = net.loss_and_grads(X, y)
    assert_matches_torch(loss, grads, torch_loss(source, X, y), *source.params)
    assert all(np.array_equal(p, q) for p, q in zip(net.params, before))  # never written into


def test_from_params_rejects_bad_parameter_lists():
    W1, b1 = np.zeros((3, 4)), np.zeros(4)
    with pytest.raises(ValueError, match=r"params must be \[W_1, b_1, \.\.\., W_L, b_L\], got 3 arrays"):
        MLP.from_params([W1, b1, np.zeros((4, 2))])
    with pytest.raises(ValueError, match=r"params\[2\] and params\[3\] must have shapes \(4, H\) and \(H,\), "
                                         r"got \(5, 2\) and \(2,\)"):
        MLP.from_params([W1, b1, np.zeros((5, 2)), np.zeros(2)])
    with pytest.raises(TypeError, match=r"params\[1\] must be a numpy array of dtype float64"):
        MLP.from_params([W1, b1.astype(np.float32)])
