"""The one runner's *step* path: a protocol lowered to one collision step — collision circuits
on (system qubits…, ancilla), the ancilla reset after each — whose channel is what the
protocol is about (long-time rates thousands of steps away: GKP and the cat qubit at circuit
level, :mod:`qcompile.protocols.oscillator_step_flow`). It declares

* ``reference(protocol) -> dict``: the exact observables;
* ``lower_step(protocol, options)``: the checked step — ``collisions`` (each with its
  ``circuit`` and ``label``), ``dt``, the device run's initial ``state`` and diagonal
  ``readout`` (named ``readout_key``), ``steps_on_device``, the ``circuit`` block's entries,
  the options its ``recipe`` records, a progress ``stage`` label —, e.g.
  :class:`~qcompile.protocols.oscillator_step_flow.LoweredStep`;
* ``estimate_step(protocol, step, kraus, solvers, report) -> (observables, ideal)``: the
  protocol's figures from the compiled collisions' Kraus pairs ``(⟨0|U|0⟩, ⟨1|U|0⟩)``
  (``solvers``: qcompile's reference solvers by name).

It runs as check (the lowering included) → store (running) → compile every collision
(all-to-all CX basis) → Kraus pairs from the backend's unitaries (a backend that has
``unitary``: Aer) → estimate → ``steps_on_device`` compiled steps from ``state`` run with
shots on the backend, the readout's expectation counted as any data-flow protocol's
(:func:`qcompile.run.mitigated_execution.run_counted`: readout-mitigated tables resampled
with their calibration, ``zne`` with every stretch between the resets folded) under
``observables["device"]`` → ``RunResult`` → store (done, or failed). The ``circuit`` block
adds the cost of one step compiled for the backend's target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.circuit.library import StatePreparation

from qcompile.errors import InvalidParameter
from qcompile.lowering.oscillator_collision import collision_kraus, step_circuit
from qcompile.passes.compile import compile_circuits
from qcompile.results import RunResult
from qcompile.run.mitigated_execution import run_counted
from qcompile.run.pipeline import reference_solvers
from qcompile.run.runner import (
    DEFAULT_SHOTS,
    Progress,
    RunContext,
    check_shots_and_seed,
    execute_run,
    runs_circuits,
)
from qcompile.run.zne import check_zne
from qcompile.states.mitigated_counts import MitigatedCounts

__all__ = ["STEP_FLOW", "check_steps", "run_steps", "runs_steps"]

#: The hooks of a plugin on the step path.
STEP_FLOW = ("reference", "lower_step", "estimate_step")
#: Options of any run; on the ``reference`` backend a step-path protocol takes no other
#: but those its own ``simulate`` reads (:func:`reference_options`).
_COMMON = ("seed", "shots", "store", "progress", "run_id", "sweep_point", "solvers")


def runs_steps(backend) -> bool:
    """True for a circuit backend that gives unitaries (Aer: the Kraus pairs come from its
    unitary simulator); refuses any other circuit backend; false for ``reference`` (and for
    ``None``, the former runners' way of asking for it)."""
    if backend is None or not runs_circuits(backend):
        return False
    if not hasattr(backend, "unitary"):
        raise InvalidParameter(
            "backend", getattr(backend, "name", backend), "reference, aer or aer:<fake "
            "backend> (the oscillator step's Kraus operators come from Aer's unitary simulator)",
        )  # fmt: skip
    return True


def reference_options(options: dict[str, Any], allowed: tuple[str, ...] = ()) -> dict[str, Any]:
    """A step-path protocol's options on the ``reference`` backend: every circuit option
    given (not ``None``; not one of ``allowed``) is refused, in one line naming them."""
    circuit = [name for name, value in options.items()
               if name not in (*_COMMON, *allowed) and value is not None]  # fmt: skip
    if circuit:
        raise InvalidParameter("backend", "reference", "aer or aer:<fake> for circuit options "
                               + ", ".join(circuit))  # fmt: skip
    return {name: value for name, value in options.items() if name in (*_COMMON, *allowed)}


def _checked(plugin, protocol, backend, shots, seed, zne, options):
    """``(lowered step, ZNE scales or None)``, everything checked, nothing run."""
    check_shots_and_seed(shots, seed)
    runs_steps(backend)
    scales = check_zne(zne, backend)
    given = {name: value for name, value in options.items() if value is not None}
    declared = {p.name for p in getattr(plugin, "RUN_OPTIONS", ())} | {"steps_on_device"}
    for name, value in given.items():
        if name not in declared:
            raise InvalidParameter(name, value, f"a run option of {plugin.NAME}: "
                                   + ", ".join(sorted(declared)))  # fmt: skip
    return plugin.lower_step(protocol, given), scales


def check_steps(plugin, protocol, backend, *, solvers=None, shots: int | None = None,
                seed: int | None = None, zne=None, **options: Any) -> None:  # fmt: skip
    """Refuse what :func:`run_steps` would refuse before any work, running nothing."""
    _checked(plugin, protocol, backend, shots, seed, zne, options)


def run_steps(
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
    zne=None,
    **options: Any,
) -> RunResult:
    """Run ``protocol`` of a step-path ``plugin`` on ``backend`` (module docstring): the
    device part always samples (``shots`` default :data:`~qcompile.run.runner.DEFAULT_SHOTS`);
    ``zne`` extrapolates the device value; ``options``: the protocol's own
    (``lower_step``)."""
    step, scales = _checked(plugin, protocol, backend, shots, seed, zne, options)
    shots = DEFAULT_SHOTS if shots is None else shots
    solvers = reference_solvers(solvers)

    def body(run: RunContext) -> RunResult:
        run.report(step.stage, 0, 4)
        compiled, _ = compile_circuits([c.circuit for c in step.collisions], None)
        kraus = [collision_kraus(backend.unitary(c)) for c in compiled]
        _, cost = compile_circuits([step_circuit(step.collisions)], backend.compile_target)
        run.report(step.stage, 1, 4)
        observables, ideal = plugin.estimate_step(protocol, step, kraus, solvers, run.report)
        readout = _DiagonalReadout(np.asarray(step.readout), step.readout_key,
                                   step.steps_on_device)  # fmt: skip
        circuit = _device_circuit(backend, step)
        device, mitigation = run_counted(readout, protocol, backend, [circuit], run.shots,
                                         run.seed, run.report, run.run_id, scales)  # fmt: skip
        run.report(step.stage, 4, 4)
        return RunResult(
            protocol=protocol.name, parameters=protocol.parameters(), backend=backend.name,
            seed=run.seed, shots=run.shots, circuit={**step.circuit, **cost.to_dict()},
            observables={**observables, "device": device}, ideal=ideal,
            reference=dict(plugin.reference(protocol)), mitigation=mitigation or None,
        )  # fmt: skip

    extra = {} if scales is None else {"zne": list(scales)}  # (recipes as before without it)
    return execute_run(
        protocol, backend, body, runner=getattr(plugin, "RUNNER", plugin.NAME), store=store,
        progress=progress, run_id=run_id, sweep_point=sweep_point, seed=seed, shots=shots,
        **step.recipe, **extra,
    )  # fmt: skip


def _device_circuit(backend, step) -> QuantumCircuit:
    """``steps_on_device`` compiled collision steps from ``state``, every qubit of the mode
    measured."""
    m = step.collisions[0].circuit.num_qubits - 1
    circuit = QuantumCircuit(m + 1, m)
    circuit.append(StatePreparation(step.state), range(m))
    circuit.compose(step_circuit(step.collisions, step.steps_on_device), range(m + 1),
                    inplace=True)  # fmt: skip
    circuit.measure(range(m), range(m))
    (compiled,), _ = compile_circuits([circuit], backend.compile_target)
    return compiled


@dataclass(frozen=True)
class _DiagonalReadout:
    """The device block's estimate (the one runner's ``estimate`` interface): Tr(Dρ) of a
    diagonal observable D from the counts of the mode's qubits, its standard error resampled
    from the raw counts and calibration for readout-mitigated counts (the inversion's
    variance), binomial otherwise."""

    diagonal: np.ndarray
    key: str
    steps: int

    def estimate(self, protocol, counts: list, rng: np.random.Generator) -> dict:
        (table,) = counts
        shots = sum(table.values())
        values = np.array([self.diagonal[int(k.replace(" ", ""), 2)] for k in table])
        mean = float(values @ (np.array(list(table.values()), dtype=float) / shots))
        if isinstance(table, MitigatedCounts):
            error = table.stderr_of(self.diagonal, rng)
        else:
            error = float(math.sqrt(max(1 - mean**2, 0) / shots))
        return {"steps": self.steps, self.key: mean, f"{self.key}_stderr": error}
