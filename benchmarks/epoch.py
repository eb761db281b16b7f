"""One training epoch of the 784-512-256-10 MLP: the numpy reference against PyTorch.

Both networks train on the MNIST training set (float32, batch 128, SGD with lr 0.05 and momentum
0.9, shuffled every epoch) with the same number of BLAS/OpenMP threads. The epochs alternate in one
process (the first of each pair alternates too, so neither side always runs on a warm or a cold
cache) and the metric is median(numpy) / median(torch) over ``repeats`` epochs each.

The networks keep training from one repeat to the next. From the second epoch on, the momentum of
pixels that are never on decays into subnormal floats; the numpy SGD sets them to zero every 16 steps
(``nnref.optimizers.SUBNORMAL_FLUSH_INTERVAL``), torch keeps them, as its default does.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch
from threadpoolctl import threadpool_limits
from torch.nn import functional as F

from nnkit.mnist import load_mnist
from nnref.mlp import MLP
from nnref.optimizers import SGD
from nnref.training import iterate_minibatches

LAYER_SIZES = (784, 512, 256, 10)
BATCH_SIZE = 128
LR, MOMENTUM = 0.05, 0.9


def numpy_network(rng):
    model = MLP(list(LAYER_SIZES), activation="relu", rng=rng, dtype=np.float32)
    return model, SGD(model.params, lr=LR, momentum=MOMENTUM)


def torch_network(numpy_params):
    """The same network in PyTorch, starting from the numpy network's weights (``Linear`` stores Wᵀ)."""
    layers = []
    for fan_in, fan_out in zip(LAYER_SIZES[:-1], LAYER_SIZES[1:]):
        layers += [torch.nn.Linear(fan_in, fan_out), torch.nn.ReLU()]
    net = torch.nn.Sequential(*layers[:-1])
    linears = [layer for layer in net if isinstance(layer, torch.nn.Linear)]
    with torch.no_grad():
        for linear, weights, bias in zip(linears, numpy_params[::2], numpy_params[1::2]):
            linear.weight.copy_(torch.from_numpy(weights.T))
            linear.bias.copy_(torch.from_numpy(bias))
    return net, torch.optim.SGD(net.parameters(), lr=LR, momentum=MOMENTUM)


def numpy_epoch(model, optimizer, X, y, rng, max_batches=None):
    for count, (X_batch, y_batch) in enumerate(iterate_minibatches(X, y, BATCH_SIZE, rng)):
        if count == max_batches:
            break
        _, grads = model.loss_and_grads(X_batch, y_batch)
        optimizer.step(grads)


def torch_epoch(net, optimizer, X, y, generator, max_batches=None):
    for count, batch in enumerate(torch.randperm(len(X), generator=generator).split(BATCH_SIZE)):
        if count == max_batches:
            break
        optimizer.zero_grad()
        F.cross_entropy(net(X[batch]), y[batch]).backward()
        optimizer.step()


def _timed(run):
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    return time.perf_counter() - wall, time.process_time() - cpu


def run(*, repeats=5, threads=None, log=print) -> dict:
    """Alternate ``repeats`` numpy and torch epochs; returns the metrics and the raw timings."""
    (X, y), _ = load_mnist()
    X = X.astype(np.float32, copy=False)
    threads = threads or torch.get_num_threads()
    previous_torch_threads = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(threads):
            rng = np.random.default_rng(0)
            model, optimizer = numpy_network(rng)
            net, torch_optimizer = torch_network(model.params)
            X_torch, y_torch = torch.from_numpy(X), torch.from_numpy(y)
            generator = torch.Generator().manual_seed(0)
            runs = {
                "numpy": lambda: numpy_epoch(model, optimizer, X, y, rng),
                "torch": lambda: torch_epoch(net, torch_optimizer, X_torch, y_torch, generator),
            }
            numpy_epoch(model, optimizer, X, y, rng, max_batches=20)  # warm-up: allocator, BLAS buffers
            torch_epoch(net, torch_optimizer, X_torch, y_torch, generator, max_batches=20)
            wall = {name: [] for name in runs}
            cpu = {name: [] for name in runs}
            for repeat in range(repeats):
                order = ("numpy", "torch") if repeat % 2 == 0 else ("torch", "numpy")
                for name in order:
                    seconds, cpu_seconds = _timed(runs[name])
                    wall[name].append(seconds)
                    cpu[name].append(cpu_seconds)
                    log(f"  epoch {repeat + 1}/{repeats} {name}: {seconds:.2f} s wall, {cpu_seconds:.2f} s cpu")
    finally:
        torch.set_num_threads(previous_torch_threads)
    median = {name: statistics.median(times) for name, times in wall.items()}
    cpu_median = {name: statistics.median(times) for name, times in cpu.items()}
    return {
        "mlp_epoch_ratio_numpy_over_torch": median["numpy"] / median["torch"],
        "mlp_epoch_numpy_seconds": median["numpy"],
        "mlp_epoch_torch_seconds": median["torch"],
        "mlp_epoch_cpu_ratio_numpy_over_torch": cpu_median["numpy"] / cpu_median["torch"],
    }, {"threads": threads, "repeats": repeats, "wall_seconds": wall, "cpu_seconds": cpu}
