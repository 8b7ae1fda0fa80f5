"""``qcompile sweep``: a protocol over a parameter grid, in parallel, resumable."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from qcompile.cli.common import (
    DynamicalDecoupling,
    IdleNoise,
    JsonPath,
    Mode,
    Twirling,
    _backend,
    _check_output_path,
    _param_value,
    _progress,
    app,
    out,
    write_json_output,
)
from qcompile.errors import InvalidParameter
from qcompile.resources import check_number

#: Most local worker processes a sweep starts.
MAX_WORKERS = 256


def _number(value) -> str:
    """A parameter as a person writes it: 0.3, not 0.30000000000000004 (a grid's linspace)."""
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


def sweep_table(protocol: str, backend: str, swept: list[str], results: list) -> Table:
    """One row per point: the swept parameters, the run's main result (its first observable
    at the last point, ± its standard error) and the run's id (for `runs show`)."""
    from qcompile.app.compare import headline

    heads = [headline(r) for r in results]
    first = next((h for h in heads if h is not None), None)
    with_error = any(h is not None and h["stderr"] is not None for h in heads)
    table = Table(title=f"{protocol} sweep on {backend}")
    for column in swept:
        table.add_column(column, justify="right")
    if first is not None:
        table.add_column(f"{first['observable']} (last, {first['source']})", justify="right")
        if with_error:
            table.add_column("± stderr", justify="right")
    table.add_column("run")
    for run, head in zip(results, heads, strict=True):
        cells = [_number(run.parameters.get(n)) for n in swept]
        if first is not None:
            cells.append("—" if head is None else f"{head['value']:.6g}")
            if with_error:
                error = None if head is None else head["stderr"]
                cells.append("—" if error is None else f"{error:.2g}")
        table.add_row(*cells, run.run_id)
    return table


# -- sweep -----------------------------------------------------------------------------------
@app.command("sweep")
def sweep(
    protocol: Annotated[str, typer.Argument(help="A protocol (see `qcompile protocols`).")],
    grid: Annotated[
        list[str],
        typer.Option(help="A swept parameter: name=start:stop:count or name=v1,v2 (repeat)."),
    ],
    param: Annotated[
        list[str] | None, typer.Option(help="A fixed parameter name=value (repeatable).")
    ] = None,
    backend: Annotated[str, typer.Option(help="As for `qcompile run`.")] = "aer:fake_torino",
    shots: Annotated[int | None, typer.Option(help="Shots per circuit (device default).")] = None,
    seed: Annotated[int, typer.Option(help="Point i uses seed + i (fixes the sweep id).")] = 1,
    executor: Annotated[
        str, typer.Option(help="processes (local pool) or dask://HOST:PORT.")
    ] = "processes",
    workers: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_WORKERS, help="Local worker processes (default min(4, CPUs))."),
    ] = None,
    option: Annotated[
        list[str] | None,
        typer.Option(help="A run option name=value (repeatable; see `qcompile protocols`)."),
    ] = None,
    mode: Mode = "batch",
    dd: DynamicalDecoupling = None,
    twirling: Twirling = "none",
    idle_noise: IdleNoise = False,
    json_path: JsonPath = None,
) -> None:
    """Run a protocol over a parameter grid in parallel; re-running the same sweep resumes it."""
    from qcompile.app.sweep import grid_points, open_executor, parse_grid, plan_sweep, run_sweep
    from qcompile.backends import ResultStore, ibm_options
    from qcompile.protocols import get_protocol
    from qcompile.run.runner import check_run

    _check_output_path("json", json_path)
    get_protocol(protocol)
    fixed = {}
    for item in param or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidParameter("param", item, "name=value")
        fixed[name.strip().replace("-", "_")] = _param_value(value.strip())
    grids = [parse_grid(g) for g in grid]
    module = get_protocol(protocol)
    _check_names(module, grids, fixed)
    points = grid_points(grids, fixed)
    options = run_options(module, option or [])
    store = ResultStore()
    chosen = _backend(backend, store, mode, dd, twirling, idle_noise=idle_noise)  # checked early
    preflight = getattr(module, "check", None)  # the one runner's checks, running nothing
    for index, point in enumerate(points):
        built = module.from_mapping(point)
        check_run(built, chosen, shots, seed)
        if preflight is not None:
            preflight(built, chosen, shots=shots, seed=seed + index, **options)
    execution = ibm_options(backend, mode, dd, twirling, idle_noise)
    # ibm: sweeps store their options; aer: ones only what they apply (older plans: none)
    on_ibm = backend.strip().startswith("ibm:")
    stored = execution.to_dict() if on_ibm or execution.suppresses else {}
    plan = plan_sweep(
        protocol, points, backend, shots=shots, seed=seed, ibm_options=stored, **options
    )
    pool, shares_store = open_executor(executor, workers)
    try:
        with _progress() as progress:
            result = run_sweep(
                plan, store, executor=pool, shares_store=shares_store, progress=progress
            )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    out.print(
        f"sweep {result.sweep_id}: {len(result.results)} points "
        f"({result.skipped} read from the store, {result.ran} run)"
    )
    out.print(sweep_table(protocol, backend, [parse_grid(g).name for g in grid], result.results))
    if json_path:
        payload = {
            "sweep_id": result.sweep_id,
            "protocol": protocol,
            "backend": backend,
            "points": [r.to_dict() for r in result.results],
        }
        write_json_output(json_path, json.dumps(payload, indent=2).encode())


def _check_names(plugin, grids, fixed: dict) -> None:
    """Swept and fixed names are declared parameters; numbers where numbers are declared."""
    declared = {p.name: p for p in plugin.PARAMETERS}
    named = [("grid", g.name, list(g.values)) for g in grids]
    named += [("param", n, [v]) for n, v in fixed.items()]
    for flag, name, values in named:
        if name not in declared:
            raise InvalidParameter(flag, name, f"a parameter of {plugin.NAME}: "
                                   + ", ".join(declared))  # fmt: skip
        kind = declared[name].kind
        for value in values:
            if kind in ("int", "float") and isinstance(value, str):
                raise InvalidParameter(flag, f"{name}={value}", f"{name}: {declared[name].allowed}")
            check_number(flag, value)


def run_options(plugin, items: list[str]) -> dict:
    """``name=value`` items checked against the plugin's declared ``RUN_OPTIONS`` and read
    as their declared kind."""
    declared = {p.name: p for p in getattr(plugin, "RUN_OPTIONS", ())}
    options = {}
    for item in items:
        name, sep, text = item.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in declared:
            allowed = ", ".join(f"{n}=..." for n in declared) or "none for this protocol"
            raise InvalidParameter("option", item, f"name=value with name one of: {allowed}")
        kind = declared[name].kind
        value = _param_value(text.strip())
        if kind in ("int", "float") and (
            isinstance(value, str) or (kind == "int" and isinstance(value, float))
        ):
            raise InvalidParameter("option", item, f"{name}: {declared[name].allowed}")
        options[name] = value
    return options
