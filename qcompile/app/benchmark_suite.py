"""The transpiler benchmark suite: qcompile against Qiskit O2/O3 and pytket, side by side.

Circuits (the protocols' own lowerings): homogenization N = 2..16 with fresh reservoir qubits
and with one reused (reset) reservoir qubit; the coherent-feedback collision circuit
(spec 002, rotating-frame Trotter + ladder collisions); a 10-site transverse-field Ising chain
with a time-dependent field (second-order Trotter). Targets: FakeTorino, FakeFez,
FakeSherbrooke and an all-to-all CX target. Compilers: ``qcompile``
(:func:`qcompile.passes.build_pass_manager`), ``qiskit_o2``/``qiskit_o3``
(``generate_preset_pass_manager``), ``pytket`` (``FullPeepholeOptimise`` through
pytket-qiskit, then Qiskit O1 for layout, routing and translation; skipped if pytket is not
installed).

Per compiled circuit: two-qubit count and depth, depth, compile time, ISA validity on its
target, and on device targets the Hellinger fidelity between noiseless and device-noise output
distributions (Aer, noise on the active qubits, for at most ``noisy_max_qubits``). Ratios are
to Qiskit O3 from the same run.
"""

from __future__ import annotations

import math
import platform
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from qiskit import QuantumCircuit, transpile
from qiskit.providers import BackendV2
from qiskit.quantum_info import hellinger_fidelity
from qiskit.transpiler import generate_preset_pass_manager

from qcompile.metrics import circuit_metrics
from qcompile.passes import DEFAULT_BASIS, build_pass_manager
from qcompile.passes.targets import fake_backend
from qcompile.results import package_versions

__all__ = ["SuiteCircuit", "suite_circuits", "COMPILERS", "run_suite", "markdown_table", "TARGETS"]

TARGETS = ("fake_torino", "fake_fez", "fake_sherbrooke", "all_to_all_cx")


@dataclass(frozen=True)
class SuiteCircuit:
    name: str
    family: str
    circuit: QuantumCircuit
    bound: int | None = None  # known optimum of two-qubit gates, if any


def suite_circuits(quick: bool = False) -> list[SuiteCircuit]:
    """The protocol circuits (``quick``: N ∈ {2, 4, 8, 16} and the smaller dynamics)."""
    from qcompile.lowering.dynamics import lower_dynamics
    from qcompile.model import OpenSystem, TimeDependentTerm
    from qcompile.protocols import coherent_feedback, homogenization

    circuits = []
    sizes = (2, 4, 8, 16) if quick else range(2, 17)
    for n in sizes:
        h = homogenization(alpha=0.3, reservoir=n, reservoir_state="polar:2.2,0")
        circuits.append(SuiteCircuit(f"homogenization_N{n}", "homogenization", h.circuit(), 3 * n))
        circuits.append(
            SuiteCircuit(
                f"homogenization_reused_N{n}",
                "homogenization_reused",
                h.reused_reservoir_circuit(),
                3 * n,
            )
        )
    cf = coherent_feedback(gamma=5, t_max=0.5 if quick else 1.0, dt=0.1)
    lowered = lower_dynamics(
        cf.open_system(),
        t_max=cf.t_max,
        dt=cf.dt,
        frame=cf.frame(),
        rule="rotating",
        synthesis="trotter",
    )
    circuits.append(
        SuiteCircuit("coherent_feedback_collisions", "coherent_feedback", lowered.circuit)
    )
    sites = 10
    zz = sum(_pauli(sites, {i: "Z", i + 1: "Z"}) for i in range(sites - 1))
    xs = sum(_pauli(sites, {i: "X"}) for i in range(sites))
    tfim = OpenSystem(
        dims=(2,) * sites,
        hamiltonian=-zz,
        time_dependent=(TimeDependentTerm(-xs, lambda t: 1.0 + 0.5 * math.cos(t)),),
    )
    steps = 2 if quick else 4
    lowered = lower_dynamics(
        tfim, t_max=0.25 * steps, dt=0.25, order=2, rule="midpoint", synthesis="trotter"
    )
    circuits.append(SuiteCircuit("tfim10_trotter", "tfim", lowered.circuit))
    return circuits


def _pauli(n: int, letters: dict[int, str]) -> np.ndarray:
    from qiskit.quantum_info import SparsePauliOp

    label = "".join(letters.get(n - 1 - q, "I") for q in range(n))  # little-endian label
    return SparsePauliOp(label).to_matrix()


# -- compilers -----------------------------------------------------------------------------------
Compiler = Callable[[QuantumCircuit, "BackendV2 | None", int], QuantumCircuit]


def _qcompile(circuit, backend, seed):
    return build_pass_manager(backend.target if backend else None, seed=seed).run(circuit)


def _qiskit(level: int) -> Compiler:
    def compile_(circuit, backend, seed):
        if backend is None:
            pm = generate_preset_pass_manager(
                level, basis_gates=list(DEFAULT_BASIS), seed_transpiler=seed
            )
        else:
            pm = generate_preset_pass_manager(level, target=backend.target, seed_transpiler=seed)
        return pm.run(circuit)

    return compile_


def _pytket(circuit, backend, seed):
    from pytket.extensions.qiskit import qiskit_to_tk, tk_to_qiskit
    from pytket.passes import FullPeepholeOptimise

    basic = transpile(circuit, basis_gates=["cx", "u", "reset", "measure"], optimization_level=0)
    tk = qiskit_to_tk(basic)
    FullPeepholeOptimise().apply(tk)
    optimised = tk_to_qiskit(tk)
    if backend is None:
        return generate_preset_pass_manager(
            1, basis_gates=list(DEFAULT_BASIS), seed_transpiler=seed
        ).run(optimised)
    return generate_preset_pass_manager(1, target=backend.target, seed_transpiler=seed).run(
        optimised
    )


def pytket_available() -> bool:
    try:
        import pytket.extensions.qiskit  # noqa: F401
    except ImportError:
        return False
    return True


COMPILERS: dict[str, Compiler] = {
    "qcompile": _qcompile,
    "qiskit_o2": _qiskit(2),
    "qiskit_o3": _qiskit(3),
    "pytket": _pytket,
}


# -- measurement -----------------------------------------------------------------------------
def is_isa(circuit: QuantumCircuit, backend: BackendV2 | None) -> bool:
    if backend is None:
        allowed = set(DEFAULT_BASIS) | {"barrier", "measure", "reset"}
        return all(inst.operation.name in allowed for inst in circuit.data)
    target = backend.target
    for inst in circuit.data:
        if inst.operation.name == "barrier":
            continue
        qargs = tuple(circuit.find_bit(q).index for q in inst.qubits)
        if not target.instruction_supported(inst.operation.name, qargs):
            return False
    return True


def noisy_fidelity(
    circuit: QuantumCircuit, backend: BackendV2, shots: int, seed: int, max_qubits: int
):
    """Hellinger fidelity of the output distribution under device noise vs noiseless."""
    from qiskit_aer import AerSimulator

    from qcompile.backends.aer import active_qubits, compact, restricted_noise_model

    qubits = active_qubits([circuit])
    if len(qubits) > max_qubits:
        return None
    small = compact(circuit, qubits)
    ideal = AerSimulator(seed_simulator=seed).run(small, shots=shots).result().get_counts()
    noise = restricted_noise_model(backend, qubits)
    noisy = (
        AerSimulator(noise_model=noise, seed_simulator=seed)
        .run(small, shots=shots)
        .result()
        .get_counts()
    )
    return float(hellinger_fidelity(ideal, noisy))


def run_suite(
    circuits: Sequence[SuiteCircuit],
    targets: Sequence[str] = TARGETS,
    compilers: Sequence[str] = ("qcompile", "qiskit_o2", "qiskit_o3", "pytket"),
    *,
    seed: int = 1,
    shots: int = 2000,
    noisy_max_qubits: int = 8,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict:
    """Compile every circuit for every target with every compiler; rows and a summary."""
    compilers = [c for c in compilers if c != "pytket" or pytket_available()]
    rows = []
    total = len(circuits) * len(targets) * len(compilers)
    done = 0
    for target_name in targets:
        backend = None if target_name == "all_to_all_cx" else fake_backend(target_name)
        for item in circuits:
            measured = item.circuit.copy()
            measured.measure_all()
            row = {
                "circuit": item.name,
                "family": item.family,
                "target": target_name,
                "bound": item.bound,
            }
            for name in compilers:
                start = time.perf_counter()
                compiled = COMPILERS[name](measured, backend, seed)
                elapsed = time.perf_counter() - start
                metrics = circuit_metrics(compiled) | {
                    "compile_time_s": elapsed,
                    "isa": is_isa(compiled, backend),
                }
                if backend is not None:
                    metrics["noisy_fidelity"] = noisy_fidelity(
                        compiled, backend, shots, seed, noisy_max_qubits
                    )
                row[name] = metrics
                done += 1
                if progress:
                    progress("compiling", done, total)
            rows.append(row)
    for row in rows:
        reference = row.get("qiskit_o3")
        for name in compilers:
            if name == "qiskit_o3" or reference is None:
                continue
            m = row[name]
            m["ratio_two_qubit_gates"] = _ratio(m["two_qubit_gates"], reference["two_qubit_gates"])
            m["ratio_compile_time"] = _ratio(m["compile_time_s"], reference["compile_time_s"])
    return {
        "header": {
            "versions": package_versions(),
            "os": platform.platform(),
            "cpu": platform.processor() or platform.machine(),
            "seed": seed,
            "shots": shots,
        },
        "compilers": compilers,
        "targets": list(targets),
        "rows": rows,
        "summary": _summary(rows, compilers),
    }


def _ratio(a: float, b: float) -> float:
    if b == 0:
        return 1.0 if a == 0 else math.inf
    return a / b


def _geomean(values: Sequence[float]) -> float:
    values = [max(v, 1e-12) for v in values if math.isfinite(v)]
    return math.exp(sum(map(math.log, values)) / len(values)) if values else math.nan


def _summary(rows: list[dict], compilers: Sequence[str]) -> dict:
    summary: dict = {}
    for name in compilers:
        if name == "qiskit_o3":
            continue
        ratios = [
            r[name]["ratio_two_qubit_gates"] for r in rows if "ratio_two_qubit_gates" in r[name]
        ]
        times = [r[name]["ratio_compile_time"] for r in rows if "ratio_compile_time" in r[name]]
        summary[name] = {
            "geomean_ratio_two_qubit_gates": _geomean(ratios),
            "max_ratio_two_qubit_gates": max(ratios) if ratios else math.nan,
            "geomean_ratio_compile_time": _geomean(times),
        }
    ours = [r for r in rows if "qcompile" in r]
    checks = {
        "two_qubit_le_o3_every_circuit": all(
            r["qcompile"]["two_qubit_gates"] <= r["qiskit_o3"]["two_qubit_gates"] for r in ours
        ),
        "two_qubit_geomean_le_0.80": summary.get("qcompile", {}).get(
            "geomean_ratio_two_qubit_gates", math.nan
        )
        <= 0.80,
        "homogenization_exactly_3N": all(
            r["qcompile"]["two_qubit_gates"] == r["bound"]
            for r in ours
            if r["family"] == "homogenization"
        ),
        "compile_time_le_2x_o3": summary.get("qcompile", {}).get(
            "geomean_ratio_compile_time", math.nan
        )
        <= 2.0,
        "noisy_fidelity_ge_o3_every_circuit": all(
            r["qcompile"].get("noisy_fidelity") is None
            or r["qiskit_o3"].get("noisy_fidelity") is None
            or r["qcompile"]["noisy_fidelity"] >= r["qiskit_o3"]["noisy_fidelity"] - 0.01
            for r in ours
        ),
        "every_output_isa": all(r[n]["isa"] for r in rows for n in compilers),
    }
    if "pytket" in compilers:
        speed = [
            r["pytket"]["compile_time_s"] / r["qcompile"]["compile_time_s"]
            for r in ours
            if r["qcompile"]["two_qubit_gates"] <= r["pytket"]["two_qubit_gates"]
        ]
        checks["ge_100x_faster_than_pytket_at_equal_or_better_count"] = (
            bool(speed) and min(speed) >= 100
        )
        summary["pytket_time_over_qcompile_min"] = min(speed) if speed else math.nan
    summary["targets_met"] = checks
    return summary


def _fidelity(metrics: dict) -> str:
    value = metrics.get("noisy_fidelity")
    return "—" if value is None else f"{value:.3f}"


def markdown_table(result: dict) -> str:
    """One line per (target, circuit): two-qubit counts of every compiler and qcompile/O3."""
    compilers = result["compilers"]
    head = (
        "| target | circuit | "
        + " | ".join(f"{c} 2q" for c in compilers)
        + " | qcompile/O3 | qcompile fid. | O3 fid. |"
    )
    lines = [head, "|" + "---|" * (4 + len(compilers) + 1)]
    for r in result["rows"]:
        cells = [str(r[c]["two_qubit_gates"]) for c in compilers]
        ratio = r["qcompile"].get("ratio_two_qubit_gates", math.nan)
        lines.append(
            f"| {r['target']} | {r['circuit']} | "
            + " | ".join(cells)
            + f" | {ratio:.2f} | {_fidelity(r['qcompile'])} | {_fidelity(r['qiskit_o3'])} |"
        )
    lines.append("")
    for key, value in result["summary"]["targets_met"].items():
        lines.append(f"- {key}: {'met' if value else 'MISSED'}")
    return "\n".join(lines)
