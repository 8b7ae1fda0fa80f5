"""``qcompile run lindblad``: a user's own open system (a TOML model) through the pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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
    _progress,
    out,
    run_app,
    write_outputs,
)

ModelPath = Annotated[
    Path,
    typer.Option(
        "--model", help="The open system: a TOML model file (format: README, 'Your own model')."
    ),
]
TMax = Annotated[float | None, typer.Option(help="Final time (overrides the model's t_max).")]
Dt = Annotated[float | None, typer.Option(help="Circuit time step (overrides the model's dt).")]
SampleEvery = Annotated[
    float | None, typer.Option(help="Spacing of reported times (a multiple of dt).")
]
Rule = Annotated[
    str | None, typer.Option(help="Coefficient sampling: midpoint | left | end (default midpoint).")
]
Synthesis = Annotated[
    str | None, typer.Option(help="trotter (product formula) | exact (one unitary per step).")
]
Order = Annotated[int | None, typer.Option(help="Product-formula order, 1 or 2 (default 2).")]
Collision = Annotated[
    str | None, typer.Option(help="Jump operators: exact | dilation | channel (default exact).")
]


def lindblad_protocol(model: Path, t_max, dt, sample_every):
    """The validated protocol of a model file, with the command line's overrides."""
    from qcompile.protocols.lindblad import lindblad

    return lindblad(model, t_max=t_max, dt=dt, sample_every=sample_every)


def lowering_overrides(rule, synthesis, order, collision) -> dict:
    return {"rule": rule, "synthesis": synthesis, "order": order, "collision": collision}


@run_app.command("lindblad")
def run_lindblad(
    model: ModelPath,
    t_max: TMax = None,
    dt: Dt = None,
    sample_every: SampleEvery = None,
    rule: Rule = None,
    synthesis: Synthesis = None,
    order: Order = None,
    collision: Collision = None,
    backend: Annotated[
        str,
        typer.Option(
            help="reference, aer (ideal circuit), aer:<fake backend>, ibm:<device> or "
            "ibm:<fake backend> (runtime local mode)."
        ),
    ] = "aer:fake_torino",
    shots: Annotated[
        int | None, typer.Option(help="Shots per tomography setting (device default 4000).")
    ] = None,
    device_every: Annotated[
        int, typer.Option(help="Tomograph every k-th reported time on a device (>= 1).")
    ] = 1,
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
        Path | None, typer.Option(help="Write a PNG plot of the observables here.")
    ] = None,
) -> None:
    """Your own open system of qubits (a TOML model): observables vs time on the backend,
    the ideal circuit and QuTiP's master equation."""
    from qcompile.backends import ResultStore
    from qcompile.protocols.lindblad import run
    from qcompile.run.experiment import check_estimator, check_run

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    protocol = lindblad_protocol(model, t_max, dt, sample_every)
    lowering = lowering_overrides(rule, synthesis, order, collision)
    protocol.lowering_options(lowering)  # validates the options
    store = ResultStore()
    chosen = _backend(backend, store, mode, dd, twirling, mitigate_readout, idle_noise)
    check_run(protocol, chosen, shots, seed)
    if estimator:
        check_estimator(chosen, resilience_level)
    with _progress() as progress:
        result = run(
            protocol,
            chosen,
            lowering=lowering,
            shots=shots,
            seed=seed,
            device_every=device_every,
            estimator=estimator,
            resilience_level=resilience_level,
            store=store,
            progress=progress,
        )
    print_observables(result)
    write_outputs(result, json_path, plot, store)


def print_observables(result) -> None:
    """The model, its lowering and compiled cost, then device vs ideal vs reference."""
    from qcompile.app.compare import compare_run
    from qcompile.cli.compare import print_comparison

    parameters = result.parameters
    lowering = result.circuit.get("lowering", {})
    title = parameters.get("title", "lindblad")
    out.print(
        f"{title}: {parameters.get('qubits')} qubits, t_max = {parameters['t_max']:g}, "
        f"dt = {parameters['dt']:g} on {result.backend}"
        + (f", {result.shots} shots" if result.shots else "")
    )
    if lowering:
        method = lowering.get("method", {})
        out.print(
            f"lowering: {lowering['steps']} steps, {lowering['ancillas']} ancilla(s), "
            f"{lowering['two_qubit_gates']} CX before compiling ("
            + ", ".join(f"{k} {v}" for k, v in method.items())
            + f"); Hamiltonian splitting bound {lowering['error_bound']:.1e}"
        )
    compiled = result.circuit.get("compiled")
    if compiled:
        out.print(
            f"compiled for {compiled['target']}: {compiled['two_qubit_gates']} two-qubit gates, "
            f"depth {compiled['depth']} (largest tomography circuit)"
        )
    print_comparison(result, compare_run(result))
