"""End to end through the Python API: exact, sampled and device-noise runs vs the reference,
and the store keeps every run (done or failed)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SPEC_XI
from device_limits import assert_at_limit, noisy_limit

from qcompile.backends import ResultStore, get_backend
from qcompile.errors import InvalidParameter
from qcompile.protocols import homogenization
from qcompile.protocols.homogenization import run as run_experiment
from qcompile.results import RunResult


def test_exact_ideal_run_equals_reference():
    h = homogenization(alpha=0.5, reservoir=5, reservoir_state=SPEC_XI)
    result = run_experiment(h, get_backend("aer"), seed=1)
    for key in ("system_fidelity", "reservoir_fidelity"):
        assert np.allclose(result.observables[key], result.reference[key], atol=1e-10)
        assert np.allclose(result.ideal[key], result.reference[key], atol=1e-10)
    # the circuit as it runs (from |0…0⟩): the first collision meets two known states (1 CX),
    # every later one a fresh reservoir qubit (2 CX, an isometry) — 3 each as an operator
    assert result.circuit["two_qubit_gates"] == 2 * h.reservoir - 1


def test_sampled_ideal_run_agrees_within_errors():
    h = homogenization(alpha=0.3, reservoir=3, input_state="1", reservoir_state="polar:1.2,0.7")
    result = run_experiment(h, get_backend("aer"), shots=8000, seed=4)
    for key in ("system_fidelity", "reservoir_fidelity"):
        measured = np.array(result.observables[key])
        stderr = np.array(result.observables[f"{key}_stderr"])
        reference = np.array(result.reference[key])
        assert np.all(stderr > 0)
        assert np.all(np.abs(measured - reference) < 5 * stderr + 2e-3)


def test_device_noise_run_follows_reference_and_is_stored():
    """Spec 000 §3: the fixed point is noise-robust — the device curve is at its noisy limit
    (two-sided, 4σ: tests/device_limits.py), and that limit lies below the exact one."""
    store = ResultStore()
    h = homogenization(alpha=0.5, reservoir=3)
    result = run_experiment(h, get_backend("aer:fake_torino"), shots=2000, seed=7, store=store)
    limit = noisy_limit(run_experiment, h, "fake_torino", "system_fidelity")
    assert_at_limit(result.observables["system_fidelity"],
                    result.observables["system_fidelity_stderr"], limit)  # fmt: skip
    reference = np.array(result.reference["system_fidelity"])
    assert np.all(limit[0][1:] < reference[1:])
    row = store.get_run(result.run_id)
    assert row["status"] == "done"
    assert row["result"].observables == result.observables
    assert len(store.load_circuits(result.run_id)) == 1


def test_failed_run_is_kept_as_failed():
    class Broken:
        name, noisy, compile_target, num_qubits, capacity = "broken", True, None, 50, "broken"

        def run(self, *args, **kwargs):
            raise RuntimeError("device fell over")

    store = ResultStore()
    with pytest.raises(RuntimeError):
        run_experiment(homogenization(alpha=0.2, reservoir=2), Broken(), seed=1, store=store)
    (row,) = store.list_runs()
    assert row["status"] == "failed"
    assert "device fell over" in store.get_run(row["id"])["error"]


def test_invalid_options_fail_before_anything_is_stored():
    store = ResultStore()
    h = homogenization(alpha=0.2, reservoir=2)
    with pytest.raises(InvalidParameter, match="shots"):
        run_experiment(h, get_backend("aer"), shots=0, store=store)
    with pytest.raises(InvalidParameter, match="seed"):
        run_experiment(h, get_backend("aer"), seed=-1, store=store)
    with pytest.raises(InvalidParameter, match="reservoir"):
        run_experiment(homogenization(alpha=0.2, reservoir=40), get_backend("aer"), store=store)
    assert store.list_runs() == []


def test_result_round_trips_through_json():
    result = run_experiment(
        homogenization(alpha=0.2, reservoir=2), get_backend("reference"), seed=3
    )
    again = RunResult.from_json(result.to_json())
    assert again == result
    assert set(again.reference) == {"system_fidelity", "reservoir_fidelity"}
