"""The one runner of a protocol declared by its data flow: a plugin with ``reference``,
``lower`` and ``estimate`` (and no ``run`` of its own) is run as

    check → store (running) → reference → lower → compile → execute → estimate → RunResult
    → store (done, or failed with the error)

* ``reference(protocol) -> dict``: the exact values of the observables (a master equation,
  an analytic formula);
* ``lower(protocol) -> list[QuantumCircuit]``: the measured circuits that estimate them;
* ``estimate(protocol, counts) -> dict``: the observables from one counts mapping per circuit
  (bit strings as Qiskit writes them, classical bit 0 rightmost; counts or probabilities:
  normalise by their sum). It gets the sampled counts for ``observables`` and the exact
  distribution of each uncompiled circuit for ``ideal`` (without ``*_stderr`` entries: it has
  no statistical error).

``lower`` and ``estimate`` are optional together: a protocol with no circuits (the
photonic-Ising toy: master equations only) declares ``reference`` alone and is computed by
it on any backend, its result naming the ``reference`` backend, its values under
``reference``. A ``reference`` that takes ``solvers`` gets qcompile's default reference
solvers by name (:func:`qcompile.backends.solvers.default_solvers`), with the caller's
replacements.

On the ``reference`` backend only the reference is computed. On a circuit backend the
circuits are compiled for its target (:func:`qcompile.passes.compile.compile_circuits`,
the report under ``circuit``) and run with ``shots`` (device default
:data:`~qcompile.run.runner.DEFAULT_SHOTS` where there is noise; an ideal backend without
shots reports the exact distribution as ``observables``).
"""

from __future__ import annotations

import inspect
from typing import Any

import numpy as np
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix

from qcompile.errors import QCompileError, ResourceLimit
from qcompile.passes.compile import compile_circuits
from qcompile.protocols.plugin import DATA_FLOW
from qcompile.results import RunResult
from qcompile.run.runner import (
    DEFAULT_SHOTS,
    Progress,
    RunContext,
    check_run,
    execute_run,
    run_with_progress,
    runs_circuits,
)

__all__ = ["DATA_FLOW", "MAX_EXACT_QUBITS", "exact_distribution", "run_declared"]

#: Widest circuit whose exact distribution (the ``ideal`` block) is computed.
MAX_EXACT_QUBITS = 12


def exact_distribution(circuit: QuantumCircuit) -> dict[str, float]:
    """The exact outcome distribution of a circuit whose measurements all come last, keyed
    like Qiskit's counts (classical bit 0 rightmost); resets are allowed before them."""
    if circuit.num_qubits > MAX_EXACT_QUBITS:
        raise ResourceLimit(
            f"the exact distribution of {circuit.num_qubits} qubits (at most {MAX_EXACT_QUBITS})"
        )
    measured: dict[int, int] = {}  # clbit -> qubit
    body = QuantumCircuit(circuit.num_qubits)
    for instruction in circuit.data:
        qubits = [circuit.find_bit(q).index for q in instruction.qubits]
        if instruction.operation.name == "measure":
            measured[circuit.find_bit(instruction.clbits[0]).index] = qubits[0]
        elif set(qubits) & set(measured.values()) or instruction.clbits:
            raise QCompileError("lower() must measure every circuit at its end only")
        elif instruction.operation.name != "barrier":
            body.append(instruction.operation, qubits)
    state = DensityMatrix(body)
    order = [measured[c] for c in sorted(measured)]  # clbit 0 first
    probabilities = state.probabilities(qargs=order)
    width = circuit.num_clbits
    distribution: dict[str, float] = {}
    for outcome, p in enumerate(probabilities):
        if p > 1e-15:
            bits = ["0"] * width
            for position, clbit in enumerate(sorted(measured)):
                bits[width - 1 - clbit] = str((outcome >> position) & 1)
            distribution["".join(bits)] = float(p)
    return distribution


def _lowered(plugin, protocol) -> list[QuantumCircuit]:
    circuits = list(plugin.lower(protocol))
    if not circuits or not all(isinstance(c, QuantumCircuit) for c in circuits):
        raise QCompileError(f"{plugin.NAME}: lower() must return a non-empty list of circuits")
    if any(c.num_clbits == 0 for c in circuits):
        raise QCompileError(f"{plugin.NAME}: lower() must return measured circuits")
    return circuits


def _reference(plugin, protocol, solvers) -> dict[str, Any]:
    """``plugin.reference(protocol)``, with the solvers by name if it takes them."""
    if "solvers" not in inspect.signature(plugin.reference).parameters:
        return plugin.reference(protocol)
    from qcompile.backends.solvers import default_solvers

    return plugin.reference(protocol, solvers={**default_solvers(), **dict(solvers or {})})


def _jsonable(block: dict[str, Any]) -> dict[str, Any]:
    """NumPy scalars and arrays as plain numbers and lists (the JSON contract)."""
    out = {}
    for key, value in dict(block).items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def run_declared(
    plugin,
    protocol,
    backend,
    *,
    solvers=None,
    shots: int | None = None,
    seed: int | None = None,
    store=None,
    progress: Progress | None = None,
    run_id: str | None = None,
    sweep_point: tuple[str, int] | None = None,
) -> RunResult:
    """Run ``protocol`` of a data-flow ``plugin`` on ``backend`` (module docstring).
    ``solvers`` replaces default reference solvers by name, for a ``reference`` that takes
    them."""
    has_circuits = hasattr(plugin, "lower")
    if not has_circuits:  # nothing to run: the reference is the result
        backend, shots = "reference", None
    else:
        check_run(protocol, backend, shots, seed)
    circuits = _lowered(plugin, protocol) if has_circuits and runs_circuits(backend) else []
    if circuits and backend.noisy and shots is None:
        shots = DEFAULT_SHOTS

    def body(run: RunContext) -> RunResult:
        run.report("reference", 0, 1)
        reference = _jsonable(_reference(plugin, protocol, solvers))
        run.report("reference", 1, 1)
        observables = dict(reference) if has_circuits else {}
        ideal, circuit = {}, {}
        if circuits:
            if max(c.num_qubits for c in circuits) <= MAX_EXACT_QUBITS:
                exact = [exact_distribution(c) for c in circuits]
                estimated = _jsonable(plugin.estimate(protocol, exact))
                ideal = {k: v for k, v in estimated.items() if not k.endswith("_stderr")}
            compiled, report = compile_circuits(circuits, backend.compile_target, seed=run.seed)
            circuit = report.to_dict()
            if run.shots is None:
                observables = dict(ideal)
            else:
                counts = run_with_progress(backend, compiled, run.shots, run.seed, run.report,
                                           run.run_id)  # fmt: skip
                observables = _jsonable(plugin.estimate(protocol, counts))
        return RunResult(
            protocol=plugin.NAME, parameters=protocol.parameters(),
            backend=backend if isinstance(backend, str) else backend.name,
            seed=run.seed, shots=run.shots if circuits else None, circuit=circuit,
            observables=observables, ideal=ideal, reference=reference,
        )  # fmt: skip

    return execute_run(
        protocol, backend, body, runner=getattr(plugin, "RUNNER", plugin.NAME), shots=shots,
        seed=seed, store=store, progress=progress, run_id=run_id, sweep_point=sweep_point,
    )  # fmt: skip
