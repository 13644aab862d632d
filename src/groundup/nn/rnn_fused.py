"""Fused recurrent loops with hand-written backpropagation through time (BPTT).

Notation: L steps, B batch, H hidden size, G gate blocks. ``xw`` (L, B, G*H) is the input
projection of all steps (its gradient flows back through autograd to W_ih, b_ih and x).

Why: the reference loop (:mod:`groundup.nn.rnn`, over :mod:`groundup.nn.rnn_cells`) records
~10 autograd nodes per step and replays ~20 backward kernels. Here the forward loop runs with
autograd off, writes the gate activations into preallocated (L, B, ...) buffers, and every
factor of the backward pass that does not depend on the incoming gradient (sigma'(a), 1 - tanh^2,
c_{t-1}, ...) is computed for all steps at once *before* the backward loop; the loop itself is
then one matmul and a few multiplies per step, and dW_hh = sum_t dA_t^T h_{t-1} is one matmul
over all steps. An optional mask (L, B, 1), 1.0 at real steps, handles variable-length
batches: a padded row keeps its state and outputs zero, and in the backward pass its (dh, dc)
flows straight through to the step before. Each scan is tested against the reference loop
(values and gradients) and with torch.autograd.gradcheck in float64, with and without a mask.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch.autograd.function import once_differentiable


def _prev(h0: Tensor, hs: Tensor) -> Tensor:
    """h_{t-1} for t = 0..L-1: (L, B, H) from h_0 (B, H) and h_1..h_L (L, B, H)."""
    return torch.cat([h0.unsqueeze(0), hs[:-1]], dim=0)


def _bias_grad(b: Tensor | None, dA: Tensor) -> Tensor | None:
    return None if b is None else dA.sum(dim=(0, 1))


def _out_grad(grad_out: Tensor | None, like: Tensor) -> Tensor:
    return torch.zeros_like(like) if grad_out is None else grad_out


# --- LSTM ----------------------------------------------------------------------------------
class _LSTMScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, xw: Tensor, h0: Tensor, c0: Tensor, w_hh: Tensor, b_hh: Tensor | None,
                mask: Tensor | None = None):
        L, B, G4 = xw.shape
        H = G4 // 4
        pre = xw if b_hh is None else xw + b_hh           # (L, B, 4H)
        A = torch.empty_like(pre)                          # activations i, f, g, o
        C = xw.new_empty(L, B, H)                          # c_t (carried)
        TC = xw.new_empty(L, B, H)                         # tanh(c_t) of the step's new cell
        Hs = xw.new_empty(L, B, H)                         # outputs h_t (zero at padding)
        Hc = None if mask is None else xw.new_empty(L, B, H)   # carried h_t when masked
        keep = None if mask is None else mask.bool()
        w_t = w_hh.t()                                     # (H, 4H)
        h, c = h0, c0
        for t in range(L):
            a = torch.addmm(pre[t], h, w_t)                # (B, 4H)
            At = A[t]
            torch.sigmoid(a, out=At)
            torch.tanh(a[:, 2 * H:3 * H], out=At[:, 2 * H:3 * H])
            i, f, g, o = At[:, :H], At[:, H:2 * H], At[:, 2 * H:3 * H], At[:, 3 * H:]
            if mask is None:
                c = torch.mul(f, c, out=C[t]).addcmul_(i, g)   # c_t = f c_{t-1} + i g
                h = torch.mul(o, torch.tanh(c, out=TC[t]), out=Hs[t])
            else:                                          # padded rows keep (h, c), output 0
                c_new = torch.mul(f, c).addcmul_(i, g)
                h_new = o * torch.tanh(c_new, out=TC[t])
                torch.mul(h_new, mask[t], out=Hs[t])
                c = torch.where(keep[t], c_new, c, out=C[t])
                h = torch.where(keep[t], h_new, h, out=Hc[t])
        ctx.save_for_backward(A, C, TC, Hs, Hc, h0, c0, w_hh, b_hh, mask)
        return Hs, h.clone(), c.clone()   # final states are not views of the buffers

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_h, grad_c):
        A, C, TC, Hs, Hc, h0, c0, w_hh, b_hh, mask = ctx.saved_tensors
        L, B, G4 = A.shape
        H = G4 // 4
        grad_out = _out_grad(grad_out, Hs)
        i, f, g, o = A.view(L, B, 4, H).unbind(2)
        c_prev = _prev(c0, C)
        # factors independent of the incoming gradient, for all steps at once:
        #   dc_t = dc_{t+1} f_{t+1} + dh_t o (1 - tanh^2 c_t)
        #   da = [dc g i(1-i), dc c_{t-1} f(1-f), dc i (1-g^2), dh tanh(c) o(1-o)]
        K = o * (1 - TC * TC)                                                     # (L, B, H)
        M = torch.stack([g * i * (1 - i), c_prev * f * (1 - f), i * (1 - g * g), TC * o * (1 - o)], dim=2)
        dA = torch.empty_like(M)                                                  # (L, B, 4, H)
        dc = torch.zeros_like(c0) if grad_c is None else grad_c
        if mask is None:
            dh = grad_out[-1] if grad_h is None else grad_out[-1] + grad_h
            for t in range(L - 1, -1, -1):
                dc = torch.addcmul(dc, dh, K[t])
                torch.mul(M[t, :, :3], dc.unsqueeze(1), out=dA[t, :, :3])
                torch.mul(M[t, :, 3], dh, out=dA[t, :, 3])
                dc = dc * f[t]
                dAt = dA[t].view(B, G4)
                dh = torch.addmm(grad_out[t - 1], dAt, w_hh) if t else dAt @ w_hh
        else:
            # a padded step passes (dh, dc) straight through to t-1 and gets no gate gradient
            skip = 1 - mask
            dh = torch.zeros_like(h0) if grad_h is None else grad_h       # reaching carried h_t
            for t in range(L - 1, -1, -1):
                dhn = (dh + grad_out[t]) * mask[t]                        # reaching the new h_t
                dct = torch.addcmul(dc * mask[t], dhn, K[t])
                torch.mul(M[t, :, :3], dct.unsqueeze(1), out=dA[t, :, :3])
                torch.mul(M[t, :, 3], dhn, out=dA[t, :, 3])
                dc = torch.addcmul(dct * f[t], dc, skip[t])
                dh = torch.addmm(dh * skip[t], dA[t].view(B, G4), w_hh)
        dA = dA.view(L, B, G4)
        dw_hh = dA.reshape(L * B, G4).t() @ _prev(h0, Hs if Hc is None else Hc).reshape(L * B, H)
        return dA, dh, dc, dw_hh, _bias_grad(b_hh, dA), None


def lstm_scan(xw: Tensor, state, w_hh: Tensor, b_hh: Tensor | None, mask: Tensor | None = None):
    """Fused LSTM loop: xw (L, B, 4H), state (h_0, c_0), mask (L, B, 1) 1.0 at real steps or
    None -> outputs (L, B, H) (zero at padding), (h_L, c_L) (the state at each last real step)."""
    out, h, c = _LSTMScan.apply(xw, state[0], state[1], w_hh, b_hh, mask)
    return out, (h, c)


# --- GRU (torch's placement of the reset gate) ---------------------------------------------
class _GRUScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, xw: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor | None,
                mask: Tensor | None = None):
        L, B, G3 = xw.shape
        H = G3 // 3
        RZ = xw.new_empty(L, B, 2 * H)      # r, z
        N = xw.new_empty(L, B, H)           # n
        HN = xw.new_empty(L, B, H)          # W_hn h + b_hn (the reset gate's operand)
        Hs = xw.new_empty(L, B, H)          # outputs (zero at padding)
        Hc = None if mask is None else xw.new_empty(L, B, H)   # carried h when masked
        keep = None if mask is None else mask.bool()
        w_t = w_hh.t()
        h = h0
        for t in range(L):
            hw = torch.mm(h, w_t) if b_hh is None else torch.addmm(b_hh, h, w_t)  # (B, 3H)
            rz = torch.sigmoid(torch.add(xw[t, :, :2 * H], hw[:, :2 * H], out=RZ[t]), out=RZ[t])
            HN[t] = hw[:, 2 * H:]
            n = torch.tanh(torch.addcmul(xw[t, :, 2 * H:], rz[:, :H], HN[t], out=N[t]), out=N[t])
            if mask is None:
                h = torch.addcmul(n, rz[:, H:], h - n, out=Hs[t])   # h_t = n + z (h_{t-1} - n)
            else:
                h_new = torch.addcmul(n, rz[:, H:], h - n)
                torch.mul(h_new, mask[t], out=Hs[t])
                h = torch.where(keep[t], h_new, h, out=Hc[t])
        ctx.save_for_backward(RZ, N, HN, Hs, Hc, h0, w_hh, b_hh, mask)
        return Hs, h.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_h):
        RZ, N, HN, Hs, Hc, h0, w_hh, b_hh, mask = ctx.saved_tensors
        L, B, H = N.shape
        G3 = 3 * H
        grad_out = _out_grad(grad_out, Hs)
        r, z = RZ[..., :H], RZ[..., H:]
        h_prev = _prev(h0, Hs if Hc is None else Hc)
        # with dh the gradient reaching h_t:  da_n = dh (1-z)(1-n^2),  da_z = dh (h_{t-1}-n) z(1-z),
        # da_r = da_n hn r(1-r),  d(hn) = da_n r,  dh_{t-1} = dh z + [da_r, da_z, d(hn)] W_hh
        K1 = (1 - z) * (1 - N * N)
        K2 = (h_prev - N) * z * (1 - z)
        K4 = K1 * HN * r * (1 - r)
        Mx = torch.stack([K4, K2, K1], dim=2)              # (L, B, 3, H) -> d xw
        Mh = torch.stack([K4, K2, K1 * r], dim=2)          # (L, B, 3, H) -> d (h W_hh^T + b_hh)
        dX = torch.empty_like(Mx)
        dHW = torch.empty_like(Mh)
        if mask is None:
            dh = grad_out[-1] if grad_h is None else grad_out[-1] + grad_h
            for t in range(L - 1, -1, -1):
                d = dh.unsqueeze(1)
                torch.mul(Mx[t], d, out=dX[t])
                torch.mul(Mh[t], d, out=dHW[t])
                direct = torch.addcmul(grad_out[t - 1], dh, z[t]) if t else dh * z[t]
                dh = torch.addmm(direct, dHW[t].view(B, G3), w_hh)
        else:
            skip = 1 - mask
            dh = torch.zeros_like(h0) if grad_h is None else grad_h       # reaching carried h_t
            for t in range(L - 1, -1, -1):
                dhn = (dh + grad_out[t]) * mask[t]                        # reaching the new h_t
                d = dhn.unsqueeze(1)
                torch.mul(Mx[t], d, out=dX[t])
                torch.mul(Mh[t], d, out=dHW[t])
                direct = torch.addcmul(dh * skip[t], dhn, z[t])
                dh = torch.addmm(direct, dHW[t].view(B, G3), w_hh)
        dX, dHW = dX.view(L, B, G3), dHW.view(L, B, G3)
        dw_hh = dHW.reshape(L * B, G3).t() @ h_prev.reshape(L * B, H)
        return dX, dh, dw_hh, _bias_grad(b_hh, dHW), None


def gru_scan(xw: Tensor, state, w_hh: Tensor, b_hh: Tensor | None, mask: Tensor | None = None):
    """Fused GRU loop: xw (L, B, 3H), state (h_0,), mask as in :func:`lstm_scan`
    -> outputs (L, B, H), (h_L,)."""
    out, h = _GRUScan.apply(xw, state[0], w_hh, b_hh, mask)
    return out, (h,)


# --- Elman ---------------------------------------------------------------------------------
class _ElmanScan(torch.autograd.Function):
    @staticmethod
    def forward(ctx, xw: Tensor, h0: Tensor, w_hh: Tensor, b_hh: Tensor | None, relu: bool,
                mask: Tensor | None = None):
        L = xw.shape[0]
        pre = xw if b_hh is None else xw + b_hh
        Hs = torch.empty_like(pre)                          # outputs (zero at padding)
        Hc = None if mask is None else torch.empty_like(pre)   # carried h when masked
        keep = None if mask is None else mask.bool()
        w_t = w_hh.t()
        h = h0
        for t in range(L):
            a = torch.addmm(pre[t], h, w_t)
            if mask is None:
                h = torch.clamp(a, min=0, out=Hs[t]) if relu else torch.tanh(a, out=Hs[t])
            else:
                h_new = torch.clamp(a, min=0) if relu else torch.tanh(a)
                torch.mul(h_new, mask[t], out=Hs[t])
                h = torch.where(keep[t], h_new, h, out=Hc[t])
        ctx.relu = relu
        ctx.save_for_backward(Hs, Hc, h0, w_hh, b_hh, mask)
        return Hs, h.clone()

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_out, grad_h):
        Hs, Hc, h0, w_hh, b_hh, mask = ctx.saved_tensors
        L, B, H = Hs.shape
        grad_out = _out_grad(grad_out, Hs)
        # phi'(a_t) from the output (at padded steps it is wrong, but multiplied by 0 there)
        K = (Hs > 0).to(Hs.dtype) if ctx.relu else 1 - Hs * Hs
        dA = torch.empty_like(Hs)
        if mask is None:
            dh = grad_out[-1] if grad_h is None else grad_out[-1] + grad_h
            for t in range(L - 1, -1, -1):
                da = torch.mul(dh, K[t], out=dA[t])
                dh = torch.addmm(grad_out[t - 1], da, w_hh) if t else da @ w_hh
        else:
            skip = 1 - mask
            dh = torch.zeros_like(h0) if grad_h is None else grad_h
            for t in range(L - 1, -1, -1):
                da = torch.mul((dh + grad_out[t]) * mask[t], K[t], out=dA[t])
                dh = torch.addmm(dh * skip[t], da, w_hh)
        dw_hh = dA.reshape(L * B, H).t() @ _prev(h0, Hs if Hc is None else Hc).reshape(L * B, H)
        return dA, dh, dw_hh, _bias_grad(b_hh, dA), None, None


def elman_scan(xw: Tensor, state, w_hh: Tensor, b_hh: Tensor | None, nonlinearity: str,
               mask: Tensor | None = None):
    """Fused Elman loop: xw (L, B, H), state (h_0,), mask as in :func:`lstm_scan`
    -> outputs (L, B, H), (h_L,)."""
    out, h = _ElmanScan.apply(xw, state[0], w_hh, b_hh, nonlinearity == "relu", mask)
    return out, (h,)
