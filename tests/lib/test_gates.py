"""nnref.gates against torch autograd, state handling and bad input."""

import numpy as np
import pytest
import torch

from nnref.gates import AddGate, MultiplyGate, SigmoidGate
from torch_oracle import assert_close, assert_matches_torch

RNG = np.random.default_rng(11)


@pytest.mark.parametrize("shape", [(), (5,), (3, 4)])
@pytest.mark.parametrize("gate_cls, torch_op", [(MultiplyGate, torch.mul), (AddGate, torch.add)])
def test_binary_gates_match_torch(shape, gate_cls, torch_op):
    x, y = RNG.standard_normal(shape), RNG.standard_normal(shape)
    gate = gate_cls()
    z = gate.forward(x, y)
    dout = RNG.standard_normal(shape)
    dx, dy = gate.backward(dout)
    assert np.shape(dx) == shape and np.shape(dy) == shape
    assert_matches_torch(z, [dx, dy], torch_op, x, y, upstream=dout)


@pytest.mark.parametrize("shape", [(), (4, 2)])
def test_sigmoid_gate_matches_torch(shape):
    v = RNG.standard_normal(shape) * 4
    gate = SigmoidGate()
    out = gate.forward(v)
    dout = RNG.standard_normal(shape)
    assert_matches_torch(out, [gate.backward(dout)], torch.sigmoid, v, upstream=dout)


def test_gates_compose_like_a_graph():
    # f(x, y, z) = (x·y + z)·x: x feeds two paths, so its gradient is the sum over both (lecture 000)
    x, y, z = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)
    mul1, add, mul2 = MultiplyGate(), AddGate(), MultiplyGate()
    f = mul2.forward(add.forward(mul1.forward(x, y), z), x)
    dsum, dx_direct = mul2.backward(np.ones(3))
    dprod, dz = add.backward(dsum)
    dx_path, dy = mul1.backward(dprod)
    assert_matches_torch(f, [dx_direct + dx_path, dy, dz], lambda a, b, c: (a * b + c) * a, x, y, z)


def test_gate_keeps_its_own_copies():
    x, y = RNG.standard_normal(4), RNG.standard_normal(4)
    gate = MultiplyGate()
    gate.forward(x, y)
    expected_dx, expected_dy = y.copy(), x.copy()
    x += 10.0
    y *= -1.0
    dx, dy = gate.backward(np.ones(4))
    assert_close(dx, expected_dx)
    assert_close(dy, expected_dy)


def test_backward_before_forward_is_an_error():
    for gate in (MultiplyGate(), AddGate(), SigmoidGate()):
        with pytest.raises(RuntimeError, match=f"{type(gate).__name__}.backward called before forward"):
            gate.backward(1.0)


def test_bad_gate_input_is_named():
    with pytest.raises(ValueError, match=r"x and y must have the same shape: x has shape \(3,\), y has shape \(2,\)"):
        MultiplyGate().forward(np.zeros(3), np.zeros(2))
    gate = AddGate()
    gate.forward(np.zeros(3), np.ones(3))
    with pytest.raises(ValueError, match=r"dout must have the shape of the forward output \(3,\), got shape \(4,\)"):
        gate.backward(np.zeros(4))
    with pytest.raises(ValueError, match="y contains 1 NaN or infinite"):
        AddGate().forward(1.0, float("nan"))
    with pytest.raises(TypeError, match="x must be a numeric array, got str"):
        MultiplyGate().forward("2", 3.0)
