"""``lindblad``, a user's own open system: TOML models against closed forms and an independent
QuTiP solution written here, the circuits against both, clear errors for bad files, and the
CLI (run, compile, sweep) end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import qutip
from device_limits import assert_at_limit, noisy_limit
from test_cli import run_cli

from qcompile import OpenSystem
from qcompile.backends import ResultStore, get_backend
from qcompile.errors import InvalidParameter
from qcompile.protocols.lindblad import lindblad, run
from qcompile.protocols.lindblad_file import parse_model

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
HELD_OUT = Path(__file__).resolve().parent / "data" / "held_out_model.toml"


def _run(protocol, backend="aer", **options):
    return run(protocol, get_backend(backend), seed=3, **options)


def _model(**overrides) -> dict:
    model = {
        "qubits": 1,
        "initial": "1",
        "times": {"t_max": 2.0, "dt": 0.1, "sample_every": 0.5},
        "jump": [{"operator": "sigma-", "qubit": 0, "rate": 0.7}],
        "observables": {"Z": "Z", "X": "X"},
    }
    return model | overrides


def test_amplitude_damping_matches_the_closed_form():
    """From |1⟩ with L = √γ σ⁻: ⟨Z⟩(t) = 1 − 2e^{−γt}; the exact collision is exact (1e-9)."""
    result = _run(lindblad(_model(), lowering={"synthesis": "exact"}))
    t = np.array(result.reference["times"])
    expected = 1 - 2 * np.exp(-0.7 * t)
    np.testing.assert_allclose(result.reference["Z"], expected, atol=1e-7)
    np.testing.assert_allclose(result.ideal["Z"], expected, atol=1e-9)
    np.testing.assert_allclose(result.ideal["X"], 0, atol=1e-9)


def test_dephasing_under_a_detuning_matches_the_closed_form():
    """From |+⟩, H = (Δ/2)Z, L = √γ Z: ⟨X⟩ = e^{−2γt} cos Δt (H and L commute: Trotter exact)."""
    model = _model(
        initial="+",
        hamiltonian=[{"pauli": "Z", "coefficient": 0.6}],
        jump=[{"operator": "Z", "qubit": 0, "rate": 0.2}],
    )
    result = _run(lindblad(model))
    t = np.array(result.reference["times"])
    expected = np.exp(-0.4 * t) * np.cos(1.2 * t)
    np.testing.assert_allclose(result.reference["X"], expected, atol=1e-7)
    np.testing.assert_allclose(result.ideal["X"], expected, atol=1e-9)


def _qutip_expectations(model_path: Path, times) -> dict[str, np.ndarray]:
    """The XXZ example, written out independently with QuTiP's own operators."""
    sx, sy, sz, sm = qutip.sigmax(), qutip.sigmay(), qutip.sigmaz(), qutip.destroy(2)
    one = qutip.qeye(2)

    def op(a, i):
        ops = [one, one, one]
        ops[i] = a
        return qutip.tensor(ops)

    h = 0
    for i in (0, 1):
        h += op(sx, i) * op(sx, i + 1) + op(sy, i) * op(sy, i + 1)
        h += 0.5 * op(sz, i) * op(sz, i + 1)
    jumps = [np.sqrt(0.3) * op(sm.dag(), 0), np.sqrt(0.3) * op(sm, 2), np.sqrt(0.1) * op(sz, 1)]
    psi0 = qutip.tensor([qutip.basis(2, 0)] * 3)
    observables = {
        "Z0": op(sz, 0),
        "Z1": op(sz, 1),
        "Z2": op(sz, 2),
        "current01": 2 * op(sx, 0) * op(sy, 1) - 2 * op(sy, 0) * op(sx, 1),
    }
    solution = qutip.mesolve(
        h, psi0, times, jumps, e_ops=observables, options={"atol": 1e-12, "rtol": 1e-10}
    )
    return {k: np.asarray(v) for k, v in solution.e_data.items()}


def test_xxz_example_against_an_independent_qutip_solution():
    """Reference to 1e-6 of QuTiP written here; the second-order Trotter + collision circuit
    within its lowering error (measured O(dt²) = 1e-2 at dt = 0.1, stated tolerance 1e-2)."""
    protocol = lindblad(EXAMPLES / "xxz_chain.toml", sample_every=0.5)
    result = _run(protocol)
    expected = _qutip_expectations(EXAMPLES / "xxz_chain.toml", result.reference["times"])
    for name, values in expected.items():
        np.testing.assert_allclose(result.reference[name], values, atol=1e-6)
        np.testing.assert_allclose(result.ideal[name], values, atol=1e-2)
    # halving dt brings the circuit closer (the error is the lowering's, not a bug)
    finer = _run(lindblad(EXAMPLES / "xxz_chain.toml", dt=0.05, sample_every=0.5))
    coarse_err = max(np.max(np.abs(np.subtract(result.ideal[k], v))) for k, v in expected.items())
    fine_err = max(np.max(np.abs(np.subtract(finer.ideal[k], v))) for k, v in expected.items())
    assert fine_err < coarse_err / 3


def test_time_dependent_drive_against_qutip():
    """A cos-driven, damped qubit: coefficient forms evaluated like QuTiP's own function."""
    model = _model(
        initial="0",
        times={"t_max": 3.0, "dt": 0.02, "sample_every": 0.5},
        hamiltonian=[
            {"pauli": "X", "coefficient": {"form": "cos", "amplitude": 0.8, "frequency": 1.3}},
            {
                "pauli": "Z",
                "coefficient": {"form": "gaussian", "amplitude": 0.5, "center": 1.5, "width": 0.4},
            },  # fmt: skip
        ],
    )
    result = _run(lindblad(model))
    h = [
        [qutip.sigmax(), lambda t: 0.8 * np.cos(1.3 * t)],
        [qutip.sigmaz(), lambda t: 0.5 * np.exp(-0.5 * ((t - 1.5) / 0.4) ** 2)],
    ]
    solution = qutip.mesolve(
        qutip.QobjEvo(h),
        qutip.basis(2, 0),
        result.reference["times"],
        [np.sqrt(0.7) * qutip.destroy(2)],
        e_ops={"Z": qutip.sigmaz(), "X": qutip.sigmax()},
        options={"atol": 1e-12, "rtol": 1e-10, "max_step": 0.01},
    )
    for name in ("Z", "X"):
        np.testing.assert_allclose(result.reference[name], solution.e_data[name], atol=1e-6)
        np.testing.assert_allclose(result.ideal[name], solution.e_data[name], atol=2e-3)


def test_held_out_model_with_channel_and_pauli_jump():
    """A model file in a style the examples do not use (a mid-run channel, a two-qubit Pauli
    jump, exp and step coefficients) against QuTiP written here, segment by segment."""
    protocol = lindblad(HELD_OUT)
    result = _run(protocol)
    times = np.array(result.reference["times"])
    sx, sz, one = qutip.sigmax(), qutip.sigmaz(), qutip.qeye(2)
    h = [
        0.5 * qutip.tensor(sx, sx),
        [qutip.tensor(sz, one), lambda t: 0.4 * np.exp(-0.5 * t) + 0.1],
        [qutip.tensor(one, sx), lambda t: 0.7 if 0.5 <= t < 1.5 else 0.0],
    ]
    jumps = [
        np.sqrt(0.2) * qutip.tensor(sz, sz),
        np.sqrt(0.1) * qutip.tensor(one, qutip.destroy(2)),
    ]
    obs = {"ZI": qutip.tensor(sz, one), "IZ": qutip.tensor(one, sz), "XX": qutip.tensor(sx, sx)}
    options = {"atol": 1e-12, "rtol": 1e-10, "max_step": 0.01}
    before = times[times <= 1.0]
    rho = qutip.ket2dm(qutip.tensor(qutip.basis(2, 1), qutip.basis(2, 0)))
    first = qutip.mesolve(qutip.QobjEvo(h), rho, before, jumps, options=options)
    # bit flip with p = 0.3 on qubit 0 at t = 1 (the reported state is the one after it)
    x0 = qutip.tensor(sx, one)
    flipped = 0.7 * first.states[-1] + 0.3 * x0 * first.states[-1] * x0
    after = np.concatenate([[1.0], times[times > 1.0]])
    second = qutip.mesolve(qutip.QobjEvo(h), flipped, after, jumps, options=options)
    states = list(first.states[:-1]) + [flipped] + list(second.states[1:])
    for name, op in obs.items():
        expected = np.array([qutip.expect(op, s) for s in states])
        np.testing.assert_allclose(result.reference[name], expected, atol=1e-6)
        np.testing.assert_allclose(result.ideal[name], expected, atol=2e-2)


def test_python_open_system_runs_the_same_pipeline():
    """The Python door: an OpenSystem built by hand gives the same answer as its TOML twin."""
    sm = np.array([[0, 1], [0, 0]], dtype=complex)
    z = np.diag([1.0, -1.0]).astype(complex)
    system = OpenSystem(
        dims=(2,),
        jump_operators=(np.sqrt(0.7) * sm,),
        initial_state=np.array([0, 1], dtype=complex),
        observables={"Z": z},
    )
    by_hand = _run(lindblad(system=system, t_max=2.0, dt=0.1, sample_every=0.5))
    from_file = _run(lindblad(_model()))
    np.testing.assert_allclose(by_hand.ideal["Z"], from_file.ideal["Z"], atol=1e-12)
    assert by_hand.parameters["model"] is None


def test_tomography_on_shots_agrees_with_the_ideal_circuit():
    """Shots on the ideal simulator: tomographic ⟨O⟩ within 4σ of the exact circuit."""
    protocol = lindblad(EXAMPLES / "amplitude_damping.toml", t_max=1.0, sample_every=0.5)
    result = _run(protocol, shots=4000)
    ideal = dict(zip(result.ideal["times"], result.ideal["Z"], strict=True))
    for t, value, err in zip(result.observables["times"], result.observables["Z"],
                             result.observables["Z_stderr"], strict=True):  # fmt: skip
        assert err > 0
        assert abs(value - ideal[t]) < 4 * err + 1e-3


def test_device_noise_run_is_stored_and_compiled_for_the_device():
    """aer:fake_torino: compiled to its ISA, stored, at its noisy limit (tests/device_limits.py)."""
    store = ResultStore()
    protocol = lindblad(EXAMPLES / "amplitude_damping.toml", t_max=0.5, dt=0.25,
                        sample_every=0.25)  # fmt: skip
    result = _run(protocol, backend="aer:fake_torino", shots=2000, store=store)
    assert result.circuit["compiled"]["target"] == "fake_torino"
    assert store.get_run(result.run_id)["status"] == "done"
    limit = noisy_limit(run, protocol, "fake_torino", "Z")
    assert_at_limit(result.observables["Z"], result.observables["Z_stderr"], limit)


def test_readout_mitigated_run_keeps_the_raw_observables():
    """The same seed with and without readout mitigation: the mitigated run records the
    unmitigated run's observables as its raw ones (1e-12), moves ⟨Z⟩ toward the ideal circuit,
    and its errors (inversion included) are the wider inside the state space."""
    protocol = lindblad(EXAMPLES / "amplitude_damping.toml", t_max=0.5, dt=0.25,
                        sample_every=0.25)  # fmt: skip
    plain = _run(protocol, backend="aer:fake_manila", shots=4000)
    fixed = _run(protocol, backend="aer:fake_manila+readout-mitigation", shots=4000)
    raw = fixed.mitigation["readout"]["raw"]
    assert raw["Z"] == pytest.approx(plain.observables["Z"], abs=1e-12)
    ideal = dict(zip(fixed.ideal["times"], fixed.ideal["Z"], strict=True))
    times = fixed.observables["times"]
    error = [abs(v - ideal[t]) for t, v in zip(times, fixed.observables["Z"], strict=True)]
    raw_error = [abs(v - ideal[t]) for t, v in zip(times, raw["Z"], strict=True)]
    assert np.mean(error) < np.mean(raw_error)
    # at the most mixed time (t = 0.5). Near the pure initial state the inverted resamples
    # leave the Bloch ball and the projection onto states clips their spread (t = 0: 0.001
    # against 0.004; at t = 0.25, Z = 0.96, it may go either way with the seed)
    assert fixed.observables["Z_stderr"][-1] > raw["Z_stderr"][-1]


@pytest.mark.parametrize(
    "change,key",
    [
        ({"qubits": 0}, "qubits"),
        ({"qubits": 1.5}, "qubits"),
        ({"initial": "2"}, "initial"),
        ({"times": {"t_max": 1.0, "dt": 0.3}}, "times.dt"),
        ({"times": {"t_max": float("nan"), "dt": 0.1}}, "times.t_max"),
        ({"times": {"t_max": 1.0}}, "times.dt"),
        ({"hamiltonian": [{"pauli": "XX"}]}, "hamiltonian[0].pauli"),
        ({"hamiltonian": [{"pauli": "Q"}]}, "hamiltonian[0].pauli"),
        (
            {"hamiltonian": [{"pauli": "X", "coefficient": {"form": "eval", "x": "1"}}]},
            "hamiltonian[0].coefficient.form",
        ),  # fmt: skip
        (
            {"hamiltonian": [{"pauli": "X", "coefficient": {"form": "cos", "amplitude": 1}}]},
            "hamiltonian[0].coefficient.frequency",
        ),  # fmt: skip
        (
            {"hamiltonian": [{"pauli": "X", "coefficient": "__import__('os')"}]},
            "hamiltonian[0].coefficient",
        ),  # fmt: skip
        ({"jump": [{"operator": "sigma-", "qubit": 3, "rate": 1}]}, "jump[0].qubit"),
        ({"jump": [{"operator": "sigma-", "qubit": 0, "rate": -1}]}, "jump[0].rate"),
        ({"jump": [{"operator": "kick", "qubit": 0, "rate": 1}]}, "jump[0].operator"),
        ({"channel": [{"time": 0.25, "kind": "dephasing", "qubit": 0}]}, "channel[0].time"),
        ({"channel": [{"time": 1.0, "kind": "erase", "qubit": 0}]}, "channel[0].kind"),
        ({"observables": {}}, "observables"),
        ({"observables": {"Z": "ZZ"}}, "observables.Z"),
        ({"extra": 1}, "extra"),
        ({"lowering": {"rule": "magic"}}, "rule"),
    ],
)
def test_bad_models_name_the_key(change, key):
    with pytest.raises(InvalidParameter) as caught:
        lindblad(_model(**change))
    assert caught.value.name == key
    assert "\n" not in str(caught.value)


def test_cli_run_compile_and_sweep(tmp_path, capsys):
    """The README commands: run on aer (JSON keys, plot), compile to OpenQASM 3 and QPY, and
    a sweep over dt whose points are stored with the model (replayable without the file)."""
    model = tmp_path / "model.toml"
    model.write_text((EXAMPLES / "amplitude_damping.toml").read_text())
    out, png = tmp_path / "ad.json", tmp_path / "ad.png"
    code = run_cli("run", "lindblad", "--model", str(model), "--backend", "aer", "--seed", "1",
                   "--json", str(out), "--plot", str(png))  # fmt: skip
    assert code == 0
    data = json.loads(out.read_text())
    for block in ("observables", "ideal", "reference"):
        assert set(data[block]) >= {"times", "X", "Y", "Z", "excited"}
    assert data["parameters"]["model"]["qubits"] == 1
    assert max(abs(a - b) for a, b in zip(data["ideal"]["Z"], data["reference"]["Z"],
                                          strict=True)) < 1e-3  # fmt: skip
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert "max |ideal - reference|" in capsys.readouterr().out

    qasm, qpy_path = tmp_path / "c.qasm", tmp_path / "c.qpy"
    assert run_cli("compile", "lindblad", "--model", str(model), "--t-max", "1",
                   "--target", "fake_torino", "-o", str(qasm)) == 0  # fmt: skip
    assert qasm.read_text().startswith("OPENQASM 3")
    assert run_cli("compile", "lindblad", "--model", str(model), "--t-max", "1",
                   "-o", str(qpy_path)) == 0  # fmt: skip
    from qiskit import qpy

    with qpy_path.open("rb") as handle:
        (circuit,) = qpy.load(handle)
    assert circuit.num_qubits > 2  # placed on the device

    sweep_json = tmp_path / "sweep.json"
    code = run_cli("sweep", "lindblad", "--param", f"model={model}", "--param", "t_max=1",
                   "--grid", "dt=0.1,0.05", "--option", "order=1", "--backend", "aer",
                   "--workers", "1", "--json", str(sweep_json))  # fmt: skip
    assert code == 0
    points = json.loads(sweep_json.read_text())["points"]
    assert [p["parameters"]["dt"] for p in points] == [0.1, 0.05]
    assert all(p["parameters"]["lowering"]["order"] == 1 for p in points)
    # first-order splitting: the error halves with dt (the exact map is the reference)
    errors = [max(abs(a - b) for a, b in zip(p["ideal"]["Z"], p["reference"]["Z"], strict=True))
              for p in points]  # fmt: skip
    assert 1.6 < errors[0] / errors[1] < 2.4
    capsys.readouterr()
    assert run_cli("sweep", "lindblad", "--param", f"model={model}", "--grid", "dt=0.1,0.05",
                   "--option", "bogus=1", "--backend", "aer") == 2  # fmt: skip
    assert "--option" in capsys.readouterr().err
    model.unlink()  # the stored table is enough to run a point again
    replayed = lindblad(points[1]["parameters"]["model"])
    assert replayed.dt == 0.05


@pytest.mark.parametrize(
    "args,flag",
    [
        (["--model", "/nonexistent/model.toml"], "--model"),
        (["--order", "3"], "--order"),
        (["--rule", "magic"], "--rule"),
        (["--dt", "0.07"], "--dt="),
        (["--backend", "aer:fake_nowhere"], "fake_torino"),
        (["--json", "/proc/x.json"], "--json"),  # a directory that takes no file
        (["--json", "/tmp/" + "a" * 300 + ".json"], "--json"),  # a name too long
        (["--plot", "/tmp"], "--plot"),
    ],
)
def test_cli_bad_input_is_one_line_and_nothing_is_stored(args, flag, tmp_path, capsys):
    if "--model" not in args:
        args = ["--model", str(EXAMPLES / "amplitude_damping.toml"), *args]
    if "--backend" not in args:
        args = [*args, "--backend", "aer"]
    out = tmp_path / "r.json"
    if "--json" not in args:
        args = [*args, "--json", str(out)]
    code = run_cli("run", "lindblad", *args)
    captured = capsys.readouterr()
    assert code == 2
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0], captured.err
    assert "Traceback" not in captured.err + captured.out
    assert not out.exists()
    assert ResultStore().list_runs() == []


def test_a_reference_of_hours_is_refused_with_its_estimate(tmp_path, capsys):
    """A jump rate of 1e6 to t = 6 (QuTiP's steps follow 1/rate: hours) is refused before any
    work, naming --t-max with t_max × rate; the example itself (rate 0.2) is ~23 rate-times."""
    from qcompile.protocols.lindblad import fastest_rate

    text = (EXAMPLES / "amplitude_damping.toml").read_text()
    fast = tmp_path / "fast.toml"
    fast.write_text(text.replace("rate = 0.2 ", "rate = 1e6 "))
    code = run_cli("run", "lindblad", "--model", str(fast), "--backend", "reference")
    err = capsys.readouterr().err
    assert code == 2 and "--t-max=6" in err and "6e+06" in err and "Traceback" not in err
    assert ResultStore().list_runs() == []
    example = lindblad(EXAMPLES / "amplitude_damping.toml")
    # ‖Ω/2 X‖ + γ‖σ⁻‖² + max|Δ(t)/2|·‖Z‖ = 0.5 + 0.2 + 0.25
    assert fastest_rate(example.system, example.t_max) == pytest.approx(0.95, rel=1e-12)


def test_bad_toml_syntax_is_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("qubits = = 2\n")
    assert run_cli("run", "lindblad", "--model", str(bad), "--backend", "aer") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--model" in err[0] and "TOML" in err[0]


def test_model_round_trips_through_its_parameters():
    protocol = lindblad(EXAMPLES / "xxz_chain.toml")
    again = parse_model(protocol.parameters()["model"])
    np.testing.assert_allclose(again.system.hamiltonian, protocol.system.hamiltonian)
    assert len(again.system.jump_operators) == 3


def test_sigterm_marks_the_run_failed_never_running(tmp_path):
    """A run stopped by SIGTERM is stored as failed with the reason (exit 143); the store is
    in WAL mode, so this test reads it while the run writes."""
    import os
    import signal
    import sqlite3
    import subprocess
    import sys
    import time

    home = tmp_path / "home"
    env = os.environ | {"QCOMPILE_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "qcompile.cli", "run", "lindblad", "--model",
         str(EXAMPLES / "xxz_chain.toml"), "--dt", "0.025", "--backend", "aer:fake_torino",
         "--shots", "4000"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    database = home / "qcompile.db"
    deadline = time.monotonic() + 120
    status = []
    while time.monotonic() < deadline and not status:  # polled: no fixed wait
        time.sleep(0.02)
        if database.exists():
            try:
                with sqlite3.connect(database, timeout=5) as db:
                    status = db.execute("SELECT status FROM runs").fetchall()
            except sqlite3.OperationalError:  # the schema is being created
                continue
    assert status == [("running",)]
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, err
    assert "Traceback" not in err and "SIGTERM" in err
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        ((state, error),) = db.execute("SELECT status, error FROM runs").fetchall()
    assert state == "failed" and error.startswith("Terminated: SIGTERM")


def test_partial_state_matches_qutip():
    """The runner's reduction to the measured subsystems vs QuTiP's ptrace (random state)."""
    from qcompile.model import partial_state

    rng = np.random.default_rng(7)
    a = rng.normal(size=(8, 8)) + 1j * rng.normal(size=(8, 8))
    rho = a @ a.conj().T
    rho /= np.trace(rho)
    q = qutip.Qobj(rho, dims=[[2, 2, 2], [2, 2, 2]])
    for keep in ([0], [1], [2], [0, 1], [0, 2], [1, 2], [0, 1, 2]):
        np.testing.assert_allclose(
            partial_state(rho, (2, 2, 2), keep), q.ptrace(keep).full(), atol=1e-12
        )
