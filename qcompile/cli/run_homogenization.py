"""``qcompile run homogenization`` (spec 000): collisions, tomography, the table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qcompile.cli.common import (
    Alpha,
    DynamicalDecoupling,
    Eta,
    IdleNoise,
    InputState,
    JsonPath,
    MitigateReadout,
    Mode,
    Reservoir,
    ReservoirState,
    ResilienceLevel,
    Rounds,
    Seed,
    Twirling,
    UseEstimator,
    _backend,
    _check_output_path,
    _fmt,
    _homogenization,
    _progress,
    out,
    run_app,
    write_outputs,
)


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
        str,
        typer.Option(
            help="aer, aer:<fake backend> (device noise), ibm:<device> (IBM Quantum), "
            "ibm:<fake backend> (runtime local mode) or reference."
        ),
    ] = "aer:fake_torino",
    shots: Annotated[
        int | None,
        typer.Option(
            help="Shots per tomography circuit (device default 4000; ideal: exact without)."
        ),
    ] = None,
    mode: Mode = "batch",
    dd: DynamicalDecoupling = None,
    twirling: Twirling = "none",
    idle_noise: IdleNoise = False,
    mitigate_readout: MitigateReadout = False,
    seed: Seed = None,
    json_path: JsonPath = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a PNG plot of fidelity vs k here.")
    ] = None,
    zne: Annotated[
        str | None,
        typer.Option(
            help="Zero-noise extrapolation: odd scale factors, e.g. 1,3,5 (global folding, "
            "Richardson; shots x number of factors). Device-noise backends only; combine with "
            "--mitigate-readout, which ZNE does not replace.",
        ),
    ] = None,
    recoverability: Annotated[
        bool,
        typer.Option(
            "--recoverability",
            help="Also compute how well the input can be recovered from the reservoir (seed "
            "000 Sec. IV): delta_k = ||zeta_k^ - P||_diamond, optimal and Petz recovery "
            "fidelities, the recovery's diamond error; exact for every k, and on circuit "
            "backends with shots measured by process tomography for k <= 4. Needs a pure xi.",
        ),
    ] = False,
    estimator: UseEstimator = False,
    resilience_level: ResilienceLevel = 1,
) -> None:
    """Homogenization (spec 000): system fidelity to xi after k = 0..N collisions."""
    from qcompile.backends import ResultStore
    from qcompile.run.experiment import check_estimator, check_run, run_experiment
    from qcompile.run.recoverability import check_recoverability

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    protocol = _homogenization(alpha, eta, reservoir, rounds, input_state, reservoir_state)
    if recoverability:
        check_recoverability(protocol)
    scales = _scale_factors(zne)
    store = ResultStore()
    chosen = _backend(backend, store, mode, dd, twirling, mitigate_readout, idle_noise)
    check_run(protocol, chosen, shots, seed)
    if estimator:
        check_estimator(chosen, resilience_level, scales, recoverability)
    with _progress() as progress:
        result = run_experiment(protocol, chosen, shots=shots, seed=seed, store=store,
                                progress=progress, recoverability=recoverability,
                                zne=scales, estimator=estimator,
                                resilience_level=resilience_level)  # fmt: skip
    _print_homogenization(result)
    if result.mitigation:
        print_mitigation(result)
    if result.recoverability:
        print_recoverability(result.recoverability)
    write_outputs(result, json_path, plot, store)


def _scale_factors(text: str | None) -> tuple[int, ...] | None:
    """``--zne 1,3,5`` → (1, 3, 5), checked (before any work)."""
    from qcompile.run.zne import check_scale_factors

    return None if text is None else check_scale_factors(text)


def print_mitigation(result) -> None:
    """What was applied, and raw (scale 1) beside mitigated for every observable's last point."""
    mitigation = result.mitigation
    if "estimator" in mitigation:
        used = mitigation["estimator"]
        out.print(f"Estimator ({used['primitive']}), resilience level "
                  f"{used['resilience_level']}: {', '.join(used['techniques']) or 'raw'}; "
                  f"{used['shots_per_basis']} shots per basis")  # fmt: skip
    if "readout" in mitigation:
        out.print("readout mitigation: mthree, per-qubit calibration in the same run")
    if "twirling" in mitigation:
        used = mitigation["twirling"]
        what = [k for k in ("gates", "measurements") if used.get(k)]
        out.print(f"Pauli twirling of {' and '.join(what)} ({used['method']})")
    if "dynamical_decoupling" in mitigation:
        out.print(f"dynamical decoupling {mitigation['dynamical_decoupling']['sequence']}")
    if "idle_noise" in mitigation:
        out.print("idle time modelled: circuits scheduled, T1/T2 relaxation on delays")
    zne = mitigation.get("zne")
    if zne:
        scales = ",".join(map(str, zne["scale_factors"]))
        folding = "global" if "between resets" not in zne.get("folding", "") else "segment"
        out.print(f"ZNE: {folding} folding at scale factors {scales}, Richardson to 0 "
                  f"({zne['shots_overhead']}x the shots); raw = scale 1")  # fmt: skip
        _print_raw(result, zne["raw"], "ZNE")
    readout = mitigation.get("readout", {})
    if readout.get("raw"):
        out.print("readout mitigation: raw = the same shots, not inverted")
        _print_raw(result, readout["raw"], "mitigated" if not zne else "readout + ZNE")


def _print_raw(result, raw: dict, label: str) -> None:
    """Raw beside mitigated (± standard errors, the mitigation's variance included) and
    ideal, for every observable's last point (a circuit protocol's ``device`` block too)."""

    def last(value):
        return value[-1] if isinstance(value, list) else value

    observed = result.observables
    if not any(k in observed for k in raw) and isinstance(observed.get("device"), dict):
        observed = observed["device"]  # (GKP, cat: the few-step device value)
    for key, values in raw.items():
        if key.endswith("_stderr") or f"{key}_stderr" not in raw or key not in observed:
            continue  # (times, and nested blocks, have no error of their own)
        at = "[-1]" if isinstance(values, list) else ""  # a series: its last point
        ideal = result.ideal.get(key)
        out.print(
            f"  {key}{at}: raw {_fmt(last(values), 4)} ± {_fmt(last(raw[key + '_stderr']), 4)}"
            f" -> {label} {_fmt(last(observed[key]), 4)} ± "
            f"{_fmt(last(observed[key + '_stderr']), 4)}"
            + (f" (ideal {_fmt(last(ideal), 4)})" if ideal is not None else "")
        )


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


def print_recoverability(block: dict) -> None:
    """δ_k, the optimal and Petz recovery fidelities, ε_k and its bounds, exact; then the
    same figures measured, where the backend measured them (spec 000 §3)."""
    reference, measured = block["reference"], block.get("measured")
    table = Table(title="recoverability of the input from the reservoir (exact)")
    for column in ("k", "delta", "F opt", "F Petz", "eps", "2sqrt(delta)", "2sqrt2 delta"):
        table.add_column(column, justify="right")
    for i, k in enumerate(reference["k"]):
        keys = ("delta", "recovery_fidelity", "petz_fidelity", "recovery_error", "bound_ksw",
                "bound_paper")  # fmt: skip
        table.add_row(str(k), *(_fmt(reference[key][i]) for key in keys))
    out.print(table)
    out.print(
        "delta = ||zeta^_k - P||_diamond (input -> system vs constant xi); F = max_R F_e(R o "
        "zeta_k) (input -> reservoir, SDP); eps = min_R ||R o zeta_k - id||_diamond"
    )
    if not measured:
        return
    table = Table(title="recoverability measured (process tomography, ± bootstrap)")
    for column in ("k", "delta", "F opt", "F Petz", "eps"):
        table.add_column(column, justify="right")
    for i, k in enumerate(measured["k"]):
        cells = []
        for key in ("delta", "recovery_fidelity", "petz_fidelity"):
            cells.append(f"{_fmt(measured[key][i], 4)} ± {_fmt(measured[key + '_stderr'][i], 4)}")
        table.add_row(str(k), *cells, _fmt(measured["recovery_error"][i], 4))
    out.print(table)
