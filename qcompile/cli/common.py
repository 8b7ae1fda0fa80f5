"""What every ``qcompile`` command shares: the apps, consoles, options and checks."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from qcompile.errors import InvalidParameter
from qcompile.resources import check_number

app = typer.Typer(
    help="Compile open-system protocols to hardware gates, run them, check them against "
    "references.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
run_app = typer.Typer(
    help="Compile and run a protocol; compare device, ideal and reference.", no_args_is_help=True
)
compile_app = typer.Typer(
    help="Compile a protocol for a target and print the compile report.", no_args_is_help=True
)
runs_app = typer.Typer(help="Runs kept in the results store.", no_args_is_help=True)
jobs_app = typer.Typer(
    help="Jobs submitted to IBM Quantum (or runtime's local mode), kept in the store.",
    no_args_is_help=True,
)


def _versions() -> str:
    """``qcompile X.Y.Z`` and the versions of the libraries a result depends on (what a bug
    report needs)."""
    from importlib.metadata import PackageNotFoundError, version

    from qcompile import __version__

    parts = []
    for name in ("qiskit", "qiskit-aer", "qiskit-ibm-runtime", "qutip"):
        try:
            parts.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            parts.append(f"{name} missing")
    return f"qcompile {__version__} ({', '.join(parts)})"


def _print_version(value: bool) -> None:
    if value:
        print(_versions())
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version",
            callback=_print_version,
            is_eager=True,
            help="Print qcompile's version (and its key libraries') and exit.",
        ),
    ] = False,
) -> None:
    """Compile open-system protocols to hardware gates, run them, check them against
    references."""


app.add_typer(run_app, name="run")
app.add_typer(compile_app, name="compile")
app.add_typer(runs_app, name="runs")
app.add_typer(jobs_app, name="jobs")

#: Width of a console that is not a terminal (a pipe, a file, a CI log): wide enough that no
#: table is cut to 80 columns with "…" — a table keeps its natural width there.
PIPED_WIDTH = 1000


def _console(stderr: bool = False) -> Console:
    """A console at the terminal's width; elsewhere, unless ``COLUMNS`` says otherwise, wide
    enough that tables are never truncated."""
    console = Console(stderr=stderr)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console.width = PIPED_WIDTH
    return console


out = _console()
err = _console(stderr=True)

# -- shared options --------------------------------------------------------------------------
Seed = Annotated[
    int | None, typer.Option(help="Seed for layout, simulation and bootstrap (recorded).")
]
JsonPath = Annotated[
    Path | None,
    typer.Option("--json", help="Write machine-readable results here (- for stdout)."),
]
#: ``--json -``: the JSON goes to stdout, everything else the command prints to stderr
STDOUT = "-"


def json_to_stdout(argv: list[str]) -> bool:
    """Whether the command line asks for ``--json -`` (then its tables go to stderr)."""
    return any(
        (a == "--json" and i + 1 < len(argv) and argv[i + 1] == STDOUT) or a == "--json=-"
        for i, a in enumerate(argv)
    )


def write_json_output(path: Path, data: bytes, label: str = "results") -> None:
    """Write a command's JSON: to stdout for ``-`` (alone there: the command's tables went to
    stderr), else atomically to the file, saying where."""
    if str(path) == STDOUT:
        sys.stdout.buffer.write(data.rstrip(b"\n") + b"\n")
        sys.stdout.flush()
        return
    from qcompile.results import write_atomic

    write_atomic(path, data)
    out.print(f"{label}: {path}")


Mode = Annotated[
    str, typer.Option(help="ibm: backends: batch (default; Open Plan) | session | job.")
]
DynamicalDecoupling = Annotated[
    str | None,
    typer.Option(
        "--dd",
        help="ibm: and aer:<fake> backends: dynamical decoupling XX | XpXm | XY4 (locally: "
        "circuits scheduled, idle qubits decohere, DD fills the idle time).",
    ),
]
Twirling = Annotated[
    str,
    typer.Option(
        help="ibm: and aer:<fake> backends: Pauli twirling none | gates | measure | all "
        "(32 randomizations, shots split between them)."
    ),
]
IdleNoise = Annotated[
    bool,
    typer.Option(
        "--idle-noise",
        help="aer:<fake> backends: schedule the circuits with the device's gate durations so "
        "idle qubits decohere (T1/T2 on delays) — the baseline to compare --dd against.",
    ),
]


MitigateReadout = Annotated[
    bool,
    typer.Option(
        "--mitigate-readout",
        help="aer:<fake backend> or ibm:...: undo readout errors (per-qubit calibration in "
        "the same run or job, mthree).",
    ),
]


def _backend(
    name: str,
    store,
    mode: str,
    dd: str | None,
    twirling: str,
    mitigate_readout: bool = False,
    idle_noise: bool = False,
):
    """The named backend with its execution options, each refused (naming its flag) where it
    cannot apply: ``mode`` on ``ibm:`` only; ``dd``/``twirling`` on ``ibm:`` and
    ``aer:<fake>``; ``idle_noise`` on ``aer:<fake>`` (a device always has it)."""
    from qcompile.backends import get_backend, ibm_options
    from qcompile.backends.aer import READOUT_MITIGATION_SUFFIX

    key = name.strip()
    if mitigate_readout:
        if not key.startswith(("aer:", "ibm:")):
            raise InvalidParameter(
                "mitigate_readout", True, "only with aer:<fake backend> or ibm:... (device noise)"
            )
        key = key.removesuffix(READOUT_MITIGATION_SUFFIX) + READOUT_MITIGATION_SUFFIX
    options = ibm_options(name, mode, dd, twirling, idle_noise)
    backend = get_backend(key, store=store, ibm_options=options)
    if hasattr(backend, "on_status"):  # a job on a real device: show its queue status
        backend.on_status = lambda job_id, status: err.print(f"job {job_id}: {status}")
    return backend


def _check_output_path(name: str, path: Path | None) -> None:
    """Refuse an output path before any work is done, so nothing is lost at the end: its
    directory must exist and take a new file (tried: a probe file is created and removed),
    and its name must fit the file system."""
    if path is None or (name == "json" and str(path) == STDOUT):
        return
    try:
        target = path.expanduser().resolve()
    except (OSError, RuntimeError) as exc:
        raise InvalidParameter(name, str(path), f"a usable file path ({exc})") from None
    parent = target.parent
    if not parent.is_dir():
        raise InvalidParameter(
            name, str(path), f"a file in an existing directory ({parent} does not exist)"
        )
    try:
        limit = os.pathconf(parent, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = 255
    if len(target.name.encode()) > limit:
        raise InvalidParameter(name, str(path), f"a file name of at most {limit} bytes")
    if target.is_dir():
        raise InvalidParameter(name, str(path), "a file path, not a directory")
    try:
        handle, probe = tempfile.mkstemp(dir=parent, prefix=".qcompile-probe-")
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise InvalidParameter(
            name, str(path), f"a file in a writable directory ({parent}: {exc.strerror})"
        ) from None


def _fmt(value, digits: int = 6) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _float_list(name: str, text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InvalidParameter(
            name, text, "a number or a comma-separated list of numbers"
        ) from None
    if not values:
        raise InvalidParameter(name, text, "a number or a comma-separated list of numbers")
    for value in values:
        check_number(name, value)
    return values


#: Seconds between two progress lines when stderr is not a terminal.
PROGRESS_EVERY_S = 10.0


def _progress():
    """Progress of long work on stderr; a context whose value is the callback
    ``update(stage, done, total)``. On a terminal, rich's bars (shown from the first report
    on: a check that fails before any work leaves the terminal as it was); elsewhere (a CI
    log, a file, nohup) one plain line per stage at its start and end, and every
    :data:`PROGRESS_EVERY_S` seconds, with the time elapsed and the time left at the pace so
    far."""
    if not err.is_terminal:
        return _PlainProgress()
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    tasks: dict[str, int] = {}
    started = []

    class _Context:
        def __enter__(self):
            return self.update

        def __exit__(self, *exc):
            return bar.__exit__(*exc) if started else None

        @staticmethod
        def update(stage: str, done: int, total: int) -> None:
            if total == 0:  # a note (the cost of what is about to run)
                (bar.console if started else err).print(f"qcompile: {stage}", markup=False,
                                                        highlight=False)  # fmt: skip
                return
            if not started:
                bar.__enter__()
                started.append(True)
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

    return _Context()


class _PlainProgress:
    """Progress lines for a log: ``qcompile: <stage>: 3/10 after 12 s, ~28 s left``."""

    def __init__(self, clock=time.monotonic, every: float = PROGRESS_EVERY_S) -> None:
        self.clock, self.every = clock, every
        self.started: dict[str, float] = {}
        self.last = -float("inf")

    def __enter__(self):
        return self.update

    def __exit__(self, *exc) -> None:
        return None

    def update(self, stage: str, done: int, total: int) -> None:
        if total == 0:  # a note (the cost of what is about to run)
            err.print(f"qcompile: {stage}", markup=False, highlight=False)
            return
        now = self.clock()
        first = stage not in self.started
        start = self.started.setdefault(stage, now)
        if not (first or done >= total or now - self.last >= self.every):
            return
        self.last = now
        elapsed = now - start
        line = f"qcompile: {stage}: {done}/{total}"
        if done and not first:
            line += f" after {elapsed:.0f} s"
            if done < total:
                line += f", ~{elapsed * (total - done) / done:.0f} s left"
        err.print(line, markup=False, highlight=False)


def _param_value(text: str):
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text
