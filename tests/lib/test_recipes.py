"""nnref.recipes (homework 2's reference) against independent oracles: torch.autograd, torch.optim.Adam
replaying the same mini-batches, numerical gradients, scikit-learn's accuracy_score, lecture 000's HelloMLP,
nn.CrossEntropyLoss, and learning on scikit-learn's digits; the grader's torch-free forward pass of exported
nn.Linear weights against the torch networks themselves (evaluation mode)."""

import time
from dataclasses import replace

import numpy as np
import pytest
import torch
from sklearn.metrics import accuracy_score
from torch import nn
from torch.nn import functional as F

from nnkit import datasets
from nnkit.gradcheck import gradient_check
from nnref import recipes
from nnref.frameworks import HelloMLP
from torch_oracle import assert_close

RNG = np.random.default_rng(2024)


def _network(sizes, n_samples, rng=RNG):
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params += [rng.normal(size=(fan_in, fan_out)), rng.normal(scale=0.5, size=fan_out)]
    return params, rng.normal(size=(n_samples, sizes[0])), rng.integers(0, sizes[-1], size=n_samples)


def _torch_scores(params, X):
    """Independent forward pass: Linear/ReLU with torch tensors (float64), gradients enabled."""
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    h = torch.tensor(X)
    for layer in range(len(params) // 2):
        h = h @ tensors[2 * layer] + tensors[2 * layer + 1]
        if layer < len(params) // 2 - 1:
            h = torch.relu(h)
    return h, tensors


@pytest.mark.parametrize("sizes", [(3, 4), (5, 7, 3), (4, 6, 5, 2), (2, 3, 3, 3, 4)])
def test_mlp_loss_matches_torch_autograd(sizes):
    params, X, y = _network(sizes, 9)
    scores, tensors = _torch_scores(params, X)
    assert_close(recipes.mlp_loss(params, X), scores.detach().numpy(), what="scores")
    loss = F.cross_entropy(scores, torch.from_numpy(y))
    loss.backward()
    value, grads = recipes.mlp_loss(params, X, y)
    assert_close(value, loss.item(), what="loss")
    assert len(grads) == len(params)
    for grad, tensor in zip(grads, tensors):
        assert_close(grad, tensor.grad.numpy(), what="gradient")


def test_mlp_loss_with_dropout_passes_a_gradient_check_and_ignores_dropout_in_evaluation():
    params, X, y = _network((4, 8, 6, 3), 10)
    loss, grads = recipes.mlp_loss(params, X, y, dropout=0.4, rng=np.random.default_rng(5))
    report = gradient_check(lambda *p: recipes.mlp_loss(list(p), X, y, dropout=0.4, rng=np.random.default_rng(5))[0],
                            params, grads, tol=1e-4, floor=1e-5)  # dropped units: exact 0 gradients
    assert report.passed, str(report)
    assert loss != pytest.approx(recipes.mlp_loss(params, X, y)[0])
    np.testing.assert_array_equal(recipes.mlp_loss(params, X, dropout=0.4, rng=np.random.default_rng(5)),
                                  recipes.mlp_loss(params, X))


def test_mlp_loss_keeps_float32_and_never_mutates():
    params, X, y = _network((6, 5, 3), 4)
    params32 = [p.astype(np.float32) for p in params]
    copies = [p.copy() for p in params32]
    loss, grads = recipes.mlp_loss(params32, X.astype(np.float32), y)
    assert all(g.dtype == np.float32 for g in grads)
    for p, c in zip(params32, copies):
        np.testing.assert_array_equal(p, c)


def test_mlp_loss_rejects_parameters_that_do_not_chain():
    with pytest.raises(ValueError, match=r"params\[2\]"):
        recipes.mlp_loss([np.ones((3, 4)), np.zeros(4), np.ones((5, 2)), np.zeros(2)], np.ones((1, 3)))
    with pytest.raises(ValueError, match="W_1, b_1"):
        recipes.mlp_loss([np.ones((3, 4))], np.ones((1, 3)))


def test_mlp_accuracy_equals_sklearn_accuracy_of_the_torch_forward_pass():
    params, X, y = _network((5, 7, 4), 300)
    predictions = _torch_scores(params, X)[0].argmax(dim=1).numpy()
    assert recipes.mlp_accuracy(params, X, y, batch_size=64) == pytest.approx(accuracy_score(y, predictions))


def test_init_mlp_params_is_he_initialisation():
    params = recipes.init_mlp_params([784, 512, 10], rng=np.random.default_rng(0))
    assert [p.shape for p in params] == [(784, 512), (512,), (512, 10), (10,)]
    assert all(p.dtype == np.float32 for p in params)
    assert np.all(params[1] == 0) and np.all(params[3] == 0)
    assert params[0].std() == pytest.approx(np.sqrt(2 / 784), rel=0.01)
    assert params[2].std() == pytest.approx(np.sqrt(2 / 512), rel=0.05)


def _torch_replay(params, X, y, *, lr, lr_decay, epochs, batch_size, seed):
    """torch.optim.Adam on the mini-batches that rng.permutation(N) gives each epoch (no dropout).

    Returns the trained parameters, the per-epoch mean losses and the loss of every mini-batch."""
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    optimizer = torch.optim.Adam(tensors, lr=lr)
    rng = np.random.default_rng(seed)
    epoch_losses, batch_losses = [], []
    for epoch in range(epochs):
        for group in optimizer.param_groups:
            group["lr"] = lr * lr_decay**epoch
        order = rng.permutation(len(X))
        total = 0.0
        for start in range(0, len(X), batch_size):
            batch = order[start:start + batch_size]
            optimizer.zero_grad()
            h = torch.tensor(X[batch])
            for layer in range(len(tensors) // 2):
                h = h @ tensors[2 * layer] + tensors[2 * layer + 1]
                if layer < len(tensors) // 2 - 1:
                    h = torch.relu(h)
            loss = F.cross_entropy(h, torch.from_numpy(y[batch]))
            loss.backward()
            optimizer.step()
            batch_losses.append(loss.item())
            total += loss.item() * len(batch)
        epoch_losses.append(total / len(X))
    return [t.detach().numpy() for t in tensors], epoch_losses, batch_losses


def test_train_mlp_equals_torch_adam_on_the_same_batches():
    params, X, y = _network((3, 8, 4), 45)
    copies = [p.copy() for p in params]
    settings = dict(lr=0.02, lr_decay=0.8, epochs=4, batch_size=8)
    trained, history = recipes.train_mlp(params, X, y, rng=np.random.default_rng(3), **settings)
    expected, epoch_losses, batch_losses = _torch_replay(params, X, y, seed=3, **settings)
    for got, want in zip(trained, expected):
        assert_close(got, want, rtol=1e-9, atol=1e-12, what="trained parameter")
    assert_close(history["train_loss"], epoch_losses, rtol=1e-9, what="train_loss")
    assert len(history["batch_loss"]) == 4 * 6  # 45 samples in batches of 8: 6 steps per epoch
    assert_close(history["batch_loss"], batch_losses, rtol=1e-9, what="batch_loss")
    assert history["stopped_by_budget"] is False and set(history) == {"train_loss", "batch_loss", "stopped_by_budget"}
    for p, c in zip(params, copies):
        np.testing.assert_array_equal(p, c)


def test_train_mlp_validation_history_is_the_evaluation_of_the_returned_params():
    params, X, y = _network((3, 8, 4), 40)
    X_val, y_val = X[:15] + 0.3, y[:15]
    trained, history = recipes.train_mlp(params, X, y, lr=0.02, epochs=3, batch_size=16, dropout=0.3,
                                         rng=np.random.default_rng(1), X_val=X_val, y_val=y_val)
    scores, _ = _torch_scores(trained, X_val)
    assert history["val_loss"][-1] == pytest.approx(F.cross_entropy(scores, torch.from_numpy(y_val)).item())
    assert history["val_acc"][-1] == pytest.approx(accuracy_score(y_val, scores.argmax(dim=1).numpy()))
    assert len(history["train_loss"]) == len(history["val_acc"]) == 3


def test_train_mlp_stops_at_the_time_budget():
    params, X, y = _network((3, 8, 4), 40)
    started = time.perf_counter()
    _, history = recipes.train_mlp(params, X, y, lr=0.01, epochs=10**6, batch_size=4,
                                   rng=np.random.default_rng(0), time_budget_s=0.2)
    assert time.perf_counter() - started < 5
    assert history["stopped_by_budget"] and 1 <= len(history["train_loss"]) < 10**6


def test_hello_mlp_extended_defaults_to_the_lectures_hello_mlp():
    torch.manual_seed(0)
    lecture, extended = HelloMLP(), recipes.HelloMLPExtended()
    assert [p.shape for p in lecture.parameters()] == [p.shape for p in extended.parameters()]
    extended.load_state_dict(lecture.state_dict())
    x = torch.randn(5, 28, 28)
    torch.testing.assert_close(extended(x), lecture(x))
    assert not any(isinstance(m, nn.Dropout) for m in extended.modules())


def test_hello_mlp_extended_places_dropout_after_every_hidden_relu():
    net = recipes.HelloMLPExtended(12, (6, 5, 4), 3, dropout=0.5)
    kinds = [type(m).__name__ for m in net.mlp]
    assert kinds == ["Linear", "ReLU", "Dropout"] * 3 + ["Linear"]
    x = torch.randn(7, 3, 4)
    net.eval()
    torch.testing.assert_close(net(x), net(x))
    net.train()
    assert not torch.allclose(net(x), net(x))


def test_train_torch_model_with_zero_learning_rate_reports_the_initial_loss():
    X, y = RNG.normal(size=(30, 4)).astype(np.float32), RNG.integers(0, 3, size=30)
    torch.manual_seed(1)
    net = recipes.HelloMLPExtended(4, (5,), 3)
    before = [p.detach().clone() for p in net.parameters()]
    history = recipes.train_torch_model(net, X, y, lr=0.0, epochs=2, batch_size=7, seed=0, X_val=X, y_val=y)
    for p, q in zip(net.parameters(), before):
        torch.testing.assert_close(p, q)
    initial_loss = nn.CrossEntropyLoss()(net(torch.from_numpy(X)), torch.from_numpy(y)).item()
    assert history["train_loss"] == pytest.approx([initial_loss] * 2)
    assert history["val_loss"] == pytest.approx([initial_loss] * 2)
    # The batches of an epoch partition the data: their size-weighted mean is the epoch's loss.
    sizes = [7, 7, 7, 7, 2] * 2
    assert len(history["batch_loss"]) == len(sizes)
    assert np.average(history["batch_loss"][:5], weights=sizes[:5]) == pytest.approx(initial_loss)
    assert not net.training


def test_train_torch_model_stops_at_the_time_budget():
    X, y = RNG.normal(size=(40, 4)).astype(np.float32), RNG.integers(0, 3, size=40)
    started = time.perf_counter()
    history = recipes.train_torch_model(recipes.HelloMLPExtended(4, (5,), 3), X, y, lr=0.01, epochs=10**6,
                                        batch_size=4, seed=0, time_budget_s=0.2)
    assert time.perf_counter() - started < 5
    assert history["stopped_by_budget"] and len(history["train_loss"]) < 10**6


def test_both_recipes_learn_the_digits():
    """The MNIST recipes, shortened, on scikit-learn's 8×8 digits: both must generalise well."""
    (X_train, y_train), (X_test, y_test) = datasets.digits()
    X_train, X_test = X_train.astype(np.float32), X_test.astype(np.float32)
    short = dict(epochs=20, batch_size=32, time_budget_s=60.0, hidden_sizes=(64, 32), lr=2e-3, dropout=0.2)  # 1437 images
    params, history = recipes.train_numpy_recipe(X_train, y_train, X_test, y_test,
                                                 recipe=replace(recipes.NUMPY_RECIPE, lr_decay=0.9, **short))
    assert recipes.mlp_accuracy(params, X_test, y_test) >= 0.93
    assert history["val_acc"][-1] == pytest.approx(recipes.mlp_accuracy(params, X_test, y_test))
    net, history = recipes.train_torch_recipe(X_train, y_train, X_test, y_test,
                                              recipe=replace(recipes.TORCH_RECIPE, lr_decay=0.9, **short))
    predictions = net(torch.from_numpy(X_test)).argmax(dim=1).numpy()
    assert accuracy_score(y_test, predictions) >= 0.93
    assert recipes.torch_accuracy(net, X_test, y_test) == pytest.approx(accuracy_score(y_test, predictions))


def test_numpy_recipe_runs_the_homework_algorithm_on_the_fast_path():
    """``train_numpy_recipe`` (MLP + in-place Adam) must train exactly like the homework's ``train_mlp``."""
    rng = np.random.default_rng(11)
    X, y = rng.normal(size=(70, 5)), rng.integers(0, 3, size=70)
    recipe = recipes.Recipe(hidden_sizes=(8, 6), lr=0.01, lr_decay=0.7, batch_size=16, epochs=3, dropout=0.25,
                            seed=4, time_budget_s=None)
    fast_params, fast_history = recipes.train_numpy_recipe(X, y, X[:20], y[:20], recipe=recipe)
    rng = np.random.default_rng(recipe.seed)
    params = recipes.init_mlp_params([5, 8, 6, 3], rng=rng, dtype=X.dtype)
    params, history = recipes.train_mlp(params, X, y, rng=rng, dropout=recipe.dropout, X_val=X[:20], y_val=y[:20],
                                        **recipe.training_kwargs())
    for fast, slow in zip(fast_params, params):
        np.testing.assert_allclose(fast, slow, rtol=1e-10, atol=1e-12)
    for key in ("train_loss", "val_loss", "val_acc"):
        np.testing.assert_allclose(fast_history[key], history[key], rtol=1e-10)


# ----------------------------------------------------------------------------------------------------
# Grading exported arrays
# ----------------------------------------------------------------------------------------------------


class ModuleListMLP(nn.Module):
    """Another way to write Part B's network (hidden layers in a ModuleList, dropout before the ReLU)."""

    def __init__(self, input_size, hidden_sizes, num_classes, dropout):
        super().__init__()
        sizes = [input_size, *hidden_sizes]
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        self.output = nn.Linear(sizes[-1], num_classes)
        self.dropout = dropout

    def forward(self, x):
        h = torch.flatten(x, start_dim=1)
        for layer in self.hidden:
            h = F.relu(F.dropout(layer(h), self.dropout, training=self.training))
        return self.output(h)


@pytest.mark.parametrize("make_net", [
    lambda: recipes.HelloMLPExtended(12, (6, 5, 4), 3, dropout=0.5),
    lambda: recipes.HelloMLPExtended(12, (9,), 4),
    lambda: ModuleListMLP(12, (7, 8), 5, dropout=0.3),
    lambda: recipes.HelloMLPExtended(12, (6, 5), 3, dropout=0.2).double(),
], ids=["hello-dropout", "hello-one-layer", "modulelist", "float64"])
def test_linear_layers_forward_equals_the_torch_network_in_evaluation_mode(make_net):
    torch.manual_seed(3)
    net = make_net()
    for parameter in net.parameters():  # larger weights than the default init: logits far from 0
        parameter.data.mul_(3)
    x = torch.randn(40, 3, 4, dtype=next(net.parameters()).dtype)
    net.train()  # the export does not depend on the mode; the forward pass is evaluation mode
    arrays = recipes.linear_layer_arrays(net)
    assert all(isinstance(a, np.ndarray) and a.dtype == torch.empty((), dtype=x.dtype).numpy().dtype for a in arrays)
    linears = [m for m in net.modules() if isinstance(m, nn.Linear)]
    assert [a.shape for a in arrays] == [tuple(t.shape) for m in linears for t in (m.weight, m.bias)]
    net.eval()
    with torch.no_grad():
        expected = net(x)
    tolerance = 1e-5 if x.dtype == torch.float32 else 1e-12
    assert_close(recipes.linear_layers_scores(arrays, x.numpy()), expected.numpy(), rtol=tolerance, atol=tolerance,
                 what="logits")
    y = RNG.integers(0, expected.shape[1], size=len(x))
    predictions = expected.argmax(dim=1).numpy()
    assert recipes.linear_layers_accuracy(arrays, x.numpy(), y) == pytest.approx(accuracy_score(y, predictions))
    assert recipes.linear_layers_accuracy(arrays, x.numpy(), predictions) == 1.0
    # the export is a copy: training the network further does not change it
    with torch.no_grad():
        linears[0].weight.add_(1.0)
    assert not np.array_equal(arrays[0], linears[0].weight.detach().numpy())


def test_linear_layers_are_the_transposed_numpy_params():
    params, X, y = _network((5, 7, 4), 30)
    arrays = [p.T if i % 2 == 0 else p for i, p in enumerate(params)]
    np.testing.assert_array_equal(recipes.linear_layers_scores(arrays, X), recipes.mlp_loss(params, X))
    assert recipes.linear_layers_accuracy(arrays, X, y) == recipes.mlp_accuracy(params, X, y)


def _solution_shapes(layout):
    sizes = [784, 512, 256, 10]
    arrays = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        arrays += [np.zeros((fan_in, fan_out) if layout == "numpy" else (fan_out, fan_in), np.float32),
                   np.zeros(fan_out, np.float32)]
    return arrays


def test_export_problem_accepts_both_layouts():
    assert recipes.export_problem(_solution_shapes("numpy"), name="numpy_params") is None
    assert recipes.export_problem(tuple(_solution_shapes("linear")), layout="linear") is None
    assert recipes.export_problem([np.zeros((784, 10)), np.zeros(10)]) is None  # float64, one layer
    torch.manual_seed(0)
    assert recipes.export_problem(recipes.linear_layer_arrays(recipes.HelloMLPExtended()), layout="linear") is None
    with pytest.raises(ValueError, match="layout"):
        recipes.export_problem([], layout="torch")


def _broken(layout, index, value):
    arrays = _solution_shapes(layout)
    arrays[index] = value
    return arrays


@pytest.mark.parametrize(("arrays", "layout", "message"), [
    ({"W": np.zeros((784, 10))}, "numpy", "p must be a list of numpy arrays [W_1, b_1, ..., W_L, b_L], got dict"),
    ([], "numpy", "a weight and a bias per layer"),
    (_solution_shapes("numpy")[:5], "numpy", "got 5 arrays"),
    (_broken("numpy", 2, torch.zeros(512, 256)), "numpy", "p[2] must be a numpy array, got Tensor"),
    (_broken("numpy", 1, np.zeros(512, np.int64)), "numpy", "p[1] must be float32 or float64, got an array of dtype int64"),
    (_broken("numpy", 0, np.zeros((512, 784), np.float32)), "numpy",
     "p[0] (W_1) has shape (512, 784), expected (784, ·) (fan_in, fan_out): it must take the 784 input pixels"),
    (_solution_shapes("numpy"), "linear",
     "p[0] (W_1) has shape (784, 512), expected (·, 784) (out_features, in_features), as in nn.Linear"),
    (_broken("numpy", 2, np.zeros((256, 256), np.float32)), "numpy",
     "p[2] (W_2) has shape (256, 256), expected (512, ·) (fan_in, fan_out): it must take the 512 outputs of layer 1"),
    (_broken("linear", 3, np.zeros(512, np.float32)), "linear", "p[3] (b_2) has shape (512,), expected (256,) like W_2"),
    (_broken("numpy", 4, np.zeros((256,), np.float32)), "numpy", "p[4] (W_3) must be 2-D"),
    (_solution_shapes("numpy")[:4], "numpy", "the last layer of p has 256 outputs, expected one per class (10)"),
    (_broken("numpy", 5, np.array([0.0] * 9 + [np.nan], np.float32)), "numpy", "p[5] contains NaN or infinite"),
    ([np.zeros((784, 4000), np.float32), np.zeros(4000, np.float32)] * 1 +
     [np.zeros((4000, 10), np.float32), np.zeros(10, np.float32)], "numpy", "more than the 3000000"),
])
def test_export_problem_names_the_first_wrong_array(arrays, layout, message):
    problem = recipes.export_problem(arrays, name="p", layout=layout, max_parameters=3_000_000)
    assert problem is not None and message in problem, problem


def test_stopped_at_cap_and_its_report():
    assert recipes.stopped_at_cap({"train_loss": [1.0], "stopped_by_budget": True})
    assert recipes.stopped_at_cap({"stopped_by_budget": np.True_})
    for history in ({"stopped_by_budget": False}, {"train_loss": []}, {"stopped_by_budget": "yes"}, None, [True]):
        assert not recipes.stopped_at_cap(history)
    history = {"train_loss": [0.5, 0.3, 0.2], "stopped_by_budget": True}
    assert recipes.cap_report("numpy", history, 0.9712, 0.98) == (
        "numpy training stopped at its wall-clock cap during epoch 3, before its prescribed epochs; its parameters "
        "reach 97.12% test accuracy (gate 98%): regrade on an unloaded machine")
    assert "its exported parameters could not be evaluated: regrade" in recipes.cap_report("PyTorch", history, None, 0.97)


def test_training_length_is_the_number_of_epochs_when_the_cap_is_not_reached():
    params, X, y = _network((3, 8, 4), 40)
    _, history = recipes.train_mlp(params, X, y, lr=0.01, epochs=7, batch_size=8, rng=np.random.default_rng(0),
                                   time_budget_s=600)
    assert len(history["train_loss"]) == 7 and history["stopped_by_budget"] is False
    history = recipes.train_torch_model(recipes.HelloMLPExtended(3, (5,), 4), X.astype(np.float32), y, lr=0.01,
                                        epochs=7, batch_size=8, seed=0, time_budget_s=600)
    assert len(history["train_loss"]) == 7 and history["stopped_by_budget"] is False
