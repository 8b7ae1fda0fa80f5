"""Compile once and cut (compiler revision 4) against compiling every prefix (revision 3).

Issue 33's targets, measured in one process against the README's main job:

* ``main_job``: ``qcompile run homogenization --alpha 0.5 --reservoir 10 --shots 4000 --seed 1``
  (the Python API call it makes), cold first run and the median of ``--repeats`` warm ones;
* ``recoverability`` (the Bloch path): ``run homogenization --alpha 0.5 --reservoir 4
  --recoverability --seed 11`` likewise — revision 4 cold and warm, the per-cut path, and
  revision 3 once — with the agreement of the measured δ and fidelities;
* ``dissipative_qubits``: ``run dissipative-qubits --J 2 --alpha 0.05 --t-max 60 --backend
  aer:fake_torino`` (``--seed 1``) with revision 4 (cold, then the median of the warm repeats)
  and with revision 3 once (it takes minutes): wall time, compile time, circuits compiled; the
  ratios to the main job; and the results' agreement (``agreement``) — every device
  observable of revision 4's checkpointed sampling within 3σ (σ² = both runs' squared
  standard errors) of the same compiled cuts each run on its own (the per-cut path, same
  seed), and the ideal and reference blocks equal. Revision 3's values are compared too
  (``revision_3_against_revision_4``): they come from other circuits — compiled prefix by
  prefix, ending on other physical qubits with other readout errors, the readout unitary run
  on the device — so they differ by more than shot noise.

Usage: ``python -m benchmarks.checkpoint_cuts [--repeats 3] [--quick]`` (``--quick``: t-max 20
with 4 collisions, revision 3 included: a minute). Writes
``benchmarks/results/checkpoint_cuts.json``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import numpy as np

from benchmarks.environment import write_results
from qcompile.backends import get_backend
from qcompile.passes.compile import compiler_revision
from qcompile.protocols import get_protocol, homogenization
from qcompile.protocols.dissipative_qubits import from_mapping


def _timed(call) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def main_job():
    protocol = homogenization(alpha=0.5, reservoir=10)
    return get_protocol("homogenization").run(protocol, get_backend("aer:fake_torino"),
                                              shots=4000, seed=1)  # fmt: skip


class PerCut:
    """The Aer backend without ``run_cuts``: every cut circuit run on its own (the per-cut
    path, what a device runs)."""

    def __init__(self, backend) -> None:
        self._backend = backend

    def __getattr__(self, name: str):
        if name == "run_cuts":
            raise AttributeError(name)
        return getattr(self._backend, name)


def dissipative_qubits(quick: bool, per_cut: bool = False):
    values = {"J": 2, "alpha": 0.05, "t_max": 20 if quick else 60}
    protocol = from_mapping(values)
    options = {"collisions": 4} if quick else {}
    backend = get_backend("aer:fake_torino")
    return get_protocol("dissipative-qubits").run(protocol, PerCut(backend) if per_cut else backend,
                                                  seed=1, **options)  # fmt: skip


def _flat(block: Any, prefix: str = "") -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    if isinstance(block, dict):
        for key, value in block.items():
            out.update(_flat(value, f"{prefix}{key}."))
    elif isinstance(block, list) and block and not isinstance(block[0], (dict, str)):
        out[prefix.rstrip(".")] = np.asarray(block, dtype=float)
    return out


def recoverability(per_cut: bool = False):
    protocol = homogenization(alpha=0.5, reservoir=4)
    backend = get_backend("aer:fake_torino")
    return get_protocol("homogenization").run(
        protocol, PerCut(backend) if per_cut else backend, shots=4000, seed=11,
        recoverability=True,
    )  # fmt: skip


def _z_scores(a: dict, b: dict) -> tuple[float, int, list[str]]:
    worst, count, outside = 0.0, 0, []
    for key, value in a.items():
        if key.endswith("_stderr") or key.endswith("times") or f"{key}_stderr" not in a:
            continue
        sigma = np.sqrt(a[f"{key}_stderr"] ** 2 + b[f"{key}_stderr"] ** 2)
        z = np.abs(value - b[key]) / np.where(sigma > 0, sigma, np.inf)
        worst = max(worst, float(np.max(z)))
        count += z.size
        outside += [key] if np.any(z > 3) else []
    return worst, count, outside


def agreement(new, old, block: str = "observables") -> dict[str, Any]:
    """Each observable of ``new`` against ``old`` (``block``: a result field, or
    ``recoverability.measured``): the largest |Δ|/σ, and the blocks that do not depend on
    the compilation compared exactly."""
    if block == "recoverability.measured":
        worst, count, outside = _z_scores(_flat(new.recoverability["measured"]),
                                          _flat(old.recoverability["measured"]))  # fmt: skip
        return {"observables": count, "max_z": worst, "beyond_3_sigma": outside,
                "within_3_sigma": not outside}  # fmt: skip
    a, b = _flat(new.observables), _flat(old.observables)
    worst, count, outside = _z_scores(a, b)
    same = {name: all(np.allclose(v, _flat(getattr(old, name))[k], atol=1e-9)
                      for k, v in _flat(getattr(new, name)).items())
            for name in ("ideal", "reference")}  # fmt: skip
    return {"observables": count, "max_z": worst, "beyond_3_sigma": outside,
            "within_3_sigma": not outside, "unchanged": same}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()

    cold_main, _ = _timed(main_job)
    warm_main = statistics.median(_timed(main_job)[0] for _ in range(args.repeats))
    runs = [_timed(lambda: dissipative_qubits(args.quick)) for _ in range(args.repeats + 1)]
    cold_new, new = runs[0]
    warm_new = statistics.median(t for t, _ in runs[1:])
    per_cut_s, per_cut = _timed(lambda: dissipative_qubits(args.quick, per_cut=True))
    with compiler_revision(3):
        old_s, old = _timed(lambda: dissipative_qubits(args.quick))
    compiled_new, compiled_old = new.circuit["compiled"], old.circuit["compiled"]
    payload = {
        "command": "run dissipative-qubits --J 2 --alpha 0.05 --t-max "
                   + ("20 --collisions 4" if args.quick else "60")
                   + " --backend aer:fake_torino --seed 1",  # fmt: skip
        "main_job_s": {"cold": cold_main, "median": warm_main, "repeats": args.repeats},
        "revision_4": {"cold_s": cold_new, "median_s": warm_new,
                       "compile_s": compiled_new["compile_time_s"],
                       "circuits": compiled_new["circuits"],
                       "circuits_compiled": compiled_new["compiled_circuits"],
                       "two_qubit_gates_largest": compiled_new["two_qubit_gates"]},
        "revision_3": {"s": old_s, "compile_s": compiled_old["compile_time_s"],
                       "circuits": compiled_old["circuits"],
                       "circuits_compiled": compiled_old["compiled_circuits"],
                       "two_qubit_gates_largest": compiled_old["two_qubit_gates"]},
        "ratios": {"revision_4_to_main_job": warm_new / warm_main,
                   "revision_4_cold_to_main_job_cold": cold_new / cold_main,
                   "revision_3_to_main_job": old_s / warm_main,
                   "compile_share_revision_4": compiled_new["compile_time_s"] / warm_new,
                   "compile_share_revision_3": compiled_old["compile_time_s"] / old_s},
        "targets": {"wall_time_at_most_5x_main_job": warm_new <= 5 * warm_main,
                    "compile_at_most_20_percent": compiled_new["compile_time_s"]
                    <= 0.2 * warm_new},
        "revision_4_per_cut_s": per_cut_s,
        "agreement": agreement(new, per_cut),
        "revision_3_against_revision_4": agreement(new, old),
    }  # fmt: skip
    if not args.quick:  # the Bloch path: homogenization with --recoverability
        runs = [_timed(recoverability) for _ in range(args.repeats + 1)]
        per_cut_s, per_cut = _timed(lambda: recoverability(per_cut=True))
        with compiler_revision(3):
            old_s, old = _timed(recoverability)
        warm = statistics.median(t for t, _ in runs[1:])
        payload["recoverability"] = {
            "command": "run homogenization --alpha 0.5 --reservoir 4 --recoverability --seed 11",
            "revision_4": {"cold_s": runs[0][0], "median_s": warm,
                           "compile_s": runs[0][1].circuit["compile_time_s"],
                           "circuits": runs[0][1].circuit["circuits"],
                           "circuits_compiled": runs[0][1].circuit["compiled_circuits"]},
            "revision_4_per_cut_s": per_cut_s,
            "revision_3": {"s": old_s, "compile_s": old.circuit["compile_time_s"]},
            "ratios": {"revision_4_to_main_job": warm / warm_main,
                       "revision_3_to_main_job": old_s / warm_main},
            "targets": {"at_most_3x_main_job": warm <= 3 * warm_main},
            "agreement": agreement(runs[0][1], per_cut, "recoverability.measured"),
            "revision_3_against_revision_4": agreement(runs[0][1], old,
                                                       "recoverability.measured"),
        }  # fmt: skip
    path = write_results("checkpoint_cuts" + ("_quick" if args.quick else ""), payload)
    print(
        f"main job {warm_main:.1f} s; revision 4 {warm_new:.1f} s "
        f"({payload['ratios']['revision_4_to_main_job']:.1f}×, compile "
        f"{payload['ratios']['compile_share_revision_4']:.0%}); revision 3 {old_s:.1f} s; "
        f"agreement max |Δ|/σ = {payload['agreement']['max_z']:.2f} → {path}"
    )


if __name__ == "__main__":
    main()
