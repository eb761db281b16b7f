"""``make bench``: run the benchmarks, write ``benchmarks/results.json``, print the table of targets."""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from pathlib import Path

from .targets import flatten, passed, table

RESULTS = Path(__file__).resolve().parent / "results.json"
GROUPS = ("epoch", "mnist", "grading")


def _environment() -> dict:
    import numpy
    import torch

    return {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cpu_count": os.cpu_count(),
        "load_average": [round(load, 2) for load in os.getloadavg()],
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch.__version__,
    }


def _run_group(name: str, args) -> tuple[dict, dict]:
    if name == "epoch":
        from . import epoch
        return epoch.run(repeats=args.repeats, threads=args.threads)
    if name == "mnist":
        from . import mnist
        return mnist.run()
    from . import grading
    return grading.run(assignments=args.assignment, students=args.students, jobs=args.jobs,
                       with_class=not args.no_class)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--only", choices=GROUPS, action="append", help="run only this group (repeatable)")
    parser.add_argument("--repeats", type=int, default=5, help="epochs per side in 'epoch' (median; default 5)")
    parser.add_argument("--threads", type=int, default=None, help="threads of both sides in 'epoch' (default: torch's)")
    parser.add_argument("--students", type=int, default=8, help="simulated class size in 'grading' (default 8)")
    parser.add_argument("--jobs", type=int, default=2, help="parallel grading jobs (default 2)")
    parser.add_argument("-a", "--assignment", action="append", help="grade only this assignment (repeatable)")
    parser.add_argument("--no-class", action="store_true", help="skip the serial/parallel class grading")
    args = parser.parse_args(argv)

    results = json.loads(RESULTS.read_text()) if RESULTS.is_file() else {}
    metrics = results.get("metrics", {})
    details = results.get("details", {})
    environment = {"before": _environment()}
    for name in args.only or GROUPS:
        print(f"[{name}]", flush=True)
        group_metrics, details[name] = _run_group(name, args)
        metrics.update(group_metrics)
    environment["after"] = _environment()
    flat = flatten(metrics)
    results = {"metrics": metrics, "passed": {name: passed(name, value) for name, value in flat.items()},
               "details": details, "environment": environment}
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(table(metrics))
    print(f"load average before/after: {environment['before']['load_average']} / "
          f"{environment['after']['load_average']} on {os.cpu_count()} CPUs; written to {RESULTS.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
