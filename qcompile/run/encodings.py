"""Run the two-qubit encodings of spec 001: reference maps, exact circuits, device tomography.

For every encoding (AF, SYMM, NSYMM, custom codes over their 6 logical octahedron states; the
physical qubit over the 28-state ensemble) three answers are computed:

* ``reference``: the dynamical map of the chosen solver (Lindblad or HEOM, passed in as
  ``propagators``) applied to every initial state, on the protocol's time grid;
* ``ideal``: the lowered circuits (state preparation, ``collisions`` exact bath collisions
  with reset ancillas, readout unitary) simulated exactly (Aer density matrices);
* ``observables``: on a backend with shots, two-qubit state tomography of the circuits at
  every ``device_every``-th collision, with bootstrap standard errors.

The backend's own noise acts as a second bath: the device block shows which encoding
protects the logical qubit best on that device. Figures of merit are those of
:func:`qcompile.protocols.two_qubit_codes.encoding_observables`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from qcompile.metrics import circuit_metrics
from qcompile.passes.compile import compile_circuits
from qcompile.protocols.dissipative_qubits import rank_encodings
from qcompile.protocols.parameters import read_flag
from qcompile.protocols.two_qubit_codes import encoding_observables, two_qubit_ensemble
from qcompile.results import RunResult
from qcompile.run.estimator_path import check_estimator, estimator_record
from qcompile.run.prefix_tomography import counted_states, estimated_states
from qcompile.run.runner import (
    DEFAULT_SHOTS,
    Backend,
    Progress,
    RunContext,
    check_run,
    execute_run,
    runs_circuits,
)
from qcompile.states.tomography import state_tomography_circuits

__all__ = ["run_encodings", "rank_encodings", "DEFAULT_COLLISIONS"]

DEFAULT_COLLISIONS = 12
Propagators = Callable[..., tuple[np.ndarray, dict]]


def _states(encoding) -> list[np.ndarray]:
    return two_qubit_ensemble() if encoding.is_physical else encoding.code_states()


def _apply(supers: np.ndarray, psi: np.ndarray) -> list[np.ndarray]:
    vec = np.outer(psi, psi.conj()).reshape(-1, order="F")
    return [(s @ vec).reshape(4, 4, order="F") for s in supers]


def _block(times, per_encoding: dict[str, dict[str, np.ndarray]]) -> dict[str, Any]:
    out: dict[str, Any] = {"times": [float(t) for t in times]}
    for name, values in per_encoding.items():
        out[name] = {k: np.asarray(v).tolist() for k, v in values.items()}
    return out


def run_encodings(
    protocol,
    backend: Backend,
    propagators: Propagators | None = None,
    *,
    solver: str = "lindblad",
    heom: dict | None = None,
    collisions: int = DEFAULT_COLLISIONS,
    device_every: int = 3,
    shots: int | None = None,
    seed: int | None = None,
    store=None,
    progress: Progress | None = None,
    run_id: str | None = None,
    sweep_point: tuple[str, int] | None = None,
    estimator: bool = False,
    resilience_level: int = 1,
) -> RunResult:
    """Run ``protocol`` (``qcompile.protocols.dissipative_qubits``) and return its result.

    ``propagators(protocol, times, solver=..., heom=..., progress=...)`` gives the reference
    maps (``qcompile.backends.propagators.reference_propagators``); ``heom`` holds HEOM settings.
    ``estimator``: the two-qubit states from runtime's Estimator at ``resilience_level``
    (:mod:`qcompile.backends.estimator`) instead of counted tomography.
    """
    from qcompile.errors import InvalidParameter

    if propagators is None:
        from qcompile.backends.propagators import reference_propagators as propagators
    heom = _check_solver(protocol, solver, heom)
    if isinstance(collisions, bool) or int(collisions) != collisions or not 1 <= collisions <= 400:
        raise InvalidParameter("collisions", collisions, "an integer 1 <= collisions <= 400")
    if isinstance(device_every, bool) or int(device_every) != device_every or device_every < 1:
        raise InvalidParameter("device_every", device_every, "an integer >= 1")
    check_run(protocol, backend, shots, seed)
    level = None
    if read_flag("estimator", estimator):
        level = check_estimator(backend, resilience_level)
    if (backend.noisy or level is not None) and shots is None:
        shots = DEFAULT_SHOTS

    def body(run: RunContext) -> RunResult:
        return _run(protocol, backend, propagators, solver, heom, collisions, device_every,
                    run.shots, run.seed, run.report, run.run_id, level)  # fmt: skip

    extra = {} if level is None else {"estimator": True, "resilience_level": level}

    return execute_run(
        protocol, backend, body, runner="encodings", shots=shots, seed=seed, store=store,
        progress=progress, run_id=run_id, sweep_point=sweep_point,
        parameters=protocol.parameters() | {"solver": solver, "collisions": collisions},
        solver=solver, heom=heom, collisions=collisions, device_every=device_every, **extra,
    )  # fmt: skip


def _check_solver(protocol, solver: str, heom: dict | None) -> dict | None:
    """The reference solver and its HEOM settings (``depth``, ``exponents``, ``fit_window``,
    ...; defaults where not given), checked before anything runs: a solver qcompile has, HEOM
    settings only for HEOM, a finite bath cutoff and a hierarchy that fits in memory."""
    import math

    from qcompile.backends.heom import HEOMSettings, check_heom_memory
    from qcompile.backends.propagators import SOLVERS
    from qcompile.errors import InvalidParameter

    if solver not in SOLVERS:
        raise InvalidParameter("solver", solver, "one of " + ", ".join(SOLVERS))
    if solver != "heom":
        for name, value in (heom or {}).items():  # never ignored silently
            raise InvalidParameter(f"heom_{name}", value, "only with --solver heom")
        return None
    settings = HEOMSettings(**(heom or {}))
    check_heom_memory(settings, 4)
    if not math.isfinite(protocol.omega_c):
        raise InvalidParameter("omega_c", protocol.omega_c, "a finite cutoff with --solver heom")
    return settings.__dict__.copy()


def _run(
    protocol, backend, propagators, solver, heom, collisions, device_every, shots, seed,
    progress, run_id, level=None,
) -> RunResult:  # fmt: skip
    report = progress
    times = protocol.times()
    stage = f"reference ({solver})"
    report(stage, 0, 1)
    supers, solver_info = propagators(
        protocol, times, solver=solver, heom=heom,
        progress=lambda done, total: report(stage, done, total),
    )  # fmt: skip
    reference = _block(
        times,
        {
            e.name: encoding_observables(
                e,
                lambda psi: _apply(supers, psi),
                lambda psi: protocol.closed_states(psi, times),
                squared=protocol.squared,
            )
            for e in protocol.encodings
        },
    )
    reference["solver"] = solver
    reference["solver_info"] = _jsonable(solver_info)
    observables: dict[str, Any] = {}
    ideal: dict[str, Any] = {}
    circuit_info: dict[str, Any] = {}
    raw = None
    if runs_circuits(backend):
        collision_dt = protocol.t_max / collisions
        circuit_times = [k * collision_dt for k in range(collisions + 1)]
        ideal = _ideal(protocol, backend, collisions, collision_dt, circuit_times, report)
        circuit_info = {
            "collisions": collisions,
            "collision_dt": collision_dt,
            "qubits": protocol.num_qubits,
            "lowering": "eigenbasis cascade channel (qcompile.lowering.cascade_channel)",
        }
        if shots is None:
            observables = ideal
        else:
            observables, compiled, raw = _device(
                protocol, backend, collisions, collision_dt, device_every, shots, seed, report,
                run_id, level,
            )  # fmt: skip
            circuit_info["compiled"] = compiled
    mitigation: dict[str, Any] = {}
    if level is not None and shots is not None:
        mitigation["estimator"] = estimator_record(level, shots)
    if raw is not None:  # readout-mitigated: the same shots, not inverted
        mitigation["readout"] = {"method": "mthree", "calibration": "per qubit, same run",
                                 "raw": raw}  # fmt: skip
    return RunResult(
        protocol=protocol.name,
        parameters=protocol.parameters(),
        backend=backend.name,
        seed=seed,
        shots=shots,
        circuit=circuit_info,
        observables=observables,
        ideal=ideal,
        reference=reference,
        mitigation=mitigation or None,
    )


def _jsonable(info: dict) -> dict:
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in info.items()}


def _ideal(protocol, backend, collisions, collision_dt, circuit_times, report) -> dict:
    """Exact density matrices of the lowered circuits at every collision."""
    stage = "ideal circuits (density matrices)"
    total = sum(len(_states(e)) for e in protocol.encodings)
    done = 0
    report(stage, 0, total)
    per_encoding = {}
    for encoding in protocol.encodings:

        def evolve(psi):
            nonlocal done
            circuit = protocol.circuit(psi, collisions, collision_dt, readout=False)
            per_step = (len(circuit.data) - 1) // collisions  # preparation, then the steps
            checkpoints = {float(k): 1 + k * per_step for k in range(collisions + 1)}
            frames = backend.ideal_density_matrices(circuit, checkpoints, [0, 1])
            states = []
            w = protocol.readout_unitary()
            for k in range(len(circuit_times)):
                states.append(w @ frames[float(k)] @ w.conj().T)
            done += 1
            report(stage, done, total)
            return states

        per_encoding[encoding.name] = encoding_observables(
            encoding,
            evolve,
            lambda psi: protocol.closed_states(psi, circuit_times),
            squared=protocol.squared,
        )
    return _block(circuit_times, per_encoding)


def _device_block(protocol, chosen, collision_dt, estimates) -> dict[str, Any]:
    """Each encoding's observables at the ``chosen`` collisions from the estimated states
    (``estimates[(encoding, state, collisions)]``), with bootstrap standard errors."""
    times = [k * collision_dt for k in chosen]
    block: dict[str, Any] = {"times": times}
    for e_index, encoding in enumerate(protocol.encodings):
        states = _states(encoding)

        def evolve(psi, sample=None, e_index=e_index, states=states):
            s_index = next(i for i, s in enumerate(states) if np.allclose(s, psi))
            picked = [estimates[(e_index, s_index, k)] for k in chosen]
            return [e.mean if sample is None else e.samples[sample] for e in picked]

        closed = lambda psi: protocol.closed_states(psi, times)  # noqa: E731
        mean = encoding_observables(encoding, evolve, closed, squared=protocol.squared)
        spread = [
            encoding_observables(
                encoding, lambda psi, b=b: evolve(psi, b), closed, squared=protocol.squared
            )
            for b in range(100)
        ]
        values = {k: np.asarray(v).tolist() for k, v in mean.items()}
        for key in mean:
            values[f"{key}_stderr"] = np.std([s[key] for s in spread], axis=0, ddof=1).tolist()
        block[encoding.name] = values
    return block


def _device(
    protocol, backend, collisions, collision_dt, device_every, shots, seed, report, run_id,
    level=None,
) -> tuple[dict, dict]:  # fmt: skip
    """Two-qubit tomography of every encoded state at every ``device_every``-th collision
    (counted, or with a resilience ``level`` through the Estimator)."""
    chosen = sorted(set(range(device_every, collisions + 1, device_every)) | {collisions})
    jobs = []  # (encoding index, state index, collision count)
    circuits = []
    for e_index, encoding in enumerate(protocol.encodings):
        for s_index, psi in enumerate(_states(encoding)):
            for k in chosen:
                circuit = protocol.circuit(psi, k, collision_dt)
                if level is None:
                    circuits.extend(state_tomography_circuits(circuit, [0, 1]))
                else:  # the state itself, from |0…0⟩, measured by the Estimator
                    circuits.append(circuit)
                jobs.append((e_index, s_index, k))
    report("compiling", 0, 1)
    longest = protocol.circuit(_states(protocol.encodings[0])[0], chosen[-1], collision_dt)
    compiled, compile_report = compile_circuits(
        circuits, backend.compile_target, seed=seed, layout_from=longest,
        initial_state="auto" if level is None else "zero",
    )  # fmt: skip
    report("compiling", 1, 1)
    raw = None
    if level is None:
        counted = counted_states(
            backend, compiled, len(jobs), 2, shots, seed, report, run_id, bootstrap=100
        )
        states = counted.states
        if counted.raw is not None:  # readout-mitigated: the same shots, not inverted
            raw_states = dict(zip(jobs, counted.raw, strict=True))
            raw = _device_block(protocol, chosen, collision_dt, raw_states)
    else:
        states = estimated_states(backend, compiled, longest.num_qubits, [0, 1], shots, seed,
                                  level, report, run_id, bootstrap=100)  # fmt: skip
    block = _device_block(protocol, chosen, collision_dt, dict(zip(jobs, states, strict=True)))
    largest = max(compiled, key=lambda c: c.size())
    info = circuit_metrics(largest) | {
        "target": compile_report.target,
        "compile_time_s": compile_report.compile_time_s,
        "circuits": len(compiled),
    }
    return block, info, raw
