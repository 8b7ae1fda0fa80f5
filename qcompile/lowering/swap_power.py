r"""(SWAP)^α and the partial swap — spec 000 §1 (paper eqs. 3, 8, 9 and Fig. 1).

The Bell-basis form of eq. (8) is

.. math:: U^\alpha = |\Phi^+\rangle\langle\Phi^+| + |\Phi^-\rangle\langle\Phi^-|
          + |\Psi^+\rangle\langle\Psi^+| + e^{i\pi\alpha}|\Psi^-\rangle\langle\Psi^-|
          = \exp\!\big(i\pi\alpha\,(1-\mathrm{SWAP})/2\big),

identity on the triplet, phase :math:`e^{i\pi\alpha}` on the singlet. The partial swap of
eq. (3) is :math:`U_{SR}(\eta) = \cos\eta\,1 + i\sin\eta\,\mathrm{SWAP} = e^{i\eta}U^\alpha`
with :math:`\alpha = -2\eta/\pi` (eq. 9; positive α means negative η).

The gate's ``definition`` is the paper's 4 CX + 6 single-qubit circuit, reconstructed in the
spec: ``CX(s→r) · C-(X^α)(r→s) · CX(s→r)``. The paper writes rotations as e^{-iθσ}, half of
Qiskit's angle: its R_Y(π/4) is ``ry(π/2)`` here and its R_Z(η) is ``rz(2η)``.
"""

from __future__ import annotations

import math

import numpy as np
from qiskit.circuit import Gate, ParameterExpression, QuantumCircuit

__all__ = [
    "SwapPowerGate",
    "alpha_from_eta",
    "eta_from_alpha",
    "partial_swap",
    "partial_swap_matrix",
    "swap_power_matrix",
]


def swap_power_matrix(alpha: float) -> np.ndarray:
    """The 4×4 matrix of (SWAP)^α, eq. (8); symmetric under exchange of the two qubits."""
    phase = np.exp(1j * math.pi * alpha)
    diag, off = (1 + phase) / 2, (1 - phase) / 2
    return np.array(
        [[1, 0, 0, 0], [0, diag, off, 0], [0, off, diag, 0], [0, 0, 0, 1]], dtype=complex
    )


def partial_swap_matrix(eta: float) -> np.ndarray:
    """The partial swap U_SR(η) = cos η · 1 + i sin η · SWAP of eq. (3)."""
    swap = np.eye(4, dtype=complex)[[0, 2, 1, 3]]
    return math.cos(eta) * np.eye(4, dtype=complex) + 1j * math.sin(eta) * swap


def alpha_from_eta(eta: float) -> float:
    """α with U_SR(η) = e^{iη} U^α (eq. 9): α = −2η/π."""
    return -2.0 * eta / math.pi


def eta_from_alpha(alpha: float) -> float:
    """η with U_SR(η) = e^{iη} U^α (eq. 9): η = −πα/2."""
    return -math.pi * alpha / 2.0


class SwapPowerGate(Gate):
    r"""(SWAP)^α on two qubits, eq. (8) of the homogenization paper.

    The matrix is exact; the ``definition`` is the paper's 4-CX circuit (Fig. 1), equal to the
    matrix up to a global phase for every α. ``SwapPowerGate(a).power(b)`` is
    ``SwapPowerGate(a·b)`` and the inverse is ``SwapPowerGate(−α)``. Compilers should reach
    3 two-qubit gates for generic α (Weyl coordinates (a, a, a)); α = 1 is a SWAP.
    """

    def __init__(self, alpha: float, label: str | None = None) -> None:
        super().__init__("swap_power", 2, [alpha], label=label)

    @property
    def alpha(self) -> float | ParameterExpression:
        return self.params[0]

    def _define(self) -> None:
        theta = math.pi * self.params[0]
        s, r = 0, 1
        qc = QuantumCircuit(2, name=self.name)
        qc.cx(s, r)
        qc.p(theta / 2, r)  # paper's U1 = diag(1, e^{iπα/2})
        qc.ry(-math.pi / 2, s)  # paper's R_Y(−π/4)
        qc.rz(theta / 4, s)  # controlled-RZ(θ) from r onto s ...
        qc.cx(r, s)
        qc.rz(-theta / 2, s)
        qc.cx(r, s)
        qc.rz(theta / 4, s)  # ... end
        qc.ry(math.pi / 2, s)  # paper's R_Y(π/4)
        qc.cx(s, r)
        self.definition = qc

    def inverse(self, annotated: bool = False) -> SwapPowerGate:
        return SwapPowerGate(-self.params[0])

    def power(self, exponent: float, annotated: bool = False) -> SwapPowerGate:
        return SwapPowerGate(self.params[0] * exponent)

    def __array__(self, dtype=None, copy=None):
        if isinstance(self.params[0], ParameterExpression):
            raise TypeError("SwapPowerGate with an unbound parameter has no matrix")
        matrix = swap_power_matrix(float(self.params[0]))
        return matrix if dtype is None else matrix.astype(dtype)


def partial_swap(eta: float) -> Gate:
    """The partial swap U_SR(η) of eq. (3) as a gate, exact including its phase.

    Its definition is ``SwapPowerGate(−2η/π)`` with global phase η (eq. 9).
    """
    qc = QuantumCircuit(2, name="partial_swap", global_phase=eta)
    qc.append(SwapPowerGate(alpha_from_eta(eta)), [0, 1])
    return qc.to_gate(label=f"U_SR({eta:.4g})")
