r"""The GKP code's Fock-space operators (spec 003 §1–3): the lattice (η, n, θ_X), the n
rotated dissipators L_θ = 𝒜 e^{iηq_θ}(1 − εηp_θ) − 1 (eqs. 4–10; ``variant="exact"``: ref.
[19]'s e^{−εN}(e^{iηq} − 1)e^{εN}), the generalised Paulis Z = sgn cos(ηq/2), X, Y = iXZ
(eqs. 22–24), the codewords, and Theorem 1's energy bound d⟨N⟩/dt ≤ −α⟨N⟩ + β.

Operators are built on ``cutoff + margin`` levels and truncated (spec §6: e^{iηq} built
inside the truncated space converges worse); functions of q with jumps by quadrature on the
Hermite functions.
"""

from __future__ import annotations

import math

import numpy as np

from qcompile.errors import InvalidParameter
from qcompile.states.oscillator_basis import hermite_functions, quadratures

__all__ = [
    "code_parameters",
    "codewords",
    "confining_epsilon",
    "dissipators",
    "energy_bound",
    "function_of",
    "function_of_q",
    "pauli_operators",
]


def code_parameters(lattice: str, kappa: int = 1) -> dict[str, float]:
    """n dissipators, lattice constant η and the angle θ_X of the X Pauli."""
    if lattice == "square":
        return {"n": 4, "eta": math.sqrt(4 * math.pi / kappa), "theta_x": math.pi / 2}
    if lattice == "hexagonal":
        return {"n": 6, "eta": math.sqrt(8 * math.pi / (math.sqrt(3) * kappa)),
                "theta_x": math.pi / 3}  # fmt: skip
    raise InvalidParameter("lattice", lattice, "square or hexagonal")


def confining_epsilon(lattice: str, prefactor: float = 1.0, kappa: int = 1) -> float:
    """Largest ε for which Theorem 1's energy bound holds (δ → 0): 𝒜(4 − κεη²) > 2."""
    eta = code_parameters(lattice, kappa)["eta"]
    if prefactor <= 0.5:
        return 0.0
    return (4 - 2 / prefactor) / (kappa * eta**2)


def energy_bound(
    lattice: str, epsilon: float, *, delta: float | None = None, prefactor: float = 1.0,
    kappa: int = 1,
) -> dict[str, float]:  # fmt: skip
    """Theorem 1 (spec 003 §3, reconstructed): d⟨N⟩/dt ≤ −α⟨N⟩ + β for the dissipators alone,
    γ = (n/4)𝒜εη[η(𝒜(4 − κεη²) − 2) − δ], α = 2κγ, β = (n/2)𝒜²κη²(1 + ε²) + (n/4)𝒜εκ²η⁴
    + (n/2)𝒜εη/δ − κγ. ``delta=None`` takes the δ that minimises the steady bound β/α."""
    from scipy.optimize import minimize_scalar

    params = code_parameters(lattice, kappa)
    n, eta, a = params["n"], params["eta"], prefactor
    room = eta * (a * (4 - kappa * epsilon * eta**2) - 2)  # δ must stay below this
    if room <= 0:
        raise InvalidParameter(
            "epsilon", epsilon, f"0 < epsilon < {confining_epsilon(lattice, prefactor, kappa):.4f}"
        )

    def constants(d: float) -> tuple[float, float]:
        gamma = n / 4 * a * epsilon * eta * (room - d)
        beta = (n / 2 * a * a * kappa * eta**2 * (1 + epsilon**2)
                + n / 4 * a * epsilon * kappa**2 * eta**4 + n / 2 * a * epsilon * eta / d
                - kappa * gamma)  # fmt: skip
        return 2 * kappa * gamma, beta

    if delta is None:
        best = minimize_scalar(lambda d: constants(d)[1] / constants(d)[0],
                               bounds=(1e-6 * room, (1 - 1e-6) * room), method="bounded",
                               options={"xatol": 1e-8})  # fmt: skip
        delta = float(best.x)
    elif not 0 < delta < room:
        raise InvalidParameter("delta", delta, f"0 < delta < {room:.4f}")
    alpha, beta = constants(delta)
    return {"alpha": alpha, "beta": beta, "delta": delta, "steady_bound": beta / alpha}


def function_of(hermitian: np.ndarray, f) -> np.ndarray:
    """f(H) of a Hermitian matrix, through its eigenbasis."""
    w, v = np.linalg.eigh(hermitian)
    return (v * f(w)) @ v.conj().T


def _rotation(levels: int, theta: float) -> np.ndarray:
    return np.diag(np.exp(1j * theta * np.arange(levels)))


def dissipators(
    cutoff: int,
    epsilon: float,
    lattice: str = "square",
    *,
    prefactor: float = 1.0,
    kappa: int = 1,
    variant: str = "first-order",
    margin: int = 80,
) -> list[np.ndarray]:
    """The n rotated L_k on ``cutoff`` Fock levels (built on cutoff + margin, truncated)."""
    params = code_parameters(lattice, kappa)
    eta, levels = params["eta"], cutoff + margin
    _, q, p = quadratures(levels, kappa)
    eye = np.eye(levels)
    if variant == "first-order":
        body = (
            prefactor * function_of(q, lambda x: np.exp(1j * eta * x)) @ (eye - epsilon * eta * p)
        )
    elif variant == "exact":
        c, s = math.cosh(epsilon), math.sinh(epsilon)
        body = (
            math.exp(-kappa * eta**2 * c * s / 2)
            * function_of(q, lambda x: np.exp(1j * eta * c * x))
            @ function_of(p, lambda x: np.exp(-eta * s * x))
        )
    else:
        raise InvalidParameter("variant", variant, "first-order or exact")
    base = (body - eye)[:cutoff, :cutoff]
    angles = 2 * np.pi * np.arange(params["n"]) / params["n"]
    return [_rotation(cutoff, t) @ base @ _rotation(cutoff, t).conj().T for t in angles]


def function_of_q(cutoff: int, f, kappa: int = 1, extent: float = 30.0, step: float = 2e-3):
    """⟨m|f(q)|n⟩ by quadrature on the Hermite functions (exact for discontinuous f, unlike
    a function of the truncated q matrix)."""
    x = np.arange(-extent, extent, step)
    psi = hermite_functions(cutoff, x)
    return ((psi * f(math.sqrt(kappa) * x)) @ psi.T * step).astype(complex)


def pauli_operators(cutoff: int, lattice: str = "square", kappa: int = 1):
    """X, Y, Z of eqs. (22–24) on ``cutoff`` Fock levels."""
    params = code_parameters(lattice, kappa)
    z = function_of_q(cutoff, lambda y: np.sign(np.cos(params["eta"] * y / 2)), kappa)
    r = _rotation(cutoff, params["theta_x"])
    x = r @ z @ r.conj().T
    return x, 1j * x @ z, z


def codewords(
    cutoff: int, epsilon: float, lattice: str = "square", kappa: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """|0_ε⟩, |1_ε⟩: the common kernel of ref. [19]'s exact operators (2-dimensional, spec 003
    C4/R5), split by the Pauli Z; Fock amplitudes on ``cutoff`` levels (built on 1.4·cutoff
    and truncated)."""
    big = int(1.4 * cutoff)
    exact = dissipators(big, epsilon, lattice, kappa=kappa, variant="exact", margin=120)
    total = sum(j.conj().T @ j for j in exact)[:cutoff, :cutoff]
    _, vectors = np.linalg.eigh(total)
    code = vectors[:, :2]
    _, _, z = pauli_operators(cutoff, lattice, kappa)
    values, rotation = np.linalg.eigh(code.conj().T @ z @ code)
    zero, one = code @ rotation[:, 1], code @ rotation[:, 0]  # Z = +1, −1
    return zero / np.linalg.norm(zero), one / np.linalg.norm(one)
