"""``qcompile run coherent-feedback`` (spec 002): D(t), Fig. 1 table, plateaus."""

from __future__ import annotations

import json
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
    _check_lowering,
    _check_output_path,
    _float_list,
    _fmt,
    _progress,
    out,
    run_app,
)


@run_app.command("coherent-feedback")
def run_coherent_feedback(
    gamma: Annotated[
        str, typer.Option(help="Feedback strength(s) >= 0; a list '0,5,10' sweeps.")
    ] = "5",
    t_max: Annotated[float, typer.Option(help="Final time.")] = 6.0,
    dt: Annotated[float, typer.Option(help="Circuit time step (t_max/dt an integer).")] = 0.01,
    transient_at: Annotated[
        float | None, typer.Option(help="Time of the eq. (84) dephasing kick.")
    ] = None,
    noise: Annotated[str, typer.Option(help="none | persistent (eq. 86).")] = "none",
    initial: Annotated[
        str | None, typer.Option(help="ideal | imperfect (eq. 88; default with persistent noise).")
    ] = None,
    plant_hamiltonian: Annotated[
        str, typer.Option(help="Plant Hamiltonian as a Pauli sum, qubit 1 leftmost.")
    ] = "XX",
    target: Annotated[str, typer.Option(help="Target plant state |phi0> as a bit string.")] = "00",
    sample_every: Annotated[
        float, typer.Option(help="Spacing of reported times (a multiple of dt).")
    ] = 0.1,
    rule: Annotated[
        str, typer.Option(help="Coefficient sampling: rotating | end | midpoint | left.")
    ] = "rotating",
    synthesis: Annotated[
        str, typer.Option(help="exact (one unitary per step) | trotter.")
    ] = "exact",
    order: Annotated[int, typer.Option(help="Product-formula order, 1 or 2.")] = 1,
    collision: Annotated[str, typer.Option(help="exact | dilation | channel.")] = "exact",
    backend: Annotated[
        str,
        typer.Option(
            help="reference, aer (ideal circuit), aer:<fake backend>, ibm:<device> or "
            "ibm:<fake backend> (runtime local mode)."
        ),
    ] = "aer",
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
    device_every: Annotated[
        int, typer.Option(min=1, help="Tomograph every k-th reported time on a device.")
    ] = 5,
    seed: Seed = None,
    json_path: JsonPath = None,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG plot of D(t) here.")] = None,
) -> None:
    """Coherent feedback (spec 002): trace distance D(t) of the plant to its ideal trajectory."""
    from qcompile.backends import ResultStore
    from qcompile.backends.reference import lindblad_reference
    from qcompile.protocols.coherent_feedback import coherent_feedback
    from qcompile.run.experiment import check_estimator, check_run
    from qcompile.run.open_system import run_dynamics

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    gammas = _float_list("gamma", gamma)
    protocols = [
        coherent_feedback(
            gamma=g,
            t_max=t_max,
            dt=dt,
            transient_at=transient_at,
            noise=noise,
            initial=initial,
            plant_hamiltonian=plant_hamiltonian,
            target=target,
            sample_every=sample_every,
        )
        for g in gammas
    ]
    lowering = {"rule": rule, "synthesis": synthesis, "order": order, "collision": collision}
    _check_lowering(lowering)
    store = ResultStore()
    chosen = _backend(backend, store, mode, dd, twirling, mitigate_readout, idle_noise)
    for protocol in protocols:
        check_run(protocol, chosen, shots, seed)
    if estimator:
        check_estimator(chosen, resilience_level)
    results = []
    with _progress() as progress:
        for protocol in protocols:
            results.append(
                run_dynamics(
                    protocol,
                    chosen,
                    lindblad_reference,
                    lowering=lowering,
                    shots=shots,
                    seed=seed,
                    device_every=device_every,
                    estimator=estimator,
                    resilience_level=resilience_level,
                    store=store,
                    progress=progress,
                )
            )
    for protocol, result in zip(protocols, results, strict=True):
        _print_trace_distance(protocol, result)
    if len(results) > 1:
        _print_plateaus(results)
    if json_path:
        from qcompile.results import write_atomic

        if len(results) == 1:
            results[0].write_json(json_path)
        else:
            payload = {"sweep": [r.to_dict() for r in results], "plateau": _plateaus(results)}
            write_atomic(json_path, json.dumps(payload, indent=2).encode())
        out.print(f"results: {json_path}")
    if plot:
        from qcompile.app.plots import save_plot

        save_plot(results[-1], plot)
        out.print(f"plot: {plot}" + (" (last gamma of the sweep)" if len(results) > 1 else ""))
    out.print("stored as run(s) " + ", ".join(r.run_id for r in results) + f" in {store.path}")


def _plateaus(results) -> list[dict]:
    from qcompile.protocols.coherent_feedback import plateau

    rows = []
    for r in results:
        row = {
            "gamma": r.parameters["gamma"],
            "reference": plateau(r.reference["times"], r.reference["trace_distance"]),
        }
        if r.ideal:
            row["ideal"] = plateau(r.ideal["times"], r.ideal["trace_distance"])
        if r.observables and r.shots:
            row["device"] = plateau(r.observables["times"], r.observables["trace_distance"])
        rows.append(row)
    return rows


def _print_plateaus(results) -> None:
    from qcompile.protocols.coherent_feedback import FIG2_PLATEAU

    table = Table(title="plateau: max of D(t) over the last period (limsup, spec 002 §6b)")
    for column in ("gamma", "device", "ideal circuit", "reference", "spec (Fig. 2)"):
        table.add_column(column, justify="right")
    rows = _plateaus(results)
    fig2 = results[0].parameters["noise"] == "persistent" and results[0].parameters["t_max"] >= 30
    for row in rows:
        spec = FIG2_PLATEAU.get(row["gamma"]) if fig2 else None
        table.add_row(
            f"{row['gamma']:g}",
            _fmt(row.get("device"), 4),
            _fmt(row.get("ideal"), 4),
            _fmt(row["reference"], 4),
            _fmt(spec, 4),
        )
    out.print(table)
    for key in ("reference", "ideal"):
        values = [row[key] for row in rows if key in row]
        if len(values) > 1:
            falling = all(b < a for a, b in zip(values, values[1:], strict=False))
            out.print(f"{key}: plateau {'falls' if falling else 'does NOT fall'} as gamma grows")


def _print_trace_distance(protocol, result) -> None:
    import numpy as np

    from qcompile.protocols.coherent_feedback import FIG1_TABLE

    ref, ideal, obs = result.reference, result.ideal, result.observables
    lowering = result.circuit.get("lowering")
    if lowering:
        out.print(
            f"lowered: {lowering['steps']} steps of dt={lowering['dt']:g}, "
            f"{lowering['system_qubits']}+{lowering['ancillas']} qubits, "
            f"~{lowering['two_qubit_gates']} CX, method {lowering['method']}"
        )
    device = {
        t: (v, e)
        for t, v, e in zip(
            obs.get("times", []),
            obs.get("trace_distance", []),
            obs.get("trace_distance_stderr", []),
            strict=False,
        )
    }
    table = Table(title=f"D(t), gamma={protocol.gamma:g}  ({result.backend})")
    for column in ("t", "device", "±", "ideal circuit", "reference"):
        table.add_column(column, justify="right")
    times = ref["times"]
    stride = max(1, len(times) // 25)
    for i, t in enumerate(times):
        if i % stride and i != len(times) - 1 and not (result.shots and t in device):
            continue
        value, error = device.get(t, (None, None))
        if not result.shots and obs:
            value, error = obs["trace_distance"][i], None
        table.add_row(
            f"{t:g}",
            _fmt(value, 6),
            _fmt(error, 4),
            _fmt(ideal["trace_distance"][i], 6) if ideal else "—",
            _fmt(ref["trace_distance"][i], 6),
        )
    out.print(table)
    if ideal:
        gap = float(np.max(np.abs(np.subtract(ideal["trace_distance"], ref["trace_distance"]))))
        out.print(
            f"ideal circuit vs reference: max |dD| = {gap:.2e} over {len(times)} times "
            f"({'within' if gap <= 1e-3 else 'NOT within'} 1e-3)"
        )
    if protocol.is_fig1():
        series = ideal or ref
        lookup = dict(zip(series["times"], series["trace_distance"], strict=True))
        checked = {t: v for t, v in FIG1_TABLE.items() if t in lookup}
        if checked:
            dev = max(abs(lookup[t] - v) for t, v in checked.items())
            which = "ideal circuit" if ideal else "reference"
            out.print(
                f"Fig. 1 table (spec 002 §6a), {len(checked)} times: max |{which} - table| = "
                f"{dev:.2e} ({'reproduced' if dev <= 1e-3 else 'NOT reproduced'} within 1e-3)"
            )
        before = [v for t, v in lookup.items() if t < protocol.transient_at]
        if before:
            out.print(f"Theorem 1: max D(t) before t_a = {max(before):.1e}")
    if protocol.noise == "persistent":
        from qcompile.protocols.coherent_feedback import plateau

        out.print(
            f"plateau (max of D over the last period): reference "
            f"{plateau(ref['times'], ref['trace_distance']):.4f}"
            + (
                f", ideal circuit {plateau(ideal['times'], ideal['trace_distance']):.4f}"
                if ideal
                else ""
            )
        )
