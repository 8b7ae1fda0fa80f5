"""Baseline: qcompile's pipeline vs Qiskit O3 on homogenization circuits, N = 2..16.

Two-qubit count, depth and compile time on FakeTorino (CZ) and FakeSherbrooke (ECR), measured
in the same run, with the ratios qcompile / O3 and the lower bound of 3 two-qubit gates per
collision (spec 000 §4). Compile time is the median of ``--repeat`` runs of a pass manager
built once. Usage: ``python benchmarks/homogenization_baseline.py [--max-n 16] [--repeat 3]``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

from qiskit.transpiler import generate_preset_pass_manager

from benchmarks.environment import write_results
from qcompile.passes import build_pass_manager
from qcompile.passes.compile import circuit_metrics
from qcompile.passes.targets import fake_backend
from qcompile.protocols import homogenization

TARGETS = ("fake_torino", "fake_sherbrooke")


def _measure(manager, circuit, repeat: int) -> tuple[dict, float]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = manager.run(circuit)
        times.append(time.perf_counter() - start)
    return circuit_metrics(out), statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-n", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rows = []
    for name in TARGETS:
        target = fake_backend(name).target
        ours = build_pass_manager(target, seed=args.seed)
        qiskit_o3 = generate_preset_pass_manager(
            optimization_level=3, target=target, seed_transpiler=args.seed
        )
        for n in range(2, args.max_n + 1):
            circuit = homogenization(
                alpha=0.3, reservoir=n, reservoir_state="polar:2.2,0"
            ).circuit()
            q_metrics, q_time = _measure(ours, circuit, args.repeat)
            o_metrics, o_time = _measure(qiskit_o3, circuit, args.repeat)
            rows.append(
                {
                    "target": name,
                    "N": n,
                    "bound_two_qubit_gates": 3 * n,
                    "qcompile": q_metrics | {"compile_time_s": q_time},
                    "qiskit_o3": o_metrics | {"compile_time_s": o_time},
                    "ratio_two_qubit_gates": q_metrics["two_qubit_gates"]
                    / o_metrics["two_qubit_gates"],
                    "ratio_depth": q_metrics["depth"] / o_metrics["depth"],
                    "ratio_compile_time": q_time / o_time,
                }
            )
            r = rows[-1]
            print(
                f"{name:16s} N={n:2d}  2q: qcompile {q_metrics['two_qubit_gates']:3d}  "
                f"O3 {o_metrics['two_qubit_gates']:3d}  bound {3 * n:3d}  "
                f"depth {q_metrics['depth']:4d}/{o_metrics['depth']:4d}  "
                f"time ratio {r['ratio_compile_time']:.2f}"
            )
    ratios = [r["ratio_two_qubit_gates"] for r in rows]
    summary = {
        "geomean_ratio_two_qubit_gates": math.exp(sum(map(math.log, ratios)) / len(ratios)),
        "max_ratio_two_qubit_gates": max(ratios),
        "at_bound_qcompile": sum(
            r["qcompile"]["two_qubit_gates"] == r["bound_two_qubit_gates"] for r in rows
        ),
        "at_bound_qiskit_o3": sum(
            r["qiskit_o3"]["two_qubit_gates"] == r["bound_two_qubit_gates"] for r in rows
        ),
        "circuits": len(rows),
    }
    print(summary)
    path = write_results(
        "homogenization_baseline",
        {
            "benchmark": "homogenization_baseline",
            "alpha": 0.3,
            "seed": args.seed,
            "compilers": {
                "qcompile": "qcompile.passes.build_pass_manager",
                "qiskit_o3": "generate_preset_pass_manager(optimization_level=3)",
            },
            "summary": summary,
            "rows": rows,
        },
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
