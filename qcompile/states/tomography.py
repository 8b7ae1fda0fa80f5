"""State tomography from Pauli-basis measurements: single-qubit marginals and joint states.

For a set of qubits measured together, three circuits measure all of them in the X, Y and Z
basis; ⟨σ⟩ = (n₀ − n₁)/n per qubit and basis gives the Bloch vector r. An estimate outside
the Bloch ball is shrunk radially onto it (the qubit maximum-likelihood state to first order).
Uncertainties come from a seeded parametric bootstrap of the binomial counts, so any function
of the states (a fidelity, say) gets a standard error without linearisation. Readout-mitigated
tables (:class:`~qcompile.states.mitigated_counts.MitigatedCounts`) are resampled from their raw
counts and calibration and inverted again, so the spread includes the mitigation's variance.

Joint tomography of a few qubits (k ≤ 4 in practice) measures the 3^k Pauli settings,
inverts linearly (ρ = 2^{−k} Σ_P ⟨P⟩ P, each ⟨P⟩ averaged over every setting that measures
it) and projects onto the nearest density matrix (Smolin, Gambetta, Smith, PRL 108, 070502 (2012)).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import product

import numpy as np
from qiskit.circuit import ClassicalRegister, QuantumCircuit
from qiskit.quantum_info import Pauli, SparsePauliOp

from qcompile.states.mitigated_counts import MitigatedCounts

__all__ = [
    "BASES",
    "BlochEstimate",
    "StateEstimate",
    "TomographyTask",
    "bloch_from_expectations",
    "bloch_observables",
    "pauli_observables",
    "state_from_expectations",
    "estimate_bloch",
    "estimate_state",
    "measurement_circuits",
    "closest_state",
    "project_to_ball",
    "state_tomography_circuits",
]

BASES = ("X", "Y", "Z")


@dataclass(frozen=True)
class TomographyTask:
    """Measure the single-qubit states of ``qubits`` after the unitary ``circuit``."""

    name: str
    circuit: QuantumCircuit
    qubits: tuple[int, ...]


@dataclass(frozen=True)
class BlochEstimate:
    """Estimated Bloch vectors of several qubits: ``mean`` (q, 3) and bootstrap ``samples``.

    ``samples`` has shape (B, q, 3); for an exact (infinite-shot) estimate it is empty.
    """

    mean: np.ndarray
    samples: np.ndarray
    shots: int | None

    @classmethod
    def exact(cls, vectors: np.ndarray) -> BlochEstimate:
        return cls(np.asarray(vectors, dtype=float), np.empty((0, *np.shape(vectors))), None)


def measurement_circuits(task: TomographyTask) -> list[QuantumCircuit]:
    """Three circuits: ``task.circuit`` then every qubit of the task measured in X, Y, Z."""
    circuits = []
    for basis in BASES:
        qc = task.circuit.copy(name=f"{task.name}:{basis}")
        creg = ClassicalRegister(len(task.qubits), "tomo")
        qc.add_register(creg)
        for q in task.qubits:
            if basis == "X":
                qc.h(q)
            elif basis == "Y":
                qc.sdg(q)
                qc.h(q)
        qc.measure(list(task.qubits), creg)
        circuits.append(qc)
    return circuits


def project_to_ball(vectors: np.ndarray) -> np.ndarray:
    norm = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return np.where(norm > 1, vectors / np.maximum(norm, 1e-300), vectors)


def estimate_bloch(
    counts: Sequence[Mapping[str, int]],
    num_qubits: int,
    *,
    bootstrap: int = 400,
    rng: np.random.Generator | None = None,
) -> BlochEstimate:
    """Bloch vectors of ``num_qubits`` qubits from the X, Y, Z counts of the three circuits.

    Bit strings are Qiskit's: clbit 0 is the rightmost character.
    """
    if len(counts) != 3:
        raise ValueError("need the counts of exactly three circuits (X, Y, Z)")
    rng = rng if rng is not None else np.random.default_rng(0)
    zeros = np.zeros((3, num_qubits))
    shots = np.zeros(3)
    for b, table in enumerate(counts):
        for bits, n in table.items():
            bits = bits.replace(" ", "")
            shots[b] += n
            for q in range(num_qubits):
                if bits[-1 - q] == "0":
                    zeros[b, q] += n
    if np.any(shots == 0):
        raise ValueError("a tomography circuit returned no shots")
    p0 = zeros / shots[:, None]  # (basis, qubit)
    mean = project_to_ball((2 * p0 - 1).T)
    resampled = rng.binomial(  # counts may be floats (readout-mitigated): round the totals
        np.rint(shots[:, None, None]).astype(int), p0[:, None, :], size=(3, bootstrap, num_qubits)
    )
    samples = (2 * resampled / shots[:, None, None] - 1).transpose(1, 2, 0)  # (B, qubit, basis)
    for b, table in enumerate(counts):
        if isinstance(table, MitigatedCounts):  # the inversion's variance, too
            for q in range(num_qubits):
                marginal = table.marginal_samples([q], bootstrap, rng)
                samples[:, q, b] = marginal[:, 0] - marginal[:, 1]
    return BlochEstimate(mean, project_to_ball(samples), int(shots.min()))


def bloch_observables(task: TomographyTask) -> list[SparsePauliOp]:
    """X, Y, Z of every qubit of ``task`` in turn (on the circuit's register): what an
    Estimator measures in place of the three tomography circuits."""
    n = task.circuit.num_qubits
    return [SparsePauliOp.from_sparse_list([(basis, [q], 1.0)], num_qubits=n)
            for q in task.qubits for basis in BASES]  # fmt: skip


def bloch_from_expectations(
    evs: Sequence[float],
    stds: Sequence[float],
    shots: int,
    *,
    bootstrap: int = 400,
    rng: np.random.Generator | None = None,
) -> BlochEstimate:
    """Bloch vectors from the expectation values of :func:`bloch_observables` and their
    standard errors (an Estimator's ``evs`` and ``stds``); the resamples are Gaussian with
    those errors, so functions of the states get standard errors as from counts."""
    rng = rng if rng is not None else np.random.default_rng(0)
    mean = np.asarray(evs, dtype=float).reshape(-1, 3)
    spread = np.asarray(stds, dtype=float).reshape(-1, 3)
    if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(spread))):
        raise ValueError("the Estimator returned a non-finite expectation value")
    samples = mean + spread * rng.standard_normal((bootstrap, *mean.shape))
    return BlochEstimate(project_to_ball(mean), project_to_ball(samples), int(shots))


# -- joint state tomography of a few qubits --------------------------------------------------
_PAULI = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.diag([1, -1]).astype(complex),
}


def pauli_settings(num_qubits: int) -> list[str]:
    """The 3^k measurement settings, e.g. 'XZ' = qubits[0] in X, qubits[1] in Z."""
    settings = [""]
    for _ in range(num_qubits):
        settings = [s + b for s in settings for b in BASES]
    return settings


def state_tomography_circuits(
    circuit: QuantumCircuit, qubits: Sequence[int]
) -> list[QuantumCircuit]:
    """``circuit`` followed by each Pauli setting on ``qubits`` and their measurement."""
    circuits = []
    for setting in pauli_settings(len(qubits)):
        qc = circuit.copy(name=f"{circuit.name}:{setting}")
        creg = ClassicalRegister(len(qubits), "tomo")
        qc.add_register(creg)
        for q, basis in zip(qubits, setting, strict=True):
            if basis == "X":
                qc.h(q)
            elif basis == "Y":
                qc.sdg(q)
                qc.h(q)
        qc.measure(list(qubits), creg)
        circuits.append(qc)
    return circuits


def closest_state(rho: np.ndarray) -> np.ndarray:
    """Nearest density matrix in Frobenius norm (Smolin–Gambetta–Smith eigenvalue projection)."""
    rho = 0.5 * (rho + rho.conj().T)
    values, vectors = np.linalg.eigh(rho)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    projected = np.zeros_like(values)
    acc = 0.0
    for i in range(len(values) - 1, -1, -1):
        if values[i] + acc / (i + 1) >= 0:
            projected[: i + 1] = values[: i + 1] + acc / (i + 1)
            break
        acc += values[i]
    return (vectors * projected) @ vectors.conj().T


#: Joint tomography of up to this many qubits keeps its inversion map (5 MB at 4 qubits).
_CACHED_QUBITS = 4


@lru_cache(maxsize=_CACHED_QUBITS)
def _inversion_map(num_qubits: int) -> np.ndarray:
    """The linear map frequencies[setting, outcome] ↦ ρ as an array (setting, outcome, i, j)."""
    dim = 2**num_qubits
    weights = np.zeros((3**num_qubits, dim, dim, dim), dtype=complex)
    for rows, signs, op in _labels(num_qubits):
        weights[rows] += signs[None, :, None, None] * op[None, None] / (len(rows) * dim)
    weights.setflags(write=False)
    return weights


def _labels(num_qubits: int) -> Iterator[tuple[list[int], np.ndarray, np.ndarray]]:
    """For each Pauli label P: the settings that measure its non-identity letters, the parity
    signs of the outcomes on those qubits (⟨P⟩ = mean over those settings of freq @ signs)
    and the operator P (qubits[0] least significant)."""
    settings = pauli_settings(num_qubits)
    dim = 2**num_qubits
    for label in pauli_settings_with_identity(num_qubits):
        rows = [
            i
            for i, s in enumerate(settings)
            if all(a in ("I", b) for a, b in zip(label, s, strict=True))
        ]
        signs = np.array(
            [
                (-1) ** sum((outcome >> q) & 1 for q, a in enumerate(label) if a != "I")
                for outcome in range(dim)
            ]
        )
        op = np.array([[1.0]], dtype=complex)
        for a in label:  # the Kronecker product runs from the last letter
            op = np.kron(_PAULI[a], op)
        yield rows, signs, op


def _linear_inversion(frequencies: np.ndarray, num_qubits: int) -> np.ndarray:
    """ρ = 2^{−k} Σ_P ⟨P⟩ P from outcome frequencies[setting, outcome] (outcome little-endian)."""
    if num_qubits <= _CACHED_QUBITS:
        return np.einsum("so,soij->ij", frequencies, _inversion_map(num_qubits))
    # more qubits: label by label (the whole map of 5 qubits would take 127 MB)
    dim = 2**num_qubits
    rho = np.zeros((dim, dim), dtype=complex)
    for rows, signs, op in _labels(num_qubits):
        rho += float(np.mean(frequencies[rows] @ signs)) * op
    return rho / dim


def pauli_settings_with_identity(num_qubits: int) -> list[str]:
    labels = [""]
    for _ in range(num_qubits):
        labels = [s + b for s in labels for b in "IXYZ"]
    return labels


@dataclass(frozen=True)
class StateEstimate:
    """A tomographic density matrix (little-endian over the measured qubits) and resamples."""

    mean: np.ndarray
    samples: list[np.ndarray]
    shots: int


def pauli_observables(num_qubits: int, qubits: Sequence[int]) -> list[SparsePauliOp]:
    """Every non-identity Pauli string on ``qubits`` (4^k − 1, Qiskit label order with
    ``qubits[0]`` rightmost) as an observable on a ``num_qubits`` register: what an Estimator
    measures in place of the 3^k settings of :func:`state_tomography_circuits`."""
    k = len(qubits)
    labels = ["".join(p) for p in product("IXYZ", repeat=k)][1:]
    return [SparsePauliOp(label).apply_layout(list(qubits), num_qubits) for label in labels]


def state_from_expectations(
    evs: Sequence[float],
    stds: Sequence[float],
    num_qubits: int,
    shots: int,
    *,
    bootstrap: int = 200,
    rng: np.random.Generator | None = None,
) -> StateEstimate:
    """Density matrix ρ = 2^{−k}(I + Σ_P ⟨P⟩ P) (little-endian over the qubits) from the
    expectation values of :func:`pauli_observables`, projected onto the nearest state; the
    resamples are Gaussian with the standard errors ``stds``."""
    rng = rng if rng is not None else np.random.default_rng(0)
    evs, stds = np.asarray(evs, dtype=float), np.asarray(stds, dtype=float)
    if not (np.all(np.isfinite(evs)) and np.all(np.isfinite(stds))):
        raise ValueError("the Estimator returned a non-finite expectation value")
    labels = ["".join(p) for p in product("IXYZ", repeat=num_qubits)]
    basis = np.array([Pauli(label).to_matrix() for label in labels]) / 2**num_qubits

    def state(values: np.ndarray) -> np.ndarray:
        return closest_state(np.tensordot(np.concatenate(([1.0], values)), basis, axes=1))

    samples = [state(evs + stds * rng.standard_normal(evs.shape)) for _ in range(bootstrap)]
    return StateEstimate(state(evs), samples, int(shots))


def estimate_state(
    counts: Sequence[Mapping[str, int]],
    num_qubits: int,
    *,
    bootstrap: int = 200,
    rng: np.random.Generator | None = None,
) -> StateEstimate:
    """Density matrix from the counts of :func:`state_tomography_circuits` (same order)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    dim = 2**num_qubits
    settings = pauli_settings(num_qubits)
    if len(counts) != len(settings):
        raise ValueError(f"need the counts of {len(settings)} settings")
    table = np.zeros((len(settings), dim))
    for r, result in enumerate(counts):
        for bits, n in result.items():
            table[r, int(bits.replace(" ", ""), 2)] += n
    shots = table.sum(axis=1)
    frequencies = table / shots[:, None]
    mean = closest_state(_linear_inversion(frequencies, num_qubits))
    mitigated = [
        result.marginal_samples(range(num_qubits), bootstrap, rng)
        if isinstance(result, MitigatedCounts)
        else None
        for result in counts
    ]  # resampled from the raw counts and calibration: the inversion's variance, too
    samples = []
    for i in range(bootstrap):
        resampled = np.array(
            [
                rng.multinomial(round(n), p / p.sum()) / n if m is None else m[i]
                for n, p, m in zip(shots, frequencies, mitigated, strict=True)
            ]
        )
        samples.append(closest_state(_linear_inversion(resampled, num_qubits)))
    return StateEstimate(mean, samples, int(shots.min()))
