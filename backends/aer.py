"""Qiskit Aer backends: ideal, and with the calibrated noise of an IBM fake backend.

``aer`` is noiseless. ``aer:<fake backend>`` runs circuits compiled to that device's target
with the noise model ``NoiseModel.from_backend`` would build (depolarizing + thermal
relaxation per gate, readout errors) but built only for the physical qubits the circuits
use: the circuits are relabelled onto those qubits and the device target is cut down to them
first. On a 133-qubit device this skips building ~1000 unused gate errors
(``benchmarks/noise_restriction.py`` measures the speed-up against
``AerSimulator.from_backend``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.providers import BackendV2
from qiskit.quantum_info import SparsePauliOp
from qiskit.transpiler import PassManager, Target, generate_preset_pass_manager
from qiskit_aer import AerSimulator

from qcompile.backends.checkpoint_sampling import sample_cuts
from qcompile.backends.error_suppression import (
    RANDOMIZATIONS,
    Suppression,
    merge_counts,
    schedule,
    twirl_gates,
    twirl_measurements,
)
from qcompile.backends.estimator import estimator_options, expectation_data, run_local
from qcompile.backends.readout_mitigation import (
    assignment_matrices,
    calibration_circuits,
    measured_qubits,
    mitigate_counts,
)
from qcompile.backends.restricted_noise import (
    active_qubits,
    compact,
    restrict_target,
    restricted_noise_model,
)
from qcompile.backends.simulation_method import simulation_method
from qcompile.errors import InvalidParameter
from qcompile.passes.checkpoint_cuts import CutProgram
from qcompile.passes.targets import fake_backend
from qcompile.states.circuit_states import MAX_STATEVECTOR_QUBITS

__all__ = [
    "AerBackend",
    "active_qubits",
    "compact",
    "density_matrices_at",
    "restrict_target",
    "restricted_noise_model",
]

Progress = Callable[[int], None]

#: Appended to the backend name when counts are readout-mitigated.
READOUT_MITIGATION_SUFFIX = "+readout-mitigation"

#: Largest register simulated: a statevector of 2^26 amplitudes is 1 GiB.
MAX_SIMULATED_QUBITS = MAX_STATEVECTOR_QUBITS


class AerBackend:
    """Aer, noiseless (``device=None``) or with a fake IBM device's calibrated noise.

    Circuits passed to :meth:`run` must be compiled for :attr:`target` (the device's target,
    or ``None`` for the ideal simulator, which accepts any standard gates).
    """

    runs_circuits = True  # capabilities (what the runners ask instead of the name)
    submits_jobs = False

    def __init__(
        self,
        device: str | BackendV2 | None = None,
        *,
        readout_mitigation: bool = False,
        suppression: Suppression | None = None,
    ) -> None:
        self.device = fake_backend(device) if isinstance(device, str) else device
        self.readout_mitigation = bool(readout_mitigation) and self.device is not None
        self.suppression = suppression or Suppression()
        if self.suppression.active and self.device is None:
            raise InvalidParameter(
                *self.suppression.option(),
                "only on a device-noise backend (aer:<fake backend> or ibm:...): the ideal "
                "simulator has no noise to suppress",
            )  # fmt: skip
        self.name = "aer" if self.device is None else f"aer:{self.device.name}"
        if self.readout_mitigation:
            self.name += READOUT_MITIGATION_SUFFIX

    @property
    def target(self) -> Target | None:
        return None if self.device is None else self.device.target

    @property
    def compile_target(self) -> BackendV2 | None:
        """What circuits are compiled for: the device (its target and name), or nothing."""
        return self.device

    @property
    def noisy(self) -> bool:
        return self.device is not None

    @property
    def num_qubits(self) -> int:
        """Largest register this backend runs: the device's size, capped by simulation."""
        if self.device is None:
            return MAX_SIMULATED_QUBITS
        return min(self.device.num_qubits, MAX_SIMULATED_QUBITS)

    @property
    def capacity(self) -> str:
        """Where :attr:`num_qubits` comes from, for error messages."""
        if self.device is None:
            return f"{self.name} (statevector simulation of at most {MAX_SIMULATED_QUBITS} qubits)"
        return (
            f"{self.name} ({self.device.num_qubits} device qubits, at most "
            f"{MAX_SIMULATED_QUBITS} simulated)"
        )

    def ideal_density_matrices(
        self, circuit: QuantumCircuit, checkpoints: dict[float, int], qubits: Sequence[int]
    ) -> dict[float, np.ndarray]:
        """Exact noiseless states at the checkpoints (see :func:`density_matrices_at`)."""
        return density_matrices_at(circuit, checkpoints, qubits)

    @staticmethod
    def unitary(circuit: QuantumCircuit) -> np.ndarray:
        """The unitary of a measurement-free circuit (Aer's unitary simulator, no noise)."""
        circuit = circuit.copy()
        circuit.save_unitary()
        simulator = AerSimulator(method="unitary")
        return np.asarray(simulator.run(circuit).result().get_unitary(circuit))

    def run(
        self,
        circuits: Sequence[QuantumCircuit],
        shots: int,
        *,
        seed: int | None = None,
        chunk: int = 3,
        progress: Progress | None = None,
        run_id: str | None = None,
    ) -> list[dict[str, int]]:
        """Counts of every circuit; ``progress(n)`` is called after each ``chunk`` circuits.

        With readout mitigation two calibration circuits run first, with the same noise and
        shots, and every table comes back mitigated (``qcompile.backends.readout_mitigation``; float
        counts with the same total). With :attr:`suppression` each circuit runs as its twirled
        and/or scheduled instances (:mod:`qcompile.backends.error_suppression`), their counts
        summed. ``run_id`` is accepted for the common backend interface; Aer keeps no jobs."""
        circuits = list(circuits)
        rng = np.random.default_rng(seed)
        if self.device is None:
            small, target, noise = circuits, None, None
        else:
            qubits = active_qubits(circuits)
            target = None  # (cut down only when twirling or scheduling needs it)
            if self.suppression.active:
                target = restrict_target(self.device.target, qubits)
            noise = restricted_noise_model(self.device, qubits)
            scheduled = self.suppression.scheduled
            small = [compact(c, qubits, keep_barriers=scheduled) for c in circuits]
        runnable, flips, per = self._instances(small, target, rng)
        each = shots if per == 1 else -(-shots // per)  # ⌈shots/per⌉, as runtime splits them
        simulator = AerSimulator(
            method=simulation_method(runnable, each), noise_model=noise, seed_simulator=seed
        )
        if self.readout_mitigation:
            measured = [measured_qubits(c) for c in small]
            qubits = sorted({q for m in measured for q in m.values()})
            cal = calibration_circuits(runnable[0].num_qubits, qubits)
            if self.suppression.measurements:
                twirled = [twirl_measurements(c, rng) for c in cal for _ in range(per)]
                tables = simulator.run([c for c, _ in twirled], shots=each).result().get_counts()
                zeros, ones = (merge_counts(tables[i * per : (i + 1) * per],
                                            [f for _, f in twirled[i * per : (i + 1) * per]])
                               for i in range(2))  # fmt: skip
            else:
                zeros, ones = simulator.run(cal, shots=shots).result().get_counts()
            matrices = assignment_matrices(zeros, ones, qubits)
        counts: list[dict[str, int]] = []
        step = chunk * per
        for start in range(0, len(runnable), step):
            batch = runnable[start : start + step]
            # Aer seeds experiment i of a call with seed + i: each chunk starts where the
            # last ended, or the i-th circuit of every chunk would share its random draws
            # (equal distributions, equal counts: the estimates' errors correlated)
            chunk_seed = None if seed is None else (seed + start) % 2**63
            result = simulator.run(batch, shots=each, seed_simulator=chunk_seed).result()
            tables = [result.get_counts(i) for i in range(len(batch))]
            for i in range(0, len(batch), per):
                counts.append(merge_counts(tables[i : i + per], flips[start + i : start + i + per]))
            if self.readout_mitigation:
                for i in range(start // per, len(counts)):
                    counts[i] = mitigate_counts(counts[i], measured[i], matrices)
            if progress is not None:
                progress(len(batch) // per)
        return counts

    def run_cuts(
        self,
        program: CutProgram,
        shots: int,
        *,
        seed: int | None = None,
        progress: Progress | None = None,
        run_id: str | None = None,
    ) -> list[dict[str, int]]:
        """Counts of ``program``'s circuits, each compiled evolution simulated once with its
        states saved at the checkpoints (:mod:`qcompile.backends.checkpoint_sampling`: the
        same distributions as :meth:`run` of its circuits, in O(T)); :meth:`run` of the
        circuits where that does not apply — twirled or scheduled circuits, too many active
        qubits, a mid-circuit measurement."""
        counts = None
        if not self.suppression.active:
            counts = sample_cuts(program, self.device, shots, seed=seed,
                                 mitigate_readout=self.readout_mitigation,
                                 progress=progress)  # fmt: skip
        if counts is None:
            counts = self.run(program.circuits, shots, seed=seed, progress=progress,
                              run_id=run_id)  # fmt: skip
        return counts

    def _instances(
        self, circuits: list[QuantumCircuit], target: Target | None, rng: np.random.Generator
    ) -> tuple[list[QuantumCircuit], list[list[int]], int]:
        """What runs for ``circuits`` (on the qubits of ``target``, the device cut down to
        those the circuits use): each one's instances (twirled, scheduled), the clbits each
        instance's measurement twirl flipped, and the instances per circuit."""
        chosen = self.suppression
        if not chosen.active:
            return circuits, [[] for _ in circuits], 1
        out: list[QuantumCircuit] = []
        flips: list[list[int]] = []
        per = RANDOMIZATIONS if chosen.twirling != "none" else 1
        for circuit in circuits:
            if chosen.gates:
                copies = twirl_gates(circuit, target, int(rng.integers(2**32)))
            else:
                copies = [circuit] * per
            for copy in copies:
                flipped: list[int] = []
                if chosen.measurements:
                    copy, flipped = twirl_measurements(copy, rng)
                if chosen.scheduled:
                    copy = schedule(copy, target, chosen.dynamical_decoupling)
                out.append(copy)
                flips.append(flipped)
        return out, flips, per

    def estimate(
        self,
        circuits: Sequence[QuantumCircuit],
        observables: Sequence[Sequence[SparsePauliOp]],
        shots: int,
        *,
        resilience_level: int = 1,
        seed: int | None = None,
        progress: Progress | None = None,
        run_id: str | None = None,
    ) -> list[dict[str, list[float]]]:
        """Expectation values of ``observables[i]`` (on physical qubits) after ``circuits[i]``
        through runtime's client-side Estimator in local mode, with this backend's noise
        (:mod:`qcompile.backends.estimator`); ``{"evs", "stds"}`` per circuit."""
        if self.readout_mitigation:
            raise InvalidParameter(
                "mitigate_readout", True, "not with the Estimator: use its resilience_level 1"
            )
        if self.suppression.active:
            raise InvalidParameter(
                *self.suppression.option(),
                "not with the Estimator on a local backend: its resilience levels twirl",
            )  # fmt: skip
        options = estimator_options(shots, resilience_level, seed)
        data = expectation_data(run_local(circuits, observables, options, self.device).result())
        if progress is not None:
            progress(len(data))
        return data


def density_matrices_at(
    circuit: QuantumCircuit, checkpoints: dict[float, int], qubits: Sequence[int]
) -> dict[float, np.ndarray]:
    """Exact noiseless density matrices of ``qubits`` after each checkpoint prefix.

    ``checkpoints`` maps a label (a time) to the number of instructions of ``circuit`` that
    reach it. The matrices are little-endian over ``qubits``, which for a lowered model (qubit
    q = subsystem n−1−q) is the model's own tensor order.
    """
    by_index: dict[int, list[float]] = {}
    for label, index in checkpoints.items():
        by_index.setdefault(index, []).append(label)
    qc = circuit.copy_empty_like()
    names = {}
    for i in range(len(circuit.data) + 1):
        for label in by_index.get(i, []):
            names[label] = f"rho_{len(names)}"
            qc.save_density_matrix(qubits=list(qubits), label=names[label])
        if i < len(circuit.data):
            qc.append(circuit.data[i])
    simulator, translate = _density_matrix_simulator()
    data = simulator.run(translate.run(qc)).result().data(0)
    return {label: np.asarray(data[name]) for label, name in names.items()}


@cache
def _density_matrix_simulator() -> tuple[AerSimulator, PassManager]:
    """Aer's noiseless density-matrix simulator and the level-0 pass manager that
    translates a circuit to its instructions (built once: building it costs ~40 ms)."""
    simulator = AerSimulator(method="density_matrix")
    return simulator, generate_preset_pass_manager(optimization_level=0, backend=simulator)
