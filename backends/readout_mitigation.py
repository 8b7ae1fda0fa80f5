"""Readout-error mitigation with tensored assignment matrices (the local Aer path).

Calibration: two circuits on the measured physical qubits — every qubit prepared in |0⟩, and
every qubit in |1⟩ — run with the same noise and shots as the experiment. For each qubit q
they give the assignment matrix

    A_q = [[P(0|0), P(0|1)],
           [P(1|0), P(1|1)]],   p_measured = (⊗_q A_q) p_true,

(independent readout errors, which is how Aer's device noise models readout). Mitigation
solves (⊗_q A_q) p = p_measured with mthree (Nation et al., PRX Quantum 2, 040326 (2021)):
matrix-free, in the subspace of the bit strings actually observed, so 20 measured qubits cost
what their observed strings cost, not 2^20 (``benchmarks/readout_mitigation.py``). It returns
the nearest probability distribution in the 2-norm to mthree's quasi-probabilities (Smolin,
Gambetta & Smith, PRL 108, 070502 (2012)), scaled back to the shot count, so the estimators
downstream see ordinary counts. The tables are
:class:`~qcompile.states.mitigated_counts.MitigatedCounts`: they keep the raw counts and each
clbit's calibration, so the tomography bootstrap resamples those and inverts again — standard
errors include the variance the inversion adds (shot noise / (1 − e₀ − e₁) per qubit) and the
calibration's own.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from qiskit.circuit import QuantumCircuit

from qcompile.states.mitigated_counts import MitigatedCounts

__all__ = [
    "ReadoutMitigated",
    "calibration_circuits",
    "assignment_matrices",
    "measured_qubits",
    "mitigate_counts",
    "nearest_probability",
]


def measured_qubits(circuit: QuantumCircuit) -> dict[int, int]:
    """clbit index → physical qubit index of every measurement in ``circuit``."""
    return {
        circuit.find_bit(inst.clbits[0]).index: circuit.find_bit(inst.qubits[0]).index
        for inst in circuit.data
        if inst.operation.name == "measure"
    }


def calibration_circuits(num_qubits: int, qubits: Sequence[int]) -> list[QuantumCircuit]:
    """All-|0⟩ and all-|1⟩ preparations of ``qubits`` (clbit i reads ``qubits[i]``)."""
    circuits = []
    for flip in (False, True):
        qc = QuantumCircuit(num_qubits, len(qubits), name=f"readout_cal_{int(flip)}")
        if flip:
            qc.x(list(qubits))
        qc.measure(list(qubits), list(range(len(qubits))))
        circuits.append(qc)
    return circuits


def _bit_probabilities(counts: dict[str, float], num_bits: int) -> np.ndarray:
    """P(bit i = 1) for each clbit i (Qiskit order: clbit 0 is the last character)."""
    ones, total = np.zeros(num_bits), 0.0
    for bits, n in counts.items():
        bits = bits.replace(" ", "")
        total += n
        for i in range(num_bits):
            if bits[-1 - i] == "1":
                ones[i] += n
    return ones / total


def assignment_matrices(
    zeros: dict[str, float], ones: dict[str, float], qubits: Sequence[int]
) -> dict[int, np.ndarray]:
    """Physical qubit → its 2×2 assignment matrix, from the two calibration count tables."""
    p1_given_0 = _bit_probabilities(zeros, len(qubits))
    p1_given_1 = _bit_probabilities(ones, len(qubits))
    return {
        q: np.array([[1 - p1_given_0[i], 1 - p1_given_1[i]], [p1_given_0[i], p1_given_1[i]]])
        for i, q in enumerate(qubits)
    }


def nearest_probability(quasi: np.ndarray) -> np.ndarray:
    """The probability vector closest in the 2-norm to ``quasi`` (which sums to one)."""
    order = np.argsort(quasi)
    values = quasi[order].astype(float)
    n = len(values)
    accumulated = 0.0
    for i in range(n):
        if values[i] + accumulated / (n - i) >= 0:
            values[i:] += accumulated / (n - i)
            break
        accumulated += values[i]
        values[i] = 0.0
    out = np.empty(n)
    out[order] = values
    return out


def mitigate_counts(
    counts: dict[str, int],
    clbit_qubits: dict[int, int],
    matrices: dict[int, np.ndarray],
    calibration_shots: int | None = None,
) -> MitigatedCounts:
    """``counts`` with the readout errors of the measured qubits undone (same total), as
    :class:`MitigatedCounts` remembering the raw table and the calibration (taken with
    ``calibration_shots``, default: as many as ``counts``)."""
    import mthree  # only when mitigation is asked for

    num_bits = max(len(next(iter(counts)).replace(" ", "")), 1)
    shots = float(sum(counts.values()))
    flat = {bits.replace(" ", ""): float(n) for bits, n in counts.items()}
    # clbits without a measurement (none in qcompile's circuits) keep an identity matrix
    qubits = [clbit_qubits.get(c, -1 - c) for c in range(num_bits)]
    slots = {q: i for i, q in enumerate(dict.fromkeys(qubits))}
    calibration = [matrices.get(q, np.eye(2)) for q in slots]
    mitigation = mthree.M3Mitigation()
    mitigation.cals_from_matrices(calibration)
    quasi = mitigation.apply_correction(flat, [slots[q] for q in qubits], method="auto")
    strings = list(quasi)
    probabilities = nearest_probability(np.array([quasi[b] for b in strings], dtype=float))
    mitigated = {b: float(p * shots) for b, p in zip(strings, probabilities, strict=True) if p > 0}
    identity = np.eye(2)
    flips = np.array([[matrices.get(q, identity)[1, 0], matrices.get(q, identity)[0, 1]]
                      for q in qubits])  # fmt: skip
    return MitigatedCounts(mitigated, flat, flips, calibration_shots or round(shots))


class ReadoutMitigated:
    """Any circuit backend with readout mitigation (``ibm:<device>+readout-mitigation``): the
    two calibration circuits go first in the same submission — one job on IBM Quantum, so the
    calibration sees the device as the circuits do — and every table comes back mitigated.
    Everything else (compiling target, jobs, fetch) is the wrapped backend's."""

    def __init__(self, inner, suffix: str) -> None:
        self.inner = inner
        self.name = inner.name + suffix
        self.noisy = inner.noisy
        self.runs_circuits = True
        self.readout_mitigation = True
        self.submits_jobs = getattr(inner, "submits_jobs", False)

    def __getattr__(self, attribute: str):
        return getattr(self.inner, attribute)

    @property
    def on_status(self):
        return getattr(self.inner, "on_status", None)

    @on_status.setter
    def on_status(self, callback) -> None:
        self.inner.on_status = callback

    def run(
        self,
        circuits: Sequence[QuantumCircuit],
        shots: int,
        *,
        seed: int | None = None,
        progress: Callable[[int], None] | None = None,
        run_id: str | None = None,
    ) -> list[dict[str, float]]:
        circuits = list(circuits)
        measured = [measured_qubits(c) for c in circuits]
        qubits = sorted({q for m in measured for q in m.values()})
        calibration = calibration_circuits(circuits[0].num_qubits, qubits)
        counts = self.inner.run([*calibration, *circuits], shots, seed=seed, run_id=run_id)
        matrices = assignment_matrices(counts[0], counts[1], qubits)
        mitigated = [
            mitigate_counts(c, m, matrices, shots)
            for c, m in zip(counts[2:], measured, strict=True)
        ]
        if progress is not None:
            progress(len(circuits))
        return mitigated
