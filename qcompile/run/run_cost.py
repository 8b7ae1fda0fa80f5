"""What a batch of circuits will cost, said before it runs (issue 33): circuits, two-qubit
gates, shots, and an estimate of the local wall time — and, on a backend that submits jobs to
a device, of the QPU time.

The local estimate is a model, calibrated on a 2-core machine (Aer 0.18, FakeTorino's noise,
4–6 active qubits; ``benchmarks/checkpoint_cuts.py`` measures the real times beside it):

* a circuit simulated as a density matrix (what
  :func:`~qcompile.backends.simulation_method.simulation_method` chooses for collision
  models) costs :data:`DENSITY_GATE_S` · 4ⁿ per instruction (n active qubits) and
  :data:`PER_CIRCUIT_S` for its shots; one sampled shot by shot (noise on a statevector)
  costs :data:`STATEVECTOR_GATE_S` · 2ⁿ per instruction and shot;
* the cuts of a compiled evolution on Aer (:mod:`qcompile.backends.checkpoint_sampling`) cost
  one such run per evolution, and :data:`PER_CIRCUIT_S` per tail.

It is meant to tell seconds from minutes from hours, not to within 10 %. The QPU estimate is
Σ shots × (the circuit's duration on the target + :data:`REP_DELAY_S`), a lower bound: it
leaves out the device's per-job overhead and queueing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qiskit.circuit import QuantumCircuit
from qiskit.exceptions import QiskitError

from qcompile.backends.restricted_noise import active_qubits, compact
from qcompile.backends.simulation_method import MAX_QUBITS, simulation_method
from qcompile.passes.checkpoint_cuts import CutProgram
from qcompile.passes.targets import resolve_target

__all__ = ["DENSITY_GATE_S", "PER_CIRCUIT_S", "REP_DELAY_S", "STATEVECTOR_GATE_S", "RunCost",
           "estimate_cost"]  # fmt: skip

#: Seconds per instruction and per 4ⁿ of a noisy density-matrix simulation (measured).
DENSITY_GATE_S = 1.2e-7
#: Seconds per circuit for Aer's set-up and its shots (measured at 4000 shots).
PER_CIRCUIT_S = 4e-3
#: Seconds per instruction, shot and 2ⁿ of Aer's noisy statevector (measured).
STATEVECTOR_GATE_S = 2e-10
#: IBM's default repetition delay between shots.
REP_DELAY_S = 250e-6


@dataclass(frozen=True)
class RunCost:
    """The cost of running ``circuits`` circuits of ``shots`` shots each: two-qubit gates
    over all of them, the estimated local wall time and (on a device) QPU time, seconds."""

    circuits: int
    two_qubit_gates: int
    shots: int
    local_s: float | None
    qpu_s: float | None = None

    def describe(self) -> str:
        """One line: ``1656 circuits · 725 328 two-qubit gates · 4000 shots each · ~12 s``."""
        parts = [f"{self.circuits} circuits", f"{self.two_qubit_gates:,} two-qubit gates",
                 f"{self.shots} shots each"]  # fmt: skip
        if self.local_s is not None:
            parts.append(f"~{_duration(self.local_s)} here")
        if self.qpu_s is not None:
            parts.append(f"QPU time ≥ {_duration(self.qpu_s)}")
        return "cost: " + " · ".join(parts).replace(",", " ")

    def to_dict(self) -> dict:
        return {"circuits": self.circuits, "two_qubit_gates": self.two_qubit_gates,
                "shots": self.shots, "estimated_local_s": self.local_s,
                "estimated_qpu_s": self.qpu_s}  # fmt: skip


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _two_qubit(circuit: QuantumCircuit, names: set[str]) -> int:
    return sum(n for name, n in circuit.count_ops().items() if name in names)


#: Two-qubit gates of an all-to-all target (the ideal simulator's circuits).
_TWO_QUBIT = frozenset({"cx", "cz", "ecr", "swap", "iswap", "rzz", "rxx", "ryy", "cp", "crz"})


def _two_qubit_names(target) -> set[str]:
    """The target's two-qubit operations (``None``: the usual ones)."""
    if target is None:
        return set(_TWO_QUBIT)
    return {name for name in target.operation_names
            if getattr(target.operation_from_name(name), "num_qubits", 0) == 2}  # fmt: skip


def estimate_cost(backend, circuits: Sequence[QuantumCircuit], shots: int,
                  program: CutProgram | None = None) -> RunCost:  # fmt: skip
    """The :class:`RunCost` of running ``circuits`` on ``backend`` (``program``: the cuts
    they are, for a backend that runs them so)."""
    program_only = program is not None and circuits is program.circuits
    ends = [circuits[0], circuits[len(circuits) - 1]] if len(circuits) else []
    names = _two_qubit_names(resolve_target(getattr(backend, "compile_target", None)))
    if program_only:  # counted without making the circuits
        gates = program.count(names)
    else:
        circuits = list(circuits)
        gates = sum(_two_qubit(c, names) for c in circuits)
    submits = bool(getattr(backend, "submits_jobs", False))
    qpu = _qpu_seconds(backend, circuits, shots) if submits else None
    local = None if submits else _local_seconds(backend, circuits, program, ends, shots)
    return RunCost(len(circuits), gates, shots, local, qpu)


def _local_seconds(backend, circuits, program: CutProgram | None, ends, shots: int) -> float:
    qubits = active_qubits(ends)
    width = len(qubits)
    per_gate = DENSITY_GATE_S * 4.0 ** min(width, 13)
    sampled = program is not None and hasattr(backend, "run_cuts") and width <= MAX_QUBITS
    if not sampled and simulation_method([compact(c, qubits) for c in ends],
                                         shots) != "density_matrix":  # fmt: skip
        per_gate = STATEVECTOR_GATE_S * 2.0**width * shots
    if sampled:
        sources = {id(s): s for s in program.sources}.values()
        rest = len(circuits) - len(program.circuits)
        body = sum(len(s.data) for s in sources) * per_gate
        folded = list(circuits[len(program.circuits) :]) if rest else []
        return body + PER_CIRCUIT_S * len(program.circuits) + _per_cut(folded, per_gate)
    return _per_cut(circuits, per_gate)


def _per_cut(circuits: list[QuantumCircuit], per_gate: float) -> float:
    return sum(len(c.data) * per_gate + PER_CIRCUIT_S for c in circuits)


def _qpu_seconds(backend, circuits: list[QuantumCircuit], shots: int) -> float | None:
    target = resolve_target(getattr(backend, "compile_target", None))
    if target is None:
        return None
    try:
        durations = [c.estimate_duration(target, unit="s") for c in circuits]
    except QiskitError:  # a duration the target does not know: say nothing rather than guess
        return None
    return float(sum(shots * (d + REP_DELAY_S) for d in durations))
