"""Gradient-based optimizers over lists of numpy arrays, with exactly ``torch.optim``'s update rules.

Two layers:

* **Optimizer classes** ``SGD``, ``Adagrad``, ``RMSprop``, ``Adam`` and ``AdamW`` mirror ``torch.optim``
  (same arguments, defaults, state names and arithmetic). ``opt.step(grads)`` updates the parameter
  arrays given to the constructor **in place**, like ``torch.optim``; the per-parameter state lives in
  ``opt.state[i]`` and ``opt.state_dict()`` returns a copy of it. The gradients are never modified.
  Given ``Parameter`` objects instead of arrays (a ``value`` and a ``grad``, torch's ``.data`` and
  ``.grad``), an optimizer is used as in torch: ``opt.zero_grad()``, accumulate into ``p.grad``,
  ``opt.step()`` (assignment 05's optimizer classes).
* **Lecture forms**: pure functions that return new arrays and follow the slides' notation,
  ``momentum_step`` (deck 000's ``ΔW``), ``nesterov_step`` (deck 003's look-ahead gradient),
  ``adagrad_step``, ``rmsprop_step`` and ``adam_step`` (deck 003). ``docs/conventions.md`` maps each
  one to the torch form and ``tests/lib/test_conventions.py`` proves the equivalence.

Learning-rate schedules (``step_decay``, ``exponential_decay``, ``inverse_time_decay``) return a
function ``epoch -> lr``; assign its value to ``opt.lr`` at the start of each epoch
(``nnref.training.fit(..., lr_schedule=...)`` does it for you).
"""

from __future__ import annotations

import math

import numpy as np

from nnkit.validation import as_float_array, check_positive, check_probability

__all__ = [
    "Parameter",
    "Optimizer",
    "SGD",
    "Adagrad",
    "RMSprop",
    "Adam",
    "AdamW",
    "momentum_step",
    "nesterov_step",
    "adagrad_step",
    "rmsprop_step",
    "adam_step",
    "step_decay",
    "exponential_decay",
    "inverse_time_decay",
]


# ---------------------------------------------------------------------------------------------
# Lecture forms (pure functions: they never modify their arguments)
# ---------------------------------------------------------------------------------------------


def momentum_step(w, dw, delta_prev, *, lr, momentum):
    """Deck 000's SGD with momentum: ``ΔWᵗ = −η ∂Loss/∂Wᵗ + m ΔWᵗ⁻¹``, ``Wᵗ⁺¹ = Wᵗ + ΔWᵗ``.

    Args:
        w: parameters ``Wᵗ``, any shape.
        dw: gradient ``∂Loss/∂Wᵗ``, same shape.
        delta_prev: previous update ``ΔWᵗ⁻¹``, same shape (zeros before the first step).
        lr: learning rate ``η``.
        momentum: momentum coefficient ``m``.

    Returns:
        ``(w_next, delta)``: ``Wᵗ⁺¹`` and ``ΔWᵗ`` (new arrays).

    Same trajectory as ``torch.optim.SGD(lr=η, momentum=m)`` from a zero ``ΔW``: torch's buffer is
    ``v = −ΔW/η``.
    """
    delta = -lr * dw + momentum * delta_prev
    return w + delta, delta


def nesterov_step(theta, velocity, grad_fn, *, lr, momentum):
    """Deck 003's Nesterov momentum: the gradient is taken at the look-ahead point.

    ``vₜ = μ vₜ₋₁ + ε ∇f(θₜ₋₁ − μ vₜ₋₁)``, ``θₜ = θₜ₋₁ − vₜ`` with momentum ``μ`` and learning rate
    ``ε`` (Sutskever et al. 2013 with the velocity pointing uphill, as on the slide).

    Args:
        theta: parameters ``θₜ₋₁``, any shape.
        velocity: ``vₜ₋₁``, same shape (zeros before the first step).
        grad_fn: callable ``θ -> ∇f(θ)`` (it is evaluated at the look-ahead point, so a fixed
            gradient cannot be passed in).
        lr: learning rate ``ε``.
        momentum: momentum coefficient ``μ``.

    Returns:
        ``(theta_next, velocity_next)`` (new arrays).

    ``torch.optim.SGD(nesterov=True)`` keeps the look-ahead point itself: its parameters equal
    ``θₜ − μ vₜ`` and its buffer equals ``vₜ / ε``.
    """
    velocity = momentum * velocity + lr * np.asarray(grad_fn(theta - momentum * velocity))
    return theta - velocity, velocity


def adagrad_step(w, dw, accumulator, *, lr, eps=1e-10):
    """Deck 003's AdaGrad: ``vₜ = vₜ₋₁ + g²``, ``θₜ₊₁ = θₜ − μ g / (√vₜ + ε)``.

    Returns ``(w_next, accumulator_next)`` (new arrays). Equals ``torch.optim.Adagrad`` with
    ``lr_decay=0`` and ``initial_accumulator_value=0`` (``ε`` is added after the square root).
    """
    accumulator = accumulator + dw * dw
    return w - lr * dw / (np.sqrt(accumulator) + eps), accumulator


def rmsprop_step(w, dw, square_avg, *, lr, beta=0.99, eps=1e-8):
    """Deck 003's RMSProp: ``vₜ = β vₜ₋₁ + (1 − β) g²``, ``θₜ₊₁ = θₜ − μ g / (√vₜ + ε)``.

    Returns ``(w_next, square_avg_next)`` (new arrays). Equals ``torch.optim.RMSprop`` with
    ``alpha=β``, ``momentum=0`` and ``centered=False``.
    """
    square_avg = beta * square_avg + (1.0 - beta) * dw * dw
    return w - lr * dw / (np.sqrt(square_avg) + eps), square_avg


def adam_step(w, dw, m, s, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """Deck 003's Adam with bias correction, step counter ``t`` starting at 1.

    ``vₜ = β₁ vₜ₋₁ + (1 − β₁) g``, ``v̂ₜ = vₜ / (1 − β₁ᵗ)``;
    ``sₜ = β₂ sₜ₋₁ + (1 − β₂) g²``, ``ŝₜ = sₜ / (1 − β₂ᵗ)``;
    ``θₜ₊₁ = θₜ − μ v̂ₜ / (√ŝₜ + ε)``
    (the slide's last line carries a stray trailing ``g``: the step is ``μ v̂ₜ / (√ŝₜ + ε)``).

    Returns ``(w_next, m_next, s_next)`` (new arrays). Equals ``torch.optim.Adam``.
    """
    m = beta1 * m + (1.0 - beta1) * dw
    s = beta2 * s + (1.0 - beta2) * dw * dw
    m_hat = m / (1.0 - beta1**t)
    s_hat = s / (1.0 - beta2**t)
    return w - lr * m_hat / (np.sqrt(s_hat) + eps), m, s


# ---------------------------------------------------------------------------------------------
# torch.optim-compatible optimizers (in place)
# ---------------------------------------------------------------------------------------------


class Parameter:
    """A trainable array and the gradient of the loss with respect to it (torch's ``.data`` and ``.grad``).

    Inputs:
    - value: array of any shape (copied, as float64 unless it is already floating).

    Attributes ``value`` (updated in place by an optimizer's ``step()``) and ``grad`` (same shape,
    zeros at first; a backward pass adds to it, ``zero_grad()`` resets it).
    """

    def __init__(self, value):
        value = as_float_array(value, "value")
        self.value = np.array(value, dtype=value.dtype)
        self.grad = np.zeros_like(self.value)

    def __repr__(self):
        return f"Parameter(shape={self.value.shape})"


class Optimizer:
    """Base class: holds the parameter arrays, validates gradients, keeps ``state[i]`` per parameter.

    ``params`` is a list of floating numpy arrays (then ``step(grads)``) or of ``Parameter`` objects
    (then ``zero_grad()`` and ``step()``, which reads each ``p.grad``).
    Subclasses implement ``_update(i, param, grad)``, which changes ``param`` in place.
    """

    def __init__(self, params, lr, weight_decay=0.0):
        if isinstance(params, np.ndarray):
            raise TypeError(
                f"params must be a list of arrays, got a single array of shape {params.shape}; "
                "wrap it in a list: [w]"
            )
        params = list(params)
        if params and all(isinstance(p, Parameter) for p in params):
            self.parameters = params
            params = [p.value for p in params]
        elif any(isinstance(p, Parameter) for p in params):
            raise TypeError("params must be all arrays or all Parameter objects, not a mix")
        else:
            self.parameters = None
        self.params = params
        if not self.params:
            raise ValueError("params is an empty list: there is nothing to optimize")
        for i, p in enumerate(self.params):
            if not isinstance(p, np.ndarray) or not np.issubdtype(p.dtype, np.floating):
                got = f"dtype {p.dtype}" if isinstance(p, np.ndarray) else type(p).__name__
                raise TypeError(
                    f"params[{i}] must be a floating-point numpy array updated in place, got {got}"
                )
        self.lr = check_positive(lr, "lr", allow_zero=True)
        self.weight_decay = check_positive(weight_decay, "weight_decay", allow_zero=True)
        self.state = [{} for _ in self.params]

    def step(self, grads=None) -> None:
        """Update every parameter in place from ``grads`` (same order and shapes as ``params``).

        With ``Parameter`` objects, ``grads`` is omitted: the gradients are the parameters' ``grad``.
        """
        if grads is None:
            if self.parameters is None:
                raise TypeError("step() needs the gradients: step(grads), one array per parameter")
            grads = [p.grad for p in self.parameters]
        elif self.parameters is not None:
            raise TypeError("this optimizer reads the gradients from its Parameter objects: call step()")
        grads = self._check_grads(grads)
        for i, (param, grad) in enumerate(zip(self.params, grads)):
            self._update(i, param, grad)

    def zero_grad(self) -> None:
        """Set the ``grad`` of every ``Parameter`` to zero, in place (torch's ``set_to_none=False``)."""
        if self.parameters is None:
            raise TypeError("zero_grad() needs Parameter objects; this optimizer was given bare arrays")
        for p in self.parameters:
            p.grad[...] = 0.0

    def state_dict(self) -> dict:
        """A deep copy of the per-parameter state (torch's names) and the hyper-parameters.

        Returns ``{"state": {i: {name: value}}, "hyperparameters": {name: value}}``; private
        scratch buffers are left out.
        """
        state = {i: {name: (np.array(value) if isinstance(value, np.ndarray) else value)
                     for name, value in entry.items() if not name.startswith("_")}
                 for i, entry in enumerate(self.state)}
        hyper = {name: value for name, value in vars(self).items()
                 if name not in ("params", "parameters", "state") and not name.startswith("_")}
        return {"state": state, "hyperparameters": hyper}

    def _check_grads(self, grads) -> list[np.ndarray]:
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(
                f"grads has {len(grads)} arrays but params has {len(self.params)}: "
                "pass one gradient per parameter, in the same order"
            )
        checked = []
        for i, (param, grad) in enumerate(zip(self.params, grads)):
            grad = as_float_array(grad, f"grads[{i}]", finite=False)
            if grad.shape != param.shape:
                raise ValueError(
                    f"grads[{i}] has shape {grad.shape} but params[{i}] has shape {param.shape}"
                )
            checked.append(grad)
        return checked

    def _decayed(self, param, grad):
        """L2 weight decay as torch applies it: ``g + λ p`` (a new array; ``grad`` is untouched)."""
        return grad + self.weight_decay * param if self.weight_decay else grad

    def _update(self, i, param, grad):
        raise NotImplementedError


def _scratch(state: dict, like: np.ndarray) -> np.ndarray:
    """The parameter's scratch array for intermediate results, made at its first step.

    A step touches every weight a few times per mini-batch; writing intermediates into one reused
    array (``out=``) instead of new temporaries is what keeps these optimizers close to
    ``torch.optim``'s fused kernels. It is not part of torch's state, so it lives outside ``state``'s
    torch-named keys under the private key ``"_work"``.
    """
    if "_work" not in state:
        state["_work"] = np.empty_like(like)
    return state["_work"]


# Every this many steps SGD sets the subnormal entries of its momentum buffers to zero (see SGD).
SUBNORMAL_FLUSH_INTERVAL = 16


def _flush_subnormals(buf):
    """Set the subnormal entries of ``buf`` (0 < |x| < ``np.finfo(dtype).tiny``) to zero, in place."""
    buf[np.abs(buf) < np.finfo(buf.dtype).tiny] = 0.0


class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    With weight decay ``λ``, momentum ``μ``, dampening ``τ`` and learning rate ``γ``:
    ``g ← g + λp``; ``b ← g`` at the first step, else ``b ← μ b + (1 − τ) g``;
    ``g ← g + μ b`` (Nesterov) or ``g ← b``; ``p ← p − γ g``.
    State: ``state[i]["momentum_buffer"]`` (only when ``momentum > 0``).

    Subnormal flush: a buffer entry whose gradient stays 0 (the weights of a pixel that is never on)
    decays as μᵏ into the subnormal floats below ``np.finfo(dtype).tiny`` (1.2e-38 in float32), which
    x86 CPUs multiply about 20 times slower. Every ``SUBNORMAL_FLUSH_INTERVAL`` steps the float32 and
    float64 buffers' subnormal entries are set to 0, as ``torch.set_flush_denormal(True)`` does in
    hardware: the buffer differs from torch's by less than ``tiny``, and the parameters are exactly those
    of the same updates without the flush (γ·tiny is below their rounding).
    """

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = check_positive(momentum, "momentum", allow_zero=True)
        self.dampening = float(dampening)
        if nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise ValueError(
                f"Nesterov momentum requires momentum > 0 and dampening = 0, got "
                f"momentum={self.momentum} and dampening={self.dampening}"
            )
        self.nesterov = bool(nesterov)
        self._steps = 0

    def step(self, grads=None) -> None:
        self._steps += 1
        super().step(grads)

    def _update(self, i, param, grad):
        grad = self._decayed(param, grad)
        buf = None
        if self.momentum:
            buf = self.state[i].get("momentum_buffer")
            if buf is None:  # torch starts the buffer at the first gradient, undampened
                buf = self.state[i]["momentum_buffer"] = np.array(grad)  # a copy, 0-d included
            else:  # in place: the buffer is the optimizer's own
                buf *= self.momentum
                buf += np.multiply(grad, 1.0 - self.dampening, out=_scratch(self.state[i], buf)) \
                    if self.dampening else grad
            grad = grad + self.momentum * buf if self.nesterov else buf
        param -= np.multiply(grad, self.lr, out=_scratch(self.state[i], param))
        if buf is not None and self._steps % SUBNORMAL_FLUSH_INTERVAL == 0 \
                and buf.dtype in (np.float32, np.float64):
            _flush_subnormals(buf)


class Adagrad(Optimizer):
    """AdaGrad as ``torch.optim.Adagrad``: ``γₜ = γ / (1 + (t − 1) η_decay)``, ``G ← G + g²``,
    ``p ← p − γₜ g / (√G + ε)``.

    State: ``state[i]["step"]`` and ``state[i]["sum"]`` (starts at ``initial_accumulator_value``).
    """

    def __init__(
        self, params, lr=0.01, lr_decay=0, weight_decay=0, eps=1e-10, initial_accumulator_value=0
    ):
        super().__init__(params, lr, weight_decay)
        self.lr_decay = check_positive(lr_decay, "lr_decay", allow_zero=True)
        self.eps = check_positive(eps, "eps", allow_zero=True)
        self.initial_accumulator_value = check_positive(
            initial_accumulator_value, "initial_accumulator_value", allow_zero=True
        )
        for i, p in enumerate(self.params):
            self.state[i] = {"step": 0, "sum": np.full_like(p, self.initial_accumulator_value)}

    def _update(self, i, param, grad):
        state = self.state[i]
        state["step"] += 1
        grad = self._decayed(param, grad)
        decayed_lr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        param[...], state["sum"][...] = adagrad_step(
            param, grad, state["sum"], lr=decayed_lr, eps=self.eps
        )


class RMSprop(Optimizer):
    """RMSprop as ``torch.optim.RMSprop``.

    ``v ← α v + (1 − α) g²``; centered: ``ḡ ← α ḡ + (1 − α) g`` and ``d = √(v − ḡ²) + ε``, else
    ``d = √v + ε``; with momentum ``μ``: ``b ← μ b + g / d``, ``p ← p − γ b``; else ``p ← p − γ g / d``.
    State: ``step``, ``square_avg``, plus ``momentum_buffer`` and ``grad_avg`` when used.
    """

    def __init__(
        self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False
    ):
        super().__init__(params, lr, weight_decay)
        self.alpha = check_probability(alpha, "alpha", allow_one=True)
        self.eps = check_positive(eps, "eps", allow_zero=True)
        self.momentum = check_positive(momentum, "momentum", allow_zero=True)
        self.centered = bool(centered)
        for i, p in enumerate(self.params):
            self.state[i] = {"step": 0, "square_avg": np.zeros_like(p)}
            if self.momentum:
                self.state[i]["momentum_buffer"] = np.zeros_like(p)
            if self.centered:
                self.state[i]["grad_avg"] = np.zeros_like(p)

    def _update(self, i, param, grad):
        state = self.state[i]
        state["step"] += 1
        grad = self._decayed(param, grad)
        alpha = self.alpha
        state["square_avg"][...] = alpha * state["square_avg"] + (1 - alpha) * grad * grad
        if self.centered:
            # the variance of g, not its raw second moment, scales the step
            state["grad_avg"][...] = alpha * state["grad_avg"] + (1 - alpha) * grad
            denom = np.sqrt(state["square_avg"] - state["grad_avg"] ** 2) + self.eps
        else:
            denom = np.sqrt(state["square_avg"]) + self.eps
        if self.momentum:
            state["momentum_buffer"][...] = self.momentum * state["momentum_buffer"] + grad / denom
            param -= self.lr * state["momentum_buffer"]
        else:
            param -= self.lr * grad / denom


class Adam(Optimizer):
    """Adam as ``torch.optim.Adam`` (L2 weight decay added to the gradient; no amsgrad).

    ``m ← β₁ m + (1 − β₁) g``, ``v ← β₂ v + (1 − β₂) g²`` (``t`` counts from 1),
    ``p ← p − γ m̂ / (√v̂ + ε)`` with ``m̂ = m / (1 − β₁ᵗ)`` and ``v̂ = v / (1 − β₂ᵗ)``.
    State: ``step``, ``exp_avg``, ``exp_avg_sq`` (torch's names).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0):
        super().__init__(params, lr, weight_decay)
        if len(betas) != 2:
            raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.betas = (check_probability(betas[0], "betas[0]"), check_probability(betas[1], "betas[1]"))
        self.eps = check_positive(eps, "eps", allow_zero=True)
        for i, p in enumerate(self.params):
            self.state[i] = {"step": 0, "exp_avg": np.zeros_like(p), "exp_avg_sq": np.zeros_like(p)}

    def _update(self, i, param, grad):
        state = self.state[i]
        state["step"] += 1
        t = state["step"]
        grad = self._decayed(param, grad)
        beta1, beta2 = self.betas
        # adam_step's formulas, in place and in torch's order (the moments are the optimizer's own)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        work = _scratch(state, param)
        m *= beta1
        m += np.multiply(grad, 1.0 - beta1, out=work)  # m ← β₁ m + (1 − β₁) g
        v *= beta2
        np.multiply(grad, grad, out=work)
        v += np.multiply(work, 1.0 - beta2, out=work)  # v ← β₂ v + (1 − β₂) g²
        np.sqrt(v, out=work)
        work /= math.sqrt(1.0 - beta2**t)
        work += self.eps  # √v̂ + ε with v̂ = v / (1 − β₂ᵗ)
        np.divide(m, work, out=work)
        param -= np.multiply(work, self.lr / (1.0 - beta1**t), out=work)  # p ← p − γ m̂ / (√v̂ + ε), m̂ = m / (1 − β₁ᵗ)


class AdamW(Adam):
    """AdamW as ``torch.optim.AdamW``: decoupled weight decay ``p ← p (1 − γλ)`` before the Adam step."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _decayed(self, param, grad):
        param *= 1.0 - self.lr * self.weight_decay
        return grad


# ---------------------------------------------------------------------------------------------
# Learning-rate schedules: each returns ``schedule(epoch) -> lr`` with epochs counted from 0
# ---------------------------------------------------------------------------------------------


def _check_epoch(epoch) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, (int, np.integer)) or epoch < 0:
        raise ValueError(f"epoch must be an integer >= 0, got {epoch!r}")
    return int(epoch)


def step_decay(initial_lr, *, factor=0.5, every=10):
    """Step decay ``η_e = η₀ · factor^⌊e / every⌋`` (``torch.optim.lr_scheduler.StepLR``)."""
    initial_lr = check_positive(initial_lr, "initial_lr")
    factor = check_positive(factor, "factor")
    if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
        raise ValueError(f"every must be an integer >= 1, got {every!r}")

    def schedule(epoch):
        return initial_lr * factor ** (_check_epoch(epoch) // every)

    return schedule


def exponential_decay(initial_lr, *, gamma=0.95):
    """Exponential decay ``η_e = η₀ γᵉ`` (``torch.optim.lr_scheduler.ExponentialLR``)."""
    initial_lr = check_positive(initial_lr, "initial_lr")
    gamma = check_positive(gamma, "gamma")

    def schedule(epoch):
        return initial_lr * gamma ** _check_epoch(epoch)

    return schedule


def inverse_time_decay(initial_lr, *, decay=0.1):
    """``1/t`` decay ``η_e = η₀ / (1 + decay · e)`` (the rule of Adagrad's ``lr_decay``)."""
    initial_lr = check_positive(initial_lr, "initial_lr")
    decay = check_positive(decay, "decay", allow_zero=True)

    def schedule(epoch):
        return initial_lr / (1.0 + decay * _check_epoch(epoch))

    return schedule
