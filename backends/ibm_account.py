"""IBM Quantum credentials: the runtime service, and a token that never leaves the environment.

The token comes from ``QISKIT_IBM_TOKEN`` (and ``QISKIT_IBM_INSTANCE``), else from the account
saved with ``QiskitRuntimeService.save_account``. It is handed to ``QiskitRuntimeService`` and
nowhere else; every message that could quote it goes through :func:`redact`.
"""

from __future__ import annotations

import os

from qcompile.errors import BackendUnavailable

__all__ = ["INSTANCE_VARIABLE", "TOKEN_VARIABLE", "redact", "runtime_service", "transient_errors"]

TOKEN_VARIABLE = "QISKIT_IBM_TOKEN"
INSTANCE_VARIABLE = "QISKIT_IBM_INSTANCE"


def redact(text: object) -> str:
    """``str(text)`` with the IBM token (if one is set in the environment) replaced."""
    message = str(text)
    token = os.environ.get(TOKEN_VARIABLE)
    if token and len(token) >= 4:
        message = message.replace(token, "<redacted>")
    return message


def transient_errors() -> tuple[type[BaseException], ...]:
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
