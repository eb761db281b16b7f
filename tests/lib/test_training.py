"""nnref.training: mini-batches, fit() against a hand-written PyTorch loop, early stopping, progress."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import make_blobs

from nnref.mlp import MLP
from nnref.optimizers import SGD, Adam, step_decay
from nnref.training import History, SmoothedObjective, fit, iterate_minibatches


class TorchGradSoftmaxModel:
    """Linear softmax classifier satisfying the model contract; gradients from torch autograd."""

    def __init__(self, n_features, n_classes, seed=0):
        rng = np.random.default_rng(seed)
        self.params = [0.1 * rng.normal(size=(n_features, n_classes)), np.zeros(n_classes)]

    def _loss(self, X, y, *, grads):
        W, b = (torch.tensor(p, requires_grad=grads) for p in self.params)
        loss = F.cross_entropy(torch.tensor(X) @ W + b, torch.tensor(y))
        if not grads:
            return loss.item(), None
        loss.backward()
        return loss.item(), [W.grad.numpy(), b.grad.numpy()]

    def loss_and_grads(self, X, y, *, rng=None):
        return self._loss(X, y, grads=True)

    def forward(self, X):
        return X @ self.params[0] + self.params[1]

    def predict(self, X):
        return self.forward(X).argmax(axis=1)


def _classification_data(seed=0, n=50):
    X, y = make_blobs(n_samples=n, centers=3, cluster_std=2.5, random_state=seed)
    return X, y.astype(np.int64)


def _torch_reference(model, X, y, X_val, y_val, *, epochs, batch_size, seed, make_optimizer, lrs=None):
    """The same training written as a plain PyTorch loop (the permutations come from the same seed)."""
    rng = np.random.default_rng(seed)
    W, b = (torch.tensor(p.copy(), requires_grad=True) for p in model.params)
    optimizer = make_optimizer([W, b])
    X_t, y_t, Xv_t, yv_t = torch.tensor(X), torch.tensor(y), torch.tensor(X_val), torch.tensor(y_val)
    history = {"train_loss": [], "train_acc": [], "val_loss": [], "val_acc": []}
    for epoch in range(epochs):
        if lrs is not None:
            optimizer.param_groups[0]["lr"] = lrs[epoch]
        order = torch.tensor(rng.permutation(len(X)))
        running, seen = 0.0, 0
        for start in range(0, len(X), batch_size):
            rows = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(X_t[rows] @ W + b, y_t[rows])
            loss.backward()
            optimizer.step()
            running += loss.item() * len(rows)
            seen += len(rows)
        with torch.no_grad():
            history["train_loss"].append(running / seen)
            history["train_acc"].append(((X_t @ W + b).argmax(1) == y_t).double().mean().item())
            history["val_loss"].append(F.cross_entropy(Xv_t @ W + b, yv_t).item())
            history["val_acc"].append(((Xv_t @ W + b).argmax(1) == yv_t).double().mean().item())
    return [W.detach().numpy(), b.detach().numpy()], history


@pytest.mark.parametrize(
    "ours, theirs, batch_size",
    [
        (lambda p: SGD(p, lr=0.05, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9), 8),
        (lambda p: Adam(p, lr=0.02), lambda p: torch.optim.Adam(p, lr=0.02), 16),
        (lambda p: SGD(p, lr=0.01), lambda p: torch.optim.SGD(p, lr=0.01), 1),
    ],
    ids=["sgd-momentum", "adam", "per-sample"],
)
def test_fit_equals_a_pytorch_training_loop(ours, theirs, batch_size):
    X, y = _classification_data()
    X_val, y_val = _classification_data(seed=1, n=20)
    model = TorchGradSoftmaxModel(2, 3)
    expected_params, expected = _torch_reference(
        model, X, y, X_val, y_val, epochs=6, batch_size=batch_size, seed=42, make_optimizer=theirs
    )
    history = fit(
        model, ours(model.params), X, y, epochs=6, batch_size=batch_size, rng=np.random.default_rng(42),
        X_val=X_val, y_val=y_val, show_progress=False,
    )  # fmt: skip
    for p, e in zip(model.params, expected_params):
        np.testing.assert_allclose(p, e, rtol=1e-10, atol=1e-12)
    for key, values in expected.items():
        np.testing.assert_allclose(getattr(history, key), values, rtol=1e-10, atol=1e-12, err_msg=key)
    assert history.best_epoch == int(np.argmin(expected["val_loss"]))
    assert not history.stopped_early


def test_lr_schedule_equals_torch_steplr_loop():
    X, y = _classification_data(2)
    model = TorchGradSoftmaxModel(2, 3, seed=1)
    schedule = step_decay(0.1, factor=0.5, every=2)
    lrs = [schedule(e) for e in range(5)]
    expected_params, _ = _torch_reference(
        model, X, y, X, y, epochs=5, batch_size=10, seed=3, lrs=lrs,
        make_optimizer=lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.5),
    )  # fmt: skip
    history = fit(
        model, SGD(model.params, lr=1.0, momentum=0.5), X, y, epochs=5, batch_size=10,
        rng=np.random.default_rng(3), lr_schedule=schedule, show_progress=False,
    )  # fmt: skip
    assert history.lr == [0.1, 0.1, 0.05, 0.05, 0.025]
    for p, e in zip(model.params, expected_params):
        np.testing.assert_allclose(p, e, rtol=1e-10, atol=1e-12)


class ScriptedModel:
    """One scalar parameter θ pushed up by 1 per step (gradient −1, lr 1); validation loss (θ − 3)²."""

    def __init__(self):
        self.params = [np.zeros(())]

    def loss_and_grads(self, X, y, *, rng=None):
        return float((self.params[0] - 3.0) ** 2), [np.array(-1.0)]

    def predict(self, X):
        return np.zeros(len(X), dtype=np.int64)


def test_early_stopping_by_hand_restores_best_params_in_place():
    # one batch per epoch, so θ = 1, 2, 3, 4, 5, ... after epochs 0, 1, 2, 3, 4;
    # val loss (θ − 3)² = 4, 1, 0, 1, 4: best epoch 2; patience 2 stops after epoch 4, θ restored to 3
    model = ScriptedModel()
    param = model.params[0]
    X, y = np.zeros((4, 1)), np.zeros(4, dtype=np.int64)
    history = fit(
        model, SGD(model.params, lr=1.0), X, y, epochs=20, batch_size=None, rng=np.random.default_rng(0),
        X_val=X, y_val=y, patience=2, show_progress=False,
    )  # fmt: skip
    assert history.val_loss == [4.0, 1.0, 0.0, 1.0, 4.0]
    assert (history.best_epoch, history.stopped_early) == (2, True)
    assert model.params[0] is param and float(param) == 3.0
    assert history.train_acc == history.val_acc == [1.0] * 5
    # train_loss is measured before each step: (0 − 3)², (1 − 3)², ...
    assert history.train_loss == [9.0, 4.0, 1.0, 0.0, 1.0]


def test_without_patience_all_epochs_run_and_last_params_stay():
    model = ScriptedModel()
    X, y = np.zeros((4, 1)), np.zeros(4, dtype=np.int64)
    history = fit(
        model, SGD(model.params, lr=1.0), X, y, epochs=6, batch_size=2, rng=np.random.default_rng(0),
        X_val=X, y_val=y, show_progress=False,
    )  # fmt: skip
    assert float(model.params[0]) == 12.0  # 2 batches × 6 epochs
    assert history.best_epoch == 0  # θ = 2 after epoch 0: (2 − 3)² = 1 is the lowest
    assert not history.stopped_early and len(history.val_loss) == 6


def test_regression_targets_record_no_accuracy():
    model = ScriptedModel()
    X, y = np.zeros((3, 2)), np.zeros(3)
    history = fit(model, SGD(model.params, lr=0.5), X, y, epochs=2, batch_size=3, rng=np.random.default_rng(0),
                  X_val=X, y_val=y, show_progress=False)  # fmt: skip
    assert history.train_acc == history.val_acc == []
    assert len(history.train_loss) == len(history.val_loss) == 2


class EvaluationLossModel(ScriptedModel):
    def loss(self, X, y):
        return -1.0


def test_validation_loss_uses_model_loss_when_defined():
    model = EvaluationLossModel()
    X, y = np.zeros((2, 1)), np.zeros(2, dtype=np.int64)
    history = fit(model, SGD(model.params, lr=1.0), X, y, epochs=2, batch_size=2, rng=np.random.default_rng(0),
                  X_val=X, y_val=y, show_progress=False)  # fmt: skip
    assert history.val_loss == [-1.0, -1.0]


def test_progress_bar_is_on_stdout_and_silent_while_grading(capsys, monkeypatch):
    X, y = _classification_data(n=12)
    monkeypatch.delenv("NNCOURSE_GRADING", raising=False)
    model = TorchGradSoftmaxModel(2, 3)
    fit(model, SGD(model.params, lr=0.1), X, y, epochs=2, batch_size=4, rng=np.random.default_rng(0),
        show_progress=True)  # fmt: skip
    out, err = capsys.readouterr()
    assert "epochs" in out and err == ""
    monkeypatch.setenv("NNCOURSE_GRADING", "1")
    fit(model, SGD(model.params, lr=0.1), X, y, epochs=2, batch_size=4, rng=np.random.default_rng(0))
    assert capsys.readouterr() == ("", "")
    monkeypatch.delenv("NNCOURSE_GRADING")
    fit(model, SGD(model.params, lr=0.1), X, y, epochs=2, batch_size=4, rng=np.random.default_rng(0),
        show_progress=False)  # fmt: skip
    assert capsys.readouterr() == ("", "")


def test_fit_does_not_mutate_data():
    X, y = _classification_data(n=20)
    X0, y0 = X.copy(), y.copy()
    model = TorchGradSoftmaxModel(2, 3)
    fit(model, SGD(model.params, lr=0.1), X, y, epochs=2, batch_size=5, rng=np.random.default_rng(0),
        X_val=X, y_val=y, show_progress=False)  # fmt: skip
    np.testing.assert_array_equal(X, X0)
    np.testing.assert_array_equal(y, y0)


def test_fit_bad_input_messages():
    X, y = _classification_data(n=10)
    model = TorchGradSoftmaxModel(2, 3)
    optimizer = SGD(model.params, lr=0.1)
    common = dict(epochs=1, batch_size=2, show_progress=False)
    with pytest.raises(ValueError, match="validation set"):
        fit(model, optimizer, X, y, rng=np.random.default_rng(0), patience=3, **common)
    with pytest.raises(ValueError, match="both X_val and y_val"):
        fit(model, optimizer, X, y, rng=np.random.default_rng(0), X_val=X, **common)
    with pytest.raises(TypeError, match="rng must be a numpy Generator"):
        fit(model, optimizer, X, y, rng=0, **common)
    with pytest.raises(ValueError, match=r"X has shape \(10, 2\), y has shape \(9,\)"):
        fit(model, optimizer, X, y[1:], rng=np.random.default_rng(0), **common)
    with pytest.raises(ValueError, match=r"X_val must have the sample shape of X.*\(10, 3\)"):
        fit(model, optimizer, X, y, rng=np.random.default_rng(0), X_val=np.zeros((10, 3)), y_val=y, **common)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        fit(model, optimizer, X, y, rng=np.random.default_rng(0), epochs=0, batch_size=2)


def test_history_defaults():
    history = History()
    assert history.train_loss == [] and history.best_epoch is None and not history.stopped_early


# --- mini-batches -------------------------------------------------------------------------------


def test_minibatches_follow_the_rng_permutation():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    batches = list(iterate_minibatches(X, y, 4, np.random.default_rng(7)))
    order = np.random.default_rng(7).permutation(10)
    assert [len(yb) for _, yb in batches] == [4, 4, 2]  # the last batch keeps the remainder
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in batches]), order)
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb, X[yb])  # rows stay aligned


def test_minibatches_without_rng_keep_order_and_none_is_full_batch():
    X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    np.testing.assert_array_equal(np.concatenate([yb for _, yb in iterate_minibatches(X, y, 2, None)]), y)
    (Xb, yb), = iterate_minibatches(X, y, None, None)
    np.testing.assert_array_equal(Xb, X)


def test_minibatch_bad_input():
    X, y = np.zeros((5, 2)), np.zeros(5)
    with pytest.raises(ValueError, match="batch_size must be an integer >= 1, got 0"):
        list(iterate_minibatches(X, y, 0, None))
    with pytest.raises(TypeError, match="Generator"):
        list(iterate_minibatches(X, y, 2, 42))
    with pytest.raises(ValueError, match=r"X has shape \(5, 2\), y has shape \(4,\)"):
        list(iterate_minibatches(X, y[:4], 2, None))


# --- deck 003's smoothed objective ---------------------------------------------------------------


def test_smoothed_objective_by_hand():
    # λ = 0.5, losses 4, 2, 1: Q = 4 (the first loss), 0.5·2 + 0.5·4 = 3, 0.5·1 + 0.5·3 = 2
    q = SmoothedObjective(0.5)
    assert [q.update(loss) for loss in (4, 2, 1)] == [4.0, 3.0, 2.0]
    # λ = 0.1 from Q₀ = 10: 0.1·4 + 0.9·10 = 9.4, then 0.1·2 + 0.9·9.4 = 8.66
    q = SmoothedObjective(0.1, initial=10.0)
    assert q.update(4) == pytest.approx(9.4, rel=1e-15)
    assert q.update(2) == pytest.approx(8.66, rel=1e-15)


def test_smoothed_objective_equals_the_closed_form():
    # Qₙ = (1 − λ)ⁿ Q₀ + Σₖ λ (1 − λ)ⁿ⁻ᵏ 𝓛ₖ
    losses = np.random.default_rng(0).uniform(size=30)
    lam, q0 = 0.2, 5.0
    q = SmoothedObjective(lam, initial=q0)
    values = [q.update(loss) for loss in losses]
    n = len(losses)
    closed = (1 - lam) ** n * q0 + sum(lam * (1 - lam) ** (n - k) * losses[k - 1] for k in range(1, n + 1))
    assert values[-1] == pytest.approx(closed, rel=1e-12)
    assert q.value == values[-1]


@pytest.mark.parametrize("smoothing", [0.0, 1.5, -0.1])
def test_smoothed_objective_rejects_bad_lambda(smoothing):
    with pytest.raises(ValueError, match="smoothing"):
        SmoothedObjective(smoothing)


# --- the course's MLP --------------------------------------------------------------------------


def _three_blobs(seed):
    return make_blobs(n_samples=120, centers=[[0, 3], [3, -1], [-3, -1]], cluster_std=1.0, random_state=seed)


def test_fit_trains_the_reference_mlp():
    (X, y), (X_val, y_val) = _three_blobs(0), _three_blobs(1)
    model = MLP([2, 16, 3], rng=np.random.default_rng(0))
    history = fit(
        model, SGD(model.params, lr=0.05, momentum=0.9), X, y, epochs=15, batch_size=16,
        rng=np.random.default_rng(1), X_val=X_val, y_val=y_val, patience=5, show_progress=False,
    )  # fmt: skip
    assert history.train_loss[-1] < history.train_loss[0] / 3
    assert history.train_acc[-1] > 0.95 and history.val_acc[history.best_epoch] > 0.95
    # the restored parameters are the best epoch's: their validation loss is the recorded minimum
    assert model.loss(X_val, y_val) == pytest.approx(min(history.val_loss), rel=1e-12)


def test_fit_trains_the_reference_mlp_with_dropout():
    X, y = _three_blobs(0)
    X_val, y_val = _three_blobs(1)
    model = MLP([2, 32, 3], dropout=0.2, rng=np.random.default_rng(0))
    history = fit(model, Adam(model.params, lr=0.01), X, y, epochs=15, batch_size=16,
                  rng=np.random.default_rng(1), X_val=X_val, y_val=y_val, show_progress=False)  # fmt: skip
    assert history.train_loss[-1] < history.train_loss[0] / 3
    assert history.train_acc[-1] > 0.95
    # the validation loss is the evaluation-mode loss (dropout off) of the final parameters
    assert history.val_loss[-1] == pytest.approx(model.loss(X_val, y_val), rel=1e-12)
