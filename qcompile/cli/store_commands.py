"""``qcompile runs`` and ``qcompile jobs``: what the results store keeps."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from qcompile.cli.common import (
    JsonPath,
    _check_output_path,
    _progress,
    err,
    jobs_app,
    out,
    runs_app,
    write_json_output,
)
from qcompile.errors import InvalidParameter

#: Longest wait between two status checks of an IBM job (an hour), and longest wait (30 days).
MAX_POLL_S = 3600.0
MAX_WAIT_S = 30 * 86400.0

# -- runs ------------------------------------------------------------------------------------
RUN_STATUSES = ("running", "done", "failed", "interrupted")
MAX_LIMIT = 1_000_000


@runs_app.command("list")
def runs_list(
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="How many, newest first.")] = 20,
    protocol: Annotated[str | None, typer.Option(help="Only runs of this protocol.")] = None,
    status: Annotated[
        str | None, typer.Option(help="Only running | done | failed | interrupted.")
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Only runs created at or after this ISO date/time (UTC).")
    ] = None,
    json_path: JsonPath = None,
) -> None:
    """List stored runs, newest first (filtered by protocol, status, creation time)."""
    from datetime import datetime, timezone

    from qcompile.backends import ResultStore

    _check_output_path("json", json_path)
    if status is not None and status not in RUN_STATUSES:
        raise InvalidParameter("status", status, "one of " + ", ".join(RUN_STATUSES))
    if since is not None:
        try:
            moment = datetime.fromisoformat(since)
        except ValueError:
            raise InvalidParameter("since", since, "an ISO date or date-time, e.g. 2026-11-30 "
                                   "or 2026-11-30T14:00") from None  # fmt: skip
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        since = moment.isoformat()
    store = ResultStore()
    rows = store.list_runs(limit, protocol=protocol, status=status, since=since)
    if json_path:
        write_json_output(json_path, json.dumps(rows, indent=2).encode(), "runs")
        return
    table = Table(title=f"runs in {store.path}")
    for column in ("id", "created", "protocol", "backend", "status"):
        table.add_column(column)
    for row in rows:
        status = "interrupted" if row["interrupted"] else row["status"]
        table.add_row(row["id"], row["created"][:19], row["protocol"], row["backend"], status)
    out.print(table)


@runs_app.command("show")
def runs_show(run_id: str) -> None:
    """Print a stored run as JSON."""
    from qcompile.backends import ResultStore

    row = ResultStore().get_run(run_id)
    if row["result"] is not None:
        print(row["result"].to_json())
    else:
        print(json.dumps({k: v for k, v in row.items() if k != "result"}, indent=2))


@runs_app.command("repair")
def runs_repair() -> None:
    """Repair a damaged results store: copy it aside, save every readable row, mark runs with
    unreadable JSON failed and runs whose process is gone interrupted."""
    from qcompile.backends.store_repair import repair_store

    report = repair_store()
    out.print(f"copy of the store before repair: {report['backup']}")
    if report["salvaged"]:
        kept = ", ".join(f"{t} {n}" for t, n in report["kept"].items()) or "nothing"
        lost = sum(report["lost"].values())
        out.print(f"the file was damaged: rebuilt with the readable rows ({kept}); "
                  f"{lost} unreadable rows are only in the copy")  # fmt: skip
    else:
        out.print("the file itself is sound")
    out.print(f"runs with unreadable JSON marked failed: {report['bad_json']}; runs whose "
              f"process is gone marked interrupted: {report['interrupted']}")  # fmt: skip


# -- jobs ------------------------------------------------------------------------------------
@jobs_app.command("list")
def jobs_list(
    limit: Annotated[int, typer.Option(min=1, max=MAX_LIMIT, help="How many, newest first.")] = 20,
) -> None:
    """List remembered jobs, newest first."""
    from qcompile.backends import ResultStore

    store = ResultStore()
    rows = store.list_jobs(limit)
    table = Table(title=f"jobs in {store.path}")
    # ids whole even when piped (80 columns): the other columns wrap instead
    table.add_column("job id", no_wrap=True, min_width=max((len(r["id"]) for r in rows), default=6))
    table.add_column("run", no_wrap=True, min_width=12)
    for column in ("created", "backend", "mode", "status", "circuits", "shots"):
        table.add_column(column)
    for row in rows:
        table.add_row(
            row["id"],
            row["run_id"] or "—",
            row["created"][:19],
            row["backend"] + (" (local)" if row["local"] else ""),
            row["mode"],
            row["status"],
            str(row["num_circuits"]),
            str(row["shots"]),
        )
    out.print(table)


@jobs_app.command("show")
def jobs_show(job_id: str) -> None:
    """Print a job as JSON: backend, mode, options, calibration time, status, counts."""
    from qcompile.backends import ResultStore

    print(json.dumps(ResultStore().get_job(job_id), indent=2))


def _job_done(job: dict, result) -> None:
    out.print(f"job {job['id']}: {job['status']} ({job['num_circuits']} circuits)")
    if result is not None:
        out.print(f"run {result.run_id} is complete: `qcompile compare {result.run_id}`")


@jobs_app.command("fetch")
def jobs_fetch(job_id: str) -> None:
    """Fetch a job's result (waiting while it runs) and complete the run it belongs to."""
    from qcompile.app.jobs import fetch_job
    from qcompile.backends import ResultStore

    with _progress() as progress:
        job, result = fetch_job(job_id, ResultStore(), progress)
    _job_done(job, result)


@jobs_app.command("wait")
def jobs_wait(
    job_id: str,
    poll: Annotated[
        float, typer.Option(min=0.1, max=MAX_POLL_S, help="Seconds between status checks.")
    ] = 10.0,
    timeout: Annotated[
        float | None,
        typer.Option(min=0, max=MAX_WAIT_S, help="Give up after this many seconds."),
    ] = None,
) -> None:
    """Wait until a job is final, printing its status changes; then fetch it."""
    from qcompile.app.jobs import wait_job
    from qcompile.backends import ResultStore

    with _progress() as progress:
        job, result = wait_job(
            job_id,
            ResultStore(),
            poll_s=poll,
            timeout_s=timeout,
            on_status=lambda status: err.print(f"job {job_id}: {status}"),
            progress=progress,
        )
    _job_done(job, result)


@jobs_app.command("cancel")
def jobs_cancel(job_id: str) -> None:
    """Cancel a job that has not finished."""
    from qcompile.app.jobs import cancel_job
    from qcompile.backends import ResultStore

    job = cancel_job(job_id, ResultStore())
    out.print(f"job {job['id']}: {job['status']}")
