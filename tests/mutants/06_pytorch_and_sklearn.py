"""Self-test catalogue of assignment 06_pytorch_and_sklearn: wrong answers and alternative right ones.

Each ``Mutant`` replaces one solution cell of
``source/06_pytorch_and_sklearn/06_pytorch_and_sklearn.ipynb`` and must lose the points of that
function's test cell only; each ``Alternative`` is a different correct solution and must keep full
marks. The notebook's imports (``np``, ``torch``, ``nn``, ``F``, ``optim``) are available to every cell.
"""

from nngrade.selftest import Alternative, Mutant


def _variant(source: str, old: str, new: str) -> str:
    """``source`` with one fragment replaced (the fragment must be there: a typo must not pass silently)."""
    if source.count(old) != 1:
        raise ValueError(f"fragment not found exactly once: {old!r}")
    return source.replace(old, new)


# The source solutions the one-line variants below start from.
SIGMOID_LAYER = """
def sigmoid_layer_backward(dY, X, W, b):
    Y = 1.0 / (1.0 + np.exp(-(X @ W + b)))
    dZ = dY * Y * (1.0 - Y)
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)
"""

HELLO_MLP = """
class HelloMLP(nn.Module):
    def __init__(self, input_size=784, num_classes=10):
        super(HelloMLP, self).__init__()
        self.mlp = nn.Sequential(
            nn.Linear(input_size, 64),
            nn.ReLU(),
            nn.Linear(64, 64),
            nn.ReLU(),
            nn.Linear(64, num_classes),
        )

    def forward(self, x):
        x_ = x.view(x.size(0), -1)
        y_ = self.mlp(x_)
        return y_
"""

CROSS_ENTROPY = """
def cross_entropy_from_log_softmax(logits, labels):
    log_probs = F.log_softmax(logits, dim=1)
    return F.nll_loss(log_probs, labels)
"""

TRAIN = """
def train_one_epoch(net, loader, criterion, optimizer):
    net.train()
    running_loss = 0.0
    for inputs, labels in loader:
        optimizer.zero_grad()
        outputs = net(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running_loss += loss.item()
    return running_loss / len(loader)
"""

EVALUATE = """
def evaluate_accuracy(net, loader):
    net.eval()
    correct = total = 0
    with torch.no_grad():
        for inputs, labels in loader:
            predictions = net(inputs).argmax(dim=1)
            correct += (predictions == labels).sum().item()
            total += labels.numel()
    return correct / total
"""

SAVE = """
def save_and_reload(net, path, make_net):
    torch.save(net.state_dict(), path)
    model = make_net()
    model.load_state_dict(torch.load(path))
    model.eval()
    return model
"""

CONVERT = """
def sklearn_to_torch(mlp):
    activations = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid, "identity": nn.Identity}
    layers = []
    for index, (W, b) in enumerate(zip(mlp.coefs_, mlp.intercepts_)):
        linear = nn.Linear(W.shape[0], W.shape[1], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(W.T))
            linear.bias.copy_(torch.from_numpy(b))
        layers.append(linear)
        if index < len(mlp.coefs_) - 1:
            layers.append(activations[mlp.activation]())
    return nn.Sequential(*layers)
"""

MUTANTS = [
    # --- sigmoid_layer_backward ------------------------------------------------------------------------
    Mutant(cell="sigmoid_layer_backward", description="forgets the factor (1 - Y) of the sigmoid derivative",
           source=_variant(SIGMOID_LAYER, "dZ = dY * Y * (1.0 - Y)", "dZ = dY * Y")),
    Mutant(cell="sigmoid_layer_backward", description="applies the derivative formula to Z instead of Y = sigmoid(Z)",
           source=_variant(SIGMOID_LAYER, "dZ = dY * Y * (1.0 - Y)", "Z = X @ W + b\n    dZ = dY * Z * (1.0 - Z)")),
    Mutant(cell="sigmoid_layer_backward", description="bias gradient summed over the wrong axis",
           source=_variant(SIGMOID_LAYER, "dZ.sum(axis=0)", "dZ.sum(axis=1)")),
    Mutant(cell="sigmoid_layer_backward", description="weight gradient transposed: dZ^T X",
           source=_variant(SIGMOID_LAYER, "X.T @ dZ", "dZ.T @ X")),
    Mutant(cell="sigmoid_layer_backward", description="bias gradient from dY (skips the sigmoid)",
           source=_variant(SIGMOID_LAYER, "dZ.sum(axis=0)", "dY.sum(axis=0)")),
    # --- HelloMLP ----------------------------------------------------------------------------------------
    Mutant(cell="HelloMLP", description="flattens to a hard-coded 784 features",
           source=_variant(HELLO_MLP, "x.view(x.size(0), -1)", "x.view(-1, 784)")),
    Mutant(cell="HelloMLP", description="forgets the second ReLU",
           source=_variant(HELLO_MLP, "nn.Linear(64, 64),\n            nn.ReLU(),", "nn.Linear(64, 64),")),
    Mutant(cell="HelloMLP", description="keeps the deck's commented-out softmax as the last layer",
           source=_variant(HELLO_MLP, "nn.Linear(64, num_classes),", "nn.Linear(64, num_classes),\n            nn.Softmax(dim=1),")),
    Mutant(cell="HelloMLP", description="ignores num_classes: always 10 outputs",
           source=_variant(HELLO_MLP, "nn.Linear(64, num_classes)", "nn.Linear(64, 10)")),
    Mutant(cell="HelloMLP", description="hidden layers of 100 units (scikit-learn's default width)",
           source=HELLO_MLP.replace("64", "100")),
    # --- cross_entropy_from_log_softmax -----------------------------------------------------------------
    Mutant(cell="cross_entropy_from_log_softmax", description="log-softmax over the batch axis (dim=0)",
           source=_variant(CROSS_ENTROPY, "dim=1", "dim=0")),
    Mutant(cell="cross_entropy_from_log_softmax", description="sums over the batch instead of averaging",
           source=_variant(CROSS_ENTROPY, "F.nll_loss(log_probs, labels)", "F.nll_loss(log_probs, labels, reduction='sum')")),
    Mutant(cell="cross_entropy_from_log_softmax", description="softmax without the log before the NLL",
           source=_variant(CROSS_ENTROPY, "F.log_softmax(logits, dim=1)", "F.softmax(logits, dim=1)")),
    Mutant(cell="cross_entropy_from_log_softmax", description="indexes the columns with all labels: log_probs[:, labels]",
           source='''
def cross_entropy_from_log_softmax(logits, labels):
    log_probs = F.log_softmax(logits, dim=1)
    return -log_probs[:, labels].mean()
'''),
    Mutant(cell="cross_entropy_from_log_softmax", description="forgets the minus sign of the negative log-likelihood",
           source='''
def cross_entropy_from_log_softmax(logits, labels):
    log_probs = F.log_softmax(logits, dim=1)
    return log_probs[torch.arange(len(labels)), labels].mean()
'''),
    # --- train_one_epoch ---------------------------------------------------------------------------------
    Mutant(cell="train_one_epoch", description="never zeroes the gradients: they accumulate over the batches",
           source=_variant(TRAIN, "        optimizer.zero_grad()\n", "")),
    Mutant(cell="train_one_epoch", description="the deck's indentation slip: only the last batch's loss is counted",
           source=_variant(TRAIN, "        running_loss += loss.item()\n    return running_loss / len(loader)",
                           "    running_loss += loss.item()\n    return running_loss")),
    Mutant(cell="train_one_epoch", description="returns the sum of the batch losses (no average)",
           source=_variant(TRAIN, "return running_loss / len(loader)", "return running_loss")),
    Mutant(cell="train_one_epoch", description="steps before backpropagating: every update uses the previous batch's gradient",
           source=_variant(TRAIN, "        loss.backward()\n        optimizer.step()\n",
                           "        optimizer.step()\n        loss.backward()\n")),
    Mutant(cell="train_one_epoch", description="forgets net.train(): a network left in eval() mode trains without dropout",
           source=_variant(TRAIN, "    net.train()\n", "")),
    Mutant(cell="train_one_epoch", description="divides by the number of samples instead of the number of batches",
           source=_variant(TRAIN, "len(loader)", "len(loader.dataset)")),
    # --- evaluate_accuracy -------------------------------------------------------------------------------
    Mutant(cell="evaluate_accuracy", description="forgets net.eval(): dropout stays active",
           source=_variant(EVALUATE, "    net.eval()\n", "")),
    Mutant(cell="evaluate_accuracy", description="averages the per-batch accuracies (the last batch is smaller)",
           source='''
def evaluate_accuracy(net, loader):
    net.eval()
    accuracies = []
    with torch.no_grad():
        for inputs, labels in loader:
            accuracies.append((net(inputs).argmax(dim=1) == labels).float().mean().item())
    return sum(accuracies) / len(accuracies)
'''),
    Mutant(cell="evaluate_accuracy", description="returns a percentage",
           source=_variant(EVALUATE, "return correct / total", "return 100 * correct / total")),
    Mutant(cell="evaluate_accuracy", description="argmax over the batch axis",
           source=_variant(EVALUATE, "argmax(dim=1)", "argmax(dim=0)")),
    Mutant(cell="evaluate_accuracy", description="overwrites instead of accumulating: only the last batch counts",
           source=_variant(_variant(EVALUATE, "correct += ", "correct = "), "total += ", "total = ")),
    # --- save_and_reload ---------------------------------------------------------------------------------
    Mutant(cell="save_and_reload", description="returns the original network instead of the reloaded one",
           source=_variant(SAVE, "    model.eval()\n    return model", "    net.eval()\n    return net")),
    Mutant(cell="save_and_reload", description="forgets eval()",
           source=_variant(SAVE, "    model.eval()\n", "")),
    Mutant(cell="save_and_reload", description="forgets to load the saved state: the fresh network keeps random weights",
           source=_variant(SAVE, "    model.load_state_dict(torch.load(path))\n", "")),
    Mutant(cell="save_and_reload", description="saves the whole model, then loads the file as a model",
           source='''
def save_and_reload(net, path, make_net):
    torch.save(net, path)
    model = torch.load(path)
    model.eval()
    return model
'''),
    # --- sklearn_to_torch --------------------------------------------------------------------------------
    Mutant(cell="sklearn_to_torch", description="copies coefs_ without the transpose (assigning .data hides the shape error)",
           source=_variant(CONVERT, "linear.weight.copy_(torch.from_numpy(W.T))",
                           "linear.weight.data = torch.from_numpy(W)")),
    Mutant(cell="sklearn_to_torch", description="forgets the biases (keeps nn.Linear's random ones)",
           source=_variant(CONVERT, "            linear.bias.copy_(torch.from_numpy(b))\n", "")),
    Mutant(cell="sklearn_to_torch", description="always ReLU, whatever mlp.activation says",
           source=_variant(CONVERT, "layers.append(activations[mlp.activation]())", "layers.append(nn.ReLU())")),
    Mutant(cell="sklearn_to_torch", description="an activation after the output layer too",
           source=_variant(CONVERT, "        if index < len(mlp.coefs_) - 1:\n            layers.append",
                           "        layers.append")),
    Mutant(cell="sklearn_to_torch", description="off by one: drops the output layer",
           source=_variant(CONVERT, "zip(mlp.coefs_, mlp.intercepts_)", "zip(mlp.coefs_[:-1], mlp.intercepts_[:-1])")),
]

ALTERNATIVES = [
    Alternative(cell="sigmoid_layer_backward", description="one sample at a time, with outer products",
                source='''
def sigmoid_layer_backward(dY, X, W, b):
    dX, dW, db = np.zeros(X.shape), np.zeros(W.shape), np.zeros(b.shape)
    for n in range(X.shape[0]):
        z = X[n] @ W + b
        dz = dY[n] * np.exp(-z) / (1.0 + np.exp(-z)) ** 2   # sigma'(z) written out
        dX[n] = W @ dz
        dW += np.outer(X[n], dz)
        db += dz
    return dX, dW, db
'''),
    Alternative(cell="HelloMLP", description="nn.Flatten inside the Sequential, forward just applies it",
                source='''
class HelloMLP(nn.Module):
    def __init__(self, input_size=784, num_classes=10):
        super().__init__()
        self.layers = nn.Sequential(nn.Flatten(), nn.Linear(input_size, 64), nn.ReLU(),
                                    nn.Linear(64, 64), nn.ReLU(), nn.Linear(64, num_classes))

    def forward(self, x):
        return self.layers(x)
'''),
    Alternative(cell="HelloMLP", description="three named layers and F.relu, flattening with reshape",
                source='''
class HelloMLP(nn.Module):
    def __init__(self, input_size=784, num_classes=10):
        super().__init__()
        self.fc1 = nn.Linear(input_size, 64)
        self.fc2 = nn.Linear(64, 64)
        self.fc3 = nn.Linear(64, num_classes)

    def forward(self, x):
        h = F.relu(self.fc1(x.reshape(len(x), -1)))
        return self.fc3(F.relu(self.fc2(h)))
'''),
    Alternative(cell="cross_entropy_from_log_softmax", description="logsumexp and gather, written out",
                source='''
def cross_entropy_from_log_softmax(logits, labels):
    log_probs = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -log_probs.gather(1, labels.unsqueeze(1)).mean()
'''),
    Alternative(cell="cross_entropy_from_log_softmax", description="one-hot targets, the deck's -sum_c d_c log X_c",
                source='''
def cross_entropy_from_log_softmax(logits, labels):
    d = F.one_hot(labels, num_classes=logits.shape[1]).to(logits.dtype)
    return -(d * torch.log(torch.softmax(logits, dim=1))).sum(dim=1).mean()
'''),
    Alternative(cell="train_one_epoch", description="the deck's enumerate loop, net.zero_grad(), losses in a list",
                source='''
def train_one_epoch(net, loader, criterion, optimizer):
    net.train()
    batch_losses = []
    for i, data in enumerate(loader, 0):
        inputs, labels = data
        net.zero_grad()
        loss = criterion(net(inputs), labels)
        loss.backward()
        optimizer.step()
        batch_losses.append(loss.item())
    return float(np.mean(batch_losses))
'''),
    Alternative(cell="evaluate_accuracy", description="concatenates all predictions, inference_mode",
                source='''
def evaluate_accuracy(net, loader):
    net.eval()
    with torch.inference_mode():
        predictions = torch.cat([net(inputs).max(dim=1).indices for inputs, _ in loader])
        labels = torch.cat([labels for _, labels in loader])
    return float((predictions == labels).double().mean())
'''),
    Alternative(cell="save_and_reload", description="explicit file handles and weights_only loading",
                source='''
def save_and_reload(net, path, make_net):
    with open(path, "wb") as file:
        torch.save(net.state_dict(), file)
    fresh = make_net()
    with open(path, "rb") as file:
        fresh.load_state_dict(torch.load(file, weights_only=True, map_location="cpu"))
    return fresh.eval()
'''),
    Alternative(cell="sklearn_to_torch", description="the layers first, then the weights through load_state_dict",
                source='''
def sklearn_to_torch(mlp):
    activation = {"relu": nn.ReLU, "tanh": nn.Tanh, "logistic": nn.Sigmoid, "identity": nn.Identity}[mlp.activation]
    modules, state = [], {}
    for W, b in zip(mlp.coefs_, mlp.intercepts_):
        state[f"{len(modules)}.weight"] = torch.tensor(W.T)
        state[f"{len(modules)}.bias"] = torch.tensor(b)
        modules += [nn.Linear(*W.shape).double(), activation()]
    net = nn.Sequential(*modules[:-1])
    net.load_state_dict(state)
    return net
'''),
]
