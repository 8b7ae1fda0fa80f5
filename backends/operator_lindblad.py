r"""Lindblad evolution in operator form for large truncated oscillators (spec 003 §6).

ρ̇ = Gρ + ρG† + Σ_k L_k ρ L_k†, G = −iH − ½Σ_k L_k†L_k, integrated by SciPy's DOP853 on the
matrix itself: each step costs a few n_f³ matrix products. QuTiP's ``mesolve`` builds the
dense n_f⁴ Liouvillian for these dense jump operators (54 s at n_f = 30, out of memory beyond
~90; spec §6), so for GKP cut-offs of 60–200 this is the faster well-kept route. Written as
Gρ + ρG† (not Gρ + (Gρ)†, which lets numerical anti-Hermitian parts grow).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.integrate import solve_ivp

__all__ = ["evolve_expectations", "evolve_states"]


def evolve_states(
    jump_operators: Sequence[np.ndarray],
    hamiltonian: np.ndarray | None,
    rho0: np.ndarray,
    times: Sequence[float],
    *,
    rtol: float = 1e-7,
    atol: float = 1e-9,
) -> list[np.ndarray]:
    """ρ(t) at ``times`` (ρ(0) = ``rho0``, any operator: the map is linear)."""
    n = rho0.shape[0]
    jumps = [np.ascontiguousarray(j) for j in jump_operators]
    daggers = [j.conj().T.copy() for j in jumps]
    g = -0.5 * sum(d @ j for j, d in zip(jumps, daggers, strict=True))
    if hamiltonian is not None:
        g = g - 1j * hamiltonian
    g_dagger = g.conj().T.copy()

    def rhs(_t, y):
        r = y.reshape(n, n)
        out = g @ r + r @ g_dagger
        for j, d in zip(jumps, daggers, strict=True):
            out += j @ r @ d
        return out.ravel()

    times = np.asarray(times, dtype=float)
    solution = solve_ivp(
        rhs, (times[0], times[-1]), rho0.astype(complex).ravel(), t_eval=times,
        method="DOP853", rtol=rtol, atol=atol,
    )  # fmt: skip
    return [solution.y[:, i].reshape(n, n) for i in range(times.size)]


def evolve_expectations(
    jump_operators: Sequence[np.ndarray],
    hamiltonian: np.ndarray | None,
    rho0: np.ndarray,
    times: Sequence[float],
    observables: Sequence[np.ndarray],
    *,
    rtol: float = 1e-7,
    atol: float = 1e-9,
) -> np.ndarray:
    """Tr(O ρ(t)) for every observable (rows) at ``times`` (columns)."""
    states = evolve_states(jump_operators, hamiltonian, rho0, times, rtol=rtol, atol=atol)
    return np.array([[np.trace(o @ r).real for r in states] for o in observables])
