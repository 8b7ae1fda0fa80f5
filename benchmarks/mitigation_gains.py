"""What each error mitigation buys on device noise, and what it costs (issue 16, item 3).

Homogenization (spec 000), α = 0.5, N = 4 and 10, on ``aer:fake_torino`` (FakeTorino's
calibrated noise), 4000 shots, seed 1 — the same compiled circuits for every variant:

* ``raw``; ``readout`` (mthree, per-qubit calibration in the run); ``zne`` (global folding at
  1, 3, 5 and Richardson); ``readout+zne``;
* ``estimator-0/1/2``: the Bloch vectors as Pauli expectation values from qiskit-ibm-runtime's
  client-side Estimator (local mode) at resilience level 0 (raw), 1 (measurement twirling +
  TREX) and 2 (+ gate twirling and ZNE by gate folding at runtime's noise factors 1, 3, 5).
  Level 2 runs for N ≤ :data:`MAX_LEVEL2_RESERVOIR` only: at N = 10 its twirled, folded
  11-qubit circuits took over 15 minutes of local simulation (they are cheap on a device).

Coherent feedback (spec 002, γ = 5, t ≤ 0.5, dt = 0.1, Trotterized) on the same noise: raw,
readout, ZNE of the tomographed states (each stretch between resets folded), both, and the
Estimator's three levels for D(t); the same for the dissipative-qubit AF code's fidelity
after two collisions (spec 001). Homogenization and
the Ising memory also run with error suppression (:data:`SUPPRESSION`): Pauli twirling of
gates and measurements, the idle-time model alone, and XY4 dynamical decoupling on it.
The Ising memory (spec 004, M = 2, Δ = 0.02, dt = 0.5) at T = 1, 2, 3: every variant, the
decoded success P(majority 0) — ZNE folds each stretch between the ancilla's resets, the
Estimator measures the majority projector as 16 Z strings.

Per variant and observable (system fidelity after every k, reservoir fidelities at the end):
the gain ratio |mitigated − ideal| / |raw − ideal| (mean over points; < 1 is better), the
share of points within 2σ of ideal, the mean standard error, and the shot cost relative to
raw (circuits × shots). JSON in ``benchmarks/results/mitigation_gains.json`` and a plot.
Usage: ``python -m benchmarks.mitigation_gains [--reservoir 4 10] [--ising-only]``
(``--ising-only``: the Ising rows alone, to ``results/mitigation_gains_ising.json``).
"""

from __future__ import annotations

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from benchmarks.environment import RESULTS, write_results  # noqa: E402
from qcompile.backends import IBMOptions, get_backend  # noqa: E402
from qcompile.protocols import homogenization  # noqa: E402
from qcompile.protocols.homogenization import run as run_experiment  # noqa: E402

DEVICE = "aer:fake_torino"
READOUT = DEVICE + "+readout-mitigation"
#: name: (backend, run options)
VARIANTS = {
    "raw": (DEVICE, {}),
    "readout": (READOUT, {}),
    "zne": (DEVICE, {"zne": (1, 3, 5)}),
    "readout+zne": (READOUT, {"zne": (1, 3, 5)}),
    "estimator-0": (DEVICE, {"estimator": True, "resilience_level": 0}),
    "estimator-1": (DEVICE, {"estimator": True, "resilience_level": 1}),
    "estimator-2": (DEVICE, {"estimator": True, "resilience_level": 2}),
}
#: Error suppression on the same device noise (aer:<fake> applies runtime's options locally,
#: ``qcompile.backends.error_suppression``): name → execution options. DD needs the idle-time
#: model, so its fair baseline is ``idle`` (scheduled, no DD), reported as ``gain_vs_idle``.
SUPPRESSION = {
    "twirling": {"twirling": "all"},
    "idle": {"idle_noise": True},
    "idle+dd-XY4": {"dynamical_decoupling": "XY4"},
}
MAX_LEVEL2_RESERVOIR = 4
RUNTIME_NOISE_FACTORS = 3  # runtime's default ZNE noise factors (1, 3, 5)
OBSERVABLES = ("system_fidelity", "reservoir_fidelity")


def variants() -> dict[str, tuple[object, dict]]:
    """Every variant's backend (built fresh) and run options, mitigations then suppressions."""
    out = {name: (get_backend(backend), options) for name, (backend, options) in VARIANTS.items()}
    for name, execution in SUPPRESSION.items():
        out[name] = (get_backend(DEVICE, ibm_options=IBMOptions(**execution)), {})
    return out


def _vs_idle(rows: dict, keys) -> None:
    """DD's gain against the scheduled baseline that has the same idle-time noise."""
    if "idle+dd-XY4" in rows and "idle" in rows:
        for key in keys:
            rows["idle+dd-XY4"][key]["gain_vs_idle"] = (
                rows["idle+dd-XY4"][key]["mean_abs_error"] / rows["idle"][key]["mean_abs_error"]
            )


def _circuits(name: str, options: dict, tomography: int) -> int:
    """Circuits (each at ``shots``) a variant runs: the tomography settings, times the noise
    factors, plus calibration — 2 circuits for mthree, one item of the same shots for TREX."""
    if options.get("estimator"):
        level = options["resilience_level"]
        factors = RUNTIME_NOISE_FACTORS if level == 2 else 1
        return tomography * factors + (1 if level >= 1 else 0)
    zne = options.get("zne")
    return tomography * (len(zne) if zne else 1) + (2 if "readout" in name else 0)


def measure(reservoir: int, shots: int, seed: int) -> dict:
    protocol = homogenization(alpha=0.5, reservoir=reservoir)
    results, seconds, chosen = {}, {}, variants()
    for name, (backend, options) in chosen.items():
        if options.get("resilience_level") == 2 and reservoir > MAX_LEVEL2_RESERVOIR:
            continue
        start = time.perf_counter()
        results[name] = run_experiment(protocol, backend, shots=shots, seed=seed,
                                       **options)  # fmt: skip
        seconds[name] = time.perf_counter() - start
    tomography = 3 * (protocol.collisions + 1)
    rows = {}
    for name, result in results.items():
        cost = _circuits(name, chosen[name][1], tomography) / tomography
        rows[name] = _row(result, results["raw"], OBSERVABLES, cost, seconds[name])
    _vs_idle(rows, OBSERVABLES)
    for name, row in rows.items():
        _print(f"N={reservoir:2d}", name, row, OBSERVABLES)
    return rows


def _aligned(result, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate, ideal and standard error of ``key`` at the times the device measured (the
    ideal circuit reports every sample time; homogenization has no times)."""
    value = np.array(result.observables[key])
    sigma = np.array(result.observables[f"{key}_stderr"])
    ideal = np.array(result.ideal[key])
    if "times" in result.observables:
        times = list(result.ideal["times"])
        ideal = np.array([ideal[times.index(t)] for t in result.observables["times"]])
    return value, ideal, sigma


def _row(result, raw, keys, cost: float, seconds: float) -> dict:
    row: dict = {"shot_cost": cost, "seconds": seconds}
    for key in keys:
        value, ideal, sigma = _aligned(result, key)
        error = np.mean(np.abs(value - ideal))
        raw_value, raw_ideal, _ = _aligned(raw, key)
        row[key] = {
            "mean_abs_error": float(error),
            "gain_ratio": float(error / np.mean(np.abs(raw_value - raw_ideal))),
            "within_2sigma": float(np.mean(np.abs(value - ideal) <= 2 * sigma)),
            "mean_stderr": float(np.mean(sigma)),
        }
    return row


def _print(label: str, name: str, row: dict, keys) -> None:
    print(f"{label} {name:12s} cost {row['shot_cost']:.2f}x  " + "  ".join(
        f"{k}: |err| {row[k]['mean_abs_error']:.4f} ratio {row[k]['gain_ratio']:.2f} "
        f"2σ {row[k]['within_2sigma']:.0%}" for k in keys))  # fmt: skip


#: Coherent feedback (spec 002), short horizon: γ = 5, t ≤ 0.5, dt = 0.1, the Trotterized
#: lowering, the plant's two-qubit state tomographed at every 0.1.
FEEDBACK = {"gamma": 5.0, "t_max": 0.5, "dt": 0.1, "sample_every": 0.1}
FEEDBACK_LOWERING = {"synthesis": "trotter"}
#: The states path's variants: counted (raw, readout, ZNE of the tomographed states, both) and
#: the Estimator's levels.
FEEDBACK_VARIANTS = ("raw", "readout", "zne", "readout+zne", "estimator-0", "estimator-1",
                     "estimator-2")  # fmt: skip


def measure_feedback(shots: int, seed: int) -> dict:
    """Coherent feedback's trace distance D(t) to the target on FakeTorino noise."""
    from qcompile.protocols.coherent_feedback import coherent_feedback
    from qcompile.protocols.plugin import get_protocol

    protocol, feedback = coherent_feedback(**FEEDBACK), get_protocol("coherent-feedback")
    results, seconds = {}, {}
    for name in FEEDBACK_VARIANTS:
        backend, options = VARIANTS[name]
        start = time.perf_counter()
        results[name] = feedback.run(protocol, get_backend(backend), shots=shots, seed=seed,
                                     device_every=1, lowering=FEEDBACK_LOWERING,
                                     **options)  # fmt: skip
        seconds[name] = time.perf_counter() - start
    settings = 9 * len(results["raw"].observables["times"])  # 3^2 settings per time
    rows = {}
    for name, result in results.items():
        cost = _circuits(name, VARIANTS[name][1], settings) / settings
        rows[name] = _row(result, results["raw"], ("trace_distance",), cost, seconds[name])
        _print("feedback", name, rows[name], ("trace_distance",))
    return rows


#: Spec 001's AF code (J = 2, α = 0.05), two bath collisions, the code fidelity at the end.
ENCODINGS = {"J": 2.0, "alpha": 0.05, "t_max": 10.0, "dt": 0.5, "encodings": "af"}
ENCODING_COLLISIONS = 2


def measure_encodings(shots: int, seed: int) -> dict:
    """The dissipative-qubit AF code's fidelity after two noisy collisions (six encoded states,
    two-qubit tomography each) on FakeTorino noise."""
    from qcompile.backends.propagators import reference_propagators
    from qcompile.protocols.dissipative_qubits import dissipative_qubits
    from qcompile.protocols.plugin import get_protocol

    protocol, encodings = dissipative_qubits(**ENCODINGS), get_protocol("dissipative-qubits")
    results, seconds = {}, {}
    for name in FEEDBACK_VARIANTS:
        backend, options = VARIANTS[name]
        start = time.perf_counter()
        results[name] = encodings.run(
            protocol, get_backend(backend), solvers={"propagators": reference_propagators},
            collisions=ENCODING_COLLISIONS, device_every=ENCODING_COLLISIONS, shots=shots,
            seed=seed, **options,
        )  # fmt: skip
        seconds[name] = time.perf_counter() - start
    settings = 9 * 6  # 3^2 settings for each of the six encoded states
    rows = {}
    for name, result in results.items():
        cost = _circuits(name, VARIANTS[name][1], settings) / settings
        rows[name] = _encoding_row(result, results["raw"], cost, seconds[name])
        _print("encodings", name, rows[name], ("fidelity",))
    return rows


def _encoding_row(result, raw, cost: float, seconds: float) -> dict:
    def error(r) -> float:
        ideal = dict(zip(r.ideal["times"], r.ideal["af"]["fidelity"], strict=True))
        t = r.observables["times"][-1]
        return abs(r.observables["af"]["fidelity"][-1] - ideal[t])

    sigma = result.observables["af"]["fidelity_stderr"][-1]
    return {"shot_cost": cost, "seconds": seconds, "fidelity": {
        "mean_abs_error": error(result), "gain_ratio": error(result) / error(raw),
        "within_2sigma": float(error(result) <= 2 * sigma), "mean_stderr": sigma}}  # fmt: skip


#: Spec 004's memory on circuits: M = 2 (4 sites + 1 reset ancilla), Δ = 0.02, dt = 0.5.
ISING = {"size": 2, "delta": 0.02, "dt": 0.5, "trajectories": 1}
ISING_TIMES = (1.0, 2.0, 3.0)


def measure_ising(shots: int, seed: int) -> dict:
    """The Ising memory's decoded success at :data:`ISING_TIMES` on FakeTorino noise."""
    from qcompile.protocols import get_protocol
    from qcompile.protocols.ising_memory import ising_memory

    memory = get_protocol("ising-memory")

    rows = {}
    raw_error = None
    for name, (backend, options) in variants().items():
        start = time.perf_counter()
        values, ideal, sigma = [], [], []
        for t in ISING_TIMES:
            protocol = ising_memory(time=t, **ISING)
            r = memory.run(protocol, backend, shots=shots, seed=seed, **options)
            values.append(r.observables["success_probability"])
            sigma.append(r.observables["success_probability_stderr"])
            ideal.append(r.ideal["success_probability"])
        error = np.abs(np.array(values) - np.array(ideal))
        raw_error = error if raw_error is None else raw_error
        rows[name] = {
            "shot_cost": _circuits(name, options, 1),
            "seconds": time.perf_counter() - start,
            "success_probability": {
                "mean_abs_error": float(error.mean()),
                "gain_ratio": float(error.mean() / raw_error.mean()),
                "within_2sigma": float(np.mean(error <= 2 * np.array(sigma))),
                "mean_stderr": float(np.mean(sigma)),
                "values": values,
                "stderr": sigma,
                "ideal": ideal,
            },
        }
    _vs_idle(rows, ("success_probability",))
    for name, row in rows.items():
        _print("ising", name, row, ("success_probability",))
    return rows


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reservoir", type=int, nargs="+", default=[4, 10])
    parser.add_argument("--shots", type=int, default=4000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--ising-only", action="store_true", help="only the Ising memory (a few minutes)"
    )
    args = parser.parse_args(argv)
    if args.ising_only:
        rows = measure_ising(args.shots, args.seed)
        ising = {"backend": DEVICE, "shots": args.shots, "seed": args.seed, "parameters": ISING,
                 "times": list(ISING_TIMES), "rows": rows}  # fmt: skip
        print("results:", write_results("mitigation_gains_ising", ising))
        return ising
    runs = {str(n): measure(n, args.shots, args.seed) for n in args.reservoir}
    feedback = measure_feedback(args.shots, args.seed)
    encodings = measure_encodings(args.shots, args.seed)
    ising = measure_ising(args.shots, args.seed)
    payload = {"protocol": "homogenization", "alpha": 0.5, "backend": DEVICE,
               "shots": args.shots, "seed": args.seed, "runs": runs,
               "coherent_feedback": {"parameters": FEEDBACK, "lowering": FEEDBACK_LOWERING,
                                     "rows": feedback},
               "encodings": {"parameters": ENCODINGS, "collisions": ENCODING_COLLISIONS,
                             "rows": encodings},
               "ising_memory": {"parameters": ISING, "times": list(ISING_TIMES),
                                "rows": ising}}  # fmt: skip
    print("results:", write_results("mitigation_gains", payload))
    panels = len(args.reservoir) + 3
    fig, axes = plt.subplots(1, panels, figsize=(4.6 * panels, 4.2))
    extra = (
        (axes[-3], feedback, "trace_distance", "trace distance D(t)", "coherent feedback t <= 0.5"),
        (axes[-2], encodings, "fidelity", "AF code fidelity", "encodings, 2 collisions"),
        (axes[-1], ising, "success_probability", "decoded success", "Ising memory M = 2, T <= 3"),
    )
    for ax, rows, key, label, title in extra:
        x = np.arange(len(rows))
        ax.bar(x, [row[key]["mean_abs_error"] for row in rows.values()], 0.6,
               color="tab:green", label=label)  # fmt: skip
        ax.set_xticks(x, [f"{v}\n{row['shot_cost']:.2f}x" for v, row in rows.items()],
                      fontsize=7, rotation=30)  # fmt: skip
        ax.set_title(f"{title}, FakeTorino noise", fontsize=9)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    for ax, n in zip(axes[:-3], args.reservoir, strict=True):
        runs = payload["runs"][str(n)]
        names = list(runs)
        x = np.arange(len(names))
        for i, key in enumerate(OBSERVABLES):
            ax.bar(x + 0.4 * i - 0.2, [runs[v][key]["mean_abs_error"] for v in names], 0.4,
                   label=key.replace("_", " "))  # fmt: skip
        ax.set_xticks(x, [f"{v}\n{runs[v]['shot_cost']:.2f}x" for v in names], fontsize=7,
                      rotation=30)  # fmt: skip
        ax.set_ylabel("mean |estimate − ideal|")
        ax.set_title(f"homogenization N = {n}, FakeTorino noise")
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(RESULTS / "mitigation_gains.png", dpi=110)
    return payload


if __name__ == "__main__":
    main()
