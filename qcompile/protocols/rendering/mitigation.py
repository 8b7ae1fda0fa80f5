"""What error suppression and mitigation a run applied, and its raw values beside the
mitigated ones (readout mitigation, ZNE, the Estimator, twirling, dynamical decoupling)."""

from __future__ import annotations

from rich.console import Console

from qcompile.protocols.rendering import fmt

__all__ = ["print_mitigation"]


def print_mitigation(result, console: Console) -> None:
    """What was applied, and raw (scale 1) beside mitigated for every observable's last point."""
    mitigation = result.mitigation
    if "estimator" in mitigation:
        used = mitigation["estimator"]
        console.print(f"Estimator ({used['primitive']}), resilience level "
                  f"{used['resilience_level']}: {', '.join(used['techniques']) or 'raw'}; "
                  f"{used['shots_per_basis']} shots per basis")  # fmt: skip
    if "readout" in mitigation:
        console.print("readout mitigation: mthree, per-qubit calibration in the same run")
    if "twirling" in mitigation:
        used = mitigation["twirling"]
        what = [k for k in ("gates", "measurements") if used.get(k)]
        console.print(f"Pauli twirling of {' and '.join(what)} ({used['method']})")
    if "dynamical_decoupling" in mitigation:
        console.print(f"dynamical decoupling {mitigation['dynamical_decoupling']['sequence']}")
    if "idle_noise" in mitigation:
        console.print("idle time modelled: circuits scheduled, T1/T2 relaxation on delays")
    zne = mitigation.get("zne")
    if zne:
        scales = ",".join(map(str, zne["scale_factors"]))
        folding = "global" if "between resets" not in zne.get("folding", "") else "segment"
        console.print(f"ZNE: {folding} folding at scale factors {scales}, Richardson to 0 "
                  f"({zne['shots_overhead']}x the shots); raw = scale 1")  # fmt: skip
        _print_raw(result, zne["raw"], "ZNE", console)
    readout = mitigation.get("readout", {})
    if readout.get("raw"):
        console.print("readout mitigation: raw = the same shots, not inverted")
        _print_raw(result, readout["raw"], "mitigated" if not zne else "readout + ZNE", console)


def _print_raw(result, raw: dict, label: str, console: Console) -> None:
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
        console.print(
            f"  {key}{at}: raw {fmt(last(values), 4)} ± {fmt(last(raw[key + '_stderr']), 4)}"
            f" -> {label} {fmt(last(observed[key]), 4)} ± "
            f"{fmt(last(observed[key + '_stderr']), 4)}"
            + (f" (ideal {fmt(last(ideal), 4)})" if ideal is not None else "")
        )
