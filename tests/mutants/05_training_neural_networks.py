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

L2 = """
def l2_penalty(weights, lam):
    value = lam * sum(float(np.sum(W ** 2)) for W in weights)
    return value, [2 * lam * W for W in weights]
"""

DROPOUT = """
def dropout(x, p, *, train=True, rng=None):
    if not train or p == 0:
        return x.copy()
    keep = rng.random(x.shape) >= p
    return x * keep / (1 - p)
"""

SGD = """
class SGD:
    def __init__(self, params, lr, momentum=0.0, nesterov=False):
        self.params = list(params)
        self.lr, self.momentum, self.nesterov = lr, momentum, nesterov
        self.velocities = [np.zeros_like(p.value) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0.0

    def step(self):
        for p, velocity in zip(self.params, self.velocities):
            velocity *= self.momentum
            velocity += p.grad
            direction = p.grad + self.momentum * velocity if self.nesterov else velocity
            p.value -= self.lr * direction
"""

ADAM = """
class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = list(params)
        self.lr, (self.beta1, self.beta2), self.eps = lr, betas, eps
        self.t = 0
        self.first_moments = [np.zeros_like(p.value) for p in self.params]
        self.second_moments = [np.zeros_like(p.value) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0.0

    def step(self):
        self.t += 1
        for p, m, s in zip(self.params, self.first_moments, self.second_moments):
            m *= self.beta1
            m += (1 - self.beta1) * p.grad
            s *= self.beta2
            s += (1 - self.beta2) * p.grad ** 2
            m_hat = m / (1 - self.beta1 ** self.t)
            s_hat = s / (1 - self.beta2 ** self.t)
            p.value -= self.lr * m_hat / (np.sqrt(s_hat) + self.eps)
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
    # --- SGD ---------------------------------------------------------------------------------------
    Mutant(cell="SGD", description="steps with the previous velocity, updates it afterwards",
           source=_variant(SGD, """            velocity *= self.momentum
            velocity += p.grad
            direction = p.grad + self.momentum * velocity if self.nesterov else velocity
            p.value -= self.lr * direction""", """            direction = p.grad + self.momentum * velocity
            p.value -= self.lr * direction
            velocity *= self.momentum
            velocity += p.grad""")),
    Mutant(cell="SGD", description="Nesterov ignored: plain momentum always",
           source=_variant(SGD, "p.grad + self.momentum * velocity if self.nesterov else velocity", "velocity")),
    Mutant(cell="SGD", description="dampened velocity: v = μ v + (1 − μ) g",
           source=_variant(SGD, "velocity += p.grad", "velocity += (1 - self.momentum) * p.grad")),
    Mutant(cell="SGD", description="zero_grad does nothing: gradients pile up over the steps",
           source=_variant(SGD, "            p.grad[...] = 0.0", "            pass")),
    Mutant(cell="SGD", description="one velocity shared by all parameters (only works for one parameter)",
           source=_variant(_variant(SGD, "self.velocities = [np.zeros_like(p.value) for p in self.params]",
                                    "self.velocity = 0.0"),
                           """        for p, velocity in zip(self.params, self.velocities):
            velocity *= self.momentum
            velocity += p.grad
            direction""", """        for p in self.params:
            self.velocity = self.momentum * self.velocity + p.grad
            velocity = self.velocity
            direction""")),
    Mutant(cell="SGD", description="Nesterov look-ahead with the old velocity: g + μ v_{t-1}",
           source=_variant(SGD, """            velocity *= self.momentum
            velocity += p.grad
            direction = p.grad + self.momentum * velocity if self.nesterov else velocity""",
                           """            direction = p.grad + self.momentum * velocity if self.nesterov else None
            velocity *= self.momentum
            velocity += p.grad
            direction = velocity if direction is None else direction""")),
    # --- Adam ----------------------------------------------------------------------------------------
    Mutant(cell="Adam", description="bias correction counted from t = 0 (t + 1 one step late)",
           source=_variant(_variant(ADAM, "1 - self.beta1 ** self.t", "1 - self.beta1 ** (self.t + 1)"),
                           "1 - self.beta2 ** self.t", "1 - self.beta2 ** (self.t + 1)")),
    Mutant(cell="Adam", description="no bias correction",
           source=_variant(_variant(ADAM, "m / (1 - self.beta1 ** self.t)", "m"), "s / (1 - self.beta2 ** self.t)", "s")),
    Mutant(cell="Adam", description="stores the bias-corrected moments (m ← m̂)",
           source=_variant(ADAM, "            m_hat = m / (1 - self.beta1 ** self.t)\n",
                           "            m /= 1 - self.beta1 ** self.t\n            m_hat = m\n")),
    Mutant(cell="Adam", description="eps inside the square root",
           source=_variant(ADAM, "(np.sqrt(s_hat) + self.eps)", "np.sqrt(s_hat + self.eps)")),
    Mutant(cell="Adam", description="the slide's stray trailing g: step multiplied by the gradient",
           source=_variant(ADAM, "m_hat / (np.sqrt(s_hat) + self.eps)", "m_hat / (np.sqrt(s_hat) + self.eps) * p.grad")),
    Mutant(cell="Adam", description="one step counter per parameter: t advances once per parameter per step",
           source=_variant(_variant(ADAM, "        self.t += 1\n", ""), "            m *= self.beta1\n",
                           "            self.t += 1\n            m *= self.beta1\n")),
    Mutant(cell="Adam", description="zero_grad forgotten",
           source=_variant(ADAM, "            p.grad[...] = 0.0", "            pass")),
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
           source=_variant(DROPOUT, "if not train or p == 0:", "if p == 0:")),
    Mutant(cell="dropout", description="draws a mask even at p = 0 (the generator moves on)",
           source=_variant(DROPOUT, "if not train or p == 0:", "if not train:")),
    Mutant(cell="dropout", description="evaluation mode draws a mask it then ignores",
           source=_variant(DROPOUT, "    if not train or p == 0:\n        return x.copy()\n    keep = rng.random(x.shape) >= p\n",
                           "    keep = rng.random(x.shape) >= p if rng is not None else None\n    if not train or p == 0:\n        return x.copy()\n")),
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
    Alternative(cell="l2_penalty", description="np.vdot for the sum of squares, tuple of gradients",
                source="""
def l2_penalty(weights, lam):
    value = 0.0
    for W in weights:
        value += lam * np.vdot(W, W)
    return value, tuple(2 * lam * W for W in weights)
"""),
    Alternative(cell="dropout", description="np.where on the uniform draw; nothing drawn at p = 0 or in evaluation",
                source="""
def dropout(x, p, *, train=True, rng=None):
    if train and p > 0:
        u = rng.random(x.shape)
        return np.where(u >= p, x / (1 - p), 0.0)
    return np.array(x, copy=True)
"""),
    Alternative(cell="SGD", description="torch's bookkeeping in a dict of buffers made at the first step",
                source="""
class SGD:
    def __init__(self, params, lr, momentum=0.0, nesterov=False):
        self.params = params
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.state = {}

    def zero_grad(self):
        for p in self.params:
            p.grad = np.zeros_like(p.value)

    def step(self):
        for i, p in enumerate(self.params):
            g = p.grad
            if self.momentum:
                if i in self.state:
                    self.state[i] = self.momentum * self.state[i] + g
                else:
                    self.state[i] = g.copy()
                g = g + self.momentum * self.state[i] if self.nesterov else self.state[i]
            p.value[...] = p.value - self.lr * g
"""),
    Alternative(cell="Adam", description="Kingma and Ba's efficient form with a corrected step size and eps",
                source="""
class Adam:
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8):
        self.params = list(params)
        self.lr, self.betas, self.eps = lr, betas, eps
        self.steps = 0
        self.moments = [(np.zeros_like(p.value), np.zeros_like(p.value)) for p in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad.fill(0.0)

    def step(self):
        self.steps += 1
        beta1, beta2 = self.betas
        step_size = self.lr * np.sqrt(1 - beta2 ** self.steps) / (1 - beta1 ** self.steps)
        eps_hat = self.eps * np.sqrt(1 - beta2 ** self.steps)
        for p, (m, s) in zip(self.params, self.moments):
            m[...] = beta1 * m + (1 - beta1) * p.grad
            s[...] = beta2 * s + (1 - beta2) * np.square(p.grad)
            p.value -= step_size * m / (np.sqrt(s) + eps_hat)
"""),
]
