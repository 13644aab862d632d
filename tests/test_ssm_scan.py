"""The chunked scan and the selective scan against their sequential twins (values and grads)."""
from __future__ import annotations

import pytest
import torch

from groundup.nn.ssm import linear_scan, linear_scan_ref, selective_scan, selective_scan_ref


@pytest.mark.parametrize("L", [1, 2, 7, 64, 100, 257])
@pytest.mark.parametrize("chunk", [None, 1, 3, 16])
def test_linear_scan_matches_reference_real(L, chunk):
    g = torch.Generator().manual_seed(L)
    a = torch.rand(3, 5, L, generator=g, dtype=torch.float64) * 1.2 - 0.1  # includes negatives and |a|>1
    b = torch.randn(3, 5, L, generator=g, dtype=torch.float64)
    h0 = torch.randn(3, 5, generator=g, dtype=torch.float64)
    torch.testing.assert_close(linear_scan(a, b, h0, chunk=chunk), linear_scan_ref(a, b, h0), rtol=1e-10, atol=1e-10)


def test_linear_scan_complex_and_grads():
    g = torch.Generator().manual_seed(0)
    a = torch.polar(torch.rand(4, 37, generator=g, dtype=torch.float64), torch.randn(4, 37, generator=g, dtype=torch.float64))
    b = torch.randn(4, 37, generator=g, dtype=torch.complex128)
    h0 = torch.randn(4, generator=g, dtype=torch.complex128)
    torch.testing.assert_close(linear_scan(a, b, h0), linear_scan_ref(a, b, h0))
    # gradients of a real loss through the complex scan
    a1, b1 = a.clone().requires_grad_(), b.clone().requires_grad_()
    a2, b2 = a.clone().requires_grad_(), b.clone().requires_grad_()
    linear_scan(a1, b1).abs().sum().backward()
    linear_scan_ref(a2, b2).abs().sum().backward()
    torch.testing.assert_close(a1.grad, a2.grad)
    torch.testing.assert_close(b1.grad, b2.grad)


def _inputs(bsz=2, d=6, n=4, L=53, selective=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    u = torch.randn(bsz, d, L, generator=g)
    delta = torch.randn(bsz, d, L, generator=g) * 0.5
    A = -torch.rand(d, n, generator=g) * 2 - 0.1
    if selective:
        B, C = torch.randn(bsz, n, L, generator=g), torch.randn(bsz, n, L, generator=g)
    else:
        B, C = torch.randn(d, n, generator=g), torch.randn(d, n, generator=g)
    D = torch.randn(d, generator=g)
    z = torch.randn(bsz, d, L, generator=g)
    bias = torch.randn(d, generator=g) * 0.1
    return u, delta, A, B, C, D, z, bias


# the CPU kernel covers the selective case; time-invariant B, C always use the chunked scan
@pytest.mark.parametrize("impl,selective", [("cpu", True), ("chunked", True), ("chunked", False)])
@pytest.mark.parametrize("with_extras", [True, False])
def test_selective_scan_matches_reference_values_and_grads(selective, with_extras, impl):
    u, delta, A, B, C, D, z, bias = _inputs(selective=selective)
    if not with_extras:
        D = z = bias = None
        delta = delta.abs()
    leaves = [t for t in (u, delta, A, B, C, D, z, bias) if t is not None]
    outs = []
    for fn in (selective_scan, selective_scan_ref):
        xs = [t.clone().requires_grad_() for t in leaves]
        it = iter(xs)
        args = [next(it) if t is not None else None for t in (u, delta, A, B, C, D, z, bias)]
        kw = {"impl": impl} if fn is selective_scan else {}
        y, last = fn(*args[:5], D=args[5], z=args[6], delta_bias=args[7], delta_softplus=with_extras,
                     return_last_state=True, **kw)
        (y.pow(2).sum() + last.sum()).backward()
        outs.append((y.detach(), last.detach(), [x.grad for x in xs]))
    (y1, s1, g1), (y2, s2, g2) = outs
    torch.testing.assert_close(y1, y2, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(s1, s2, rtol=1e-4, atol=1e-4)
    for a, b in zip(g1, g2):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_selective_scan_shape_errors():
    u, delta, A, B, C, *_ = _inputs()
    with pytest.raises(ValueError, match="A must be"):
        selective_scan(u, delta, A[:3], B, C)
    with pytest.raises(ValueError, match="B must be"):
        selective_scan(u, delta, A, B[:, :, :10], C)


@pytest.mark.parametrize("impl", ["cpu", "chunked"])
def test_selective_scan_continues_from_an_initial_state(impl):
    """Scanning [first half] then [second half from the first half's last state] equals one scan,
    and gradients reach h0 as the reference's do."""
    u, delta, A, B, C, D, z, _ = _inputs(L=40)
    full = selective_scan(u, delta, A, B, C, D=D, z=z, impl=impl)
    y1, h = selective_scan(u[..., :25], delta[..., :25], A, B[..., :25], C[..., :25], D=D, z=z[..., :25],
                           return_last_state=True, impl=impl)
    y2 = selective_scan(u[..., 25:], delta[..., 25:], A, B[..., 25:], C[..., 25:], D=D, z=z[..., 25:],
                        h0=h, impl=impl)
    torch.testing.assert_close(torch.cat([y1, y2], -1), full, rtol=1e-4, atol=1e-4)
    h0 = torch.randn(u.shape[0], u.shape[1], A.shape[1], requires_grad=True)
    h0r = h0.detach().clone().requires_grad_()
    selective_scan(u, delta, A, B, C, h0=h0, impl=impl).pow(2).sum().backward()
    selective_scan_ref(u, delta, A, B, C, h0=h0r).pow(2).sum().backward()
    torch.testing.assert_close(h0.grad, h0r.grad, rtol=1e-4, atol=1e-4)


def test_cpu_kernel_serial_build_at_one_thread_equals_the_parallel_one():
    """At torch's one thread the scan runs numba's serial build (no thread pool spinning beside
    torch's); both builds give the same values and gradients."""
    import groundup.nn.ssm.selective_scan_cpu as cpu

    g = torch.Generator().manual_seed(3)
    b, d, n, L = 2, 6, 4, 33
    u = torch.randn(b, d, L, generator=g, requires_grad=True)
    delta = torch.rand(b, d, L, generator=g) * 0.5
    A = -torch.rand(d, n, generator=g)
    B, C = torch.randn(b, n, L, generator=g), torch.randn(b, n, L, generator=g)
    before = torch.get_num_threads()
    outs = {}
    try:
        for threads in (1, 2):
            torch.set_num_threads(threads)
            assert (cpu._kernels() is cpu._build(parallel=False)) == (threads == 1 or cpu._threads() == 1)
            y, last = cpu.SelectiveScanCPU.apply(u, delta, A, B, C, torch.zeros(b, d, n))
            (gu,) = torch.autograd.grad((y.square().sum() + last.sum()), u)
            outs[threads] = (y.detach(), last.detach(), gu)
    finally:
        torch.set_num_threads(before)
    for x1, x2 in zip(outs[1], outs[2]):
        torch.testing.assert_close(x1, x2, rtol=0, atol=1e-6)
