"""Device-noise paths side by side: ours vs ``AerSimulator.from_backend`` vs runtime local mode.

Same compiled circuits (homogenization tomography on FakeFez by default), same shots, seeds
fixed; every path timed end to end (noise model construction included):

* ``qcompile``: ``qcompile.backends.aer.AerBackend`` — the device noise model built for the active
  qubits only (the default local path);
* ``aer_from_backend``: ``AerSimulator.from_backend(device)`` — the whole device's noise model;
* ``runtime_local``: ``qcompile.backends.ibm.IBMBackend`` on the fake device — qiskit-ibm-runtime's
  client-side Sampler in local testing mode (the IBM code path without network).

Counts are compared per circuit by the Hellinger distance, next to the distance between two
seeds of our own path (the shot-noise floor), and by a chi-square test of homogeneity (two
samples of one distribution give p-values uniform on [0, 1]). Usage:
``python -m benchmarks.noise_restriction [--device fake_fez] [--reservoir 4]``.
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

import numpy as np
from qiskit_aer import AerSimulator
from scipy.stats import chi2_contingency

from benchmarks.environment import write_results
from qcompile.backends.aer import AerBackend
from qcompile.backends.ibm import IBMBackend
from qcompile.backends.store import ResultStore
from qcompile.passes.compile import compile_circuits
from qcompile.protocols import homogenization
from qcompile.states.tomography import measurement_circuits


def hellinger(p: dict[str, int], q: dict[str, int]) -> float:
    np_, nq = sum(p.values()), sum(q.values())
    overlap = sum(math.sqrt(p.get(k, 0) / np_ * q.get(k, 0) / nq) for k in set(p) | set(q))
    return math.sqrt(max(0.0, 1 - overlap))


def homogeneity_p(p: dict[str, int], q: dict[str, int]) -> float:
    """p-value of the chi-square test that two count tables come from one distribution."""
    keys = sorted(set(p) | set(q))
    table = np.array([[p.get(k, 0) for k in keys], [q.get(k, 0) for k in keys]])
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0
    return float(chi2_contingency(table)[1])


def compare(ours: list[dict], theirs: list[dict]) -> dict:
    distances = [hellinger(a, b) for a, b in zip(ours, theirs, strict=True)]
    pvalues = [homogeneity_p(a, b) for a, b in zip(ours, theirs, strict=True)]
    return {
        "hellinger_mean": float(np.mean(distances)),
        "hellinger_max": float(np.max(distances)),
        "chi2_p_min": float(np.min(pvalues)),
        "chi2_fraction_p_below_0.01": float(np.mean(np.array(pvalues) < 0.01)),
    }


def timed(call):
    start = time.perf_counter()
    value = call()
    return value, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="fake_fez")
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
    shots, seed = args.shots, args.seed

    ours, t_ours = timed(lambda: backend.run(compiled, shots, seed=seed, chunk=len(compiled)))
    floor = backend.run(compiled, shots, seed=seed + 1, chunk=len(compiled))

    def from_backend():
        simulator = AerSimulator.from_backend(backend.device, seed_simulator=seed + 2)
        return simulator.run(compiled, shots=shots).result().get_counts()

    aer_counts, t_aer = timed(from_backend)
    with tempfile.TemporaryDirectory() as tmp:
        ibm = IBMBackend(args.device, store=ResultStore(Path(tmp) / "jobs.db"))
        runtime_counts, t_runtime = timed(lambda: ibm.run(compiled, shots, seed=seed + 3))

    result = {
        "benchmark": "noise_restriction",
        "device": args.device,
        "circuits": len(compiled),
        "active_qubits": report.num_qubits,
        "shots": shots,
        "time_s": {
            "qcompile_active_qubits": t_ours,
            "aer_from_backend": t_aer,
            "runtime_local_mode": t_runtime,
        },
        "speedup": {
            "vs_aer_from_backend": t_aer / t_ours,
            "vs_runtime_local_mode": t_runtime / t_ours,
        },
        "counts_vs": {
            "shot_noise_floor (ours, another seed)": compare(ours, floor),
            "aer_from_backend": compare(ours, aer_counts),
            "runtime_local_mode": compare(ours, runtime_counts),
        },
    }
    for name, value in result["speedup"].items():
        print(
            f"speed-up {name}: {value:.1f}x (target >= 10x: {'met' if value >= 10 else 'MISSED'})"
        )
    for name, value in result["counts_vs"].items():
        print(f"counts vs {name}: {value}")
    print(f"wrote {write_results('noise_restriction', result)}")


if __name__ == "__main__":
    main()
