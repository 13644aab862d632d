"""The Huffman tree of hierarchical softmax (Mikolov et al. 2013b, section 2.1).

Hierarchical softmax writes p(w | context) as a product of binary decisions along the path from
the root to the leaf w:  p(w | h) = prod_k sigma([[code_k == 0]] * 2 - 1) * v'_{n_k} . h)  — with
word2vec.c's sign convention the label of step k is ``1 - code_k``. A Huffman tree over word
counts gives frequent words short paths, so the expected path length is the entropy bound.

The construction is word2vec.c's ``CreateBinaryTree``: with the vocabulary sorted by descending
count, two queues (leaves read from the rarest end, inner nodes in creation order) yield the
two smallest nodes in O(V); the smaller becomes child 0, the other child 1. Inner node ``j``
(0 .. V-2) owns the output vector ``syn1[j]``; the root is node V-2.

Returns, per word, its code bits and the inner nodes on its path (root first), padded to the
longest code length, plus the code lengths.
"""
from __future__ import annotations

import numpy as np

from ...errors import TrainingError


def build_huffman(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Huffman codes for ``counts`` sorted in descending order.

    Returns ``codes`` (V, L) uint8, ``points`` (V, L) int32 (inner-node index of each step,
    root first) and ``lengths`` (V,) int32, L = the longest code length.
    """
    counts = np.asarray(counts, dtype=np.int64)
    V = len(counts)
    if V < 2:
        raise TrainingError(f"hierarchical softmax needs at least 2 words in the vocabulary, got {V}")
    if np.any(np.diff(counts) > 0):
        raise ValueError("counts must be sorted in descending order")
    count = np.empty(2 * V - 1, dtype=np.int64)
    count[:V] = counts
    parent = np.zeros(2 * V - 1, dtype=np.int64)
    binary = np.zeros(2 * V - 1, dtype=np.uint8)
    pos1, pos2 = V - 1, V          # next rarest leaf; next inner node not yet used
    c = count.tolist()             # python ints: the loop is V steps of scalar work
    c[V:] = [0] * (V - 1)
    for a in range(V - 1):
        picked = []
        for _ in range(2):
            if pos1 >= 0 and (pos2 >= V + a or c[pos1] < c[pos2]):
                picked.append(pos1)
                pos1 -= 1
            else:
                picked.append(pos2)
                pos2 += 1
        m1, m2 = picked
        c[V + a] = c[m1] + c[m2]
        parent[m1] = V + a
        parent[m2] = V + a
        binary[m2] = 1
    root = 2 * V - 2
    paths = []
    for w in range(V):
        bits, nodes = [], []
        b = w
        while b != root:
            bits.append(binary[b])
            b = int(parent[b])
            nodes.append(b - V)
        paths.append((bits[::-1], nodes[::-1]))
    L = max(len(b) for b, _ in paths)
    codes = np.zeros((V, L), dtype=np.uint8)
    points = np.zeros((V, L), dtype=np.int32)
    lengths = np.zeros(V, dtype=np.int32)
    for w, (bits, nodes) in enumerate(paths):
        n = len(bits)
        codes[w, :n] = bits
        points[w, :n] = nodes
        lengths[w] = n
    return codes, points, lengths
