"""Device noise on the qubits a batch of circuits uses: the circuits relabelled onto them
(:func:`compact`), the device target cut down to them (:func:`restrict_target`) and the
noise model ``NoiseModel.from_backend`` builds from that (:func:`restricted_noise_model`).
On a 133-qubit device this skips building ~1000 unused gate errors
(``benchmarks/noise_restriction.py`` measures the speed-up against
``AerSimulator.from_backend``).
"""

from __future__ import annotations

from collections.abc import Sequence

from qiskit.circuit import CircuitInstruction, QuantumCircuit
from qiskit.providers import BackendV2, Options
from qiskit.transpiler import Target
from qiskit_aer.noise import NoiseModel

__all__ = ["active_qubits", "compact", "restrict_target", "restricted_noise_model"]


def active_qubits(circuits: Sequence[QuantumCircuit]) -> list[int]:
    """Sorted physical qubits that any instruction (barriers and delays aside) touches."""
    used: set[int] = set()
    for circuit in circuits:
        for inst in circuit.data:
            if inst.operation.name not in ("barrier", "delay"):
                used.update(circuit.find_bit(q).index for q in inst.qubits)
    return sorted(used)


def restrict_target(target: Target, qubits: Sequence[int]) -> Target:
    """``target`` cut down to ``qubits``, relabelled 0..len(qubits)−1 in that order.

    Keeps the gate and measurement properties (errors, durations, readout assignment
    probabilities) and the qubit properties (T1, T2, frequency) of those qubits.
    """
    index = {q: i for i, q in enumerate(qubits)}
    props = target.qubit_properties
    small = Target(
        description=f"{target.description or 'target'} on qubits {list(qubits)}",
        num_qubits=len(qubits),
        dt=target.dt,
        qubit_properties=[props[q] for q in qubits] if props else None,
    )
    for name, qarg_props in target.items():
        if qarg_props is None or name in (
            "for_loop",
            "if_else",
            "switch_case",
            "while_loop",
            "box",
        ):
            continue
        kept = {
            tuple(index[q] for q in qargs): prop
            for qargs, prop in qarg_props.items()
            if qargs is not None and all(q in index for q in qargs)
        }
        if kept:
            small.add_instruction(target.operation_from_name(name), kept, name=name)
    return small


class _CalibrationSnapshot(BackendV2):
    """A stand-in backend that only carries a target, for ``NoiseModel.from_backend``."""

    def __init__(self, target: Target, name: str) -> None:
        super().__init__(name=name)
        self._target = target

    @property
    def target(self) -> Target:
        return self._target

    @property
    def max_circuits(self) -> None:
        return None

    @classmethod
    def _default_options(cls) -> Options:
        return Options()

    def run(self, run_input, **options):  # pragma: no cover - never run
        raise NotImplementedError("a calibration snapshot cannot run circuits")


def restricted_noise_model(device: BackendV2, qubits: Sequence[int]) -> NoiseModel:
    """The device noise model of ``NoiseModel.from_backend`` on ``qubits`` only (relabelled)."""
    snapshot = _CalibrationSnapshot(
        restrict_target(device.target, qubits), f"{device.name}[active]"
    )
    return NoiseModel.from_backend(snapshot)


def compact(
    circuit: QuantumCircuit, qubits: Sequence[int], *, keep_barriers: bool = False
) -> QuantumCircuit:
    """``circuit`` with physical qubit ``qubits[i]`` relabelled to qubit i (others dropped).
    Delays on those qubits stay (idle time decoheres, :mod:`~qcompile.backends.error_suppression`);
    barriers only with ``keep_barriers`` (a schedule must respect them; Aer needs none)."""
    index = {q: i for i, q in enumerate(qubits)}
    small = QuantumCircuit(
        len(qubits), circuit.num_clbits, name=circuit.name, global_phase=circuit.global_phase
    )
    position = {bit: i for i, bit in enumerate(circuit.qubits)}
    clbit = dict(zip(circuit.clbits, small.clbits, strict=True))
    for inst in circuit.data:
        name = inst.operation.name
        positions = [position[q] for q in inst.qubits]
        if name == "barrier":
            kept = [small.qubits[index[q]] for q in positions if q in index]
            if keep_barriers and kept:
                small.barrier(kept)
            continue
        if name == "delay" and any(q not in index for q in positions):
            continue
        qargs = tuple(small.qubits[index[q]] for q in positions)
        # a valid instruction of a valid circuit, on valid bits: Qiskit's unchecked append
        small._append(
            CircuitInstruction(inst.operation, qargs, tuple(clbit[c] for c in inst.clbits))
        )
    return small
