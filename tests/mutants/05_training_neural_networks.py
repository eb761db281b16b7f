"""Self-test catalogue of assignment 05_training_neural_networks: wrong answers and alternative right ones.

Each ``Mutant`` replaces one solution cell of
``source/05_training_neural_networks/05_training_neural_networks.ipynb`` and must lose the points of that
function's test cell only; each ``Alternative`` is a different correct solution and must keep full marks.
"""

from nngrade.selftest import Alternative, Mutant


def _variant(source: str, old: str, new: str) -> str:
    """``source`` with one fragment replaced (the fragment must be there: a typo must not pass silently)."""
    if source.count(old) != 1:
        raise ValueError(f"fragment not found exactly once: {old!r}")
    return source.replace(old, new)


# The source solutions the one-line variants below start from.
MSLE = """
def msle_loss(pred, target):
    log_ratio = np.log1p(pred) - np.log1p(target)
    return float(np.mean(log_ratio ** 2)), 2 * log_ratio / (log_ratio.size * (1 + pred))
"""

HINGE = """
def squared_hinge_loss(pred, target):
    slack = np.maximum(0.0, 1.0 - target * pred)
    return float(np.mean(slack ** 2)), -2 * target * slack / slack.size
"""

LEAKY = """
def leaky_relu_grad(x, negative_slope=0.01):
    return np.where(x > 0, 1.0, negative_slope)
"""

MOMENTUM = """
def momentum_step(w, dw, delta_prev, *, lr, momentum):
    delta = -lr * dw + momentum * delta_prev
    return w + delta, delta
"""

NESTEROV = """
def nesterov_step(theta, velocity, grad_fn, *, lr, momentum):
    look_ahead = theta - momentum * velocity
    velocity = momentum * velocity + lr * grad_fn(look_ahead)
    return theta - velocity, velocity
"""

ADAGRAD = """
def adagrad_step(w, dw, accumulator, *, lr, eps=1e-10):
    accumulator = accumulator + dw ** 2
    return w - lr * dw / (np.sqrt(accumulator) + eps), accumulator
"""

RMSPROP = """
def rmsprop_step(w, dw, square_avg, *, lr, beta=0.99, eps=1e-8):
    square_avg = beta * square_avg + (1 - beta) * dw ** 2
    return w - lr * dw / (np.sqrt(square_avg) + eps), square_avg
"""

ADAM = """
def adam_step(w, dw, m, s, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * dw
    s = beta2 * s + (1 - beta2) * dw ** 2
    m_hat = m / (1 - beta1 ** t)
    s_hat = s / (1 - beta2 ** t)
    return w - lr * m_hat / (np.sqrt(s_hat) + eps), m, s
"""

L2 = """
def l2_penalty(weights, lam):
    value = lam * sum(float(np.sum(W ** 2)) for W in weights)
    return value, [2 * lam * W for W in weights]
"""

DROPOUT = """
def dropout(x, p, *, train=True, rng=None):
    if not train:
        return x.copy()
    keep = rng.random(x.shape) >= p
    return x * keep / (1 - p)
"""

MUTANTS = [
    # --- msle_loss -----------------------------------------------------------------------------------
    Mutant(cell="msle_loss", description="logarithms without the +1: log(a) - log(y)",
           source=_variant(MSLE, "np.log1p(pred) - np.log1p(target)", "np.log(pred) - np.log(target)")),
    Mutant(cell="msle_loss", description="derivative misses the chain-rule factor 1/(1 + a)",
           source=_variant(MSLE, "(log_ratio.size * (1 + pred))", "log_ratio.size")),
    Mutant(cell="msle_loss", description="sum instead of mean (missing 1/N) in loss and derivative",
           source=_variant(_variant(MSLE, "np.mean(log_ratio ** 2)", "np.sum(log_ratio ** 2)"),
                           "(log_ratio.size * (1 + pred))", "(1 + pred)")),
    Mutant(cell="msle_loss", description="the slide's table column: base-10 logarithms",
           source=_variant(MSLE, "np.log1p(pred) - np.log1p(target)", "np.log10(1 + pred) - np.log10(1 + target)")),
    Mutant(cell="msle_loss", description="derivative with the sign of the lecture's log((y + 1)/(a + 1))",
           source=_variant(MSLE, "return float(np.mean(log_ratio ** 2)), 2 * log_ratio",
                           "return float(np.mean(log_ratio ** 2)), -2 * log_ratio")),
    # --- squared_hinge_loss --------------------------------------------------------------------------
    Mutant(cell="squared_hinge_loss", description="max{0, .} forgotten: (1 - y a)^2 also beyond the margin",
           source=_variant(HINGE, "np.maximum(0.0, 1.0 - target * pred)", "1.0 - target * pred")),
    Mutant(cell="squared_hinge_loss", description="the lecture's sum instead of the mean",
           source=_variant(_variant(HINGE, "np.mean(slack ** 2)", "np.sum(slack ** 2)"), " / slack.size", "")),
    Mutant(cell="squared_hinge_loss", description="derivative without the factor 2",
           source=_variant(HINGE, "-2 * target * slack", "-target * slack")),
    Mutant(cell="squared_hinge_loss", description="derivative with the wrong sign",
           source=_variant(HINGE, "-2 * target * slack", "2 * target * slack")),
    Mutant(cell="squared_hinge_loss", description="plain hinge: the max is not squared",
           source=_variant(_variant(HINGE, "np.mean(slack ** 2)", "np.mean(slack)"),
                           "-2 * target * slack / slack.size", "-target * (slack > 0) / slack.size")),
    # --- leaky_relu_grad -----------------------------------------------------------------------------
    Mutant(cell="leaky_relu_grad", description="derivative 1 at the kink x = 0 (x >= 0)",
           source=_variant(LEAKY, "x > 0", "x >= 0")),
    Mutant(cell="leaky_relu_grad", description="negative_slope ignored: the ReLU derivative",
           source=_variant(LEAKY, "np.where(x > 0, 1.0, negative_slope)", "np.where(x > 0, 1.0, 0.0)")),
    Mutant(cell="leaky_relu_grad", description="returns the activation, not its derivative",
           source=_variant(LEAKY, "np.where(x > 0, 1.0, negative_slope)", "np.where(x > 0, x, negative_slope * x)")),
    Mutant(cell="leaky_relu_grad", description="the lecture's 'ReLU' = sign(x)' read literally, with the slope",
           source=_variant(LEAKY, "np.where(x > 0, 1.0, negative_slope)", "np.where(x > 0, 1.0, -negative_slope)")),
    # --- momentum_step -------------------------------------------------------------------------------
    Mutant(cell="momentum_step", description="steps up the gradient: +lr * dw",
           source=_variant(MOMENTUM, "-lr * dw + momentum * delta_prev", "lr * dw + momentum * delta_prev")),
    Mutant(cell="momentum_step", description="torch's buffer v = m v + g mixed into deck 000's delta",
           source=_variant(MOMENTUM, "delta = -lr * dw + momentum * delta_prev\n    return w + delta, delta",
                           "delta = momentum * delta_prev + dw\n    return w - lr * delta, delta")),
    Mutant(cell="momentum_step", description="updates W with the previous step instead of the new one",
           source=_variant(MOMENTUM, "return w + delta, delta", "return w + delta_prev, delta")),
    Mutant(cell="momentum_step", description="updates w in place (the caller's array changes)",
           source=_variant(MOMENTUM, "return w + delta, delta", "w += delta\n    return w, delta")),
    # --- nesterov_step -------------------------------------------------------------------------------
    Mutant(cell="nesterov_step", description="plain momentum: gradient at theta, not at the look-ahead point",
           source=_variant(NESTEROV, "grad_fn(look_ahead)", "grad_fn(theta)")),
    Mutant(cell="nesterov_step", description="look-ahead in the wrong direction: theta + mu v",
           source=_variant(NESTEROV, "theta - momentum * velocity", "theta + momentum * velocity")),
    Mutant(cell="nesterov_step", description="the slide's velocity without the momentum factor: v + eps grad",
           source=_variant(NESTEROV, "velocity = momentum * velocity + lr", "velocity = velocity + lr")),
    Mutant(cell="nesterov_step", description="the slide's jump theta - mu v (mu also as the step size)",
           source=_variant(NESTEROV, "return theta - velocity, velocity", "return theta - momentum * velocity, velocity")),
    # --- adagrad_step --------------------------------------------------------------------------------
    Mutant(cell="adagrad_step", description="no accumulation: only the current g^2",
           source=_variant(ADAGRAD, "accumulator = accumulator + dw ** 2", "accumulator = dw ** 2")),
    Mutant(cell="adagrad_step", description="eps inside the square root",
           source=_variant(ADAGRAD, "(np.sqrt(accumulator) + eps)", "np.sqrt(accumulator + eps)")),
    Mutant(cell="adagrad_step", description="divides by the accumulator without the square root",
           source=_variant(ADAGRAD, "(np.sqrt(accumulator) + eps)", "(accumulator + eps)")),
    Mutant(cell="adagrad_step", description="steps with the old accumulator, updates it afterwards",
           source=_variant(ADAGRAD, """    accumulator = accumulator + dw ** 2
    return w - lr * dw / (np.sqrt(accumulator) + eps), accumulator""",
                           """    w_next = w - lr * dw / (np.sqrt(accumulator) + eps)
    return w_next, accumulator + dw ** 2""")),
    # --- rmsprop_step --------------------------------------------------------------------------------
    Mutant(cell="rmsprop_step", description="beta and 1 - beta swapped",
           source=_variant(RMSPROP, "beta * square_avg + (1 - beta) * dw ** 2", "(1 - beta) * square_avg + beta * dw ** 2")),
    Mutant(cell="rmsprop_step", description="eps inside the square root",
           source=_variant(RMSPROP, "(np.sqrt(square_avg) + eps)", "np.sqrt(square_avg + eps)")),
    Mutant(cell="rmsprop_step", description="running average without the factor (1 - beta)",
           source=_variant(RMSPROP, "(1 - beta) * dw ** 2", "dw ** 2")),
    Mutant(cell="rmsprop_step", description="AdaGrad's sum: the old average is not decayed",
           source=_variant(RMSPROP, "beta * square_avg + (1 - beta)", "square_avg + (1 - beta)")),
    # --- adam_step -----------------------------------------------------------------------------------
    Mutant(cell="adam_step", description="bias correction off by one: t counted from 0 (t + 1)",
           source=_variant(_variant(ADAM, "beta1 ** t", "beta1 ** (t + 1)"), "beta2 ** t", "beta2 ** (t + 1)")),
    Mutant(cell="adam_step", description="no bias correction",
           source=_variant(_variant(ADAM, "m / (1 - beta1 ** t)", "m"), "s / (1 - beta2 ** t)", "s")),
    Mutant(cell="adam_step", description="stores the bias-corrected moments",
           source=_variant(ADAM, "return w - lr * m_hat / (np.sqrt(s_hat) + eps), m, s",
                           "return w - lr * m_hat / (np.sqrt(s_hat) + eps), m_hat, s_hat")),
    Mutant(cell="adam_step", description="eps inside the square root",
           source=_variant(ADAM, "(np.sqrt(s_hat) + eps)", "np.sqrt(s_hat + eps)")),
    Mutant(cell="adam_step", description="the slide's stray trailing g: step multiplied by the gradient",
           source=_variant(ADAM, "lr * m_hat / (np.sqrt(s_hat) + eps), m, s", "lr * m_hat / (np.sqrt(s_hat) + eps) * dw, m, s")),
    Mutant(cell="adam_step", description="|g| instead of g^2 in the second moment",
           source=_variant(ADAM, "(1 - beta2) * dw ** 2", "(1 - beta2) * np.abs(dw)")),
    # --- l2_penalty ----------------------------------------------------------------------------------
    Mutant(cell="l2_penalty", description="gradient lam W (the 1/2 lam ||W||^2 convention)",
           source=_variant(L2, "[2 * lam * W for W in weights]", "[lam * W for W in weights]")),
    Mutant(cell="l2_penalty", description="the squared norm of the sum: lam (sum W)^2",
           source=_variant(L2, "float(np.sum(W ** 2))", "float(np.sum(W) ** 2)")),
    Mutant(cell="l2_penalty", description="only the last weight matrix is counted (value overwritten in a loop)",
           source="""
def l2_penalty(weights, lam):
    grads = []
    for W in weights:
        value = lam * float(np.sum(W ** 2))
        grads.append(2 * lam * W)
    return value, grads
"""),
    Mutant(cell="l2_penalty", description="the norm instead of the squared norm: lam ||W||",
           source=_variant(L2, "float(np.sum(W ** 2))", "float(np.linalg.norm(W))")),
    # --- dropout -------------------------------------------------------------------------------------
    Mutant(cell="dropout", description="not rescaled by 1/(1 - p) (deck 004's snippet)",
           source=_variant(DROPOUT, "return x * keep / (1 - p)", "return x * keep")),
    Mutant(cell="dropout", description="still active in evaluation mode",
           source=_variant(DROPOUT, "    if not train:\n        return x.copy()\n", "")),
    Mutant(cell="dropout", description="p taken as the probability of keeping (u < p)",
           source=_variant(DROPOUT, "rng.random(x.shape) >= p", "rng.random(x.shape) < p")),
    Mutant(cell="dropout", description="old-style test-time scaling: evaluation returns x (1 - p)",
           source=_variant(DROPOUT, "return x.copy()", "return x * (1 - p)")),
    Mutant(cell="dropout", description="multiplies by (1 - p) instead of dividing",
           source=_variant(DROPOUT, "x * keep / (1 - p)", "x * keep * (1 - p)")),
    Mutant(cell="dropout", description="drops in place: x[~keep] = 0 changes the caller's array",
           source=_variant(DROPOUT, "    return x * keep / (1 - p)", "    x[~keep] = 0\n    return x / (1 - p)")),
]

ALTERNATIVES = [
    Alternative(cell="msle_loss", description="log of the ratio, gradient written out per entry",
                source="""
def msle_loss(pred, target):
    n = pred.size
    log_ratio = np.log((pred + 1) / (target + 1))
    loss = np.sum(log_ratio * log_ratio) / n
    return loss, (2.0 / n) * log_ratio / (pred + 1)
"""),
    Alternative(cell="squared_hinge_loss", description="np.where on the margin, np.clip",
                source="""
def squared_hinge_loss(pred, target):
    margin = target * pred
    slack = np.clip(1 - margin, 0, None)
    grad = np.where(margin < 1, -2 * target * (1 - margin), 0.0) / pred.size
    return np.mean(np.square(slack)), grad
"""),
    Alternative(cell="leaky_relu_grad", description="boolean masks added up",
                source="""
def leaky_relu_grad(x, negative_slope=0.01):
    positive = x > 0
    return positive * 1.0 + (~positive) * negative_slope
"""),
    Alternative(cell="momentum_step", description="copy, then in-place arithmetic on the copy",
                source="""
def momentum_step(w, dw, delta_prev, *, lr, momentum):
    delta = momentum * delta_prev - lr * dw
    w_next = w.copy()
    w_next += delta
    return w_next, delta
"""),
    Alternative(cell="nesterov_step", description="torch's bookkeeping converted back to theta and v",
                source="""
def nesterov_step(theta, velocity, grad_fn, *, lr, momentum):
    grad = grad_fn(theta - momentum * velocity)
    new_velocity = momentum * velocity + lr * grad
    theta_next = theta - momentum * velocity - lr * grad
    return theta_next, new_velocity
"""),
    Alternative(cell="adagrad_step", description="np.square and an explicit copy",
                source="""
def adagrad_step(w, dw, accumulator, *, lr, eps=1e-10):
    new_accumulator = accumulator.copy()
    new_accumulator += np.square(dw)
    step = lr * dw / (np.sqrt(new_accumulator) + eps)
    return w - step, new_accumulator
"""),
    Alternative(cell="rmsprop_step", description="average written as v + (1 - beta)(g^2 - v)",
                source="""
def rmsprop_step(w, dw, square_avg, *, lr, beta=0.99, eps=1e-8):
    new_avg = square_avg + (1 - beta) * (dw * dw - square_avg)
    return w - lr * dw / (np.sqrt(new_avg) + eps), new_avg
"""),
    Alternative(cell="adam_step", description="Kingma and Ba's efficient form with a corrected step size and eps",
                source="""
def adam_step(w, dw, m, s, t, *, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m_next = beta1 * m + (1 - beta1) * dw
    s_next = beta2 * s + (1 - beta2) * dw * dw
    correction = np.sqrt(1 - beta2 ** t)
    step_size = lr * correction / (1 - beta1 ** t)
    return w - step_size * m_next / (np.sqrt(s_next) + eps * correction), m_next, s_next
"""),
    Alternative(cell="l2_penalty", description="np.vdot for the sum of squares, tuple of gradients",
                source="""
def l2_penalty(weights, lam):
    value = 0.0
    for W in weights:
        value += lam * np.vdot(W, W)
    return value, tuple(2 * lam * W for W in weights)
"""),
    Alternative(cell="dropout", description="np.where on the uniform draw; evaluation returns x itself",
                source="""
def dropout(x, p, *, train=True, rng=None):
    if train:
        u = rng.random(x.shape)
        return np.where(u >= p, x / (1 - p), 0.0)
    return x
"""),
]
