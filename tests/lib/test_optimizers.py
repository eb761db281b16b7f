"""nnref.optimizers against torch.optim, step for step.

Every optimizer runs 25 steps on four parameters of different shapes (including a 0-d one) with a fixed
gradient sequence (one gradient exactly zero, to exercise the eps handling); parameters and state
must equal torch's after every step.
"""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from nnref import optimizers as opt

SHAPES = [(3, 4), (5,), (2, 3, 2), ()]
N_STEPS = 25
RTOL, ATOL = 1e-10, 1e-13

# torch's state key for each of ours (they are named alike on purpose)
STATE_KEYS = {
    opt.SGD: ["momentum_buffer"],
    opt.Adagrad: ["sum"],
    opt.RMSprop: ["square_avg", "momentum_buffer", "grad_avg"],
    opt.Adam: ["exp_avg", "exp_avg_sq"],
    opt.AdamW: ["exp_avg", "exp_avg_sq"],
}
TORCH = {
    opt.SGD: torch.optim.SGD,
    opt.Adagrad: torch.optim.Adagrad,
    opt.RMSprop: torch.optim.RMSprop,
    opt.Adam: torch.optim.Adam,
    opt.AdamW: torch.optim.AdamW,
}


def make_problem(seed=0, n_steps=N_STEPS, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=s).astype(dtype) for s in SHAPES]
    grads = [[rng.normal(size=s).astype(dtype) for s in SHAPES] for _ in range(n_steps)]
    grads[3][1] = np.zeros(SHAPES[1], dtype=dtype)
    return params, grads


def assert_same_trajectory(cls, kwargs, *, dtype=np.float64, rtol=RTOL, atol=ATOL, seed=0):
    """Run ours and torch's side by side; compare params and state after every step."""
    params, grads = make_problem(seed, dtype=dtype)
    ours = [p.copy() for p in params]
    optimizer = cls(ours, **kwargs)
    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    reference = TORCH[cls](theirs, **kwargs)
    for step, grad_list in enumerate(grads):
        optimizer.step(grad_list)
        for t, g in zip(theirs, grad_list):
            t.grad = torch.tensor(g)
        reference.step()
        for i, (p, t) in enumerate(zip(ours, theirs)):
            where = f"{cls.__name__}({kwargs}) step {step + 1}, param {i}"
            np.testing.assert_allclose(p, t.detach().numpy(), rtol=rtol, atol=atol, err_msg=where)
            for key in STATE_KEYS[cls]:
                if key in reference.state[t]:
                    np.testing.assert_allclose(
                        optimizer.state[i][key],
                        reference.state[t][key].numpy(),
                        rtol=rtol,
                        atol=atol,
                        err_msg=f"{where}, state {key}",
                    )


SGD_SETTINGS = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.1, weight_decay=0.05),
    dict(lr=0.02, momentum=0.5, nesterov=True, weight_decay=0.01),
    dict(lr=0.03, momentum=0.8, dampening=0.5, weight_decay=0.1),
]
ADAGRAD_SETTINGS = [
    dict(lr=0.1),
    dict(lr=0.1, lr_decay=0.05),
    dict(lr=0.1, initial_accumulator_value=0.3),
    dict(lr=0.2, weight_decay=0.1),
    dict(lr=0.1, eps=1e-3, lr_decay=0.01, weight_decay=0.02, initial_accumulator_value=0.1),
]
RMSPROP_SETTINGS = [
    dict(lr=0.01),
    dict(lr=0.01, centered=True),
    dict(lr=0.01, momentum=0.9),
    dict(lr=0.01, alpha=0.9, eps=1e-4),
    dict(lr=0.005, alpha=0.95, momentum=0.5, centered=True, weight_decay=0.1),
    dict(lr=0.01, weight_decay=0.05),
]
ADAM_SETTINGS = [
    dict(lr=0.01),
    dict(lr=0.01, betas=(0.8, 0.95)),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.01),
]
ADAMW_SETTINGS = [dict(lr=0.01), dict(lr=0.05, weight_decay=0.3, betas=(0.85, 0.99))]

CASES = (
    [(opt.SGD, k) for k in SGD_SETTINGS]
    + [(opt.Adagrad, k) for k in ADAGRAD_SETTINGS]
    + [(opt.RMSprop, k) for k in RMSPROP_SETTINGS]
    + [(opt.Adam, k) for k in ADAM_SETTINGS]
    + [(opt.AdamW, k) for k in ADAMW_SETTINGS]
)


@pytest.mark.parametrize("cls, kwargs", CASES, ids=lambda v: v.__name__ if isinstance(v, type) else str(v))
def test_equals_torch_step_for_step(cls, kwargs):
    assert_same_trajectory(cls, kwargs)


@pytest.mark.parametrize("cls", [opt.SGD, opt.Adagrad, opt.RMSprop, opt.Adam, opt.AdamW])
def test_default_hyperparameters_equal_torch(cls):
    # only SGD has no default learning rate
    assert_same_trajectory(cls, {"lr": 0.1} if cls is opt.SGD else {})


@pytest.mark.parametrize("cls, kwargs", [(opt.SGD, dict(lr=0.1, momentum=0.9)), (opt.Adam, dict(lr=0.01))])
def test_float32_stays_float32_and_matches_torch(cls, kwargs):
    params, grads = make_problem(dtype=np.float32)
    optimizer = cls([p.copy() for p in params], **kwargs)
    optimizer.step(grads[0])
    assert all(p.dtype == np.float32 for p in optimizer.params)
    assert_same_trajectory(cls, kwargs, dtype=np.float32, rtol=1e-5, atol=1e-6)


@settings(max_examples=15, deadline=None)
@given(
    lr=st.floats(1e-3, 0.5),
    momentum=st.floats(0.0, 0.99),
    dampening=st.floats(0.0, 0.9),
    nesterov=st.booleans(),
    weight_decay=st.sampled_from([0.0, 1e-3, 0.1]),
)
def test_sgd_random_hyperparameters(lr, momentum, dampening, nesterov, weight_decay):
    if nesterov and momentum == 0:
        momentum = 0.5
    kwargs = dict(lr=lr, momentum=momentum, weight_decay=weight_decay, nesterov=nesterov)
    kwargs["dampening"] = 0.0 if nesterov else dampening
    assert_same_trajectory(opt.SGD, kwargs)


@settings(max_examples=10, deadline=None)
@given(
    beta1=st.floats(0.0, 0.99),
    beta2=st.floats(0.5, 0.9999),
    eps=st.sampled_from([1e-8, 1e-4, 0.1]),
    decoupled=st.booleans(),
)
def test_adam_random_hyperparameters(beta1, beta2, eps, decoupled):
    cls = opt.AdamW if decoupled else opt.Adam
    assert_same_trajectory(cls, dict(lr=0.01, betas=(beta1, beta2), eps=eps, weight_decay=0.05))


def test_step_updates_in_place_and_never_touches_grads():
    params, grads = make_problem()
    originals = [p for p in params]
    grads_before = [[g.copy() for g in gl] for gl in grads]
    for cls in (opt.SGD, opt.Adagrad, opt.RMSprop, opt.Adam, opt.AdamW):
        kwargs = dict(lr=0.1, weight_decay=0.1)
        if cls in (opt.SGD, opt.RMSprop):
            kwargs["momentum"] = 0.9
        optimizer = cls(params, **kwargs)
        before = [p.copy() for p in params]
        for grad_list in grads[:3]:
            optimizer.step(grad_list)
        assert all(p is o for p, o in zip(optimizer.params, originals)), cls.__name__
        assert not np.allclose(params[0], before[0]), f"{cls.__name__} did not update in place"
    for gl, gl_before in zip(grads, grads_before):
        for g, g0 in zip(gl, gl_before):
            np.testing.assert_array_equal(g, g0)


@pytest.mark.parametrize("cls, kwargs", [(opt.SGD, dict(lr=0.1, momentum=0.9)), (opt.Adam, dict(lr=0.01))])
def test_non_contiguous_and_mixed_dtype_params_update_in_place_like_contiguous_ones(cls, kwargs):
    # BLAS updates need C-contiguous arrays of one dtype; anything else must take the numpy path,
    # still in place and with the same numbers.
    rng = np.random.default_rng(7)
    weights = rng.normal(size=(4, 6))
    transposed = np.asfortranarray(weights).T  # a view that is not C-contiguous
    float32_grads = [rng.normal(size=(6, 4)).astype(np.float32) for _ in range(3)]
    contiguous = [np.ascontiguousarray(transposed)]
    odd, plain = cls([transposed], **kwargs), cls(contiguous, **kwargs)
    for grad in float32_grads:
        odd.step([grad])
        plain.step([grad.astype(np.float64)])
    assert odd.params[0] is transposed
    np.testing.assert_allclose(transposed, contiguous[0], rtol=1e-12, atol=1e-12)
    assert not np.allclose(transposed, weights.T)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sgd_flushes_subnormal_momentum_and_keeps_its_trajectory(dtype, monkeypatch):
    # a weight whose gradient becomes 0 for good (a pixel never on again): its momentum decays as μᵏ
    # through the subnormal floats, which torch keeps and SGD sets to 0 every SUBNORMAL_FLUSH_INTERVAL steps
    tiny, rtol = np.finfo(dtype).tiny, 4 * np.finfo(dtype).eps
    momentum = 0.9 if dtype == np.float32 else 0.5  # float64 needs a faster decay to reach 2.2e-308
    start = np.linspace(-1.0, 1.0, 64).astype(dtype)
    first_grad = np.linspace(0.5, 2.0, 64).astype(dtype) * dtype(1e-3)
    flushed = opt.SGD([start.copy()], lr=0.05, momentum=momentum)
    kept = opt.SGD([start.copy()], lr=0.05, momentum=momentum)
    theirs = [torch.tensor(start, requires_grad=True)]
    reference = torch.optim.SGD(theirs, lr=0.05, momentum=momentum)
    subnormal_entry_steps = {"ours": 0, "torch": 0}  # Σ over steps of the subnormal entries
    for step in range(1, 1201):
        grad = first_grad if step == 1 else np.zeros_like(first_grad)
        flushed.step([grad])
        with monkeypatch.context() as patch:
            patch.setattr(opt, "SUBNORMAL_FLUSH_INTERVAL", 10**9)
            kept.step([grad])
        theirs[0].grad = torch.tensor(grad)
        reference.step()
        buf = flushed.state[0]["momentum_buffer"]
        torch_buf = reference.state[theirs[0]]["momentum_buffer"].numpy()
        for name, values in (("ours", buf), ("torch", torch_buf)):
            subnormal_entry_steps[name] += int(np.count_nonzero((values != 0) & (np.abs(values) < tiny)))
        if step % opt.SUBNORMAL_FLUSH_INTERVAL == 0:
            assert not np.any((buf != 0) & (np.abs(buf) < tiny)), f"subnormals left after step {step}"
        np.testing.assert_array_less(np.abs(buf - torch_buf), tiny * (1 + rtol))
        np.testing.assert_array_equal(flushed.params[0], kept.params[0])  # the flush never moves a weight
        np.testing.assert_allclose(flushed.params[0], theirs[0].detach().numpy(), rtol=rtol)
    # torch keeps each one for ~50 (float64) to ~150 (float32) steps, the flush for at most 15
    assert 0 < subnormal_entry_steps["ours"] * 3 < subnormal_entry_steps["torch"], subnormal_entry_steps


def test_sgd_flush_keeps_small_normal_float64_momentum_of_a_float32_param():
    # float64 gradients give a float32 weight a float64 buffer: 1e-300 is normal there and must survive
    param = np.ones(4, dtype=np.float32)
    sgd = opt.SGD([param], lr=0.05, momentum=0.5)
    grad = np.array([1e-300, 1e-310, 0.0, 1.0])
    for _ in range(opt.SUBNORMAL_FLUSH_INTERVAL):
        sgd.step([grad])
    buf = sgd.state[0]["momentum_buffer"]
    assert buf.dtype == np.float64
    np.testing.assert_array_equal(buf[[1, 2]], 0.0)  # 1e-310 (subnormal in float64) is flushed
    np.testing.assert_allclose(buf[[0, 3]], [2e-300, 2.0], rtol=1e-4)  # Σ 0.5ᵏ over 16 steps ≈ 2


def test_learning_rate_can_change_between_steps_like_a_torch_param_group():
    params, grads = make_problem()
    ours = [p.copy() for p in params]
    optimizer = opt.SGD(ours, lr=0.1, momentum=0.9)
    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    reference = torch.optim.SGD(theirs, lr=0.1, momentum=0.9)
    for step, grad_list in enumerate(grads):
        optimizer.lr = reference.param_groups[0]["lr"] = 0.1 / (1 + step)
        optimizer.step(grad_list)
        for t, g in zip(theirs, grad_list):
            t.grad = torch.tensor(g)
        reference.step()
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p, t.detach().numpy(), rtol=RTOL, atol=ATOL)


# --- schedules ----------------------------------------------------------------------------------


def _torch_schedule_lrs(make_scheduler, n_epochs, lr):
    dummy = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([dummy], lr=lr)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(n_epochs):
        lrs.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    return lrs


def test_step_decay_equals_torch_steplr():
    ours = opt.step_decay(0.3, factor=0.5, every=4)
    expected = _torch_schedule_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=4, gamma=0.5), 15, 0.3)
    np.testing.assert_allclose([ours(e) for e in range(15)], expected, rtol=1e-14)


def test_exponential_decay_equals_torch_exponentiallr():
    ours = opt.exponential_decay(0.2, gamma=0.9)
    expected = _torch_schedule_lrs(lambda o: torch.optim.lr_scheduler.ExponentialLR(o, gamma=0.9), 15, 0.2)
    np.testing.assert_allclose([ours(e) for e in range(15)], expected, rtol=1e-12)


def test_inverse_time_decay_is_adagrads_lr_decay():
    # torch.optim.Adagrad(lr_decay=d) uses lr / (1 + (t - 1) d) at step t: our schedule at epoch t - 1
    schedule = opt.inverse_time_decay(0.1, decay=0.2)
    params, grads = make_problem()
    ours = [p.copy() for p in params]
    optimizer = opt.Adagrad(ours, lr=0.1)
    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    reference = torch.optim.Adagrad(theirs, lr=0.1, lr_decay=0.2)
    for step, grad_list in enumerate(grads):
        optimizer.lr = schedule(step)
        optimizer.step(grad_list)
        for t, g in zip(theirs, grad_list):
            t.grad = torch.tensor(g)
        reference.step()
    for p, t in zip(ours, theirs):
        np.testing.assert_allclose(p, t.detach().numpy(), rtol=RTOL, atol=ATOL)
    # and by hand: 0.1 / (1 + 0.2 * 3) = 0.0625
    assert schedule(3) == pytest.approx(0.0625, rel=1e-15)


@pytest.mark.parametrize(
    "factory, kwargs, match",
    [
        (opt.step_decay, dict(initial_lr=0.1, every=0), "every"),
        (opt.step_decay, dict(initial_lr=-0.1), "initial_lr"),
        (opt.exponential_decay, dict(initial_lr=0.1, gamma=-1.0), "gamma"),
        (opt.inverse_time_decay, dict(initial_lr=0.1, decay=-0.5), "decay"),
    ],
)
def test_schedule_arguments_are_validated(factory, kwargs, match):
    with pytest.raises(ValueError, match=match):
        factory(**kwargs)


def test_schedule_rejects_negative_epoch():
    with pytest.raises(ValueError, match="epoch"):
        opt.step_decay(0.1)(-1)


# --- bad input ----------------------------------------------------------------------------------


def test_wrong_number_of_grads_names_both_counts():
    optimizer = opt.SGD([np.zeros(3), np.zeros((2, 2))], lr=0.1)
    with pytest.raises(ValueError, match=r"grads has 1 arrays but params has 2"):
        optimizer.step([np.zeros(3)])


def test_wrong_grad_shape_names_index_and_shapes():
    optimizer = opt.Adam([np.zeros(3), np.zeros((2, 2))])
    with pytest.raises(ValueError, match=r"grads\[1\] has shape \(4,\) but params\[1\] has shape \(2, 2\)"):
        optimizer.step([np.zeros(3), np.zeros(4)])


def test_non_numeric_grad_is_a_type_error():
    optimizer = opt.SGD([np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match=r"grads\[0\]"):
        optimizer.step(["ab"])


def test_params_must_be_float_arrays_in_a_list():
    with pytest.raises(TypeError, match=r"params\[1\].*int64"):
        opt.SGD([np.zeros(2), np.zeros(2, dtype=np.int64)], lr=0.1)
    with pytest.raises(TypeError, match=r"params\[0\].*list"):
        opt.SGD([[0.0, 1.0]], lr=0.1)
    with pytest.raises(TypeError, match=r"single array of shape \(3,\)"):
        opt.SGD(np.zeros(3), lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        opt.Adam([])


@pytest.mark.parametrize(
    "cls, kwargs, match",
    [
        (opt.SGD, dict(lr=-0.1), "lr"),
        (opt.SGD, dict(lr=0.1, nesterov=True), "Nesterov"),
        (opt.SGD, dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "dampening"),
        (opt.SGD, dict(lr=0.1, weight_decay=-1.0), "weight_decay"),
        (opt.Adam, dict(betas=(0.9, 1.0)), r"betas\[1\]"),
        (opt.Adam, dict(betas=(0.9,)), "betas"),
        (opt.RMSprop, dict(alpha=1.5), "alpha"),
        (opt.Adagrad, dict(eps=-1.0), "eps"),
    ],
)
def test_bad_hyperparameters_raise(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls([np.zeros(2)], **kwargs)


# --- the Parameter form: zero_grad(), gradients accumulated into p.grad, step() (assignment 05) -------


@pytest.mark.parametrize("cls, kwargs", [
    (opt.SGD, {"lr": 0.05}),
    (opt.SGD, {"lr": 0.05, "momentum": 0.9}),
    (opt.SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    (opt.Adam, {"lr": 0.1, "betas": (0.8, 0.99)}),
    (opt.RMSprop, {"lr": 0.01, "alpha": 0.9}),
])
def test_parameter_objects_follow_torch_with_zero_grad_and_accumulated_gradients(cls, kwargs):
    start, grads = make_problem(seed=3, n_steps=12)
    params = [opt.Parameter(p) for p in start]
    optimizer = cls(params, **kwargs)
    tensors = [torch.tensor(p, requires_grad=True) for p in start]
    torch_optimizer = TORCH[cls](tensors, **kwargs)
    for step_grads in grads:
        optimizer.zero_grad()
        torch_optimizer.zero_grad()
        for p, tensor, g in zip(params, tensors, step_grads):
            assert np.all(p.grad == 0)
            for half in (0.25 * g, 0.75 * g):  # two backward passes add up, as torch's .grad does
                p.grad += half
                (tensor * torch.from_numpy(np.asarray(half))).sum().backward()
        optimizer.step()
        torch_optimizer.step()
        for p, tensor in zip(params, tensors):
            np.testing.assert_allclose(p.value, tensor.detach().numpy(), rtol=RTOL, atol=ATOL)


def test_parameter_copies_its_value_and_starts_with_a_zero_grad():
    value = np.arange(6).reshape(2, 3)
    p = opt.Parameter(value)
    assert p.value.dtype == np.float64 and p.grad.shape == (2, 3) and not p.grad.any()
    p.value += 1
    assert value[0, 0] == 0


def test_parameter_form_and_array_form_are_not_mixed():
    p = opt.Parameter(np.zeros(3))
    with pytest.raises(TypeError, match="not a mix"):
        opt.SGD([p, np.zeros(2)], lr=0.1)
    with pytest.raises(TypeError, match=r"call step\(\)"):
        opt.SGD([p], lr=0.1).step([np.zeros(3)])
    with pytest.raises(TypeError, match=r"step\(grads\)"):
        opt.SGD([np.zeros(3)], lr=0.1).step()
    with pytest.raises(TypeError, match="zero_grad"):
        opt.SGD([np.zeros(3)], lr=0.1).zero_grad()


def test_state_dict_is_a_copy_with_torch_names():
    params = [np.ones(3)]
    optimizer = opt.Adam(params, lr=0.1)
    optimizer.step([np.full(3, 0.5)])
    saved = optimizer.state_dict()
    torch_param = torch.ones(3, dtype=torch.float64, requires_grad=True)
    torch_optimizer = torch.optim.Adam([torch_param], lr=0.1)
    torch_param.grad = torch.full((3,), 0.5, dtype=torch.float64)
    torch_optimizer.step()
    torch_state = torch_optimizer.state_dict()["state"][0]
    assert set(saved["state"][0]) == {"step", "exp_avg", "exp_avg_sq"}
    np.testing.assert_allclose(saved["state"][0]["exp_avg"], torch_state["exp_avg"].numpy())
    assert saved["hyperparameters"]["lr"] == 0.1
    optimizer.step([np.full(3, 0.5)])
    assert saved["state"][0]["step"] == 1  # a copy: later steps do not change it
