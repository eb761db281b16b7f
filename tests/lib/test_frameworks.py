"""nnref.frameworks against independent oracles: torch.autograd, numerical gradients, nn.CrossEntropyLoss,
hand-written numpy forward passes and SGD with momentum, scikit-learn's own predictions, and
parameter counts worked out by hand from lecture 000's HelloMLP."""

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier, MLPRegressor
from torch import nn

import nnkit.gradcheck
from nnref import frameworks
from torch_oracle import assert_close, assert_matches_torch

RNG = np.random.default_rng(11)


def _numpy_relu_mlp(x, weights, biases):
    """An independent forward pass of Linear/ReLU stacks: torch weights are (out, in)."""
    out = x.reshape(len(x), -1)
    for index, (W, b) in enumerate(zip(weights, biases)):
        out = out @ W.T + b
        if index < len(weights) - 1:
            out = np.maximum(out, 0.0)
    return out


def _linear_layers(net):
    return [module for module in net.modules() if isinstance(module, nn.Linear)]


# --- sigmoid_layer_backward ----------------------------------------------------------------------------


@pytest.mark.parametrize("N, D, M", [(1, 1, 1), (4, 3, 2), (7, 5, 6)])
def test_sigmoid_layer_backward_matches_autograd(N, D, M):
    X, W, b = RNG.normal(size=(N, D)), RNG.normal(size=(D, M)), RNG.normal(size=M)
    dY = RNG.normal(size=(N, M))
    grads = frameworks.sigmoid_layer_backward(dY, X, W, b)
    Y = 1.0 / (1.0 + np.exp(-(X @ W + b)))
    assert_matches_torch(Y, list(grads), lambda X_, W_, b_: torch.sigmoid(X_ @ W_ + b_), X, W, b, upstream=dY)


def test_sigmoid_layer_backward_matches_numerical_gradients():
    X, W, b = RNG.normal(size=(3, 4)), RNG.normal(size=(4, 2)), RNG.normal(size=2)
    dY = RNG.normal(size=(3, 2))

    def loss(X_, W_, b_):
        return float(np.sum(dY / (1.0 + np.exp(-(X_ @ W_ + b_)))))

    dX, dW, db = frameworks.sigmoid_layer_backward(dY, X, W, b)
    report = nnkit.gradcheck.gradient_check(loss, [X, W, b], [dX, dW, db], tol=1e-7)
    assert report.passed, report


def test_sigmoid_layer_backward_deck_002_neuron():
    # Deck 002's neuron (w = (0.5, 0.7), b = 0, x = (-0.1, 0.2), y = 0, L = ½(ŷ − y)²): dL/dw = (-0.013, 0.026)
    X, W, b = np.array([[-0.1, 0.2]]), np.array([[0.5], [0.7]]), np.array([0.0])
    y_hat = 1.0 / (1.0 + np.exp(-0.09))
    _, dW, db = frameworks.sigmoid_layer_backward(np.array([[y_hat - 0.0]]), X, W, b)
    assert_close(dW.ravel(), [-0.013, 0.026], atol=5e-4, rtol=0)
    assert_close(db, [0.130], atol=5e-4, rtol=0)


def test_sigmoid_layer_backward_rejects_bad_shapes():
    with pytest.raises(ValueError, match="dout"):
        frameworks.sigmoid_layer_backward(np.ones((2, 3)), np.ones((2, 4)), np.ones((4, 2)), np.ones(2))
    with pytest.raises(ValueError, match="w"):
        frameworks.sigmoid_layer_backward(np.ones((2, 2)), np.ones((2, 4)), np.ones((3, 2)), np.ones(2))


# --- HelloMLP --------------------------------------------------------------------------------------------


def test_hello_mlp_is_the_lecture_architecture():
    net = frameworks.HelloMLP()
    shapes = [tuple(p.shape) for p in net.parameters()]
    assert shapes == [(64, 784), (64,), (64, 64), (64,), (10, 64), (10,)]
    # by hand: 784·64 + 64 + 64·64 + 64 + 64·10 + 10
    assert sum(p.numel() for p in net.parameters()) == 55050
    assert list(net.state_dict()) == ["mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias",
                                      "mlp.4.weight", "mlp.4.bias"]
    assert [type(m) for m in net.mlp] == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]


@pytest.mark.parametrize("x_shape, input_size, num_classes", [((5, 28, 28), 784, 10), ((3, 1, 28, 28), 784, 10),
                                                               ((4, 8, 8), 64, 10), ((2, 6), 6, 3)])
def test_hello_mlp_forward_matches_numpy(x_shape, input_size, num_classes):
    torch.manual_seed(0)
    net = frameworks.HelloMLP(input_size=input_size, num_classes=num_classes)
    x = RNG.normal(size=x_shape).astype(np.float32)
    out = net(torch.from_numpy(x)).detach().numpy()
    linears = _linear_layers(net)
    expected = _numpy_relu_mlp(x.astype(np.float64), [m.weight.detach().numpy().astype(np.float64) for m in linears],
                               [m.bias.detach().numpy().astype(np.float64) for m in linears])
    assert out.shape == (x_shape[0], num_classes)
    assert_close(out, expected, rtol=1e-5, atol=1e-5)


def test_hello_mlp_initialisation_follows_the_global_seed():
    torch.manual_seed(3)
    first = frameworks.HelloMLP(12, 4)
    torch.manual_seed(3)
    linears = [nn.Linear(12, 64), nn.Linear(64, 64), nn.Linear(64, 4)]  # the same draws in the same order
    for mine, theirs in zip(_linear_layers(first), linears):
        assert torch.equal(mine.weight, theirs.weight) and torch.equal(mine.bias, theirs.bias)


# --- cross_entropy_from_log_softmax -----------------------------------------------------------------------


@pytest.mark.parametrize("N, K, scale", [(1, 2, 1.0), (6, 4, 3.0), (9, 10, 50.0)])
def test_cross_entropy_matches_torch_and_numpy(N, K, scale):
    logits_np = RNG.normal(scale=scale, size=(N, K))
    labels_np = RNG.integers(0, K, size=N)
    logits = torch.tensor(logits_np, requires_grad=True)
    labels = torch.from_numpy(labels_np)
    loss = frameworks.cross_entropy_from_log_softmax(logits, labels)
    assert loss.ndim == 0
    assert_close(loss.item(), nn.CrossEntropyLoss()(logits, labels).item())
    shifted = logits_np - logits_np.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    assert_close(loss.item(), -log_probs[np.arange(N), labels_np].mean())
    loss.backward()
    one_hot = np.eye(K)[labels_np]
    assert_close(logits.grad.numpy(), (np.exp(log_probs) - one_hot) / N)  # (softmax − one-hot) / N


def test_cross_entropy_of_uniform_logits_is_log_k():
    loss = frameworks.cross_entropy_from_log_softmax(torch.zeros(3, 10), torch.tensor([0, 4, 9]))
    assert_close(loss.item(), np.log(10.0), rtol=1e-6)


# --- make_loader -------------------------------------------------------------------------------------------


def test_make_loader_batches_in_order_without_shuffle():
    X, y = RNG.normal(size=(10, 2, 3)), RNG.integers(0, 3, size=10)
    batches = list(frameworks.make_loader(X, y, 4))
    assert [len(labels) for _, labels in batches] == [4, 4, 2]
    inputs, labels = batches[0]
    assert inputs.dtype == torch.float32 and labels.dtype == torch.int64 and inputs.shape == (4, 2, 3)
    assert_close(torch.cat([b[0] for b in batches]).numpy(), X.astype(np.float32))
    assert_close(torch.cat([b[1] for b in batches]).numpy(), y)


def test_make_loader_shuffles_with_its_own_generator():
    X, y = np.arange(40.0)[:, None], np.arange(40)

    def order(seed, global_seed):
        torch.manual_seed(global_seed)  # the global state must play no role
        batches = list(frameworks.make_loader(X, y, 16, shuffle=True, seed=seed))
        for inputs, labels in batches:
            assert_close(inputs.numpy().ravel(), labels.numpy())  # features stay with their labels
        return torch.cat([labels for _, labels in batches]).numpy()

    first = order(5, 123)
    assert sorted(first) == list(range(40)) and list(first) != list(range(40))
    assert_close(order(5, 456), first)
    assert list(order(6, 123)) != list(first)


def test_make_loader_rejects_bad_input():
    with pytest.raises(ValueError, match="same number of samples"):
        frameworks.make_loader(np.ones((4, 2)), np.zeros(3, dtype=int), 2)
    with pytest.raises(ValueError, match="batch_size"):
        frameworks.make_loader(np.ones((4, 2)), np.zeros(4, dtype=int), 0)
    with pytest.raises(TypeError, match="y"):
        frameworks.make_loader(np.ones((4, 2)), np.full(4, 0.5), 2)


# --- train_one_epoch ---------------------------------------------------------------------------------------


def _numpy_sgd_epoch(W, b, X, y, batch_size, lr, momentum, velocity):
    """Softmax regression trained by the lecture's loop, written out in numpy: torch's SGD momentum
    v ← m v + g, θ ← θ − lr v, with g = ∂(mean CE)/∂θ = Xᵀ(softmax − one-hot)/B."""
    losses = []
    for start in range(0, len(X), batch_size):
        xb, yb = X[start:start + batch_size], y[start:start + batch_size]
        scores = xb @ W.T + b
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        losses.append(-np.log(probs[np.arange(len(yb)), yb]).mean())
        dscores = (probs - np.eye(W.shape[0])[yb]) / len(yb)
        grads = [dscores.T @ xb, dscores.sum(axis=0)]
        for i, (param, grad) in enumerate(zip((W, b), grads)):
            velocity[i] = grad if velocity[i] is None else momentum * velocity[i] + grad
            param -= lr * velocity[i]
    return np.mean(losses)


def test_train_one_epoch_matches_numpy_sgd_with_momentum():
    X, y = RNG.normal(size=(23, 5)), RNG.integers(0, 3, size=23)
    torch.manual_seed(0)
    net = nn.Linear(5, 3).double()
    W, b = net.weight.detach().numpy().copy(), net.bias.detach().numpy().copy()
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
    loader = torch.utils.data.DataLoader(dataset, batch_size=8)  # batches of 8, 8, 7
    optimizer = torch.optim.SGD(net.parameters(), lr=0.3, momentum=0.9)
    velocity = [None, None]
    for _ in range(3):  # several epochs: momentum carries over, gradients must not
        loss = frameworks.train_one_epoch(net, loader, nn.CrossEntropyLoss(), optimizer)
        expected = _numpy_sgd_epoch(W, b, X, y, 8, 0.3, 0.9, velocity)
        assert isinstance(loss, float)
        assert_close(loss, expected, rtol=1e-10)
        assert_close(net.weight.detach().numpy(), W, rtol=1e-10)
        assert_close(net.bias.detach().numpy(), b, rtol=1e-10)


def test_train_one_epoch_switches_to_training_mode_and_learns():
    X, y = RNG.normal(size=(64, 4)), RNG.integers(0, 2, size=64)
    X[:, 0] += 3.0 * y  # a learnable signal
    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    net.eval()
    loader = frameworks.make_loader(X, y, 16, shuffle=True, seed=0)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)
    losses = [frameworks.train_one_epoch(net, loader, nn.CrossEntropyLoss(), optimizer) for _ in range(15)]
    assert net.training
    assert losses[-1] < 0.5 * losses[0]


# --- evaluate_accuracy -------------------------------------------------------------------------------------


def test_evaluate_accuracy_matches_argmax_of_a_numpy_forward_pass():
    X, y = RNG.normal(size=(50, 3, 2)), RNG.integers(0, 4, size=50)
    torch.manual_seed(2)
    net = nn.Sequential(nn.Flatten(), nn.Linear(6, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 4))
    net.train()  # evaluation must switch dropout off
    linears = _linear_layers(net)
    scores = _numpy_relu_mlp(X.astype(np.float32).astype(np.float64),
                             [m.weight.detach().numpy().astype(np.float64) for m in linears],
                             [m.bias.detach().numpy().astype(np.float64) for m in linears])
    accuracy = frameworks.evaluate_accuracy(net, frameworks.make_loader(X, y, 16))  # batches 16, 16, 16, 2
    assert isinstance(accuracy, float)
    assert accuracy == np.mean(scores.argmax(axis=1) == y)
    assert not net.training


def test_evaluate_accuracy_by_hand():
    # a "net" that returns its input as the logits: predictions are the argmax of each row
    logits = np.array([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7]])
    loader = frameworks.make_loader(logits, np.array([1, 1, 1]), 2)
    assert frameworks.evaluate_accuracy(nn.Identity(), loader) == pytest.approx(2 / 3)


# --- save_and_reload ---------------------------------------------------------------------------------------


def test_save_and_reload_round_trip(tmp_path):
    torch.manual_seed(4)
    net = frameworks.HelloMLP(12, 5)
    path = tmp_path / "hello.pt"
    torch.manual_seed(5)  # the fresh net starts from other weights
    reloaded = frameworks.save_and_reload(net, path, lambda: frameworks.HelloMLP(12, 5))
    assert reloaded is not net and not reloaded.training and net.training
    saved = torch.load(path)
    assert list(saved) == list(net.state_dict())
    x = torch.randn(3, 3, 4)
    assert torch.equal(reloaded(x), net(x))
    for key, value in net.state_dict().items():
        assert torch.equal(saved[key], value)


# --- sklearn_to_torch --------------------------------------------------------------------------------------


def _fit_quietly(model, X, y):
    with pytest.warns(ConvergenceWarning):  # few iterations on purpose: the weights only need to exist
        return model.fit(X, y)


@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_sklearn_to_torch_reproduces_predict_proba(activation):
    X, y = RNG.normal(size=(40, 5)), RNG.integers(0, 3, size=40)
    mlp = _fit_quietly(MLPClassifier(hidden_layer_sizes=(7, 6), activation=activation, max_iter=5,
                                     random_state=0), X, y)
    net = frameworks.sklearn_to_torch(mlp)
    X_new = RNG.normal(size=(9, 5))
    logits = net(torch.from_numpy(X_new))
    assert_close(torch.softmax(logits, dim=1).detach().numpy(), mlp.predict_proba(X_new), rtol=1e-10)
    assert [tuple(m.weight.shape) for m in _linear_layers(net)] == [(7, 5), (6, 7), (3, 6)]


def test_sklearn_to_torch_binary_classifier_and_regressor():
    X = RNG.normal(size=(30, 2))
    binary = _fit_quietly(MLPClassifier(hidden_layer_sizes=(4,), max_iter=5, random_state=1), X, (X[:, 0] > 0).astype(int))
    logit = frameworks.sklearn_to_torch(binary)(torch.from_numpy(X)).detach().numpy()
    assert_close(1.0 / (1.0 + np.exp(-logit.ravel())), binary.predict_proba(X)[:, 1], rtol=1e-10)
    regressor = _fit_quietly(MLPRegressor(hidden_layer_sizes=(5, 3), activation="logistic", max_iter=5,
                                          random_state=2), X, X[:, 0] * X[:, 1])
    prediction = frameworks.sklearn_to_torch(regressor)(torch.from_numpy(X)).detach().numpy()
    assert_close(prediction.ravel(), regressor.predict(X), rtol=1e-10, atol=1e-12)


def test_sklearn_to_torch_rejects_unfitted_models():
    with pytest.raises(ValueError, match="fitted"):
        frameworks.sklearn_to_torch(MLPClassifier())
