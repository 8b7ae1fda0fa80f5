"""Device-noise simulation restricted to the active qubits vs ``AerSimulator.from_backend``.

Same compiled circuits (homogenization tomography on FakeTorino), same shots, same seed; both
paths timed end to end (noise model construction included). The count distributions are
compared by the Hellinger distance, next to the distance between two seeds of the same path
(the shot-noise floor). Usage: ``python benchmarks/noise_restriction.py [--reservoir 4]``.
"""

from __future__ import annotations

import argparse
import math
import time

from qiskit_aer import AerSimulator

from backends.aer import AerBackend
from benchmarks.environment import write_results
from qcompile.compile import compile_circuits
from qcompile.protocols import homogenization
from qcompile.tomography import measurement_circuits


def hellinger(p: dict[str, int], q: dict[str, int]) -> float:
    np_, nq = sum(p.values()), sum(q.values())
    overlap = sum(math.sqrt(p.get(k, 0) / np_ * q.get(k, 0) / nq) for k in set(p) | set(q))
    return math.sqrt(max(0.0, 1 - overlap))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="fake_torino")
    parser.add_argument("--reservoir", type=int, default=4)
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    h = homogenization(alpha=0.5, reservoir=args.reservoir, reservoir_state="polar:2.2,0")
    circuits = [c for task in h.tomography_tasks() for c in measurement_circuits(task)]
    backend = AerBackend(args.device)
    compiled, report = compile_circuits(
        circuits, backend.device, seed=args.seed, layout_from=h.circuit()
    )

    start = time.perf_counter()
    ours = backend.run(compiled, args.shots, seed=args.seed, chunk=len(compiled))
    t_ours = time.perf_counter() - start
    ours_again = backend.run(compiled, args.shots, seed=args.seed + 1, chunk=len(compiled))

    start = time.perf_counter()
    simulator = AerSimulator.from_backend(backend.device, seed_simulator=args.seed)
    theirs = simulator.run(compiled, shots=args.shots).result().get_counts()
    t_theirs = time.perf_counter() - start

    distances = [hellinger(a, b) for a, b in zip(ours, theirs, strict=True)]
    floor = [hellinger(a, b) for a, b in zip(ours, ours_again, strict=True)]
    result = {
        "benchmark": "noise_restriction",
        "device": args.device,
        "circuits": len(compiled),
        "active_qubits": report.num_qubits,
        "shots": args.shots,
        "time_s": {"qcompile_active_qubits": t_ours, "aer_from_backend": t_theirs},
        "speedup": t_theirs / t_ours,
        "hellinger": {
            "mean_vs_from_backend": sum(distances) / len(distances),
            "max_vs_from_backend": max(distances),
            "mean_shot_noise_floor": sum(floor) / len(floor),
        },
    }
    print(result)
    print(f"wrote {write_results('noise_restriction', result)}")


if __name__ == "__main__":
    main()
