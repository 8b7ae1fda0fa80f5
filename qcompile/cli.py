"""The ``qcompile`` command: list protocols, compile them, run them, look at stored runs.

Every failure the user can fix is one line on stderr naming the parameter, exit code 2.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qcompile.errors import InvalidParameter, QCompileError

app = typer.Typer(
    help="Compile open-system protocols to hardware gates, run them, check them against "
    "references.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
run_app = typer.Typer(
    help="Compile and run a protocol; compare device, ideal and reference.", no_args_is_help=True
)
compile_app = typer.Typer(
    help="Compile a protocol for a target and print the compile report.", no_args_is_help=True
)
runs_app = typer.Typer(help="Runs kept in the results store.", no_args_is_help=True)
app.add_typer(run_app, name="run")
app.add_typer(compile_app, name="compile")
app.add_typer(runs_app, name="runs")

out = Console()
err = Console(stderr=True)

# -- shared options --------------------------------------------------------------------------
Alpha = Annotated[float | None, typer.Option(help="(SWAP)^alpha exponent; give --alpha or --eta.")]
Eta = Annotated[float | None, typer.Option(help="Partial-swap angle eta (alpha = -2 eta/pi).")]
Reservoir = Annotated[int, typer.Option(help="Reservoir qubits N (>= 1).")]
Rounds = Annotated[int, typer.Option(help="Sweeps over the reservoir (>= 1).")]
InputState = Annotated[
    str, typer.Option(help="Initial system state: 0 1 + - +i -i, x,y,z or polar:theta,phi[,r].")
]
ReservoirState = Annotated[
    str, typer.Option(help="Reservoir state xi, same forms as --input-state.")
]
Seed = Annotated[
    int | None, typer.Option(help="Seed for layout, simulation and bootstrap (recorded).")
]
JsonPath = Annotated[
    Path | None, typer.Option("--json", help="Write machine-readable results here.")
]


def _check_output_path(name: str, path: Path | None) -> None:
    """Refuse an output path before any work is done, so nothing is lost at the end."""
    if path is None:
        return
    parent = path.expanduser().resolve().parent
    if not parent.is_dir():
        raise InvalidParameter(
            name, str(path), f"a file in an existing directory ({parent} does not exist)"
        )
    if path.is_dir():
        raise InvalidParameter(name, str(path), "a file path, not a directory")


def _homogenization(alpha, eta, reservoir, rounds, input_state, reservoir_state):
    from qcompile.protocols import homogenization

    return homogenization(
        alpha=alpha,
        eta=eta,
        reservoir=reservoir,
        rounds=rounds,
        input_state=input_state,
        reservoir_state=reservoir_state,
    )


def _fmt(value, digits: int = 6) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


# -- protocols -------------------------------------------------------------------------------
@app.command("protocols")
def protocols_command(json_path: JsonPath = None) -> None:
    """List protocols with their parameters and allowed ranges."""
    from qcompile.protocols import PROTOCOLS

    _check_output_path("json", json_path)
    listing = {}
    for name, module in PROTOCOLS.items():
        table = Table(title=f"{name} — {module.SUMMARY}", title_justify="left")
        for column in ("parameter", "type", "default", "allowed"):
            table.add_column(column)
        for p in module.PARAMETERS:
            table.add_row(
                "--" + p.name.replace("_", "-"),
                p.kind,
                "—" if p.default is None else str(p.default),
                p.allowed,
            )
        out.print(table)
        listing[name] = {
            "summary": module.SUMMARY,
            "parameters": [p.__dict__ for p in module.PARAMETERS],
        }
    if json_path:
        from qcompile.results import write_atomic

        write_atomic(json_path, json.dumps(listing, indent=2).encode())


# -- run -------------------------------------------------------------------------------------
@run_app.command("homogenization")
def run_homogenization(
    alpha: Alpha = None,
    eta: Eta = None,
    reservoir: Reservoir = 4,
    rounds: Rounds = 1,
    input_state: InputState = "0",
    reservoir_state: ReservoirState = "+",
    backend: Annotated[
        str, typer.Option(help="aer, aer:<fake backend> (device noise) or reference.")
    ] = "aer:fake_torino",
    shots: Annotated[
        int | None,
        typer.Option(
            help="Shots per tomography circuit (device default 4000; ideal: exact without)."
        ),
    ] = None,
    seed: Seed = None,
    json_path: JsonPath = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a PNG plot of fidelity vs k here.")
    ] = None,
) -> None:
    """Homogenization (spec 000): system fidelity to xi after k = 0..N collisions."""
    from backends import ResultStore, get_backend
    from qcompile.experiment import check_run, run_experiment

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    protocol = _homogenization(alpha, eta, reservoir, rounds, input_state, reservoir_state)
    chosen = get_backend(backend)
    check_run(protocol, chosen, shots, seed)
    store = ResultStore()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    ) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

        result = run_experiment(
            protocol, chosen, shots=shots, seed=seed, store=store, progress=progress
        )
    _print_homogenization(result)
    if json_path:
        result.write_json(json_path)
        out.print(f"results: {json_path}")
    if plot:
        from qcompile.plots import save_plot

        save_plot(result, plot)
        out.print(f"plot: {plot}")
    out.print(f"stored as run {result.run_id} in {store.path}")


def _print_homogenization(result) -> None:
    obs, ideal, ref = result.observables, result.ideal, result.reference
    p = result.parameters
    device_label = result.backend + (f" ({result.shots} shots)" if result.shots else " (exact)")
    info = result.circuit
    if info:
        out.print(
            f"circuit on {info['target']}: {info['num_qubits']} qubits, "
            f"{info['two_qubit_gates']} two-qubit gates, depth {info['depth']}"
        )
    table = Table(
        title=f"F(rho_S^(k), xi)   alpha={p['alpha']:.6g}  eta={p['eta']:.6g}  "
        f"N={p['reservoir']}  rounds={p['rounds']}"
    )
    for column in ("k", device_label, "±", "ideal", "reference"):
        table.add_column(column, justify="right")
    for k, reference in enumerate(ref["system_fidelity"]):
        table.add_row(
            str(k),
            _fmt(obs["system_fidelity"][k]) if obs else "—",
            _fmt(obs["system_fidelity_stderr"][k], 4) if obs else "—",
            _fmt(ideal["system_fidelity"][k]) if ideal else "—",
            _fmt(reference),
        )
    out.print(table)
    table = Table(title="F(rho_Rj, xi) at the end")
    for column in ("j", device_label, "±", "ideal", "reference"):
        table.add_column(column, justify="right")
    for j, reference in enumerate(ref["reservoir_fidelity"]):
        table.add_row(
            str(j + 1),
            _fmt(obs["reservoir_fidelity"][j]) if obs else "—",
            _fmt(obs["reservoir_fidelity_stderr"][j], 4) if obs else "—",
            _fmt(ideal["reservoir_fidelity"][j]) if ideal else "—",
            _fmt(reference),
        )
    out.print(table)


# -- compile ---------------------------------------------------------------------------------
@compile_app.command("homogenization")
def compile_homogenization(
    alpha: Alpha = None,
    eta: Eta = None,
    reservoir: Reservoir = 4,
    rounds: Rounds = 1,
    input_state: InputState = "0",
    reservoir_state: ReservoirState = "+",
    target: Annotated[
        str, typer.Option(help="A fake IBM backend (fake_torino, ...) or all_to_all_cx.")
    ] = "fake_torino",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the compiled circuit as QPY.")
    ] = None,
    seed: Seed = 0,
    json_path: JsonPath = None,
) -> None:
    """Compile the homogenization circuit and print the compile report."""
    from qiskit import qpy

    from qcompile.compile import compile_protocol
    from qcompile.results import write_atomic
    from qcompile.targets import GENERIC_TARGETS, fake_backend

    _check_output_path("output", output)
    _check_output_path("json", json_path)
    protocol = _homogenization(alpha, eta, reservoir, rounds, input_state, reservoir_state)
    resolved = None if target in GENERIC_TARGETS else fake_backend(target)
    if resolved is not None:
        protocol.check_fits(resolved.num_qubits, f"{target} ({resolved.num_qubits} qubits)")
    circuit, report = compile_protocol(protocol, resolved, seed=seed)
    table = Table(title=f"compile report: homogenization on {report.target}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in report.to_dict().items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    out.print(table)
    if output:
        import io

        buffer = io.BytesIO()
        qpy.dump(circuit, buffer)
        write_atomic(output, buffer.getvalue())
        out.print(f"circuit: {output}")
    if json_path:
        payload = {
            "protocol": protocol.name,
            "parameters": protocol.parameters(),
            "seed": seed,
            "circuit": report.to_dict(),
            "compile_time_s": report.compile_time_s,
        }
        write_atomic(json_path, json.dumps(payload, indent=2).encode())


# -- runs ------------------------------------------------------------------------------------
@runs_app.command("list")
def runs_list(
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
) -> None:
    """List stored runs, newest first."""
    from backends import ResultStore

    store = ResultStore()
    table = Table(title=f"runs in {store.path}")
    for column in ("id", "created", "protocol", "backend", "status"):
        table.add_column(column)
    for row in store.list_runs(limit):
        table.add_row(
            row["id"], row["created"][:19], row["protocol"], row["backend"], row["status"]
        )
    out.print(table)


@runs_app.command("show")
def runs_show(run_id: str) -> None:
    """Print a stored run as JSON."""
    from backends import ResultStore

    row = ResultStore().get_run(run_id)
    if row["result"] is not None:
        print(row["result"].to_json())
    else:
        print(json.dumps({k: v for k, v in row.items() if k != "result"}, indent=2))


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; a :class:`QCompileError` becomes one line and exit code 2."""
    try:
        app(args=argv, prog_name="qcompile")
    except InvalidParameter as exc:
        print(f"qcompile: error: {exc.as_flag()}", file=sys.stderr)
        sys.exit(2)
    except QCompileError as exc:
        print(f"qcompile: error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
