r"""Exact classical master equation of the dissipative 2D Ising memory (spec 004 §9.1).

The Lindbladian of eq. (6) maps Z-diagonal states to Z-diagonal states, so from |0̄⟩ the
state is a probability vector over the 2^{M²} spin configurations, ṗ = Q p, with Q the
generator of single-site flips at rates w(n) (n misaligned neighbours on the torus).

The initial state (all 0) is invariant under the torus's translations, rotations and
reflections, and Q commutes with them, so the chain is *lumpable* onto symmetry orbits: the
exact solution lives on ~700 orbits for M = 4 instead of 65 536 configurations, and a dense
matrix exponential solves it in well under a second. Every configuration of an orbit has
the same number of flipped spins, so the decoded success P(majority 0) (ties ½) is exact.
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as sla
import scipy.sparse as sp

from qcompile.errors import InvalidParameter

__all__ = [
    "MAX_EXACT_SIZE",
    "flip_generator",
    "lattice_symmetries",
    "exact_success_probability",
    "stationary_distribution",
]

MAX_EXACT_SIZE = 4


def _neighbours(m: int) -> np.ndarray:
    return np.array(
        [[((x + 1) % m) * m + y, ((x - 1) % m) * m + y, x * m + (y + 1) % m, x * m + (y - 1) % m]
         for x in range(m) for y in range(m)]
    )  # fmt: skip


def flip_generator(m: int, rates) -> tuple[sp.csr_matrix, np.ndarray]:
    """Q (columns = source configuration; bit i set = site i flipped) and the flipped-spin
    count of every configuration."""
    ns = m * m
    configs = np.arange(1 << ns)
    bits = ((configs[:, None] >> np.arange(ns)[None, :]) & 1).astype(np.int8)
    nb = _neighbours(m)
    w = np.asarray(rates, dtype=float)
    rows, cols, vals = [], [], []
    diagonal = np.zeros(configs.size)
    for i in range(ns):
        misaligned = (bits[:, nb[i]] != bits[:, [i]]).sum(axis=1)
        r = w[misaligned]
        rows.append(configs ^ (1 << i))
        cols.append(configs)
        vals.append(r)
        diagonal -= r
    rows.append(configs)
    cols.append(configs)
    vals.append(diagonal)
    q = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(configs.size, configs.size),
    )
    return q, bits.sum(axis=1)


def lattice_symmetries(m: int) -> list[np.ndarray]:
    """Site permutations of the M×M torus: translations × the 8 square symmetries."""
    perms = []
    for dx in range(m):
        for dy in range(m):
            for rot in range(4):
                for mirror in (False, True):
                    perm = np.empty(m * m, dtype=int)
                    for x in range(m):
                        for y in range(m):
                            u, v = (y, x) if mirror else (x, y)
                            for _ in range(rot):
                                u, v = v, (-u) % m
                            perm[x * m + y] = ((u + dx) % m) * m + (v + dy) % m
                    perms.append(perm)
    return perms


def _orbits(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Orbit index of every configuration and one representative per orbit."""
    ns = m * m
    configs = np.arange(1 << ns, dtype=np.int64)
    smallest = configs.copy()
    for perm in lattice_symmetries(m):
        image = np.zeros_like(configs)
        for i in range(ns):
            image |= ((configs >> i) & 1) << int(perm[i])
        np.minimum(smallest, image, out=smallest)
    representatives, index = np.unique(smallest, return_inverse=True)
    return index, representatives


def _check_size(m: int) -> None:
    if not 2 <= m <= MAX_EXACT_SIZE:
        raise InvalidParameter(
            "size", m, f"2 <= M <= {MAX_EXACT_SIZE} for the exact master equation"
        )


def exact_success_probability(m: int, rates, time_horizon: float) -> float:
    """P(majority of 0s at T) from all 0s (ties ½), exactly, on the symmetry-lumped chain."""
    _check_size(m)
    q, flipped = flip_generator(m, rates)
    index, representatives = _orbits(m)
    n = representatives.size
    # lumped generator: rate from orbit b (any representative) into each orbit a
    columns = q[:, representatives].tocoo()
    lumped = np.zeros((n, n))
    np.add.at(lumped, (index[columns.row], columns.col), columns.data)
    p0 = np.zeros(n)
    p0[index[0]] = 1.0
    p = sla.expm(lumped * time_horizon) @ p0
    counts = flipped[representatives]
    ns = m * m
    return float(p[2 * counts < ns].sum() + 0.5 * p[2 * counts == ns].sum())


def stationary_distribution(m: int, rates) -> np.ndarray:
    """The stationary distribution over all 2^{M²} configurations (null vector of Q)."""
    _check_size(m)
    q, _ = flip_generator(m, rates)
    values, vectors = np.linalg.eig(q.toarray())
    v = np.real(vectors[:, np.argmin(np.abs(values))])
    return v / v.sum()
