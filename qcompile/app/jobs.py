"""IBM Quantum jobs after submission: fetch, wait, cancel, and the runs they complete.

A run on an ``ibm:`` backend files its job in the store before waiting on it
(``qcompile.backends.ibm``). If the process dies while waiting, :func:`fetch_job` gets the counts by
job id and completes the run: the run's stored recipe is executed again with the fetched
counts in place of a new submission (``qcompile.backends.replay``). Every step is seeded, so the
completed run is the one the dead process would have written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qcompile.backends.aer import READOUT_MITIGATION_SUFFIX
from qcompile.backends.ibm import IBMBackend, IBMOptions
from qcompile.backends.readout_mitigation import ReadoutMitigated
from qcompile.backends.replay import ReplayBackend
from qcompile.backends.store import ResultStore
from qcompile.errors import QCompileError
from qcompile.results import RunResult
from qcompile.run.recipe import execute
from qcompile.run.runner import Progress

__all__ = ["backend_for_job", "fetch_job", "wait_job", "cancel_job", "complete_run"]


def backend_for_job(
    job: dict[str, Any], store: ResultStore, service=None, **kwargs: Any
) -> IBMBackend:
    """The :class:`IBMBackend` a stored job was submitted through, with its options
    (``service``: an open ``QiskitRuntimeService``; default: the account lookup)."""
    name = job["backend"]
    if not name.startswith("ibm:"):
        raise QCompileError(f"job {job['id']} ran on {name}, not on an ibm: backend")
    options = IBMOptions(**job["options"]["execution"])
    return IBMBackend(name[4:], options=options, store=store, service=service, **kwargs)


def complete_run(
    run_id: str,
    store: ResultStore,
    backend: IBMBackend | None = None,
    progress: Progress | None = None,
    service=None,
) -> RunResult:
    """Finish run ``run_id`` from its jobs (fetching any not yet fetched); its result."""
    run = store.get_run(run_id)
    if run["status"] == "done":
        return run["result"]
    if not run["recipe"]:
        raise QCompileError(
            f"run {run_id} has no recipe (written by an older qcompile); the counts of its "
            "jobs are kept in the store (`qcompile jobs show ID`)"
        )
    jobs = store.list_jobs(run_id=run_id)
    if not jobs:
        raise QCompileError(f"run {run_id} submitted no job; run it again instead")
    replayed = []
    for job in jobs:
        stored = store.get_job(job["id"], with_circuits=True)
        if stored["status"] in ("failed", "cancelled"):
            raise QCompileError(
                f"job {job['id']} of run {run_id} is {stored['status']}: the run cannot be "
                "completed" + (f" ({stored['error']})" if stored["error"] else "")
            )
        owner = backend if backend is not None else backend_for_job(stored, store, service)
        counts = owner.fetch(job["id"])
        replayed.append((job["id"], stored["circuits"], counts))
    if isinstance(owner, ReadoutMitigated):
        owner = owner.inner
    replay = ReplayBackend(owner, replayed)
    if run["backend"].endswith(READOUT_MITIGATION_SUFFIX):  # the job began with calibrations
        replay = ReadoutMitigated(replay, READOUT_MITIGATION_SUFFIX)
    # the recipe recompiles as its compiler revision did: the circuits the jobs ran
    return execute(run["recipe"], replay, store=store, run_id=run_id, progress=progress)


def fetch_job(
    job_id: str,
    store: ResultStore | None = None,
    progress: Progress | None = None,
    service=None,
) -> tuple[dict[str, Any], RunResult | None]:
    """Fetch job ``job_id`` (waiting while it runs) and complete its run if it has one.

    Returns the stored job row (with counts) and the completed run's result (or ``None``).
    """
    store = store if store is not None else ResultStore()
    job = store.get_job(job_id)
    backend = backend_for_job(job, store, service)
    backend.fetch(job_id)
    result = None
    if job["run_id"]:
        result = complete_run(job["run_id"], store, backend, progress)
    return store.get_job(job_id), result


def wait_job(
    job_id: str,
    store: ResultStore | None = None,
    *,
    poll_s: float = 10.0,
    timeout_s: float | None = None,
    on_status: Callable[[str], None] | None = None,
    progress: Progress | None = None,
    service=None,
) -> tuple[dict[str, Any], RunResult | None]:
    """Poll job ``job_id`` until it is final (``on_status`` hears each new status), then
    :func:`fetch_job`. Local-mode jobs have no remote status: they are fetched at once."""
    store = store if store is not None else ResultStore()
    job = store.get_job(job_id)
    if job["status"] == "submitted" and not job["local"]:
        backend = backend_for_job(
            job,
            store,
            service,
            poll_s=poll_s,
            on_status=(lambda _, status: on_status(status)) if on_status else None,
        )
        backend.wait(job_id, timeout_s)
    return fetch_job(job_id, store, progress, service)


def cancel_job(job_id: str, store: ResultStore | None = None, service=None) -> dict[str, Any]:
    """Cancel job ``job_id`` on the service and mark it (and its unfinished run) cancelled."""
    store = store if store is not None else ResultStore()
    job = store.get_job(job_id)
    backend_for_job(job, store, service).cancel(job_id)
    if job["run_id"] and store.get_run(job["run_id"])["status"] == "running":
        store.fail_run(job["run_id"], f"job {job_id} was cancelled")
    return store.get_job(job_id)
