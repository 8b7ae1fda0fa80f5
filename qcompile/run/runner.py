"""The lifecycle every run shares, whatever the protocol: check, then the run recorded as
``running`` with its recipe, then the work, then ``done`` — or ``failed`` with the error, so
nothing a user ran is lost.

:func:`execute_run` is that lifecycle; each runner of :mod:`qcompile.run` supplies only its
body (reference, lowering, compiling, execution, estimation), which gets a :class:`RunContext`
(resolved seed and shots, the run's id for jobs, a progress callback). The backend and the
store are passed in (anything with the interface of ``qcompile.backends.aer.AerBackend`` and
``qcompile.backends.store.ResultStore``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.providers import BackendV2
from qiskit.transpiler import Target

from qcompile.errors import InvalidParameter, Terminated
from qcompile.passes.checkpoint_cuts import CutProgram
from qcompile.passes.compile import current_compiler_revision
from qcompile.results import RunResult
from qcompile.run.run_cost import estimate_cost

__all__ = [
    "Backend",
    "DEFAULT_SHOTS",
    "MAX_SHOTS",
    "Progress",
    "RunContext",
    "check_run",
    "check_shots_and_seed",
    "execute_run",
    "run_recipe",
    "run_with_progress",
    "runs_circuits",
    "stored_run",
    "suppression_record",
]

DEFAULT_SHOTS = 4000
MAX_SHOTS = 10_000_000
#: ``report(stage, done, total)``; ``total == 0`` makes ``stage`` a note to show as it is.
Progress = Callable[[str, int, int], None]


class Backend(Protocol):
    """What the experiments need of a backend (``qcompile.backends.aer.AerBackend`` provides
    it). Runners ask its capabilities, never its name: ``runs_circuits`` (false for the
    ``reference`` backend, which only names itself), ``noisy`` (device noise: shots by default),
    ``submits_jobs`` (jobs kept in the store and fetched by id). A backend that also has
    ``estimate(circuits, observables, shots, *, resilience_level, seed, progress, run_id)``
    (``{"evs", "stds"}`` per circuit) offers the Estimator path
    (``qcompile.backends.estimator``)."""

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


def suppression_record(backend) -> dict[str, Any]:
    """What ``backend`` applies to every circuit it runs (twirling, idle-time noise, dynamical
    decoupling), as a result's ``mitigation`` records it; empty for a plain backend."""
    suppression = getattr(backend, "suppression", None)
    record = getattr(suppression, "record", None)
    return record() if callable(record) else {}


def run_with_progress(
    backend: Backend,
    circuits: list,
    shots: int,
    seed: int | None,
    report: Progress,
    run_id: str | None = None,
    program: CutProgram | None = None,
) -> list[dict[str, int]]:
    """``backend.run`` with the circuits done so far reported as the ``shots`` stage, the
    cost said first (:func:`~qcompile.run.run_cost.estimate_cost`, as a note). When
    the first circuits are a :class:`~qcompile.passes.checkpoint_cuts.CutProgram`'s and the
    backend can run one (``run_cuts``: a simulator, in one pass per compiled evolution),
    they run so, and the rest (e.g. folded copies) as circuits, seeded apart."""
    report(estimate_cost(backend, circuits, shots, program).describe(), 0, 0)  # a note
    done = 0
    report("shots", 0, len(circuits))

    def advance(n: int) -> None:
        nonlocal done
        done += n
        report("shots", done, len(circuits))

    if program is None or not hasattr(backend, "run_cuts"):
        return backend.run(circuits, shots, seed=seed, progress=advance, run_id=run_id)
    if circuits is not program.circuits and any(
        a is not b for a, b in zip(circuits, program.circuits, strict=False)
    ):
        raise ValueError("the program's circuits must come first")
    counts = backend.run_cuts(program, shots, seed=seed, progress=advance, run_id=run_id)
    rest = [] if circuits is program.circuits else list(circuits[len(program.circuits) :])
    if rest:
        apart = None if seed is None else (seed + 1) % 2**63
        counts += backend.run(rest, shots, seed=apart, progress=advance, run_id=run_id)
    return counts


def runs_circuits(backend) -> bool:
    """The backend's ``runs_circuits`` capability (a backend that does not declare it runs
    circuits: only the ``reference`` backend says it does not)."""
    return bool(getattr(backend, "runs_circuits", True))


def check_shots_and_seed(shots: int | None, seed: int | None) -> None:
    """Shots 1..MAX_SHOTS and a seed 0 <= seed < 2^63 (or ``None``: the default / drawn)."""
    if shots is not None and (
        isinstance(shots, bool) or not isinstance(shots, (int, float)) or int(shots) != shots
        or not 1 <= shots <= MAX_SHOTS
    ):  # fmt: skip
        raise InvalidParameter("shots", shots, f"an integer 1 <= shots <= {MAX_SHOTS}")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, (int, float)) or int(seed) != seed
        or not 0 <= seed < 2**63
    ):  # fmt: skip
        raise InvalidParameter("seed", seed, "an integer 0 <= seed < 2^63")


def check_run(
    protocol, backend: Backend, shots: int | None = None, seed: int | None = None
) -> None:
    """Every check that can fail before work starts: options, and the register's size."""
    check_shots_and_seed(shots, seed)
    fits = getattr(protocol, "check_fits", None)  # protocols with a fixed qubit register
    if fits is not None and backend.num_qubits is not None:
        fits(backend.num_qubits, backend.capacity)


def run_recipe(
    runner: str, protocol, sweep_point: tuple[str, int] | None = None, **options: Any
) -> dict[str, Any]:
    """What a run needs to be done again: the runner, the protocol and the runner's options
    (with the seed resolved) and the compiler's revision (what recompiles its circuits alike:
    :func:`qcompile.passes.compile.compiler_revision`), as stored with the run; tagged with its
    sweep point, if any."""
    recipe = {
        "runner": runner,
        "protocol": protocol.name,
        "parameters": protocol.parameters(),
        "options": options,
        "compiler_revision": current_compiler_revision(),
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
        if Terminated.requested and not isinstance(exc, Terminated):
            exc = Terminated(f"SIGTERM received; the run was stopped ({type(exc).__name__})")
        store.fail_run(run_id, f"{type(exc).__name__}: {exc}")
        raise


@dataclass(frozen=True)
class RunContext:
    """What a runner's body gets: the resolved ``seed`` and ``shots``, the stored run's id
    (``None`` without a store; a backend that submits jobs files them under it) and
    ``report(stage, done, total)`` for progress."""

    seed: int
    shots: int | None
    run_id: str | None
    report: Progress


def _silent(stage: str, done: int, total: int) -> None:
    return None


def execute_run(
    protocol,
    backend: Backend | str,
    body: Callable[[RunContext], RunResult],
    *,
    runner: str,
    shots: int | None = None,
    seed: int | None = None,
    store=None,
    progress: Progress | None = None,
    run_id: str | None = None,
    sweep_point: tuple[str, int] | None = None,
    parameters: dict[str, Any] | None = None,
    **recipe_options: Any,
) -> RunResult:
    """Resolve the seed (a run without one draws and records one), store the run as
    ``running`` with its recipe (``runner`` and ``recipe_options``: what replays it), run
    ``body`` and store its result as ``done``; an exception marks the run ``failed`` and
    propagates. ``parameters`` (default ``protocol.parameters()``) is the JSON parameter
    block; ``run_id`` completes an existing run, ``sweep_point`` files it in a sweep.
    ``backend`` (or just its name) runs the circuits; what it applies to every circuit
    (twirling, idle-time noise, dynamical decoupling: its ``suppression``) is recorded under
    the result's ``mitigation``."""
    check_shots_and_seed(shots, seed)  # every runner, before anything is stored
    backend_name = backend if isinstance(backend, str) else backend.name
    if seed is None:
        seed = secrets.randbelow(2**31)
    parameters = protocol.parameters() if parameters is None else parameters
    recipe = run_recipe(runner, protocol, sweep_point, **recipe_options, shots=shots, seed=seed)
    with stored_run(store, protocol.name, backend_name, parameters, recipe, run_id) as run_id:
        result = body(RunContext(seed, shots, run_id, progress or _silent))
        result.parameters = parameters
        applied = suppression_record(backend)
        if applied:
            result.mitigation = {**(result.mitigation or {}), **applied}
        if store is not None:
            store.finish_run(run_id, result, sweep_point)
    return result
