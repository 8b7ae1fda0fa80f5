"""``qcompile run gkp`` (spec 003) and ``run cat`` (spec 004 §2): oscillators, in qubits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qcompile.cli.common import (
    JsonPath,
    MitigateReadout,
    Seed,
    _backend,
    _check_output_path,
    _circuit_only,
    _float_list,
    _fmt,
    _progress,
    out,
    run_app,
)

#: Shots of the few-step device run when ``--shots`` is not given (circuit backends only).
DEVICE_SHOTS = 4000

DeviceZne = Annotated[
    str | None,
    typer.Option(
        "--zne",
        help="Circuits on device noise: zero-noise extrapolation of the few-step device value, "
        "odd scale factors e.g. 1,3,5 (each stretch between resets folded, Richardson).",
    ),
]


def _raw_text(result, key: str) -> str:
    """`` (raw x ± e; readout, zne)`` when the device value was mitigated, else empty."""
    used = result.mitigation or {}
    block = used.get("readout") or used.get("zne")
    if not block:
        return ""
    raw = block["raw"]
    applied = ", ".join(k for k in ("readout", "zne") if k in used)
    return f" (raw {raw[key]:.3f} ± {raw[key + '_stderr']:.3f}; mitigated: {applied})"


@run_app.command("gkp")
def run_gkp_command(
    lattice: Annotated[str, typer.Option(help="square | hexagonal.")] = "square",
    epsilon: Annotated[float, typer.Option(help="Energy regularisation epsilon.")] = 0.1,
    noise: Annotated[
        str, typer.Option(help="none | quadrature | loss | detuning | kerr | dephasing.")
    ] = "none",
    sigma: Annotated[
        str, typer.Option(help="Noise strength sigma >= 0, or a list '0.003,0.01,0.03'.")
    ] = "0",
    cutoff: Annotated[
        int | None,
        typer.Option(help="Fock cutoff of the Lindblad simulation (default max(60, 6/epsilon))."),
    ] = None,
    kappa: Annotated[int, typer.Option(help="[q, p] = i kappa: 1 or 2.")] = 1,
    prefactor: Annotated[float, typer.Option(help="BCH prefactor A (spec 003 §2).")] = 1.0,
    backend: Annotated[
        str, typer.Option(help="reference (Lindblad) | aer | aer:<fake> (compiled grid step).")
    ] = "reference",
    grid_qubits: Annotated[
        int | None, typer.Option(help="Circuits: position-grid qubits m (2^m points; 6).")
    ] = None,
    dt: Annotated[
        float | None, typer.Option(help="Circuits: collision step (default: dt·|L|^2 = 0.2).")
    ] = None,
    shots: Annotated[
        int | None, typer.Option(help="Circuits: shots of the few-step device run (4000).")
    ] = None,
    seed: Seed = None,
    json_path: JsonPath = None,
    plot: Annotated[
        Path | None, typer.Option(help="PNG: logical rate vs sigma (Fig. 1), exact lines.")
    ] = None,
    mitigate_readout: MitigateReadout = False,
    zne: DeviceZne = None,
) -> None:
    """GKP qubit protected by dissipation (spec 003): exact torus rate vs truncated Lindblad,
    or vs the compiled collision step on the position grid (--backend aer)."""
    from qcompile.backends import ResultStore
    from qcompile.protocols.gkp import gkp
    from qcompile.run.bosonic import run_gkp
    from qcompile.run.zne import check_zne

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    protocols = [
        gkp(lattice=lattice, epsilon=epsilon, noise=noise, sigma=s, cutoff=cutoff, kappa=kappa,
            prefactor=prefactor)
        for s in _float_list("sigma", sigma)
    ]  # fmt: skip
    store = ResultStore()
    chosen = _backend(backend, store, "batch", None, "none", mitigate_readout)
    circuits = chosen.runs_circuits
    _circuit_only(circuits, grid_qubits=grid_qubits, dt=dt, shots=shots, zne=zne)
    grid_qubits = 6 if grid_qubits is None else grid_qubits
    shots = DEVICE_SHOTS if shots is None else shots
    options = {"grid_qubits": grid_qubits, "dt": dt} if circuits else {}
    if zne is not None:
        options["zne"] = check_zne(zne, chosen)
    results = []
    with _progress() as progress:
        for protocol in protocols:
            results.append(run_gkp(protocol, chosen, seed=seed, store=store, progress=progress,
                                   shots=shots if circuits else None, **options))  # fmt: skip
    theorem = "3" if lattice == "square" else "5"
    where = (
        f"grid m = {grid_qubits} on {chosen.name}" if circuits else f"cutoff {protocols[0].cutoff}"
    )
    table = Table(
        title=f"GKP {lattice}, epsilon = {epsilon:g}, noise {noise}: logical rate (units of Gamma)"
    )
    columns = ["sigma", f"exact (torus, Thm {theorem})", "asymptotic"]
    columns += (["compiled step (Kraus)", "grid Lindblad", "step error", "2q gates/step"]
                if circuits else [f"Lindblad, {where}", "bias"])  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    for r in results:
        ref, obs = r.reference, r.observables
        row = [f"{r.parameters['sigma']:g}", _fmt(ref["torus_rate"], 6),
               _fmt(ref["asymptotic_rate"], 6), f"{obs['rate']:.6f}"]  # fmt: skip
        if circuits:
            row += [f"{r.ideal['rate']:.6f}", f"{obs['step_error']:.2e}",
                    str(r.circuit["two_qubit_gates"])]  # fmt: skip
        else:
            row.append(_fmt(obs.get("truncation_bias"), 4))
        table.add_row(*row)
    out.print(table)
    if circuits:
        c = results[0].circuit
        out.print(
            f"grid: {c['grid_qubits']} qubits + 1 ancilla, dq = {c['spacing']:.4f}, |q|,|p| <= "
            f"{c['window']:.2f} (vacuum outside: {c['truncation_error_vacuum']:.1e}); dt = "
            f"{c['dt']:g} (dt·max|L|^2 = {c['dt_norm']:.2f}); one step on {c['target']}: "
            f"{c['two_qubit_gates']} two-qubit gates, depth {c['depth']}"
        )
        dev = results[0].observables["device"]
        out.print(
            f"{dev['steps']} compiled steps from the vacuum with shots on {chosen.name}: <Z> = "
            f"{dev['z']:.3f} ± {dev['z_stderr']:.3f}{_raw_text(results[0], 'z')} (Kraus "
            f"iteration: {results[0].ideal['z_after_steps']:.3f})"
        )
    if noise not in ("none", "quadrature"):
        out.print("(no torus closure for this noise: the exact line is the noiseless rate)")
    if json_path:
        from qcompile.results import write_atomic

        if len(results) == 1:
            results[0].write_json(json_path)
        else:
            payload = {"sweep": [r.to_dict() for r in results]}
            write_atomic(json_path, json.dumps(payload, indent=2).encode())
        out.print(f"results: {json_path}")
    if plot:
        from qcompile.app.plots import gkp_figure, save_figure

        save_figure(gkp_figure(results), plot)
        out.print(f"plot: {plot}")
    out.print("stored as run(s) " + ", ".join(r.run_id for r in results) + f" in {store.path}")


@run_app.command("cat")
def run_cat_command(
    photons: Annotated[float, typer.Option(help="N = lambda/kappa2 (|alpha|^2 = 2N).")] = 1.0,
    kappa2: Annotated[float, typer.Option(help="Two-photon loss kappa2 > 0.")] = 1.0,
    kappa1: Annotated[float, typer.Option(help="Single-photon loss (bit flips).")] = 0.01,
    kappa_d: Annotated[float, typer.Option(help="Dephasing (phase flips).")] = 0.1,
    cutoff: Annotated[int, typer.Option(help="Fock cutoff.")] = 40,
    backend: Annotated[
        str, typer.Option(help="reference | aer | aer:<fake> (compiled Fock-binary step).")
    ] = "reference",
    dt: Annotated[
        float | None, typer.Option(help="Circuits: collision step (default: dt·|L|^2 = 0.2).")
    ] = None,
    shots: Annotated[
        int | None, typer.Option(help="Circuits: shots of the few-step device run (4000).")
    ] = None,
    seed: Seed = None,
    json_path: JsonPath = None,
    mitigate_readout: MitigateReadout = False,
    zne: DeviceZne = None,
) -> None:
    """Cat qubit (spec 004 §2): steady amplitude, bit-flip and phase-flip rates, from the
    Lindbladian or from the compiled Fock-binary collision step (--backend aer)."""
    from qcompile.backends import ResultStore
    from qcompile.protocols.cat import cat
    from qcompile.run.bosonic import run_cat
    from qcompile.run.zne import check_zne

    _check_output_path("json", json_path)
    protocol = cat(photons=photons, kappa2=kappa2, kappa1=kappa1, kappa_d=kappa_d, cutoff=cutoff)
    store = ResultStore()
    chosen = _backend(backend, store, "batch", None, "none", mitigate_readout)
    circuits = chosen.runs_circuits
    _circuit_only(circuits, dt=dt, shots=shots, zne=zne)
    shots = DEVICE_SHOTS if shots is None else shots
    options = {"dt": dt, "shots": shots} if circuits else {}
    if zne is not None:
        options["zne"] = check_zne(zne, chosen)
    with _progress() as progress:
        result = run_cat(
            protocol, chosen, seed=seed, store=store, progress=progress, **options
        )  # fmt: skip
    obs, ref = result.observables, result.reference
    table = Table(title=f"cat qubit, N = {photons:g} (|alpha|^2 = {2 * photons:g})")
    if circuits:
        for column in (
            "quantity",
            "compiled step (Kraus)",
            "Fock-binary Lindblad",
            "2 kappa1 |alpha|^2",
        ):
            table.add_column(column, justify="right")
        table.add_row(
            "bit-flip (parity) rate",
            _fmt(obs["bit_flip_rate"], 5),
            _fmt(result.ideal["bit_flip_rate"], 5),
            _fmt(ref["bit_flip_rate"], 5),
        )
        table.add_row("phase-flip rate (kappa1 = 0)", _fmt(obs["phase_flip_rate"], 6), "—", "—")
        table.add_row("one-step error", f"{obs['step_error']:.2e}", "—", "—")
        table.add_row("2q gates per step", str(result.circuit["two_qubit_gates"]), "—", "—")
        dev = obs["device"]
        table.add_row(f"parity after {dev['steps']} steps (shots)",
                      f"{dev['parity']:.3f} ± {dev['parity_stderr']:.3f}"
                      + _raw_text(result, "parity"),
                      f"{result.ideal['parity_after_steps']:.3f}", "—")  # fmt: skip
    else:
        for column in ("quantity", "computed", "expected"):
            table.add_column(column, justify="right")
        table.add_row("<n> (from vacuum, no errors)", f"{obs['n']:.5f}", f"{ref['n']:.5f}")
        table.add_row("<a^2>", f"{obs['a2'][0]:+.5f}{obs['a2'][1]:+.5f}i", f"{ref['a2'][1]:+.5f}i")
        table.add_row(
            "bit-flip (parity) rate", _fmt(obs["bit_flip_rate"], 5), _fmt(ref["bit_flip_rate"], 5)
        )
        table.add_row("phase-flip rate (kappa1 = 0)", _fmt(obs["phase_flip_rate"], 6), "—")
    out.print(table)
    if json_path:
        result.write_json(json_path)
        out.print(f"results: {json_path}")
    out.print(f"stored as run {result.run_id} in {store.path}")
