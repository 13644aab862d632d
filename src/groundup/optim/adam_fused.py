"""One-pass Adam/AdamW kernel (numba), the ``fused=True`` path of :mod:`groundup.optim.adam`.

The multi-tensor path reads and writes each state tensor several times (lerp, mul, addcmul,
sqrt, div, add, addcdiv: ~7 passes over memory); this kernel does every element's whole update
in registers, one pass, threads over elements. Scalars are rounded to the tensor's dtype
and each element goes through the same operations in the same order as the per-tensor
reference, but torch's vectorised kernels fuse some of them (its lerp is an FMA), so results
differ in the last bit on some elements; over 1,000 steps on the test model that grows to
~1e-5 relative (the tests state the tolerance), while the per-tensor and foreach paths match
torch bit for bit. Tensors that numba cannot take (non-CPU, non-contiguous, not
float32/float64) go to the multi-tensor path.
"""
from __future__ import annotations

import math

import numba
import numpy as np
import torch
from torch import Tensor


def _adam_update(p, g, m, v, vmax, sign, lr_bc1, one_m_b1, beta2, one_m_b2, eps, sqrt_bc2, decay,
                 l2, amsgrad):  # pragma: no cover - compiled
    for k in numba.prange(p.size):
        gk = sign * g[k]                        # sign = -1 when maximize
        pk = p[k] * decay                       # decoupled decay (decay = 1 when off)
        gk = gk + l2 * pk                       # L2 in the gradient (l2 = 0 when off)
        mk = m[k] + one_m_b1 * (gk - m[k])      # lerp: b1 m + (1 - b1) g
        vk = beta2 * v[k] + one_m_b2 * gk * gk
        m[k] = mk
        v[k] = vk
        if amsgrad:                             # loop-invariant: LLVM unswitches it
            vk = max(vmax[k], vk)
            vmax[k] = vk
        p[k] = pk - lr_bc1 * mk / (np.sqrt(vk) / sqrt_bc2 + eps)


# error_model="numpy": no zero-division checks inside the loop, which would block SIMD
# (with them the loop ran ~15x slower)
_adam_serial = numba.njit(cache=True, error_model="numpy")(_adam_update)
_adam_parallel = numba.njit(parallel=True, cache=True, error_model="numpy")(_adam_update)
PARALLEL_MIN = 1 << 22     # one SIMD pass is memory-bound; threads only pay off on huge tensors

_DTYPES = (torch.float32, torch.float64)


def _fits(*ts: Tensor | None) -> bool:
    return all(t is None or (t.device.type == "cpu" and t.dtype in _DTYPES and t.is_contiguous())
               for t in ts)


def adam_fused(params, grads, m, v, vmax, steps, *, lr, beta1, beta2, eps, weight_decay,
               amsgrad, maximize, decoupled, decay_scale) -> list[int]:
    """Same contract as :func:`groundup.optim.adam.adam_single`, for the tensors the kernel
    takes (CPU, float32/64, contiguous, grad of the parameter's dtype); returns the indices of
    the others, which the caller updates with the foreach route."""
    rest = []
    for k, p in enumerate(params):
        g = grads[k]
        if not (_fits(p, g, m[k], v[k], vmax[k]) and g.dtype == p.dtype):
            rest.append(k)
            continue
        decay = 1.0 - decay_scale * weight_decay if (decoupled and weight_decay) else 1.0
        l2 = 0.0 if decoupled else weight_decay
        bc1 = 1.0 - beta1 ** steps[k]
        bc2 = 1.0 - beta2 ** steps[k]
        flat = lambda t: t.detach().view(-1).numpy()  # noqa: E731 - shares memory
        vm = flat(vmax[k]) if amsgrad else np.empty(0, dtype=flat(p).dtype)
        s = flat(p).dtype.type     # scalars in the tensor's precision, as torch's kernels
        kernel = _adam_parallel if p.numel() >= PARALLEL_MIN else _adam_serial
        kernel(flat(p), flat(g), flat(m[k]), flat(v[k]), vm, s(-1.0 if maximize else 1.0), s(lr / bc1),
               s(1 - beta1), s(beta2), s(1 - beta2), s(eps), s(math.sqrt(bc2)), s(decay), s(l2), amsgrad)
    return rest
