"""The ``qcompile`` command: list protocols, compile them, run them, look at stored runs.

Every failure the user can fix is one line on stderr naming the parameter, exit code 2.
"""

from __future__ import annotations

import sys

# the command modules register their commands on the apps of qcompile.cli.common
from qcompile.cli import (  # noqa: F401
    bench,
    compare,
    compile_commands,
    protocols,
    run_bosonic,
    run_coherent_feedback,
    run_dissipative_qubits,
    run_homogenization,
    run_ising,
    run_lindblad,
    store_commands,
    sweep,
)
from qcompile.cli.common import app
from qcompile.cli.generated import register
from qcompile.errors import InvalidParameter, QCompileError

register()  # run/compile commands from the declarations of protocols without their own

__all__ = ["app", "main"]


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; a :class:`QCompileError` becomes one line and exit code 2."""
    try:
        app(args=argv, prog_name="qcompile")
    except InvalidParameter as exc:
        print(f"qcompile: error: {exc.as_flag()}", file=sys.stderr)
        sys.exit(2)
    except QCompileError as exc:
        print(f"qcompile: error: {exc}", file=sys.stderr)
        sys.exit(2)
