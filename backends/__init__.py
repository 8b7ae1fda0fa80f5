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
from qcompile.backends.error_suppression import Suppression
from qcompile.backends.ibm import IBMBackend, IBMOptions
from qcompile.backends.readout_mitigation import ReadoutMitigated
from qcompile.backends.store import ResultStore, default_store_path
from qcompile.errors import BackendUnavailable, InvalidParameter
from qcompile.passes.targets import fake_backend_names

__all__ = [
    "AerBackend",
    "IBMBackend",
    "IBMOptions",
    "ReferenceBackend",
    "ResultStore",
    "default_store_path",
    "get_backend",
    "ibm_options",
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


def ibm_options(
    backend: str,
    mode: str = "batch",
    dd: str | None = None,
    twirling: str = "none",
    idle_noise: bool = False,
) -> IBMOptions:
    """The execution options for ``backend``, each refused (named) where it cannot apply:
    ``mode`` only on ``ibm:``; ``dd`` and ``twirling`` on ``ibm:`` and ``aer:<fake>`` (there
    applied locally); ``idle_noise`` on ``aer:<fake>`` only (a device always has it)."""
    key = backend.strip()
    options = IBMOptions(mode=mode, dynamical_decoupling=dd, twirling=twirling,
                         idle_noise=idle_noise)  # fmt: skip
    if not key.startswith("ibm:") and mode != "batch":
        raise InvalidParameter("mode", mode, "'batch' unless --backend is ibm:...")
    if not key.startswith(("ibm:", "aer:")):
        for flag, value, default in (("dd", dd, None), ("twirling", twirling, "none"),
                                     ("idle_noise", idle_noise, False)):  # fmt: skip
            if value != default:
                raise InvalidParameter(
                    flag, value, f"{default!r} unless --backend is ibm:... or aer:<fake "
                    "backend> (device noise to suppress)"
                )  # fmt: skip
    if key.startswith("ibm:") and idle_noise:
        raise InvalidParameter(
            "idle_noise", True, "only on aer:<fake backend>: a device's idle qubits always "
            "decohere"
        )  # fmt: skip
    return options


def get_backend(
    name: str, *, store: ResultStore | None = None, ibm_options: IBMOptions | None = None
) -> AerBackend | ReferenceBackend | IBMBackend | ReadoutMitigated:
    """The backend called ``name``; an unknown name lists the valid ones.

    ``store`` only concerns ``ibm:`` backends (where their jobs are kept); ``ibm_options``
    their execution mode, and on ``ibm:`` and ``aer:<fake>`` backends dynamical decoupling
    and twirling (locally by :mod:`qcompile.backends.error_suppression`, with ``idle_noise``).
    """
    key = name.strip()
    if key == "aer":
        return AerBackend()
    if key == "reference":
        return ReferenceBackend()
    mitigate = key.endswith(READOUT_MITIGATION_SUFFIX)
    device = key.removesuffix(READOUT_MITIGATION_SUFFIX)
    if device.startswith("aer:") and f"aer:{device[4:].lower()}" in backend_names():
        suppression = None
        if ibm_options is not None:  # runtime's options, applied locally
            suppression = Suppression(ibm_options.twirling, ibm_options.dynamical_decoupling,
                                      ibm_options.idle_noise)  # fmt: skip
        return AerBackend(device[4:].lower(), readout_mitigation=mitigate, suppression=suppression)
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
