"""The one runner's states path (qcompile.run.state_pipeline): a third party's protocol that
declares only ``reference``, ``lower_evolution``, ``measured_qubits`` and ``estimate_states``
is lowered, run, tomographed and stored like the built-in open systems — checked against the
closed form of amplitude damping —, bad options are refused before any store write, and the
former open-system runners still work, deprecated, with the same numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest

from qcompile.backends import ResultStore, get_backend
from qcompile.errors import InvalidParameter, QCompileError
from qcompile.lowering.dynamics import lower_dynamics
from qcompile.model import OpenSystem
from qcompile.protocols.coherent_feedback import coherent_feedback
from qcompile.protocols.parameters import Parameter
from qcompile.protocols.plugin import DataFlowPlugin, _missing_flow, get_protocol

GAMMA = 0.8
X = np.array([[0, 1], [1, 0]], dtype=complex)
Z = np.diag([1.0, -1.0]).astype(complex)


@dataclass(frozen=True)
class Decay:
    """A qubit from |+⟩ under amplitude damping at rate GAMMA (|1⟩ → |0⟩)."""

    t_max: float = 2.0
    dt: float = 0.25
    name = "decay"

    def parameters(self) -> dict:
        return {"t_max": self.t_max, "dt": self.dt}


def _closed_form(times) -> dict:
    """⟨X⟩ = e^{−γt/2}, ⟨Z⟩ = 1 − e^{−γt} from |+⟩ (P₁(t) = e^{−γt}/2)."""
    t = np.asarray(times, dtype=float)
    return {"X": np.exp(-GAMMA * t / 2).tolist(), "Z": (1 - np.exp(-GAMMA * t)).tolist()}


def _times(protocol: Decay) -> list[float]:
    return [round(k * protocol.dt, 12) for k in range(round(protocol.t_max / protocol.dt) + 1)]


def _lower(protocol: Decay, options: dict):
    system = OpenSystem(
        dims=(2,),
        jump_operators=(math.sqrt(GAMMA) * np.array([[0, 1], [0, 0]]),),
        initial_state=np.array([1, 1]) / math.sqrt(2),
    )
    return lower_dynamics(system, t_max=protocol.t_max, dt=protocol.dt,
                          checkpoints=_times(protocol), collision="exact")  # fmt: skip


def _estimate(protocol: Decay, times, states) -> dict:
    return {name: [float(np.real(np.trace(rho @ op))) for rho in states]
            for name, op in (("X", X), ("Z", Z))}  # fmt: skip


DECAY = DataFlowPlugin(
    SimpleNamespace(
        NAME="decay",
        SUMMARY="a decaying qubit",
        PARAMETERS=(Parameter("t_max", "float", 2.0, "t_max > 0"),),
        from_mapping=lambda values: Decay(**values),
        reference=lambda protocol: {"times": _times(protocol)} | _closed_form(_times(protocol)),
        lower_evolution=_lower,
        measured_qubits=lambda protocol: [0],
        estimate_states=_estimate,
    )
)


def test_a_third_party_states_protocol_reproduces_the_closed_form():
    """Without shots the ideal circuit (exact collisions) is the closed form to 1e-8 and the
    observables are the ideal with zero errors; the run is stored with its recipe
    (``device_every`` 1 by default) and the lowering report."""
    assert [p.name for p in DECAY.RUN_OPTIONS] == ["device_every", "zne", "estimator",
                                                   "resilience_level"]  # fmt: skip
    store = ResultStore()
    result = DECAY.run(Decay(), get_backend("aer"), seed=3, store=store)
    exact = _closed_form(result.ideal["times"])
    for key in ("X", "Z"):
        assert result.ideal[key] == pytest.approx(exact[key], abs=1e-8)
        assert result.observables[key] == result.ideal[key]
        assert result.observables[f"{key}_stderr"] == [0.0] * len(exact[key])
    assert result.reference["X"] == pytest.approx(exact["X"], abs=1e-15)
    assert result.circuit["lowering"]["steps"] == 8
    stored = store.get_run(store.latest_run())
    assert stored["recipe"]["runner"] == "decay"
    assert stored["recipe"]["options"]["device_every"] == 1


def test_a_third_party_states_protocol_on_shots_within_its_bootstrap_errors():
    """With shots: tomography at every 3rd checkpoint and the last, each value within 4σ of
    the ideal circuit (bootstrap standard errors, all > 0)."""
    result = DECAY.run(Decay(), get_backend("aer"), shots=4000, seed=11, device_every=3)
    obs = result.observables
    assert obs["times"] == [0.0, 0.75, 1.5, 2.0]
    ideal = dict(zip(result.ideal["times"], result.ideal["X"], strict=True))
    for t, value, error in zip(obs["times"], obs["X"], obs["X_stderr"], strict=True):
        assert error > 0 and abs(value - ideal[t]) < 4 * error + 1e-3, (t, value, ideal[t])
    assert result.circuit["compiled"]["num_qubits"] >= 2


@pytest.mark.parametrize(
    ("options", "backend", "match"),
    [
        ({"device_every": 0}, "aer", "device_every"),
        ({"device_every": 1.5}, "aer", "device_every"),
        ({"rule": "left"}, "aer", "rule.*a run option of decay"),
        ({"zne": (1, 2)}, "aer:fake_manila", "zne"),
        ({"estimator": True}, "reference", "estimator.*circuit backend"),
        ({"estimator": "maybe"}, "aer", "estimator"),
        ({"shots": 0}, "aer", "shots"),
    ],
)
def test_bad_options_are_refused_before_the_store_is_touched(options, backend, match):
    store = ResultStore()
    with pytest.raises(InvalidParameter, match=match):
        DECAY.run(Decay(), get_backend(backend), store=store, **options)
    assert store.list_runs() == []


def test_an_incomplete_states_flow_names_what_it_lacks():
    partial = SimpleNamespace(reference=None, lower_evolution=None)
    assert _missing_flow(partial) == ["measured_qubits", "estimate_states"]


def test_the_former_open_system_runners_warn_and_give_the_same_numbers():
    """``run_dynamics`` (tomography at every 5th time by default) and ``run_open_system`` are
    the registry's run under their old names: the same seed gives the same result."""
    from qcompile.run.open_system import run_dynamics, run_open_system

    cf = coherent_feedback(gamma=3.0, t_max=0.5, dt=0.05, sample_every=0.05)
    plugin = get_protocol("coherent-feedback")
    new = plugin.run(cf, get_backend("aer"), shots=500, seed=2)
    with pytest.warns(DeprecationWarning, match="run_dynamics"):
        old = run_dynamics(cf, get_backend("aer"), shots=500, seed=2)
    assert old.observables == new.observables and old.ideal == new.ideal
    assert new.observables["times"] == [0.0, 0.25, 0.5]
    with pytest.warns(DeprecationWarning, match="run_open_system"):
        again = run_open_system(cf, get_backend("aer"), lowering={"rule": "rotating"},
                                shots=500, seed=2, device_every=5)  # fmt: skip
    assert again.observables == new.observables
    with pytest.raises(QCompileError, match="lowering"):
        plugin.run(cf, get_backend("aer"), lowering={"steps": 3})


def test_the_encodings_run_on_the_states_path_with_their_former_entry_point():
    """The dissipative-qubit encodings: one evolution per encoded state (a mapping), their
    stored recipe as before (solver, heom, collisions, device_every), the ideal circuit on the
    Lindblad reference at the collision times (1e-8: each collision is e^{dt𝓛} exactly), and
    ``run_encodings`` warning with the very same numbers."""
    from qcompile.protocols.dissipative_qubits import dissipative_qubits
    from qcompile.run.encodings import run_encodings

    protocol = dissipative_qubits(t_max=4.0, dt=0.5, encodings="af")
    plugin = get_protocol("dissipative-qubits")
    store = ResultStore()
    new = plugin.run(protocol, get_backend("aer"), collisions=2, device_every=1, shots=200,
                     seed=2, store=store)  # fmt: skip
    recipe = store.get_run(store.latest_run())["recipe"]
    assert recipe["options"] | {"seed": 2} == {
        "solver": "lindblad", "heom": None, "collisions": 2, "device_every": 1, "shots": 200,
        "seed": 2,
    }  # fmt: skip
    assert new.observables["times"] == [2.0, 4.0] and new.ideal["times"] == [0.0, 2.0, 4.0]
    reference = dict(zip(new.reference["times"], new.reference["af"]["fidelity"], strict=True))
    for t, value in zip(new.ideal["times"], new.ideal["af"]["fidelity"], strict=True):
        assert value == pytest.approx(reference[t], abs=1e-8)
    assert all(e > 0 for e in new.observables["af"]["fidelity_stderr"])
    with pytest.warns(DeprecationWarning, match="run_encodings"):
        old = run_encodings(protocol, get_backend("aer"), collisions=2, device_every=1,
                            shots=200, seed=2)  # fmt: skip
    assert old.observables == new.observables


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({"heom": {"depht": 2}}, "heom_depht"),
        ({"solver": "heom", "heom": {"depht": 2}}, "heom_depht.*a HEOM setting"),
        ({"collisions": 0}, "collisions"),
        ({"solver": "exact"}, "solver"),
        ({"shots_per_basis": 3}, "shots_per_basis.*a run option"),
    ],
)
def test_bad_encoding_options_are_refused_before_the_store_is_touched(options, match):
    from qcompile.protocols.dissipative_qubits import dissipative_qubits

    protocol = dissipative_qubits(t_max=4.0, dt=0.5, omega_c=10.0, encodings="af")
    store = ResultStore()
    with pytest.raises(InvalidParameter, match=match):
        get_protocol("dissipative-qubits").run(protocol, get_backend("aer"), store=store,
                                               **options)  # fmt: skip
    assert store.list_runs() == []


def test_compile_writes_every_encoded_circuit_of_the_states_path(tmp_path, capsys):
    """``qcompile compile dissipative-qubits`` compiles the whole circuit of each encoded
    state (its ``--collisions`` resolved as a run resolves them) to one QPY file, as the run
    compiles it: with checkpoint barriers, the readout unitary left to the estimates (the run
    rotates its tomographed states by it); each keeps the exact end state of the two system
    qubits before that readout (density matrices with the resets, 1e-9, all-to-all target:
    no layout). OpenQASM 3 holds one circuit: refused by name."""
    from qiskit import qpy
    from qiskit.quantum_info import DensityMatrix, partial_trace
    from test_cli import run_cli

    from qcompile.protocols import encoding_flow
    from qcompile.protocols.dissipative_qubits import dissipative_qubits

    path = tmp_path / "af.qpy"
    args = ("compile", "dissipative-qubits", "--encodings", "af", "--t-max", "4", "--dt",
            "0.5", "--collisions", "2", "--target", "all_to_all_cx")  # fmt: skip
    assert run_cli(*args, "-o", str(path)) == 0
    with path.open("rb") as handle:
        compiled = qpy.load(handle)
    protocol = dissipative_qubits(t_max=4.0, dt=0.5, encodings="af")
    lowered = encoding_flow.lower_evolution(protocol, {"collisions": 2})
    assert len(compiled) == len(lowered) == 6
    for ours, evolution in zip(compiled, lowered.values(), strict=True):
        assert any(i.operation.name == "barrier" for i in ours.data)
        want = partial_trace(DensityMatrix(evolution.circuit), [2, 3]).data
        got = partial_trace(DensityMatrix(ours.remove_final_measurements(inplace=False)),
                            [2, 3]).data  # fmt: skip
        v = evolution.decoding
        assert np.allclose(v @ got @ v.conj().T, want, atol=1e-9)
    capsys.readouterr()
    assert run_cli(*args, "-o", str(tmp_path / "af.qasm")) == 2
    assert "--output" in capsys.readouterr().err


def test_richardson_extrapolation_of_states_is_exact_on_a_linear_noise_model():
    """ρ(λ) = ρ₀ + λΔ at λ = 1, 3 (Δ traceless, Hermitian): the extrapolation returns ρ₀
    (interior, so the projection onto the states leaves it) to 1e-12, resample by resample;
    an unphysical intercept is projected onto the nearest state (PSD, unit trace)."""
    from qcompile.run.zne import extrapolate_states
    from qcompile.states.tomography import StateEstimate

    rho0 = np.array([[0.7, 0.1 - 0.05j], [0.1 + 0.05j, 0.3]])
    delta = np.array([[-0.05, 0.02j], [-0.02j, 0.05]])
    by_scale = [[StateEstimate(rho0 + lam * delta, [rho0 + lam * delta * b for b in (1, 2)],
                               1000)] for lam in (1, 3)]  # fmt: skip
    (out,) = extrapolate_states(by_scale, (1, 3))
    assert np.allclose(out.mean, rho0, atol=1e-12)
    assert all(np.allclose(s, rho0, atol=1e-12) for s in out.samples)
    # diag(0.95, 0.05) and diag(0.75, 0.25): their intercept diag(1.05, -0.05) is not a state
    far = [[StateEstimate(np.diag([1.05, -0.05]) - lam * np.diag([0.1, -0.1]), [], 1)]
           for lam in (1, 3)]  # fmt: skip
    (projected,) = extrapolate_states(far, (1, 3))
    assert np.allclose(projected.mean, np.diag([1.0, 0.0]), atol=1e-12)


def test_zne_on_the_states_path_extrapolates_the_tomographed_states():
    """The decaying qubit on FakeManila's noise with ``zne=1,3``: the folded circuits run in
    the same job, the result records the scale factors, the folding and the scale-1
    observables (``raw``), the extrapolated ⟨Z⟩ lies within 4σ of the ideal circuit, and its
    errors are the wider ones of an extrapolation; ZNE is refused without device noise and
    with the Estimator, before anything is stored."""
    store = ResultStore()
    result = DECAY.run(Decay(t_max=1.0, dt=0.5), get_backend("aer:fake_manila"), shots=4000,
                       seed=5, zne="1,3", store=store)  # fmt: skip
    record = result.mitigation["zne"]
    assert record["scale_factors"] == [1, 3] and record["weights"] == [1.5, -0.5]
    assert "between resets" in record["folding"]
    ideal = dict(zip(result.ideal["times"], result.ideal["Z"], strict=True))
    obs = result.observables
    for t, value, error, raw_error in zip(obs["times"], obs["Z"], obs["Z_stderr"],
                                          record["raw"]["Z_stderr"], strict=True):  # fmt: skip
        assert abs(value - ideal[t]) < 4 * error + 0.01, (t, value, ideal[t])
        assert error >= raw_error
    assert store.get_run(store.latest_run())["recipe"]["options"]["zne"] == [1, 3]
    before = len(store.list_runs())
    with pytest.raises(InvalidParameter, match="zne.*device-noise"):
        DECAY.run(Decay(), get_backend("aer"), zne="1,3", store=store)
    with pytest.raises(InvalidParameter, match="zne.*not with the Estimator"):
        DECAY.run(Decay(), get_backend("aer:fake_manila"), zne="1,3", estimator=True,
                  store=store)  # fmt: skip
    assert len(store.list_runs()) == before
