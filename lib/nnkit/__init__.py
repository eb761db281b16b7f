"""Student toolkit for the Neural Network Foundations course.

Everything here is safe to import from a released notebook: datasets, plots, the numerical gradient
check, progress bars and the helpers the visible tests use. The answers live elsewhere and are never
installed in a student environment.
"""

__version__ = "0.1.0"
