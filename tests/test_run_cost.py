"""The cost a run says before its shots (issue 33): circuits, two-qubit gates, shots, and the
local or QPU time. Counted independently here from the circuits themselves."""

from __future__ import annotations

from pathlib import Path

from qcompile.backends import get_backend
from qcompile.protocols.lindblad import lindblad, run
from qcompile.run.run_cost import estimate_cost

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _lindblad_run(progress):
    protocol = lindblad(EXAMPLES / "amplitude_damping.toml", t_max=0.5, dt=0.25,
                        sample_every=0.25)  # fmt: skip
    return run(protocol, get_backend("aer:fake_manila"), seed=3, shots=500, progress=progress)


def test_the_cost_is_said_before_the_shots_and_counts_what_runs():
    reports = []
    result = _lindblad_run(lambda stage, done, total: reports.append((stage, done, total)))
    notes = [i for i, (_, _, total) in enumerate(reports) if total == 0]
    shots = next(i for i, (stage, _, _) in enumerate(reports) if stage == "shots")
    assert len(notes) == 1 and notes[0] < shots
    line = reports[notes[0]][0]
    circuits = result.circuit["compiled"]["circuits"]
    assert line.startswith(f"cost: {circuits} circuits · ") and "500 shots each" in line
    assert "here" in line and "QPU" not in line  # a local backend: its wall time


class _Submitting:
    """A backend that submits jobs, compiling for FakeManila (no job is sent)."""

    submits_jobs = True

    def __init__(self) -> None:
        self.compile_target = get_backend("aer:fake_manila").compile_target


def test_two_qubit_gates_are_counted_over_the_circuits_and_qpu_time_scales_with_shots():
    from qcompile.protocols.dissipative_qubits import from_mapping
    from qcompile.protocols.encoding_flow import lower_evolution
    from qcompile.run.prefix_tomography import compile_prefixes

    backend = get_backend("aer:fake_manila")
    evolutions = list(lower_evolution(from_mapping({"J": 2, "alpha": 0.05, "t_max": 20}),
                                      {"collisions": 3}).values())[:2]  # fmt: skip
    times = list(evolutions[0].checkpoints)[1:]
    program, _ = compile_prefixes(backend.compile_target, evolutions, times, [0, 1], 3, False)
    counted = sum(1 for c in program.circuits for i in c.data
                  if i.operation.num_qubits == 2 and i.operation.name != "barrier")  # fmt: skip
    cost = estimate_cost(backend, program.circuits, 1000, program)
    assert (cost.circuits, cost.two_qubit_gates, cost.shots) == (len(program.circuits),
                                                                 counted, 1000)  # fmt: skip
    assert cost.local_s > 0 and cost.qpu_s is None
    once = estimate_cost(_Submitting(), list(program.circuits), 1000)
    twice = estimate_cost(_Submitting(), list(program.circuits), 2000)
    assert once.local_s is None and once.qpu_s > 0 and "QPU time" in once.describe()
    assert abs(twice.qpu_s - 2 * once.qpu_s) < 1e-9 * twice.qpu_s
