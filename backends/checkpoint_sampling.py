"""Sample the cuts of compiled evolutions on Aer in O(T) (issue 33).

A :class:`~qcompile.passes.checkpoint_cuts.CutProgram`'s circuit i is the compiled
evolution ``sources[i]`` up to its checkpoint ``checkpoints[i]``, then ``tails[i]`` (a readout
unitary, basis changes, measurements). Running each circuit repeats the evolution before
the checkpoint: O(T²) gates for T checkpoints, and 3^k times over for k-qubit tomography.

Here each source runs once, on Aer's density-matrix method with the device's noise model
(:func:`~qcompile.backends.aer.restricted_noise_model`), saving at each checkpoint the
density matrix ρ of the qubits its tails touch. Each tail then runs from that ρ
(``set_density_matrix``) with the same noise model on those qubits; where it measures every
qubit once at its end (tomography settings do), the outcome probabilities are computed
exactly, the noise model's readout errors applied (each qubit's assignment matrix) and the
shots drawn from them in NumPy — Aer's own sampling of 4000 noisy shots costs ~3 ms a
circuit, ten times the rest; any other tail is sampled by Aer shot by shot. The noise
channels act on the density matrix exactly and the qubits a tail does not touch are traced
out, so every table is drawn from the very distribution the whole cut circuit has on this
backend — only not recomputed from |0…0⟩ for every tail. Readout mitigation calibrates as
:meth:`AerBackend.run` does.

Not sampled so (``None``: run the circuits): more than
:data:`~qcompile.backends.simulation_method.MAX_QUBITS` active qubits (a density matrix per
checkpoint would not pay), or a source that measures or branches mid-circuit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from qiskit.circuit import CircuitInstruction, QuantumCircuit
from qiskit.providers import BackendV2
from qiskit_aer import AerSimulator
from qiskit_aer.noise import NoiseModel

from qcompile.backends.readout_mitigation import (
    assignment_matrices,
    calibration_circuits,
    measured_qubits,
    mitigate_counts,
)
from qcompile.backends.restricted_noise import active_qubits, restricted_noise_model
from qcompile.backends.simulation_method import MAX_QUBITS
from qcompile.passes.checkpoint_cuts import CutProgram, checkpoint_index

__all__ = ["checkpoint_states", "sample_cuts"]

#: Tails simulated per Aer call (progress is reported after each).
CHUNK = 64


def _sampleable(source: QuantumCircuit) -> bool:
    """A source Aer can carry as one density matrix: no measurement, no control flow."""
    return not any(
        inst.operation.name == "measure" or getattr(inst.operation, "blocks", ())
        for inst in source.data
    )


def _relabelled(inst: CircuitInstruction, circuit: QuantumCircuit, small: QuantumCircuit,
                index: dict[int, int]) -> CircuitInstruction:  # fmt: skip
    qargs = tuple(small.qubits[index[circuit.find_bit(q).index]] for q in inst.qubits)
    cargs = tuple(small.clbits[circuit.find_bit(c).index] for c in inst.clbits)
    return CircuitInstruction(inst.operation, qargs, cargs)


def _saving(source: QuantumCircuit, index: dict[int, int],
            keep: dict[int, list[int]]) -> QuantumCircuit:  # fmt: skip
    """``source`` on the active qubits (``index``: physical → position), saving the density
    matrix of ``keep[j]`` (positions) at checkpoint j, as ``"rho_<j>"``."""
    small = QuantumCircuit(len(index), name=source.name, global_phase=source.global_phase)
    for inst in source.data:
        name = inst.operation.name
        if name == "barrier":
            j = checkpoint_index(inst.operation.label)
            if j in keep:
                small.save_density_matrix(qubits=keep[j], label=f"rho_{j}")
            continue
        if name == "delay":
            continue
        small._append(_relabelled(inst, source, small, index))
    return small


def _from_state(tail: QuantumCircuit, rho: np.ndarray, positions: dict[int, int],
                width: int) -> QuantumCircuit:  # fmt: skip
    """``tail`` (physical qubits) from ``rho`` on ``width`` qubits (``positions``: physical
    qubit → its place in ``rho``, little-endian)."""
    small = QuantumCircuit(width, name=tail.name)
    for creg in tail.cregs:
        small.add_register(creg)
    small.set_density_matrix(rho)
    for inst in tail.data:
        if inst.operation.name in ("barrier", "delay"):
            continue
        small._append(_relabelled(inst, tail, small, positions))
    return small


def _readout_matrices(noise: NoiseModel | None) -> dict[int, np.ndarray]:
    """Each qubit's readout assignment matrix in ``noise`` (row: the state, column: the
    outcome read), as its ``to_dict`` lists them (the identity where it has none)."""
    matrices: dict[int, np.ndarray] = {}
    for error in noise.to_dict()["errors"] if noise is not None else ():
        if error["type"] == "roerror":
            for qubits in error.get("gate_qubits", ()):
                matrices[qubits[0]] = np.asarray(error["probabilities"], dtype=float)
    return matrices


def _final_measurements(circuit: QuantumCircuit):
    """``(circuit with its measurements replaced by saving the outcome probabilities of the
    measured qubits in clbit order, those qubits)`` when every clbit (one register) is
    measured once, at the end of its qubit; else ``None`` (sample it shot by shot)."""
    if len(circuit.cregs) != 1 or not circuit.num_clbits:
        return None
    measured: dict[int, int] = {}
    done: set[int] = set()
    unmeasured = circuit.copy_empty_like()
    for inst in circuit.data:
        qubits = [circuit.find_bit(q).index for q in inst.qubits]
        if done.intersection(qubits):
            return None  # an operation after a measurement
        if inst.operation.name == "measure":
            clbit = circuit.find_bit(inst.clbits[0]).index
            if clbit in measured:
                return None
            measured[clbit] = qubits[0]
            done.add(qubits[0])
            continue
        unmeasured._append(inst)
    if sorted(measured) != list(range(circuit.num_clbits)):
        return None
    order = [measured[c] for c in range(circuit.num_clbits)]
    unmeasured.save_probabilities(qubits=order, label="probabilities")
    return unmeasured, order


def _sampled(probabilities: np.ndarray, qubits: list[int], readout: dict[int, np.ndarray],
             shots: int, rng: np.random.Generator) -> dict[str, int]:  # fmt: skip
    """``shots`` outcomes drawn from ``probabilities`` (little-endian over ``qubits``, clbit
    order) after each qubit's readout error, as Aer's counts (``"c_{k−1}…c_0"``)."""
    k = len(qubits)
    tensor = np.clip(probabilities.real, 0, None).reshape((2,) * k)  # axes: c_{k−1} … c_0
    for j, q in enumerate(qubits):
        if q in readout:  # outcome read on clbit j: Σ_state p(state) A[state, read]
            tensor = np.moveaxis(np.tensordot(tensor, readout[q], axes=([k - 1 - j], [0])),
                                 -1, k - 1 - j)  # fmt: skip
    p = tensor.reshape(-1)
    drawn = rng.multinomial(shots, p / p.sum())
    return {format(x, f"0{k}b"): int(n) for x, n in enumerate(drawn) if n}


def sample_cuts(
    program: CutProgram,
    device: BackendV2 | None,
    shots: int,
    *,
    seed: int | None = None,
    mitigate_readout: bool = False,
    progress: Callable[[int], None] | None = None,
) -> list[dict] | None:
    """Counts of every circuit of ``program`` on Aer with ``device``'s noise (``None``:
    noiseless), drawn as the module docstring says; ``None`` where that does not apply."""
    saved = checkpoint_states(program, device)
    if saved is None:
        return None
    qubits, kept, states = saved
    groups: dict[tuple[int, ...], list[int]] = {}
    for i, (source, j) in enumerate(zip(program.sources, program.checkpoints, strict=True)):
        groups.setdefault(tuple(kept[id(source)][j]), []).append(i)
    counts: list[dict | None] = [None] * len(program.circuits)
    rng = np.random.default_rng(seed)  # one stream: no two tables drawn alike
    for place, members in groups.items():
        physical = [qubits[p] for p in place]
        local = {q: n for n, q in enumerate(physical)}
        tail_noise = None if device is None else restricted_noise_model(device, physical)
        simulator = AerSimulator(method="density_matrix", noise_model=tail_noise,
                                 seed_simulator=seed)  # fmt: skip
        readout = _readout_matrices(tail_noise)
        for start in range(0, len(members), CHUNK):
            batch = members[start : start + CHUNK]
            circuits = [_from_state(program.tails[i],
                                    np.asarray(states[id(program.sources[i])]
                                               [f"rho_{program.checkpoints[i]}"]),
                                    local, len(physical)) for i in batch]  # fmt: skip
            final = [_final_measurements(c) for c in circuits]
            if all(m is not None for m in final):  # exact probabilities, then the shots
                result = simulator.run([m[0] for m in final], shots=1).result()
                tables = [_sampled(np.asarray(result.data(n)["probabilities"]), m[1], readout,
                                   shots, rng) for n, m in enumerate(final)]  # fmt: skip
            else:  # each call seeded from the stream (one seed for every call: equal draws)
                chunk_seed = None if seed is None else int(rng.integers(2**62))
                tables = (
                    simulator.run(circuits, shots=shots, seed_simulator=chunk_seed)
                    .result()
                    .get_counts()
                )
                tables = [tables] if isinstance(tables, dict) else tables
            for i, table in zip(batch, tables, strict=True):
                counts[i] = table
            if progress is not None:
                progress(len(batch))
    if mitigate_readout:
        counts = _mitigated(program, counts, device, qubits, shots, seed)
    return counts


def checkpoint_states(program: CutProgram, device: BackendV2 | None):
    """``(qubits, kept, states)``: the active physical ``qubits`` of ``program``; per source
    (by ``id``) and checkpoint the positions in ``qubits`` its tails touch (``kept``); and
    per source the saved data, ``"rho_<j>"`` the density matrix of those positions at
    checkpoint j after one noisy run — ``None`` where :func:`sample_cuts` does not apply."""
    sources = list({id(s): s for s in program.sources}.values())
    qubits = active_qubits([*sources, *program.tails])
    if len(qubits) > MAX_QUBITS or not all(_sampleable(s) for s in sources):
        return None
    index = {q: i for i, q in enumerate(qubits)}
    keep: dict[int, dict[int, set[int]]] = {id(s): {} for s in sources}
    for source, j, tail in zip(program.sources, program.checkpoints, program.tails, strict=True):
        keep[id(source)].setdefault(j, set()).update(index[q] for q in active_qubits([tail]))
    kept = {k: {j: sorted(v) for j, v in per.items()} for k, per in keep.items()}
    noise = None if device is None else restricted_noise_model(device, qubits)
    evolve = AerSimulator(method="density_matrix", noise_model=noise)
    result = evolve.run([_saving(s, index, kept[id(s)]) for s in sources], shots=1).result()
    return qubits, kept, {id(s): result.data(i) for i, s in enumerate(sources)}


def _mitigated(program: CutProgram, counts: Sequence[dict], device: BackendV2 | None,
               qubits: Sequence[int], shots: int, seed: int | None) -> list:  # fmt: skip
    """Every table readout-mitigated with the per-qubit calibration of
    :meth:`~qcompile.backends.aer.AerBackend.run` (two circuits, the same noise and shots)."""
    index = {q: i for i, q in enumerate(qubits)}
    noise = None if device is None else restricted_noise_model(device, qubits)
    simulator = AerSimulator(method="density_matrix", noise_model=noise, seed_simulator=seed)
    measured = [{c: index[q] for c, q in measured_qubits(t).items()} for t in program.tails]
    used = sorted({q for m in measured for q in m.values()})
    zeros, ones = simulator.run(calibration_circuits(len(qubits), used),
                                shots=shots).result().get_counts()  # fmt: skip
    matrices = assignment_matrices(zeros, ones, used)
    return [mitigate_counts(c, m, matrices) for c, m in zip(counts, measured, strict=True)]
