"""IBM Quantum through qiskit-ibm-runtime, with every job remembered before it is waited on.

Circuits (already compiled to the device's ISA) go through runtime's client-side
``qiskit_ibm_runtime.executor_sampler.Sampler`` — what 0.51 recommends; ``SamplerV2`` is
deprecated — in **batch** mode by default (Open Plan accounts cannot open sessions),
``session`` or plain ``job`` mode on request. Dynamical decoupling and Pauli twirling are
the primitive's own options, passed through (:class:`IBMOptions`).

Names: ``ibm:<device>`` (``ibm:ibm_torino``; needs an account) and ``ibm:<fake backend>``
(``ibm:fake_torino``): runtime's *local testing mode*, the same Sampler, Batch and job
objects executed by Aer on the fake device's noise, with no network and no account.

Credentials: ``QISKIT_IBM_TOKEN`` (and ``QISKIT_IBM_INSTANCE``) from the environment, else
the account saved with ``QiskitRuntimeService.save_account``. The token is handed to
``QiskitRuntimeService`` and nowhere else: never printed, logged, stored or put in an error
message (:func:`redact`).

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

import os
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.providers import BackendV2

from qcompile.backends.aer import MAX_SIMULATED_QUBITS, active_qubits, density_matrices_at
from qcompile.backends.retry import RetryPolicy, call_with_retries
from qcompile.backends.store import ResultStore
from qcompile.errors import BackendUnavailable, InvalidParameter, QCompileError, ResourceLimit
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

MODES = ("batch", "session", "job")
DD_SEQUENCES = ("XX", "XpXm", "XY4")
TWIRLING = ("none", "gates", "measure", "all")
FINAL_STATUSES = ("DONE", "ERROR", "CANCELLED")
TOKEN_VARIABLE = "QISKIT_IBM_TOKEN"
INSTANCE_VARIABLE = "QISKIT_IBM_INSTANCE"

Progress = Callable[[int], None]


def redact(text: object) -> str:
    """``str(text)`` with the IBM token (if one is set in the environment) replaced."""
    message = str(text)
    token = os.environ.get(TOKEN_VARIABLE)
    if token and len(token) >= 4:
        message = message.replace(token, "<redacted>")
    return message


def _transient_errors() -> tuple[type[BaseException], ...]:
    """Errors worth retrying: the network, timeouts and the runtime API's HTTP errors."""
    import requests
    from qiskit_ibm_runtime.exceptions import IBMApiError, IBMBackendApiError

    return (ConnectionError, TimeoutError, requests.RequestException, IBMApiError,
            IBMBackendApiError)  # fmt: skip


def runtime_service():
    """A ``QiskitRuntimeService`` from ``QISKIT_IBM_TOKEN``/``QISKIT_IBM_INSTANCE`` or the
    saved account; failure is a :class:`BackendUnavailable` that never shows the token."""
    from qiskit_ibm_runtime import QiskitRuntimeService

    token = os.environ.get(TOKEN_VARIABLE)
    instance = os.environ.get(INSTANCE_VARIABLE) or None
    try:
        if token:
            return QiskitRuntimeService(
                channel="ibm_quantum_platform", token=token, instance=instance
            )
        return QiskitRuntimeService(instance=instance)
    except Exception as exc:
        raise BackendUnavailable(
            f"cannot open an IBM Quantum account ({type(exc).__name__}: {redact(exc)}); set "
            f"{TOKEN_VARIABLE} (and {INSTANCE_VARIABLE}) or save an account with "
            "QiskitRuntimeService.save_account, or use ibm:fake_<device> for local mode"
        ) from None


@dataclass(frozen=True)
class IBMOptions:
    """Execution mode and the primitive's error-suppression options.

    ``dynamical_decoupling``: ``None`` or a sequence of :data:`DD_SEQUENCES`;
    ``twirling``: one of :data:`TWIRLING` (Pauli twirling of two-qubit gates, of
    measurements, or both); ``max_execution_time`` in seconds (``None``: the service's).
    """

    mode: str = "batch"
    dynamical_decoupling: str | None = None
    twirling: str = "none"
    max_execution_time: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidParameter("mode", self.mode, "one of " + ", ".join(MODES))
        if self.dynamical_decoupling not in (None, *DD_SEQUENCES):
            raise InvalidParameter(
                "dynamical_decoupling",
                self.dynamical_decoupling,
                "none or one of " + ", ".join(DD_SEQUENCES),
            )
        if self.twirling not in TWIRLING:
            raise InvalidParameter("twirling", self.twirling, "one of " + ", ".join(TWIRLING))
        if self.max_execution_time is not None and not (
            isinstance(self.max_execution_time, int) and self.max_execution_time > 0
        ):
            raise InvalidParameter(
                "max_execution_time", self.max_execution_time, "a positive integer (seconds)"
            )

    def sampler_options(self, shots: int, seed: int | None, local: bool) -> dict[str, Any]:
        """The ``SamplerOptions`` of the client-side Sampler, as a plain dict."""
        options: dict[str, Any] = {
            "default_shots": shots,
            "dynamical_decoupling": {
                "enable": self.dynamical_decoupling is not None,
                "sequence_type": self.dynamical_decoupling or "XX",
            },
            "twirling": {
                "enable_gates": self.twirling in ("gates", "all"),
                "enable_measure": self.twirling in ("measure", "all"),
            },
            "max_execution_time": self.max_execution_time,
        }
        if local and seed is not None:
            options["simulator"] = {"seed_simulator": int(seed)}
        return options

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _counts(result) -> list[dict[str, int]]:
    """Counts of every pub of a Sampler result (all classical registers joined)."""
    return [{bits: int(n) for bits, n in pub.join_data().get_counts().items()} for pub in result]


class IBMBackend:
    """An IBM Quantum device (``ibm_torino``) or a fake one in runtime's local mode
    (``fake_torino``), run through the client-side Sampler.

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
                    transient=_transient_errors(),
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
        if self.local:
            used = len(active_qubits(circuits))
            if used > MAX_SIMULATED_QUBITS:
                raise ResourceLimit(
                    f"the circuits use {used} qubits; local mode simulates at most "
                    f"{MAX_SIMULATED_QUBITS}"
                )
        options = self.options.sampler_options(shots, seed, self.local)
        tag = f"qcompile-{uuid.uuid4().hex[:16]}"  # one per submission, the same on every retry
        options["environment"] = {"job_tags": [tag]}
        attempts = 0

        def submit_or_adopt():
            # a retry after a lost response must not submit twice: the service is asked first
            # whether a job with this submission's tag exists, and that job is kept
            nonlocal attempts
            if attempts and (existing := self._submitted_with_tag(tag)) is not None:
                return existing
            attempts += 1
            return self._submit_once(circuits, shots, options)

        job = call_with_retries(
            submit_or_adopt,
            what=f"submitting {len(circuits)} circuits to {self.name}",
            transient=_transient_errors(),
            policy=self.retry,
            describe=redact,
        )
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
            options={"sampler": options, "execution": self.options.to_dict()},
            calibration=self.calibration_time(),
        )
        return job_id

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
        """Counts of job ``job_id`` (waiting for it if needed), recorded in the store.

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
                transient=_transient_errors(),
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
            transient=_transient_errors(),
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
