r"""Collision-model lowering of dissipation: a jump operator per step as an ancilla collision.

Each collision acts on the jump operator's support S (the qubits it touches) and fresh or
reset ancillas, which are reset afterwards (spec 002 §7):

* ``ladder`` — L = √γ |0⟩⟨1| on one qubit: the exact amplitude-damping channel of
  e^{δt D[L]}, ``cry(θ, q, a); cx(a, q); reset(a)`` with sin²(θ/2) = 1 − e^{−γδt};
* ``exact`` — any L: the channel e^{δt D[L]} on S, its Kraus operators from the Choi matrix,
  and their Stinespring isometry V|ψ⟩ = Σ_k K_k|ψ⟩|k⟩ completed to a unitary on S + ⌈log₂ r⌉
  ancillas (r Kraus operators);
* ``dilation`` — the first-order dilation exp(−i√δt (L⊗σ⁺ + L†⊗σ⁻)) with one ancilla, whose
  channel is ρ + δt D[L]ρ + O(δt²).

:func:`stinespring_unitary` also lowers any instantaneous channel given by Kraus operators
(e.g. the transient dephasing of spec 002 eq. 84).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import scipy.linalg as sla
from qiskit.circuit import QuantumCircuit
from qiskit.circuit.library import UnitaryGate

__all__ = [
    "dissipator_superoperator",
    "kraus_from_superoperator",
    "stinespring_unitary",
    "channel_circuit",
    "jump_collision",
    "is_lowering_ladder",
    "support",
    "restrict",
]


def support(operator: np.ndarray, num_qubits: int, atol: float = 1e-12) -> list[int]:
    """Circuit qubits (little-endian) on which ``operator`` acts non-trivially."""
    t = np.asarray(operator).reshape([2] * (2 * num_qubits))
    used = []
    for q in range(num_qubits):
        axis = num_qubits - 1 - q  # tensor axis of little-endian qubit q
        moved = np.moveaxis(t, [axis, num_qubits + axis], [0, 1])
        # trivial on q  <=>  moved[a, b, ...] = δ_ab · moved[0, 0, ...]
        if not (
            np.allclose(moved[0, 1], 0, atol=atol)
            and np.allclose(moved[1, 0], 0, atol=atol)
            and np.allclose(moved[0, 0], moved[1, 1], atol=atol)
        ):
            used.append(q)
    return used


def restrict(operator: np.ndarray, qubits: Sequence[int], num_qubits: int) -> np.ndarray:
    """The factor of ``operator`` = A_qubits ⊗ 1 on ``qubits`` (little-endian in that order)."""
    n = num_qubits
    t = np.asarray(operator).reshape([2] * (2 * n))
    rest = [q for q in range(n) if q not in qubits]
    # put the kept qubits (most significant first) in front, then trace out the rest / 2^|rest|
    keep_axes = [n - 1 - q for q in reversed(list(qubits))]
    rest_axes = [n - 1 - q for q in rest]
    t = np.transpose(
        t, keep_axes + rest_axes + [n + a for a in keep_axes] + [n + a for a in rest_axes]
    )
    k, r = 2 ** len(qubits), 2 ** len(rest)
    return np.einsum("arbr->ab", t.reshape(k, r, k, r)) / r


def dissipator_superoperator(jump: np.ndarray) -> np.ndarray:
    """D[L] as a matrix on column-stacked density matrices."""
    d = jump.shape[0]
    eye = np.eye(d)
    ldl = jump.conj().T @ jump
    return np.kron(jump.conj(), jump) - 0.5 * np.kron(eye, ldl) - 0.5 * np.kron(ldl.T, eye)


def kraus_from_superoperator(superop: np.ndarray, atol: float = 1e-12) -> list[np.ndarray]:
    """Kraus operators of a CP map given on column-stacked vectors (Choi eigenvectors)."""
    d = int(round(math.sqrt(superop.shape[0])))
    # Choi J = Σ_ij |i⟩⟨j| ⊗ Φ(|i⟩⟨j|), from the superoperator by reshuffling
    choi = superop.reshape(d, d, d, d).transpose(3, 1, 2, 0).reshape(d * d, d * d)
    choi = 0.5 * (choi + choi.conj().T)
    values, vectors = np.linalg.eigh(choi)
    if values.min() < -1e-9:
        raise ValueError(f"the map is not completely positive (Choi eigenvalue {values.min():.3g})")
    kraus = []
    for value, vector in zip(values, vectors.T, strict=True):
        if value > atol:
            kraus.append(math.sqrt(value) * vector.reshape(d, d).T)
    return kraus


def stinespring_unitary(kraus: Sequence[np.ndarray]) -> tuple[np.ndarray, int]:
    """A unitary U on (system, ancillas) with U|ψ⟩|0⟩ = Σ_k K_k|ψ⟩|k⟩; returns (U, ancillas).

    Little-endian: the system qubits are the least significant, so the ancilla index is the
    high part of the basis index.
    """
    d = kraus[0].shape[0]
    ancillas = max(1, math.ceil(math.log2(len(kraus))))
    m = 2**ancillas
    isometry = np.zeros((d * m, d), dtype=complex)
    for k, op in enumerate(kraus):
        isometry[k * d : (k + 1) * d, :] = op
    if not np.allclose(isometry.conj().T @ isometry, np.eye(d), atol=1e-9):
        raise ValueError("the Kraus operators are not trace preserving")
    complement = sla.null_space(isometry.conj().T)
    unitary = np.zeros((d * m, d * m), dtype=complex)
    # columns with ancilla index 0 are the isometry; the rest complete it
    unitary[:, :d] = isometry
    unitary[:, d:] = complement
    return unitary, ancillas


def channel_circuit(kraus: Sequence[np.ndarray], label: str = "channel") -> QuantumCircuit:
    """The channel Σ_k K_k · K_k† on the first qubits, via ancillas that end reset.

    Qubits: the system (log₂ d, little-endian) then the ancillas.
    """
    d = kraus[0].shape[0]
    n = int(round(math.log2(d)))
    unitary, ancillas = stinespring_unitary(kraus)
    qc = QuantumCircuit(n + ancillas, name=label)
    qc.append(UnitaryGate(unitary, label=label, check_input=False), range(n + ancillas))
    for a in range(n, n + ancillas):
        qc.reset(a)
    return qc


def is_lowering_ladder(jump: np.ndarray) -> float | None:
    """γ if ``jump`` = √γ |0⟩⟨1| on one qubit, else ``None``."""
    if jump.shape != (2, 2):
        return None
    if np.allclose([jump[0, 0], jump[1, 0], jump[1, 1]], 0, atol=1e-14) and abs(jump[0, 1]) > 0:
        return float(abs(jump[0, 1]) ** 2)
    return None


def jump_collision(jump: np.ndarray, dt: float, method: str = "exact") -> QuantumCircuit:
    """One collision for the jump operator ``jump`` (on its support) over time ``dt``.

    Qubits: the support (little-endian) then the ancillas; ancillas end reset.
    """
    d = jump.shape[0]
    n = int(round(math.log2(d)))
    if method == "exact":
        gamma = is_lowering_ladder(jump)
        if gamma is not None:
            theta = 2 * math.asin(math.sqrt(1 - math.exp(-gamma * dt)))
            qc = QuantumCircuit(2, name="ladder_collision")
            qc.cry(theta, 0, 1)
            qc.cx(1, 0)
            qc.reset(1)
            return qc
        step = sla.expm(dt * dissipator_superoperator(jump))
        return channel_circuit(kraus_from_superoperator(step), label="collision")
    if method == "dilation":
        raise_ = np.array([[0, 0], [1, 0]], dtype=complex)  # σ⁺ = |1⟩⟨0| on the ancilla
        generator = np.kron(raise_, jump) + np.kron(raise_.T, jump.conj().T)
        unitary = sla.expm(-1j * math.sqrt(dt) * generator)
        qc = QuantumCircuit(n + 1, name="dilation_collision")
        qc.append(UnitaryGate(unitary, label="dilation", check_input=False), range(n + 1))
        qc.reset(n)
        return qc
    raise ValueError(f"unknown collision method {method!r}")
