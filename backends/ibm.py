"""IBM Quantum through qiskit-ibm-runtime, with every job remembered before it is waited on.

Circuits (already compiled to the device's ISA) go through runtime's client-side
``qiskit_ibm_runtime.executor_sampler.Sampler`` — what 0.51 recommends; ``SamplerV2`` is
deprecated — in **batch** mode by default (Open Plan accounts cannot open sessions),
``session`` or plain ``job`` mode on request. Dynamical decoupling and Pauli twirling are
the primitive's own options, passed through (:class:`IBMOptions`). Pauli expectation values
can instead go through runtime's client-side ``executor_estimator.Estimator`` with its
resilience levels (:meth:`IBMBackend.estimate`, :mod:`qcompile.backends.estimator`); in local
mode that Estimator runs on Aer with the circuits cut down to the qubits they use.

Names: ``ibm:<device>`` (``ibm:ibm_torino``; needs an account) and ``ibm:<fake backend>``
(``ibm:fake_torino``): runtime's *local testing mode*, the same Sampler, Batch and job
objects executed by Aer on the fake device's noise, with no network and no account.

Credentials: ``QISKIT_IBM_TOKEN`` (and ``QISKIT_IBM_INSTANCE``) from the environment, else
the account saved with ``QiskitRuntimeService.save_account``. The token is handed to
``QiskitRuntimeService`` and nowhere else: never printed, logged, stored or put in an error
message (``redact``; :mod:`qcompile.backends.ibm_account`). Execution options:
:mod:`qcompile.backends.ibm_options`.

The job store (``qcompile.backends.store``) receives id, backend, mode, options, circuits (QPY) and
the calibration time before the first wait, so :meth:`IBMBackend.fetch` finishes a job after
the submitting process died. A local-mode job lives inside its process; fetched after that
process died, it is executed again from the stored circuits and options with the stored
simulator seed, which reproduces the lost result count for count.

Submission is retried on transient errors, never blindly: every submission carries a job tag
of its own (``qcompile-<hex>``, kept with the job's options), and before a retry the service is
asked for a job with that tag — a job accepted whose answer was lost is adopted, not run twice.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.providers import BackendV2
from qiskit.quantum_info import SparsePauliOp

from qcompile.backends.aer import MAX_SIMULATED_QUBITS, active_qubits, density_matrices_at
from qcompile.backends.ibm_account import redact, runtime_service, transient_errors
from qcompile.backends.ibm_options import DD_SEQUENCES, MODES, TWIRLING, IBMOptions
from qcompile.backends.retry import RetryPolicy, call_with_retries
from qcompile.backends.store import ResultStore
from qcompile.errors import BackendUnavailable, QCompileError, ResourceLimit
from qcompile.passes.targets import fake_backend, fake_backend_names

__all__ = [
    "IBMBackend",
    "IBMOptions",
    "MODES",
    "DD_SEQUENCES",
    "TWIRLING",
    "redact",
    "runtime_service",
]

FINAL_STATUSES = ("DONE", "ERROR", "CANCELLED")

Progress = Callable[[int], None]


def _job_tag() -> str:
    """A tag of its own for one submission, the same on every retry of it."""
    return f"qcompile-{uuid.uuid4().hex[:16]}"


def _counts(result) -> list[dict[str, int]]:
    """Counts of every pub of a Sampler result (all classical registers joined)."""
    return [{bits: int(n) for bits, n in pub.join_data().get_counts().items()} for pub in result]


class IBMBackend:
    """An IBM Quantum device (``ibm_torino``) or a fake one in runtime's local mode
    (``fake_torino``), run through the client-side Sampler (:meth:`run`) or Estimator
    (:meth:`estimate`).

    ``store`` keeps the jobs (default: the user's results store); ``retry`` governs submit,
    fetch and cancel; ``service`` replaces the account lookup (tests, or a service the caller
    already opened); ``on_status(job_id, status)`` hears every status change of a job on a
    real device while :meth:`run` waits (polled every ``poll_s`` seconds).
    """

    noisy = True
    runs_circuits = True  # capabilities (what the runners ask instead of the name)
    submits_jobs = True

    def __init__(
        self,
        device: str,
        *,
        options: IBMOptions | None = None,
        store: ResultStore | None = None,
        retry: RetryPolicy | None = None,
        service=None,
        on_status: Callable[[str, str], None] | None = None,
        poll_s: float = 10.0,
    ) -> None:
        self.device_name = device.strip().lower()
        self.local = self.device_name in fake_backend_names()
        self.name = f"ibm:{self.device_name}"
        self.options = options if options is not None else IBMOptions()
        self.suppression = self.options  # what runtime applies (``record()`` for results)
        self.retry = retry if retry is not None else RetryPolicy()
        self._store = store
        self._service = service
        self._device: BackendV2 | None = fake_backend(self.device_name) if self.local else None
        self._jobs: dict[str, Any] = {}
        self.on_status = on_status
        self.poll_s = poll_s

    # -- what the experiments need -----------------------------------------------------------
    @property
    def store(self) -> ResultStore:
        if self._store is None:
            self._store = ResultStore()
        return self._store

    @property
    def service(self):
        if self._service is None:
            self._service = runtime_service()
        return self._service

    @property
    def device(self) -> BackendV2:
        """The device backend (its target is what circuits are compiled for)."""
        if self._device is None:
            try:
                self._device = call_with_retries(
                    lambda: self.service.backend(self.device_name),
                    what=f"looking up {self.device_name}",
                    transient=transient_errors(),
                    policy=self.retry,
                    describe=redact,
                )
            except QCompileError:
                raise
            except Exception as exc:
                raise BackendUnavailable(
                    f"IBM Quantum has no backend {self.device_name!r} for this account "
                    f"({redact(exc)})"
                ) from None
        return self._device

    @property
    def target(self):
        return self.device.target

    @property
    def compile_target(self) -> BackendV2:
        return self.device

    @property
    def num_qubits(self) -> int:
        if self.local:
            return min(self.device.num_qubits, MAX_SIMULATED_QUBITS)
        return self.device.num_qubits

    @property
    def capacity(self) -> str:
        if self.local:
            return (
                f"{self.name} (runtime local mode: {self.device.num_qubits} device qubits, at "
                f"most {MAX_SIMULATED_QUBITS} simulated)"
            )
        return f"{self.name} ({self.device.num_qubits} qubits)"

    def calibration_time(self) -> str | None:
        """When the device's calibration data (the snapshot for a fake device) was taken."""
        try:
            properties = self.device.properties()
            return properties.last_update_date.isoformat() if properties else None
        except Exception:  # a backend without properties: nothing to record
            return None

    def ideal_density_matrices(
        self, circuit: QuantumCircuit, checkpoints: dict[float, int], qubits: Sequence[int]
    ) -> dict[float, np.ndarray]:
        return density_matrices_at(circuit, checkpoints, qubits)

    def run(
        self,
        circuits: Sequence[QuantumCircuit],
        shots: int,
        *,
        seed: int | None = None,
        progress: Progress | None = None,
        run_id: str | None = None,
    ) -> list[dict[str, int]]:
        """Submit one job with every circuit, remember it, wait for it; counts per circuit."""
        job_id = self.submit(circuits, shots, seed=seed, run_id=run_id)
        if self.on_status is not None and not self.local:
            self.wait(job_id)
        counts = self.fetch(job_id)
        if progress is not None:
            progress(len(counts))
        return counts

    def estimate(
        self,
        circuits: Sequence[QuantumCircuit],
        observables: Sequence[Sequence[SparsePauliOp]],
        shots: int,
        *,
        resilience_level: int = 1,
        seed: int | None = None,
        progress: Progress | None = None,
        run_id: str | None = None,
    ) -> list[dict[str, list[float]]]:
        """Expectation values of ``observables[i]`` (on the device's qubits) after
        ``circuits[i]``: one client-side Estimator job (:mod:`qcompile.backends.estimator`),
        remembered before it is waited on, as :meth:`run`; ``{"evs", "stds"}`` per circuit."""
        job_id = self.submit_estimator(circuits, observables, shots,
                                       resilience_level=resilience_level, seed=seed,
                                       run_id=run_id)  # fmt: skip
        if self.on_status is not None and not self.local:
            self.wait(job_id)
        data = self.fetch(job_id)
        if progress is not None:
            progress(len(data))
        return data

    # -- jobs --------------------------------------------------------------------------------
    def submit(
        self,
        circuits: Sequence[QuantumCircuit],
        shots: int,
        *,
        seed: int | None = None,
        run_id: str | None = None,
    ) -> str:
        """Submit ``circuits`` as one Sampler job and record it in the store; its id."""
        circuits = list(circuits)
        self._check_local_size(circuits)
        options = self.options.sampler_options(shots, seed, self.local)
        tag = _job_tag()
        options["environment"] = {"job_tags": [tag]}
        job = self._submit_tagged(
            tag,
            lambda: self._submit_once(circuits, shots, options),
            f"submitting {len(circuits)} circuits to {self.name}",
        )
        return self._remember(job, run_id, shots, circuits, {"sampler": options})

    def submit_estimator(
        self,
        circuits: Sequence[QuantumCircuit],
        observables: Sequence[Sequence[SparsePauliOp]],
        shots: int,
        *,
        resilience_level: int = 1,
        seed: int | None = None,
        run_id: str | None = None,
    ) -> str:
        """Submit one Estimator job and record it (circuits, observables, options); its id."""
        from qcompile.backends.estimator import estimator_options

        circuits = list(circuits)
        self._check_local_size(circuits)
        options = estimator_options(
            shots, resilience_level, seed if self.local else None,
            dynamical_decoupling=self.options.dynamical_decoupling,
            twirling=self.options.twirling, max_execution_time=self.options.max_execution_time,
        )  # fmt: skip
        tag = _job_tag()
        if not self.local:  # the local Estimator runs on Aer, which has no job tags
            options["environment"] = {"job_tags": [tag]}
        groups = [[[[label, c.real, c.imag] for label, c in o.to_list()] for o in group]
                  for group in observables]  # fmt: skip
        job = self._submit_tagged(
            tag,
            lambda: self._estimator_once(circuits, observables, options),
            f"submitting {len(circuits)} Estimator circuits to {self.name}",
        )
        return self._remember(job, run_id, shots, circuits,
                              {"estimator": options, "observables": groups})  # fmt: skip

    def _remember(self, job, run_id, shots: int, circuits, options: dict[str, Any]) -> str:
        """Keep ``job`` (its circuits, primitive options and this backend's execution options)
        in the store before anything waits on it; its id."""
        job_id = job.job_id()
        self._jobs[job_id] = job
        self.store.add_job(
            job_id,
            run_id=run_id,
            backend=self.name,
            mode=self.options.mode,
            local=self.local,
            shots=shots,
            circuits=circuits,
            options=options | {"execution": self.options.to_dict()},
            calibration=self.calibration_time(),
        )
        return job_id

    def _estimator_once(self, circuits, observables, options: dict):
        from qiskit_ibm_runtime import Batch, Session
        from qiskit_ibm_runtime.executor_estimator import Estimator

        from qcompile.backends.estimator import run_local

        if self.local:
            return run_local(circuits, observables, options, self.device)
        pubs = [(c, list(g)) for c, g in zip(circuits, observables, strict=True)]
        if self.options.mode == "job":
            return Estimator(mode=self.device, options=options).run(pubs)
        mode_class = Batch if self.options.mode == "batch" else Session
        with mode_class(backend=self.device) as mode:
            return Estimator(mode=mode, options=options).run(pubs)

    def _check_local_size(self, circuits: Sequence[QuantumCircuit]) -> None:
        if self.local:
            used = len(active_qubits(circuits))
            if used > MAX_SIMULATED_QUBITS:
                raise ResourceLimit(
                    f"the circuits use {used} qubits; local mode simulates at most "
                    f"{MAX_SIMULATED_QUBITS}"
                )

    def _submit_tagged(self, tag: str, submit: Callable[[], Any], what: str):
        """``submit()`` with retries; a retry after a lost response must not submit twice,
        so the service is asked first whether a job with this submission's tag exists, and
        that job is kept."""
        attempts = 0

        def submit_or_adopt():
            nonlocal attempts
            if attempts and (existing := self._submitted_with_tag(tag)) is not None:
                return existing
            attempts += 1
            return submit()

        return call_with_retries(
            submit_or_adopt, what=what, transient=transient_errors(), policy=self.retry,
            describe=redact,
        )  # fmt: skip

    def _submitted_with_tag(self, tag: str):
        """The job this submission already created (its tag), or ``None``; local-mode jobs
        live in this process and cannot have been created unseen."""
        if self.local:
            return None
        jobs = self.service.jobs(job_tags=[tag], limit=1, backend_name=self.device.name)
        return jobs[0] if jobs else None

    def _submit_once(self, circuits: list[QuantumCircuit], shots: int, options: dict):
        from qiskit_ibm_runtime import Batch, Session
        from qiskit_ibm_runtime.executor_sampler import Sampler

        if self.options.mode == "job":
            return Sampler(mode=self.device, options=options).run(circuits, shots=shots)
        mode_class = Batch if self.options.mode == "batch" else Session
        with mode_class(backend=self.device) as mode:
            return Sampler(mode=mode, options=options).run(circuits, shots=shots)

    def fetch(self, job_id: str) -> list[dict[str, int]]:
        """Counts of job ``job_id`` (waiting for it if needed), recorded in the store; for an
        Estimator job, its ``{"evs", "stds"}`` per circuit.

        A failure of the job itself marks it failed; a fetch that keeps failing leaves it
        ``submitted`` (with the error) so that ``qcompile jobs fetch`` can try again.
        """
        row = self.store.get_job(job_id)
        if row["status"] == "done":
            return row["counts"]
        if row["status"] == "cancelled":
            raise QCompileError(f"job {job_id} was cancelled; it has no result")
        try:
            result = call_with_retries(
                lambda: self._result_once(job_id),
                what=f"fetching job {job_id} from {self.name}",
                transient=transient_errors(),
                policy=self.retry,
                describe=redact,
            )
        except QCompileError as exc:
            self.store.job_failed(job_id, str(exc), status="submitted")
            raise type(exc)(
                f"{exc}; the job is kept in the store: `qcompile jobs fetch {job_id}` "
                "picks it up later"
            ) from None
        except Exception as exc:
            message = f"job {job_id} failed on {self.name}: {type(exc).__name__}: {redact(exc)}"
            self.store.job_failed(job_id, message)
            raise QCompileError(message) from None
        if "estimator" in row["options"]:
            from qcompile.backends.estimator import expectation_data

            counts = expectation_data(result)
        else:
            counts = _counts(result)
        if len(counts) != row["num_circuits"]:
            raise QCompileError(
                f"job {job_id} returned {len(counts)} results for {row['num_circuits']} circuits"
            )
        self.store.job_done(job_id, counts)
        return counts

    def _result_once(self, job_id: str):
        job = self._jobs.get(job_id)
        if job is not None:
            return job.result()
        if self.local:
            return self._execute_again(job_id)
        return self.service.job(job_id).result()

    def _execute_again(self, job_id: str):
        """A local-mode job whose process died: the same circuits and options, run again."""
        from qiskit_ibm_runtime.executor_sampler import Sampler

        row = self.store.get_job(job_id, with_circuits=True)
        if "estimator" in row["options"]:
            observables = [
                [SparsePauliOp.from_list([(label, complex(re, im)) for label, re, im in o])
                 for o in group]
                for group in row["options"]["observables"]
            ]  # fmt: skip
            return self._estimator_once(
                row["circuits"], observables, row["options"]["estimator"]
            ).result()
        options = row["options"]["sampler"]
        return Sampler(mode=self.device, options=options).run(row["circuits"]).result()

    def wait(self, job_id: str, timeout_s: float | None = None) -> str:
        """Poll the job's status until it is final (``on_status`` hears each change); the
        final status. Local-mode jobs have no queue: their status is the store's."""
        start, last = time.monotonic(), None
        while True:
            status = self.status(job_id)
            if status != last and self.on_status is not None:
                self.on_status(job_id, status)
            last = status
            if self.local or status in FINAL_STATUSES:
                return status
            if timeout_s is not None and time.monotonic() - start > timeout_s:
                raise QCompileError(
                    f"job {job_id} is still {status} after {timeout_s:g} s; it stays in the "
                    f"store: `qcompile jobs wait {job_id}` again later"
                )
            time.sleep(self.poll_s)

    def _lookup(self, job_id: str):
        """The service's job object for ``job_id`` (retried)."""
        return call_with_retries(
            lambda: self.service.job(job_id),
            what=f"looking up job {job_id}",
            transient=transient_errors(),
            policy=self.retry,
            describe=redact,
        )

    def status(self, job_id: str) -> str:
        """The job's status as the service reports it (local mode: from the store)."""
        job = self._jobs.get(job_id)
        if job is None and self.local:
            return self.store.get_job(job_id)["status"]
        if job is None:
            job = self._lookup(job_id)
        status = job.status()
        return getattr(status, "name", str(status))

    def cancel(self, job_id: str) -> None:
        """Cancel the job on the service (a local-mode job is only marked cancelled)."""
        row = self.store.get_job(job_id)
        if row["status"] in ("done", "failed", "cancelled"):
            raise QCompileError(f"job {job_id} is already {row['status']}; nothing to cancel")
        job = self._jobs.get(job_id)
        if job is None and not self.local:
            job = self._lookup(job_id)
        if job is not None:
            try:
                job.cancel()
            except Exception as exc:
                raise QCompileError(
                    f"cannot cancel job {job_id}: {type(exc).__name__}: {redact(exc)}"
                ) from None
        self.store.job_failed(job_id, "cancelled by the user", status="cancelled")
