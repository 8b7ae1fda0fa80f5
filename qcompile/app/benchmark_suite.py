"""The transpiler benchmark suite: qcompile against Qiskit O2/O3 and pytket, side by side.

Circuits (issue 14, item 6). *Protocol* circuits are measured as they run (experiments from
|0…0⟩, where qcompile's state-aware synthesis applies): homogenization N = 2..16 with fresh
reservoir qubits (``--quick``: 2, 4, 8, 16), with one reused (reset) reservoir qubit, with two
rounds, and a two-hub chain (two systems meeting every reservoir qubit); coherent feedback (spec
002) with Trotterized steps and with the protocol's default (exact per-step) lowering; one step
of the dissipative-qubit cascade (spec 001); one round of the Ising memory for M = 2 and 3 (spec
004); one collision step of GKP on a 2⁵-point grid (spec 003) and of the cat qubit (spec 004
§2); a random collision model (4 system qubits, 2 ancillas reset after every collision); a
user's Lindblad model lowered with one ancilla shared by every jump operator (a damped
Heisenberg chain of 3 and ring of 4 qubits, issue 35); a 10-site transverse-field Ising chain
(second-order Trotter, time-dependent field) as lowered by ``lower_dynamics``. *Operator*
circuits are protocol circuits left unmeasured and compiled as operators (the Trotterized
coherent feedback: measured from |0…0⟩ its plant stays on the ideal trajectory, which
state-aware synthesis turns into a nearly classical circuit; as an operator every compiler
starts equal); they count in "every protocol circuit ≤ the best peer" and have their own
geomean. *Generic* circuits are compiled as operators (no measurement, no assumption on the
input), to show no regression where qcompile's own passes find nothing: QFT-8, QuantumVolume-10,
a random 8-qubit Clifford (as Qiskit synthesizes its tableau), 80 random Clifford gates on 8
qubits and two rounds of QAOA on a random 3-regular graph of 10 vertices.

Targets: FakeTorino, FakeFez, FakeSherbrooke and an all-to-all CX target. Compilers:
``qcompile`` (:func:`qcompile.passes.compile.compile_best`: the best of 3 candidates),
``qcompile_fast`` (``candidates=1``: the circuit as given and its logical optimization with
one seed — the compile-time side of the trade), ``qiskit_o2``/``qiskit_o3``
(``generate_preset_pass_manager``), ``pytket`` (``FullPeepholeOptimise`` through
pytket-qiskit, then Qiskit O1 for layout, routing and translation) and ``pytket_ibm``
(pytket-qiskit's own default IBM compilation, ``IBMQBackend.default_compilation_pass_offline``
at its default level 2: placement, routing and ``FullPeepholeOptimise``); the pytket peers are
skipped if pytket is not installed.

Timing: one warm-up compile per compiler and target; then every compile is timed once cold
(``first_compile_time_s``: qcompile's synthesis caches emptied, the cost of a circuit the
process has not met) and ``repeats`` times warm (``compile_time_s``, the median). Per compiled
circuit: two-qubit count and depth, depth, compile time, ISA validity on its target, the
estimated success probability (the product of 1 − error of every gate and measurement, from the
target's calibration) and, for at most ``noisy_max_qubits`` active qubits, the Hellinger
fidelity between noiseless and device-noise output distributions (Aer). Ratios are to Qiskit O3
from the same run.
"""

from __future__ import annotations

import math
import platform
import statistics
import time
from collections.abc import Callable, Sequence

from qiskit import QuantumCircuit, transpile
from qiskit.providers import BackendV2
from qiskit.quantum_info import hellinger_fidelity
from qiskit.transpiler import generate_preset_pass_manager

from qcompile.app.benchmark_circuits import SuiteCircuit, measured_circuit, suite_circuits
from qcompile.metrics import circuit_metrics
from qcompile.passes import DEFAULT_BASIS
from qcompile.passes.compile import compile_best
from qcompile.passes.pauli_evolution import clear_caches
from qcompile.passes.targets import fake_backend
from qcompile.results import package_versions

__all__ = [
    "SuiteCircuit",
    "suite_circuits",
    "COMPILERS",
    "run_suite",
    "markdown_table",
    "TARGETS",
    "estimated_success",
]

TARGETS = ("fake_torino", "fake_fez", "fake_sherbrooke", "all_to_all_cx")


# -- compilers -----------------------------------------------------------------------------------
Compiler = Callable[[QuantumCircuit, "BackendV2 | None", int], QuantumCircuit]


def _qcompile(circuit, backend, seed):
    return compile_best([circuit], backend.target if backend else None, seed=seed)[0]


def _qcompile_fast(circuit, backend, seed):
    target = backend.target if backend else None
    return compile_best([circuit], target, seed=seed, candidates=1)[0]


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


def _from_tket(tk) -> QuantumCircuit:
    """pytket → Qiskit, leaving the implicit wire permutations of FullPeepholeOptimise implicit:
    for a circuit measured at its end they only relabel outcomes, so they cost nothing."""
    import warnings

    from pytket.extensions.qiskit import tk_to_qiskit

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*implicit qubit permutations.*")
        return tk_to_qiskit(tk)


def _pytket(circuit, backend, seed):
    from pytket.extensions.qiskit import qiskit_to_tk
    from pytket.passes import FullPeepholeOptimise

    basic = transpile(circuit, basis_gates=["cx", "u", "reset", "measure"], optimization_level=0)
    tk = qiskit_to_tk(basic)
    FullPeepholeOptimise().apply(tk)
    optimised = _from_tket(tk)
    if backend is None:
        return generate_preset_pass_manager(
            1, basis_gates=list(DEFAULT_BASIS), seed_transpiler=seed
        ).run(optimised)
    return generate_preset_pass_manager(1, target=backend.target, seed_transpiler=seed).run(
        optimised
    )


def _pytket_ibm(circuit, backend, seed):
    """pytket-qiskit's default IBM compilation (level 2), offline from the calibration."""
    if backend is None:
        return _pytket(circuit, backend, seed)  # no device: the same as ``pytket``
    from pytket.extensions.qiskit import IBMQBackend, qiskit_to_tk

    basic = transpile(circuit, basis_gates=["cx", "u", "reset", "measure"], optimization_level=0)
    tk = qiskit_to_tk(basic)
    compilation = IBMQBackend.default_compilation_pass_offline(
        backend.configuration(), backend.properties(), optimisation_level=2
    )
    compilation.apply(tk)
    return _from_tket(tk)


def pytket_available() -> bool:
    try:
        import pytket.extensions.qiskit  # noqa: F401
    except ImportError:
        return False
    return True


COMPILERS: dict[str, Compiler] = {
    "qcompile": _qcompile,
    "qcompile_fast": _qcompile_fast,
    "qiskit_o2": _qiskit(2),
    "qiskit_o3": _qiskit(3),
    "pytket": _pytket,
    "pytket_ibm": _pytket_ibm,
}
PEERS = ("qiskit_o2", "qiskit_o3", "pytket", "pytket_ibm")


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


def estimated_success(circuit: QuantumCircuit, backend: BackendV2 | None) -> float | None:
    """Product of (1 − error) over every gate and measurement, from the target's calibration
    (``None`` without a device)."""
    if backend is None:
        return None
    target = backend.target
    log_success = 0.0
    for inst in circuit.data:
        name = inst.operation.name
        if name in ("barrier", "delay") or name not in target.operation_names:
            continue
        qargs = tuple(circuit.find_bit(q).index for q in inst.qubits)
        props = target[name].get(qargs)
        if props is not None and props.error is not None and props.error < 1:
            log_success += math.log1p(-props.error)
    return math.exp(log_success)


def _timed(compiler: Compiler, circuit, backend, seed, repeats: int) -> tuple:
    """The compiled circuit, the median of ``repeats`` warm wall-clock timings and the first
    compile's (qcompile's synthesis caches emptied before it: what a circuit costs the first
    time a process meets it)."""
    clear_caches()
    start = time.perf_counter()
    compiled = compiler(circuit, backend, seed)
    first = time.perf_counter() - start
    timings = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        compiled = compiler(circuit, backend, seed)
        timings.append(time.perf_counter() - start)
    return compiled, statistics.median(timings), first


def run_suite(
    circuits: Sequence[SuiteCircuit],
    targets: Sequence[str] = TARGETS,
    compilers: Sequence[str] = ("qcompile", *PEERS),
    *,
    seed: int = 1,
    shots: int = 2000,
    noisy_max_qubits: int = 8,
    repeats: int = 3,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict:
    """Compile every circuit for every target with every compiler; rows and a summary.

    Each compiler is warmed up once per target (its start-up is not charged to the first
    row); every compile is then timed ``repeats`` times and the median kept. A peer that fails
    on a circuit gets ``{"error": ...}`` in that row and the run goes on; qcompile's failures
    are raised.
    """
    compilers = [c for c in compilers if not c.startswith("pytket") or pytket_available()]
    rows = []
    total = len(circuits) * len(targets) * len(compilers)
    done = 0
    warm_up = measured_circuit(QuantumCircuit(2))
    warm_up.h(0)
    warm_up.cx(0, 1)
    for target_name in targets:
        backend = None if target_name == "all_to_all_cx" else fake_backend(target_name)
        for name in compilers:
            try:
                COMPILERS[name](warm_up, backend, seed)
            except Exception:
                if name not in PEERS:
                    raise  # a peer failing here fails (and is recorded) on every row below
        for item in circuits:
            measured = item.circuit
            row = {
                "circuit": item.name,
                "family": item.family,
                "kind": item.kind,
                "target": target_name,
                "bound": item.bound,
            }
            for name in compilers:
                try:
                    compiled, elapsed, first = _timed(COMPILERS[name], measured, backend, seed,
                                                      repeats)  # fmt: skip
                except Exception as exc:  # a peer's failure is a result, not the end of the run
                    if name not in PEERS:
                        raise
                    row[name] = {"error": f"{type(exc).__name__}: {exc}"}
                    done += 1
                    continue
                metrics = circuit_metrics(compiled) | {
                    "compile_time_s": elapsed,
                    "first_compile_time_s": first,
                    "isa": is_isa(compiled, backend),
                    "estimated_success": estimated_success(compiled, backend),
                }
                if backend is not None and item.kind == "protocol":
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
        if reference is not None and "error" in reference:
            reference = None
        peers = [
            row[c]["two_qubit_gates"] for c in compilers if c in PEERS and "error" not in row[c]
        ]
        row["best_peer_two_qubit_gates"] = min(peers) if peers else None
        for name in compilers:
            if name == "qiskit_o3" or reference is None or "error" in row[name]:
                continue
            m = row[name]
            m["ratio_two_qubit_gates"] = _ratio(m["two_qubit_gates"], reference["two_qubit_gates"])
            m["ratio_compile_time"] = _ratio(m["compile_time_s"], reference["compile_time_s"])
            m["ratio_first_compile_time"] = _ratio(
                m["first_compile_time_s"], reference["first_compile_time_s"]
            )
    return {
        "header": {
            "versions": package_versions(),
            "os": platform.platform(),
            "cpu": platform.processor() or platform.machine(),
            "seed": seed,
            "shots": shots,
            "timing": f"one warm-up per compiler and target; per compile the first (cold: "
            f"qcompile's caches emptied) and the median of {repeats} warm repeats",
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
        mine = [r for r in rows if "ratio_two_qubit_gates" in r[name]]
        ratios = [r[name]["ratio_two_qubit_gates"] for r in mine]
        summary[name] = {
            "geomean_ratio_two_qubit_gates": _geomean(ratios),
            "geomean_ratio_two_qubit_gates_protocol": _geomean(
                [r[name]["ratio_two_qubit_gates"] for r in mine if r["kind"] == "protocol"]
            ),
            "geomean_ratio_two_qubit_gates_generic": _geomean(
                [r[name]["ratio_two_qubit_gates"] for r in mine if r["kind"] == "generic"]
            ),
            "geomean_ratio_two_qubit_gates_operator": _geomean(
                [r[name]["ratio_two_qubit_gates"] for r in mine if r["kind"] == "operator"]
            ),
            "max_ratio_two_qubit_gates": max(ratios) if ratios else math.nan,
            "geomean_ratio_compile_time": _geomean([r[name]["ratio_compile_time"] for r in mine]),
            "geomean_ratio_first_compile_time": _geomean(
                [r[name]["ratio_first_compile_time"] for r in mine]
            ),
        }
    ours = [r for r in rows if "qcompile" in r]
    protocol = [r for r in ours if r["kind"] in ("protocol", "operator")]
    mine = summary.get("qcompile", {})
    behind = [
        f"{r['target']}/{r['circuit']}"
        for r in protocol
        if r["best_peer_two_qubit_gates"] is not None
        and r["qcompile"]["two_qubit_gates"] > r["best_peer_two_qubit_gates"]
    ]
    checks = {
        "homogenization_le_2N": all(
            r["qcompile"]["two_qubit_gates"] <= r["bound"]
            for r in ours
            if r["family"].startswith("homogenization") and r["bound"] is not None
        ),
        "protocol_two_qubit_le_best_peer_every_circuit": not behind,
        "protocol_two_qubit_geomean_le_0.70_o3": mine.get(
            "geomean_ratio_two_qubit_gates_protocol", math.nan
        )
        <= 0.70,
        "generic_two_qubit_geomean_le_1.00_o3": not (
            mine.get("geomean_ratio_two_qubit_gates_generic", math.nan) > 1.0
        ),
        "compile_time_le_2x_o3": mine.get("geomean_ratio_compile_time", math.nan) <= 2.0,
        "first_compile_time_le_2x_o3": mine.get("geomean_ratio_first_compile_time", math.nan)
        <= 2.0,
        "generic_two_qubit_le_best_peer_every_circuit": not [
            r
            for r in ours
            if r["kind"] == "generic"
            and r["best_peer_two_qubit_gates"] is not None
            and r["qcompile"]["two_qubit_gates"] > r["best_peer_two_qubit_gates"]
        ],
        "every_output_isa": all(r[n].get("isa", True) for r in rows for n in compilers),
    }
    summary["behind_best_peer"] = behind
    summary["targets_met"] = checks
    return summary


def _fidelity(metrics: dict) -> str:
    value = metrics.get("noisy_fidelity")
    if value is None:
        value = metrics.get("estimated_success")
        return "—" if value is None else f"{value:.3f}*"
    return f"{value:.3f}"


def markdown_table(result: dict) -> str:
    """One line per (target, circuit): two-qubit counts of every compiler, qcompile/O3 and
    qcompile/best peer, and the success of qcompile's and O3's outputs (Hellinger fidelity
    under device noise, or * the estimated success probability where too wide to simulate)."""
    compilers = result["compilers"]
    head = (
        "| target | circuit | "
        + " | ".join(f"{c} 2q" for c in compilers)
        + " | qcompile/O3 | qcompile/best peer | qcompile success | O3 success |"
    )
    lines = [head, "|" + "---|" * (2 + len(compilers) + 4)]
    for r in result["rows"]:
        cells = [str(r[c].get("two_qubit_gates", "error")) for c in compilers]
        ratio = r["qcompile"].get("ratio_two_qubit_gates", math.nan)
        peer = r.get("best_peer_two_qubit_gates")
        vs_peer = _ratio(r["qcompile"]["two_qubit_gates"], peer) if peer is not None else math.nan
        lines.append(
            f"| {r['target']} | {r['circuit']} | "
            + " | ".join(cells)
            + f" | {ratio:.2f} | {vs_peer:.2f} | {_fidelity(r['qcompile'])} | "
            + f"{_fidelity(r['qiskit_o3'])} |"
        )
    lines.append("")
    for name, info in result["summary"].items():
        if isinstance(info, dict) and "geomean_ratio_two_qubit_gates" in info:
            lines.append(
                f"- {name} vs O3: two-qubit geomean {info['geomean_ratio_two_qubit_gates']:.3f} "
                f"(protocol {info['geomean_ratio_two_qubit_gates_protocol']:.3f}, operator "
                f"{info['geomean_ratio_two_qubit_gates_operator']:.3f}, generic "
                f"{info['geomean_ratio_two_qubit_gates_generic']:.3f}), compile time geomean "
                f"{info['geomean_ratio_compile_time']:.2f} (first compile "
                f"{info['geomean_ratio_first_compile_time']:.2f})"
            )
    for key, value in result["summary"]["targets_met"].items():
        lines.append(f"- {key}: {'met' if value else 'MISSED'}")
    behind = result["summary"].get("behind_best_peer") or []
    if behind:
        lines.append("- qcompile behind the best peer on: " + ", ".join(behind))
    return "\n".join(lines)
