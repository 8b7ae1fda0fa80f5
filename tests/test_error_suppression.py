"""Pauli twirling, idle-time noise and dynamical decoupling on the local device-noise path
(qcompile.backends.error_suppression): each leaves the ideal computation unchanged (exact
operator equality), does to the noise what it should (symmetric readout, T2 decay while idle,
against the device's own T1/T2), and is recorded with the result and refused where it cannot
apply."""

from __future__ import annotations

import json

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import Operator
from test_cli import run_cli

from qcompile.backends import IBMOptions, ibm_options
from qcompile.backends.aer import AerBackend, active_qubits
from qcompile.backends.error_suppression import (
    RANDOMIZATIONS,
    Suppression,
    merge_counts,
    schedule,
    twirl_gates,
    twirl_measurements,
)
from qcompile.errors import InvalidParameter
from qcompile.passes.compile import compile_circuits
from qcompile.passes.targets import fake_backend

DEVICE = fake_backend("fake_torino")


def _compiled(circuit: QuantumCircuit) -> QuantumCircuit:
    (compiled,), _ = compile_circuits([circuit], DEVICE, seed=1, initial_state="any")
    return compiled


def _operator(circuit: QuantumCircuit, qubits: list[int]) -> Operator:
    """The unitary on the device qubits the circuit uses (133 would not fit in memory)."""
    small = QuantumCircuit(len(qubits), global_phase=circuit.global_phase)
    index = {q: i for i, q in enumerate(qubits)}
    for inst in circuit.data:
        if inst.operation.name not in ("barrier", "delay"):  # (a delay is the identity)
            small.append(inst.operation, [index[circuit.find_bit(q).index] for q in inst.qubits])
    return Operator(small)


def _entangler() -> QuantumCircuit:
    qc = QuantumCircuit(3)
    qc.ry(0.4, 0)
    qc.cx(0, 1)
    qc.rz(0.3, 1)
    qc.cx(1, 2)
    qc.sx(2)
    qc.cx(0, 2)
    return qc


def test_twirled_instances_keep_the_unitary_and_the_device_basis():
    compiled = _compiled(_entangler())
    instances = twirl_gates(compiled, DEVICE.target, seed=3)
    assert len(instances) == RANDOMIZATIONS
    qubits = active_qubits([compiled])
    reference = _operator(compiled, qubits)
    basis = set(DEVICE.target.operation_names) | {"barrier"}
    distinct = {str(c.data) for c in instances}
    assert len(distinct) > RANDOMIZATIONS // 2  # they are random, not copies
    for instance in instances:
        assert _operator(instance, qubits).equiv(reference)  # equal up to a global phase
        assert {i.operation.name for i in instance.data} <= basis


@pytest.mark.parametrize("sequence", [None, "XX", "XpXm", "XY4"])
def test_scheduling_and_dd_keep_the_unitary(sequence):
    compiled = _compiled(_entangler())
    scheduled = schedule(compiled, DEVICE.target, sequence)
    assert scheduled.count_ops().get("delay", 0) > 0  # the idle time is explicit
    added = scheduled.count_ops().get("x", 0) - compiled.count_ops().get("x", 0)
    if sequence is None:
        assert added == 0
    else:  # whole sequences only: XX and Xp·Xm are two X pulses, XY4 four (Y as X with Rz)
        pulses = {"XX": 2, "XpXm": 2, "XY4": 4}[sequence]
        assert added > 0 and added % pulses == 0, (sequence, added)
    qubits = active_qubits([compiled])
    assert _operator(scheduled, qubits).equiv(_operator(compiled, qubits))


def test_measurement_twirl_is_undone_exactly():
    """Noiseless: the flipped bits come back, every instance and register layout included."""
    qc = QuantumCircuit(3, 3)
    qc.x([0, 2])
    qc.measure([0, 1, 2], [0, 1, 2])
    rng = np.random.default_rng(4)
    instances = [twirl_measurements(qc, rng) for _ in range(16)]
    assert {len(f) for _, f in instances} - {0, 3}  # some but not all bits flipped
    from qiskit_aer import AerSimulator

    tables = AerSimulator(seed_simulator=1).run([c for c, _ in instances], shots=10).result()
    merged = merge_counts(tables.get_counts(), [f for _, f in instances])
    assert merged == {"101": 160}
    assert merge_counts([{"1 01": 5}], [[0, 2]]) == {"0 00": 5}  # registers keep their spaces


def test_measurement_twirling_makes_readout_errors_symmetric():
    """Readout with P(1|0) = 0.02, P(0|1) = 0.10 (an Aer ReadoutError): after the X flips and
    the bits flipped back, each error rate is f·e_flipped + (1 − f)·e_kept for the share f of
    instances that flipped (4σ of shot noise) — both ≈ (e0 + e1)/2 = 0.06."""
    from qiskit_aer import AerSimulator
    from qiskit_aer.noise import NoiseModel, ReadoutError

    noise = NoiseModel()
    noise.add_all_qubit_readout_error(ReadoutError([[0.98, 0.02], [0.10, 0.90]]))
    simulator = AerSimulator(noise_model=noise, seed_simulator=7)
    rng = np.random.default_rng(8)
    shots, rates, expected = 250, [], []
    e = (0.02, 0.10)
    for prepared in (0, 1):
        qc = QuantumCircuit(1, 1)
        if prepared:
            qc.x(0)
        qc.measure(0, 0)
        instances = [twirl_measurements(qc, rng) for _ in range(4 * RANDOMIZATIONS)]
        tables = simulator.run([c for c, _ in instances], shots=shots).result().get_counts()
        merged = merge_counts(tables, [f for _, f in instances])
        rates.append(merged.get(str(1 - prepared), 0) / sum(merged.values()))
        flipped = np.mean([bool(f) for _, f in instances])
        expected.append(flipped * e[1 - prepared] + (1 - flipped) * e[prepared])
    total = 4 * RANDOMIZATIONS * shots
    sigma = np.sqrt(0.06 * 0.94 / total)
    assert rates == pytest.approx(expected, abs=4 * sigma)
    assert expected == pytest.approx([0.06, 0.06], abs=0.015)  # vs 0.02 and 0.10 untwirled


def test_twirled_runs_on_device_noise_keep_the_statistics():
    """FakeTorino noise (symmetric readout, incoherent gate errors): twirling all gates and
    measurements leaves P(00) + P(11) of a Bell pair unchanged within 4σ, same total shots."""
    qc = QuantumCircuit(2, 2)
    qc.h(0)
    qc.cx(0, 1)
    qc.measure([0, 1], [0, 1])
    compiled = _compiled(qc)
    shots = 16_000
    plain = AerBackend(DEVICE).run([compiled], shots, seed=5)[0]
    twirled = AerBackend(DEVICE, suppression=Suppression(twirling="all")).run(
        [compiled], shots, seed=5
    )[0]
    assert sum(twirled.values()) == shots
    same = [(t.get("00", 0) + t.get("11", 0)) / shots for t in (plain, twirled)]
    assert 0.9 < same[0] < 0.995
    assert same[1] == pytest.approx(same[0], abs=4 * np.sqrt(2 * 0.05 / shots))


def test_idle_noise_decays_coherence_at_the_device_t2():
    """|+⟩ waits (fenced by barriers) while two neighbours run 300 CZs, then is measured in
    X: with idle noise the contrast ⟨X⟩ falls by exp(−t/T2) of that qubit (Aer's thermal
    relaxation on the delays; t its idle time in the schedule); the ratio to the unscheduled
    run cancels readout and gate errors. Tolerance 4σ + 0.02. Compiled at optimization level
    0 on a fixed chain, so no optimizer moves the Hadamards."""
    from qiskit import transpile

    from qcompile.backends.aer import compact, restrict_target

    b, c = next(iter(DEVICE.target["cz"]))
    a = next(q for pair in DEVICE.target["cz"] for q in pair if b in pair and q not in (b, c))
    qc = QuantumCircuit(3, 1)
    qc.h(0)
    qc.barrier()
    for _ in range(300):
        qc.cz(1, 2)
        qc.barrier(1, 2)  # nothing cancels
    qc.barrier()
    qc.h(0)
    qc.measure(0, 0)
    compiled = transpile(qc, DEVICE, optimization_level=0, initial_layout=[a, b, c])
    qubits = active_qubits([compiled])
    small = schedule(compact(compiled, qubits), restrict_target(DEVICE.target, qubits), None)
    waiting = qubits.index(a)
    idle = sum(
        i.operation.duration for i in small.data
        if i.operation.name == "delay" and small.find_bit(i.qubits[0]).index == waiting
    ) * DEVICE.target.dt  # fmt: skip
    t2 = DEVICE.target.qubit_properties[a].t2
    assert idle > 10e-6
    shots = 20_000
    counts = [
        AerBackend(DEVICE, suppression=Suppression(idle_noise=flag)).run([compiled], shots, seed=2)
        for flag in (False, True)
    ]
    contrast = [(t.get("0", 0) - t.get("1", 0)) / shots for (t,) in counts]
    sigma = np.sqrt(2 / shots) / contrast[0]
    assert contrast[1] / contrast[0] == pytest.approx(np.exp(-idle / t2), abs=4 * sigma + 0.02)
    assert contrast[1] < contrast[0] - 4 * np.sqrt(2 / shots)


def test_cli_records_what_was_applied_and_refuses_where_it_cannot(tmp_path, capsys):
    path = tmp_path / "h.json"
    args = ["run", "homogenization", "--alpha", "0.5", "--reservoir", "2", "--shots", "2000",
            "--seed", "1"]  # fmt: skip
    assert run_cli(*args, "--backend", "aer:fake_torino", "--twirling", "all", "--dd", "XY4",
                   "--json", str(path)) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert "Pauli twirling of gates and measurements" in out and "dynamical decoupling XY4" in out
    mitigation = json.loads(path.read_text())["mitigation"]
    assert mitigation["twirling"]["gates"] and mitigation["twirling"]["measurements"]
    assert mitigation["dynamical_decoupling"]["sequence"] == "XY4"
    assert "idle_noise" in mitigation  # DD implies the idle-time model
    for extra, flag in (
        (["--backend", "aer", "--twirling", "all"], "--twirling"),
        (["--backend", "reference", "--dd", "XX"], "--dd"),
        (["--backend", "aer", "--idle-noise"], "--idle-noise"),
        (["--backend", "ibm:fake_manila", "--idle-noise"], "--idle-noise"),
        (["--backend", "aer:fake_torino", "--mode", "session"], "--mode"),
        (["--backend", "aer:fake_torino", "--twirling", "most"], "--twirling"),
        (["--backend", "aer:fake_torino", "--twirling", "all", "--estimator"], "--twirling"),
    ):
        assert run_cli(*args, *extra) == 2
        message = capsys.readouterr().err
        assert message.count("\n") == 1 and flag in message, message


def test_stored_options_read_as_before():
    """Jobs and sweep plans stored before ``idle_noise`` existed hash and load the same."""
    assert set(IBMOptions().to_dict()) == {
        "mode", "dynamical_decoupling", "twirling", "max_execution_time"
    }  # fmt: skip
    assert IBMOptions(**IBMOptions(twirling="all").to_dict()) == IBMOptions(twirling="all")
    assert ibm_options("aer:fake_torino", idle_noise=True).to_dict()["idle_noise"] is True
    with pytest.raises(InvalidParameter, match="idle_noise"):
        ibm_options("ibm:ibm_torino", idle_noise=True)
