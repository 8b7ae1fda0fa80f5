"""Run a protocol end to end: lower → compile → execute → tomography → compare.

The backend and the store are passed in (anything with the interface of
``qcompile.backends.aer.AerBackend`` and ``qcompile.backends.store.ResultStore``), so this
module never reaches down the chain. Three answers are put side by side:

* ``observables``: what the backend measured (shot-noise standard errors from a seeded
  bootstrap), or the exact state of the circuit on the ideal backend without shots;
* ``ideal``: exact noiseless reduced states of the lowered circuits (statevector);
* ``reference``: the protocol's own exact answer, independent of any circuit.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.providers import BackendV2
from qiskit.transpiler import Target

from qcompile.circuit_states import reduced_qubit_states
from qcompile.compile import circuit_metrics, compile_circuits
from qcompile.errors import InvalidParameter
from qcompile.qubit_state import bloch_vector
from qcompile.results import RunResult
from qcompile.tomography import BlochEstimate, estimate_bloch, measurement_circuits

__all__ = [
    "run_experiment",
    "check_run",
    "stored_run",
    "run_recipe",
    "runs_circuits",
    "max_abs_deviation",
    "DEFAULT_SHOTS",
    "MAX_SHOTS",
]

DEFAULT_SHOTS = 4000
MAX_SHOTS = 10_000_000
Progress = Callable[[str, int, int], None]


class Backend(Protocol):
    """What the experiments need of a backend (``qcompile.backends.aer.AerBackend`` provides
    it). Runners ask its capabilities, never its name: ``runs_circuits`` (false for the
    ``reference`` backend, which only names itself), ``noisy`` (device noise: shots by default),
    ``submits_jobs`` (jobs kept in the store and fetched by id)."""

    name: str
    noisy: bool
    runs_circuits: bool
    submits_jobs: bool

    @property
    def compile_target(self) -> BackendV2 | Target | None: ...

    @property
    def num_qubits(self) -> int | None: ...

    @property
    def capacity(self) -> str: ...

    def ideal_density_matrices(
        self, circuit: QuantumCircuit, checkpoints: dict[float, int], qubits: list[int]
    ) -> dict[float, np.ndarray]: ...

    def run(
        self,
        circuits: list[QuantumCircuit],
        shots: int,
        *,
        seed: int | None,
        progress: Callable[[int], None] | None,
        run_id: str | None = None,
    ) -> list[dict[str, int]]:
        """Counts per circuit; ``run_id`` lets a backend that submits jobs file them under
        the run (``qcompile.backends.ibm``)."""
        ...


def runs_circuits(backend) -> bool:
    """The backend's ``runs_circuits`` capability (a backend that does not declare it runs
    circuits: only the ``reference`` backend says it does not)."""
    return bool(getattr(backend, "runs_circuits", True))


def check_run(
    protocol, backend: Backend, shots: int | None = None, seed: int | None = None
) -> None:
    """Every check that can fail before work starts: options, and the register's size."""
    if shots is not None and (
        isinstance(shots, bool) or int(shots) != shots or not 1 <= shots <= MAX_SHOTS
    ):
        raise InvalidParameter("shots", shots, f"an integer 1 <= shots <= {MAX_SHOTS}")
    if seed is not None and (isinstance(seed, bool) or int(seed) != seed or not 0 <= seed < 2**63):
        raise InvalidParameter("seed", seed, "an integer 0 <= seed < 2^63")
    fits = getattr(protocol, "check_fits", None)  # protocols with a fixed qubit register
    if fits is not None and backend.num_qubits is not None:
        fits(backend.num_qubits, backend.capacity)


def _tolist(values: dict[str, np.ndarray]) -> dict[str, Any]:
    return {k: np.asarray(v).tolist() for k, v in values.items()}


def run_experiment(
    protocol,
    backend: Backend,
    *,
    shots: int | None = None,
    seed: int | None = None,
    store=None,
    progress: Progress | None = None,
    run_id: str | None = None,
    sweep_point: tuple[str, int] | None = None,
) -> RunResult:
    """Run ``protocol`` on ``backend`` and return the :class:`RunResult`.

    Noisy backends always sample (``shots`` defaults to :data:`DEFAULT_SHOTS`); the ideal
    backend samples only when ``shots`` is given. With ``store`` the run is recorded as
    ``running`` first, with its recipe (protocol parameters, shots, resolved seed), and
    completed or marked failed at the end; ``run_id`` completes an existing ``running`` run
    instead (a job fetched after its process died), ``sweep_point`` files it in a sweep.
    """
    check_run(protocol, backend, shots, seed)
    if seed is None:
        seed = secrets.randbelow(2**31)  # recorded in the result, so the run can be repeated
    if backend.noisy and shots is None:
        shots = DEFAULT_SHOTS
    recipe = run_recipe("experiment", protocol, sweep_point, shots=shots, seed=seed)
    with stored_run(
        store, protocol.name, backend.name, protocol.parameters(), recipe, run_id
    ) as run_id:
        save = (lambda circuits: store.save_circuits(run_id, circuits)) if store else None
        result = _run(protocol, backend, shots, seed, progress, save, run_id)
        if store is not None:
            store.finish_run(run_id, result, sweep_point)
    return result


def run_recipe(
    runner: str, protocol, sweep_point: tuple[str, int] | None = None, **options: Any
) -> dict[str, Any]:
    """What a run needs to be done again: the runner, the protocol and the runner's options
    (with the seed resolved), as stored with the run; tagged with its sweep point, if any."""
    recipe = {
        "runner": runner,
        "protocol": protocol.name,
        "parameters": protocol.parameters(),
        "options": options,
    }
    if sweep_point is not None:
        recipe["sweep"] = list(sweep_point)
    return recipe


@contextmanager
def stored_run(
    store,
    protocol: str,
    backend: str,
    parameters: dict,
    recipe: dict | None = None,
    run_id: str | None = None,
) -> Iterator[str | None]:
    """Record a run as ``running`` before the work (yields its id, ``None`` without a store;
    an existing ``run_id`` is resumed) and as ``failed`` with the error if the work raises,
    so nothing a user ran is lost."""
    if store is None:
        yield None
        return
    if run_id is None:
        run_id = store.start_run(protocol, backend, parameters, recipe)
    try:
        yield run_id
    except BaseException as exc:
        store.fail_run(run_id, f"{type(exc).__name__}: {exc}")
        raise


def _run(
    protocol,
    backend: Backend,
    shots: int | None,
    seed: int | None,
    progress: Progress | None,
    store_circuits: Callable | None,
    run_id: str | None = None,
) -> RunResult:
    report = lambda stage, done, total: progress(stage, done, total) if progress else None  # noqa: E731
    tasks = protocol.tomography_tasks()
    reference = protocol.reference()
    circuit_info: dict[str, Any] = {}
    observables: dict[str, Any] = {}
    ideal: dict[str, Any] = {}

    if runs_circuits(backend):
        report("exact simulation", 0, len(tasks))
        exact = []
        for i, task in enumerate(tasks):
            states = reduced_qubit_states(task.circuit, task.qubits)
            exact.append(BlochEstimate.exact(np.array([bloch_vector(r) for r in states])))
            report("exact simulation", i + 1, len(tasks))
        ideal = _tolist(protocol.observables([e.mean for e in exact]))

        full = protocol.circuit()
        circuits = [c for task in tasks for c in measurement_circuits(task)]
        compiled, compile_report = compile_circuits(
            [full, *circuits], backend.compile_target, seed=seed, layout_from=full
        )
        compiled_full, compiled = compiled[0], compiled[1:]
        circuit_info = circuit_metrics(compiled_full) | {
            "target": compile_report.target,
            "compile_time_s": compile_report.compile_time_s,
        }
        if store_circuits is not None:
            store_circuits([compiled_full])

        if shots is None:
            observables = dict(ideal)
            observables.update({f"{k}_stderr": [0.0] * len(v) for k, v in ideal.items()})
        else:
            done = 0

            def advance(n: int) -> None:
                nonlocal done
                done += n
                report("shots", done, len(compiled))

            report("shots", 0, len(compiled))
            counts = backend.run(compiled, shots, seed=seed, progress=advance, run_id=run_id)
            rng = np.random.default_rng(seed)
            estimates = [
                estimate_bloch(counts[3 * i : 3 * i + 3], len(task.qubits), rng=rng)
                for i, task in enumerate(tasks)
            ]
            mean = protocol.observables([e.mean for e in estimates])
            spread = protocol.observables([e.samples for e in estimates])
            observables = _tolist(mean)
            observables.update(
                {f"{k}_stderr": np.std(v, axis=0, ddof=1).tolist() for k, v in spread.items()}
            )

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
    )


def max_abs_deviation(a: dict[str, Any], b: dict[str, Any]) -> float:
    """Largest |a − b| over the observables the two blocks share (NaN if none)."""
    diffs = [
        np.max(np.abs(np.subtract(a[k], b[k]))) for k in a if k in b and not k.endswith("_stderr")
    ]
    return float(max(diffs)) if diffs else math.nan
