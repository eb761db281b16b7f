"""Performance benchmarks of the course package: ``make bench`` (``python -m benchmarks``).

Groups (``python -m benchmarks --only GROUP ...``):

* ``epoch``: one epoch of the 784-512-256-10 MLP (batch 128, float32, SGD with momentum) on MNIST,
  the reference ``nnref.mlp.MLP`` against the same network in PyTorch, alternated in one process with
  the same number of threads; the metric is the ratio of the medians.
* ``mnist``: the homework 2 reference recipes (``nnref.recipes``) trained from scratch on the full
  training set, each in a fresh process: test accuracy, seconds, peak resident memory.
* ``grading``: in a scratch copy of the course, the autograding time of the all-correct submission
  of every assignment, and a simulated class graded serially and with two jobs.

Results go to ``benchmarks/results.json`` (metrics of groups that were not run are kept from the last
run) and a table with each metric's target and pass/fail is printed. Timings on a shared machine are
noisy: the table shows medians and the load average is recorded next to them.
"""
