"""Recoverability of homogenization's input from its reservoir (seed 000 Sec. IV, spec 000 §3).

``qcompile run homogenization --recoverability`` adds, for k = 1..R·N collisions:

* ``reference``: the exact channels of the protocol's unitary — ζ̂_k (input → system) from the
  Stinespring isometry and its complement ζ_k (input → reservoir) — with δ_k = ‖ζ̂_k − P‖⋄, the
  optimal and Petz recovery fidelities and the optimal recovery's diamond error
  (:mod:`qcompile.channels.recoverability`);
* ``measured`` (circuit backends with shots, k ≤ 4): the same figures of the channels
  reconstructed on the backend by process tomography — four probe inputs, the touched
  reservoir qubits R_1..R_min(k,N) by joint Pauli tomography and S by its Bloch vector, a
  CPTP fit (:mod:`qcompile.channels.process_tomography`) — with bootstrap standard errors.
  Under device noise the two maps are no longer complementary: the noise is a third party,
  which is what the paper's footnote 7 is about.

:class:`Recoverability` is this block as a side experiment of the one runner's Bloch path
(:mod:`qcompile.run.bloch_pipeline`): its circuits run in the homogenization run's job.
(Formerly ``qcompile.run.recoverability``, which still imports as this module.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from functools import cached_property
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit

from qcompile.channels import PROBE_STATES, complementary_pair, fit_channel, recoverability_point
from qcompile.channels.recoverability import SOLVER, RecoverabilityPoint
from qcompile.errors import InvalidParameter
from qcompile.states.qubit_state import parse_qubit_state
from qcompile.states.tomography import (
    TomographyTask,
    estimate_bloch,
    estimate_state,
    measurement_circuits,
    state_tomography_circuits,
)

__all__ = [
    "MAX_COLLISIONS",
    "MAX_RESERVOIR",
    "MEASURED_MAX_COLLISIONS",
    "Recoverability",
    "RecoverabilityExperiment",
    "check_recoverability",
    "estimate_measured",
    "exact_recoverability",
    "recoverability_experiment",
]

#: The exact channels come from a statevector of N + 1 qubits per collision.
MAX_RESERVOIR = 16
MAX_COLLISIONS = 256
#: Process tomography of R_1..R_k costs 4·3^k circuits: k ≤ 4 (324 circuits at k = 4).
MEASURED_MAX_COLLISIONS = 4
BOOTSTRAP = 20
#: SDP tolerance for estimated channels (their standard errors are ~1e-2).
MEASURED_TOL = 1e-6
_FIELDS = tuple(f.name for f in fields(RecoverabilityPoint))
#: Bootstrapped figures (the recovery's diamond error is one SDP of seconds at k = 4: its
#: measured value has no standard error).
_STDERR = ("delta", "recovery_fidelity", "petz_fidelity")
_Report = Callable[[str, int, int], None]


def check_recoverability(protocol) -> None:
    """Everything ``--recoverability`` needs of the protocol, checked before any work."""
    if not protocol.reservoir_state.is_pure:
        raise InvalidParameter(
            "reservoir_state", "a mixed state", "a pure xi with --recoverability (the input's "
            "Stinespring pair: system and reservoir, nothing else)"
        )  # fmt: skip
    if protocol.reservoir > MAX_RESERVOIR:
        raise InvalidParameter(
            "reservoir", protocol.reservoir, f"N <= {MAX_RESERVOIR} with --recoverability"
        )
    if protocol.collisions > MAX_COLLISIONS:
        raise InvalidParameter(
            "rounds", protocol.rounds,
            f"rounds x N <= {MAX_COLLISIONS} collisions with --recoverability",
        )  # fmt: skip


def _columns(points: Sequence[RecoverabilityPoint]) -> dict[str, list]:
    return {name: [getattr(p, name) for p in points] for name in _FIELDS}


def exact_recoverability(protocol, report: _Report | None = None) -> dict[str, list]:
    """The ``reference`` block: every figure of :class:`RecoverabilityPoint` for k = 1..R·N."""
    xi = protocol.reservoir_state.density_matrix()
    points = []
    for k, isometry in enumerate(protocol.isometries(), start=1):
        system, reservoir = complementary_pair(isometry)
        points.append(recoverability_point(system, reservoir, xi))
        if report is not None:
            report("recoverability (exact)", k, protocol.collisions)
    return {"k": list(range(1, len(points) + 1)), **_columns(points)}


@dataclass(frozen=True)
class RecoverabilityExperiment:
    """The process-tomography circuits, in order: for each k and each probe input, the Pauli
    settings of the reservoir qubits (3^m circuits) then S in X, Y, Z (3 circuits)."""

    circuits: list[QuantumCircuit]
    collisions: tuple[int, ...]
    reservoir_qubits: tuple[int, ...]  # m for each k
    #: each circuit as (the prepared collisions, its measurement setting)
    pieces: tuple[tuple[QuantumCircuit, QuantumCircuit], ...] = ()


def recoverability_experiment(protocol) -> RecoverabilityExperiment:
    """Circuits for k = 1..min(R·N, 4); each starts from one probe input instead of ρ_S⁽⁰⁾."""
    ks = tuple(range(1, min(protocol.collisions, MEASURED_MAX_COLLISIONS) + 1))
    circuits: list[QuantumCircuit] = []
    pieces: list[tuple[QuantumCircuit, QuantumCircuit]] = []
    sizes = []
    for k in ks:
        m = min(k, protocol.reservoir)
        sizes.append(m)
        for probe in PROBE_STATES:
            prepared = replace(protocol, input_state=parse_qubit_state(probe, "input_state"))
            circuit = prepared.circuit(k)
            circuit.name = f"recoverability_k{k}_{probe}"
            empty = circuit.copy_empty_like()
            settings = state_tomography_circuits(
                empty, list(range(1, m + 1))
            ) + measurement_circuits(TomographyTask(circuit.name, empty, (0,)))
            for tail in settings:
                whole = circuit.compose(tail)
                whole.name = tail.name  # (the setting's name: f"{circuit.name}:{setting}")
                circuits.append(whole)
            pieces.extend((circuit, tail) for tail in settings)
    return RecoverabilityExperiment(circuits, ks, tuple(sizes), tuple(pieces))


def _density_matrices(bloch: np.ndarray) -> np.ndarray:
    """(..., 3) Bloch vectors → (..., 2, 2) density matrices."""
    x, y, z = bloch[..., 0], bloch[..., 1], bloch[..., 2]
    return 0.5 * np.stack(
        [np.stack([1 + z, x - 1j * y], -1), np.stack([x + 1j * y, 1 - z], -1)], -2
    )


def estimate_measured(
    experiment: RecoverabilityExperiment,
    counts: Sequence[dict],
    xi: np.ndarray,
    *,
    rng: np.random.Generator,
    bootstrap: int = BOOTSTRAP,
    report: _Report | None = None,
) -> dict[str, list]:
    """The ``measured`` block from the counts of :func:`recoverability_experiment`'s circuits:
    each figure and, for δ and the fidelities, its ``_stderr`` (the standard deviation over
    ``bootstrap`` resamples of the counts)."""
    if len(counts) != len(experiment.circuits):
        raise ValueError(f"need the counts of {len(experiment.circuits)} circuits")
    means, spreads = [], []
    at = 0
    for i, m in enumerate(experiment.reservoir_qubits):
        reservoir, system = [], []
        for _ in PROBE_STATES:
            settings = 3**m
            reservoir.append(estimate_state(counts[at : at + settings], m,
                                            bootstrap=bootstrap, rng=rng))  # fmt: skip
            at += settings
            system.append(estimate_bloch(counts[at : at + 3], 1, bootstrap=bootstrap, rng=rng))
            at += 3

        def point(res: list, sys: list, with_error: bool = False) -> RecoverabilityPoint:
            return recoverability_point(fit_channel(sys, tol=MEASURED_TOL),
                                        fit_channel(res, tol=MEASURED_TOL), xi,
                                        with_error=with_error, tol=MEASURED_TOL)  # fmt: skip

        means.append(
            point(
                [r.mean for r in reservoir],
                [_density_matrices(s.mean[0]) for s in system],
                with_error=True,
            )
        )
        resampled = [
            point([r.samples[b] for r in reservoir],
                  [_density_matrices(s.samples[b, 0]) for s in system])
            for b in range(bootstrap)
        ]  # fmt: skip
        spreads.append({name: float(np.std([getattr(p, name) for p in resampled], ddof=1))
                        for name in _STDERR})  # fmt: skip
        if report is not None:
            report("recoverability (measured)", i + 1, len(experiment.collisions))
    block: dict[str, list] = {"k": list(experiment.collisions), **_columns(means)}
    for name in _STDERR:
        block[f"{name}_stderr"] = [s[name] for s in spreads]
    return block


def solver_note() -> str:
    return f"cvxpy {SOLVER}"


class Recoverability:
    """``--recoverability`` as a side experiment of the Bloch path
    (:mod:`qcompile.run.bloch_pipeline`): checked when built, the exact block, the process
    tomography circuits measured in the run's job and their estimate."""

    option = "recoverability"
    block = "recoverability"

    def __init__(self, protocol: Any) -> None:
        check_recoverability(protocol)
        self.protocol = protocol

    @cached_property
    def experiment(self) -> RecoverabilityExperiment:
        return recoverability_experiment(self.protocol)

    def exact(self, report: _Report | None = None) -> dict[str, Any]:
        """The block before any measurement: the exact figures and the SDP solver."""
        return {"reference": exact_recoverability(self.protocol, report), "measured": None,
                "solver": solver_note()}  # fmt: skip

    def circuits(self) -> list[QuantumCircuit]:
        return self.experiment.circuits

    def pieces(self) -> list[tuple[QuantumCircuit, QuantumCircuit]]:
        """:meth:`circuits` as (prepared collisions, measurement setting) pairs."""
        return list(self.experiment.pieces)

    def measured(
        self, counts: Sequence[dict], rng: np.random.Generator, report: _Report | None = None
    ) -> dict[str, list]:
        return estimate_measured(self.experiment, counts,
                                 self.protocol.reservoir_state.density_matrix(), rng=rng,
                                 report=report)  # fmt: skip
