"""The IBM Quantum code path, run in qiskit-ibm-runtime's local mode (no network, no account).

What is checked: the client-side Sampler's counts on a fake device agree statistically with
the Aer device-noise emulation of the same circuits; a job is in the store (circuits, options,
calibration time) before anything waits on it; a process killed while waiting loses nothing
(``qcompile jobs fetch`` completes the run, count for count); transient failures are retried
with backoff and a final failure keeps the job id; the token never leaves the environment.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from device_limits import assert_at_limit, noisy_limit
from test_cli import run_cli

from qcompile.app.jobs import cancel_job, complete_run, fetch_job, wait_job
from qcompile.backends import AerBackend, IBMBackend, IBMOptions, ResultStore, get_backend
from qcompile.backends.retry import RetriesExhausted, RetryPolicy
from qcompile.errors import InvalidParameter, QCompileError
from qcompile.passes.compile import compile_circuits
from qcompile.protocols import homogenization
from qcompile.protocols.homogenization import run as run_experiment
from qcompile.states.tomography import measurement_circuits

DEVICE = "fake_manila"  # 5 qubits: runtime local mode takes ~1 s per job here
NO_WAIT = RetryPolicy(attempts=3, backoff_s=0.0)


def hellinger(p: dict[str, int], q: dict[str, int]) -> float:
    keys = set(p) | set(q)
    n_p, n_q = sum(p.values()), sum(q.values())
    return float(
        np.sqrt(0.5 * sum((np.sqrt(p.get(k, 0) / n_p) - np.sqrt(q.get(k, 0) / n_q)) ** 2
                          for k in keys))
    )  # fmt: skip


def test_local_mode_run_files_its_job_and_matches_the_exact_map():
    store = ResultStore()
    backend = get_backend(f"ibm:{DEVICE}", store=store)
    protocol = homogenization(alpha=0.5, reservoir=2)
    result = run_experiment(protocol, backend, shots=8000, seed=5, store=store)
    (job,) = store.list_jobs()
    row = store.get_job(job["id"], with_circuits=True)
    assert row["run_id"] == result.run_id and row["status"] == "done"
    assert row["mode"] == "batch" and row["local"] and row["shots"] == 8000
    assert row["num_circuits"] == len(row["circuits"]) == 9  # 3 tomography tasks × X, Y, Z
    assert row["options"]["sampler"]["simulator"]["seed_simulator"] == 5
    calibrated = backend.device.properties().last_update_date.isoformat()
    assert row["calibration"] == calibrated
    # physics: the ideal circuits are the exact iterated map (spec 000 eqs. 4-5); the device
    # is within 4σ of its noisy limit (tests/device_limits.py), two-sided
    device = result.observables["system_fidelity"]
    error = result.observables["system_fidelity_stderr"]
    reference = np.array(result.reference["system_fidelity"])
    assert np.allclose(result.ideal["system_fidelity"], reference, atol=1e-9)
    assert_at_limit(device, error, noisy_limit(run_experiment, protocol, DEVICE, "system_fidelity"))
    # and the check is tight enough to see a 10 % change of α (either way) in the physics
    for alpha in (0.45, 0.55):
        wrong = noisy_limit(run_experiment, homogenization(alpha=alpha, reservoir=2), DEVICE,
                            "system_fidelity")  # fmt: skip
        with pytest.raises(AssertionError, match="noisy limit"):
            assert_at_limit(device, error, wrong)


@pytest.mark.parametrize("mode", ["session", "job"])
def test_session_and_job_modes_run_in_local_mode_as_batch_does(mode):
    """``--mode session`` and ``--mode job`` (runtime's ``Session`` and a plain primitive job)
    through runtime's local mode: the job is stored with its mode, and the numbers are the
    batch run's with the same seed (local mode is seeded: the mode changes how jobs are
    grouped, not what they compute), at the noisy limit (tests/device_limits.py)."""
    store = ResultStore()
    protocol = homogenization(alpha=0.5, reservoir=2)
    backend = get_backend(f"ibm:{DEVICE}", store=store, ibm_options=IBMOptions(mode=mode))
    result = run_experiment(protocol, backend, shots=4000, seed=5, store=store)
    (job,) = store.list_jobs()
    row = store.get_job(job["id"])
    assert row["mode"] == mode and row["local"] and row["status"] == "done"
    assert row["options"]["execution"]["mode"] == mode
    batch = run_experiment(protocol, get_backend(f"ibm:{DEVICE}", store=ResultStore()),
                           shots=4000, seed=5)  # fmt: skip
    assert result.observables == batch.observables
    assert_at_limit(result.observables["system_fidelity"],
                    result.observables["system_fidelity_stderr"],
                    noisy_limit(run_experiment, protocol, DEVICE, "system_fidelity"))  # fmt: skip


def test_local_mode_counts_agree_with_the_aer_device_emulation():
    """Same ISA circuits, same shots: runtime local mode vs our restricted-noise Aer path."""
    protocol = homogenization(alpha=0.4, reservoir=2)
    task = protocol.tomography_tasks()[-1]
    ibm = IBMBackend(DEVICE, store=ResultStore())
    (compiled,), _ = compile_circuits(measurement_circuits(task)[2:], ibm.compile_target, seed=3)
    shots = 8000
    theirs = ibm.run([compiled], shots, seed=11)[0]
    ours = AerBackend(DEVICE).run([compiled], shots, seed=12)[0]
    # two samples of one distribution: Hellinger ~ sqrt(outcomes / (8 shots)) ≈ 0.01
    assert hellinger(theirs, ours) < 0.03
    noiseless = AerBackend().run([compiled], shots, seed=13)[0]
    assert hellinger(theirs, noiseless) > hellinger(theirs, ours)  # the noise is there


def _wait_for(predicate, timeout: float = 120.0, every: float = 0.01) -> None:
    start = time.monotonic()
    while not predicate():
        if time.monotonic() - start > timeout:
            raise TimeoutError("condition not reached")
        time.sleep(every)


def _submitted_jobs(path) -> list[str]:
    if not path.exists():
        return []
    try:
        with sqlite3.connect(path, timeout=5) as db:
            return [r[0] for r in db.execute("SELECT id FROM jobs WHERE status='submitted'")]
    except sqlite3.OperationalError:  # the schema is being created
        return []


#: ``qcompile`` whose fetch never returns: the process is still waiting on its submitted job
#: whenever the test looks, however fast or loaded the machine (no race with the kill).
_HANGS_AFTER_SUBMITTING = """
import sys, threading
from qcompile.backends.ibm import IBMBackend
IBMBackend.fetch = lambda self, job_id: threading.Event().wait()
from qcompile.cli import main
sys.argv[0] = "qcompile"
main(sys.argv[1:])
"""


def _killed_after_submitting(args: list[str], db) -> str:
    """Run ``qcompile`` with ``args`` in a process, kill it once its job is submitted (before
    it is fetched) and return the job's id."""
    process = subprocess.Popen([sys.executable, "-c", _HANGS_AFTER_SUBMITTING, *args],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_for(lambda: _submitted_jobs(db) or process.poll() is not None)
        assert process.poll() is None, "the run ended before its job was submitted"
        os.kill(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    (job_id,) = _submitted_jobs(db)
    return job_id


def test_process_killed_while_waiting_loses_nothing(isolated_store, tmp_path):
    args = ["run", "homogenization", "--alpha", "0.5", "--reservoir", "4"]
    args += ["--backend", f"ibm:{DEVICE}", "--shots", "4000", "--seed", "9"]
    job_id = _killed_after_submitting(args, isolated_store / "qcompile.db")
    store = ResultStore()
    (run,) = store.list_runs()
    assert run["status"] == "running"
    assert run_cli("jobs", "fetch", job_id) == 0
    completed = store.get_run(run["id"])
    assert completed["status"] == "done"
    # the completed run is the one the killed process would have written: rerun it whole
    again = run_experiment(
        homogenization(alpha=0.5, reservoir=4),
        get_backend(f"ibm:{DEVICE}", store=store),
        shots=4000,
        seed=9,
    )
    assert completed["result"].observables == again.observables
    assert run_cli("compare", run["id"], "--json", str(tmp_path / "cmp.json")) == 0
    comparison = json.loads((tmp_path / "cmp.json").read_text())
    assert comparison["run_id"] == run["id"]
    assert set(comparison["observables"]) == {"system_fidelity", "reservoir_fidelity"}


def test_a_states_path_run_killed_while_waiting_is_completed_by_its_job(isolated_store):
    """Coherent feedback (the one runner's states path: prefix tomography in one job) killed
    after its job was submitted: ``jobs fetch`` completes the stored run, with the numbers a
    whole run with the same seed gives (the recipe replays the lowering options and
    ``device_every``)."""
    from qcompile.protocols.coherent_feedback import coherent_feedback
    from qcompile.protocols.plugin import get_protocol

    args = ["run", "coherent-feedback", "--t-max", "0.4", "--dt", "0.1", "--sample-every",
            "0.2", "--synthesis", "trotter", "--device-every", "1", "--backend",
            f"ibm:{DEVICE}", "--shots", "500", "--seed", "4"]  # fmt: skip
    job_id = _killed_after_submitting(args, isolated_store / "qcompile.db")
    store = ResultStore()
    (run,) = store.list_runs()
    assert run["status"] == "running"
    assert run_cli("jobs", "fetch", job_id) == 0
    completed = store.get_run(run["id"])
    assert completed["status"] == "done"
    assert completed["recipe"]["options"]["lowering"]["synthesis"] == "trotter"
    protocol = coherent_feedback(t_max=0.4, dt=0.1, sample_every=0.2)
    again = get_protocol("coherent-feedback").run(
        protocol, get_backend(f"ibm:{DEVICE}", store=store), shots=500, seed=4,
        synthesis="trotter", device_every=1,
    )  # fmt: skip
    assert completed["result"].observables == again.observables
    assert completed["result"].observables["times"] == [0.0, 0.2, 0.4]


class Flaky(IBMBackend):
    """Fails the first ``submit_failures`` submits and ``fetch_failures`` fetches."""

    def __init__(self, *args, submit_failures=0, fetch_failures=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.failures = {"submit": submit_failures, "fetch": fetch_failures}
        self.calls = {"submit": 0, "fetch": 0}

    def _fail(self, what):
        self.calls[what] += 1
        if self.calls[what] <= self.failures[what]:
            raise ConnectionError(f"injected {what} failure {self.calls[what]}")

    def _submit_once(self, *args):
        self._fail("submit")
        return super()._submit_once(*args)

    def _result_once(self, job_id):
        self._fail("fetch")
        return super()._result_once(job_id)


def test_transient_failures_are_retried():
    store = ResultStore()
    backend = Flaky(DEVICE, store=store, retry=NO_WAIT, submit_failures=2, fetch_failures=2)
    result = run_experiment(homogenization(alpha=0.3, reservoir=2), backend, shots=500, seed=1,
                            store=store)  # fmt: skip
    assert backend.calls == {"submit": 3, "fetch": 3}
    assert store.get_run(result.run_id)["status"] == "done"


def test_fetch_that_keeps_failing_keeps_the_job_and_can_finish_later():
    store = ResultStore()
    backend = Flaky(DEVICE, store=store, retry=NO_WAIT, fetch_failures=10)
    with pytest.raises(RetriesExhausted) as info:
        run_experiment(homogenization(alpha=0.3, reservoir=2), backend, shots=500, seed=2,
                       store=store)  # fmt: skip
    (job,) = store.list_jobs()
    message = str(info.value)
    assert f"fetching job {job['id']}" in message and "after 3 attempts" in message
    assert f"qcompile jobs fetch {job['id']}" in message
    row = store.get_job(job["id"])
    assert row["status"] == "submitted" and "injected fetch failure" in row["error"]
    assert store.get_run(job["run_id"])["status"] == "failed"
    # later, in a fresh process (no job object in memory): fetch completes the run
    stored, result = fetch_job(job["id"], ResultStore())
    assert stored["status"] == "done" and result.run_id == job["run_id"]
    assert store.get_run(job["run_id"])["status"] == "done"
    assert complete_run(job["run_id"], store).observables == result.observables


@pytest.mark.parametrize("recorded", ["revision 1", "no revision (an older store)"])
def test_a_job_compiled_by_an_older_compiler_revision_still_completes_its_run(recorded):
    """A run whose job was submitted before the compiler changed (revision 1: no logical
    optimization before routing; runs stored before revisions were recorded carry none) is
    completed by recompiling as revision 1 did — the circuits match the job's, gate for gate;
    the current revision compiles this run's circuits differently (checked), so the pin is
    what makes it work."""
    from qcompile.passes.compile import COMPILER_REVISION, compiler_revision

    protocol = homogenization(alpha=0.3, reservoir=3, rounds=2)
    store = ResultStore()
    backend = Flaky(DEVICE, store=store, retry=NO_WAIT, fetch_failures=10)
    with compiler_revision(1), pytest.raises(RetriesExhausted):
        run_experiment(protocol, backend, shots=500, seed=4, store=store)
    (job,) = store.list_jobs()
    run = store.get_run(job["run_id"])
    assert run["recipe"]["compiler_revision"] == 1
    if recorded.startswith("no revision"):
        del run["recipe"]["compiler_revision"]
        with sqlite3.connect(store.path) as db:
            db.execute("UPDATE runs SET recipe = ? WHERE id = ?",
                       (json.dumps(run["recipe"]), run["id"]))  # fmt: skip
    circuit = protocol.circuit()
    circuit.measure_all()
    old, _ = compile_circuits([circuit], DEVICE, seed=4)
    with compiler_revision(1):
        older, _ = compile_circuits([circuit], DEVICE, seed=4)
    assert COMPILER_REVISION > 1 and old[0] != older[0]  # the revisions differ here
    stored, result = fetch_job(job["id"], ResultStore())
    assert stored["status"] == "done" and result.run_id == run["id"]
    assert store.get_run(run["id"])["status"] == "done"


def test_submit_that_keeps_failing_is_a_clear_error():
    store = ResultStore()
    backend = Flaky(DEVICE, store=store, retry=NO_WAIT, submit_failures=10)
    with pytest.raises(RetriesExhausted, match=r"submitting 9 circuits to ibm:fake_manila"):
        run_experiment(homogenization(alpha=0.3, reservoir=2), backend, shots=100, seed=2,
                       store=store)  # fmt: skip
    assert store.list_jobs() == []
    assert store.list_runs()[0]["status"] == "failed"


def test_retry_delays_grow_and_are_capped():
    assert RetryPolicy(attempts=5, backoff_s=1, factor=3, max_backoff_s=5).delays() == [1, 3, 5, 5]


def test_cancel_marks_job_and_run():
    store = ResultStore()
    backend = IBMBackend(DEVICE, store=store)
    protocol = homogenization(alpha=0.3, reservoir=2)
    circuits = [c for t in protocol.tomography_tasks() for c in measurement_circuits(t)]
    compiled, _ = compile_circuits(circuits, backend.compile_target, seed=1)
    run_id = store.start_run("homogenization", backend.name, protocol.parameters())
    job_id = backend.submit(compiled, 100, seed=1, run_id=run_id)
    job = cancel_job(job_id, store)
    assert job["status"] == "cancelled"
    assert store.get_run(run_id)["status"] == "failed"
    with pytest.raises(QCompileError, match="already cancelled"):
        cancel_job(job_id, store)


def test_token_never_leaks(isolated_store, tmp_path, monkeypatch):
    token = "qcompile-test-token-7f3a9c0e"
    monkeypatch.setenv("QISKIT_IBM_TOKEN", token)
    monkeypatch.setenv("QISKIT_IBM_INSTANCE", "crn:v1:test-instance")
    outputs = []
    for backend in (f"ibm:{DEVICE}", "ibm:ibm_torino"):  # local mode; a real device (no network)
        done = subprocess.run(
            [sys.executable, "-m", "qcompile.cli", "run", "homogenization", "--alpha", "0.5",
             "--reservoir", "2", "--backend", backend, "--shots", "200", "--seed", "1",
             "--json", str(tmp_path / "out.json")],
            capture_output=True,
            text=True,
            env=os.environ | {"QISKIT_IBM_RUNTIME_LOG_LEVEL": "DEBUG"},
        )  # fmt: skip
        outputs += [done.stdout, done.stderr]
    assert "IBM Quantum account" in outputs[-1]  # the second run fails cleanly, exit 2
    assert run_cli("jobs", "list") == 0
    files = [p for p in isolated_store.rglob("*") if p.is_file()] + [tmp_path / "out.json"]
    assert files
    for text in outputs:
        assert token not in text
    for path in files:
        assert token.encode() not in path.read_bytes(), path


def test_bad_ibm_options_are_clear_errors(capsys):
    with pytest.raises(InvalidParameter, match="dynamical_decoupling"):
        IBMOptions(dynamical_decoupling="XZ")
    with pytest.raises(InvalidParameter, match="mode"):
        IBMOptions(mode="sessions")
    args = ["run", "homogenization", "--alpha", "0.5", "--reservoir", "2"]
    assert run_cli(*args, "--backend", f"ibm:{DEVICE}", "--twirling", "most") == 2
    assert "--twirling='most'" in capsys.readouterr().err
    assert run_cli(*args, "--backend", "aer", "--dd", "XY4") == 2
    assert "--dd='XY4'" in capsys.readouterr().err
    assert run_cli("jobs", "fetch", "no-such-job") == 2
    assert "no job with id 'no-such-job'" in capsys.readouterr().err
    assert run_cli("compare") == 2
    assert "--latest" in capsys.readouterr().err


class StubJob:
    """A runtime job as the service returns it by id, queued and running before it is done."""

    def __init__(self, job):
        self.job = job
        self.statuses = ["QUEUED", "RUNNING"]

    def status(self) -> str:
        return self.statuses.pop(0) if self.statuses else self.job.status().name

    def result(self):
        return self.job.result()

    def cancel(self) -> None:
        self.job.cancel()


class StubService:
    """Stands in for ``QiskitRuntimeService``: device ``ibm_stub`` is FakeManila (so jobs
    execute in local mode) and jobs are found again by id, as on the real service."""

    def __init__(self):
        self.jobs = {}

    def backend(self, name):
        from qiskit_ibm_runtime.fake_provider import FakeManilaV2

        assert name == "ibm_stub"
        return FakeManilaV2()

    def job(self, job_id):
        return self.jobs[job_id]


class Interrupted(IBMBackend):
    """Submits (the service learns the job), then dies before the result arrives."""

    def _submit_once(self, *args):
        job = super()._submit_once(*args)
        self.service.jobs[job.job_id()] = StubJob(job)
        return job

    def fetch(self, job_id):
        raise KeyboardInterrupt


def test_real_device_path_finds_the_job_by_id_and_follows_its_status():
    service, store = StubService(), ResultStore()
    backend = Interrupted("ibm_stub", store=store, service=service)
    assert not backend.local and backend.name == "ibm:ibm_stub"
    with pytest.raises(KeyboardInterrupt):
        run_experiment(homogenization(alpha=0.5, reservoir=2), backend, shots=1000, seed=8,
                       store=store)  # fmt: skip
    (job,) = store.list_jobs()
    assert not job["local"] and store.get_run(job["run_id"])["status"] == "failed"
    statuses = []
    stored, result = wait_job(
        job["id"], ResultStore(), poll_s=0.0, on_status=statuses.append, service=service
    )
    assert statuses == ["QUEUED", "RUNNING", "DONE"]
    assert stored["status"] == "done" and store.get_run(job["run_id"])["status"] == "done"
    limit = noisy_limit(run_experiment, homogenization(alpha=0.5, reservoir=2),
                        "fake_manila", "system_fidelity")  # the stub's device  # fmt: skip
    assert_at_limit(result.observables["system_fidelity"],
                    result.observables["system_fidelity_stderr"], limit)  # fmt: skip


def test_jobs_list_keeps_whole_ids_when_piped(isolated_store):
    """Piped (not a terminal, 80 columns) the job id column is never cut: the other columns
    wrap, so an id can be copied into `qcompile jobs fetch`."""
    assert run_cli("run", "homogenization", "--alpha", "0.5", "--reservoir", "2", "--backend",
                   f"ibm:{DEVICE}", "--shots", "100", "--seed", "1") == 0  # fmt: skip
    (job,) = ResultStore().list_jobs()
    command = [sys.executable, "-m", "qcompile.cli", "jobs", "list"]
    listed = subprocess.run(command, capture_output=True, text=True,
                            env=os.environ | {"COLUMNS": "80"})  # fmt: skip
    assert listed.returncode == 0, listed.stderr
    assert job["id"] in listed.stdout


class LostResponse(IBMBackend):
    """The service accepts the first submission but its answer is lost (a timeout): a blind
    retry would run the circuits twice. ``_submitted_with_tag`` plays the service's job search
    by tag (local mode has no service to ask)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.accepted = {}  # tag -> job, what the "service" holds
        self.lookups = 0

    def _submit_once(self, circuits, shots, options):
        job = super()._submit_once(circuits, shots, options)
        (tag,) = options["environment"]["job_tags"]
        self.accepted[tag] = job
        if len(self.accepted) == 1 and self.lookups == 0:
            raise TimeoutError("the response to the submission was lost")
        return job

    def _submitted_with_tag(self, tag):
        self.lookups += 1
        return self.accepted.get(tag)


def test_a_submission_whose_answer_was_lost_is_found_by_its_tag_not_resubmitted():
    store = ResultStore()
    backend = LostResponse(DEVICE, store=store, retry=NO_WAIT)
    result = run_experiment(homogenization(alpha=0.3, reservoir=2), backend, shots=300, seed=4,
                            store=store)  # fmt: skip
    assert len(backend.accepted) == 1 and backend.lookups == 1  # one job, found, not redone
    (job,) = store.list_jobs()
    tags = store.get_job(job["id"])["options"]["sampler"]["environment"]["job_tags"]
    assert list(backend.accepted) == tags and tags[0].startswith("qcompile-")
    assert store.get_run(result.run_id)["status"] == "done"


def test_readout_mitigation_on_ibm_is_one_job_and_survives_a_lost_process():
    """``ibm:<device>+readout-mitigation``: the calibration circuits ride in the run's one job;
    a run whose fetch failed is finished later by ``jobs fetch`` with the mitigation applied
    again to the stored counts — and it removes FakeManila's readout bias (the same counts
    replayed without mitigation are the control)."""
    from qcompile.backends.readout_mitigation import ReadoutMitigated
    from qcompile.backends.replay import ReplayBackend
    from qcompile.run.recipe import execute

    store = ResultStore()
    inner = Flaky(DEVICE, store=store, retry=NO_WAIT, fetch_failures=10)
    backend = ReadoutMitigated(inner, "+readout-mitigation")
    protocol = homogenization(alpha=0.5, reservoir=3)
    with pytest.raises(RetriesExhausted):
        run_experiment(protocol, backend, shots=4000, seed=3, store=store)
    (job,) = store.list_jobs()
    stored = store.get_job(job["id"], with_circuits=True)
    names = [c.name for c in stored["circuits"]]
    assert names[:2] == ["readout_cal_0", "readout_cal_1"] and len(names) == 2 + 3 * 4
    _, result = fetch_job(job["id"], ResultStore())
    assert result.backend == f"ibm:{DEVICE}+readout-mitigation"
    run = store.get_run(job["run_id"])
    assert run["status"] == "done"
    # the control: the job's own counts, calibrations dropped, not mitigated
    counts = store.get_job(job["id"])["counts"][2:]
    unmitigated = ReplayBackend(
        IBMBackend(DEVICE, store=store), [(job["id"], stored["circuits"][2:], counts)]
    )
    raw = execute(run["recipe"], unmitigated)
    exact = np.array(protocol.reference()["system_fidelity"])
    bias_raw = np.abs(np.array(raw.observables["system_fidelity"]) - exact)
    bias_fixed = np.abs(np.array(result.observables["system_fidelity"]) - exact)
    assert bias_raw[-1] > 0.06
    assert bias_fixed[-1] < bias_raw[-1] / 2


def test_zne_on_ibm_folds_into_the_same_job_and_replays():
    """``--zne`` on an ibm: backend: the folded circuits travel in the run's one job (after the
    scale-1 circuits); a lost fetch is finished by ``jobs fetch`` with the same extrapolation."""
    store = ResultStore()
    backend = Flaky(DEVICE, store=store, retry=NO_WAIT, fetch_failures=10)
    protocol = homogenization(alpha=0.5, reservoir=2)
    with pytest.raises(RetriesExhausted):
        run_experiment(protocol, backend, shots=1000, seed=4, store=store, zne=(1, 3))
    (job,) = store.list_jobs()
    names = [c.name for c in store.get_job(job["id"], with_circuits=True)["circuits"]]
    tomography = 3 * (protocol.collisions + 1)
    assert len(names) == 2 * tomography
    assert all(name.endswith(":zne3") for name in names[tomography:])
    _, result = fetch_job(job["id"], ResultStore())
    assert result.mitigation["zne"]["scale_factors"] == [1, 3]
    raw = result.mitigation["zne"]["raw"]["system_fidelity"]
    assert len(raw) == len(result.observables["system_fidelity"]) == protocol.collisions + 1


def test_runtime_error_suppression_is_passed_on_and_recorded():
    """``--twirling``/``--dd`` on ``ibm:`` reach runtime's Sampler options (stored with the
    job) and the result records them; the physics still matches the exact map."""
    store = ResultStore()
    options = IBMOptions(twirling="measure", dynamical_decoupling="XX")
    backend = get_backend(f"ibm:{DEVICE}", store=store, ibm_options=options)
    protocol = homogenization(alpha=0.5, reservoir=1)
    result = run_experiment(protocol, backend, shots=2000, seed=3, store=store)
    (job,) = store.list_jobs()
    sampler = store.get_job(job["id"])["options"]["sampler"]
    assert sampler["twirling"] == {"enable_gates": False, "enable_measure": True}
    assert sampler["dynamical_decoupling"] == {"enable": True, "sequence_type": "XX"}
    assert (
        result.mitigation["twirling"]["measurements"]
        and "runtime" in (result.mitigation["twirling"]["method"])
    )
    assert result.mitigation["dynamical_decoupling"]["sequence"] == "XX"
    # its limit: the same measurement twirl on the Aer path (runtime's local mode has no idle
    # noise for dynamical decoupling to act on)
    twirled = get_backend(f"aer:{DEVICE}", ibm_options=IBMOptions(twirling="measure"))
    limit = noisy_limit(run_experiment, protocol, DEVICE, "system_fidelity",
                        backend=twirled)  # fmt: skip
    assert_at_limit(result.observables["system_fidelity"],
                    result.observables["system_fidelity_stderr"], limit)  # fmt: skip
