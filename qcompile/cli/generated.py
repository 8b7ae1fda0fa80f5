"""Commands generated from a protocol's declaration: ``qcompile run NAME`` and
``qcompile compile NAME`` for every registered protocol that has no hand-written command —
a third party's plugin included.

Each of the plugin's ``PARAMETERS`` becomes an option (``--kappa-d``) of its declared kind
(``float``, ``int``, ``str``, ``bool``, ``path``; anything else is read as text) with its
default and allowed range in the help; ``from_mapping`` validates the values before anything
runs or is stored, so a bad value is the usual one-line error naming the flag.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from qcompile.cli.common import (
    _backend,
    _check_output_path,
    _progress,
    compile_app,
    run_app,
    write_outputs,
)
from qcompile.errors import InvalidParameter, QCompileError

__all__ = ["register"]

_KINDS: dict[str, type] = {"float": float, "int": int, "str": str, "bool": bool, "path": Path}
_PREFIX = "protocol_"
_RUN_OPTIONS = (
    "backend", "shots", "seed", "json_path", "plot", "mode", "dd", "twirling", "idle_noise",
)  # fmt: skip
_COMPILE_OPTIONS = ("target", "output", "seed", "json_path", "initial_state")


def _option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def _parameter_options(plugin, reserved: tuple[str, ...]) -> list[inspect.Parameter]:
    """One option per declared parameter; one whose name the command already uses for its
    own option (``target``) is spelled ``--protocol-<name>``."""
    options = []
    for p in plugin.PARAMETERS:
        kind = _KINDS.get(p.kind, str)
        default = p.default if isinstance(p.default, (int, float, str, bool)) else None
        unit = f" [{p.unit}]" if p.unit else ""
        text = f"{p.help + '. ' if p.help else ''}Allowed: {p.allowed}{unit}"
        name = _PREFIX + p.name if p.name in reserved else p.name
        flag = "--" + name.replace("_", "-")
        options.append(
            _option(name, Annotated[kind | None, typer.Option(flag, help=text)], default)
        )
    return options


_JSON = Annotated[Path | None, typer.Option("--json", help="Write machine-readable results.")]
_RUN = (
    ("backend", str, "aer", "reference, aer, aer:<fake backend>, ibm:<device> or ibm:<fake>."),
    ("shots", int | None, None, "Shots per circuit (device default)."),
    ("seed", int | None, None, "Seed for layout, simulation and bootstrap (recorded)."),
    ("mode", str, "batch", "ibm: backends: batch | session | job."),
    ("dd", str | None, None, "ibm: and aer:<fake> backends: dynamical decoupling XX | XpXm | XY4."),
    (
        "twirling",
        str,
        "none",
        "ibm: and aer:<fake> backends: Pauli twirling none | gates | measure | all.",
    ),
    (
        "idle_noise",
        bool,
        False,
        "aer:<fake> backends: schedule the circuits so idle qubits "
        "decohere (the baseline for --dd).",
    ),
    ("plot", Path | None, None, "Write a PNG plot here."),
)
_COMPILE = (
    ("target", str, "fake_torino", "A fake IBM backend (fake_torino, ...) or all_to_all_cx."),
    ("seed", int, 0, "Layout seed."),
    (
        "initial_state",
        str,
        "auto",
        "What the compiler may assume of the inputs: zero (run from |0…0⟩: fewer two-qubit "
        "gates), any (an operator), auto (zero if the circuit measures).",
    ),
)
_OUTPUT = Annotated[
    Path | None,
    typer.Option("--output", "-o", help="The compiled circuit: OpenQASM 3 for *.qasm, else QPY."),
]


def _run_options() -> list[inspect.Parameter]:
    options = [_option(n, Annotated[t, typer.Option(help=h)], d) for n, t, d, h in _RUN]
    return options + [_option("json_path", _JSON, None)]


def _compile_options() -> list[inspect.Parameter]:
    options = [_option(n, Annotated[t, typer.Option(help=h)], d) for n, t, d, h in _COMPILE]
    return options + [_option("output", _OUTPUT, None), _option("json_path", _JSON, None)]


def _values(kwargs: dict[str, Any], reserved: tuple[str, ...]) -> dict[str, Any]:
    """The protocol's parameters among the command's arguments, under their own names."""
    return {
        k.removeprefix(_PREFIX): v for k, v in kwargs.items() if k not in reserved and v is not None
    }


def _protocol(plugin, kwargs: dict[str, Any], reserved: tuple[str, ...]):
    """The plugin's protocol from the command's arguments; an error on a parameter spelled
    ``--protocol-<name>`` here names that flag."""
    try:
        return plugin.from_mapping(_values(kwargs, reserved))
    except InvalidParameter as exc:
        if exc.name in reserved:
            raise InvalidParameter(_PREFIX + exc.name, exc.value, exc.allowed) from None
        raise


def run_command(name: str, plugin):
    """``qcompile run NAME``: the plugin's run on a backend, compared and stored."""

    def command(**kwargs: Any) -> None:
        from qcompile.app.compare import compare_run
        from qcompile.backends import ResultStore
        from qcompile.cli.compare import print_comparison
        from qcompile.run.experiment import check_run

        _check_output_path("json", kwargs["json_path"])
        _check_output_path("plot", kwargs["plot"])
        protocol = _protocol(plugin, kwargs, _RUN_OPTIONS)
        store = ResultStore()
        chosen = _backend(kwargs["backend"], store, kwargs["mode"], kwargs["dd"],
                          kwargs["twirling"], idle_noise=kwargs["idle_noise"])  # fmt: skip
        check_run(protocol, chosen, kwargs["shots"], kwargs["seed"])
        with _progress() as progress:
            result = plugin.run(protocol, chosen, solvers=None, shots=kwargs["shots"],
                                seed=kwargs["seed"], store=store, progress=progress)  # fmt: skip
        print_comparison(result, compare_run(result))
        write_outputs(result, kwargs["json_path"], kwargs["plot"], store)

    options = _parameter_options(plugin, _RUN_OPTIONS) + _run_options()
    command.__signature__ = inspect.Signature(options)
    command.__doc__ = f"{plugin.SUMMARY} (options from the protocol's declaration)."
    return command


def _has_single_circuit(protocol) -> bool:
    """Whether ``protocol.circuit()`` exists and needs no argument."""
    circuit = getattr(protocol, "circuit", None)
    if not callable(circuit):
        return False
    try:
        inspect.signature(circuit).bind()
    except TypeError:
        return False
    return True


def compile_command(name: str, plugin):
    """``qcompile compile NAME``: the protocol's ``circuit()`` compiled for a target."""

    def command(**kwargs: Any) -> None:
        from qcompile.cli.compile_commands import compile_and_report

        _check_output_path("output", kwargs["output"])
        _check_output_path("json", kwargs["json_path"])
        protocol = _protocol(plugin, kwargs, _COMPILE_OPTIONS)
        if not _has_single_circuit(protocol):
            raise QCompileError(
                f"protocol {name!r} defines no single circuit to compile (protocol.circuit()); "
                f"where it runs circuits, `qcompile run {name} --backend aer` compiles them and "
                "reports their cost"
            )
        compile_and_report(protocol, kwargs["target"], kwargs["output"], kwargs["seed"],
                           kwargs["json_path"], kwargs["initial_state"])  # fmt: skip

    options = _parameter_options(plugin, _COMPILE_OPTIONS) + _compile_options()
    command.__signature__ = inspect.Signature(options)
    command.__doc__ = f"Compile {name}: {plugin.SUMMARY}."
    return command


def register() -> None:
    """Add generated ``run``/``compile`` commands for every protocol without its own."""
    from qcompile.protocols.plugin import protocol_plugins

    try:
        plugins = protocol_plugins()
    except QCompileError:
        return  # not installed: the hand-written commands still work
    for app, make in ((run_app, run_command), (compile_app, compile_command)):
        taken = {c.name for c in app.registered_commands}
        for name, plugin in plugins.items():
            if name not in taken:
                app.command(name)(make(name, plugin))
