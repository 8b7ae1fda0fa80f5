"""Parameter sweeps: the Cartesian product of grids, run in parallel, resumable.

A sweep is a list of recipes (``qcompile.run.recipe``), one per grid point, with seeds
``seed + index``. Its id is a hash of everything that defines it (protocol, points, backend,
shots, seed, options), so running the same sweep again *resumes* it: points already recorded
in the store's ``sweep_points`` table are read back and skipped, and the store's primary key
makes recording a point twice impossible.

Points run through any ``concurrent.futures.Executor``. The default is a local process pool
whose workers write their runs (and any IBM job ids) to the store themselves and die with the
sweep's process (Linux ``PR_SET_PDEATHSIG``), so a killed sweep leaves no orphan that could
record a point behind the resumed sweep's back. ``dask://HOST:PORT`` sends points to a
dask.distributed scheduler; remote workers cannot reach the local store, so the sweep's
process records their results as they come back. (Aer's own Dask executor is ignored by
qiskit-aer 0.18, so the distribution happens here, one point per task.)
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import signal
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qcompile.errors import InvalidParameter, QCompileError
from qcompile.resources import check_number
from qcompile.results import RunResult
from qcompile.run.recipe import make_recipe

__all__ = [
    "Grid",
    "parse_grid",
    "grid_points",
    "plan_sweep",
    "run_sweep",
    "SweepPlan",
    "SweepResult",
    "open_executor",
]

MAX_POINTS = 10_000
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class Grid:
    """One swept parameter and its values."""

    name: str
    values: tuple


def _number(text: str) -> int | float:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text and "e" not in text else value


def _value(text: str) -> int | float | str:
    try:
        return _number(text)
    except ValueError:
        return text


def parse_grid(text: str) -> Grid:
    """``name=start:stop:count`` (inclusive, evenly spaced; integers stay integers) or
    ``name=v1,v2,...`` (numbers, or strings such as state labels)."""
    usage = "name=start:stop:count or name=v1,v2,... (e.g. alpha=0.1:0.9:5)"
    name, sep, spec = text.partition("=")
    name = name.strip().replace("-", "_")
    if not sep or not name or not spec.strip():
        raise InvalidParameter("grid", text, usage)
    try:
        if ":" in spec and "," not in spec:
            start, stop, count = (s.strip() for s in spec.split(":"))
            n = int(count)
            if n < 1:
                raise ValueError
            if n > MAX_POINTS:  # before anything of that size is made
                raise InvalidParameter("grid", text, f"at most {MAX_POINTS} points per grid")
            a, b = _number(start), _number(stop)
            if isinstance(a, int) and isinstance(b, int) and (n == 1 or (b - a) % (n - 1) == 0):
                step = 0 if n == 1 else (b - a) // (n - 1)
                values = tuple(a + i * step for i in range(n))
            else:
                values = tuple(float(v) for v in np.linspace(float(a), float(b), n))
        else:
            values = tuple(_value(v.strip()) for v in spec.split(",") if v.strip())
    except InvalidParameter:
        raise
    except ValueError:
        raise InvalidParameter("grid", text, usage) from None
    if not values:
        raise InvalidParameter("grid", text, usage)
    for value in values:
        check_number("grid", value)
    return Grid(name, values)


def grid_points(grids: Sequence[Grid], fixed: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of the grid values (last grid fastest), merged over ``fixed``."""
    names = [g.name for g in grids]
    if len(set(names)) != len(names):
        raise InvalidParameter("grid", ",".join(names), "each parameter swept at most once")
    clash = sorted(set(names) & set(fixed))
    if clash:
        raise InvalidParameter("grid", clash[0], "a parameter not also fixed with --param")
    combos = list(itertools.product(*(g.values for g in grids)))
    if len(combos) > MAX_POINTS:
        raise InvalidParameter("grid", f"{len(combos)} points", f"at most {MAX_POINTS} points")
    return [dict(fixed) | dict(zip(names, combo, strict=True)) for combo in combos]


@dataclass
class SweepPlan:
    """The recipes of a sweep and its id."""

    sweep_id: str
    protocol: str
    backend: str
    recipes: list[dict[str, Any]]
    ibm_options: dict[str, Any] = field(default_factory=dict)


def plan_sweep(
    protocol: str,
    points: Sequence[dict[str, Any]],
    backend: str,
    *,
    shots: int | None,
    seed: int,
    ibm_options: dict[str, Any] | None = None,
    **options: Any,
) -> SweepPlan:
    """Validate every point now (bad input fails before anything runs) and name the sweep."""
    recipes = []
    for index, point in enumerate(points):
        try:
            recipes.append(make_recipe(protocol, point, shots=shots, seed=seed + index, **options))
        except InvalidParameter as exc:
            raise InvalidParameter(
                exc.name, exc.value, f"{exc.allowed} (sweep point {index}: {point})"
            ) from None
    identity = json.dumps(
        {
            "protocol": protocol,
            "backend": backend,
            "recipes": recipes,
            "ibm_options": ibm_options or {},
        },
        sort_keys=True,
    )
    sweep_id = "sw-" + hashlib.sha256(identity.encode()).hexdigest()[:10]
    return SweepPlan(sweep_id, protocol, backend, recipes, dict(ibm_options or {}))


@dataclass
class SweepResult:
    sweep_id: str
    results: list[RunResult]
    skipped: int
    ran: int


def _die_with_parent(parent: int) -> None:
    """Pool initializer: one BLAS/OpenMP thread per worker; killed when the sweep dies."""
    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[variable] = "1"
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class _ClientExecutor(Executor):
    """A dask.distributed client's executor that also closes the client on shutdown."""

    def __init__(self, client) -> None:
        self._client = client
        self._executor = client.get_executor(pure=False)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        return self._executor.submit(fn, *args, **kwargs)

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self._executor.shutdown(wait=wait)
        self._client.close()


def open_executor(spec: str | None, workers: int | None = None) -> tuple[Executor, bool]:
    """``None``/``processes`` → a local process pool; ``dask://HOST:PORT`` → that
    dask.distributed cluster. Returns the executor and whether its workers share the store."""
    if spec in (None, "", "processes"):
        import multiprocessing

        count = workers or max(1, min(4, os.cpu_count() or 1))
        pool = ProcessPoolExecutor(
            max_workers=count,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_die_with_parent,
            initargs=(os.getpid(),),
        )
        return pool, True
    if spec.startswith("dask://"):
        try:
            from dask.distributed import Client
        except ImportError:
            raise InvalidParameter(
                "executor",
                spec,
                "processes, or dask://HOST:PORT with dask.distributed "
                "installed (pip install 'qcompile[dask]')",
            ) from None
        address = "tcp://" + spec[len("dask://") :]
        try:
            client = Client(address, timeout=10)
        except OSError as exc:
            raise QCompileError(f"cannot reach the dask scheduler at {address}: {exc}") from None
        return _ClientExecutor(client), False
    raise InvalidParameter("executor", spec, "processes or dask://HOST:PORT")


def run_point(
    recipe: dict[str, Any],
    backend: str,
    store_path: str | None,
    sweep_point: tuple[str, int],
    ibm_options: dict[str, Any],
) -> dict[str, Any]:
    """Run one sweep point (in a worker); with ``store_path`` record it there."""
    from qcompile.backends import IBMOptions, ResultStore, get_backend
    from qcompile.run.recipe import execute

    store = ResultStore(store_path) if store_path else None
    chosen = get_backend(
        backend, store=store, ibm_options=IBMOptions(**ibm_options) if ibm_options else None
    )
    result = execute(
        recipe,
        chosen,
        store=store,
        sweep_point=sweep_point if store is not None else None,
    )
    return result.to_dict()


def run_sweep(
    plan: SweepPlan,
    store,
    *,
    executor: Executor | None = None,
    shares_store: bool = True,
    progress: Progress | None = None,
    point_runner: Callable[..., dict[str, Any]] = run_point,
) -> SweepResult:
    """Run the points of ``plan`` not yet in ``store``; every point's result, in order.

    ``executor`` defaults to :func:`open_executor` ``(None)``; an executor passed in is not
    shut down. ``shares_store=False`` (remote workers) makes this process record the runs.
    """
    done = store.sweep_points(plan.sweep_id)
    todo = [i for i in range(len(plan.recipes)) if i not in done]
    store.interrupt_sweep_runs(plan.sweep_id, keep=list(done.values()))
    total = len(plan.recipes)
    report = progress or (lambda *a: None)
    label = f"sweep {plan.sweep_id}"
    report(label, len(done), total)
    own = executor is None
    if own:
        executor, shares_store = open_executor(None)
    store_path = str(store.path) if shares_store else None
    try:
        futures: dict[Future, int] = {}
        for index in todo:
            recipe = plan.recipes[index]
            futures[
                executor.submit(
                    point_runner,
                    recipe,
                    plan.backend,
                    store_path,
                    (plan.sweep_id, index),
                    plan.ibm_options,
                )
            ] = index
        finished = len(done)
        for future in as_completed(futures):
            index = futures[future]
            try:
                result = RunResult.from_dict(future.result())
            except QCompileError as exc:
                raise QCompileError(
                    f"sweep {plan.sweep_id} point {index} failed: {exc}; the points that "
                    "finished are kept, the same command resumes the sweep"
                ) from None
            if not shares_store:
                recipe = plan.recipes[index] | {"sweep": [plan.sweep_id, index]}
                run_id = store.start_run(result.protocol, result.backend, result.parameters, recipe)
                store.finish_run(run_id, result, (plan.sweep_id, index))
            finished += 1
            report(label, finished, total)
    finally:
        if own:
            executor.shutdown(wait=True, cancel_futures=True)
    recorded = store.sweep_points(plan.sweep_id)
    results = [store.get_run(recorded[i])["result"] for i in range(total)]
    return SweepResult(plan.sweep_id, results, skipped=len(done), ran=len(todo))
