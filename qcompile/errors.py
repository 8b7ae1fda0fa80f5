"""Errors that qcompile raises on purpose.

Every user-facing failure is a :class:`QCompileError`; its message is one line that names the
parameter, the value given and what is allowed, so the CLI can print it without a traceback.
"""

from __future__ import annotations

from typing import Any


class QCompileError(Exception):
    """Base class of the errors qcompile raises deliberately."""


class InvalidParameter(QCompileError, ValueError):
    """A parameter is outside its allowed range or malformed.

    Parameters
    ----------
    name:
        The parameter's name as the Python API spells it (``reservoir_state``); the CLI shows
        it as a flag (``--reservoir-state``).
    value:
        The value that was given.
    allowed:
        What would have been accepted, e.g. ``"an integer >= 1"``.
    """

    def __init__(self, name: str, value: Any, allowed: str) -> None:
        self.name = name
        self.value = value
        self.allowed = allowed
        super().__init__(f"invalid {name}={value!r}: allowed {allowed}")

    def __reduce__(self):
        """Pickle by the three fields, so the error crosses process boundaries intact (a
        sweep worker's validation error reaches the parent as itself)."""
        return (type(self), (self.name, self.value, self.allowed))

    def as_flag(self, flags: dict[str, str] | None = None) -> str:
        """The same message with the parameter spelled as a CLI flag (``flags`` maps API names
        whose flag is spelled otherwise, e.g. ``dynamical_decoupling`` → ``--dd``)."""
        flag = (flags or {}).get(self.name) or "--" + self.name.replace("_", "-")
        return f"invalid {flag}={self.value!r}: allowed {self.allowed}"


class Terminated(BaseException):
    """The process was asked to stop (SIGTERM) while working: the run in progress is marked
    ``failed`` with this error on the way out, never left ``running``. A ``BaseException``,
    like ``KeyboardInterrupt``, so no ``except Exception`` in the work swallows it.

    ``requested`` stays true once a stop was asked for: raised inside a solver's C callback,
    the exception may come out re-wrapped, and the stop must still be reported as one."""

    requested = False


class BackendUnavailable(QCompileError):
    """The named backend does not exist or cannot be reached."""


class ResourceLimit(QCompileError):
    """The request needs more qubits, memory or time than the chosen backend offers."""
