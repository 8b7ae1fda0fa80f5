"""Backends: where compiled circuits run, and the store where results are kept.

``get_backend`` names: ``aer`` (noiseless), ``aer:<fake backend>`` (Aer with that IBM device's
calibrated noise, e.g. ``aer:fake_torino``), ``reference`` (no circuits: the protocol's exact
reference alone), ``ibm:<device>`` (IBM Quantum through qiskit-ibm-runtime, e.g.
``ibm:ibm_torino``) and ``ibm:<fake backend>`` (the same code path in runtime's local mode).
``aer:<fake backend>+readout-mitigation`` mitigates readout errors (tensored assignment
matrices, ``qcompile.backends.readout_mitigation``).
"""

from __future__ import annotations

from qcompile.backends.aer import READOUT_MITIGATION_SUFFIX, AerBackend
from qcompile.backends.ibm import IBMBackend, IBMOptions
from qcompile.backends.readout_mitigation import ReadoutMitigated
from qcompile.backends.store import ResultStore, default_store_path
from qcompile.errors import BackendUnavailable
from qcompile.passes.targets import fake_backend_names

__all__ = [
    "AerBackend",
    "IBMBackend",
    "IBMOptions",
    "ReferenceBackend",
    "ResultStore",
    "default_store_path",
    "get_backend",
    "backend_names",
    "DEFAULT_BACKEND",
]

DEFAULT_BACKEND = "aer:fake_torino"


class ReferenceBackend:
    """Runs no circuit: a run on it reports the protocol's exact reference only."""

    name = "reference"
    noisy = False
    runs_circuits = False
    submits_jobs = False
    target = None
    compile_target = None
    num_qubits = None
    capacity = "reference (no circuit is run)"


def backend_names() -> list[str]:
    """Every name :func:`get_backend` accepts without an account (``ibm:<device>`` aside)."""
    fakes = fake_backend_names()
    return ["aer", "reference"] + [f"aer:{name}" for name in fakes] + [f"ibm:{n}" for n in fakes]


def get_backend(
    name: str, *, store: ResultStore | None = None, ibm_options: IBMOptions | None = None
) -> AerBackend | ReferenceBackend | IBMBackend | ReadoutMitigated:
    """The backend called ``name``; an unknown name lists the valid ones.

    ``store`` and ``ibm_options`` only concern ``ibm:`` backends (where their jobs are kept;
    execution mode, dynamical decoupling, twirling).
    """
    key = name.strip()
    if key == "aer":
        return AerBackend()
    if key == "reference":
        return ReferenceBackend()
    mitigate = key.endswith(READOUT_MITIGATION_SUFFIX)
    device = key.removesuffix(READOUT_MITIGATION_SUFFIX)
    if device.startswith("aer:") and f"aer:{device[4:].lower()}" in backend_names():
        return AerBackend(device[4:].lower(), readout_mitigation=mitigate)
    if device.startswith("ibm:") and len(device) > 4:
        ibm = IBMBackend(device[4:], options=ibm_options, store=store)
        return ReadoutMitigated(ibm, READOUT_MITIGATION_SUFFIX) if mitigate else ibm
    raise BackendUnavailable(
        f"unknown backend {name!r} (--backend); valid names: aer, reference, "
        f"aer:<fake backend>[{READOUT_MITIGATION_SUFFIX}], "
        f"ibm:<IBM device> (account needed) or ibm:<fake backend> (local mode), each "
        f"[{READOUT_MITIGATION_SUFFIX}], with "
        f"<fake backend> one of {', '.join(fake_backend_names())}"
    )
