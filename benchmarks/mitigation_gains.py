"""What each error mitigation buys on device noise, and what it costs (issue 16, item 3).

Homogenization (spec 000), α = 0.5, N = 4 and 10, on ``aer:fake_torino`` (FakeTorino's
calibrated noise), 4000 shots, seed 1 — the same compiled circuits for every variant:

* ``raw``; ``readout`` (mthree, per-qubit calibration in the run); ``zne`` (global folding at
  1, 3, 5 and Richardson); ``readout+zne``.

Per variant and observable (system fidelity after every k, reservoir fidelities at the end):
the gain ratio |mitigated − ideal| / |raw − ideal| (mean over points; < 1 is better), the
share of points within 2σ of ideal, the mean standard error, and the shot cost relative to
raw (circuits × shots). JSON in ``benchmarks/results/mitigation_gains.json`` and a plot.
Usage: ``python -m benchmarks.mitigation_gains [--reservoir 4 10]``.
"""

from __future__ import annotations

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.environment import RESULTS, write_results  # noqa: E402
from qcompile.backends import get_backend  # noqa: E402
from qcompile.protocols import homogenization  # noqa: E402
from qcompile.run.experiment import run_experiment  # noqa: E402

VARIANTS = {
    "raw": ("aer:fake_torino", None),
    "readout": ("aer:fake_torino+readout-mitigation", None),
    "zne": ("aer:fake_torino", (1, 3, 5)),
    "readout+zne": ("aer:fake_torino+readout-mitigation", (1, 3, 5)),
}
OBSERVABLES = ("system_fidelity", "reservoir_fidelity")


def measure(reservoir: int, shots: int, seed: int) -> dict:
    protocol = homogenization(alpha=0.5, reservoir=reservoir)
    results, seconds = {}, {}
    for name, (backend, zne) in VARIANTS.items():
        start = time.perf_counter()
        results[name] = run_experiment(protocol, get_backend(backend), shots=shots, seed=seed,
                                       zne=zne)  # fmt: skip
        seconds[name] = time.perf_counter() - start
    tomography = 3 * (protocol.collisions + 1)
    rows = {}
    for name, result in results.items():
        zne = VARIANTS[name][1]
        circuits = tomography * (len(zne) if zne else 1) + (2 if "readout" in name else 0)
        row = {"shot_cost": circuits / tomography, "seconds": seconds[name]}
        for key in OBSERVABLES:
            ideal = np.array(result.ideal[key])
            value = np.array(result.observables[key])
            sigma = np.array(result.observables[f"{key}_stderr"])
            raw = np.array(results["raw"].observables[key])
            row[key] = {
                "mean_abs_error": float(np.mean(np.abs(value - ideal))),
                "gain_ratio": float(np.mean(np.abs(value - ideal)) / np.mean(np.abs(raw - ideal))),
                "within_2sigma": float(np.mean(np.abs(value - ideal) <= 2 * sigma)),
                "mean_stderr": float(np.mean(sigma)),
            }
        rows[name] = row
        print(f"N={reservoir:2d} {name:12s} cost {row['shot_cost']:.2f}x  " + "  ".join(
            f"{k}: |err| {row[k]['mean_abs_error']:.4f} ratio {row[k]['gain_ratio']:.2f} "
            f"2σ {row[k]['within_2sigma']:.0%}" for k in OBSERVABLES))  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reservoir", type=int, nargs="+", default=[4, 10])
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    runs = {str(n): measure(n, args.shots, args.seed) for n in args.reservoir}
    payload = {"protocol": "homogenization", "alpha": 0.5, "backend": "aer:fake_torino",
               "shots": args.shots, "seed": args.seed, "runs": runs}  # fmt: skip
    print("results:", write_results("mitigation_gains", payload))
    fig, axes = plt.subplots(1, len(args.reservoir), figsize=(5 * len(args.reservoir), 3.6))
    for ax, n in zip(np.atleast_1d(axes), args.reservoir, strict=True):
        runs = payload["runs"][str(n)]
        x = np.arange(len(VARIANTS))
        for i, key in enumerate(OBSERVABLES):
            ax.bar(x + 0.4 * i - 0.2, [runs[v][key]["mean_abs_error"] for v in VARIANTS], 0.4,
                   label=key.replace("_", " "))  # fmt: skip
        ax.set_xticks(x, [f"{v}\n{runs[v]['shot_cost']:.2f}x shots" for v in VARIANTS],
                      fontsize=8)  # fmt: skip
        ax.set_ylabel("mean |estimate − ideal|")
        ax.set_title(f"homogenization N = {n}, FakeTorino noise")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "mitigation_gains.png", dpi=110)
    return payload


if __name__ == "__main__":
    main()
