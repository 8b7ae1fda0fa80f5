"""``qcompile run dissipative-qubits`` (spec 001): encodings ranked on reference and device."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qcompile.cli.common import (
    DynamicalDecoupling,
    IdleNoise,
    JsonPath,
    MitigateReadout,
    Mode,
    ResilienceLevel,
    Seed,
    Twirling,
    UseEstimator,
    _backend,
    _check_output_path,
    _fmt,
    _progress,
    out,
    run_app,
    write_outputs,
)
from qcompile.errors import InvalidParameter


@run_app.command("dissipative-qubits")
def run_dissipative_qubits(
    encoding: Annotated[
        list[str] | None,
        typer.Option(
            "--encoding",
            "--encodings",
            help="Encoding (repeatable): af, physical, symm[:a1_sq,b1_sq], nsymm[:c_af_sq], "
            "custom:<4 amplitudes>/<4 amplitudes>. Default: af, symm, nsymm, physical.",
        ),
    ] = None,
    coupling: Annotated[
        float, typer.Option("--J", help="Ising coupling J (units of Delta).")
    ] = 2.0,
    alpha: Annotated[float, typer.Option(help="Ohmic coupling alpha >= 0.")] = 0.05,
    omega_c: Annotated[
        str, typer.Option(help="Bath cutoff omega_c > 0, or inf (the paper's Lindblad limit).")
    ] = "inf",
    cutoff: Annotated[str, typer.Option(help="exponential | hard.")] = "exponential",
    t_max: Annotated[float, typer.Option(help="Final time (units of 1/Delta).")] = 60.0,
    dt: Annotated[float, typer.Option(help="Reference time step.")] = 0.1,
    solver: Annotated[str, typer.Option(help="Reference: lindblad | heom.")] = "lindblad",
    heom_depth: Annotated[
        int | None, typer.Option(help="HEOM hierarchy depth (3); --solver heom only.")
    ] = None,
    heom_exponents: Annotated[
        int | None, typer.Option(help="HEOM: prony terms Nr (2 Nr exponents; 6).")
    ] = None,
    heom_fit_window: Annotated[
        float | None, typer.Option(help="HEOM: correlation-function fit window [0, T] (15).")
    ] = None,
    collisions: Annotated[
        int | None,
        typer.Option(help="Bath collisions in the circuits (each exact); default 12."),
    ] = None,
    device_every: Annotated[
        int, typer.Option(min=1, help="Tomograph every k-th collision on a device.")
    ] = 3,
    squared: Annotated[
        bool,
        typer.Option(
            "--squared/--unsquared", help="Squared Uhlmann fidelity, or Nielsen-Chuang's."
        ),
    ] = True,
    delta: Annotated[float, typer.Option(help="Tunnelling Delta > 0 (the energy unit).")] = 1.0,
    backend: Annotated[
        str, typer.Option(help="reference, aer, aer:<fake backend>, ibm:<device>.")
    ] = "aer:fake_torino",
    shots: Annotated[
        int | None, typer.Option(help="Shots per tomography setting (device default 4000).")
    ] = None,
    mode: Mode = "batch",
    dd: DynamicalDecoupling = None,
    twirling: Twirling = "none",
    idle_noise: IdleNoise = False,
    mitigate_readout: MitigateReadout = False,
    estimator: UseEstimator = False,
    resilience_level: ResilienceLevel = 1,
    seed: Seed = None,
    json_path: JsonPath = None,
    plot: Annotated[
        Path | None, typer.Option(help="PNG of fidelity, leakage and purity vs t.")
    ] = None,
) -> None:
    """Two dissipative qubits (spec 001): which encoding protects a logical qubit best."""
    from qcompile.backends import ResultStore
    from qcompile.backends.heom import HEOMSettings, check_heom_memory
    from qcompile.backends.propagators import SOLVERS, reference_propagators
    from qcompile.protocols.dissipative_qubits import dissipative_qubits
    from qcompile.run.encodings import DEFAULT_COLLISIONS, run_encodings
    from qcompile.run.experiment import check_estimator, check_run

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    protocol = dissipative_qubits(
        J=coupling,
        alpha=alpha,
        omega_c=omega_c,
        cutoff=cutoff,
        delta=delta,
        t_max=t_max,
        dt=dt,
        encodings=encoding or "af,symm,nsymm,physical",
        squared=squared,
    )
    if solver not in SOLVERS:
        raise InvalidParameter("solver", solver, "one of " + ", ".join(SOLVERS))
    heom = None
    given = {"heom_depth": heom_depth, "heom_exponents": heom_exponents,
             "heom_fit_window": heom_fit_window}  # fmt: skip
    if solver != "heom":  # never ignored silently
        for name, value in given.items():
            if value is not None:
                raise InvalidParameter(name, value, "only with --solver heom")
    if solver == "heom":
        settings = HEOMSettings(
            **{key.removeprefix("heom_"): v for key, v in given.items() if v is not None}
        )
        check_heom_memory(settings, 4)
        heom = settings.__dict__.copy()
        if not math.isfinite(protocol.omega_c):
            raise InvalidParameter("omega_c", omega_c, "a finite cutoff with --solver heom")
    store = ResultStore()
    chosen = _backend(backend, store, mode, dd, twirling, mitigate_readout, idle_noise)
    check_run(protocol, chosen, shots, seed)
    if estimator:
        check_estimator(chosen, resilience_level)
    if collisions is not None and not chosen.runs_circuits:
        raise InvalidParameter("collisions", collisions, "only with a circuit backend "
                               "(aer, aer:<fake>, ibm:<device>)")  # fmt: skip
    with _progress() as progress:
        result = run_encodings(
            protocol,
            chosen,
            reference_propagators,
            solver=solver,
            heom=heom,
            collisions=DEFAULT_COLLISIONS if collisions is None else collisions,
            device_every=device_every,
            estimator=estimator,
            resilience_level=resilience_level,
            shots=shots,
            seed=seed,
            store=store,
            progress=progress,
        )
    _print_encodings(result)
    write_outputs(result, json_path, plot, store)


def _print_encodings(result) -> None:
    import numpy as np

    from qcompile.run.encodings import rank_encodings

    ref, ideal, obs = result.reference, result.ideal, result.observables
    info = result.circuit
    if info:
        out.print(
            f"circuits: {info['collisions']} exact collisions of dt = {info['collision_dt']:g} "
            f"on {info['qubits']} qubits ({info['lowering']})"
            + (
                f"; compiled for {info['compiled']['target']}: "
                f"{info['compiled']['two_qubit_gates']} two-qubit gates in the longest"
                if "compiled" in info
                else ""
            )
        )
    names = [k for k, v in ref.items() if isinstance(v, dict) and "fidelity" in v]
    late = lambda block, name, key: (  # noqa: E731
        float(
            np.mean(
                np.asarray(block[name][key])[
                    np.asarray(block["times"]) >= block["times"][-1] * 2 / 3
                ]
            )
        )
        if block and name in block and key in block[name]
        else None
    )
    table = Table(title=f"late-time means (last third), reference: {ref.get('solver')}")
    for column in ("encoding", "<F> reference", "ideal circuit", "device", "±",
                   "purity (ref)", "leakage (ref)"):  # fmt: skip
        table.add_column(column, justify="right")
    for name in names:
        error = late(obs, name, "fidelity_stderr") if result.shots else None
        table.add_row(
            name,
            _fmt(late(ref, name, "fidelity"), 4),
            _fmt(late(ideal, name, "fidelity"), 4),
            _fmt(late(obs, name, "fidelity"), 4) if result.shots else "—",
            _fmt(error, 4),
            _fmt(late(ref, name, "purity"), 4),
            _fmt(late(ref, name, "leakage"), 4),
        )
    out.print(table)
    for label, block in (
        ("reference", ref),
        (f"device ({result.backend})", obs if result.shots else None),
    ):
        if not block:
            continue
        ranking = rank_encodings(block)
        scores = dict(ranking)
        text = " > ".join(f"{n} ({s:.3f})" for n, s in ranking)
        out.print(f"ranking on {label}: {text}")
        if "physical" in scores:
            beaten = [n for n, s in ranking if n != "physical" and s > scores["physical"]]
            out.print(f"  encodings that beat the physical qubit: {', '.join(beaten) or 'none'}")
