"""State-space models: HiPPO, S4D, Mamba's selective scan, LRU and RetNet.

All of them are one linear recurrence, h_t = a_t * h_(t-1) + b_t, differing only in where a_t
and b_t come from (see docs/ssm.md); :func:`linear_scan` is the shared primitive.
"""
from .scan import linear_scan, linear_scan_ref
from .selective_scan import selective_scan, selective_scan_ref

__all__ = ["linear_scan", "linear_scan_ref", "selective_scan", "selective_scan_ref"]
