"""Self-test catalogue of assignment 01_perceptron: realistic wrong answers and alternative right ones.

Each ``Mutant`` replaces one solution cell of ``source/01_perceptron/01_perceptron.ipynb`` and must lose
the points of that function's test cell only; each ``Alternative`` is a different correct solution and
must keep full marks.
"""

from nngrade.selftest import Alternative, Mutant

MUTANTS = [
    # --- mcculloch_pitts -----------------------------------------------------------------------------
    Mutant(
        cell="mcculloch_pitts",
        description="strict z > θ: a unit exactly at its threshold does not fire",
        source="def mcculloch_pitts(X, w, theta):\n"
               "    z = X @ w\n"
               "    return np.where(z > theta, 1.0, 0.0)\n",
    ),
    Mutant(
        cell="mcculloch_pitts",
        description="outputs ±1 (the hard limit's encoding) instead of 1/0",
        source="def mcculloch_pitts(X, w, theta):\n"
               "    z = X @ w\n"
               "    return np.where(z >= theta, 1.0, -1.0)\n",
    ),
    Mutant(
        cell="mcculloch_pitts",
        description="ignores the weights: sums the inputs",
        source="def mcculloch_pitts(X, w, theta):\n"
               "    z = X.sum(axis=1)\n"
               "    return np.where(z >= theta, 1.0, 0.0)\n",
    ),
    Mutant(
        cell="mcculloch_pitts",
        description="adds the threshold instead of subtracting it (z + θ ≥ 0)",
        source="def mcculloch_pitts(X, w, theta):\n"
               "    return np.where(X @ w + theta >= 0, 1.0, 0.0)\n",
    ),
    # --- hard_limit ----------------------------------------------------------------------------------
    Mutant(
        cell="hard_limit",
        description="np.sign: returns 0 at the threshold",
        source="def hard_limit(x, threshold=0.0):\n"
               "    return np.sign(np.asarray(x, dtype=float) - threshold)\n",
    ),
    Mutant(
        cell="hard_limit",
        description="strict x > θ: puts the threshold itself on the −1 side",
        source="def hard_limit(x, threshold=0.0):\n"
               "    return np.where(np.asarray(x) > threshold, 1.0, -1.0)\n",
    ),
    Mutant(
        cell="hard_limit",
        description="outputs 1/0 (a step) instead of ±1",
        source="def hard_limit(x, threshold=0.0):\n"
               "    return np.where(np.asarray(x) >= threshold, 1.0, 0.0)\n",
    ),
    Mutant(
        cell="hard_limit",
        description="ignores the threshold argument",
        source="def hard_limit(x, threshold=0.0):\n"
               "    return np.where(np.asarray(x) >= 0, 1.0, -1.0)\n",
    ),
    # --- sigmoid -------------------------------------------------------------------------------------
    Mutant(
        cell="sigmoid",
        description="ignores the slope λ",
        source="def sigmoid(x, slope=1.0):\n"
               "    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float)))\n",
    ),
    Mutant(
        cell="sigmoid",
        description="divides by the slope: exp(−x/λ)",
        source="def sigmoid(x, slope=1.0):\n"
               "    return 1.0 / (1.0 + np.exp(-np.asarray(x, dtype=float) / slope))\n",
    ),
    Mutant(
        cell="sigmoid",
        description="sign error in the exponent: 1/(1 + exp(+λx))",
        source="def sigmoid(x, slope=1.0):\n"
               "    return 1.0 / (1.0 + np.exp(slope * np.asarray(x, dtype=float)))\n",
    ),
    Mutant(
        cell="sigmoid",
        description="the slope multiplies the output instead of the input",
        source="def sigmoid(x, slope=1.0):\n"
               "    return slope / (1.0 + np.exp(-np.asarray(x, dtype=float)))\n",
    ),
    # --- relu ----------------------------------------------------------------------------------------
    Mutant(
        cell="relu",
        description="np.max instead of np.maximum (a reduction along axis 0, not elementwise)",
        source="def relu(x):\n"
               "    return np.max(np.asarray(x, dtype=float), 0)\n",
    ),
    Mutant(
        cell="relu",
        description="zeroes the negative entries of the caller's array in place",
        source="def relu(x):\n"
               "    x[x < 0] = 0.0\n"
               "    return x\n",
    ),
    Mutant(
        cell="relu",
        description="np.minimum: keeps the negative part",
        source="def relu(x):\n"
               "    return np.minimum(np.asarray(x, dtype=float), 0.0)\n",
    ),
    Mutant(
        cell="relu",
        description="absolute value instead of the positive part",
        source="def relu(x):\n"
               "    return np.abs(np.asarray(x, dtype=float))\n",
    ),
    # --- neuron_output -------------------------------------------------------------------------------
    Mutant(
        cell="neuron_output",
        description="forgets the bias",
        source="def neuron_output(w, b, X, activation):\n"
               "    return activation(X @ w)\n",
    ),
    Mutant(
        cell="neuron_output",
        description="subtracts the bias (confuses b with the threshold θ = −b)",
        source="def neuron_output(w, b, X, activation):\n"
               "    return activation(X @ w - b)\n",
    ),
    Mutant(
        cell="neuron_output",
        description="applies the activation to the inputs before weighting them",
        source="def neuron_output(w, b, X, activation):\n"
               "    return activation(X) @ w + b\n",
    ),
    Mutant(
        cell="neuron_output",
        description="transposed product X.T @ w (right only for square X)",
        source="def neuron_output(w, b, X, activation):\n"
               "    return activation(X.T @ w + b)\n",
    ),
    Mutant(
        cell="neuron_output",
        description="ignores the activation argument and always applies the hard limit",
        source="def neuron_output(w, b, X, activation):\n"
               "    return np.where(X @ w + b >= 0, 1.0, -1.0)\n",
    ),
    # --- boundary_line -------------------------------------------------------------------------------
    Mutant(
        cell="boundary_line",
        description="slope without the minus sign: w1/w2",
        source="def boundary_line(w, b=0.0):\n"
               "    if w[1] == 0:\n"
               "        raise ValueError('vertical boundary')\n"
               "    return w[0] / w[1], -b / w[1]\n",
    ),
    Mutant(
        cell="boundary_line",
        description="inverted slope: −w2/w1",
        source="def boundary_line(w, b=0.0):\n"
               "    if w[1] == 0:\n"
               "        raise ValueError('vertical boundary')\n"
               "    return -w[1] / w[0], -b / w[1]\n",
    ),
    Mutant(
        cell="boundary_line",
        description="intercept with the wrong sign: +b/w2",
        source="def boundary_line(w, b=0.0):\n"
               "    if w[1] == 0:\n"
               "        raise ValueError('vertical boundary')\n"
               "    return -w[0] / w[1], b / w[1]\n",
    ),
    Mutant(
        cell="boundary_line",
        description="no check for a vertical boundary (divides by w2 = 0)",
        source="def boundary_line(w, b=0.0):\n"
               "    return -w[0] / w[1], -b / w[1]\n",
    ),
    # --- perceptron_epoch ----------------------------------------------------------------------------
    Mutant(
        cell="perceptron_epoch",
        description="strict y·net < 0: samples on the boundary are not updated (never leaves w = 0)",
        source="def perceptron_epoch(w, b, X, y, eta=1.0):\n"
               "    w, b, n_updates = np.array(w, dtype=float), float(b), 0\n"
               "    for x_n, y_n in zip(X, y):\n"
               "        if y_n * (x_n @ w + b) < 0:\n"
               "            w = w + eta * y_n * x_n\n"
               "            b = b + eta * y_n\n"
               "            n_updates += 1\n"
               "    return w, b, n_updates\n",
    ),
    Mutant(
        cell="perceptron_epoch",
        description="decides with the hard limit's output: net = 0 counts as a correct +1",
        source="def perceptron_epoch(w, b, X, y, eta=1.0):\n"
               "    w, b, n_updates = np.array(w, dtype=float), float(b), 0\n"
               "    for x_n, y_n in zip(X, y):\n"
               "        prediction = 1.0 if x_n @ w + b >= 0 else -1.0\n"
               "        if prediction != y_n:\n"
               "            w = w + eta * y_n * x_n\n"
               "            b = b + eta * y_n\n"
               "            n_updates += 1\n"
               "    return w, b, n_updates\n",
    ),
    Mutant(
        cell="perceptron_epoch",
        description="updates on every sample, also the correctly classified ones",
        source="def perceptron_epoch(w, b, X, y, eta=1.0):\n"
               "    w, b, n_updates = np.array(w, dtype=float), float(b), 0\n"
               "    for x_n, y_n in zip(X, y):\n"
               "        w = w + eta * y_n * x_n\n"
               "        b = b + eta * y_n\n"
               "        n_updates += 1\n"
               "    return w, b, n_updates\n",
    ),
    Mutant(
        cell="perceptron_epoch",
        description="forgets to update the bias",
        source="def perceptron_epoch(w, b, X, y, eta=1.0):\n"
               "    w, b, n_updates = np.array(w, dtype=float), float(b), 0\n"
               "    for x_n, y_n in zip(X, y):\n"
               "        if y_n * (x_n @ w + b) <= 0:\n"
               "            w = w + eta * y_n * x_n\n"
               "            n_updates += 1\n"
               "    return w, b, n_updates\n",
    ),
    Mutant(
        cell="perceptron_epoch",
        description="batch update: judges every sample with the weights from the start of the epoch",
        source="def perceptron_epoch(w, b, X, y, eta=1.0):\n"
               "    wrong = y * (X @ w + b) <= 0\n"
               "    w_new = w + eta * (y[wrong, None] * X[wrong]).sum(axis=0)\n"
               "    b_new = b + eta * y[wrong].sum()\n"
               "    return w_new, float(b_new), int(wrong.sum())\n",
    ),
    Mutant(
        cell="perceptron_epoch",
        description="updates the caller's weight array in place (w += ... without a copy)",
        source="def perceptron_epoch(w, b, X, y, eta=1.0):\n"
               "    n_updates = 0\n"
               "    for x_n, y_n in zip(X, y):\n"
               "        if y_n * (x_n @ w + b) <= 0:\n"
               "            w += eta * y_n * x_n\n"
               "            b += eta * y_n\n"
               "            n_updates += 1\n"
               "    return w, float(b), n_updates\n",
    ),
    Mutant(
        cell="perceptron_epoch",
        description="ignores the learning rate (always η = 1)",
        source="def perceptron_epoch(w, b, X, y, eta=1.0):\n"
               "    w, b, n_updates = np.array(w, dtype=float), float(b), 0\n"
               "    for x_n, y_n in zip(X, y):\n"
               "        if y_n * (x_n @ w + b) <= 0:\n"
               "            w = w + y_n * x_n\n"
               "            b = b + y_n\n"
               "            n_updates += 1\n"
               "    return w, b, n_updates\n",
    ),
    # --- train_perceptron ----------------------------------------------------------------------------
    Mutant(
        cell="train_perceptron",
        description="never stops early: always runs max_epochs epochs",
        source="def train_perceptron(X, y, eta=1.0, max_epochs=100):\n"
               "    w, b, updates = np.zeros(X.shape[1]), 0.0, []\n"
               "    for _ in range(max_epochs):\n"
               "        w, b, n_updates = perceptron_epoch(w, b, X, y, eta)\n"
               "        updates.append(n_updates)\n"
               "    return w, b, updates\n",
    ),
    Mutant(
        cell="train_perceptron",
        description="off by one: runs up to max_epochs + 1 epochs",
        source="def train_perceptron(X, y, eta=1.0, max_epochs=100):\n"
               "    w, b, updates = np.zeros(X.shape[1]), 0.0, []\n"
               "    epoch = 0\n"
               "    while epoch <= max_epochs:\n"
               "        w, b, n_updates = perceptron_epoch(w, b, X, y, eta)\n"
               "        updates.append(n_updates)\n"
               "        if n_updates == 0:\n"
               "            break\n"
               "        epoch += 1\n"
               "    return w, b, updates\n",
    ),
    Mutant(
        cell="train_perceptron",
        description="stops before recording the final epoch without updates",
        source="def train_perceptron(X, y, eta=1.0, max_epochs=100):\n"
               "    w, b, updates = np.zeros(X.shape[1]), 0.0, []\n"
               "    for _ in range(max_epochs):\n"
               "        w, b, n_updates = perceptron_epoch(w, b, X, y, eta)\n"
               "        if n_updates == 0:\n"
               "            break\n"
               "        updates.append(n_updates)\n"
               "    return w, b, updates\n",
    ),
    Mutant(
        cell="train_perceptron",
        description="does not pass the learning rate on (every epoch uses η = 1)",
        source="def train_perceptron(X, y, eta=1.0, max_epochs=100):\n"
               "    w, b, updates = np.zeros(X.shape[1]), 0.0, []\n"
               "    for _ in range(max_epochs):\n"
               "        w, b, n_updates = perceptron_epoch(w, b, X, y)\n"
               "        updates.append(n_updates)\n"
               "        if n_updates == 0:\n"
               "            break\n"
               "    return w, b, updates\n",
    ),
    Mutant(
        cell="train_perceptron",
        description="one weight per sample instead of per feature (np.zeros(X.shape[0]))",
        source="def train_perceptron(X, y, eta=1.0, max_epochs=100):\n"
               "    w, b, updates = np.zeros(X.shape[0]), 0.0, []\n"
               "    for _ in range(max_epochs):\n"
               "        w, b, n_updates = perceptron_epoch(w, b, X, y, eta)\n"
               "        updates.append(n_updates)\n"
               "        if n_updates == 0:\n"
               "            break\n"
               "    return w, b, updates\n",
    ),
    Mutant(
        cell="train_perceptron",
        description="records the running total of updates instead of each epoch's count",
        source="def train_perceptron(X, y, eta=1.0, max_epochs=100):\n"
               "    w, b, updates, total = np.zeros(X.shape[1]), 0.0, [], 0\n"
               "    for _ in range(max_epochs):\n"
               "        w, b, n_updates = perceptron_epoch(w, b, X, y, eta)\n"
               "        total += n_updates\n"
               "        updates.append(total)\n"
               "        if n_updates == 0:\n"
               "            break\n"
               "    return w, b, updates\n",
    ),
]

ALTERNATIVES = [
    Alternative(
        cell="mcculloch_pitts",
        description="Heaviside step of z − θ, with H(0) = 1",
        source="def mcculloch_pitts(X, w, theta):\n"
               "    return np.heaviside(X @ w - theta, 1.0)\n",
    ),
    Alternative(
        cell="mcculloch_pitts",
        description="a loop over the samples with an explicit weighted sum",
        source="def mcculloch_pitts(X, w, theta):\n"
               "    outputs = []\n"
               "    for x in X:\n"
               "        z = sum(w_i * x_i for w_i, x_i in zip(w, x))\n"
               "        outputs.append(1.0 if z >= theta else 0.0)\n"
               "    return np.array(outputs)\n",
    ),
    Alternative(
        cell="hard_limit",
        description="2·[x ≥ θ] − 1 from a boolean array",
        source="def hard_limit(x, threshold=0.0):\n"
               "    return 2.0 * (np.asarray(x) >= threshold) - 1.0\n",
    ),
    Alternative(
        cell="sigmoid",
        description="via tanh: σ(z) = (1 + tanh(z/2)) / 2",
        source="def sigmoid(x, slope=1.0):\n"
               "    return 0.5 * (1.0 + np.tanh(0.5 * slope * np.asarray(x, dtype=float)))\n",
    ),
    Alternative(
        cell="sigmoid",
        description="overflow-free: σ(z) = exp(−log(1 + e^{−z})) with np.logaddexp",
        source="def sigmoid(x, slope=1.0):\n"
               "    return np.exp(-np.logaddexp(0.0, -slope * np.asarray(x, dtype=float)))\n",
    ),
    Alternative(
        cell="relu",
        description="x · [x > 0]",
        source="def relu(x):\n"
               "    x = np.asarray(x, dtype=float)\n"
               "    return x * (x > 0)\n",
    ),
    Alternative(
        cell="relu",
        description="np.clip from below at 0",
        source="def relu(x):\n"
               "    return np.clip(x, 0.0, None).astype(float)\n",
    ),
    Alternative(
        cell="neuron_output",
        description="one net value per sample in a loop, then the activation on the array",
        source="def neuron_output(w, b, X, activation):\n"
               "    net = np.array([np.dot(x_n, w) + b for x_n in X])\n"
               "    return activation(net)\n",
    ),
    Alternative(
        cell="neuron_output",
        description="np.einsum for the weighted sums",
        source="def neuron_output(w, b, X, activation):\n"
               "    return activation(np.einsum('nd,d->n', X, w) + b)\n",
    ),
    Alternative(
        cell="boundary_line",
        description="from two points of the line, at x1 = 0 and x1 = 1",
        source="def boundary_line(w, b=0.0):\n"
               "    w1, w2 = float(w[0]), float(w[1])\n"
               "    if w2 == 0.0:\n"
               "        raise ValueError(f'w2 must be non-zero, got w = {w}')\n"
               "    x2_at_0 = -b / w2\n"
               "    x2_at_1 = -(w1 + b) / w2\n"
               "    return x2_at_1 - x2_at_0, x2_at_0\n",
    ),
    Alternative(
        cell="perceptron_epoch",
        description="bias as a weight: augmented vectors x̃ = (1, x), w̃ = (b, w) (deck 001's 'bias as weight')",
        source="def perceptron_epoch(w, b, X, y, eta=1.0):\n"
               "    w_tilde = np.concatenate([[b], w]).astype(float)\n"
               "    X_tilde = np.column_stack([np.ones(len(X)), X])\n"
               "    n_updates = 0\n"
               "    for x_n, y_n in zip(X_tilde, y):\n"
               "        if y_n * np.dot(w_tilde, x_n) <= 0:\n"
               "            w_tilde = w_tilde + eta * y_n * x_n\n"
               "            n_updates += 1\n"
               "    return w_tilde[1:], float(w_tilde[0]), n_updates\n",
    ),
    Alternative(
        cell="perceptron_epoch",
        description="np.sign(net) != y as the mistake test (sign 0 never equals a label)",
        source="def perceptron_epoch(w, b, X, y, eta=1.0):\n"
               "    w = w.copy()\n"
               "    n_updates = 0\n"
               "    for n in range(len(X)):\n"
               "        if np.sign(X[n] @ w + b) != y[n]:\n"
               "            w = w + eta * y[n] * X[n]\n"
               "            b = b + eta * y[n]\n"
               "            n_updates += 1\n"
               "    return w, float(b), n_updates\n",
    ),
    Alternative(
        cell="train_perceptron",
        description="a while loop that counts the epochs and tests convergence in its condition",
        source="def train_perceptron(X, y, eta=1.0, max_epochs=100):\n"
               "    w, b = np.zeros(X.shape[1]), 0.0\n"
               "    updates = []\n"
               "    while len(updates) < max_epochs and (not updates or updates[-1] > 0):\n"
               "        w, b, n_updates = perceptron_epoch(w, b, X, y, eta=eta)\n"
               "        updates.append(n_updates)\n"
               "    return w, b, updates\n",
    ),
]
