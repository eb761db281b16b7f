"""Student toolkit for the Neural Network Foundations course.

Everything here is safe to import from a released notebook: datasets, plots, the numerical gradient
check, progress bars and the helpers the visible tests use, and the numerical tools every notebook
shares instead of redefining them: ``nnkit.numerics`` (stable sigmoid, softmax, log-softmax, cross-entropy,
accuracy), ``nnkit.batches`` (mini-batches of an epoch) and ``nnkit.oracle`` (torch autograd as an
oracle for visible checks). The answers live elsewhere and are never installed in a student environment.
"""

__version__ = "0.1.0"
