"""``qcompile run NAME`` and ``qcompile compile NAME``, generated from each registered
protocol's declarations — the built-in protocols' and a third party's alike.

The protocol's ``PARAMETERS`` and ``RUN_OPTIONS`` become options
(:mod:`qcompile.cli.declared_options`), with the backend's options it offers
(``CLI_OPTIONS``; all of :data:`COMMON` by default). A run command builds every point (a
``listable`` parameter given as a comma list: one point per value, the first listable
parameter varying fastest), checks everything that can be checked — output paths, the
points, the backend and its options, the run options (the plugin's ``check_options``) —
before anything runs or is stored, runs the points, prints them (the plugin's ``render``, or
the device/ideal/reference comparison after its ``describe`` lines) and writes the JSON
(several points: ``{"sweep": [...]}`` and the plugin's ``sweep_summary``) and the plot.
"""

from __future__ import annotations

import inspect
import itertools
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any

import typer

from qcompile.cli.common import (
    DynamicalDecoupling,
    IdleNoise,
    JsonPath,
    MitigateReadout,
    Mode,
    Seed,
    Twirling,
    _backend,
    _check_output_path,
    _progress,
    compile_app,
    out,
    run_app,
    write_json_output,
)
from qcompile.cli.compile_commands import AS_RUN, InitialState, OutputPath, Target
from qcompile.cli.declared_options import (
    PREFIX,
    declared_options,
    list_values,
    option,
    protocol_values,
)
from qcompile.errors import InvalidParameter, QCompileError

__all__ = ["COMMON", "compile_command", "register", "run_command"]

_BACKEND_HELP = "reference, aer, aer:<fake backend>, ibm:<device> or ibm:<fake backend>."
#: The backend's options a run command may offer, as (annotation, default).
COMMON: dict[str, tuple[Any, Any]] = {
    "backend": (str, "aer"),
    "shots": (
        Annotated[int | None, typer.Option(help="Shots per circuit (device default).")],
        None,
    ),
    "mode": (Mode, "batch"),
    "dd": (DynamicalDecoupling, None),
    "twirling": (Twirling, "none"),
    "idle_noise": (IdleNoise, False),
    "mitigate_readout": (MitigateReadout, False),
    "plot": (Annotated[Path | None, typer.Option(help="Write a PNG plot here.")], None),
}
_COMPILE_OPTIONS = ("target", "output", "seed", "json_path", "initial_state")


def _compile_options() -> list[inspect.Parameter]:
    return [
        option("target", Target, "fake_torino"),
        option("seed", Annotated[int, typer.Option(help="Layout seed.")], 0),
        option("initial_state", InitialState, AS_RUN),
        option("output", OutputPath, None),
        option("json_path", JsonPath, None),
    ]


def _common_options(plugin) -> list[inspect.Parameter]:
    offered = getattr(plugin, "CLI_OPTIONS", tuple(COMMON))
    options = []
    for name in offered:
        annotation, default = COMMON[name]
        if name == "backend":
            default = getattr(plugin, "DEFAULT_BACKEND", default)
            annotation = Annotated[str, typer.Option(help=_BACKEND_HELP)]
        options.append(option(name, annotation, default))
    return options + [option("seed", Seed, None), option("json_path", JsonPath, None)]


def _points(plugin, kwargs: dict[str, Any], reserved: tuple[str, ...]) -> list[dict[str, Any]]:
    """The parameter mapping of every point (see the module docstring)."""
    values = protocol_values(kwargs, plugin.PARAMETERS, reserved)
    lists = {p.name: list_values(p, values[p.name]) for p in plugin.PARAMETERS
             if p.listable and p.name in values}  # fmt: skip
    names = list(lists)[::-1]  # product varies its last factor fastest
    return [values | dict(zip(names, combo, strict=True))
            for combo in itertools.product(*(lists[n] for n in names))]  # fmt: skip


def _protocol(plugin, values: dict[str, Any], reserved: tuple[str, ...]):
    """The plugin's protocol from a parameter mapping; an error on a parameter spelled
    ``--protocol-<name>`` here names that flag."""
    try:
        return plugin.from_mapping(values)
    except InvalidParameter as exc:
        if exc.name in reserved:
            raise InvalidParameter(PREFIX + exc.name, exc.value, exc.allowed) from None
        raise


def _render(plugin, results: list) -> None:
    render = getattr(plugin, "render", None)
    if render is not None:
        render(results, out)
        return
    from qcompile.app.compare import compare_run
    from qcompile.cli.compare import print_comparison

    describe = getattr(plugin, "describe", None)
    for result in results:
        for line in describe(result) if describe is not None else ():
            out.print(line)
        print_comparison(result, compare_run(result))


def _write(plugin, results: list, json_path: Path | None, plot: Path | None, store) -> None:
    """The JSON and plot where asked (paths checked before the run), and where runs are."""
    if json_path:
        if len(results) == 1:
            data = results[0].to_json().encode()
        else:
            summary = getattr(plugin, "sweep_summary", None)
            payload = {"sweep": [r.to_dict() for r in results]}
            payload.update(summary(results) if summary is not None else {})
            data = json.dumps(payload, indent=2).encode()
        write_json_output(json_path, data)
    failed = None
    if plot:
        from qcompile.app.plots import save_plots

        try:
            save_plots(results, plot)
            out.print(
                f"plot: {plot}" + (" (the last point)" if _last_only(plugin, results) else "")
            )
        except Exception as exc:  # the results are kept: say so, then fail
            failed = exc
    ids = [r.run_id for r in results if r.run_id]
    if ids:
        out.print(f"stored as run{'(s)' if len(ids) > 1 else ''} {', '.join(ids)} in {store.path}")
    else:  # a plugin's run that keeps no record of itself
        out.print("not stored: the protocol's run does not record itself in the store")
    if failed is not None:
        raise QCompileError(f"the plot was not written ({type(failed).__name__}: {failed}); "
                            "the results above are kept")  # fmt: skip


def _last_only(plugin, results: list) -> bool:
    return len(results) > 1 and not hasattr(plugin, "sweep_figure")


def run_command(name: str, plugin):
    """``qcompile run NAME``: the plugin's run on a backend, compared and stored."""
    common = _common_options(plugin)
    run_options = tuple(getattr(plugin, "RUN_OPTIONS", ()))
    reserved = tuple(o.name for o in common) + tuple(p.name for p in run_options)

    def command(**kwargs: Any) -> None:
        from qcompile.backends import ResultStore
        from qcompile.run.runner import check_run

        _check_output_path("json", kwargs["json_path"])
        _check_output_path("plot", kwargs.get("plot"))
        protocols = [_protocol(plugin, values, reserved)
                     for values in _points(plugin, kwargs, reserved)]  # fmt: skip
        store = ResultStore()
        chosen = _backend(
            kwargs.get("backend", "reference"), store, kwargs.get("mode", "batch"),
            kwargs.get("dd"), kwargs.get("twirling", "none"),
            kwargs.get("mitigate_readout", False), kwargs.get("idle_noise", False),
        )  # fmt: skip
        shots, seed = kwargs.get("shots"), kwargs["seed"]
        for protocol in protocols:
            check_run(protocol, chosen, shots, seed)
        options = {"shots": shots, **protocol_values(kwargs, run_options)}
        check = getattr(plugin, "check_options", None)
        if check is not None:
            options = check(protocols, chosen, options)
        with _progress() as progress:
            results = [plugin.run(protocol, chosen, solvers=None, seed=seed, store=store,
                                  progress=progress, **options)
                       for protocol in protocols]  # fmt: skip
        _render(plugin, results)
        _write(plugin, results, kwargs["json_path"], kwargs.get("plot"), store)

    options = declared_options(plugin.PARAMETERS, reserved) + declared_options(run_options)
    command.__signature__ = inspect.Signature(options + common)
    command.__doc__ = getattr(plugin, "RUN_HELP", None) or f"{plugin.SUMMARY}."
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


def _run_prefixes(plugin, protocol, options: dict[str, Any], target: str, seed):
    """What ``run`` compiles for a states-path protocol on ``target`` at its default
    ``device_every`` (compiler revision ≥ 4): ``(compiled evolutions with their checkpoint
    barriers, the report of the largest circuit the run submits, a note)``; ``None`` where
    the run compiles every prefix on its own (then the evolutions are compiled whole)."""
    from qcompile.cli.compile_commands import checked_target
    from qcompile.passes.checkpoint_cuts import CutProgram, whole_evolutions
    from qcompile.passes.compile import CompileReport
    from qcompile.passes.targets import resolve_target
    from qcompile.run.prefix_tomography import compile_prefixes, decoded
    from qcompile.run.state_pipeline import default_device_every, evolutions_of
    from qcompile.run.state_pipeline import tomographed_times as chosen_times

    resolved = checked_target(target, seed)  # (refused before any work)
    evolutions = evolutions_of(plugin.lower_evolution(protocol, _resolved_options(
        plugin, protocol, options)))  # fmt: skip
    times = list(evolutions[0].checkpoints)
    chosen = chosen_times(plugin, protocol, times, default_device_every(plugin))
    qubits = list(plugin.measured_qubits(protocol))
    program, info = compile_prefixes(resolved, evolutions, chosen, qubits, seed or 0, False)
    if not isinstance(program, CutProgram):
        return None
    readouts = [None if decoded(e) is not None else e.readout for e in evolutions]
    whole = whole_evolutions(program, readouts,
                             resolve_target(resolved), seed or 0)  # fmt: skip
    report = CompileReport(**{k: info[k] for k in CompileReport.__dataclass_fields__})
    note = (f"written: the {len(whole)} compiled evolution(s) with checkpoint barriers; the "
            f"run's {info['circuits']} circuits are their prefixes up to a barrier, each read "
            f"out in a measurement setting (the report is of the largest)")  # fmt: skip
    return whole, report, note


def _resolved_options(plugin, protocol, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` (``COMPILE_OPTIONS``) resolved as a run resolves them."""
    from qcompile.run.pipeline import reference_solvers

    given = {k: v for k, v in options.items() if v is not None}
    if hasattr(plugin, "resolve_options"):
        takes = inspect.signature(plugin.resolve_options).parameters
        extra = {"solvers": reference_solvers()} if "solvers" in takes else {}
        given = dict(plugin.resolve_options(protocol, given, **extra))
    return given


def _evolution_circuits(plugin, protocol, options: dict[str, Any]) -> list:
    """The whole circuit of every evolution a states-path protocol lowers to, its
    ``options`` (``COMPILE_OPTIONS``) resolved as a run resolves them."""
    lowered = plugin.lower_evolution(protocol, _resolved_options(plugin, protocol, options))
    return [e.circuit for e in (lowered.values() if isinstance(lowered, Mapping) else [lowered])]


def compile_command(name: str, plugin):
    """``qcompile compile NAME``: the protocol's ``circuit()`` — or, for a protocol declared
    by its data flow, the circuits of its ``lower`` (or the whole circuit of each evolution
    its ``lower_evolution`` gives) — compiled for a target. A plugin's ``COMPILE_OPTIONS``
    are options too, applied by its ``for_compile(protocol, options)`` (or, without it, to
    the lowering of its evolutions)."""
    compile_options = tuple(getattr(plugin, "COMPILE_OPTIONS", ()))

    def command(**kwargs: Any) -> None:
        from qcompile.cli.compile_commands import compile_and_report, run_initial_state

        _check_output_path("output", kwargs["output"])
        _check_output_path("json", kwargs["json_path"])
        values = protocol_values(kwargs, plugin.PARAMETERS, _COMPILE_OPTIONS)
        protocol = _protocol(plugin, values, _COMPILE_OPTIONS)
        given = protocol_values(kwargs, compile_options)
        if hasattr(plugin, "for_compile"):  # the plugin's own compile options applied
            protocol = plugin.for_compile(protocol, given)
        circuits, note, precompiled = None, None, None
        initial_state = kwargs["initial_state"]
        if initial_state == AS_RUN:
            initial_state = run_initial_state(plugin)
        if hasattr(plugin, "compile_circuit"):  # the plugin says what a compile shows
            circuit, note = plugin.compile_circuit(protocol)
            circuits = [circuit]
        elif not _has_single_circuit(protocol) and hasattr(plugin, "lower"):
            circuits = list(plugin.lower(protocol))  # a data-flow protocol's circuits
        elif hasattr(plugin, "lower_evolution") and kwargs["initial_state"] == AS_RUN:
            # the run's circuits, compiled as it compiles them
            precompiled = _run_prefixes(plugin, protocol, given, kwargs["target"], kwargs["seed"])
        if circuits is None and precompiled is None and not _has_single_circuit(protocol) \
                and hasattr(plugin, "lower_evolution"):  # fmt: skip
            circuits = _evolution_circuits(plugin, protocol, given)
        if precompiled is not None:
            circuits, note = precompiled[0], precompiled[2]
        if not _has_single_circuit(protocol) and not circuits:
            raise QCompileError(
                f"protocol {name!r} defines no single circuit to compile (protocol.circuit()); "
                f"where it runs circuits, `qcompile run {name} --backend aer` compiles them and "
                "reports their cost"
            )
        compile_and_report(protocol, kwargs["target"], kwargs["output"], kwargs["seed"],
                           kwargs["json_path"], initial_state, circuits, note,
                           check_register=not hasattr(plugin, "compile_circuit"),
                           compiled=None if precompiled is None else precompiled[:2])  # fmt: skip

    options = declared_options(plugin.PARAMETERS, _COMPILE_OPTIONS, lists=False)
    options += declared_options(compile_options, _COMPILE_OPTIONS, lists=False)
    command.__signature__ = inspect.Signature(options + _compile_options())
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
