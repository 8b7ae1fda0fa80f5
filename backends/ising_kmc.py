r"""Exact trajectories of the dissipative 2D Ising memory: rejection-free kinetic Monte Carlo.

Spec 004 §3: every jump operator (bit flips √Δ X, L^(4), the four rotated L^(3)) is X_i times
a Z-diagonal projector and H = 0, so quantum-jump trajectories from a Z-basis state are a
continuous-time Markov chain on spin configurations: site i flips at rate w(n_i), n_i the
number of its misaligned neighbours (w = Δ, Δ, Δ, Δ + κ̃, Δ + κ). This module samples that
chain exactly (Gillespie's n-fold way: sites kept in five classes by n, O(1) updates per
flip), compiled with numba, trajectories split into independently seeded blocks run in
parallel (xoshiro256** streams seeded by splitmix64, so results do not depend on the number
of threads). At time T the single-shot decoder takes the majority (ties, possible for even
M, count ½): the decoded overlap from |0̄⟩ is the fraction of trajectories that end with a
majority of 0s (spec §3.2).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = ["KMCResult", "simulate_memory", "BLOCK"]

BLOCK = 256  # trajectories per independently seeded block


def _kernel():
    from numba import njit, prange

    @njit(cache=True)
    def rotl(x, k):
        return ((x << np.uint64(k)) | (x >> np.uint64(64 - k))) & np.uint64(0xFFFFFFFFFFFFFFFF)

    @njit(cache=True)
    def next_u64(s):
        result = rotl(s[1] * np.uint64(5), 7) * np.uint64(9)
        t = s[1] << np.uint64(17)
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = rotl(s[3], 45)
        return result

    @njit(cache=True)
    def uniform(s):
        return ((next_u64(s) >> np.uint64(11)) + 0.5) * (1.0 / 9007199254740992.0)

    @njit(cache=True)
    def seed_state(x):
        s = np.empty(4, dtype=np.uint64)
        for i in range(4):
            x = x + np.uint64(0x9E3779B97F4A7C15)
            z = x
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            s[i] = z ^ (z >> np.uint64(31))
        return s

    @njit(cache=True)
    def run_block(m, rates, horizon, count, seed, out_up, out_events):
        ns = m * m
        nb = np.empty((ns, 4), dtype=np.int64)
        for x in range(m):
            for y in range(m):
                i = x * m + y
                nb[i, 0] = ((x + 1) % m) * m + y
                nb[i, 1] = ((x - 1 + m) % m) * m + y
                nb[i, 2] = x * m + (y + 1) % m
                nb[i, 3] = x * m + (y - 1 + m) % m
        s = seed_state(np.uint64(seed))
        z = np.empty(ns, dtype=np.int8)
        nmis = np.empty(ns, dtype=np.int64)
        pos = np.empty(ns, dtype=np.int64)
        lst = np.empty((5, ns), dtype=np.int64)
        cnt = np.zeros(5, dtype=np.int64)
        for traj in range(count):
            cnt[:] = 0
            for i in range(ns):
                z[i] = 1
                nmis[i] = 0
                pos[i] = cnt[0]
                lst[0, cnt[0]] = i
                cnt[0] += 1
            t = 0.0
            events = 0
            while True:
                total = 0.0
                for k in range(5):
                    total += cnt[k] * rates[k]
                if total <= 0.0:
                    break
                t += -math.log(uniform(s)) / total
                if t > horizon:
                    break
                u = uniform(s) * total
                k = 0
                while k < 4:
                    c = cnt[k] * rates[k]
                    if u < c:
                        break
                    u -= c
                    k += 1
                while cnt[k] == 0:  # rounding at the top of the range
                    k -= 1
                i = lst[k, int(uniform(s) * cnt[k])]
                z[i] = -z[i]
                events += 1
                for q in range(5):
                    j = i if q == 0 else nb[i, q - 1]
                    nm = 0
                    for d in range(4):
                        if z[nb[j, d]] != z[j]:
                            nm += 1
                    if nm != nmis[j]:
                        c0 = nmis[j]
                        p = pos[j]
                        cnt[c0] -= 1
                        last = lst[c0, cnt[c0]]
                        lst[c0, p] = last
                        pos[last] = p
                        pos[j] = cnt[nm]
                        lst[nm, cnt[nm]] = j
                        cnt[nm] += 1
                        nmis[j] = nm
            up = 0
            for i in range(ns):
                if z[i] == 1:
                    up += 1
            out_up[traj] = up
            out_events[traj] = events

    @njit(parallel=True, cache=True)
    def run_blocks(m, rates, horizon, counts, seeds, out_up, out_events):
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        for b in range(len(counts)):
            offsets[b + 1] = offsets[b] + counts[b]
        for b in prange(len(counts)):
            a, e = offsets[b], offsets[b + 1]
            run_block(m, rates, horizon, counts[b], seeds[b], out_up[a:e], out_events[a:e])

    return run_blocks


_RUN = None


@dataclass(frozen=True)
class KMCResult:
    """Decoded success (majority of 0s at T; ties ½), its standard error, and statistics."""

    success_probability: float
    stderr: float
    trajectories: int
    ties: int
    mean_events: float
    seconds: float


def simulate_memory(
    size: int,
    rates: tuple[float, float, float, float, float],
    time_horizon: float,
    trajectories: int,
    *,
    seed: int = 0,
    progress: Callable[[int, int], None] | None = None,
    chunk: int = 32 * BLOCK,
) -> KMCResult:
    """``trajectories`` exact trajectories of the M = ``size`` torus from all-0 to
    ``time_horizon`` with flip rates w(n) = ``rates[n]``; decoded by majority."""
    global _RUN
    if _RUN is None:
        _RUN = _kernel()
    start = time.perf_counter()
    rates_array = np.asarray(rates, dtype=np.float64)
    blocks = [(b, min(BLOCK, trajectories - b * BLOCK)) for b in range(-(-trajectories // BLOCK))]
    ups = np.empty(trajectories, dtype=np.int64)
    events = np.empty(trajectories, dtype=np.int64)
    per_chunk = max(1, chunk // BLOCK)
    done = 0
    for first in range(0, len(blocks), per_chunk):
        part = blocks[first : first + per_chunk]
        counts = np.array([c for _, c in part], dtype=np.int64)
        # block b's stream depends only on (seed, b): reproducible for any chunking/threads
        seeds = np.array([(seed * 1_000_003 + b) % 2**63 for b, _ in part], dtype=np.uint64)
        a = part[0][0] * BLOCK
        e = a + int(counts.sum())
        _RUN(size, rates_array, float(time_horizon), counts, seeds, ups[a:e], events[a:e])
        done = e
        if progress is not None:
            progress(done, trajectories)
    sites = size * size
    ties = int(np.count_nonzero(2 * ups == sites))
    success = (np.count_nonzero(2 * ups > sites) + 0.5 * ties) / trajectories
    stderr = math.sqrt(max(success * (1 - success), 0.0) / trajectories)
    return KMCResult(
        success_probability=float(success),
        stderr=stderr,
        trajectories=trajectories,
        ties=ties,
        mean_events=float(events.mean()),
        seconds=time.perf_counter() - start,
    )
