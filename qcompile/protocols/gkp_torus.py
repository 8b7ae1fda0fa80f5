r"""The GKP qubit's exact logical rates on the torus and their asymptotics — spec 003,
Theorems 3 and 5, Facts 4 and 6 (seed 003, Sellem et al., arXiv:2304.03806).

Periodic observables close under the Lindbladian, so the logical rates are eigenvalues of a
Witten Laplacian on the 2-torus: for the square code the 1-D operator
𝒦₁ = −a∂² + b sin 2x ∂ with a = 4π²𝒜²ε² + πκσ/2, b = 4πε𝒜 (quadrature noise σ), whose ν₁ is
the logical rate; for the hexagonal code the triply degenerate μ₁ of 𝒦_hex. Asymptotics:
16ε𝒜e^{−1/h_x}, h_x = πε𝒜 + κσ/(8ε𝒜) (square); 96ε𝒜e^{−4/h}, h = 2√3πε𝒜 + κσ/(4ε𝒜)
(hexagonal). Conventions as in :mod:`qcompile.protocols.gkp`.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["asymptotic_rate", "torus_rates_hexagonal", "torus_rates_square"]


def _square_coefficients(epsilon, sigma, prefactor, kappa):
    a = 4 * math.pi**2 * epsilon**2 * prefactor**2 + math.pi * kappa * sigma / 2
    b = 4 * math.pi * epsilon * prefactor
    return a, b


def torus_rates_square(
    epsilon: float, sigma: float = 0.0, *, prefactor: float = 1.0, kappa: int = 1, modes: int = 200
) -> np.ndarray:
    """Eigenvalues ν₀ = 0 < ν₁ < … of 𝒦₁ = −a∂² + b sin 2x ∂ on the circle (Fourier basis,
    ``modes`` each side). The square code's logical Z and X decay at ν₁, Y at 2ν₁ (exact)."""
    a, b = _square_coefficients(epsilon, sigma, prefactor, kappa)
    values = []
    for parity in (0, 1):  # 𝒦₁ couples m to m ± 2 only: even and odd m are separate blocks
        ms = np.arange(-modes, modes + 1)
        ms = ms[ms % 2 == parity]
        op = np.diag(-a * ms * ms.astype(float))
        op[np.arange(1, ms.size), np.arange(ms.size - 1)] = -b * ms[:-1] / 2  # ⟨m|𝒦|m−2⟩
        op[np.arange(ms.size - 1), np.arange(1, ms.size)] = b * ms[1:] / 2  # ⟨m|𝒦|m+2⟩
        values.append(np.linalg.eigvals(op))
    return np.sort(-np.concatenate(values).real)


def torus_rates_hexagonal(
    epsilon: float, sigma: float = 0.0, *, prefactor: float = 1.0, kappa: int = 1,
    modes: int = 20, count: int = 6,
) -> np.ndarray:  # fmt: skip
    """The slowest eigenvalues of Theorem 5's 𝒦_hex on the torus (Fourier basis); the logical
    rate is the triply degenerate μ₁ = μ₂ = μ₃."""
    eta2 = 8 * math.pi / (math.sqrt(3) * kappa)
    d0 = kappa**2 * epsilon**2 * eta2 * prefactor**2
    a = (1.5 * d0 + sigma * kappa**2 / 2) * eta2 / 4
    b = kappa * epsilon * eta2 * prefactor
    ms = np.arange(-modes, modes + 1)
    n = ms.size
    op = np.zeros((n * n, n * n))
    terms = (((1, 0), (1.0, 0.5)), ((0, 1), (0.5, 1.0)), ((-1, 1), (-0.5, 0.5)))
    for i, m in enumerate(ms):
        for j, k in enumerate(ms):
            row = i * n + j
            op[row, row] += -a * (m * m + m * k + k * k)
            for (w0, w1), (cx, cy) in terms:
                for sign in (+1, -1):
                    mp, kp = m - sign * 2 * w0, k - sign * 2 * w1
                    if abs(mp) <= modes and abs(kp) <= modes:
                        op[row, (mp + modes) * n + (kp + modes)] += (
                            -b * (cx * mp + cy * kp) * 0.5 * sign
                        )
    return np.sort(-np.linalg.eigvals(op).real)[:count]


def asymptotic_rate(
    lattice: str, epsilon: float, sigma: float = 0.0, *, prefactor: float = 1.0, kappa: int = 1
) -> float:
    """Facts 4 and 6: 16ε𝒜e^{−1/h_x} (square), 96ε𝒜e^{−4/h} (hexagonal)."""
    if lattice == "square":
        h = math.pi * epsilon * prefactor + kappa * sigma / (8 * epsilon * prefactor)
        return 16 * epsilon * prefactor * math.exp(-1 / h)
    h = 2 * math.sqrt(3) * math.pi * epsilon * prefactor + kappa * sigma / (4 * epsilon * prefactor)
    return 96 * epsilon * prefactor * math.exp(-4 / h)
