"""Device vs ideal vs reference for one run: the numbers behind ``qcompile compare``.

Three answers sit in every :class:`~qcompile.results.RunResult`: what the backend measured
(``observables``, with ``<name>_stderr`` shot-noise errors), the exact noiseless simulation of
the same lowered circuits (``ideal``) and the protocol's independent reference. For each
observable this lines them up point by point (by time where the run reports times, else by
index) and summarises:

* ``device_vs_ideal``: max |device − ideal| and the largest deviation in standard errors —
  the device's own noise, beyond shot noise, shows up here;
* ``ideal_vs_reference``: max |ideal − reference| — the lowering's error (Trotter, collision);
* ``within_2_sigma``: the fraction of device points within 2 standard errors of ideal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qcompile.results import RunResult

__all__ = ["compare_run", "headline", "OBSERVABLES"]

#: The observables each protocol reports, with the axis they are indexed by.
OBSERVABLES: dict[str, list[tuple[str, str]]] = {
    "homogenization": [("system_fidelity", "k"), ("reservoir_fidelity", "j")],
    "coherent-feedback": [("trace_distance", "t")],
    "ising-memory": [("success_probability", "point")],
    "photonic-ising-toy": [(f"fidelity.{s}", "point") for s in ("0_L", "1_L", "+_L", "-_L")],
    "gkp": [("rate", "point")],
    "cat": [("bit_flip_rate", "point"), ("phase_flip_rate", "point")],
}


def _lookup(block: dict[str, Any], key: str):
    """``block[key]``, or ``block[a][b]`` for a dotted key ``a.b`` (per-encoding results)."""
    for part in key.split("."):
        if not isinstance(block, dict) or part not in block:
            return None
        block = block[part]
    return block


def _by_axis(block: dict[str, Any], key: str, axis: list) -> dict:
    values = _lookup(block, key)
    if values is None:
        return {}
    if isinstance(values, (int, float)):  # one number per run (Ising memory, toy model)
        return {axis[0]: values}
    if "times" in block:
        return dict(zip(block["times"], values, strict=True))
    return dict(zip(axis, values, strict=False))


def _observable_names(result: RunResult) -> list[tuple[str, str]]:
    if result.protocol in OBSERVABLES:
        return OBSERVABLES[result.protocol]
    names = []
    for key, value in result.reference.items():
        if isinstance(value, dict) and "fidelity" in value:  # per encoding (spec 001)
            names += [(f"{key}.{k}", "t") for k, v in value.items()
                      if isinstance(v, list) and not k.endswith("_stderr")]  # fmt: skip
        elif isinstance(value, list) and key != "times":
            names.append((key, "t" if "times" in result.reference else "i"))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            if not key.endswith("_stderr"):  # one number per run (a plugin's observable)
                names.append((key, "point"))
    return names


def _max_abs(pairs: list[tuple[float, float]]) -> float | None:
    return max((abs(a - b) for a, b in pairs), default=None)


def compare_run(result: RunResult) -> dict[str, Any]:
    """Rows and summary of device vs ideal vs reference for every observable of ``result``."""
    out: dict[str, Any] = {
        "run_id": result.run_id,
        "protocol": result.protocol,
        "backend": result.backend,
        "shots": result.shots,
        "observables": {},
    }
    for key, axis_name in _observable_names(result):
        reference = _lookup(result.reference, key)
        scalar = any(
            isinstance(_lookup(block, key), (int, float))
            for block in (result.reference, result.ideal, result.observables)
        )
        if reference is None and not scalar:
            continue
        if scalar:
            axis = [0]
        elif "times" in result.reference:
            axis = list(result.reference["times"])
        else:
            start = 1 if axis_name == "j" else 0
            axis = list(range(start, start + len(reference)))
        ref = _by_axis(result.reference, key, axis)
        ideal = _by_axis(result.ideal, key, axis)
        device = _by_axis(result.observables, key, axis)
        error = _by_axis(result.observables, f"{key}_stderr", axis)
        rows = []
        for x in axis:
            rows.append(
                {
                    axis_name: x,
                    "device": device.get(x),
                    "stderr": error.get(x),
                    "ideal": ideal.get(x),
                    "reference": ref.get(x),
                }
            )
        measured = [r for r in rows if r["device"] is not None and r["ideal"] is not None]
        sigmas = [
            abs(r["device"] - r["ideal"]) / r["stderr"]
            for r in measured
            if r["stderr"] and r["stderr"] > 0
        ]
        summary = {
            "points": len(rows),
            "device_points": len(measured),
            "device_vs_ideal": _max_abs([(r["device"], r["ideal"]) for r in measured]),
            "device_vs_reference": _max_abs(
                [(r["device"], r["reference"]) for r in measured if r["reference"] is not None]
            ),
            "ideal_vs_reference": _max_abs(
                [(r["ideal"], r["reference"]) for r in rows if r["ideal"] is not None]
            ),
            "max_sigma": max(sigmas) if sigmas else None,
            "within_2_sigma": float(np.mean(np.array(sigmas) <= 2)) if sigmas else None,
        }
        out["observables"][key] = {"axis": axis_name, "rows": rows, "summary": summary}
    return out


def headline(result: RunResult) -> dict[str, Any] | None:
    """The run's main result in one number, for a table of many runs (a sweep): the first
    observable it reports, at its last point (the final time, the last collision), from the
    device where the run measured one, else the ideal circuit, else the reference — with the
    standard error where there is one. None for a run that reports no number."""
    for key, entry in compare_run(result)["observables"].items():
        for source in ("device", "ideal", "reference"):
            rows = [r for r in entry["rows"] if r[source] is not None]
            if rows:
                last = rows[-1]
                stderr = last["stderr"] if source == "device" else None
                return {"observable": key, "source": source, "value": last[source],
                        "stderr": stderr}  # fmt: skip
    return None
