"""Compile lowered circuits to a target's ISA with qcompile's pass pipeline and report costs.

The report's metrics are what the benchmarks compare: two-qubit gate count, two-qubit depth,
depth, active qubits and wall-clock compile time.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from qiskit.circuit import QuantumCircuit
from qiskit.providers import BackendV2
from qiskit.transpiler import Target

from qcompile.errors import ResourceLimit
from qcompile.metrics import circuit_metrics
from qcompile.passes import build_pass_manager
from qcompile.passes.targets import resolve_target

__all__ = ["CompileReport", "compile_circuits", "compile_protocol", "circuit_metrics"]


@dataclass(frozen=True)
class CompileReport:
    """Cost of a compiled circuit; ``compile_time_s`` covers every circuit compiled."""

    target: str
    num_qubits: int
    two_qubit_gates: int
    two_qubit_depth: int
    depth: int
    compile_time_s: float

    def to_dict(self) -> dict:
        return asdict(self)


def _target_name(target: str | Target | BackendV2 | None) -> str:
    if target is None:
        return "all_to_all_cx"
    if isinstance(target, str):
        return target
    return getattr(target, "name", None) or type(target).__name__


def compile_circuits(
    circuits: Sequence[QuantumCircuit],
    target: str | Target | BackendV2 | None = None,
    *,
    seed: int | None = 0,
    layout_from: QuantumCircuit | None = None,
) -> tuple[list[QuantumCircuit], CompileReport]:
    """Compile ``circuits`` for ``target``; the report describes the largest circuit.

    With ``layout_from`` (a circuit on the same register, e.g. the full protocol circuit),
    that circuit is laid out first and every circuit is placed on the same physical qubits,
    as an experiment would be: prefixes and measurement bases then share one qubit choice.
    """
    resolved = resolve_target(target)
    widest = max(c.num_qubits for c in circuits)
    if resolved is not None and widest > resolved.num_qubits:
        raise ResourceLimit(
            f"the circuit needs {widest} qubits; target {_target_name(target)} has "
            f"{resolved.num_qubits}"
        )
    start = time.perf_counter()
    layout = None
    if layout_from is not None and resolved is not None:
        if any(c.num_qubits != layout_from.num_qubits for c in circuits):
            raise ValueError("layout_from must act on the same register as every circuit")
        placed = build_pass_manager(resolved, seed=seed).run(layout_from)
        layout = placed.layout.initial_index_layout(filter_ancillas=True)
    manager = build_pass_manager(resolved, seed=seed, initial_layout=layout)
    compiled = manager.run(list(circuits))
    elapsed = time.perf_counter() - start
    largest = max(compiled, key=lambda c: c.size())
    report = CompileReport(
        target=_target_name(target), compile_time_s=elapsed, **circuit_metrics(largest)
    )
    return compiled, report


def compile_protocol(
    protocol, target: str | Target | BackendV2 | None = None, *, seed: int | None = 0
) -> tuple[QuantumCircuit, CompileReport]:
    """Compile a protocol's full unitary circuit (``protocol.circuit()``) for ``target``."""
    compiled, report = compile_circuits([protocol.circuit()], target, seed=seed)
    return compiled[0], report
