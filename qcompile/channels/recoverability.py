r"""Recoverability of a channel's input from its output (seed 000 Sec. IV, spec 000 §3).

For homogenization the input qubit ρ_S is carried by an isometry V into the final system S'
and the reservoir R. The map to S' is ζ̂_N, which approaches the constant channel
P(ρ) = ξ tr ρ; the map to R is the complementary channel ζ_N. The paper's claim (Bény–Oreshkov)
is that the input is recoverable from R to the extent that ζ̂_N is constant:

* δ_N = ‖ζ̂_N − P‖⋄, the diamond distance (trace norm, so 0 ≤ δ ≤ 2), by Watrous' SDP for a
  difference of channels: ‖Φ − Ψ‖⋄ = 2 min{λ : Z ⪰ 0, Z ⪰ J_Φ − J_Ψ, tr_out Z ⪯ λ1};
* the best recovery R: R → S, by its entanglement fidelity F_e(R∘ζ) = ⟨Ω|J_{R∘ζ}|Ω⟩/d² — a
  linear function of R's Choi matrix, maximised over channels by an SDP;
* the Petz (transpose) recovery R_P(X) = σ^{1/2} ζ†(ζ(σ)^{−1/2} X ζ(σ)^{−1/2}) σ^{1/2},
  σ = 1/d, which Barnum–Knill guarantees F_e(R_P∘ζ) ≥ F_e(R_opt∘ζ)²;
* the worst-case error ε_N = min_R ‖R∘ζ − id‖⋄, an SDP in R's Choi matrix jointly with
  Watrous' Z. Kretschmann–Schlingemann–Werner's theorem (for an exact complementary pair)
  bounds ε ≤ 2√δ; the paper quotes a recovery precision 2√2 δ.

Each SDP is built once per size with its data as cvxpy parameters (DPP: canonicalised
once, then only refilled — compiling the problem was ~3/4 of a bootstrap's SDP time) and
solved by cvxpy with SCS at tolerance 1e-9 (as accurate as the interior-point
Clarabel to ~1e-9 on these problems, and 10-20x faster on a 4-qubit reservoir). The
recovery is searched on the support of ζ(1) only (a channel's outputs live there), so an
N-qubit reservoir reached through a qubit isometry costs an SDP of size 8, not 2^{N+1}.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass
from functools import cache

import numpy as np

from qcompile.channels.choi import (
    apply_choi,
    constant_channel_choi,
    identity_choi,
    kraus_from_choi,
)
from qcompile.errors import BackendUnavailable

__all__ = [
    "RecoverabilityPoint",
    "diamond_distance",
    "entanglement_fidelity",
    "optimal_recovery",
    "petz_recovery",
    "recoverability_point",
    "recovery_diamond_error",
    "SOLVER",
    "TOLERANCE",
    "solver_options",
]

#: cvxpy's solver for every SDP here, and its settings.
SOLVER = "SCS"
#: Default tolerance (absolute and relative) of every SDP: exact channels to ~1e-9. An
#: estimated channel, whose statistical error is ~1e-2, is solved to 1e-6 (``tol``).
TOLERANCE = 1e-9


def solver_options(tol: float) -> dict[str, float | int]:
    """SCS's settings for tolerance ``tol``."""
    return {"eps_abs": tol, "eps_rel": tol, "max_iters": 200_000}


_SUPPORT_TOL = 1e-10


def _cvxpy():
    try:
        import cvxpy
    except ImportError as exc:  # a dependency of qcompile; say so if it was removed
        raise BackendUnavailable(
            "recoverability needs cvxpy (a dependency of qcompile): pip install cvxpy"
        ) from exc
    return cvxpy


def _solve(problem, tol: float) -> float:
    # no warm start: a cached problem's previous solution must not change this one's
    with warnings.catch_warnings():  # cvxpy's compile-speed hint is for us, not for a user
        warnings.filterwarnings("ignore", "Constraint #.* too many subexpressions", UserWarning)
        problem.solve(solver=SOLVER, warm_start=False, **solver_options(tol))
    if problem.status not in ("optimal", "optimal_inaccurate"):
        raise ArithmeticError(f"the SDP ended {problem.status!r} (solver {SOLVER})")
    return float(problem.value)


def trace_output(j, d_in: int, d_out: int):
    """tr_out of a Choi matrix (numpy or cvxpy), input factor first: Σ_o J[o::d_out, o::d_out].
    (Slices, not ``cvxpy.partial_trace``'s Kronecker terms: 10x faster to compile.)"""
    return sum(j[o::d_out, o::d_out] for o in range(d_out))


@cache
def _diamond_problem(n: int, d_in: int):
    """Watrous' SDP for ‖Φ_a − Φ_b‖⋄ with the Choi difference as a parameter: built and
    canonicalised once per size, each solve then only refills the data (cvxpy's DPP)."""
    cp = _cvxpy()
    delta = cp.Parameter((n, n), hermitian=True)
    z = cp.Variable((n, n), hermitian=True)
    lam = cp.Variable()
    constraints = [
        z >> 0,
        z - delta >> 0,
        trace_output(z, d_in, n // d_in) << lam * np.eye(d_in),
    ]
    return cp.Problem(cp.Minimize(lam), constraints), delta


def diamond_distance(
    choi_a: np.ndarray, choi_b: np.ndarray, d_in: int, *, tol: float = TOLERANCE
) -> float:
    """‖Φ_a − Φ_b‖⋄ of two channels (trace preserving) from their Choi matrices; in [0, 2]."""
    difference = choi_a - choi_b
    problem, delta = _diamond_problem(difference.shape[0], d_in)
    delta.value = 0.5 * (difference + difference.conj().T)
    return min(2.0, max(0.0, 2.0 * _solve(problem, tol)))


def entanglement_fidelity(choi: np.ndarray) -> float:
    """F_e = ⟨Ω|J|Ω⟩/d² of a channel d → d: the overlap of (id ⊗ E)(Φ) with Φ."""
    d = math.isqrt(choi.shape[0])
    omega = np.eye(d).reshape(d * d)
    return float(np.real(omega @ choi @ omega)) / d**2


def _support(choi: np.ndarray, d_in: int) -> np.ndarray:
    """Orthonormal columns spanning the support of E(1): where every output of E lives."""
    values, vectors = np.linalg.eigh(apply_choi(choi, np.eye(d_in)))
    return vectors[:, values > _SUPPORT_TOL * max(values.max(), 1.0)]


def _compressed_outputs(choi: np.ndarray, d_in: int) -> tuple[np.ndarray, list[list[np.ndarray]]]:
    """The support Q and Q†E(|a⟩⟨b|)Q for every matrix unit |a⟩⟨b| of the input."""
    q = _support(choi, d_in)
    units = []
    for a in range(d_in):
        row = []
        for b in range(d_in):
            unit = np.zeros((d_in, d_in))
            unit[a, b] = 1.0
            row.append(q.conj().T @ apply_choi(choi, unit) @ q)
        units.append(row)
    return q, units


def _recovery_variable(cp, r: int, d: int):
    """A recovery channel r → d as its Choi matrix, with the CPTP constraints."""
    j = cp.Variable((r * d, r * d), hermitian=True)
    return j, [j >> 0, trace_output(j, r, d) == np.eye(r)]


@cache
def _recovery_problem(r: int, d_in: int):
    """max_R Re tr(O J_R) over recovery channels r → d_in, the objective O a parameter (DPP)."""
    cp = _cvxpy()
    objective = cp.Parameter((r * d_in, r * d_in), complex=True)
    j, constraints = _recovery_variable(cp, r, d_in)
    problem = cp.Problem(cp.Maximize(cp.real(cp.trace(objective @ j))), constraints)
    return problem, objective, j


def optimal_recovery(
    choi: np.ndarray, d_in: int, *, tol: float = TOLERANCE
) -> tuple[float, np.ndarray]:
    """max_R F_e(R∘E) over channels R and the optimal R's Choi matrix on the support of E(1)
    (input dimension: that support's)."""
    _, units = _compressed_outputs(choi, d_in)
    r = units[0][0].shape[0]
    objective = np.zeros((r * d_in, r * d_in), dtype=complex)
    for a in range(d_in):
        for b in range(d_in):
            flip = np.zeros((d_in, d_in))
            flip[b, a] = 1.0
            objective += np.kron(units[a][b].T, flip)
    problem, parameter, j = _recovery_problem(r, d_in)
    parameter.value = objective / d_in**2
    fidelity = _solve(problem, tol)
    return min(1.0, fidelity), np.array(j.value)


@cache
def _recovery_error_problem(r: int, d_in: int):
    """min over R and Watrous' Z of ‖R∘E − id‖⋄, the compressed outputs U_ab = Q†E(|a⟩⟨b|)Q
    parameters (DPP): R(U) = tr_1[(Uᵀ ⊗ 1) J_R] = Σ_ik U[i, k] J_R[i-th, k-th block]."""
    cp = _cvxpy()
    units = [[cp.Parameter((r, r), complex=True) for _ in range(d_in)] for _ in range(d_in)]
    j, constraints = _recovery_variable(cp, r, d_in)

    def block(i: int, k: int):
        return j[i * d_in : (i + 1) * d_in, k * d_in : (k + 1) * d_in]

    blocks = [
        [sum(units[a][b][i, k] * block(i, k) for i in range(r) for k in range(r))
         for b in range(d_in)]
        for a in range(d_in)
    ]  # fmt: skip
    composite = cp.bmat(blocks)  # J_{R∘E}: block (a, b) is R(E(|a⟩⟨b|))
    z = cp.Variable((d_in * d_in, d_in * d_in), hermitian=True)
    lam = cp.Variable()
    constraints += [
        z >> 0,
        z - (identity_choi(d_in) - composite) >> 0,
        trace_output(z, d_in, d_in) << lam * np.eye(d_in),
    ]
    return cp.Problem(cp.Minimize(lam), constraints), units


def recovery_diamond_error(choi: np.ndarray, d_in: int, *, tol: float = TOLERANCE) -> float:
    """ε = min_R ‖R∘E − id‖⋄ over recovery channels R (one SDP in R and Watrous' Z)."""
    _, units = _compressed_outputs(choi, d_in)
    problem, parameters = _recovery_error_problem(units[0][0].shape[0], d_in)
    for a in range(d_in):
        for b in range(d_in):
            parameters[a][b].value = units[a][b]
    return min(2.0, max(0.0, 2.0 * _solve(problem, tol)))


def petz_recovery(choi: np.ndarray, d_in: int) -> float:
    """F_e of the Petz recovery with reference state 1/d (the transpose channel)."""
    kraus = kraus_from_choi(choi, d_in)
    values, vectors = np.linalg.eigh(apply_choi(choi, np.eye(d_in) / d_in))
    keep = values > _SUPPORT_TOL * max(values.max(), 1e-300)
    inv_sqrt = (vectors[:, keep] / np.sqrt(values[keep])) @ vectors[:, keep].conj().T
    recovery = [math.sqrt(1.0 / d_in) * k.conj().T @ inv_sqrt for k in kraus]
    overlap = np.array([[np.trace(r @ k) for k in kraus] for r in recovery])
    return float(np.sum(np.abs(overlap) ** 2)) / d_in**2


@dataclass(frozen=True)
class RecoverabilityPoint:
    """The recoverability numbers of one ζ̂ (input → system) and ζ (input → reservoir).

    ``delta`` = ‖ζ̂ − P‖⋄; ``recovery_fidelity`` = max_R F_e(R∘ζ) (SDP); ``petz_fidelity`` =
    F_e of the Petz recovery; ``recovery_error`` = min_R ‖R∘ζ − id‖⋄ (None when not asked);
    ``bound_paper`` = 2√2 δ and ``bound_ksw`` = 2√δ, the two bounds on ``recovery_error``.
    """

    delta: float
    recovery_fidelity: float
    petz_fidelity: float
    recovery_error: float | None
    bound_paper: float
    bound_ksw: float

    def to_dict(self) -> dict[str, float | None]:
        return asdict(self)


def recoverability_point(
    system_choi: np.ndarray,
    reservoir_choi: np.ndarray,
    fixed_state: np.ndarray,
    *,
    d_in: int = 2,
    with_error: bool = True,
    tol: float = TOLERANCE,
) -> RecoverabilityPoint:
    """δ = ‖ζ̂ − P_σ‖⋄ with P_σ(ρ) = σ tr ρ, σ = ``fixed_state``, and the recovery of the
    input from ζ's output: optimal (SDP), Petz, and (``with_error``) the diamond error."""
    delta = diamond_distance(system_choi, constant_channel_choi(fixed_state, d_in), d_in, tol=tol)
    fidelity, _ = optimal_recovery(reservoir_choi, d_in, tol=tol)
    return RecoverabilityPoint(
        delta=delta,
        recovery_fidelity=fidelity,
        petz_fidelity=petz_recovery(reservoir_choi, d_in),
        recovery_error=(
            recovery_diamond_error(reservoir_choi, d_in, tol=tol) if with_error else None
        ),
        bound_paper=2.0 * math.sqrt(2.0) * delta,
        bound_ksw=2.0 * math.sqrt(delta),
    )
