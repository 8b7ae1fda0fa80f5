"""``qcompile run ising-memory`` and ``run photonic-ising-toy`` (spec 004)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qcompile.cli.common import (
    JsonPath,
    MitigateReadout,
    ResilienceLevel,
    Seed,
    UseEstimator,
    _backend,
    _check_output_path,
    _float_list,
    _fmt,
    _progress,
    out,
    run_app,
)


@run_app.command("ising-memory")
def run_ising_memory_command(
    size: Annotated[str, typer.Option(help="Lattice size M (2..64), or a list '3,5,7'.")] = "3",
    delta: Annotated[
        str, typer.Option(help="Bit-flip rate Delta > 0 (units of kappa), or a list.")
    ] = "0.02",
    kappa: Annotated[float, typer.Option(help="Correction rate kappa > 0.")] = 1.0,
    time: Annotated[float, typer.Option("--time", help="Memory time T.")] = 800.0,
    trajectories: Annotated[
        int, typer.Option(help="Exact trajectories (reference backend).")
    ] = 100_000,
    dt: Annotated[float, typer.Option(help="Collision step of the circuits.")] = 0.5,
    backend: Annotated[
        str,
        typer.Option(
            help="reference (exact trajectories) or a circuit backend: aer, aer:<fake backend>."
        ),
    ] = "reference",
    shots: Annotated[int | None, typer.Option(help="Circuit shots (default 4000).")] = None,
    seed: Seed = None,
    json_path: JsonPath = None,
    plot: Annotated[
        Path | None, typer.Option(help="PNG: success vs M and 1 - success on a log scale.")
    ] = None,
    mitigate_readout: MitigateReadout = False,
    zne: Annotated[
        str | None,
        typer.Option(
            help="Zero-noise extrapolation of the decoded success: odd scale factors, e.g. "
            "1,3,5 (each stretch between the ancilla's resets folded, Richardson; shots x "
            "number of factors). Device-noise backends only.",
        ),
    ] = None,
    estimator: UseEstimator = False,
    resilience_level: ResilienceLevel = 1,
) -> None:
    """The dissipative 2D Ising memory (spec 004): decoded success from |0> after time T."""
    from qcompile.backends import ResultStore
    from qcompile.protocols.ising_memory import BETA_C, ising_memory
    from qcompile.run.ising_memory import check_mitigation, exponential_fit, run_ising_memory

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    sizes = [int(v) if float(v).is_integer() else v for v in _float_list("size", size)]
    deltas = _float_list("delta", delta)
    points = [
        ising_memory(size=m, delta=d, kappa=kappa, time=time, trajectories=trajectories, dt=dt)
        for d in deltas
        for m in sizes
    ]
    store = ResultStore()
    chosen = _backend(backend, store, "batch", None, "none", mitigate_readout)
    for protocol in points:
        if chosen.runs_circuits:
            protocol.check_fits(chosen.num_qubits, chosen.capacity)
    check_mitigation(chosen, zne, estimator, resilience_level)
    results = []
    with _progress() as progress:
        for protocol in points:
            results.append(
                run_ising_memory(
                    protocol,
                    chosen,
                    shots=shots,
                    seed=seed,
                    store=store,
                    progress=progress,
                    zne=zne,
                    estimator=estimator,
                    resilience_level=resilience_level,
                )
            )
    table = Table(title=f"decoded success from |0bar>, T = {time:g}/kappa ({chosen.name})")
    for column in ("M", "Delta", "beta", "phase", "success", "±", "ideal circuit", "exact ME"):
        table.add_column(column, justify="right")
    for r in results:
        obs, ref = r.observables, r.reference
        table.add_row(
            str(r.parameters["size"]),
            f"{r.parameters['delta']:g}",
            f"{ref['beta']:.4f}",
            "ordered" if ref["beta"] > ref["beta_c"] else "disordered",
            _fmt(obs.get("success_probability"), 6),
            _fmt(obs.get("success_probability_stderr"), 6),
            _fmt(r.ideal.get("success_probability"), 6),
            _fmt(ref.get("success_probability"), 6),
        )
    out.print(table)
    for r in results:
        if r.mitigation:
            _print_mitigation(r)
    fits = {}
    for d in deltas:
        chosen_points = [r for r in results if r.parameters["delta"] == d]
        ordered = chosen_points and chosen_points[0].reference["beta"] > BETA_C
        if not ordered and len(chosen_points) >= 2:
            values = [r.observables["success_probability"] for r in chosen_points]
            out.print(
                f"Delta = {d:g} (disordered): success {min(values):.4f}..{max(values):.4f}, "
                "pinned at 1/2: only the parity survives"
            )
        if ordered and len(chosen_points) >= 2:
            fit = exponential_fit(
                [r.parameters["size"] for r in chosen_points],
                [1 - r.observables["success_probability"] for r in chosen_points],
                [r.observables["success_probability_stderr"] for r in chosen_points],
            )
            if fit:
                fits[str(d)] = fit
                out.print(
                    f"Delta = {d:g} (ordered): ln(1 - p) = {fit['a']:.2f} - {fit['gamma']:.3f} M "
                    f"({fit['points']} sizes with failures): 1 - p falls exponentially in M"
                )
    if json_path:
        from qcompile.results import write_atomic

        if len(results) == 1:
            results[0].write_json(json_path)
        else:
            payload = {"sweep": [r.to_dict() for r in results], "fits": fits}
            write_atomic(json_path, json.dumps(payload, indent=2).encode())
        out.print(f"results: {json_path}")
    if plot:
        from qcompile.app.plots import ising_figure, save_figure

        save_figure(ising_figure(results), plot)
        out.print(f"plot: {plot}")
    out.print("stored as run(s) " + ", ".join(r.run_id for r in results) + f" in {store.path}")


def _print_mitigation(result) -> None:
    """What was applied to one point, and its raw (scale 1) success beside the mitigated."""
    used = result.mitigation
    label = f"M = {result.parameters['size']}, Delta = {result.parameters['delta']:g}"
    parts = []
    if "readout" in used:
        parts.append("readout mitigation (mthree)")
    if "estimator" in used:
        e = used["estimator"]
        parts.append(f"Estimator level {e['resilience_level']}: "
                     f"{', '.join(e['techniques']) or 'raw'}")  # fmt: skip
    if "zne" in used:
        z = used["zne"]
        raw = z["raw"]
        parts.append(
            f"ZNE at {','.join(map(str, z['scale_factors']))} "
            f"({z['shots_overhead']}x the shots): raw {raw['success_probability']:.4f} ± "
            f"{raw['success_probability_stderr']:.4f} -> "
            f"{result.observables['success_probability']:.4f} ± "
            f"{result.observables['success_probability_stderr']:.4f}"
        )
    out.print(f"{label}: " + "; ".join(parts))


@run_app.command("photonic-ising-toy")
def run_photonic_ising_toy(
    photons: Annotated[float, typer.Option(help="N = lambda/kappa2 (|alpha|^2 = 2N).")] = 1.0,
    kappa2: Annotated[float, typer.Option(help="Two-photon loss kappa2 > 0.")] = 1.0,
    kappa1: Annotated[float, typer.Option(help="Single-photon loss (with a spin flip).")] = 0.02,
    kappa_d: Annotated[float, typer.Option(help="Dephasing kappa_d >= 0.")] = 0.02,
    kappa_nn: Annotated[float, typer.Option(help="Parity-correcting rate kappa_nn >= 0.")] = 1.0,
    time: Annotated[float, typer.Option("--time", help="Memory time (units of 1/kappa2).")] = 20.0,
    decode_time: Annotated[float, typer.Option(help="Recovery evolution time.")] = 20.0,
    cutoff: Annotated[int, typer.Option(help="Fock cutoff of the cavity.")] = 20,
    seed: Seed = None,
    json_path: JsonPath = None,
) -> None:
    """Photonic-Ising toy model (spec 004 §6): one cat cavity and a spin."""
    from qcompile.backends import ResultStore
    from qcompile.backends.reference import lindblad_state_at
    from qcompile.protocols.photonic_ising import photonic_ising_toy
    from qcompile.run.photonic_toy import run_photonic_toy

    _check_output_path("json", json_path)
    protocol = photonic_ising_toy(
        photons=photons, kappa2=kappa2, kappa1=kappa1, kappa_d=kappa_d, kappa_nn=kappa_nn,
        time=time, decode_time=decode_time, cutoff=cutoff,
    )  # fmt: skip
    store = ResultStore()
    with _progress() as progress:
        result = run_photonic_toy(
            protocol, solver=lindblad_state_at, seed=seed, store=store, progress=progress
        )
    ref = result.reference
    out.print(
        f"|alpha|^2 = {ref['alpha_squared_modulus']:.4g} (alpha^2 = -2i lambda/kappa2: the "
        "paper's |alpha|^2 = N is off by 2, spec 004 §2)"
    )
    table = Table(title=f"toy model: memory {time:g}, decoder {decode_time:g} (cutoff {cutoff})")
    for column in ("logical state", "fidelity after decoding", "<QZ> at T", "trace"):
        table.add_column(column, justify="right")
    for name in ref["fidelity"]:
        table.add_row(
            name, f"{ref['fidelity'][name]:.6f}", f"{ref['symmetry_QZ'][name]:+.6f}",
            f"{ref['trace'][name]:.6f}",
        )  # fmt: skip
    out.print(table)
    lattice = ref["idealized_lattice"]
    out.print(
        f"idealised lattice (spec §5): Delta = 2N kappa1 = {lattice['delta']:.4g}, kappa = 2N "
        f"kappa_nn = {lattice['kappa']:.4g}, beta = {lattice['beta']:.4f}"
        + (
            f" ({lattice['phase']}; mean-field <Q> = {lattice['mean_field_magnetization']:.4f})"
            if "phase" in lattice
            else ""
        )
    )
    if json_path:
        result.write_json(json_path)
        out.print(f"results: {json_path}")
    out.print(f"stored as run {result.run_id} in {store.path}")
