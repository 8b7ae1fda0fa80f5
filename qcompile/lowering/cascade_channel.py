r"""An exact, structured Stinespring circuit for a two-qubit decay cascade (spec 001 §8, §11.2).

In the eigenbasis of H_S, written on two qubits as |00⟩ = ground (ψ₁), |01⟩ = dark (S),
|10⟩ = middle (ψ₃ = T_F^−), |11⟩ = top (ψ₄) — bit string b₁b₂, qubit 1 leftmost — the T = 0
Davies channel Φ_t = e^{t𝒟} has the four Kraus operators

    K₀ = diag(1, 1, √s₃, √s₄),  K₁ = √v |10⟩⟨11|,  K₂ = √(1−s₃) |00⟩⟨10|,
    K₃ = √(1−s₄−v) |00⟩⟨11|,

with s₃, s₄ the survival probabilities of the middle and top levels and v the population
that went top → middle and is still there. A generic Stinespring unitary on four qubits costs
~95 CX; this circuit writes the jump record on two ancillas with controlled rotations and
undoes it on the system with controlled flips (~20 CX), exactly:

1. middle decay: Ry on a₀, controlled on b₁b₂ = 10, with cos(θ/2) = √s₃; then a₀ flips b₁;
2. top decay: Ry on a₁, controlled on b₁b₂ = 11, with cos(θ/2) = √s₄; Ry on a₀ controlled on
   a₁ splits the jump into top → middle (a₀ = 0) and top → ground (a₀ = 1); a₁ flips b₂;
   a₀·a₁ flips b₁;
3. both ancillas are reset (ancilla records 00, 10, 01, 11 ↔ K₀, K₂, K₁, K₃).

Circuit qubits: 0 = b₂, 1 = b₁ (Qiskit little-endian: the model's index 2b₁ + b₂), 2 = a₀,
3 = a₁.
"""

from __future__ import annotations

import math

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.circuit.library import RYGate

__all__ = ["cascade_channel_circuit", "cascade_kraus"]


def _angle(amplitude: float) -> float:
    """θ with cos(θ/2) = amplitude (0 ≤ amplitude ≤ 1)."""
    return 2 * math.acos(min(max(amplitude, 0.0), 1.0))


def cascade_kraus(stay_middle: float, stay_top: float, via_middle: float) -> list[np.ndarray]:
    """The four Kraus operators above, in the eigen-coordinates (index 2b₁ + b₂)."""
    k0 = np.diag([1.0, 1.0, math.sqrt(stay_middle), math.sqrt(stay_top)]).astype(complex)
    k1 = np.zeros((4, 4), complex)
    k1[2, 3] = math.sqrt(max(via_middle, 0.0))
    k2 = np.zeros((4, 4), complex)
    k2[0, 2] = math.sqrt(max(1 - stay_middle, 0.0))
    k3 = np.zeros((4, 4), complex)
    k3[0, 3] = math.sqrt(max(1 - stay_top - via_middle, 0.0))
    return [k0, k1, k2, k3]


def cascade_channel_circuit(
    stay_middle: float, stay_top: float, via_middle: float, label: str = "decay"
) -> QuantumCircuit:
    """The channel of :func:`cascade_kraus` on qubits (b₂, b₁) with ancillas (a₀, a₁)."""
    for name, value in (("stay_middle", stay_middle), ("stay_top", stay_top),
                        ("via_middle", via_middle)):  # fmt: skip
        if not 0 <= value <= 1 + 1e-12:
            raise ValueError(f"{name} must be a probability, got {value}")
    if stay_top + via_middle > 1 + 1e-12:
        raise ValueError("stay_top + via_middle must not exceed 1")
    b2, b1, a0, a1 = 0, 1, 2, 3
    qc = QuantumCircuit(4, name=label)
    # 1. middle (b1 b2 = 10) decays to ground, recorded on a0
    theta = _angle(math.sqrt(stay_middle))
    if theta > 1e-12:
        # ctrl_state reads right to left: first control b2 = 0, second control b1 = 1
        qc.append(RYGate(theta).control(2, ctrl_state="10", annotated=True), [b2, b1, a0])
        qc.cx(a0, b1)
    # 2. top (b1 b2 = 11) decays, recorded on a1; a0 tells middle (0) from ground (1)
    theta = _angle(math.sqrt(stay_top))
    if theta > 1e-12:
        qc.append(RYGate(theta).control(2, annotated=True), [b2, b1, a1])
        jumped = 1 - stay_top
        split = _angle(math.sqrt(max(via_middle, 0.0) / jumped)) if jumped > 0 else 0.0
        if split > 1e-12:
            qc.cry(split, a1, a0)
        qc.cx(a1, b2)
        if split > 1e-12:
            qc.ccx(a0, a1, b1)
    qc.reset([a0, a1])
    return qc
