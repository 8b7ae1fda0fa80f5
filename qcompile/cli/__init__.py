"""The ``qcompile`` command: list protocols, compile them, run them, look at stored runs.

Every failure the user can fix is one line on stderr naming the parameter, exit code 2.
"""

from __future__ import annotations

import signal
import sys
import threading
import warnings
from functools import cache

import typer

# the command modules register their commands on the apps of qcompile.cli.common
from qcompile.cli import (  # noqa: F401
    bench,
    compare,
    protocols,
    store_commands,
    sweep,
)
from qcompile.cli.common import app, json_to_stdout, out
from qcompile.cli.generated import register
from qcompile.cli.numbers import guard_numbers
from qcompile.errors import InvalidParameter, QCompileError, Terminated

register()  # run/compile commands from the declarations of protocols without their own
guard_numbers(app, skip=("jobs",))  # finite, sized numbers before any work (jobs: timeouts)

__all__ = ["app", "main"]

#: Python API names whose command-line flag is spelled otherwise.
FLAGS = {"dynamical_decoupling": "--dd"}


def _terminate(signum, frame) -> None:
    Terminated.requested = True
    raise Terminated("SIGTERM received; the run was stopped")


@cache
def command() -> typer.core.TyperGroup:
    """The click command tree of :data:`app`, built once per process (Typer's ``app()``
    rebuilds it from the signatures on every call: ~60 ms, paid once per invocation)."""
    return typer.main.get_command(app)


def _only_our_warnings() -> None:
    """Warnings raised inside the libraries qcompile drives (SciPy's sparse-efficiency hints
    from Qiskit's synthesis, ...) are not the user's to act on: the CLI shows only qcompile's
    own. ``python -W ...`` or ``PYTHONWARNINGS`` (``sys.warnoptions``) still decide."""
    if sys.warnoptions:
        return
    warnings.simplefilter("ignore")
    warnings.filterwarnings("default", module=r"qcompile(\.|$)")


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; a :class:`QCompileError` becomes one line and exit code 2.
    SIGTERM stops the work with :class:`~qcompile.errors.Terminated`, so the run in progress
    is stored as ``failed`` (exit code 143), never left ``running``."""
    previous = None
    arguments = sys.argv[1:] if argv is None else list(argv)
    redirected = json_to_stdout(arguments)
    if redirected:  # stdout carries the JSON alone; the tables go to stderr
        out.file = sys.stderr
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with warnings.catch_warnings():
            _only_our_warnings()
            command()(args=argv, prog_name="qcompile")
    except InvalidParameter as exc:
        print(f"qcompile: error: {exc.as_flag(FLAGS)}", file=sys.stderr)
        sys.exit(2)
    except QCompileError as exc:
        print(f"qcompile: error: {exc}", file=sys.stderr)
        sys.exit(2)
    except BaseException as exc:
        if not Terminated.requested or isinstance(exc, SystemExit):
            raise
        # the stop may surface re-wrapped (raised inside a solver's callback): still one line
        reason = exc if isinstance(exc, Terminated) else "SIGTERM received; the run was stopped"
        print(f"qcompile: stopped: {reason}", file=sys.stderr)
        sys.exit(128 + signal.SIGTERM)
    finally:
        if redirected:
            out.file = None  # follow sys.stdout again (as rich does by default)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
