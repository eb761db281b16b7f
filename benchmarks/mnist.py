"""The homework 2 reference recipes trained from scratch on the full MNIST training set.

Each recipe runs in a fresh Python process (``python -m benchmarks.mnist numpy|torch``), so its time
includes nothing of the other one and its peak resident memory (``ru_maxrss``) is its own. The child
prints one JSON line: test accuracy, training seconds, peak RSS in MiB, and whether the recipe's time
budget stopped it.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

RECIPES = ("numpy", "torch")


def _train(recipe_name: str) -> dict:
    from nnkit.mnist import load_mnist
    from nnref import recipes

    (X_train, y_train), (X_test, y_test) = load_mnist()
    started = time.perf_counter()
    if recipe_name == "numpy":
        params, history = recipes.train_numpy_recipe(X_train, y_train)
        seconds = time.perf_counter() - started
        accuracy = recipes.mlp_accuracy(params, X_test, y_test)
    else:
        net, history = recipes.train_torch_recipe(X_train, y_train)
        seconds = time.perf_counter() - started
        accuracy = recipes.torch_accuracy(net, X_test, y_test)
    return {
        "test_accuracy": float(accuracy),
        "seconds": seconds,
        "epochs": len(history["train_loss"]),
        "stopped_by_budget": bool(history.get("stopped_by_budget", False)),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # Linux: KiB
    }


def run(*, log=print) -> dict:
    """Train both recipes, one fresh process each; returns the metrics and each child's report."""
    reports = {}
    for name in RECIPES:
        log(f"  training the {name} recipe on the full training set")
        child = subprocess.run([sys.executable, "-m", "benchmarks.mnist", name], capture_output=True, text=True,
                               env=os.environ.copy(), check=False)
        if child.returncode != 0:
            raise RuntimeError(f"the {name} recipe failed:\n{child.stdout[-2000:]}{child.stderr[-2000:]}")
        reports[name] = json.loads(child.stdout.strip().splitlines()[-1])
        log(f"  {name}: {reports[name]}")
    numpy_run, torch_run = reports["numpy"], reports["torch"]
    return {
        "mnist_numpy_test_accuracy": numpy_run["test_accuracy"],
        "mnist_numpy_seconds": numpy_run["seconds"],
        "mnist_torch_test_accuracy": torch_run["test_accuracy"],
        "mnist_torch_seconds": torch_run["seconds"],
        "mnist_time_ratio_numpy_over_torch": numpy_run["seconds"] / torch_run["seconds"],
        "peak_rss_mb": max(numpy_run["peak_rss_mb"], torch_run["peak_rss_mb"]),
    }, reports


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in RECIPES:
        sys.exit(f"usage: python -m benchmarks.mnist {{{'|'.join(RECIPES)}}}")
    print(json.dumps(_train(sys.argv[1])))
