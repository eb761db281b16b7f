"""Self-test catalogue for assignment 02_delta_rule_and_logistic_regression.

Each ``Mutant`` replaces one solution cell (``cell`` = its grade_id) with a realistic wrong answer that must
lose points in its own test cell and nowhere else; each ``Alternative`` is another correct answer that must
keep full marks. ``make check`` runs them through the real autograder.
"""

from nngrade.selftest import Alternative, Mutant

# ---------------------------------------------------------------------------------------------------
# add_bias_column
# ---------------------------------------------------------------------------------------------------

_ADD_BIAS = [
    Mutant(
        cell="add_bias_column",
        description="puts the column of ones first (bias as the first weight, not the last as in deck 002)",
        source="""
def add_bias_column(X):
    return np.hstack([np.ones((X.shape[0], 1)), X])
""",
    ),
    Mutant(
        cell="add_bias_column",
        description="appends a row of ones instead of a column (wrong axis)",
        source="""
def add_bias_column(X):
    return np.vstack([X, np.ones((1, X.shape[1]))])
""",
    ),
    Mutant(
        cell="add_bias_column",
        description="sizes the ones by the number of features instead of the number of samples",
        source="""
def add_bias_column(X):
    return np.column_stack([X, np.ones(X.shape[1])])
""",
    ),
    Mutant(
        cell="add_bias_column",
        description="appends a column of zeros (confuses the constant input with the initial bias)",
        source="""
def add_bias_column(X):
    return np.hstack([X, np.zeros((X.shape[0], 1))])
""",
    ),
]

_ADD_BIAS_ALTERNATIVES = [
    Alternative(
        cell="add_bias_column",
        description="np.c_ with a 1-D vector of ones",
        source="""
def add_bias_column(X):
    return np.c_[X, np.ones(len(X))]
""",
    ),
    Alternative(
        cell="add_bias_column",
        description="preallocated array of ones filled with X",
        source="""
def add_bias_column(X):
    n, d = X.shape
    X_tilde = np.ones((n, d + 1))
    X_tilde[:, :d] = X
    return X_tilde
""",
    ),
]

# ---------------------------------------------------------------------------------------------------
# normal_equation
# ---------------------------------------------------------------------------------------------------

_NORMAL_EQUATION = [
    Mutant(
        cell="normal_equation",
        description="forgets the bias: solves on X without the column of ones and returns b = 0",
        source="""
def normal_equation(X, y):
    w = np.linalg.solve(X.T @ X, X.T @ y)
    return w, 0.0
""",
    ),
    Mutant(
        cell="normal_equation",
        description="reads the bias from the first entry of w_tilde (off by one: the ones column is last)",
        source="""
def normal_equation(X, y):
    X_tilde = add_bias_column(X)
    w_tilde = np.linalg.solve(X_tilde.T @ X_tilde, X_tilde.T @ y)
    return w_tilde[1:], float(w_tilde[0])
""",
    ),
    Mutant(
        cell="normal_equation",
        description="takes b = mean(y) and fits w on uncentred X (only right when the features have mean 0)",
        source="""
def normal_equation(X, y):
    b = float(np.mean(y))
    w = np.linalg.solve(X.T @ X, X.T @ (y - b))
    return w, b
""",
    ),
    Mutant(
        cell="normal_equation",
        description="returns the whole w_tilde (bias included) as the weights",
        source="""
def normal_equation(X, y):
    X_tilde = add_bias_column(X)
    w_tilde = np.linalg.solve(X_tilde.T @ X_tilde, X_tilde.T @ y)
    return w_tilde, float(w_tilde[-1])
""",
    ),
]

_NORMAL_EQUATION_ALTERNATIVES = [
    Alternative(
        cell="normal_equation",
        description="np.linalg.lstsq on the augmented matrix",
        source="""
def normal_equation(X, y):
    w_tilde = np.linalg.lstsq(add_bias_column(X), y, rcond=None)[0]
    return w_tilde[:-1], float(w_tilde[-1])
""",
    ),
    Alternative(
        cell="normal_equation",
        description="the deck's formula with an explicit inverse",
        source="""
def normal_equation(X, y):
    X_tilde = add_bias_column(X)
    w_tilde = np.linalg.inv(X_tilde.T @ X_tilde) @ X_tilde.T @ y
    return w_tilde[:-1], w_tilde[-1]
""",
    ),
    Alternative(
        cell="normal_equation",
        description="centre the data, solve for w, then b = mean(y) - mean(x)·w (no bias column)",
        source="""
def normal_equation(X, y):
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc = X - x_mean
    w = np.linalg.solve(Xc.T @ Xc, Xc.T @ (y - y_mean))
    return w, float(y_mean - x_mean @ w)
""",
    ),
]

# ---------------------------------------------------------------------------------------------------
# delta_rule_epoch
# ---------------------------------------------------------------------------------------------------

_DELTA_RULE = [
    Mutant(
        cell="delta_rule_epoch",
        description="batch update: every error is computed with the weights from the start of the epoch",
        source="""
def delta_rule_epoch(w, b, X, y, eta):
    errors = y - (X @ w + b)
    return w + eta * X.T @ errors, b + eta * float(errors.sum())
""",
    ),
    Mutant(
        cell="delta_rule_epoch",
        description="sign error: error = prediction - target",
        source="""
def delta_rule_epoch(w, b, X, y, eta):
    w = np.array(w, dtype=float)
    for x_n, y_n in zip(X, y):
        error = (x_n @ w + b) - y_n
        w = w + eta * error * x_n
        b = b + eta * error
    return w, b
""",
    ),
    Mutant(
        cell="delta_rule_epoch",
        description="never updates the bias",
        source="""
def delta_rule_epoch(w, b, X, y, eta):
    w = np.array(w, dtype=float)
    for x_n, y_n in zip(X, y):
        error = y_n - (x_n @ w + b)
        w = w + eta * error * x_n
    return w, b
""",
    ),
    Mutant(
        cell="delta_rule_epoch",
        description="uses the perceptron's thresholded output sign(w·x + b) instead of the linear output",
        source="""
def delta_rule_epoch(w, b, X, y, eta):
    w = np.array(w, dtype=float)
    for x_n, y_n in zip(X, y):
        error = y_n - (1.0 if x_n @ w + b >= 0 else -1.0)
        w = w + eta * error * x_n
        b = b + eta * error
    return w, b
""",
    ),
    Mutant(
        cell="delta_rule_epoch",
        description="updates the caller's w in place (w += ...)",
        source="""
def delta_rule_epoch(w, b, X, y, eta):
    for x_n, y_n in zip(X, y):
        error = y_n - (x_n @ w + b)
        w += eta * error * x_n
        b += eta * error
    return w, b
""",
    ),
]

_DELTA_RULE_ALTERNATIVES = [
    Alternative(
        cell="delta_rule_epoch",
        description="bias trick: one augmented weight vector and augmented samples",
        source="""
def delta_rule_epoch(w, b, X, y, eta):
    w_tilde = np.append(w, b)
    for x_n, y_n in zip(np.hstack([X, np.ones((len(X), 1))]), y):
        w_tilde = w_tilde + eta * (y_n - np.dot(w_tilde, x_n)) * x_n
    return w_tilde[:-1], float(w_tilde[-1])
""",
    ),
    Alternative(
        cell="delta_rule_epoch",
        description="index loop with explicit sums",
        source="""
def delta_rule_epoch(w, b, X, y, eta):
    w = list(w)
    for n in range(X.shape[0]):
        y_hat = sum(w[j] * X[n, j] for j in range(X.shape[1])) + b
        for j in range(X.shape[1]):
            w[j] = w[j] + eta * (y[n] - y_hat) * X[n, j]
        b = b + eta * (y[n] - y_hat)
    return np.array(w), b
""",
    ),
]

# ---------------------------------------------------------------------------------------------------
# sigmoid
# ---------------------------------------------------------------------------------------------------

_SIGMOID = [
    Mutant(
        cell="sigmoid",
        description="deck 004's slip: 1 / (1 + exp(+z)), the minus sign missing",
        source="""
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, e / (1.0 + e), 1.0 / (1.0 + e))
""",
    ),
    Mutant(
        cell="sigmoid",
        description="the textbook formula: overflows (RuntimeWarning) for z < -709",
        source="""
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))
""",
    ),
    Mutant(
        cell="sigmoid",
        description="returns the derivative σ(z)(1 - σ(z)) instead of σ(z)",
        source="""
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    s = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    return s * (1.0 - s)
""",
    ),
    Mutant(
        cell="sigmoid",
        description="uses tanh, which has range (-1, 1)",
        source="""
def sigmoid(z):
    return np.tanh(z)
""",
    ),
]

_SIGMOID_ALTERNATIVES = [
    Alternative(
        cell="sigmoid",
        description="scipy.special.expit",
        source="""
from scipy.special import expit

def sigmoid(z):
    return expit(z)
""",
    ),
    Alternative(
        cell="sigmoid",
        description="exp(-log(1 + e^-z)) with np.logaddexp",
        source="""
def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -np.asarray(z, dtype=float)))
""",
    ),
    Alternative(
        cell="sigmoid",
        description="boolean masks for the two branches",
        source="""
def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    positive = z >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-z[positive]))
    exp_z = np.exp(z[~positive])
    out[~positive] = exp_z / (1.0 + exp_z)
    return out
""",
    ),
]

# ---------------------------------------------------------------------------------------------------
# logistic_log_likelihood
# ---------------------------------------------------------------------------------------------------

_LOGISTIC = [
    Mutant(
        cell="logistic_log_likelihood",
        description="gradient of the loss (p - y) returned for the log-likelihood: ascent goes downhill",
        source="""
def logistic_log_likelihood(w, b, X, y):
    p = sigmoid(X @ w + b)
    ll = np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return float(ll), X.T @ (p - y) / len(y), float(np.mean(p - y))
""",
    ),
    Mutant(
        cell="logistic_log_likelihood",
        description="gradient summed over samples (missing 1/N) while the value is a mean",
        source="""
def logistic_log_likelihood(w, b, X, y):
    p = sigmoid(X @ w + b)
    ll = np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return float(ll), X.T @ (y - p), float(np.sum(y - p))
""",
    ),
    Mutant(
        cell="logistic_log_likelihood",
        description="keeps the squared-error factor σ'(z) = p(1 - p) in the gradient",
        source="""
def logistic_log_likelihood(w, b, X, y):
    p = sigmoid(X @ w + b)
    ll = np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    error = (y - p) * p * (1 - p)
    return float(ll), X.T @ error / len(y), float(np.mean(error))
""",
    ),
    Mutant(
        cell="logistic_log_likelihood",
        description="the log-likelihood summed (deck 001's form) while the gradient is a mean",
        source="""
def logistic_log_likelihood(w, b, X, y):
    p = sigmoid(X @ w + b)
    ll = np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))
    return float(ll), X.T @ (y - p) / len(y), float(np.mean(y - p))
""",
    ),
    Mutant(
        cell="logistic_log_likelihood",
        description="forgets the bias in the probabilities",
        source="""
def logistic_log_likelihood(w, b, X, y):
    p = sigmoid(X @ w)
    ll = np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    return float(ll), X.T @ (y - p) / len(y), float(np.mean(y - p))
""",
    ),
]

_LOGISTIC_ALTERNATIVES = [
    Alternative(
        cell="logistic_log_likelihood",
        description="stable form on the logits: log P = y z - log(1 + e^z)",
        source="""
def logistic_log_likelihood(w, b, X, y):
    z = X @ w + b
    ll = np.mean(y * z - np.logaddexp(0.0, z))
    error = y - sigmoid(z)
    return ll, (error @ X) / X.shape[0], error.mean()
""",
    ),
    Alternative(
        cell="logistic_log_likelihood",
        description="a loop over the samples",
        source="""
def logistic_log_likelihood(w, b, X, y):
    n = len(y)
    ll, dw, db = 0.0, np.zeros_like(w, dtype=float), 0.0
    for x_i, y_i in zip(X, y):
        p_i = float(sigmoid(np.dot(w, x_i) + b))
        ll += np.log(p_i) if y_i == 1 else np.log(1 - p_i)
        dw += (y_i - p_i) * x_i
        db += y_i - p_i
    return ll / n, dw / n, db / n
""",
    ),
]

# ---------------------------------------------------------------------------------------------------
# gradient_ascent
# ---------------------------------------------------------------------------------------------------

_ASCENT_HEAD = """
def gradient_ascent(ll_and_grad, params, X, y, *, lr, epochs, batch_size=None, rng):
    n = len(y)
    batch_size = n if batch_size is None else batch_size
    params = list(params)
    history = [ll_and_grad(*params, X, y)[0]]
"""

_GRADIENT_ASCENT = [
    Mutant(
        cell="gradient_ascent",
        description="the toolkit's minibatches with shuffle=False: every epoch visits the samples in order",
        source=_ASCENT_HEAD + """
    for _ in range(epochs):
        for X_batch, y_batch in minibatches(X, y, batch_size, rng=rng, shuffle=False):
            _, *grads = ll_and_grad(*params, X_batch, y_batch)
            params = [p + lr * g for p, g in zip(params, grads)]
        history.append(ll_and_grad(*params, X, y)[0])
    return params, np.array(history)
""",
    ),
    Mutant(
        cell="gradient_ascent",
        description="never shuffles: batches in the original order",
        source=_ASCENT_HEAD + """
    for _ in range(epochs):
        for start in range(0, n, batch_size):
            batch = np.arange(start, min(start + batch_size, n))
            _, *grads = ll_and_grad(*params, X[batch], y[batch])
            params = [p + lr * g for p, g in zip(params, grads)]
        history.append(ll_and_grad(*params, X, y)[0])
    return params, np.array(history)
""",
    ),
    Mutant(
        cell="gradient_ascent",
        description="descends instead of ascending (p - lr * g)",
        source=_ASCENT_HEAD + """
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            _, *grads = ll_and_grad(*params, X[batch], y[batch])
            params = [p - lr * g for p, g in zip(params, grads)]
        history.append(ll_and_grad(*params, X, y)[0])
    return params, np.array(history)
""",
    ),
    Mutant(
        cell="gradient_ascent",
        description="drops the last, smaller batch (off by one in the batch loop)",
        source=_ASCENT_HEAD + """
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n - batch_size + 1, batch_size):
            batch = order[start:start + batch_size]
            _, *grads = ll_and_grad(*params, X[batch], y[batch])
            params = [p + lr * g for p, g in zip(params, grads)]
        history.append(ll_and_grad(*params, X, y)[0])
    return params, np.array(history)
""",
    ),
    Mutant(
        cell="gradient_ascent",
        description="draws one permutation for all epochs instead of one per epoch",
        source=_ASCENT_HEAD + """
    order = rng.permutation(n)
    for _ in range(epochs):
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            _, *grads = ll_and_grad(*params, X[batch], y[batch])
            params = [p + lr * g for p, g in zip(params, grads)]
        history.append(ll_and_grad(*params, X, y)[0])
    return params, np.array(history)
""",
    ),
    Mutant(
        cell="gradient_ascent",
        description="history misses the value before training (length epochs, not epochs + 1)",
        source="""
def gradient_ascent(ll_and_grad, params, X, y, *, lr, epochs, batch_size=None, rng):
    n = len(y)
    batch_size = n if batch_size is None else batch_size
    params = list(params)
    history = []
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            _, *grads = ll_and_grad(*params, X[batch], y[batch])
            params = [p + lr * g for p, g in zip(params, grads)]
        history.append(ll_and_grad(*params, X, y)[0])
    return params, np.array(history)
""",
    ),
    Mutant(
        cell="gradient_ascent",
        description="updates the caller's parameter arrays in place (p += lr * g)",
        source=_ASCENT_HEAD + """
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            _, *grads = ll_and_grad(*params, X[batch], y[batch])
            for i, g in enumerate(grads):
                if isinstance(params[i], np.ndarray):
                    params[i] += lr * g
                else:
                    params[i] = params[i] + lr * g
        history.append(ll_and_grad(*params, X, y)[0])
    return params, np.array(history)
""",
    ),
]

_GRADIENT_ASCENT_ALTERNATIVES = [
    Alternative(
        cell="gradient_ascent",
        description="the batching written out: one rng.permutation(N) per epoch, consecutive slices",
        source=_ASCENT_HEAD + """
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            batch = order[start:start + batch_size]
            _, *grads = ll_and_grad(*params, X[batch], y[batch])
            params = [p + lr * g for p, g in zip(params, grads)]
        history.append(ll_and_grad(*params, X, y)[0])
    return params, np.array(history)
""",
    ),
    Alternative(
        cell="gradient_ascent",
        description="while loop over batch starts, ceil(N / batch_size) batches, tuple unpacking",
        source="""
import math

def gradient_ascent(ll_and_grad, params, X, y, *, lr, epochs, batch_size=None, rng):
    n = X.shape[0]
    size = batch_size or n
    current = [np.copy(p) for p in params]
    history = np.empty(epochs + 1)
    history[0] = ll_and_grad(*current, X, y)[0]
    for epoch in range(1, epochs + 1):
        order = rng.permutation(n)
        k = 0
        while k < math.ceil(n / size):
            rows = order[k * size:(k + 1) * size]
            result = ll_and_grad(*current, X[rows], y[rows])
            current = [p + lr * g for p, g in zip(current, result[1:])]
            k += 1
        history[epoch] = ll_and_grad(*current, X, y)[0]
    return current, history
""",
    ),
]

# ---------------------------------------------------------------------------------------------------
# softmax
# ---------------------------------------------------------------------------------------------------

_SOFTMAX = [
    Mutant(
        cell="softmax",
        description="no max shift: overflows to inf / inf = nan for large scores",
        source="""
def softmax(Z):
    e = np.exp(Z)
    return e / e.sum(axis=1, keepdims=True)
""",
    ),
    Mutant(
        cell="softmax",
        description="normalises the columns (axis=0) instead of the rows",
        source="""
def softmax(Z):
    e = np.exp(Z - Z.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
""",
    ),
    Mutant(
        cell="softmax",
        description="row sums without keepdims: broadcasts along the wrong axis",
        source="""
def softmax(Z):
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)
""",
    ),
    Mutant(
        cell="softmax",
        description="shifts by the global maximum: rows far below it underflow to 0 / 0",
        source="""
def softmax(Z):
    e = np.exp(Z - Z.max())
    return e / e.sum(axis=1, keepdims=True)
""",
    ),
]

_SOFTMAX_ALTERNATIVES = [
    Alternative(
        cell="softmax",
        description="scipy.special.softmax",
        source="""
import scipy.special

def softmax(Z):
    return scipy.special.softmax(Z, axis=1)
""",
    ),
    Alternative(
        cell="softmax",
        description="exp(Z - logsumexp(Z)) row by row in a loop",
        source="""
from scipy.special import logsumexp

def softmax(Z):
    return np.array([np.exp(row - logsumexp(row)) for row in Z])
""",
    ),
]

# ---------------------------------------------------------------------------------------------------
# softmax_log_likelihood
# ---------------------------------------------------------------------------------------------------

_SOFTMAX_LL = [
    Mutant(
        cell="softmax_log_likelihood",
        description="gradient sign flipped (P - Y, the gradient of the cross-entropy loss)",
        source="""
def softmax_log_likelihood(W, b, X, y):
    n = X.shape[0]
    P = softmax(X @ W + b)
    Y = np.eye(W.shape[1])[y]
    return float(np.mean(np.log(P[np.arange(n), y]))), X.T @ (P - Y) / n, (P - Y).mean(axis=0)
""",
    ),
    Mutant(
        cell="softmax_log_likelihood",
        description="gradients summed over the samples (missing 1/N)",
        source="""
def softmax_log_likelihood(W, b, X, y):
    n = X.shape[0]
    P = softmax(X @ W + b)
    Y = np.eye(W.shape[1])[y]
    return float(np.mean(np.log(P[np.arange(n), y]))), X.T @ (Y - P), (Y - P).sum(axis=0)
""",
    ),
    Mutant(
        cell="softmax_log_likelihood",
        description="number of classes taken from the labels (y.max() + 1): breaks when a class is missing",
        source="""
def softmax_log_likelihood(W, b, X, y):
    n = X.shape[0]
    P = softmax(X @ W + b)
    Y = np.eye(y.max() + 1)[y]
    return float(np.mean(np.log(P[np.arange(n), y]))), X.T @ (Y - P) / n, (Y - P).mean(axis=0)
""",
    ),
    Mutant(
        cell="softmax_log_likelihood",
        description="picks P[:, y] (an N x N block) instead of P[i, y_i] for the log-likelihood",
        source="""
def softmax_log_likelihood(W, b, X, y):
    n = X.shape[0]
    P = softmax(X @ W + b)
    Y = np.eye(W.shape[1])[y]
    return float(np.mean(np.log(P[:, y]))), X.T @ (Y - P) / n, (Y - P).mean(axis=0)
""",
    ),
    Mutant(
        cell="softmax_log_likelihood",
        description="dW in deck 004's K x D layout (transposed weights)",
        source="""
def softmax_log_likelihood(W, b, X, y):
    n = X.shape[0]
    P = softmax(X @ W + b)
    Y = np.eye(W.shape[1])[y]
    return float(np.mean(np.log(P[np.arange(n), y]))), (Y - P).T @ X / n, (Y - P).mean(axis=0)
""",
    ),
    Mutant(
        cell="softmax_log_likelihood",
        description="forgets the bias in the scores",
        source="""
def softmax_log_likelihood(W, b, X, y):
    n = X.shape[0]
    P = softmax(X @ W)
    Y = np.eye(W.shape[1])[y]
    return float(np.mean(np.log(P[np.arange(n), y]))), X.T @ (Y - P) / n, (Y - P).mean(axis=0)
""",
    ),
]

_SOFTMAX_LL_ALTERNATIVES = [
    Alternative(
        cell="softmax_log_likelihood",
        description="a loop over the samples with outer products",
        source="""
def softmax_log_likelihood(W, b, X, y):
    n = X.shape[0]
    ll, dW, db = 0.0, np.zeros(W.shape), np.zeros(W.shape[1])
    for x_i, y_i in zip(X, y):
        p = softmax((x_i @ W + b)[None, :])[0]
        ll += np.log(p[y_i])
        target = np.zeros(W.shape[1])
        target[y_i] = 1.0
        dW += np.outer(x_i, target - p)
        db += target - p
    return ll / n, dW / n, db / n
""",
    ),
    Alternative(
        cell="softmax_log_likelihood",
        description="log-softmax via logsumexp for the value, one-hot by fancy assignment",
        source="""
from scipy.special import logsumexp

def softmax_log_likelihood(W, b, X, y):
    n = X.shape[0]
    scores = X @ W + b
    log_P = scores - logsumexp(scores, axis=1, keepdims=True)
    error = -np.exp(log_P)
    error[np.arange(n), y] += 1.0
    return log_P[np.arange(n), y].mean(), X.T @ error / n, error.sum(axis=0) / n
""",
    ),
]

MUTANTS = _ADD_BIAS + _NORMAL_EQUATION + _DELTA_RULE + _SIGMOID + _LOGISTIC + _GRADIENT_ASCENT + _SOFTMAX + _SOFTMAX_LL

ALTERNATIVES = (
    _ADD_BIAS_ALTERNATIVES
    + _NORMAL_EQUATION_ALTERNATIVES
    + _DELTA_RULE_ALTERNATIVES
    + _SIGMOID_ALTERNATIVES
    + _LOGISTIC_ALTERNATIVES
    + _GRADIENT_ASCENT_ALTERNATIVES
    + _SOFTMAX_ALTERNATIVES
    + _SOFTMAX_LL_ALTERNATIVES
)
