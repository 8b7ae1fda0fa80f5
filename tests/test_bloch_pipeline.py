"""The one runner's Bloch path (qcompile.run.bloch_pipeline): a third party's protocol that
declares only ``reference``, ``tomography_tasks`` and ``estimate_blochs`` is run, measured and
stored like homogenization — checked against the closed form of rotated qubits —, its own
run options are read and refused before any store write, and homogenization, now on this
path, keeps its numbers through the deprecated ``run_experiment``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from types import SimpleNamespace

import numpy as np
import pytest
from qiskit import QuantumCircuit

from qcompile.backends import ResultStore, get_backend
from qcompile.errors import InvalidParameter, QCompileError
from qcompile.protocols.homogenization import homogenization
from qcompile.protocols.parameters import Parameter
from qcompile.protocols.plugin import DataFlowPlugin, _missing_flow, get_protocol
from qcompile.states.tomography import TomographyTask

THETAS = (0.3, 1.1, 2.0, 2.9)


@dataclass(frozen=True)
class Rotations:
    """Qubit j from |0⟩ rotated by RY(θ_j), then RZ(φ) on every qubit: Bloch vector
    (sin θ cos φ, sin θ sin φ, cos θ)."""

    phi: float = 0.4
    name = "rotations"

    def parameters(self) -> dict:
        return {"phi": self.phi}


def _closed_form(protocol: Rotations) -> dict:
    t = np.array(THETAS)
    return {"x": (np.sin(t) * np.cos(protocol.phi)).tolist(),
            "y": (np.sin(t) * np.sin(protocol.phi)).tolist(), "z": np.cos(t).tolist()}  # fmt: skip


def _tasks(protocol: Rotations) -> list[TomographyTask]:
    """Two tasks: the first qubit alone after its own rotation, then all qubits."""
    first = QuantumCircuit(1)
    first.ry(THETAS[0], 0)
    first.rz(protocol.phi, 0)
    every = QuantumCircuit(len(THETAS))
    for j, theta in enumerate(THETAS):
        every.ry(theta, j)
        every.rz(protocol.phi, j)
    return [
        TomographyTask("first", first, (0,)),
        TomographyTask("all", every, tuple(range(len(THETAS)))),
    ]


def _estimate(protocol: Rotations, blochs: list[np.ndarray]) -> dict:
    """Every qubit's x, y, z from the second task; ``first_z`` from the first."""
    every = blochs[1]
    return {"x": every[..., :, 0], "y": every[..., :, 1], "z": every[..., :, 2],
            "first_z": blochs[0][..., 0, 2]}  # fmt: skip


SEEN: dict = {}


def _side(protocol: Rotations, options: dict):
    SEEN["options"] = dict(options)
    if options.get("note_only"):
        raise InvalidParameter("note_only", True, "false (this test's refusal)")
    return None


ROTATIONS = DataFlowPlugin(
    SimpleNamespace(
        NAME="rotations",
        SUMMARY="rotated qubits",
        PARAMETERS=(Parameter("phi", "float", 0.4, "any real"),),
        RUN_OPTIONS=(
            Parameter("verbose", "bool", False, "true|false"),
            Parameter("note_only", "bool", False, "true|false"),
        ),  # fmt: skip
        from_mapping=lambda values: Rotations(**values),
        reference=_closed_form,
        tomography_tasks=_tasks,
        estimate_blochs=_estimate,
        side_experiment=_side,
    )
)


def test_the_registry_knows_the_bloch_path():
    """A plugin with ``tomography_tasks`` needs the three Bloch-path hooks; it is offered
    ZNE and the Estimator besides its own options."""
    assert _missing_flow(SimpleNamespace(reference=1, tomography_tasks=1)) == ["estimate_blochs"]
    assert [p.name for p in ROTATIONS.RUN_OPTIONS] == [
        "verbose", "note_only", "zne", "estimator", "resilience_level"]  # fmt: skip
    assert _missing_flow(get_protocol("homogenization")) == []


def test_a_third_party_bloch_protocol_reproduces_the_closed_form():
    """Without shots the ideal (exact reduced states) is the closed form to 1e-12; the run is
    stored with its recipe (own options at their default not recorded, ``bool`` options read
    from text) and its program circuit (default: the last task's) compiled."""
    store = ResultStore()
    result = ROTATIONS.run(Rotations(), get_backend("aer"), seed=2, store=store,
                           verbose="true", note_only="no")  # fmt: skip
    exact = _closed_form(Rotations())
    for key in ("x", "y", "z"):
        assert result.ideal[key] == pytest.approx(exact[key], abs=1e-12)
        assert result.observables[key] == result.ideal[key]
    assert result.ideal["first_z"] == pytest.approx(np.cos(THETAS[0]), abs=1e-12)
    assert SEEN["options"] == {"verbose": True, "note_only": False}
    stored = store.get_run(store.latest_run())
    assert stored["recipe"]["runner"] == "rotations"
    assert stored["recipe"]["options"]["verbose"] is True
    assert "note_only" not in stored["recipe"]["options"]
    assert result.circuit["num_qubits"] == len(THETAS)
    assert store.load_circuits(result.run_id)[0].num_qubits == len(THETAS)


def test_a_third_party_bloch_protocol_on_shots_within_its_bootstrap_errors():
    """With shots every Bloch component lies within 4σ of the closed form (bootstrap
    standard errors, all > 0; 3 circuits per task: 6 in all)."""
    result = ROTATIONS.run(Rotations(phi=1.3), get_backend("aer"), shots=4000, seed=5)
    exact = _closed_form(Rotations(phi=1.3))
    for key in ("x", "y", "z"):
        for value, error, want in zip(result.observables[key],
                                      result.observables[f"{key}_stderr"], exact[key],
                                      strict=True):  # fmt: skip
            assert error > 0 and abs(value - want) < 4 * error, (key, value, want)


def test_readout_mitigation_and_zne_of_the_bloch_vectors_on_device_noise():
    """On FakeManila with its readout inverted (mthree) and ZNE, every Bloch component lies
    within 4σ of the closed form; the scale-1 and the uninverted values are kept, and the
    uninverted z of |0⟩-like qubits carries the readout's bias (beyond 4σ)."""
    result = ROTATIONS.run(Rotations(), get_backend("aer:fake_manila+readout-mitigation"),
                           shots=4000, seed=3, zne=(1, 3))  # fmt: skip
    exact = _closed_form(Rotations())
    for key in ("x", "y", "z"):
        for value, error, want in zip(result.observables[key],
                                      result.observables[f"{key}_stderr"], exact[key],
                                      strict=True):  # fmt: skip
            assert abs(value - want) < 4 * error, (key, value, want)
    assert result.mitigation["zne"]["scale_factors"] == [1, 3]
    assert len(result.mitigation["zne"]["raw"]["z"]) == len(THETAS)
    raw = result.mitigation["readout"]["raw"]
    assert abs(raw["z"][0] - exact["z"][0]) > 4 * raw["z_stderr"][0]


@pytest.mark.parametrize(
    ("options", "backend", "match"),
    [
        ({"colour": "red"}, "aer", "colour.*a run option of rotations"),
        ({"verbose": "perhaps"}, "aer", "verbose"),
        ({"note_only": True}, "aer", "note_only"),
        ({"zne": (1, 2)}, "aer:fake_manila", "zne"),
        ({"estimator": "maybe"}, "aer", "estimator"),
        ({"estimator": True, "resilience_level": 5}, "aer", "resilience_level"),
        ({"shots": 0}, "aer", "shots"),
    ],
)
def test_bad_options_are_refused_before_anything_is_stored(options, backend, match):
    store = ResultStore()
    with pytest.raises(InvalidParameter, match=match):
        ROTATIONS.check(Rotations(), get_backend(backend), **options)
    with pytest.raises(InvalidParameter, match=match):
        ROTATIONS.run(Rotations(), get_backend(backend), store=store, **options)
    assert store.list_runs() == []


def test_the_former_homogenization_runner_still_works_with_the_same_numbers():
    """``qcompile.run.experiment.run_experiment`` warns and gives the plugin's result."""
    from qcompile.run.experiment import run_experiment

    protocol = homogenization(alpha=0.4, reservoir=2)
    backend = get_backend("aer")
    with pytest.warns(DeprecationWarning, match="run_experiment"):
        old = run_experiment(protocol, backend, shots=500, seed=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        new = get_protocol("homogenization").run(protocol, backend, shots=500, seed=4)
    assert old.observables == new.observables and old.ideal == new.ideal
    assert new.ideal["system_fidelity"] == pytest.approx(new.reference["system_fidelity"],
                                                         abs=1e-12)  # fmt: skip


def test_a_reference_that_takes_solvers_gets_the_defaults_with_replacements():
    """``reference(protocol, solvers)`` gets qcompile's solvers by name, the caller's
    replacing theirs (here the run on the reference backend: no circuit is built)."""
    seen = {}

    def reference(protocol, solvers):
        seen.update(solvers)
        return _closed_form(protocol)

    plugin = DataFlowPlugin(SimpleNamespace(**{**vars(ROTATIONS.module), "reference": reference}))
    marker = object()
    result = plugin.run(Rotations(), get_backend("reference"), seed=1, solvers={"mine": marker})
    assert seen["mine"] is marker and "lindblad_reference" in seen
    assert result.reference["z"] == pytest.approx(np.cos(THETAS), abs=1e-15)
    assert result.observables == {} and result.circuit == {}


def test_a_side_experiment_may_fill_only_an_optional_block():
    """A side experiment naming a block the result does not keep (or another stage's) is a
    plugin error, said before anything is stored — not a block silently lost."""
    side = SimpleNamespace(option="verbose", block="observables")
    plugin = DataFlowPlugin(SimpleNamespace(**{**vars(ROTATIONS.module),
                                               "side_experiment": lambda p, o: side}))  # fmt: skip
    store = ResultStore()
    with pytest.raises(QCompileError, match="side_experiment.*'observables'.*recoverability"):
        plugin.run(Rotations(), get_backend("aer"), store=store)
    assert store.list_runs() == []
