"""Single-qubit state tomography from Pauli-basis measurements.

For a set of qubits measured together, three circuits measure all of them in the X, Y and Z
basis; ⟨σ⟩ = (n₀ − n₁)/n per qubit and basis gives the Bloch vector r. An estimate outside
the Bloch ball is shrunk radially onto it (the qubit maximum-likelihood state to first order).
Uncertainties come from a seeded parametric bootstrap of the binomial counts, so any function
of the states (a fidelity, say) gets a standard error without linearisation.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from qiskit.circuit import ClassicalRegister, QuantumCircuit

__all__ = ["TomographyTask", "BlochEstimate", "measurement_circuits", "estimate_bloch", "BASES"]

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


def _project_to_ball(vectors: np.ndarray) -> np.ndarray:
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
    mean = _project_to_ball((2 * p0 - 1).T)
    resampled = rng.binomial(
        shots[:, None, None].astype(int), p0[:, None, :], size=(3, bootstrap, num_qubits)
    )
    samples = (2 * resampled / shots[:, None, None] - 1).transpose(1, 2, 0)  # (B, qubit, basis)
    return BlochEstimate(mean, _project_to_ball(samples), int(shots.min()))
