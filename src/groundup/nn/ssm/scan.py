"""The one primitive behind every model in this package: a diagonal linear recurrence.

    h_t = a_t * h_(t-1) + b_t,      t = 0 .. L-1,   h_(-1) = h0 (default 0)

Notation: ``...`` any leading dims (batch, channels, state), L the scanned length (last dim).
``a`` and ``b`` may be real or complex (LRU uses a complex diagonal).

Two routes to one answer (STYLE.md, practice 2):

* :func:`linear_scan_ref` — the obviously correct Python loop over L steps.
* :func:`linear_scan` — a chunked scan that needs about 2*sqrt(L) Python-level steps instead of
  L, each a vectorised op over all chunks at once (the CPU analogue of the blocked scans of
  Blelloch 1990 and of Mamba-2's chunking):

  1. split L into C chunks of T steps; scan every chunk from a zero state, all chunks in
     parallel (T steps, each over a (..., C) slice);
  2. carry the chunk-final states across chunks: H_c = P_c * H_(c-1) + h_local[c, T-1], where
     P_c = prod of a over chunk c (C steps over (...) slices);
  3. fix up: h[c, t] = h_local[c, t] + cumprod(a)[c, t] * H_(c-1).

  Work stays O(L); memory stays linear in L; gradients come from autograd through plain tensor
  ops, so it runs unchanged on any device and with complex values. Tests check it against the
  reference in values and gradients.
"""
from __future__ import annotations

import math

import torch
from torch import Tensor


def linear_scan_ref(a: Tensor, b: Tensor, h0: Tensor | None = None) -> Tensor:
    """Sequential reference: returns h of the shape of ``b`` (..., L)."""
    a, b = torch.broadcast_tensors(a, b)
    h = torch.zeros_like(b[..., 0]) if h0 is None else h0.to(b.dtype).expand_as(b[..., 0])
    out = []
    # unbind, not a[..., t]: the backward of one unbind is one stack, while each indexing op's
    # backward would write a full-size zero tensor (L^2 work over the whole loop)
    for a_t, b_t in zip(a.unbind(-1), b.unbind(-1)):
        h = a_t * h + b_t
        out.append(h)
    return torch.stack(out, dim=-1)


def _chunk_size(L: int) -> int:
    return max(1, int(math.ceil(math.sqrt(L))))


def linear_scan(a: Tensor, b: Tensor, h0: Tensor | None = None, chunk: int | None = None,
                dim: int = -1) -> Tensor:
    """Chunked scan of h_t = a_t * h_(t-1) + b_t along ``dim``; same result as the reference.

    Scanning along ``dim=0`` (time-major inputs) avoids two transposing copies; callers that can
    build their inputs time-major (e.g. :func:`selective_scan`) should do so.
    """
    a, b = torch.broadcast_tensors(a, b)
    dim = dim % b.dim()
    if dim != 0:
        h = scan_time_major(a.movedim(dim, 0), b.movedim(dim, 0), h0, chunk)
        return h.movedim(0, dim)
    return scan_time_major(a, b, h0, chunk)


def scan_time_major(a: Tensor, b: Tensor, h0: Tensor | None = None, chunk: int | None = None) -> Tensor:
    """The chunked scan on time-major inputs a, b of shape (L, ...); returns h (L, ...).

    Differentiable through a hand-written backward (:class:`_ScanFn`), which is itself one
    reverse scan; only ``a`` and ``h`` are kept for it, so memory is linear in L and no
    per-step autograd graph is built.
    """
    a, b = torch.broadcast_tensors(a, b)
    if h0 is not None:
        h0 = h0.to(b.dtype).expand_as(b[0])
    if torch.is_grad_enabled() and any(t is not None and t.requires_grad for t in (a, b, h0)):
        return _ScanFn.apply(a, b, h0, chunk)
    return _chunked_scan(a, b, h0, chunk)


class _ScanFn(torch.autograd.Function):
    """h_t = a_t h_(t-1) + b_t. With g_t = dL/dh_t (total), the backward is the reverse scan

        g_t = grad_h_t + conj(a_(t+1)) g_(t+1),   dL/db_t = g_t,
        dL/da_t = g_t conj(h_(t-1)),              dL/dh0 = conj(a_0) g_0

    (conj is PyTorch's convention for complex gradients; a no-op for real tensors).
    """

    @staticmethod
    def forward(ctx, a, b, h0, chunk):
        h = _chunked_scan(a, b, h0, chunk)
        ctx.save_for_backward(a, h, h0)
        ctx.chunk = chunk
        return h

    @staticmethod
    def backward(ctx, grad_h):
        a, h, h0 = ctx.saved_tensors
        a_next = torch.cat([a[1:], a.new_zeros((1,) + a.shape[1:])]).conj()  # a_(t+1), 0 past the end
        g = _chunked_scan(a_next.flip(0), grad_h.flip(0), None, ctx.chunk).flip(0)  # (L, ...)
        h_prev = torch.cat([(h0 if h0 is not None else torch.zeros_like(h[0])).unsqueeze(0), h[:-1]])
        grad_a = g * h_prev.conj() if ctx.needs_input_grad[0] else None
        grad_b = g if ctx.needs_input_grad[1] else None
        grad_h0 = a[0].conj() * g[0] if (h0 is not None and ctx.needs_input_grad[2]) else None
        return grad_a, grad_b, grad_h0, None


def _chunked_scan(a: Tensor, b: Tensor, h0: Tensor | None, chunk: int | None) -> Tensor:
    L = b.shape[0]
    if L == 0:
        return b.clone()
    T = chunk or _chunk_size(L)
    if T >= L:
        return linear_scan_ref(a.movedim(0, -1), b.movedim(0, -1), h0).movedim(-1, 0)
    C = -(-L // T)
    pad = C * T - L
    rest = b.shape[1:]
    if pad:  # pad with the identity step (a=1, b=0): it changes nothing before it
        a = torch.cat([a, a.new_ones((pad,) + rest)])
        b = torch.cat([b, b.new_zeros((pad,) + rest)])
    a = a.reshape((C, T) + rest)  # step c*T + t lives at [c, t]
    b = b.reshape((C, T) + rest)

    # 1. every chunk from a zero state, all C chunks at once (the running products of a,
    #    needed in step 3, come along in the same loop)
    h = torch.zeros_like(b[:, 0])  # (C, ...)
    p = torch.ones_like(a[:, 0])  # (C, ...)
    local, prods = [], []
    for a_t, b_t in zip(a.unbind(1), b.unbind(1)):  # unbind: see linear_scan_ref
        h = a_t * h + b_t
        p = p * a_t
        local.append(h)
        prods.append(p)
    h_local = torch.stack(local, dim=1)  # (C, T, ...)
    a_cum = torch.stack(prods, dim=1)  # (C, T, ...): prod_{s<=t} a[c, s]

    # 2. carry across chunks: H_c = P_c * H_(c-1) + h_local[c, T-1]
    P, last = p, h  # (C, ...) each: whole-chunk product and chunk-final local state
    H = torch.zeros_like(last[0]) if h0 is None else h0.to(b.dtype).expand_as(last[0])
    carries = []  # H_(c-1) for c = 0 .. C-1
    for P_c, last_c in zip(P.unbind(0), last.unbind(0)):
        carries.append(H)
        H = P_c * H + last_c
    H_prev = torch.stack(carries)  # (C, ...)

    # 3. fix up each step with the state carried into its chunk
    h = h_local + a_cum * H_prev.unsqueeze(1)  # (C, T, ...)
    h = h.reshape((C * T,) + rest)
    return h[:L] if pad else h
