"""Realistic wrong answers and alternative right answers for hw1_softmax_cross_entropy.

Each source replaces a whole solution cell of the notebook (identified by its grade_id). A mutant must lose
points in its own test cell only: the tests run every function with known-good versions of the other
graded functions, so a mistake in ``softmax`` never costs points in ``test_cross_entropy_loss``.
"""

from nngrade.selftest import Alternative, Mutant

MUTANTS = [
    # --- softmax ------------------------------------------------------------------------------------
    Mutant(cell="softmax", description="no max subtraction: exp overflows for scores of 1000", source='''
def softmax(Z):
    exp_scores = np.exp(Z)
    return exp_scores / exp_scores.sum(axis=1, keepdims=True)
'''),
    Mutant(cell="softmax", description="normalises each column (axis=0) instead of each row", source='''
def softmax(Z):
    exp_scores = np.exp(Z - Z.max(axis=0, keepdims=True))
    return exp_scores / exp_scores.sum(axis=0, keepdims=True)
'''),
    Mutant(cell="softmax", description="subtracts the maximum of the whole batch, not of each row", source='''
def softmax(Z):
    exp_scores = np.exp(Z - Z.max())
    return exp_scores / exp_scores.sum(axis=1, keepdims=True)
'''),
    Mutant(cell="softmax", description="shifts the caller's array in place", source='''
def softmax(Z):
    Z -= Z.max(axis=1, keepdims=True)
    exp_scores = np.exp(Z)
    return exp_scores / exp_scores.sum(axis=1, keepdims=True)
'''),
    # --- log_softmax --------------------------------------------------------------------------------
    Mutant(cell="log_softmax", description="log of the softmax: -inf when a probability underflows", source='''
def log_softmax(Z):
    return np.log(softmax(Z))
'''),
    Mutant(cell="log_softmax", description="log-sum-exp without the max shift: overflows at 1000", source='''
def log_softmax(Z):
    return Z - np.log(np.exp(Z).sum(axis=1, keepdims=True))
'''),
    Mutant(cell="log_softmax", description="log-sum-exp over the wrong axis", source='''
def log_softmax(Z):
    shifted = Z - Z.max(axis=0, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=0, keepdims=True))
'''),
    Mutant(cell="log_softmax", description="adds the log-sum-exp instead of subtracting it", source='''
def log_softmax(Z):
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted + np.log(np.exp(shifted).sum(axis=1, keepdims=True))
'''),
    # --- cross_entropy_loss -------------------------------------------------------------------------
    Mutant(cell="cross_entropy_loss", description="sum over the batch: missing 1/N in loss and gradient", source='''
def cross_entropy_loss(logits, y):
    rows = np.arange(logits.shape[0])
    dlogits = softmax(logits)
    dlogits[rows, y] -= 1.0
    return float(-np.sum(log_softmax(logits)[rows, y])), dlogits
'''),
    Mutant(cell="cross_entropy_loss", description="mean loss but the gradient is not divided by N", source='''
def cross_entropy_loss(logits, y):
    rows = np.arange(logits.shape[0])
    dlogits = softmax(logits)
    dlogits[rows, y] -= 1.0
    return float(-np.mean(log_softmax(logits)[rows, y])), dlogits
'''),
    Mutant(cell="cross_entropy_loss", description="gradient with the wrong sign (y - y_hat)", source='''
def cross_entropy_loss(logits, y):
    n_samples = logits.shape[0]
    rows = np.arange(n_samples)
    one_hot = np.zeros_like(logits)
    one_hot[rows, y] = 1.0
    return float(-np.mean(log_softmax(logits)[rows, y])), (one_hot - softmax(logits)) / n_samples
'''),
    Mutant(cell="cross_entropy_loss", description="loss from np.log(softmax): infinite for logits of 1000", source='''
def cross_entropy_loss(logits, y):
    n_samples = logits.shape[0]
    rows = np.arange(n_samples)
    probs = softmax(logits)
    loss = -np.mean(np.log(probs[rows, y]))
    dlogits = probs.copy()
    dlogits[rows, y] -= 1.0
    return float(loss), dlogits / n_samples
'''),
    Mutant(cell="cross_entropy_loss", description="indexes log-probabilities with [:, y] (an N x N block)", source='''
def cross_entropy_loss(logits, y):
    n_samples = logits.shape[0]
    dlogits = softmax(logits)
    dlogits[np.arange(n_samples), y] -= 1.0
    return float(-np.mean(log_softmax(logits)[:, y])), dlogits / n_samples
'''),
    # --- softmax_classifier_loss --------------------------------------------------------------------
    Mutant(cell="softmax_classifier_loss", description="regularisation gradient lacks the factor 2", source='''
def softmax_classifier_loss(W, b, X, y, reg=0.0):
    data_loss, dscores = cross_entropy_loss(X @ W + b, y)
    return float(data_loss + reg * np.sum(W * W)), X.T @ dscores + reg * W, dscores.sum(axis=0)
'''),
    Mutant(cell="softmax_classifier_loss", description="penalty (reg/2)||W||^2 instead of the deck's reg ||W||^2", source='''
def softmax_classifier_loss(W, b, X, y, reg=0.0):
    data_loss, dscores = cross_entropy_loss(X @ W + b, y)
    return float(data_loss + 0.5 * reg * np.sum(W * W)), X.T @ dscores + reg * W, dscores.sum(axis=0)
'''),
    Mutant(cell="softmax_classifier_loss", description="regularises the bias too", source='''
def softmax_classifier_loss(W, b, X, y, reg=0.0):
    data_loss, dscores = cross_entropy_loss(X @ W + b, y)
    loss = data_loss + reg * (np.sum(W * W) + np.sum(b * b))
    return float(loss), X.T @ dscores + 2.0 * reg * W, dscores.sum(axis=0) + 2.0 * reg * b
'''),
    Mutant(cell="softmax_classifier_loss", description="divides dW and db by N again (the CE gradient is already a mean)", source='''
def softmax_classifier_loss(W, b, X, y, reg=0.0):
    n_samples = X.shape[0]
    data_loss, dscores = cross_entropy_loss(X @ W + b, y)
    dW = X.T @ dscores / n_samples + 2.0 * reg * W
    return float(data_loss + reg * np.sum(W * W)), dW, dscores.mean(axis=0)
'''),
    Mutant(cell="softmax_classifier_loss", description="forgets the penalty in the loss value", source='''
def softmax_classifier_loss(W, b, X, y, reg=0.0):
    data_loss, dscores = cross_entropy_loss(X @ W + b, y)
    return float(data_loss), X.T @ dscores + 2.0 * reg * W, dscores.sum(axis=0)
'''),
    # --- svm_loss -----------------------------------------------------------------------------------
    Mutant(cell="svm_loss", description="counts the correct class in the sum (adds the margin per sample)", source='''
def svm_loss(W, b, X, y, reg=0.0, margin=1.0):
    n_samples = X.shape[0]
    rows = np.arange(n_samples)
    scores = X @ W + b
    margins = np.maximum(0.0, scores - scores[rows, y][:, np.newaxis] + margin)
    loss = margins.sum() / n_samples + reg * np.sum(W * W)
    dscores = (margins > 0).astype(float)
    dscores[rows, y] = -dscores.sum(axis=1)
    dscores /= n_samples
    return float(loss), X.T @ dscores + 2.0 * reg * W, dscores.sum(axis=0)
'''),
    Mutant(cell="svm_loss", description="no gradient for the true class (eq. 8 left out)", source='''
def svm_loss(W, b, X, y, reg=0.0, margin=1.0):
    n_samples = X.shape[0]
    rows = np.arange(n_samples)
    scores = X @ W + b
    margins = np.maximum(0.0, scores - scores[rows, y][:, np.newaxis] + margin)
    margins[rows, y] = 0.0
    loss = margins.sum() / n_samples + reg * np.sum(W * W)
    dscores = (margins > 0).astype(float) / n_samples
    return float(loss), X.T @ dscores + 2.0 * reg * W, dscores.sum(axis=0)
'''),
    Mutant(cell="svm_loss", description="margin hard-coded to 1", source='''
def svm_loss(W, b, X, y, reg=0.0, margin=1.0):
    n_samples = X.shape[0]
    rows = np.arange(n_samples)
    scores = X @ W + b
    margins = np.maximum(0.0, scores - scores[rows, y][:, np.newaxis] + 1.0)
    margins[rows, y] = 0.0
    loss = margins.sum() / n_samples + reg * np.sum(W * W)
    dscores = (margins > 0).astype(float)
    dscores[rows, y] = -dscores.sum(axis=1)
    dscores /= n_samples
    return float(loss), X.T @ dscores + 2.0 * reg * W, dscores.sum(axis=0)
'''),
    Mutant(cell="svm_loss", description="sum over the batch: missing 1/N", source='''
def svm_loss(W, b, X, y, reg=0.0, margin=1.0):
    rows = np.arange(X.shape[0])
    scores = X @ W + b
    margins = np.maximum(0.0, scores - scores[rows, y][:, np.newaxis] + margin)
    margins[rows, y] = 0.0
    loss = margins.sum() + reg * np.sum(W * W)
    dscores = (margins > 0).astype(float)
    dscores[rows, y] = -dscores.sum(axis=1)
    return float(loss), X.T @ dscores + 2.0 * reg * W, dscores.sum(axis=0)
'''),
    Mutant(cell="svm_loss", description="regularisation gradient lacks the factor 2", source='''
def svm_loss(W, b, X, y, reg=0.0, margin=1.0):
    n_samples = X.shape[0]
    rows = np.arange(n_samples)
    scores = X @ W + b
    margins = np.maximum(0.0, scores - scores[rows, y][:, np.newaxis] + margin)
    margins[rows, y] = 0.0
    loss = margins.sum() / n_samples + reg * np.sum(W * W)
    dscores = (margins > 0).astype(float)
    dscores[rows, y] = -dscores.sum(axis=1)
    dscores /= n_samples
    return float(loss), X.T @ dscores + reg * W, dscores.sum(axis=0)
'''),
    # --- sgd_train ----------------------------------------------------------------------------------
    Mutant(cell="sgd_train", description="never shuffles: batches in the given order", source='''
def sgd_train(loss_and_grads, params, X, y, *, lr, epochs, batch_size=None, rng):
    params = [np.array(p, dtype=float) for p in params]
    n_samples = X.shape[0]
    batch_size = n_samples if batch_size is None else batch_size
    losses = []
    for _ in range(epochs):
        for start in range(0, n_samples, batch_size):
            loss, grads = loss_and_grads(params, X[start:start + batch_size], y[start:start + batch_size])
            losses.append(loss)
            params = [p - lr * g for p, g in zip(params, grads)]
    return params, np.array(losses)
'''),
    Mutant(cell="sgd_train", description="shuffles once, before the first epoch only", source='''
def sgd_train(loss_and_grads, params, X, y, *, lr, epochs, batch_size=None, rng):
    params = [np.array(p, dtype=float) for p in params]
    n_samples = X.shape[0]
    batch_size = n_samples if batch_size is None else batch_size
    order = rng.permutation(n_samples)
    losses = []
    for _ in range(epochs):
        for start in range(0, n_samples, batch_size):
            batch = order[start:start + batch_size]
            loss, grads = loss_and_grads(params, X[batch], y[batch])
            losses.append(loss)
            params = [p - lr * g for p, g in zip(params, grads)]
    return params, np.array(losses)
'''),
    Mutant(cell="sgd_train", description="drops the last, incomplete batch", source='''
def sgd_train(loss_and_grads, params, X, y, *, lr, epochs, batch_size=None, rng):
    params = [np.array(p, dtype=float) for p in params]
    n_samples = X.shape[0]
    batch_size = n_samples if batch_size is None else batch_size
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n_samples)
        for start in range(0, n_samples - batch_size + 1, batch_size):
            batch = order[start:start + batch_size]
            loss, grads = loss_and_grads(params, X[batch], y[batch])
            losses.append(loss)
            params = [p - lr * g for p, g in zip(params, grads)]
    return params, np.array(losses)
'''),
    Mutant(cell="sgd_train", description="updates the caller's parameter arrays in place", source='''
def sgd_train(loss_and_grads, params, X, y, *, lr, epochs, batch_size=None, rng):
    n_samples = X.shape[0]
    batch_size = n_samples if batch_size is None else batch_size
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n_samples)
        for start in range(0, n_samples, batch_size):
            batch = order[start:start + batch_size]
            loss, grads = loss_and_grads(params, X[batch], y[batch])
            losses.append(loss)
            for p, g in zip(params, grads):
                p -= lr * g
    return list(params), np.array(losses)
'''),
    Mutant(cell="sgd_train", description="steps uphill (p + lr * grad)", source='''
def sgd_train(loss_and_grads, params, X, y, *, lr, epochs, batch_size=None, rng):
    params = [np.array(p, dtype=float) for p in params]
    n_samples = X.shape[0]
    batch_size = n_samples if batch_size is None else batch_size
    losses = []
    for _ in range(epochs):
        order = rng.permutation(n_samples)
        for start in range(0, n_samples, batch_size):
            batch = order[start:start + batch_size]
            loss, grads = loss_and_grads(params, X[batch], y[batch])
            losses.append(loss)
            params = [p + lr * g for p, g in zip(params, grads)]
    return params, np.array(losses)
'''),
    # --- two_layer_net_loss -------------------------------------------------------------------------
    Mutant(cell="two_layer_net_loss", description="backpropagates through the ReLU without its mask", source='''
def two_layer_net_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params
    hidden = np.maximum(X @ W1 + b1, 0.0)
    data_loss, dscores = cross_entropy_loss(hidden @ W2 + b2, y)
    loss = data_loss + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dhidden = dscores @ W2.T
    return float(loss), [X.T @ dhidden + 2.0 * reg * W1, dhidden.sum(axis=0),
                         hidden.T @ dscores + 2.0 * reg * W2, dscores.sum(axis=0)]
'''),
    Mutant(cell="two_layer_net_loss", description="regularisation gradients lack the factor 2", source='''
def two_layer_net_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params
    hidden_in = X @ W1 + b1
    hidden = np.maximum(hidden_in, 0.0)
    data_loss, dscores = cross_entropy_loss(hidden @ W2 + b2, y)
    loss = data_loss + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dhidden_in = (dscores @ W2.T) * (hidden_in > 0)
    return float(loss), [X.T @ dhidden_in + reg * W1, dhidden_in.sum(axis=0),
                         hidden.T @ dscores + reg * W2, dscores.sum(axis=0)]
'''),
    Mutant(cell="two_layer_net_loss", description="penalises the biases too", source='''
def two_layer_net_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params
    hidden_in = X @ W1 + b1
    hidden = np.maximum(hidden_in, 0.0)
    data_loss, dscores = cross_entropy_loss(hidden @ W2 + b2, y)
    loss = data_loss + reg * sum(np.sum(p * p) for p in params)
    dhidden_in = (dscores @ W2.T) * (hidden_in > 0)
    return float(loss), [X.T @ dhidden_in + 2.0 * reg * W1, dhidden_in.sum(axis=0) + 2.0 * reg * b1,
                         hidden.T @ dscores + 2.0 * reg * W2, dscores.sum(axis=0) + 2.0 * reg * b2]
'''),
    Mutant(cell="two_layer_net_loss", description="sigmoid hidden layer instead of ReLU", source='''
def two_layer_net_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params
    hidden = 1.0 / (1.0 + np.exp(-(X @ W1 + b1)))
    data_loss, dscores = cross_entropy_loss(hidden @ W2 + b2, y)
    loss = data_loss + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dhidden_in = (dscores @ W2.T) * hidden * (1.0 - hidden)
    return float(loss), [X.T @ dhidden_in + 2.0 * reg * W1, dhidden_in.sum(axis=0),
                         hidden.T @ dscores + 2.0 * reg * W2, dscores.sum(axis=0)]
'''),
    Mutant(cell="two_layer_net_loss", description="bias gradient db1 summed over the hidden units (axis=1)", source='''
def two_layer_net_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params
    hidden_in = X @ W1 + b1
    hidden = np.maximum(hidden_in, 0.0)
    data_loss, dscores = cross_entropy_loss(hidden @ W2 + b2, y)
    loss = data_loss + reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
    dhidden_in = (dscores @ W2.T) * (hidden_in > 0)
    return float(loss), [X.T @ dhidden_in + 2.0 * reg * W1, dhidden_in.sum(axis=1),
                         hidden.T @ dscores + 2.0 * reg * W2, dscores.sum(axis=0)]
'''),
]

ALTERNATIVES = [
    Alternative(cell="softmax", description="exp of the log-softmax (log-sum-exp form)", source='''
def softmax(Z):
    row_max = np.max(Z, axis=1)[:, None]
    log_normaliser = row_max + np.log(np.sum(np.exp(Z - row_max), axis=1))[:, None]
    return np.exp(Z - log_normaliser)
'''),
    Alternative(cell="softmax", description="a loop over the rows", source='''
def softmax(Z):
    P = np.empty(Z.shape)
    for i, row in enumerate(Z):
        e = np.exp(row - row.max())
        P[i] = e / e.sum()
    return P
'''),
    Alternative(cell="log_softmax", description="np.logaddexp.reduce for the log-sum-exp", source='''
def log_softmax(Z):
    return Z - np.logaddexp.reduce(Z, axis=1, keepdims=True)
'''),
    Alternative(cell="log_softmax", description="the shift added back explicitly", source='''
def log_softmax(Z):
    m = Z.max(axis=-1, keepdims=True)
    return Z - (m + np.log(np.sum(np.exp(Z - m), axis=-1, keepdims=True)))
'''),
    Alternative(cell="cross_entropy_loss", description="one-hot matrix and the lecture's -sum y log y_hat", source='''
def cross_entropy_loss(logits, y):
    n_samples, n_classes = logits.shape
    Y = np.eye(n_classes)[y]
    loss = -np.sum(Y * log_softmax(logits)) / n_samples
    return loss, (softmax(logits) - Y) / n_samples
'''),
    Alternative(cell="cross_entropy_loss", description="self-contained log-sum-exp, probabilities from the log-probabilities", source='''
def cross_entropy_loss(logits, y):
    n = len(y)
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    grad = np.exp(log_probs)
    grad[np.arange(n), y] -= 1
    return -log_probs[np.arange(n), y].sum() / n, grad / n
'''),
    Alternative(cell="softmax_classifier_loss", description="without cross_entropy_loss: probabilities and one-hot targets", source='''
def softmax_classifier_loss(W, b, X, y, reg=0.0):
    n_samples = X.shape[0]
    probs = softmax(X @ W + b)
    Y = np.zeros_like(probs)
    Y[np.arange(n_samples), y] = 1.0
    loss = -np.mean(np.log(probs[np.arange(n_samples), y])) + reg * np.sum(W ** 2)
    dscores = (probs - Y) / n_samples
    return loss, X.T @ dscores + 2 * reg * W, np.sum(dscores, axis=0)
'''),
    Alternative(cell="softmax_classifier_loss", description="einsum for the weight gradient", source='''
def softmax_classifier_loss(W, b, X, y, reg=0.0):
    data_loss, dscores = cross_entropy_loss(np.dot(X, W) + b, y)
    dW = np.einsum("nd,nk->dk", X, dscores) + 2 * reg * W
    return data_loss + reg * (W * W).sum(), dW, dscores.sum(0)
'''),
    Alternative(cell="svm_loss", description="loops over samples and classes, eqs. 7-9 literally", source='''
def svm_loss(W, b, X, y, reg=0.0, margin=1.0):
    n_samples, n_classes = X.shape[0], W.shape[1]
    loss, dW, db = 0.0, np.zeros_like(W), np.zeros_like(b)
    for i in range(n_samples):
        scores = X[i] @ W + b
        for j in range(n_classes):
            if j == y[i]:
                continue
            violation = scores[j] - scores[y[i]] + margin
            if violation > 0:
                loss += violation
                dW[:, j] += X[i]
                dW[:, y[i]] -= X[i]
                db[j] += 1.0
                db[y[i]] -= 1.0
    return loss / n_samples + reg * np.sum(W * W), dW / n_samples + 2 * reg * W, db / n_samples
'''),
    Alternative(cell="svm_loss", description="mask of violations excluding the true class via np.where", source='''
def svm_loss(W, b, X, y, reg=0.0, margin=1.0):
    n_samples, n_classes = X.shape[0], W.shape[1]
    scores = X @ W + b
    is_true = np.arange(n_classes)[None, :] == y[:, None]
    slack = np.where(is_true, 0.0, scores - scores[is_true][:, None] + margin)
    violated = slack > 0
    dscores = violated - is_true * violated.sum(axis=1, keepdims=True)
    dscores = dscores / n_samples
    loss = np.sum(slack[violated]) / n_samples + reg * np.sum(W * W)
    return loss, X.T @ dscores + 2 * reg * W, dscores.sum(axis=0)
'''),
    Alternative(cell="sgd_train", description="shuffled copies of the data, in-place steps on private copies", source='''
def sgd_train(loss_and_grads, params, X, y, *, lr, epochs, batch_size=None, rng):
    params = [p.astype(float, copy=True) for p in params]
    n = len(X)
    step = batch_size or n
    losses = []
    for epoch in range(epochs):
        order = rng.permutation(n)
        X_shuffled, y_shuffled = X[order], y[order]
        start = 0
        while start < n:
            loss, grads = loss_and_grads(params, X_shuffled[start:start + step], y_shuffled[start:start + step])
            losses.append(loss)
            for p, g in zip(params, grads):
                p -= lr * g
            start += step
    return params, np.asarray(losses)
'''),
    Alternative(cell="two_layer_net_loss", description="np.where for the ReLU and its mask, penalty as a sum over weights", source='''
def two_layer_net_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params
    pre_activation = X @ W1 + b1
    active = pre_activation > 0
    hidden = np.where(active, pre_activation, 0.0)
    data_loss, dscores = cross_entropy_loss(hidden @ W2 + b2, y)
    penalty = reg * sum(np.sum(W ** 2) for W in (W1, W2))
    dhidden = np.where(active, dscores @ W2.T, 0.0)
    return data_loss + penalty, (X.T @ dhidden + 2 * reg * W1, dhidden.sum(axis=0),
                                 hidden.T @ dscores + 2 * reg * W2, dscores.sum(axis=0))
'''),
    Alternative(cell="two_layer_net_loss", description="self-contained softmax cross-entropy (no helper calls)", source='''
def two_layer_net_loss(params, X, y, reg=0.0):
    W1, b1, W2, b2 = params
    n = X.shape[0]
    h = np.maximum(0, X @ W1 + b1)
    s = h @ W2 + b2
    s = s - s.max(axis=1, keepdims=True)
    log_p = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    loss = -log_p[np.arange(n), y].mean() + reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
    ds = np.exp(log_p)
    ds[np.arange(n), y] -= 1
    ds /= n
    dh = ds @ W2.T
    dh[h <= 0] = 0
    return loss, [X.T @ dh + 2 * reg * W1, dh.sum(0), h.T @ ds + 2 * reg * W2, ds.sum(0)]
'''),
]
