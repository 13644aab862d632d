"""Receptive-field arithmetic for one axis: what each kind of layer does to (r, j, start).

Notation (one spatial axis, input pixels as the unit of length; Araujo, Norris & Sim, Distill
2019, and Dang Ha The Hien's "guide to receptive field arithmetic"):

    r      receptive-field size: how many input pixels one unit of this feature map can see
    j      jump: the distance, in input pixels, between two neighbouring units (cumulative stride)
    start  the centre of unit 0's field, in input-pixel coordinates (pixel i has centre i);
           unit u of the map has its centre at start + u * j and sees
           [start + u*j - (r-1)/2, start + u*j + (r-1)/2]

Every op below has two faces:

* ``forward(f)`` - the bottom-up recursion on (r, j, start), as a table reports it
  (for a window of effective size k_eff = d(k-1)+1, stride s, left padding p):
      r_out = r_in + (k_eff - 1) * j_in
      j_out = j_in * s
      start_out = start_in + ((k_eff - 1)/2 - p) * j_in
* ``back(a, b, n_in)`` - the interval map: output units a..b read input units lo..hi.
  Chained from one output unit down to the input it gives that unit's field (its bounding
  box), also for ops whose fields are not translates of each other (upsampling, adaptive
  pooling with uneven bins). It depends only on the end points, which is exact when every
  unit reads at least one input and the first/last source grows with the unit: true of all
  ops here but the transposed convolution, for which the set pass below takes over.
* ``reads(o, n_in)`` - the exact list of input units output unit o reads (with holes:
  dilation, strides; empty for a transposed convolution's empty phase). Chained as sets it
  gives the exact pixels a unit depends on, which the gradient tests compare with.

Positions outside 0..n-1 are padding. They are kept (not clipped): the theoretical field counts
them, as the published tables do (ResNet-50's 483 pixels exceed a 224-pixel image).
Values are ``Fraction`` so that jumps like 1/2 (after a 2x upsampling) stay exact.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

F = Fraction


@dataclass(frozen=True)
class AxisField:
    """(r, j, start) of one feature map along one axis; ``whole``: every unit sees everything."""

    size: Fraction
    jump: Fraction
    start: Fraction
    whole: bool = False

    @property
    def left(self) -> Fraction:  # left edge of unit 0's field (the Distill article's u = -P)
        return self.start - (self.size - 1) / 2

    @property
    def right(self) -> Fraction:
        return self.start + (self.size - 1) / 2


INPUT_FIELD = AxisField(F(1), F(1), F(0))


def _floor(x: Fraction) -> int:
    return math.floor(x)


def _ceil(x: Fraction) -> int:
    return math.ceil(x)


@dataclass(frozen=True)
class Window:
    """A sliding window: convolution, max/avg pooling, padding (k=1), slicing (k=1, p=-offset)."""

    kernel: int
    stride: int = 1
    padding: int = 0  # left padding (torch pads both sides by this much unless told otherwise)
    dilation: int = 1

    def __post_init__(self):
        for name in ("kernel", "stride", "dilation"):
            v = getattr(self, name)
            if not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
        if not isinstance(self.padding, int):
            raise ValueError(f"padding must be an integer, got {self.padding!r}")

    @property
    def k_eff(self) -> int:
        return self.dilation * (self.kernel - 1) + 1

    def forward(self, f: AxisField) -> AxisField:
        return AxisField(size=f.size + (self.k_eff - 1) * f.jump,
                         jump=f.jump * self.stride,
                         start=f.start + (F(self.k_eff - 1, 2) - self.padding) * f.jump,
                         whole=f.whole)

    def back(self, a: int, b: int, n_in: int) -> tuple[int, int]:
        # output unit o reads inputs o*s - p + t*d for t = 0..k-1
        return a * self.stride - self.padding, b * self.stride - self.padding + self.k_eff - 1

    def reads(self, o: int, n_in: int) -> list[int]:
        return [o * self.stride - self.padding + t * self.dilation for t in range(self.kernel)]

    def describe(self) -> str:
        d = f" d={self.dilation}" if self.dilation != 1 else ""
        return f"k={self.kernel} s={self.stride} p={self.padding}{d}"


@dataclass(frozen=True)
class Transposed:
    """Transposed convolution: input unit i writes to outputs i*s - p + t*d, t = 0..k-1.

    Jumps become fractional (j_out = j_in / s). How many input units one output unit reads
    depends on its position modulo s when k_eff is not a multiple of s (the checkerboard);
    ``forward`` reports the largest, ``back`` the exact set for given units.
    """

    kernel: int
    stride: int = 1
    padding: int = 0
    dilation: int = 1

    def __post_init__(self):
        Window(self.kernel, self.stride, self.padding, self.dilation)  # same validation

    def span(self) -> int:
        """Largest number of input units (first to last) one output unit reads."""
        k, s, d = self.kernel, self.stride, self.dilation
        best = 1
        for c in range(s):
            taps = [t for t in range(k) if (c - t * d) % s == 0]
            if taps:
                best = max(best, (max(taps) - min(taps)) * d // s + 1)
        return best

    def forward(self, f: AxisField) -> AxisField:
        k_eff = self.dilation * (self.kernel - 1) + 1
        return AxisField(size=f.size + (self.span() - 1) * f.jump,
                         jump=f.jump / self.stride,
                         start=f.start + F(2 * self.padding - (k_eff - 1), 2 * self.stride) * f.jump,
                         whole=f.whole)

    def back(self, a: int, b: int, n_in: int) -> tuple[int, int]:
        s, p, d = self.stride, self.padding, self.dilation
        lo, hi = None, None
        for t in range(self.kernel):
            i0, i1 = _ceil(F(a + p - t * d, s)), _floor(F(b + p - t * d, s))
            if i0 <= i1:
                lo = i0 if lo is None else min(lo, i0)
                hi = i1 if hi is None else max(hi, i1)
        if lo is None:  # these outputs receive no input unit at all, only the bias
            c = _floor(F(a + p, s))
            return c, c - 1
        return lo, hi

    def has_empty_phase(self) -> bool:
        """Whether some output units read no input unit (e.g. k=1, s=2: every other one)."""
        k, s, d = self.kernel, self.stride, self.dilation
        return any(not any((c - t * d) % s == 0 for t in range(k)) for c in range(s))

    def reads(self, o: int, n_in: int) -> list[int]:
        q = [o + self.padding - t * self.dilation for t in range(self.kernel)]
        return [v // self.stride for v in q if v % self.stride == 0]

    def describe(self) -> str:
        d = f" d={self.dilation}" if self.dilation != 1 else ""
        return f"k={self.kernel} s=1/{self.stride} p={self.padding}{d}"


# taps of one output sample, by interpolation mode
_TAPS = {"nearest": 1, "nearest-exact": 1, "linear": 2, "bilinear": 2, "trilinear": 2,
         "bicubic": 4}


@dataclass(frozen=True)
class Resample:
    """Interpolation (nearest, nearest-exact, (bi)linear, bicubic) and pixel shuffle.

    ``scale`` is the factor torch uses to map output to input coordinates (the user's
    scale_factor, else n_out / n_in). Source coordinate of output o, as in ATen's
    ``area_pixel_compute_source_index``:
        align_corners=False: x = (o + 1/2) / scale - 1/2     (nearest: floor(o / scale))
        align_corners=True:  x = o * (n_in - 1) / (n_out - 1)
    in exact arithmetic: a tap of weight exactly 0 (x on a pixel) is not read, where torch's
    float32 x may give it a weight of ~1e-8.
    """

    mode: str
    scale: Fraction
    n_in: int
    n_out: int
    align_corners: bool = False

    def __post_init__(self):
        if self.mode not in _TAPS:
            raise ValueError(f"unsupported interpolation mode {self.mode!r}")
        if self.scale <= 0:
            raise ValueError(f"scale must be > 0, got {self.scale}")

    def _step(self) -> Fraction:  # input units per output unit
        if self.align_corners and self.mode not in ("nearest", "nearest-exact"):
            return F(self.n_in - 1, max(self.n_out - 1, 1))
        return 1 / self.scale

    def forward(self, f: AxisField) -> AxisField:
        step = self._step()
        if self.align_corners and self.mode not in ("nearest", "nearest-exact"):
            offset = F(0)
        else:
            offset = step / 2 - F(1, 2)  # mean source position of output 0
        return AxisField(size=f.size + (_TAPS[self.mode] - 1) * f.jump, jump=f.jump * step,
                         start=f.start + offset * f.jump, whole=f.whole)

    def _sources(self, o: int) -> tuple[int, int]:
        n = self.n_in
        if self.mode == "nearest":
            i = min(_floor(o / self.scale), n - 1)
            return i, i
        if self.mode == "nearest-exact":
            i = min(_floor((o + F(1, 2)) / self.scale), n - 1)
            return i, i
        if self.align_corners:
            x = o * self._step()
        else:
            x = (o + F(1, 2)) / self.scale - F(1, 2)
            if self.mode != "bicubic":
                x = max(x, F(0))  # ATen clamps negative linear source positions to 0
        i = _floor(x)
        lo, hi = (i - 1, i + 2) if self.mode == "bicubic" else (i, i + 1)
        if x == i:
            lo = hi = i  # the other taps have weight exactly 0 (cubic convolution too: W(1)=W(2)=0)
        return max(min(lo, n - 1), 0), max(min(hi, n - 1), 0)

    def back(self, a: int, b: int, n_in: int) -> tuple[int, int]:
        # positions outside the map (reached through padding downstream) are clamped too
        return self._sources(max(a, 0))[0], self._sources(min(max(b, 0), self.n_out - 1))[1]

    def reads(self, o: int, n_in: int) -> list[int]:
        lo, hi = self._sources(min(max(o, 0), self.n_out - 1))
        return list(range(lo, hi + 1))

    def describe(self) -> str:
        ac = " align_corners" if self.align_corners else ""
        return f"{self.mode} x{float(self.scale):g}{ac}"


@dataclass(frozen=True)
class Adaptive:
    """Adaptive pooling to m bins: bin o covers floor(o n / m) .. ceil((o+1) n / m) - 1."""

    n_in: int
    n_out: int

    def as_window(self) -> Window | None:
        if self.n_in % self.n_out == 0:
            k = self.n_in // self.n_out
            return Window(k, k, 0)
        return None

    def forward(self, f: AxisField) -> AxisField:
        w = self.as_window()
        if w is not None:
            return w.forward(f)
        widest = max(_ceil(F((o + 1) * self.n_in, self.n_out)) - _floor(F(o * self.n_in, self.n_out))
                     for o in range(self.n_out))
        first = _ceil(F(self.n_in, self.n_out))  # bin 0 covers 0 .. first - 1
        return AxisField(size=f.size + (widest - 1) * f.jump,
                         jump=f.jump * F(self.n_in, self.n_out),
                         start=f.start + F(first - 1, 2) * f.jump, whole=f.whole)

    def back(self, a: int, b: int, n_in: int) -> tuple[int, int]:
        a, b = max(a, 0), min(b, self.n_out - 1)
        return _floor(F(a * self.n_in, self.n_out)), _ceil(F((b + 1) * self.n_in, self.n_out)) - 1

    def reads(self, o: int, n_in: int) -> list[int]:
        lo, hi = self.back(o, o, n_in)
        return list(range(lo, hi + 1))

    def describe(self) -> str:
        return f"adaptive {self.n_in}->{self.n_out}"


@dataclass(frozen=True)
class Pointwise:
    """Activations, normalisation (statistics treated as constants), dropout, channel mixing."""

    def forward(self, f: AxisField) -> AxisField:
        return f

    def back(self, a: int, b: int, n_in: int) -> tuple[int, int]:
        return a, b

    def reads(self, o: int, n_in: int) -> list[int]:
        return [o]

    def describe(self) -> str:
        return ""


@dataclass(frozen=True)
class Collapse:
    """Flatten + linear, global pooling, a mean over space: one unit that sees the whole map."""

    n_in: int

    def forward(self, f: AxisField) -> AxisField:
        g = Window(self.n_in, self.n_in, 0).forward(f)
        return AxisField(g.size, g.jump, g.start, whole=True)

    def back(self, a: int, b: int, n_in: int) -> tuple[int, int]:
        return 0, self.n_in - 1

    def reads(self, o: int, n_in: int) -> list[int]:
        return list(range(self.n_in))

    def describe(self) -> str:
        return f"whole map ({self.n_in})"


def merge(fields: list[AxisField]) -> tuple[AxisField, bool]:
    """Fields of several paths meeting (add, concat, multiply): the union of unit 0's fields.

    Returns the merged field and whether the paths were aligned (same jump and same centre,
    the Distill article's condition). When aligned, the union is simply the largest field.
    When not, we report the bounding box of the union (what the gradient sees), centred on
    that box, with the largest jump; ``aligned`` is False and the table says so.
    """
    if len(fields) == 1:
        return fields[0], True
    whole = any(f.whole for f in fields)
    left = min(f.left for f in fields)
    right = max(f.right for f in fields)
    local = [f for f in fields if not f.whole] or fields
    aligned = (len({f.jump for f in local}) == 1 and len({f.start for f in local}) == 1)
    jump = max(f.jump for f in local)
    return AxisField(size=right - left + 1, jump=jump, start=(left + right) / 2, whole=whole), aligned


def number(x: Fraction) -> int | float:
    """A Fraction as an int when whole, else a float (for tables and JSON)."""
    return int(x) if x.denominator == 1 else float(x)


@dataclass
class GraphNode:
    """One op of a traced network. ``ops`` holds one per-axis op, or None for a merge/input."""

    name: str
    kind: str
    ops: tuple | None
    inputs: tuple[int, ...]
    shape: tuple[int, ...] | None = None
