"""Ising-memory trajectories: qcompile's numba kinetic Monte Carlo vs the compiled C reference.

Same model, same point (M = 15, Δ = 0.005κ, T = 800/κ, 10^5 trajectories by default), same
machine, same run: the C reference of spec 004 §11.1 (``benchmarks/reference/ising_kmc.c``,
compiled here with ``gcc -O2``) against
``qcompile.backends.ising_kmc.simulate_memory`` on one thread and on all threads. Reports
wall times, the ratio to C (goal: ≤ 2×) and both success probabilities with their standard
errors. Usage:
``python -m benchmarks.ising_kmc [--size 15] [--delta 0.005] [--trajectories 100000]``.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.environment import write_results
from qcompile.backends.ising_kmc import simulate_memory
from qcompile.protocols.ising_memory import flip_rates

SOURCE = Path(__file__).parent / "reference" / "ising_kmc.c"


def run_c(binary: Path, size: int, delta: float, horizon: float, trajectories: int, seed: int):
    start = time.perf_counter()
    out = subprocess.run(
        [str(binary), str(size), "1", str(delta), str(horizon), str(trajectories), str(seed)],
        capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    seconds = time.perf_counter() - start
    success = float(out[6]) / trajectories
    return {"seconds": seconds, "success_probability": success,
            "stderr": math.sqrt(success * (1 - success) / trajectories),
            "mean_events": float(out[8])}  # fmt: skip


def run_ours(size, delta, horizon, trajectories, seed, threads):
    import numba

    numba.set_num_threads(threads)
    simulate_memory(size, flip_rates(delta, 1.0), 1.0, 10, seed=0)  # compile outside the clock
    result = simulate_memory(size, flip_rates(delta, 1.0), horizon, trajectories, seed=seed)
    return {
        "seconds": result.seconds,
        "success_probability": result.success_probability,
        "stderr": result.stderr,
        "mean_events": result.mean_events,
        "threads": threads,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=15)
    parser.add_argument("--delta", type=float, default=0.005)
    parser.add_argument("--time", type=float, default=800.0)
    parser.add_argument("--trajectories", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    compiler = shutil.which("gcc") or shutil.which("cc")
    if compiler is None:
        raise SystemExit("no C compiler found: the reference cannot be built")
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "ising_kmc"
        subprocess.run([compiler, "-O2", "-o", str(binary), str(SOURCE), "-lm"], check=True)
        c = run_c(binary, args.size, args.delta, args.time, args.trajectories, args.seed)
    point = (args.size, args.delta, args.time, args.trajectories, args.seed)
    one = run_ours(*point, threads=1)
    threads = os.cpu_count() or 1
    many = run_ours(*point, threads=threads)
    result = {
        "benchmark": "ising_kmc",
        "point": {
            "size": args.size,
            "delta": args.delta,
            "kappa": 1.0,
            "time": args.time,
            "trajectories": args.trajectories,
        },  # fmt: skip
        "c_reference": c,
        "qcompile_1_thread": one,
        f"qcompile_{threads}_threads": many,
        "ratio_to_c": {
            "1_thread": one["seconds"] / c["seconds"],
            f"{threads}_threads": many["seconds"] / c["seconds"],
        },  # fmt: skip
        "goal": "time <= 2 x the compiled C reference",
    }
    for name, ratio in result["ratio_to_c"].items():
        verdict = "met" if ratio <= 2 else "MISSED"
        print(f"qcompile ({name}) / C = {ratio:.2f} (goal <= 2: {verdict})")
    print(f"success: C {c['success_probability']:.6f} ± {c['stderr']:.6f}, qcompile "
          f"{many['success_probability']:.6f} ± {many['stderr']:.6f}")  # fmt: skip
    print(f"wrote {write_results('ising_kmc', result)}")


if __name__ == "__main__":
    main()
