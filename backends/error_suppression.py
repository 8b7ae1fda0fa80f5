"""Pauli twirling, idle-time noise and dynamical decoupling on the local device-noise path
(``aer:<fake backend>``; issue 16, item 1).

On a device, runtime's client-side Sampler applies its ``twirling`` and
``dynamical_decoupling`` options (``ibm:`` backends). Locally the same is done here with
Qiskit's own tools, on the compiled (ISA) circuits:

* **Pauli twirling of two-qubit gates**: ``qiskit.circuit.pauli_twirl_2q_gates`` — a random
  Pauli pair before every CZ/ECR/CX and its image after, so each gate is unchanged and its
  noise averages to a Pauli channel — :data:`RANDOMIZATIONS` instances per circuit (runtime's
  default), the shots split between them (⌈shots/32⌉ each, as runtime does) and summed.
* **Measurement twirling**: in each instance a random subset of the measured qubits gets an X
  before its measurement and its bit flipped back in the counts, so readout errors become
  symmetric (what TREX builds on). Readout calibration circuits are twirled the same way.
* **Idle time**: without a schedule, a waiting qubit does not decohere in the simulation at
  all. Scheduled (ALAP with the device's gate durations, ``ALAPScheduleAnalysis``), its idle
  stretches become ``Delay`` instructions (``PadDelay``) on which Aer's device noise model
  (``NoiseModel.from_backend``'s ``RelaxationNoisePass``) applies T1/T2 relaxation.
* **Dynamical decoupling**: the idle stretches filled with runtime's sequences (XX, XpXm,
  XY4; its own ``make_dd_sequence``, so the pulses and spacings are the device path's) by
  ``PadDynamicalDecoupling`` instead. DD implies the idle-time model: compared with an
  unscheduled run it would be charged for noise the baseline never had.

Aer's device noise (depolarizing + thermal relaxation per gate, Markovian relaxation while
idle) has no coherent errors for twirling to tame and no slow dephasing for DD to refocus:
on it both are expected to be neutral or slightly costly — measured in
``benchmarks/mitigation_gains.py`` rather than assumed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from qiskit.circuit import QuantumCircuit, pauli_twirl_2q_gates
from qiskit.circuit.library import XGate
from qiskit.transpiler import PassManager, Target
from qiskit.transpiler.passes import ALAPScheduleAnalysis, PadDelay, PadDynamicalDecoupling

from qcompile.errors import InvalidParameter

__all__ = ["RANDOMIZATIONS", "Suppression", "merge_counts", "schedule", "twirl_measurements"]

RANDOMIZATIONS = 32  # runtime's default num_randomizations


@dataclass(frozen=True)
class Suppression:
    """What the local path applies: ``twirling`` none | gates | measure | all,
    ``dynamical_decoupling`` ``None`` or XX | XpXm | XY4, ``idle_noise`` (scheduled circuits;
    implied by DD)."""

    twirling: str = "none"
    dynamical_decoupling: str | None = None
    idle_noise: bool = False

    @property
    def gates(self) -> bool:
        return self.twirling in ("gates", "all")

    @property
    def measurements(self) -> bool:
        return self.twirling in ("measure", "all")

    @property
    def scheduled(self) -> bool:
        return self.idle_noise or self.dynamical_decoupling is not None

    @property
    def active(self) -> bool:
        return self.twirling != "none" or self.scheduled

    def option(self) -> tuple[str, object]:
        """The first option applied and its value, for an error message naming it."""
        if self.twirling != "none":
            return "twirling", self.twirling
        if self.dynamical_decoupling is not None:
            return "dd", self.dynamical_decoupling
        return "idle_noise", self.idle_noise

    def record(self) -> dict:
        """What a result records under ``mitigation`` (empty when nothing is applied)."""
        out: dict = {}
        if self.twirling != "none":
            out["twirling"] = {
                "gates": self.gates,
                "measurements": self.measurements,
                "randomizations": RANDOMIZATIONS,
                "method": "qiskit pauli_twirl_2q_gates; X before measurements, bits flipped back",
            }
        if self.scheduled:
            out["idle_noise"] = {
                "scheduling": "ALAP, device gate durations",
                "noise": "T1/T2 relaxation on delays (Aer device noise model)",
            }
        if self.dynamical_decoupling is not None:
            out["dynamical_decoupling"] = {
                "sequence": self.dynamical_decoupling,
                "method": "qiskit PadDynamicalDecoupling, runtime's sequences and spacings",
            }
        return out


def twirl_gates(circuit: QuantumCircuit, target: Target, seed: int) -> list[QuantumCircuit]:
    """:data:`RANDOMIZATIONS` Pauli-twirled copies of ``circuit``, in ``target``'s basis."""
    twirled = pauli_twirl_2q_gates(circuit, seed=seed, num_twirls=RANDOMIZATIONS, target=target)
    for copy in twirled:
        copy.name = circuit.name
        copy._layout = circuit.layout  # the twirl keeps every qubit where it was
    return twirled


def twirl_measurements(
    circuit: QuantumCircuit, rng: np.random.Generator
) -> tuple[QuantumCircuit, list[int]]:
    """``circuit`` with an X before each measurement drawn (probability ½), and the clbits
    whose outcome is thereby flipped."""
    out = circuit.copy_empty_like()
    flipped = []
    for instruction in circuit.data:
        if instruction.operation.name == "measure" and rng.random() < 0.5:
            out.append(XGate(), instruction.qubits)
            flipped.append(circuit.find_bit(instruction.clbits[0]).index)
        out.append(instruction)
    return out, flipped


def schedule(circuit: QuantumCircuit, target: Target, sequence: str | None) -> QuantumCircuit:
    """``circuit`` scheduled ALAP with ``target``'s durations, idle time as delays or, with a
    ``sequence``, filled with that DD sequence (runtime's pulses and spacings)."""
    if target.dt is None:
        raise InvalidParameter(
            "idle_noise", True, "a device target with gate durations (dt); this one has none"
        )
    passes = [ALAPScheduleAnalysis(target=target)]
    if sequence is None:
        passes.append(PadDelay(target=target))
    else:
        from qiskit_ibm_runtime.executor.dynamical_decoupling import make_dd_sequence

        gates, spacing = make_dd_sequence(sequence)
        passes.append(PadDynamicalDecoupling(target=target, dd_sequence=gates, spacing=spacing))
    scheduled = PassManager(passes).run(circuit)
    scheduled.name = circuit.name
    return scheduled


def _flip(bits: str, clbits: Sequence[int]) -> str:
    """``bits`` (Qiskit's order, registers separated by spaces) with ``clbits`` flipped."""
    chars = list(bits)
    positions = [i for i, c in enumerate(chars) if c != " "]
    for clbit in clbits:
        at = positions[-1 - clbit]
        chars[at] = "1" if chars[at] == "0" else "0"
    return "".join(chars)


def merge_counts(
    tables: Sequence[dict[str, int]], flips: Sequence[Sequence[int]]
) -> dict[str, int]:
    """The counts of one circuit's instances summed, each measurement twirl undone."""
    merged: dict[str, int] = {}
    for table, flipped in zip(tables, flips, strict=True):
        for bits, n in table.items():
            key = _flip(bits, flipped) if flipped else bits
            merged[key] = merged.get(key, 0) + n
    return merged
