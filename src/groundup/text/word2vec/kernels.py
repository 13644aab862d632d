"""The compiled hot loop: one call trains on a chunk of sentences, releasing the GIL.

Notation: V vocabulary, D vector size; ``syn0`` (V, D) input vectors v_w, ``syn1neg`` (V, D)
output vectors v'_w of negative sampling, ``syn1`` (V-1, D) vectors of the Huffman tree's inner
nodes. sigma(x) = 1 / (1 + exp(-x)). All updates are plain SGD with learning rate alpha, applied
at once (Hogwild, as word2vec.c and gensim: threads write the shared arrays without locks).

Skip-gram (Mikolov et al. 2013a/b), for each centre w_I and each context word w_C within the
randomly shrunk window, word2vec.c trains the pair with the *context* word as input, predicting
the centre (``l1 = syn0[w_C]``, target w_I); the sum over pairs is the same objective.

Negative sampling, eq. (4) of 2013b: for input vector h and target w_O,
    L = -log sigma(v'_{w_O} . h) - sum_{k=1..K} log sigma(-v'_{w_k} . h),  w_k ~ P_n
    dL/dv'_t = -(l_t - sigma(v'_t . h)) h,   dL/dh = -sum_t (l_t - sigma(v'_t . h)) v'_t
with label l_t = 1 for w_O and 0 for noise words; ``g = (l - sigma) * alpha`` is the step.
A score beyond +-MAX_EXP (6) either uses the saturated sigmoid (0 or 1) and still updates, as
word2vec.c does (``saturated="update"``), or is skipped, as gensim does (``saturated="skip"``).

Hierarchical softmax, section 2.1: for each inner node n_k on w_O's path with code bit c_k,
    L = -sum_k log sigma((1 - 2 c_k) v'_{n_k} . h)    i.e. label l_k = 1 - c_k,
and as in word2vec.c a node whose |score| >= MAX_EXP is skipped (no update).

CBOW: h = sum (or mean) of the context input vectors; the error ``neu1e = -dL/dh / 1`` is added
to every context vector. For the mean this is word2vec.c's rule (the 1/|C| of the true
gradient is *not* applied); for the sum it is the exact gradient. (gensim divides the error by
|C| in sum mode; we follow the chain rule there.)

The per-epoch loss is accumulated in float64 from the exact objective (log-sigmoid of the
unclipped score), beyond gensim, whose running loss is a float32 total.

The helpers below are inlined into the loop (``inline="always"``) and take the input as a
(matrix, row) pair, never a row view: a view of a shared array, or an array passed to a compiled
function that is not inlined, makes numba update the array's reference count with an atomic
instruction on a counter every thread shares. Removing them made one thread 1.2-1.4x faster
with another process busy on the second core, and changed nothing measurable on an idle
machine (docs/word2vec.md); the values are bit-identical.

Random numbers: one xorshift64* stream per thread, carried in ``rng[0]`` across calls; it drives
sub-sampling, the window shrink b ~ U{0..window-1} and the noise draws.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

MAX_EXP = 6.0

_M = np.uint64(0x2545F4914F6CDD1D)
_S12, _S25, _S27 = np.uint64(12), np.uint64(25), np.uint64(27)
_S32, _S40 = np.uint64(32), np.uint64(40)
_LOW24 = np.uint64(0xFFFFFF)


@njit(inline="always")
def _next(x):
    x ^= x >> _S12
    x ^= x << _S25
    x ^= x >> _S27
    return x


@njit(inline="always")
def _randint(x, n):
    """(new state, integer uniform in 0..n-1): Lemire's multiply-shift on 32 random bits,
    no division."""
    x = _next(x)
    return x, np.int64((((x * _M) >> _S32) * np.uint64(n)) >> _S32)


@njit(inline="always")
def _uniform(x):
    """(new state, float in [0, 1))"""
    x = _next(x)
    return x, np.float64((x * _M) >> _S40) * (1.0 / 16777216.0)


@njit(inline="always")
def _softplus(z):
    """log(1 + exp(z)), stable: the loss -log sigma(x) is softplus(-x)."""
    if z > 0:
        return z + np.log1p(np.exp(-z))
    return np.log1p(np.exp(z))


@njit(inline="always")
def _noise(x, alias_prob, alias_idx):
    """One draw from the alias table with one 64-bit random number: the high 32 bits pick the
    column (multiply-shift), the low 24 bits are the uniform that decides column or alias."""
    x = _next(x)
    r = x * _M
    k = np.int64(((r >> _S32) * np.uint64(alias_prob.shape[0])) >> _S32)
    u = np.float64(r & _LOW24) * (1.0 / 16777216.0)
    if u < alias_prob[k]:
        return x, k
    return x, np.int64(alias_idx[k])


@intrinsic
def _prefetchw(typingctx, arr, row):
    """Ask the CPU to fetch every cache line of the row ``arr[row, :]`` (2-D, C order) *for
    writing* (LLVM's ``llvm.prefetch`` with rw=1: PREFETCHW on x86). A hint: no effect on values.

    Why: a row that the other thread wrote last sits in the other core's cache. Reading it for
    the dot product brings it over shared, and the update then needs a second transfer to own
    it. Fetched for writing it comes over once, and the rows of one prediction (the target and
    the K noise words) come over together instead of one after the other."""
    def codegen(context, builder, sig, args):
        aryty, rowty = sig.args
        ary = context.make_array(aryty)(context, builder, args[0])
        intp = context.get_value_type(types.intp)
        r = context.cast(builder, args[1], rowty, types.intp)
        first = cgutils.get_item_pointer(context, builder, aryty, ary, [r, intp(0)], wraparound=False)
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32]),
                                            "llvm.prefetch.p0")
        base = builder.ptrtoint(first, intp)
        row_bytes = cgutils.unpack_tuple(builder, ary.strides)[0]
        start = builder.and_(base, intp(-64))                          # the first line
        n_lines = builder.add(builder.lshr(builder.sub(builder.add(base, row_bytes), builder.add(start, intp(1))),
                                           intp(6)), intp(1))          # lines up to the row's last byte
        with cgutils.for_range(builder, n_lines) as loop:
            addr = builder.inttoptr(builder.add(start, builder.shl(loop.index, intp(6))), i8p)
            builder.call(fn, [addr, i32(1), i32(3), i32(1)])           # write, keep in all caches, data
        return context.get_dummy_value()
    return types.void(arr, row), codegen


@njit(inline="always", fastmath=True)
def _ns_step(H, hr, target, label, syn1neg, neu1e, alpha, want_loss, skip_saturated):
    """One term of the NS objective with input h = H[hr] (D,): updates syn1neg[target] and neu1e.
    Returns the term's loss. A score beyond +-MAX_EXP either updates with the saturated sigmoid
    (word2vec.c) or is skipped (``skip_saturated``, gensim)."""
    D = H.shape[1]
    f = np.float32(0.0)
    for d in range(D):
        f += H[hr, d] * syn1neg[target, d]
    loss = 0.0
    if skip_saturated and (f >= MAX_EXP or f <= -MAX_EXP):
        if want_loss:
            loss = _softplus(-f) if label > 0 else _softplus(f)
        return loss
    if f > MAX_EXP:
        sig = 1.0
        if want_loss:
            loss = _softplus(-f) if label > 0 else _softplus(f)
    elif f < -MAX_EXP:
        sig = 0.0
        if want_loss:
            loss = _softplus(-f) if label > 0 else _softplus(f)
    else:
        e = np.exp(-f)
        sig = 1.0 / (1.0 + e)
        if want_loss:
            # -log sigma(f) = log(1 + e^-f);  -log(1 - sigma(f)) = f + log(1 + e^-f)
            loss = np.log(1.0 + e) + (0.0 if label > 0 else f)
    g = np.float32((label - sig) * alpha)
    for d in range(D):
        neu1e[d] += g * syn1neg[target, d]
    for d in range(D):
        syn1neg[target, d] += g * H[hr, d]
    return loss


@njit(inline="always", fastmath=True)
def _hs_step(H, hr, node, code, syn1, neu1e, alpha, want_loss):
    """One inner node of the HS path: label 1 - code. Returns the term's loss."""
    D = H.shape[1]
    f = np.float32(0.0)
    for d in range(D):
        f += H[hr, d] * syn1[node, d]
    loss = 0.0
    if want_loss:
        loss = _softplus(f) if code else _softplus(-f)
    if f <= -MAX_EXP or f >= MAX_EXP:
        return loss
    sig = 1.0 / (1.0 + np.exp(-f))
    g = np.float32((1.0 - code - sig) * alpha)
    for d in range(D):
        neu1e[d] += g * syn1[node, d]
    for d in range(D):
        syn1[node, d] += g * H[hr, d]
    return loss


@njit(inline="always", fastmath=True)
def _predict(H, hr, target, syn1neg, syn1, codes, points, code_lens, hs, negative, neu1e,
             alpha, want_loss, skip_saturated, negs, off):
    """All output-layer terms for input h = H[hr] predicting ``target``, with the noise words
    ``negs[off:off + negative]`` (drawn by the caller). Returns the loss."""
    loss = 0.0
    if hs:
        for k in range(code_lens[target]):
            loss += _hs_step(H, hr, points[target, k], codes[target, k], syn1, neu1e, alpha, want_loss)
    if negative > 0:
        loss += _ns_step(H, hr, target, 1.0, syn1neg, neu1e, alpha, want_loss, skip_saturated)
        for k in range(off, off + negative):
            w = negs[k]
            if w == target:
                continue
            loss += _ns_step(H, hr, w, 0.0, syn1neg, neu1e, alpha, want_loss, skip_saturated)
    return loss


@njit(inline="always")
def _prefetch_outputs(target, syn1neg, syn1, points, code_lens, hs, negative, negs, off):
    """Prefetch for writing the output rows one prediction will update."""
    if hs:
        for k in range(code_lens[target]):
            _prefetchw(syn1, points[target, k])
    if negative > 0:
        _prefetchw(syn1neg, target)
        for k in range(off, off + negative):
            _prefetchw(syn1neg, negs[k])


@njit(nogil=True, fastmath=True, cache=True)
def train_chunk(ids, starts, s0, s1, syn0, syn1neg, syn1, keep_prob, alias_prob, alias_idx,
                codes, points, code_lens, sg, hs, negative, window, cbow_mean,
                alpha_begin, alpha_end, rng, stats, want_loss=True, skip_saturated=False):
    """Train on sentences s0..s1-1 (tokens ``ids[starts[s]:starts[s+1]]``).

    alpha falls linearly from ``alpha_begin`` to ``alpha_end`` over the chunk's tokens.
    ``rng`` (1,) uint64 is the thread's random state. Adds to ``stats`` (4,) float64:
    [effective words (kept after sub-sampling), loss sum, predictions, raw words].
    """
    D = syn0.shape[1]
    x = rng[0]
    neu1e = np.empty(D, dtype=np.float32)
    neu1 = np.empty((1, D), dtype=np.float32)
    negs = np.empty(max(2 * window * negative, 1), dtype=np.int64)   # noise words of one centre
    maxlen = 0
    for s in range(s0, s1):
        maxlen = max(maxlen, starts[s + 1] - starts[s])
    buf = np.empty(maxlen, dtype=np.int64)
    raw_total = max(starts[s1] - starts[s0], 1)
    raw_done = 0
    eff = 0
    loss = 0.0
    npred = 0
    for s in range(s0, s1):
        alpha = alpha_begin + (alpha_end - alpha_begin) * (raw_done / raw_total)
        n = 0
        for p in range(starts[s], starts[s + 1]):
            w = ids[p]
            kp = keep_prob[w]
            if kp < 1.0:
                x, u = _uniform(x)
                if u >= kp:
                    continue
            buf[n] = w
            n += 1
        raw_done += starts[s + 1] - starts[s]
        eff += n
        for i in range(n):
            x, b = _randint(x, window)
            lo = max(0, i - window + b)
            hi = min(n, i + window + 1 - b)
            if sg:
                # the noise words of all this centre's pairs, drawn in the order they are used
                # (the same random stream as drawing each one when it is needed) ...
                m = 0
                for j in range(lo, hi):
                    if j != i:
                        for k in range(negative):
                            x, negs[m * negative + k] = _noise(x, alias_prob, alias_idx)
                        m += 1
                # ... so that each pair can prefetch the rows of the next pair while it trains
                m = 0
                for j in range(lo, hi):
                    if j == i:
                        continue
                    c = buf[j]
                    if m == 0:
                        _prefetchw(syn0, c)
                        _prefetch_outputs(buf[i], syn1neg, syn1, points, code_lens, hs, negative, negs, 0)
                    # (the target row is the same for every pair of a centre; asking for it again
                    # costs a hint per line and takes it back if the other thread wrote it since)
                    jn = j + 1 if j + 1 != i else j + 2
                    if jn < hi:
                        _prefetchw(syn0, buf[jn])
                        _prefetch_outputs(buf[i], syn1neg, syn1, points, code_lens, False, negative, negs,
                                          (m + 1) * negative)
                    for d in range(D):
                        neu1e[d] = 0.0
                    loss += _predict(syn0, c, buf[i], syn1neg, syn1, codes, points, code_lens, hs, negative,
                                     neu1e, alpha, want_loss, skip_saturated, negs, m * negative)
                    m += 1
                    npred += 1
                    for d in range(D):
                        syn0[c, d] += neu1e[d]
            else:
                cw = 0
                for d in range(D):
                    neu1[0, d] = 0.0
                for j in range(lo, hi):
                    if j == i:
                        continue
                    _prefetchw(syn0, buf[j])
                for j in range(lo, hi):
                    if j == i:
                        continue
                    c = buf[j]
                    for d in range(D):
                        neu1[0, d] += syn0[c, d]
                    cw += 1
                if cw == 0:
                    continue
                if cbow_mean:
                    inv = np.float32(1.0 / cw)
                    for d in range(D):
                        neu1[0, d] *= inv
                for k in range(negative):
                    x, negs[k] = _noise(x, alias_prob, alias_idx)
                _prefetch_outputs(buf[i], syn1neg, syn1, points, code_lens, hs, negative, negs, 0)
                for d in range(D):
                    neu1e[d] = 0.0
                loss += _predict(neu1, 0, buf[i], syn1neg, syn1, codes, points, code_lens, hs, negative,
                                 neu1e, alpha, want_loss, skip_saturated, negs, 0)
                npred += 1
                for j in range(lo, hi):
                    if j == i:
                        continue
                    c = buf[j]
                    for d in range(D):
                        syn0[c, d] += neu1e[d]
    rng[0] = x
    stats[0] += eff
    stats[1] += loss
    stats[2] += npred
    stats[3] += raw_done


@dataclass
class Weights:
    """The trained matrices; the kernel updates them in place."""

    syn0: np.ndarray          # (V, D) input vectors: the word vectors
    syn1neg: np.ndarray       # (V, D) NS output vectors ((1, D) unused placeholder without NS)
    syn1: np.ndarray          # (V-1, D) HS inner-node vectors ((1, D) placeholder without HS)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.syn0, self.syn1neg, self.syn1


@dataclass(frozen=True)
class Kernel:
    """What :func:`train_chunk` reads and never writes: the sampling tables, the Huffman codes
    and the settings. :meth:`train` is the one place its 24 arguments are written out."""

    keep_prob: np.ndarray     # (V,) float32 sub-sampling keep probability
    alias_prob: np.ndarray    # (V,) float32 alias table of the noise distribution ...
    alias_idx: np.ndarray     # (V,) int32 ... and its aliases
    codes: np.ndarray         # (V, L) uint8 Huffman code bits (HS)
    points: np.ndarray        # (V, L) int32 inner nodes on each word's path (HS)
    code_lens: np.ndarray     # (V,) int32
    sg: bool
    hs: bool
    negative: int             # noise words per prediction (0 = no NS)
    window: int
    cbow_mean: bool = True
    want_loss: bool = True
    skip_saturated: bool = False

    def train(self, job, w: Weights, alpha_begin: float, alpha_end: float, rng: np.ndarray,
              stats: np.ndarray) -> None:
        """Train on ``job`` (a :class:`~groundup.text.word2vec.jobs.Job`), alpha falling
        linearly from ``alpha_begin`` to ``alpha_end`` over its tokens; ``rng`` (1,) uint64 is
        the thread's random state, ``stats`` (4,) float64 its counters."""
        train_chunk(job.ids, job.starts, job.s0, job.s1, w.syn0, w.syn1neg, w.syn1, self.keep_prob,
                    self.alias_prob, self.alias_idx, self.codes, self.points, self.code_lens, self.sg,
                    self.hs, self.negative, self.window, self.cbow_mean, alpha_begin, alpha_end, rng,
                    stats, self.want_loss, self.skip_saturated)


@njit(nogil=True, cache=True)
def merge_replicas(shared, replicas):
    """Deterministic merge of T thread replicas (T, N) into ``shared`` (N,):
    shared + sum_t (replica_t - shared), then every replica is reset to the result.
    The sum runs in thread order, so the result does not depend on timing."""
    T = replicas.shape[0]
    for i in range(shared.shape[0]):
        s = shared[i]
        tot = s
        for t in range(T):
            tot += replicas[t, i] - s
        shared[i] = tot
        for t in range(T):
            replicas[t, i] = tot


@njit(nogil=True, cache=True)
def draw_noise(n, alias_prob, alias_idx, seed):
    """``n`` noise words drawn exactly as the training loop draws them (for tests)."""
    x = np.uint64(seed)
    out = np.empty(n, dtype=np.int64)
    for i in range(n):
        x, out[i] = _noise(x, alias_prob, alias_idx)
    return out
