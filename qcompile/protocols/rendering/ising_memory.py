"""The Ising memory's tables (spec 004): decoded success per lattice size and bit-flip rate
beside the exact master equation, the exponential fall of 1 − p with M in the ordered phase
(§4), and the photonic-Ising toy's fidelities after decoding (§6)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from qcompile.protocols.ising_memory import BETA_C, exponential_fit
from qcompile.protocols.rendering import fmt

__all__ = ["print_point_mitigation", "render_ising", "render_toy", "size_fits"]


def size_fits(results: list) -> tuple[dict[str, dict], list[str]]:
    """Per bit-flip rate Δ over several sizes M: the fit ln(1 − p) = a − γM where ordered,
    and the lines that say what the points show."""
    fits, lines = {}, []
    for d in dict.fromkeys(r.parameters["delta"] for r in results):
        chosen_points = [r for r in results if r.parameters["delta"] == d]
        ordered = chosen_points and chosen_points[0].reference["beta"] > BETA_C
        if not ordered and len(chosen_points) >= 2:
            values = [r.observables["success_probability"] for r in chosen_points]
            lines.append(
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
                lines.append(
                    f"Delta = {d:g} (ordered): ln(1 - p) = {fit['a']:.2f} - {fit['gamma']:.3f} M "
                    f"({fit['points']} sizes with failures): 1 - p falls exponentially in M"
                )
    return fits, lines


def render_ising(results: list, console: Console) -> None:
    """Decoded success of every point, mitigation, and the fits over M."""
    time = results[0].parameters["time"]
    table = Table(title=f"decoded success from |0bar>, T = {time:g}/kappa ({results[0].backend})")
    for column in ("M", "Delta", "beta", "phase", "success", "±", "ideal circuit", "exact ME"):
        table.add_column(column, justify="right")
    for r in results:
        obs, ref = r.observables, r.reference
        table.add_row(
            str(r.parameters["size"]),
            f"{r.parameters['delta']:g}",
            f"{ref['beta']:.4f}",
            "ordered" if ref["beta"] > ref["beta_c"] else "disordered",
            fmt(obs.get("success_probability"), 6),
            fmt(obs.get("success_probability_stderr"), 6),
            fmt(r.ideal.get("success_probability"), 6),
            fmt(ref.get("success_probability"), 6),
        )
    console.print(table)
    for r in results:
        if r.mitigation:
            print_point_mitigation(r, console)
    for line in size_fits(results)[1]:
        console.print(line)


def print_point_mitigation(result, console: Console) -> None:
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
    console.print(f"{label}: " + "; ".join(parts))


def render_toy(results: list, console: Console) -> None:
    """The cavity amplitude, the four logical states after decoding, the idealised lattice."""
    for result in results:
        p = result.parameters
        ref = result.reference
        console.print(
            f"|alpha|^2 = {ref['alpha_squared_modulus']:.4g} (alpha^2 = -2i lambda/kappa2: the "
            "paper's |alpha|^2 = N is off by 2, spec 004 §2)"
        )
        title = f"toy model: memory {p['time']:g}, decoder {p['decode_time']:g}"
        table = Table(title=f"{title} (cutoff {p['cutoff']})")
        for column in ("logical state", "fidelity after decoding", "<QZ> at T", "trace"):
            table.add_column(column, justify="right")
        for name in ref["fidelity"]:
            table.add_row(
                name, f"{ref['fidelity'][name]:.6f}", f"{ref['symmetry_QZ'][name]:+.6f}",
                f"{ref['trace'][name]:.6f}",
            )  # fmt: skip
        console.print(table)
        lattice = ref["idealized_lattice"]
        console.print(
            f"idealised lattice (spec §5): Delta = 2N kappa1 = {lattice['delta']:.4g}, kappa = 2N "
            f"kappa_nn = {lattice['kappa']:.4g}, beta = {lattice['beta']:.4f}"
            + (
                f" ({lattice['phase']}; mean-field <Q> = {lattice['mean_field_magnetization']:.4f})"
                if "phase" in lattice
                else ""
            )
        )
