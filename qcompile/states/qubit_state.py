"""Single-qubit states given as Bloch vectors: parsing, density matrices, preparation circuits.

A qubit state is ρ = (1 + r·σ)/2 with |r| ≤ 1. Users give it as a label (``0 1 + - +i -i``),
as a Bloch vector ``x,y,z`` or in polar form ``polar:θ,φ[,r]`` (θ from +z, φ from +x, r ≤ 1).
A mixed state (|r| < 1) is prepared by purification: one extra qubit P holding
√p|0⟩_P|n⟩ + √(1−p)|1⟩_P|n⊥⟩ with p = (1+|r|)/2, n = r/|r|.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from qiskit.circuit import QuantumCircuit

from qcompile.errors import InvalidParameter

__all__ = ["QubitState", "parse_qubit_state", "bloch_fidelity", "bloch_vector"]

STATE_FORMATS = (
    "a label 0 1 + - +i -i, a Bloch vector x,y,z with |r| <= 1, or polar:theta,phi[,r] "
    "with 0 <= r <= 1"
)
_LABELS = {
    "0": (0.0, 0.0, 1.0),
    "1": (0.0, 0.0, -1.0),
    "+": (1.0, 0.0, 0.0),
    "-": (-1.0, 0.0, 0.0),
    "+i": (0.0, 1.0, 0.0),
    "-i": (0.0, -1.0, 0.0),
}
_PAULIS = (
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)
_PURE_TOL = 1e-12


@dataclass(frozen=True)
class QubitState:
    """A qubit state by its Bloch vector ``bloch = (x, y, z)``, |r| ≤ 1."""

    bloch: tuple[float, float, float]

    def __post_init__(self) -> None:
        norm = float(np.linalg.norm(self.bloch))
        if not np.all(np.isfinite(self.bloch)) or norm > 1 + 1e-9:
            raise InvalidParameter(
                "state", self.bloch, f"a Bloch vector with |r| <= 1 (|r| = {norm:.6g})"
            )

    @property
    def radius(self) -> float:
        return float(np.linalg.norm(self.bloch))

    @property
    def is_pure(self) -> bool:
        return self.radius > 1 - _PURE_TOL

    def density_matrix(self) -> np.ndarray:
        """ρ = (1 + r·σ)/2."""
        return 0.5 * (
            np.eye(2, dtype=complex) + sum(c * p for c, p in zip(self.bloch, _PAULIS, strict=True))
        )

    def label(self) -> str:
        for name, vec in _LABELS.items():
            if np.allclose(vec, self.bloch, atol=1e-12):
                return name
        return ",".join(f"{c:.6g}" for c in self.bloch)

    def prepare(self, circuit: QuantumCircuit, qubit: int, purifier: int | None = None) -> None:
        """Append the preparation of this state from |0⟩ on ``qubit``.

        A mixed state needs ``purifier``, a qubit in |0⟩ that ends entangled with ``qubit``.
        """
        radius = self.radius
        x, y, z = self.bloch
        theta = math.acos(max(-1.0, min(1.0, z / radius))) if radius > 0 else 0.0
        phi = math.atan2(y, x) if radius > 0 else 0.0
        if not self.is_pure:
            if purifier is None:
                raise ValueError("a mixed qubit state needs a purifier qubit")
            p = (1 + radius) / 2
            circuit.ry(2 * math.acos(math.sqrt(p)), purifier)
            circuit.cx(purifier, qubit)
        if theta != 0.0 or phi != 0.0:
            circuit.u(theta, phi, 0.0, qubit)


def parse_qubit_state(text: str | QubitState | tuple | list, name: str = "state") -> QubitState:
    """Read a qubit state from a label, ``x,y,z`` or ``polar:θ,φ[,r]``; errors name ``name``."""
    if isinstance(text, QubitState):
        return text
    if isinstance(text, (tuple, list, np.ndarray)):
        values = [float(v) for v in text]
    else:
        spec = str(text).strip().replace(" ", "")
        if spec in _LABELS:
            return QubitState(_LABELS[spec])
        try:
            if spec.startswith("polar:"):
                parts = [float(v) for v in spec[len("polar:") :].split(",")]
                if len(parts) not in (2, 3):
                    raise ValueError
                theta, phi = parts[0], parts[1]
                radius = parts[2] if len(parts) == 3 else 1.0
                if not 0 <= radius <= 1:  # a negative r would silently flip the state
                    raise ValueError
                values = [
                    radius * math.sin(theta) * math.cos(phi),
                    radius * math.sin(theta) * math.sin(phi),
                    radius * math.cos(theta),
                ]
            else:
                values = [float(v) for v in spec.split(",")]
        except ValueError:
            raise InvalidParameter(name, text, STATE_FORMATS) from None
    if len(values) != 3 or not all(math.isfinite(v) for v in values):
        raise InvalidParameter(name, text, STATE_FORMATS)
    norm = math.sqrt(sum(v * v for v in values))
    if norm > 1 + 1e-9:
        raise InvalidParameter(name, text, f"a Bloch vector with |r| <= 1 (|r| = {norm:.6g})")
    if norm > 1:
        values = [v / norm for v in values]
    return QubitState((values[0], values[1], values[2]))


def bloch_vector(rho: np.ndarray) -> np.ndarray:
    """The Bloch vector (tr ρX, tr ρY, tr ρZ) of a 2×2 density matrix."""
    return np.real([np.trace(rho @ p) for p in _PAULIS])


def bloch_fidelity(r: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Uhlmann fidelity F = (tr√(√ρσ√ρ))² of two qubit states by their Bloch vectors.

    For qubits F = [1 + r·s + √((1−|r|²)(1−|s|²))]/2. Broadcasts over leading axes, so a
    bootstrap of many vectors is one call.
    """
    r = np.asarray(r, dtype=float)
    s = np.asarray(s, dtype=float)
    rr = np.clip(1 - np.sum(r * r, axis=-1), 0, None)
    ss = np.clip(1 - np.sum(s * s, axis=-1), 0, None)
    return 0.5 * (1 + np.sum(r * s, axis=-1) + np.sqrt(rr * ss))
