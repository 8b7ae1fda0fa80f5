r"""The harmonic-oscillator basis shared by the bosonic protocols and their qubit encodings.

[q, p] = iκ (spec 003 §1; κ = 1: q = (a + a†)/√2). Hermite functions
φ_n(x) = (2ⁿn!√π)^{−1/2} Hₙ(x) e^{−x²/2} by the stable three-term recurrence; the position
wavefunction of |n⟩ is κ^{−1/4} φ_n(q/√κ) and its momentum wavefunction (−i)ⁿ times the same
function of p. :func:`check_cutoff` is the truncation rule of the cat protocols: the Fock
cutoff must hold a cat of N photons, ``levels_per_photon·N + margin`` levels, and stay
<= :data:`MAX_CUTOFF`.
"""

from __future__ import annotations

import math

import numpy as np

from qcompile.errors import InvalidParameter

__all__ = [
    "MAX_CUTOFF",
    "check_cutoff",
    "hermite_functions",
    "quadratures",
    "position_wavefunction",
    "momentum_wavefunction",
]

#: Largest Fock cutoff a protocol accepts (dense superoperators of dimension cutoff² beyond).
MAX_CUTOFF = 200


def check_cutoff(cutoff: int, photons: float, *, levels_per_photon: float, margin: int) -> int:
    """``cutoff`` as an int if it holds ``levels_per_photon·photons + margin`` levels and is
    at most :data:`MAX_CUTOFF`; a photon number no cutoff can hold names ``photons``."""
    need = math.ceil(levels_per_photon * photons + margin)
    if need > MAX_CUTOFF:  # no cutoff holds this cat: the photon number is what to change
        most = (MAX_CUTOFF - margin) / levels_per_photon
        rule = f"a Fock cutoff >= {levels_per_photon:g}N + {margin} must stay <= {MAX_CUTOFF}"
        raise InvalidParameter("photons", photons, f"0 < N <= {most:g} ({rule})")
    if isinstance(cutoff, bool) or int(cutoff) != cutoff or not need <= cutoff <= MAX_CUTOFF:
        raise InvalidParameter("cutoff", cutoff, f"an integer {need} <= cutoff <= {MAX_CUTOFF} "
                               f"for N = {photons:g} (|alpha|^2 = {2 * photons:g})")  # fmt: skip
    return int(cutoff)


def hermite_functions(count: int, x: np.ndarray) -> np.ndarray:
    """φ_0 … φ_{count−1} at the points ``x`` (rows: n)."""
    x = np.asarray(x, dtype=float)
    psi = np.zeros((count, x.size))
    psi[0] = np.pi**-0.25 * np.exp(-(x**2) / 2)
    if count > 1:
        psi[1] = math.sqrt(2) * x * psi[0]
    for n in range(2, count):
        psi[n] = math.sqrt(2 / n) * x * psi[n - 1] - math.sqrt((n - 1) / n) * psi[n - 2]
    return psi


def quadratures(levels: int, kappa: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """a, q = √(κ/2)(a + a†), p = −i√(κ/2)(a − a†) on ``levels`` Fock levels."""
    a = np.diag(np.sqrt(np.arange(1, levels)), 1).astype(complex)
    s = math.sqrt(kappa / 2)
    return a, s * (a + a.conj().T), -1j * s * (a - a.conj().T)


def position_wavefunction(fock: np.ndarray, q: np.ndarray, kappa: int = 1) -> np.ndarray:
    """ψ(q) = Σₙ cₙ κ^{−1/4} φₙ(q/√κ) of the Fock amplitudes ``fock``."""
    fock = np.asarray(fock)
    basis = hermite_functions(fock.size, np.asarray(q) / math.sqrt(kappa))
    return kappa**-0.25 * (fock @ basis)


def momentum_wavefunction(fock: np.ndarray, p: np.ndarray, kappa: int = 1) -> np.ndarray:
    """ψ̃(p) = Σₙ cₙ (−i)ⁿ κ^{−1/4} φₙ(p/√κ) (the Fourier transform of ψ)."""
    fock = np.asarray(fock)
    return position_wavefunction(fock * (-1j) ** np.arange(fock.size), p, kappa)
