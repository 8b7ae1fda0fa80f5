"""Pauli expectation values through qiskit-ibm-runtime's client-side Estimator (issue 16, item 2).

An observable that is a Pauli expectation value (a qubit's ⟨X⟩, ⟨Y⟩, ⟨Z⟩, a parity) can be
estimated by the Estimator primitive instead of counting tomography shots. qiskit-ibm-runtime
0.51 recommends ``qiskit_ibm_runtime.executor_estimator.Estimator`` — its server-side
``EstimatorV2`` is deprecated — which does all pre- and post-processing on the client:

* resilience level 0: raw expectation values, ``stds`` from the shot noise;
* level 1 (runtime's default): measurement twirling and TREX readout rescaling;
* level 2: level 1 plus Pauli twirling of two-qubit gates and zero-noise extrapolation by gate
  folding (runtime's default noise factors and extrapolators).

One call is one job of PUBs ``(ISA circuit, observables)``: the circuits compiled for the
backend, the observables already on its physical qubits (:func:`physical_observables`), as
the runtime API expects. The results come back as plain data, one dict per circuit:
``{"evs": [...], "stds": [...]}`` — what the job store keeps and a fetch returns.

Local path (``aer``, ``aer:<fake>``, ``ibm:<fake>``): the same Estimator in runtime's local
testing mode with an Aer simulator as its ``mode``. The circuits and observables are first
relabelled onto the qubits they use, and the device noise model built for those qubits only
(:mod:`qcompile.backends.aer`): on a whole fake device the Estimator appends a basis change and
a measurement to every one of its qubits (133 on FakeTorino), more than Aer can simulate.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.providers import BackendV2
from qiskit.quantum_info import SparsePauliOp

from qcompile.backends.restricted_noise import active_qubits, compact, restricted_noise_model
from qcompile.backends.simulation_method import simulation_method
from qcompile.errors import InvalidParameter

__all__ = [
    "ESTIMATOR_CLASS",
    "RESILIENCE_LEVELS",
    "check_resilience_level",
    "compact_pubs",
    "estimator_options",
    "expectation_data",
    "physical_observables",
    "run_local",
]

ESTIMATOR_CLASS = "qiskit_ibm_runtime.executor_estimator.Estimator"
RESILIENCE_LEVELS = (0, 1, 2)
#: What each resilience level applies (recorded with a run).
TECHNIQUES = {
    0: [],
    1: ["measurement twirling", "TREX readout rescaling"],
    2: ["measurement twirling", "TREX readout rescaling", "gate twirling",
        "ZNE (gate folding, runtime's extrapolators)"],
}  # fmt: skip


def check_resilience_level(level: object) -> int:
    """0, 1 or 2 (text such as a sweep's ``resilience_level=2`` is read first)."""
    try:
        value = int(str(level).strip()) if not isinstance(level, bool) else None
    except ValueError:
        value = None
    if value not in RESILIENCE_LEVELS:
        raise InvalidParameter(
            "resilience_level", level, "0 (raw), 1 (TREX readout mitigation) or 2 (+ ZNE)"
        )
    return value


def estimator_options(
    shots: int,
    resilience_level: int,
    seed: int | None = None,
    *,
    dynamical_decoupling: str | None = None,
    twirling: str = "none",
    max_execution_time: int | None = None,
) -> dict[str, Any]:
    """The Estimator's options as a plain dict (what the job store keeps): ``shots`` per
    measurement basis, the resilience level, a simulator seed (local mode) and, on devices,
    dynamical decoupling, extra twirling and a time limit (``IBMOptions``)."""
    options: dict[str, Any] = {
        "default_shots": int(shots),
        "resilience_level": check_resilience_level(resilience_level),
    }
    if dynamical_decoupling is not None:
        options["dynamical_decoupling"] = {"enable": True, "sequence_type": dynamical_decoupling}
    if twirling != "none":
        options["twirling"] = {
            "enable_gates": twirling in ("gates", "all"),
            "enable_measure": twirling in ("measure", "all"),
        }
    if max_execution_time is not None:
        options["max_execution_time"] = int(max_execution_time)
    if seed is not None:
        options["simulator"] = {"seed_simulator": int(seed)}
    return options


def physical_observables(
    circuit: QuantumCircuit, observables: Sequence[SparsePauliOp]
) -> list[SparsePauliOp]:
    """``observables`` on the virtual qubits of the circuit ``circuit`` was compiled from,
    moved to its physical qubits (initial layout and routing permutation); a circuit without
    a layout (compiled for no target) keeps them as they are."""
    if circuit.layout is None:
        return [SparsePauliOp(o) for o in observables]
    return [SparsePauliOp(o).apply_layout(circuit.layout) for o in observables]


def _support(observable: SparsePauliOp) -> set[int]:
    paulis = observable.paulis
    return set(np.flatnonzero(np.any(paulis.z | paulis.x, axis=0)).tolist())


def compact_pubs(
    circuits: Sequence[QuantumCircuit], observables: Sequence[Sequence[SparsePauliOp]]
) -> tuple[list[int], list[QuantumCircuit], list[list[SparsePauliOp]]]:
    """The qubits the circuits and observables use, and both relabelled onto them (qubit
    ``qubits[i]`` becomes qubit i)."""
    used = set(active_qubits(circuits))
    for group in observables:
        for o in group:
            used |= _support(o)
    qubits = sorted(used)
    drop = [q for q in range(circuits[0].num_qubits) if q not in used]
    small_circuits = [compact(c, qubits) for c in circuits]
    small_observables = [
        [SparsePauliOp(o.paulis.delete(drop, qubit=True), o.coeffs) for o in group]
        for group in observables
    ]
    return qubits, small_circuits, small_observables


def _pubs(circuits, observables) -> list[tuple[QuantumCircuit, list[SparsePauliOp]]]:
    if len(circuits) != len(observables):
        raise ValueError("one list of observables per circuit")
    return [(c, list(group)) for c, group in zip(circuits, observables, strict=True)]


def run_local(
    circuits: Sequence[QuantumCircuit],
    observables: Sequence[Sequence[SparsePauliOp]],
    options: dict[str, Any],
    device: BackendV2 | None = None,
):
    """The Estimator in runtime's local mode on Aer — noiseless (``device=None``) or with the
    device's noise on the qubits used — after :func:`compact_pubs`; its job (``.result()``)."""
    from qiskit_aer import AerSimulator
    from qiskit_ibm_runtime.executor_estimator import Estimator

    qubits, small, small_observables = compact_pubs(circuits, observables)
    seed = options.get("simulator", {}).get("seed_simulator")
    noise = None if device is None else restricted_noise_model(device, qubits)
    # (Aer's shot branching was 4x faster on the twirled circuits of levels 1 and 2, but its
    # results changed from run to run with the same seed: a replayed job must not)
    # resets mid-circuit: one density matrix instead of one run per shot (same distribution)
    method = simulation_method(small, int(options["default_shots"]))
    simulator = AerSimulator(method=method, noise_model=noise, seed_simulator=seed)
    local = {k: v for k, v in options.items() if k != "dynamical_decoupling"}  # no timing here
    return Estimator(mode=simulator, options=local).run(_pubs(small, small_observables))


#: Standard error given to an expectation value the Estimator returned without a finite one
#: (a degenerate ZNE fit at resilience level 2): as wide as a mean of ±1 outcomes can be.
UNCONSTRAINED_STD = 1.0


def expectation_data(result) -> list[dict[str, Any]]:
    """``{"evs", "stds"}`` of every PUB of an Estimator result, as lists (JSON-ready).

    Runtime's level-2 extrapolation sometimes returns an infinite (or NaN) error for an
    observable (seen on a coherent-feedback prefix: the fit is degenerate). Such a value is
    kept with σ = :data:`UNCONSTRAINED_STD` (a NaN value as 0, no information), and its
    index listed under ``"unconstrained"``, so the run finishes with honest error bars."""
    out = []
    for pub in result:
        evs = np.asarray(pub.data.evs, dtype=float).ravel()
        stds = np.asarray(pub.data.stds, dtype=float).ravel()
        bad = ~(np.isfinite(evs) & np.isfinite(stds))
        item: dict[str, Any] = {
            "evs": np.where(np.isfinite(evs), evs, 0.0).tolist(),
            "stds": np.where(bad, UNCONSTRAINED_STD, stds).tolist(),
        }
        if bad.any():
            item["unconstrained"] = np.flatnonzero(bad).tolist()
        out.append(item)
    return out
