"""``qcompile compare``: device vs ideal vs reference of a stored run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qcompile.cli.common import (
    JsonPath,
    _check_output_path,
    _fmt,
    app,
    out,
    write_json_output,
)
from qcompile.errors import InvalidParameter, QCompileError


@app.command("compare")
def compare(
    run_id: Annotated[
        str | None, typer.Argument(help="A run id (see `qcompile runs list`).")
    ] = None,
    latest: Annotated[bool, typer.Option(help="The newest finished run.")] = False,
    json_path: JsonPath = None,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG plot here.")] = None,
) -> None:
    """Device vs ideal vs reference for one run: observables with errors, and a plot."""
    from qcompile.app.compare import compare_run
    from qcompile.backends import ResultStore

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    if (run_id is None) == (not latest):
        raise InvalidParameter("run_id", run_id, "a run id or --latest (one of them)")
    store = ResultStore()
    run_id = store.latest_run() if latest else run_id
    row = store.get_run(run_id)
    if row["result"] is None:
        raise QCompileError(f"run {run_id} has no result yet: " + _why_no_result(store, row))
    result = row["result"]
    comparison = compare_run(result)
    jobs = store.list_jobs(run_id=run_id)
    out.print(
        f"run {run_id}: {result.protocol} on {result.backend}"
        + (f", {result.shots} shots" if result.shots else ", exact")
        + (f", jobs {', '.join(j['id'] for j in jobs)}" if jobs else "")
    )
    print_comparison(result, comparison)
    if result.mitigation:  # what was applied, raw (scale 1) beside mitigated
        from qcompile.protocols.rendering.mitigation import print_mitigation

        print_mitigation(result, out)
        comparison["mitigation"] = result.mitigation
    if result.recoverability:  # homogenization --recoverability: exact and measured side by side
        from qcompile.protocols.rendering.homogenization import print_recoverability

        print_recoverability(result.recoverability, out)
        comparison["recoverability"] = result.recoverability
    if json_path:
        write_json_output(json_path, json.dumps(comparison, indent=2).encode(), "comparison")
    if plot:
        from qcompile.app.plots import save_plot

        try:
            save_plot(result, plot)
        except ValueError as exc:  # nothing to draw
            raise QCompileError(f"the plot was not written: {exc}") from None
        out.print(f"plot: {plot}")


def _why_no_result(store, row: dict) -> str:
    """What happened to a run without a result, and the command that moves it on."""
    waiting = [j["id"] for j in store.list_jobs(run_id=row["id"]) if j["status"] == "submitted"]
    if waiting:
        return f"it waits on job {waiting[0]}; `qcompile jobs fetch {waiting[0]}` completes it"
    if row["status"] == "running":
        where = f" (process {row.get('owner_pid')} on {row.get('owner_host')})"
        return "it is still running" + (where if row.get("owner_pid") else "")
    return (f"it {row['status']} ({row['error']}); `qcompile runs show {row['id']}` has the "
            "recipe to run it again")  # fmt: skip


def print_comparison(result, comparison: dict) -> None:
    """One table per observable (device ± σ, ideal circuit, reference) and its summary."""
    for key, block in comparison["observables"].items():
        axis = block["axis"]
        table = Table(title=f"{key}: device vs ideal circuit vs reference")
        for column in (axis, result.backend, "±", "ideal", "reference", "(dev-ideal)/σ"):
            table.add_column(column, justify="right")
        for row_ in block["rows"]:
            if row_["device"] is None and "times" in result.reference and len(block["rows"]) > 25:
                continue
            sigma = (
                (row_["device"] - row_["ideal"]) / row_["stderr"]
                if row_["device"] is not None and row_["ideal"] is not None and row_["stderr"]
                else None
            )
            table.add_row(
                f"{row_[axis]:g}",
                _fmt(row_["device"]),
                _fmt(row_["stderr"], 4),
                _fmt(row_["ideal"]),
                _fmt(row_["reference"]),
                "—" if sigma is None else f"{sigma:+.1f}",
            )
        out.print(table)
        summary = block["summary"]
        parts = [
            f"max |device - ideal| = {_fmt(summary['device_vs_ideal'], 4)}",
            "max |ideal - reference| = "
            + (
                "—"
                if summary["ideal_vs_reference"] is None
                else f"{summary['ideal_vs_reference']:.1e}"
            ),
        ]
        if summary["within_2_sigma"] is not None:
            parts.append(
                f"{100 * summary['within_2_sigma']:.0f}% of device points within 2σ of ideal"
            )
        out.print(f"{key}: " + "; ".join(parts))
