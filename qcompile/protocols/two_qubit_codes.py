r"""One logical qubit in two physical qubits: Bell basis, encodings, ensembles, figures of merit.

Spec 001 §3–§7 (seed 001, Di Bello et al., arXiv:2310.05561). Conventions: |↑⟩ = |0⟩,
|↓⟩ = |1⟩, qubit 1 is the left tensor factor; the Bell basis is

    |S⟩ = (|↑↓⟩ − |↓↑⟩)/√2,  |T_AF⟩ = (|↑↓⟩ + |↓↑⟩)/√2,  |T_F^±⟩ = (|↑↑⟩ ± |↓↓⟩)/√2.

* Encodings (§7.1): AF (|↑_L⟩ = S, |↓_L⟩ = T_AF), SYMM(|a₁|², |b₁|²) (eqs. 22–23),
  NSYMM(c_AF²) (eq. 25), any orthonormal pair, and the unencoded physical qubit.
* Logical Paulis (eqs. 18–20) and the encoded state ρ_L = ½(1 + Σ_k ⟨σ_k^L⟩σ_k) (eq. 21).
* Ensembles (eqs. 13–14): magnitudes |c_k|² and phases on grids, the *first non-zero*
  coefficient real (spec §4: only then is the ensemble a 1-design), and the test
  𝒩 = ‖(d/N) Σ|ψ_i⟩⟨ψ_i| − 1‖_F.
* Figures of merit: the fidelity to the closed evolution (eq. 15, squared Uhlmann by
  default, unsquared on request), the logical purity Tr ρ_L², the logical-subspace fidelity,
  the leakage (eq. 26 as reconstructed in spec §7.3, which can be negative), and the fit (24).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from qcompile.errors import InvalidParameter

__all__ = [
    "BELL",
    "Encoding",
    "af",
    "symm",
    "nsymm",
    "custom",
    "PHYSICAL",
    "parse_encoding",
    "state_ensemble",
    "ensemble_norm",
    "OCTAHEDRON",
    "two_qubit_ensemble",
    "uhlmann_fidelity",
    "encoding_observables",
    "fit_fidelity",
    "fidelity_model",
]

_UP, _DOWN = np.array([1.0, 0.0]), np.array([0.0, 1.0])
_UD, _DU = np.kron(_UP, _DOWN), np.kron(_DOWN, _UP)
_UU, _DD = np.kron(_UP, _UP), np.kron(_DOWN, _DOWN)
#: The Bell basis of spec 001 §3 (qubit 1 leftmost, |↑⟩ = |0⟩).
BELL: dict[str, np.ndarray] = {
    "S": (_UD - _DU) / math.sqrt(2),
    "T_AF": (_UD + _DU) / math.sqrt(2),
    "T_F+": (_UU + _DD) / math.sqrt(2),
    "T_F-": (_UU - _DD) / math.sqrt(2),
}
_SX = np.array([[0, 1], [1, 0]], dtype=complex)
_SY = np.array([[0, -1j], [1j, 0]])
_SZ = np.diag([1.0, -1.0]).astype(complex)


@dataclass(frozen=True)
class Encoding:
    """A logical qubit: orthonormal two-qubit states |↑_L⟩, |↓_L⟩ (``up``, ``down``).

    The physical-qubit reference is :data:`PHYSICAL` (``up`` and ``down`` are ``None``).
    """

    name: str
    up: np.ndarray | None
    down: np.ndarray | None
    label: str = ""

    @property
    def is_physical(self) -> bool:
        return self.up is None

    def paulis(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """σ_x^L, σ_y^L, σ_z^L (eqs. 18–20)."""
        u, d = self.up, self.down
        ud, du = np.outer(u, d.conj()), np.outer(d, u.conj())
        return ud + du, -1j * ud + 1j * du, np.outer(u, u.conj()) - np.outer(d, d.conj())

    def projector(self) -> np.ndarray:
        return np.outer(self.up, self.up.conj()) + np.outer(self.down, self.down.conj())

    def state(self, c_up: complex, c_down: complex) -> np.ndarray:
        return c_up * self.up + c_down * self.down

    def logical_state(self, rho: np.ndarray) -> np.ndarray:
        """ρ_L of eq. (21) (a valid state, |r| ≤ Tr P_L ρ ≤ 1)."""
        r = [float(np.real(np.trace(rho @ op))) for op in self.paulis()]
        return 0.5 * (np.eye(2) + r[0] * _SX + r[1] * _SY + r[2] * _SZ)

    def code_states(self) -> list[np.ndarray]:
        """The 6 logical octahedron states (a 3-design of the logical Bloch sphere)."""
        return [self.state(cu, cd) for cu, cd in OCTAHEDRON]


def _unit(vector: np.ndarray, name: str) -> np.ndarray:
    vector = np.asarray(vector, dtype=complex).reshape(-1)
    if vector.shape != (4,) or not np.all(np.isfinite(vector)):
        raise InvalidParameter(name, vector.tolist(), "4 finite amplitudes (a two-qubit state)")
    norm = np.linalg.norm(vector)
    if abs(norm - 1) > 1e-9:
        raise InvalidParameter(name, vector.tolist(), f"a normalised state (norm {norm:.6g})")
    return vector


def custom(up: Sequence[complex], down: Sequence[complex], name: str = "custom") -> Encoding:
    """Any orthonormal pair of two-qubit states (computational-basis amplitudes)."""
    u, d = _unit(up, "up"), _unit(down, "down")
    overlap = abs(np.vdot(u, d))
    if overlap > 1e-9:
        raise InvalidParameter("down", d.tolist(), f"a state orthogonal to up (|<up|down>| = "
                               f"{overlap:.3g})")  # fmt: skip
    return Encoding(name, u, d, name)


def _probability(name: str, value: float) -> float:
    if not (isinstance(value, (int, float)) and 0 <= value <= 1):
        raise InvalidParameter(name, value, "a probability 0 <= p <= 1")
    return float(value)


def af() -> Encoding:
    """AF, single-level encoding: |↑_L⟩ = |S⟩, |↓_L⟩ = |T_AF⟩ (spec §7.1)."""
    return Encoding("af", BELL["S"].astype(complex), BELL["T_AF"].astype(complex), "AF")


def symm(a1_sq: float = 0.8, b1_sq: float = 0.2) -> Encoding:
    """SYMM: |↑_L⟩ = a₁|S⟩ + a₂|T_AF⟩, |↓_L⟩ = b₁|T_F^+⟩ + b₂|T_F^−⟩, real (eqs. 22–23)."""
    a1, b1 = _probability("a1_sq", a1_sq), _probability("b1_sq", b1_sq)
    up = math.sqrt(a1) * BELL["S"] + math.sqrt(1 - a1) * BELL["T_AF"]
    down = math.sqrt(b1) * BELL["T_F+"] + math.sqrt(1 - b1) * BELL["T_F-"]
    return Encoding("symm", up.astype(complex), down.astype(complex), f"SYMM({a1:g},{b1:g})")


def nsymm(c_af_sq: float = 0.8) -> Encoding:
    """NSYMM: |↑_L⟩ = |S⟩, |↓_L⟩ = c_AF|T_AF⟩ + c(|T_F^+⟩ + |T_F^−⟩), c = √((1−c_AF²)/2)
    (eq. 25)."""
    c2 = _probability("c_af_sq", c_af_sq)
    c = math.sqrt((1 - c2) / 2)
    down = math.sqrt(c2) * BELL["T_AF"] + c * (BELL["T_F+"] + BELL["T_F-"])
    return Encoding("nsymm", BELL["S"].astype(complex), down.astype(complex), f"NSYMM({c2:g})")


#: The unencoded reference: qubit 1's reduced state over the 28-state two-qubit ensemble.
PHYSICAL = Encoding("physical", None, None, "physical qubit")

ENCODING_FORMS = (
    "af, physical, symm[:a1_sq,b1_sq] (default 0.8,0.2), nsymm[:c_af_sq] (default 0.8), or "
    "custom:<up>/<down> with 4 comma-separated amplitudes each"
)


def parse_encoding(text: str) -> Encoding:
    """``af``, ``physical``, ``symm:0.8,0.2``, ``nsymm:0.8``, ``custom:0,1,-1,0/0,1,1,0``
    (custom amplitudes in the computational basis, normalised by the caller)."""
    name, _, args = text.strip().partition(":")
    try:
        values = [complex(v) for v in args.replace("/", ",").split(",") if v.strip()]
    except ValueError:
        raise InvalidParameter("encoding", text, ENCODING_FORMS) from None
    real = [v.real for v in values]
    if name == "af" and not values:
        return af()
    if name == "physical" and not values:
        return PHYSICAL
    if name == "symm" and len(values) in (0, 2):
        return symm(*real) if values else symm()
    if name == "nsymm" and len(values) in (0, 1):
        return nsymm(*real) if values else nsymm()
    if name == "custom" and args.count("/") == 1:
        up, down = args.split("/")
        return custom([complex(v) for v in up.split(",")], [complex(v) for v in down.split(",")])
    raise InvalidParameter("encoding", text, ENCODING_FORMS)


# -- ensembles (eqs. 13-14) -------------------------------------------------------------------
def state_ensemble(dimension: int, magnitudes: int, phases: int) -> list[np.ndarray]:
    """States Σ_k c_k|k⟩ with |c_k|² ∈ {0, 1/m, …, 1} (``magnitudes`` = m), arg c_k ∈
    {2πj/``phases``}, normalised, no phase on a zero coefficient, the first non-zero real."""
    return [s.copy() for s in _state_ensemble(dimension, magnitudes, phases)]


@cache
def _state_ensemble(dimension: int, magnitudes: int, phases: int) -> tuple[np.ndarray, ...]:
    """:func:`state_ensemble`, computed once per arguments (a product over (m+1)·phases
    values per coefficient: 0.02 s each time for the d = 4 ensemble)."""
    grid = [(k / magnitudes, 2 * math.pi * j / phases) for k in range(magnitudes + 1)
            for j in range(phases)]  # fmt: skip
    states = []
    for combo in itertools.product(grid, repeat=dimension):
        p = [c[0] for c in combo]
        if abs(sum(p) - 1) > 1e-9 or any(m == 0 and f != 0 for m, f in combo):
            continue
        first = next(i for i, m in enumerate(p) if m > 0)
        if combo[first][1] != 0:
            continue
        states.append(np.sqrt(p) * np.exp(1j * np.array([c[1] for c in combo])))
    return tuple(states)


def ensemble_norm(states: Sequence[np.ndarray]) -> float:
    """𝒩 of eq. (14): zero for a 1-design."""
    stacked = np.array(states)
    d = stacked.shape[1]
    return float(np.linalg.norm(d * (stacked.T @ stacked.conj()) / len(stacked) - np.eye(d)))


#: The logical octahedron (|↑⟩, |↓⟩, |±⟩, |±i⟩) as (c_↑, c_↓): 6 states, a 3-design.
OCTAHEDRON: tuple[tuple[complex, complex], ...] = ((1, 0), (0, 1)) + tuple(
    (1 / math.sqrt(2), p / math.sqrt(2)) for p in (1, -1, 1j, -1j)
)


def two_qubit_ensemble(basis: str = "bell") -> list[np.ndarray]:
    """The 28-state d = 4 ensemble of spec §4 (|c|² ∈ {0, ½, 1}, phases kπ/2) as
    computational-basis vectors. ``basis="bell"``: coefficients on S, T_AF, T_F^+, T_F^− as
    eq. (13) says; ``"computational"``: on |↑↑⟩, |↑↓⟩, |↓↑⟩, |↓↓⟩, as the spec's own scripts
    (``post_map.py``) did for their physical-qubit numbers (the two averages differ)."""
    if basis not in ("bell", "computational"):
        raise InvalidParameter("basis", basis, "bell or computational")
    coefficients = state_ensemble(4, 2, 4)
    if basis == "computational":
        return coefficients
    bell = np.array([BELL["S"], BELL["T_AF"], BELL["T_F+"], BELL["T_F-"]]).T
    return [bell @ c for c in coefficients]


# -- figures of merit --------------------------------------------------------------------------
def _psd_sqrt(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(0.5 * (matrix + matrix.conj().T))
    return (vectors * np.sqrt(np.clip(values, 0, None))) @ vectors.conj().T


def uhlmann_fidelity(a: np.ndarray, b: np.ndarray, squared: bool = True) -> float:
    """(Tr √(√a b √a))², or without the square (Nielsen & Chuang). For 2×2 states the
    closed form Tr(ab) + 2√(det a det b) (squared)."""
    if a.shape == (2, 2):
        det = max(float(np.real(np.linalg.det(a) * np.linalg.det(b))), 0.0)
        value2 = float(np.real(np.trace(a @ b))) + 2 * math.sqrt(det)
        value2 = min(max(value2, 0.0), 1.0)
        return value2 if squared else math.sqrt(value2)
    root = _psd_sqrt(a)
    value = float(np.real(np.trace(_psd_sqrt(root @ b @ root))))
    value = min(max(value, 0.0), 1.0)
    return value**2 if squared else value


def _reduced_first(rho: np.ndarray) -> np.ndarray:
    return np.einsum("ajbj->ab", rho.reshape(2, 2, 2, 2))


def encoding_observables(
    encoding: Encoding,
    evolve: Callable[[np.ndarray], Sequence[np.ndarray]],
    closed: Callable[[np.ndarray], Sequence[np.ndarray]],
    *,
    squared: bool = True,
    ensemble_basis: str = "bell",
) -> dict[str, np.ndarray]:
    """Ensemble-averaged figures of merit of ``encoding`` over time.

    ``evolve(ψ₀)`` returns the open-system states ρ(t_n), ``closed(ψ₀)`` the closed states
    ψ₀(t_n) = e^{−iH_S t_n}ψ₀. For a code: average over its 6 octahedron states of the
    fidelity ⟨ψ₀(t)|ρ(t)|ψ₀(t)⟩ (eq. 15), the logical purity Tr ρ_L², the logical-subspace
    fidelity F(ρ_L^closed, ρ_L) and the leakage Tr P_L ρ_closed − Tr P_L ρ (eq. 26). For the
    physical qubit: average over the 28-state ensemble of the Uhlmann fidelity of qubit 1's
    reduced states (spec §5) and of that reduced state's purity (``ensemble_basis`` as in
    :func:`two_qubit_ensemble`).
    """
    if encoding.is_physical:
        states = two_qubit_ensemble(ensemble_basis)
    else:
        states = encoding.code_states()
        projector = encoding.projector()
    acc: dict[str, np.ndarray] = {}

    def add(key: str, values: list[float]) -> None:
        acc[key] = acc.get(key, 0.0) + np.array(values) / len(states)

    for psi in states:
        rhos, kets = evolve(psi), closed(psi)
        if encoding.is_physical:
            reduced = [_reduced_first(r) for r in rhos]
            closed_reduced = [_reduced_first(np.outer(k, k.conj())) for k in kets]
            pairs = zip(closed_reduced, reduced, strict=True)
            add("fidelity", [uhlmann_fidelity(c, r, squared) for c, r in pairs])
            add("purity", [float(np.real(np.trace(r @ r))) for r in reduced])
            continue
        fidelity, purity, logical, leakage = [], [], [], []
        for rho, ket in zip(rhos, kets, strict=True):
            overlap = max(float(np.real(ket.conj() @ rho @ ket)), 0.0)
            fidelity.append(overlap if squared else math.sqrt(overlap))
            rho_l = encoding.logical_state(rho)
            closed_l = encoding.logical_state(np.outer(ket, ket.conj()))
            purity.append(float(np.real(np.trace(rho_l @ rho_l))))
            logical.append(uhlmann_fidelity(closed_l, rho_l, squared))
            leakage.append(float(np.real(ket.conj() @ projector @ ket - np.trace(projector @ rho))))
        add("fidelity", fidelity)
        add("purity", purity)
        add("logical_fidelity", logical)
        add("leakage", leakage)
    return acc


def fidelity_model(t: np.ndarray, m: float, amplitude: float, omega: float, gamma: float):
    """Eq. (24) as reconstructed: 1 + m t − A[1 − e^{−γt} cos ωt] (starts at 1)."""
    return 1 + m * t - amplitude * (1 - np.exp(-gamma * t) * np.cos(omega * t))


def fit_fidelity(times: Sequence[float], fidelity: Sequence[float]) -> dict[str, float]:
    """Least-squares fit of eq. (24); returns m, A, ω, γ and the rms residual."""
    from scipy.optimize import curve_fit

    t, f = np.asarray(times, float), np.asarray(fidelity, float)
    guess = (0.0, max(1 - float(f[-1]), 1e-3), 1.0, 0.1)
    params, _ = curve_fit(
        fidelity_model, t, f, p0=guess, bounds=([-1, -2, 0, 0], [1, 2, 50, 50]), maxfev=20000
    )
    residual = float(np.sqrt(np.mean((fidelity_model(t, *params) - f) ** 2)))
    return dict(zip(("m", "A", "omega", "gamma"), map(float, params), strict=True)) | {
        "rms": residual
    }
