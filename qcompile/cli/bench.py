"""``qcompile bench``: transpiler benchmarks against Qiskit and pytket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from qcompile.cli.common import (
    JsonPath,
    Seed,
    _check_output_path,
    _progress,
    app,
    err,
    out,
    write_json_output,
)
from qcompile.errors import InvalidParameter


# -- bench -----------------------------------------------------------------------------------
@app.command("bench")
def bench(
    suite: Annotated[str, typer.Option(help="Benchmark suite: protocols.")] = "protocols",
    against: Annotated[
        str,
        typer.Option(
            help="Peers: any of qiskit (O2 and O3), pytket (FullPeepholeOptimise + Qiskit "
            "mapping, and pytket-qiskit's default IBM compilation)."
        ),
    ] = "qiskit,pytket",
    targets: Annotated[
        str, typer.Option(help="Comma-separated targets.")
    ] = "fake_torino,fake_fez,fake_sherbrooke,all_to_all_cx",
    quick: Annotated[
        bool, typer.Option(help="A smaller suite (N in 2,4,8,16; shorter dynamics).")
    ] = False,
    repeats: Annotated[
        int, typer.Option(help="Timed compiles per circuit after a warm-up; the median is kept.")
    ] = 3,
    seed: Seed = 1,
    json_path: JsonPath = None,
    markdown: Annotated[Path | None, typer.Option(help="Write the markdown table here.")] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a PNG of the two-qubit ratios here.")
    ] = None,
) -> None:
    """Transpiler benchmarks: qcompile vs Qiskit O2/O3 and pytket on the protocol circuits."""
    from qcompile.app.benchmark_suite import (
        TARGETS,
        markdown_table,
        pytket_available,
        run_suite,
        suite_circuits,
    )
    from qcompile.results import write_atomic
    from qcompile.run.runner import check_shots_and_seed

    for name, path in (("json", json_path), ("markdown", markdown), ("plot", plot)):
        _check_output_path(name, path)
    if suite != "protocols":
        raise InvalidParameter("suite", suite, "protocols")
    if not 1 <= repeats <= 100:
        raise InvalidParameter("repeats", repeats, "an integer, 1 <= repeats <= 100")
    check_shots_and_seed(None, seed)
    peers = [p.strip() for p in against.split(",") if p.strip()]
    unknown = [p for p in peers if p not in ("qiskit", "pytket")]
    if unknown or not peers:
        raise InvalidParameter("against", against, "a comma-separated subset of qiskit, pytket")
    chosen_targets = [t.strip() for t in targets.split(",") if t.strip()]
    for t in chosen_targets or [targets]:
        if t not in TARGETS:
            raise InvalidParameter(
                "targets", t, "a comma-separated subset of " + ", ".join(TARGETS)
            )
    compilers = ["qcompile", "qcompile_fast", "qiskit_o2", "qiskit_o3"]
    if "pytket" in peers:
        if pytket_available():
            compilers += ["pytket", "pytket_ibm"]
        else:
            err.print(
                "pytket is not installed (the bench extra: pip install 'qcompile[bench]'): "
                "skipping it"
            )
    with _progress() as progress:
        progress("building circuits", 0, 1)
        circuits = suite_circuits(quick=quick)
        progress("building circuits", 1, 1)
        result = run_suite(
            circuits, chosen_targets, compilers, seed=seed, repeats=repeats, progress=progress
        )
    table = markdown_table(result)
    out.print(table, markup=False, highlight=False, soft_wrap=True)  # rows never wrapped
    if json_path:
        write_json_output(json_path, json.dumps(result, indent=2).encode())
    if markdown:
        write_atomic(markdown, table.encode())
    if plot:
        from qcompile.app.plots import bench_figure, save_figure

        save_figure(bench_figure(result), plot)
        out.print(f"plot: {plot}")
