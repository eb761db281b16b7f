"""Multi-layer perceptrons built from the layer functions (lectures 000, 002, 003, 004).

``MLP`` is a fully connected network of any depth with a softmax cross-entropy head ("ce", integer
labels) or a mean-squared-error head ("mse"). It follows the model contract of ``nnref.training.fit``:
``params`` (updated in place by an optimizer), ``loss_and_grads``, ``forward``, ``predict``.

``two_layer_sigmoid_forward`` and ``two_layer_sigmoid_mse_grads`` write lecture 000's explicit
backpropagation formulas for a 2-layer sigmoid network trained with MSE (weights V, W, no biases),
and lecture 003's sample-wise variant without the 1/K factor.
"""

from __future__ import annotations

import numpy as np

from nnkit.validation import as_float_array, check_labels, check_positive, check_probability, check_same_rows

from .activations import sigmoid, softmax
from .layers import ACTIVATION_LAYERS, affine_backward, affine_forward, dropout_backward, dropout_forward
from .losses import MSE_REDUCTIONS, cross_entropy_loss, mse_loss

__all__ = ["MLP", "init_std", "two_layer_sigmoid_forward", "two_layer_sigmoid_mse_grads"]

HEADS = ("ce", "mse")
_HE_ACTIVATIONS = ("relu", "leaky_relu")


def init_std(fan_in, fan_out, activation):
    """Standard deviation of the Gaussian initial weights of a (fan_in, fan_out) layer.

    He (Kaiming) initialisation √(2 / fan_in) for ReLU-family activations, Xavier (Glorot)
    √(2 / (fan_in + fan_out)) otherwise: both keep the activations' variance roughly constant
    from layer to layer, so deep networks start neither saturated nor silent.
    """
    if activation in _HE_ACTIVATIONS:
        return float(np.sqrt(2.0 / fan_in))
    return float(np.sqrt(2.0 / (fan_in + fan_out)))


def _check_choice(value, name, choices):
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


class MLP:
    """Fully connected network: (affine → activation → dropout) × (L − 1) → affine → head.

    Parameters
    ----------
    layer_sizes : sequence of ints [D, H_1, ..., H_{L-1}, C]: input size, hidden sizes, output size
        (L = len(layer_sizes) − 1 affine layers; ``[D, C]`` is a linear/softmax model).
    activation : hidden activation, one of ``ACTIVATION_LAYERS`` ("relu", "leaky_relu", "sigmoid",
        "tanh", "hard_tanh", "identity").
    head : "ce" — scores are logits, loss = mean softmax cross-entropy on integer labels y (N,);
        "mse" — loss = ``mse_loss(outputs, Y, reduction=mse_reduction)`` on targets Y (N, C).
    mse_reduction : "mean" (torch), "sum", "half_sum" (lecture 003's sample-wise ½ Σ, deck 002) or
        "half_mean" (lecture 000's 1/(2K) Σ); only for head="mse".
    output_activation : activation after the last affine layer, "identity" by default; lecture
        000's and deck 002's networks use "sigmoid" outputs with MSE. head="ce" needs "identity".
    dropout : drop probability p of the inverted dropout after every hidden activation.
    rng : ``np.random.Generator`` drawing the initial weights.
    weight_scale : if given, every weight is N(0, weight_scale²) instead of He/Xavier (``init_std``).
        Biases start at 0.
    dtype : np.float64 or np.float32; parameters, activations and gradients use it.

    ``params`` = [W_1, b_1, ..., W_L, b_L] with W_l of shape (H_{l−1}, H_l) and b_l of shape (H_l,).
    ``MLP.from_params(params, ...)`` builds a network around existing parameter arrays instead.
    """

    def __init__(self, layer_sizes, *, activation="relu", head="ce", mse_reduction="mean",
                 output_activation="identity", dropout=0.0, rng, weight_scale=None, dtype=np.float64):
        sizes = list(layer_sizes)
        if len(sizes) < 2 or not all(isinstance(s, (int, np.integer)) and s > 0 for s in sizes):
            raise ValueError("layer_sizes must list at least two positive ints (input and output sizes), "
                             f"got {layer_sizes!r}")
        if not isinstance(rng, np.random.Generator):
            raise TypeError(f"rng must be a numpy.random.Generator, got {type(rng).__name__}")
        self._configure([int(s) for s in sizes], dtype, activation=activation, head=head,
                        mse_reduction=mse_reduction, output_activation=output_activation, dropout=dropout)
        if weight_scale is not None:
            weight_scale = check_positive(weight_scale, "weight_scale")
        self.params = []
        for fan_in, fan_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            std = init_std(fan_in, fan_out, activation) if weight_scale is None else weight_scale
            weights = rng.standard_normal((fan_in, fan_out), dtype=self.dtype) * self.dtype.type(std)
            self.params += [weights, np.zeros(fan_out, dtype=self.dtype)]

    @classmethod
    def from_params(cls, params, **options):
        """A network around existing parameters, without drawing initial weights.

        params: [W_1, b_1, ..., W_L, b_L] with W_l of shape (H_{l−1}, H_l) and b_l of shape (H_l,), all
        float32 or all float64 numpy arrays. The network adopts the arrays themselves (no copy:
        ``net.params[i] is params[i]``), so an optimizer stepping them trains it; ``loss_and_grads`` and
        ``forward`` never write into them. ``options``: the constructor's ``activation``, ``head``,
        ``mse_reduction``, ``output_activation``, ``dropout``.
        """
        params = list(params)
        if not params or len(params) % 2:
            raise ValueError(f"params must be [W_1, b_1, ..., W_L, b_L], got {len(params)} arrays")
        for i, param in enumerate(params):
            if not isinstance(param, np.ndarray) or param.dtype not in (np.float32, np.float64) \
                    or param.dtype != params[0].dtype:
                got = f"dtype {param.dtype}" if isinstance(param, np.ndarray) else type(param).__name__
                raise TypeError(f"params[{i}] must be a numpy array of dtype {params[0].dtype} (float32 or "
                                f"float64, the same for all), got {got}")
        sizes = []
        for i in range(0, len(params), 2):
            weights, bias = params[i], params[i + 1]
            chains = weights.ndim == 2 and (not sizes or weights.shape[0] == sizes[-1])
            if not chains or bias.shape != weights.shape[1:]:
                fan_in = sizes[-1] if sizes else "D"
                raise ValueError(f"params[{i}] and params[{i + 1}] must have shapes ({fan_in}, H) and (H,), "
                                 f"got {weights.shape} and {bias.shape}")
            sizes = sizes or [weights.shape[0]]
            sizes.append(weights.shape[1])
        network = cls.__new__(cls)
        network._configure(sizes, params[0].dtype, **options)
        network.params = params
        return network

    def _configure(self, layer_sizes, dtype, *, activation="relu", head="ce", mse_reduction="mean",
                   output_activation="identity", dropout=0.0):
        """Validate and store everything but the parameters (shared by ``__init__`` and ``from_params``)."""
        if np.dtype(dtype) not in (np.float32, np.float64):
            raise TypeError(f"dtype must be np.float32 or np.float64, got {np.dtype(dtype)}")
        self.layer_sizes = layer_sizes
        self.activation = _check_choice(activation, "activation", tuple(ACTIVATION_LAYERS))
        self.head = _check_choice(head, "head", HEADS)
        self.mse_reduction = _check_choice(mse_reduction, "mse_reduction", MSE_REDUCTIONS)
        self.output_activation = _check_choice(output_activation, "output_activation", tuple(ACTIVATION_LAYERS))
        if head == "ce" and output_activation != "identity":
            raise ValueError("head='ce' takes logits, so output_activation must be 'identity', "
                             f"got {output_activation!r}")
        self.dropout = check_probability(dropout, "dropout")
        self.dtype = np.dtype(dtype)

    @property
    def n_layers(self):
        """Number of affine layers L."""
        return len(self.layer_sizes) - 1

    def _inputs(self, X):
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"X must have shape (N, {self.layer_sizes[0]}) for this network, got shape {X.shape}")
        return X.astype(self.dtype, copy=False)

    def _run(self, X, *, train, rng):
        """Forward pass; returns the outputs and the per-layer caches for ``_backprop``.

        X was validated by the caller and the parameters are the network's own, so the layers run
        with ``check=False``: no re-validation, and caches reference the arrays instead of copying
        them (nothing writes into them before ``_backprop``; the optimizer steps after it).
        """
        hidden_forward = ACTIVATION_LAYERS[self.activation][0]
        output_forward = ACTIVATION_LAYERS[self.output_activation][0]
        h, caches = X, []
        for layer in range(self.n_layers):
            h, affine_cache = affine_forward(h, self.params[2 * layer], self.params[2 * layer + 1], check=False)
            if layer < self.n_layers - 1:
                h, act_cache = hidden_forward(h, check=False)
                h, drop_cache = dropout_forward(h, self.dropout, train=train, rng=rng, check=False)
            else:
                h, act_cache = output_forward(h, check=False)
                drop_cache = None
            caches.append((affine_cache, act_cache, drop_cache))
        return h, caches

    def _backprop(self, dout, caches):
        """Backward pass through the caches of ``_run``; returns grads aligned with ``params``."""
        hidden_backward = ACTIVATION_LAYERS[self.activation][1]
        output_backward = ACTIVATION_LAYERS[self.output_activation][1]
        grads = [None] * len(self.params)
        for layer in reversed(range(self.n_layers)):
            affine_cache, act_cache, drop_cache = caches[layer]
            if layer < self.n_layers - 1:
                dout = hidden_backward(dropout_backward(dout, drop_cache, check=False), act_cache, check=False)
            else:
                dout = output_backward(dout, act_cache, check=False)
            # the first layer's input is data: its gradient is never needed
            dout, grads[2 * layer], grads[2 * layer + 1] = affine_backward(
                dout, affine_cache, input_grad=layer > 0, check=False)
        return grads

    def _targets(self, X, y):
        """Validate y against X: labels in [0, C) for "ce", an (N, C) array (or (N,) if C = 1) for "mse"."""
        n_outputs = self.layer_sizes[-1]
        if self.head == "ce":
            y = check_labels(y, "y", n_classes=n_outputs)
        else:
            y = as_float_array(y, "y")
            if y.ndim == 1 and n_outputs == 1:
                y = y[:, np.newaxis]  # one regression output: accept (N,) targets
            if y.shape != (X.shape[0], n_outputs):
                raise ValueError(f"y must have shape {(X.shape[0], n_outputs)} for X of shape {X.shape}, "
                                 f"got shape {y.shape}")
        check_same_rows(X, "X", y, "y")
        return y

    def loss_and_grads(self, X, y, *, rng=None):
        """Training-mode loss and gradients: (loss, [dW_1, db_1, ..., dW_L, db_L]).

        X: (N, D); y: (N,) integer labels (head "ce") or (N, C) targets (head "mse", (N,) if C = 1).
        rng: ``np.random.Generator`` for the dropout masks (required when dropout > 0).
        """
        X = self._inputs(X)
        y = self._targets(X, y)
        outputs, caches = self._run(X, train=True, rng=rng)
        loss, doutputs = self._head_loss(outputs, y)
        return loss, self._backprop(doutputs, caches)

    def _head_loss(self, outputs, y):
        if self.head == "ce":  # the labels were checked by _targets, the logits are our own
            return cross_entropy_loss(outputs, y, check=False)
        return mse_loss(outputs, y, reduction=self.mse_reduction)

    def loss(self, X, y):
        """Evaluation-mode loss (no dropout, no gradients): the head's loss of ``forward(X)``."""
        X = self._inputs(X)
        y = self._targets(X, y)
        return self._head_loss(self.forward(X), y)[0]

    def forward(self, X):
        """Evaluation-mode outputs (no dropout): logits (N, C) for "ce", predictions (N, C) for "mse"."""
        return self._run(self._inputs(X), train=False, rng=None)[0]

    def predict(self, X):
        """Class indices (N,) for "ce" (argmax of the logits), the outputs (N, C) for "mse"."""
        outputs = self.forward(X)
        return outputs.argmax(axis=1) if self.head == "ce" else outputs

    def predict_proba(self, X):
        """Class probabilities softmax(logits), shape (N, C); only for head="ce"."""
        if self.head != "ce":
            raise ValueError(f"predict_proba needs head='ce', this network has head={self.head!r}")
        return softmax(self.forward(X))

    def __repr__(self):
        return (f"MLP({self.layer_sizes}, activation={self.activation!r}, head={self.head!r}, "
                f"dropout={self.dropout}, dtype={self.dtype.name})")


def _two_layer_arrays(X, V, W):
    X = as_float_array(X, "X", ndim=2)
    V = as_float_array(V, "V", ndim=2)
    W = as_float_array(W, "W", ndim=2)
    if V.shape[0] != X.shape[1] or W.shape[0] != V.shape[1]:
        raise ValueError(
            f"shapes do not chain: X {X.shape} needs V of shape ({X.shape[1]}, J) and W of shape (J, K); "
            f"got V {V.shape} and W {W.shape}"
        )
    return X, V, W


def two_layer_sigmoid_forward(X, V, W):
    """Lecture 000's 2-layer sigmoid network: y_j = f(Σ_i v_ij x_i), o_k = f(Σ_j w_jk y_j).

    X: (N, I) inputs x_i (append a column of ones for a bias); V: (I, J); W: (J, K).
    Returns (Y, O): hidden outputs (N, J) and network outputs (N, K).
    """
    X, V, W = _two_layer_arrays(X, V, W)
    hidden = sigmoid(X @ V)
    return hidden, sigmoid(hidden @ W)


def two_layer_sigmoid_mse_grads(X, D, V, W, *, form="lecture000"):
    """Explicit MSE backpropagation for the 2-layer sigmoid network (lecture 000, lecture 003).

    form="lecture000": E = 1/(2K) Σ_k (o_k − d_k)² per sample, so with f' = o(1 − o)
        ∂E/∂w_jk = (1/K)(o_k − d_k) o_k(1 − o_k) y_j,
        ∂E/∂y_j  = Σ_k (1/K)(o_k − d_k) o_k(1 − o_k) w_jk,
        ∂E/∂v_ij = ∂E/∂y_j · y_j(1 − y_j) · x_i.
    form="lecture003": the sample-wise L_n = ½ Σ_m (a_m − y_m)², i.e. the same formulas without 1/K
        (prediction error ε_m = a_m − y_m, hidden error ε_h = Σ_m ε_m σ'_m w_hm).
    For N > 1 samples the loss and gradients are averaged over samples (lecture 003's
    L = (1/N) Σ_n L_n); with one sample they are exactly the lecture formulas.

    X: (N, I); D: (N, K) desired outputs d_k; V: (I, J); W: (J, K).
    Returns (E, dE_dV, dE_dW) with dE_dV (I, J) and dE_dW (J, K).
    """
    _check_choice(form, "form", ("lecture000", "lecture003"))
    X, V, W = _two_layer_arrays(X, V, W)
    D = as_float_array(D, "D", ndim=2)
    Y, O = two_layer_sigmoid_forward(X, V, W)
    if D.shape != O.shape:
        raise ValueError(f"D must have the shape of the network outputs {O.shape}, got shape {D.shape}")
    n_samples, n_outputs = O.shape
    factor = 1.0 / n_outputs if form == "lecture000" else 1.0
    error = O - D
    E = factor * 0.5 * np.sum(error * error) / n_samples
    output_delta = factor * error * O * (1.0 - O)           # (1/K)(o_k − d_k) f'(net_k)
    dE_dW = Y.T @ output_delta / n_samples                    # δ_k y_j
    dE_dY = output_delta @ W.T                                # Σ_k δ_k w_jk
    dE_dV = X.T @ (dE_dY * Y * (1.0 - Y)) / n_samples         # ∂E/∂y_j f'(net_j) x_i
    return float(E), dE_dV, dE_dW
