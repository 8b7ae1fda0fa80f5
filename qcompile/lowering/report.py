"""``LoweringReport``: what a lowering produced and the error it promises."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class LoweringReport:
    """Qubits, ancillas, cost, and the stated error bound of a lowered circuit.

    ``error_bound`` bounds the Hamiltonian splitting (diamond-norm distance of the unitary
    parts, summed over steps); ``notes`` say what it does not cover.
    """

    system_qubits: int
    ancillas: int
    steps: int
    dt: float
    two_qubit_gates: int
    depth: int
    error_bound: float
    method: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return asdict(self)
