"""The protocol plugin interface and its registry (entry-point group ``qcompile.protocols``).

A protocol plugin is any object — usually a module — with

* ``NAME`` (its CLI name), ``SUMMARY`` (one line), ``PARAMETERS`` (a tuple of
  :class:`~qcompile.protocols.parameters.Parameter`, declared once: validation messages,
  ``qcompile protocols`` and the JSON parameter block come from it);
* ``from_mapping(values)``: the validated protocol from a parameter mapping (CLI, JSON, a
  stored recipe); its ``parameters()`` round-trips through ``from_mapping``;
* either its data flow — ``reference(protocol)`` (exact observables; ``reference(protocol,
  solvers)`` gets qcompile's reference solvers by name), ``lower(protocol)`` (measured
  circuits), ``estimate(protocol, counts)`` (observables from one counts mapping per circuit);
  a protocol without circuits declares ``reference`` alone — which qcompile's one runner
  runs, stores and compares (:mod:`qcompile.run.pipeline`, where the optional hooks
  ``simulate``, ``ideal``, ``circuit_info``, ``estimator_observables`` and
  ``from_expectations`` are described); such a plugin with circuits takes the mitigation
  options ``zne`` (and, with ``estimator_observables``, ``estimator`` and
  ``resilience_level``) without declaring them; or its data flow through *states* —
  ``reference``, ``lower_evolution`` (one lowered evolution with checkpoints),
  ``measured_qubits`` and ``estimate_states`` (observables from those qubits' states) — run
  by the one runner's states path (:mod:`qcompile.run.state_pipeline`: tomography of the
  circuit prefixes), which offers ``device_every``, ``zne`` and the Estimator; or its data
  flow through *single-qubit states* — ``reference``, ``tomography_tasks`` (circuits and the
  qubits measured after each) and ``estimate_blochs`` (observables from their Bloch vectors)
  — run by the Bloch path (:mod:`qcompile.run.bloch_pipeline`: three circuits per task
  whatever its width; ``zne``, the Estimator, a ``side_experiment`` in the same job) — the
  registry wraps such a module in :class:`DataFlowPlugin` (whose ``check`` refuses bad
  options running nothing: ``qcompile sweep`` checks its points with it), also when it
  keeps a ``run`` for scripts (``run = one_runner(__name__)``) —, or
* ``run(protocol, backend, *, solvers=None, shots, seed, store, progress, run_id,
  sweep_point, **options)``: the whole run (reference, lowering, compiling, execution,
  estimation) as a :class:`~qcompile.results.RunResult` — for the built-ins that keep one
  (GKP and the cat qubit), the choice between two paths of the one runner by the backend's
  capabilities: their reference-backend data flow (:mod:`qcompile.run.pipeline`) or their
  compiled collision step on a backend with unitaries (``lower_step`` and
  ``estimate_step``, the step path: :mod:`qcompile.run.step_pipeline`) — the one place a
  protocol module reaches into the run layer, with its ``check`` (the same choice, running
  nothing). ``solvers`` optionally replaces solvers by name
  (``qcompile.backends.solvers.default_solvers()``).
* optionally ``RUN_OPTIONS`` (the run's own options: ``qcompile run`` flags, ``sweep
  --option``) and, on the protocol, ``circuit()`` (what ``qcompile compile`` compiles).

``qcompile run NAME`` is generated from these (:mod:`qcompile.cli.generated`) and, where a
plugin declares them, from its optional command-line hooks, data flowing one way:

* ``RUN_HELP``, ``DEFAULT_BACKEND``, ``CLI_OPTIONS`` (which backend options the command
  offers: ``backend``, ``shots``, ``mode``, ``dd``, ``twirling``, ``idle_noise``,
  ``mitigate_readout``, ``plot``);
* ``check_options(protocols, backend, options) -> options``: the run options checked
  against the chosen backend before anything runs or is stored;
* ``render(results, console)``: the results' tables (the built-ins':
  :mod:`qcompile.protocols.rendering`); without it, the device/ideal/reference comparison
  of each result, after the lines of ``describe(result)``;
* ``sweep_summary(results) -> dict``: what the JSON of several points (a ``listable``
  parameter given as a list) adds beside ``"sweep"``.
* ``COMPILE_OPTIONS`` and ``for_compile(protocol, options) -> protocol``: options of
  ``qcompile compile NAME`` besides the parameters (lindblad: the lowering's), applied to the
  protocol before its circuit is compiled;
* ``figure(result)`` and ``sweep_figure(results)``: matplotlib figures of one run and of
  several points (``--plot``, ``compare --plot``; the built-ins':
  :mod:`qcompile.protocols.rendering.figures`); without them, the generic comparison figure
  (:func:`qcompile.app.plots.comparison_figure`) of the last point.

Every protocol, the built-in ones included, is found through the entry points of the
installed distributions, in the spirit of Qiskit's transpiler stage plugins. A third-party
package adds one with a single line in its ``pyproject.toml``::

    [project.entry-points."qcompile.protocols"]
    my-protocol = "my_package.my_protocol"
"""

from __future__ import annotations

import sys
import warnings
from collections.abc import Iterator, Mapping
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from qcompile.errors import InvalidParameter, QCompileError
from qcompile.protocols.parameters import (
    DEVICE_EVERY_OPTION,
    ESTIMATOR_OPTIONS,
    ZNE_OPTION,
    Parameter,
)

__all__ = [
    "BLOCH_FLOW",
    "DATA_FLOW",
    "STATE_FLOW",
    "DataFlowPlugin",
    "ENTRY_POINT_GROUP",
    "PROTOCOLS",
    "ProtocolPlugin",
    "get_protocol",
    "one_runner",
    "protocol_plugins",
    "refresh",
]

ENTRY_POINT_GROUP = "qcompile.protocols"


@runtime_checkable
class ProtocolPlugin(Protocol):
    """What qcompile needs of a protocol (see the module docstring)."""

    NAME: str
    SUMMARY: str
    PARAMETERS: tuple[Parameter, ...]

    def from_mapping(self, values: Mapping[str, Any]) -> Any: ...

    def run(self, protocol: Any, backend: Any, **options: Any) -> Any: ...


#: The methods of a plugin declared by its data flow, without a ``run`` of its own.
DATA_FLOW = ("reference", "lower", "estimate")
#: ... and of one whose observables come from states along a lowered evolution (the one
#: runner's states path, :mod:`qcompile.run.state_pipeline`).
STATE_FLOW = ("reference", "lower_evolution", "measured_qubits", "estimate_states")
#: ... and of one whose observables come from single-qubit states after chosen circuits (the
#: one runner's Bloch path, :mod:`qcompile.run.bloch_pipeline`).
BLOCH_FLOW = ("reference", "tomography_tasks", "estimate_blochs")


class DataFlowPlugin:
    """A plugin declared by its data flow (``reference``, ``lower``, ``estimate``), run by
    qcompile's one runner, :func:`qcompile.run.pipeline.run_declared`: every attribute is
    the module's, ``run`` is qcompile's."""

    def __init__(self, module: Any) -> None:
        self.module = module

    def __getattr__(self, name: str) -> Any:
        return getattr(self.module, name)

    def __repr__(self) -> str:
        return f"DataFlowPlugin({getattr(self.module, '__name__', self.module)!r})"

    @property
    def RUN_OPTIONS(self) -> tuple[Parameter, ...]:  # noqa: N802 (the interface's name)
        """The module's run options, and the mitigation every data-flow protocol with
        circuits takes (:mod:`qcompile.run.mitigated_execution`): ``zne``, and ``estimator``
        with ``resilience_level`` where it declares ``estimator_observables``; on the states
        path ``device_every``, ``zne`` and the Estimator; on the Bloch path ``zne`` and the
        Estimator."""
        declared = tuple(getattr(self.module, "RUN_OPTIONS", ()))
        offered: tuple[Parameter, ...] = ()
        if hasattr(self.module, "lower_evolution"):
            offered = (DEVICE_EVERY_OPTION, ZNE_OPTION, *ESTIMATOR_OPTIONS)
        elif hasattr(self.module, "tomography_tasks"):
            offered = (ZNE_OPTION, *ESTIMATOR_OPTIONS)
        elif hasattr(self.module, "lower"):
            offered = (ZNE_OPTION,)
            if hasattr(self.module, "estimator_observables"):
                offered += ESTIMATOR_OPTIONS
        names = {p.name for p in declared}
        return declared + tuple(p for p in offered if p.name not in names)

    def run(self, protocol: Any, backend: Any, **options: Any) -> Any:
        """check → store → reference → lower → compile → execute → estimate → result."""
        from qcompile.run.pipeline import run_declared

        return run_declared(self.module, protocol, backend, **options)

    def check(self, protocol: Any, backend: Any, **options: Any) -> None:
        """Refuse what :meth:`run` would refuse before any work (options, register, shots,
        seed, mitigation), running nothing: a sweep checks its points with it first."""
        from qcompile.run.pipeline import check_declared

        check_declared(self.module, protocol, backend, **options)


def one_runner(module_name: str):
    """A data-flow module's own ``run`` (``run = one_runner(__name__)``: for scripts that
    import it): the one runner over the module's data flow. The registry still wraps such a
    module in :class:`DataFlowPlugin`."""

    def run(protocol: Any, backend: Any, **options: Any) -> Any:
        """This protocol's run (plugin interface): qcompile's one runner over the data flow
        this module declares (:mod:`qcompile.run.pipeline`); ``options`` as
        :meth:`DataFlowPlugin.run` takes them (``solvers``, ``shots``, ``seed``, ``store``,
        the declared ``RUN_OPTIONS``, ...)."""
        return DataFlowPlugin(sys.modules[module_name]).run(protocol, backend, **options)

    run.one_runner = True  # type: ignore[attr-defined]
    return run


def _missing_flow(plugin: Any) -> list[str]:
    """What a plugin without ``run`` lacks of its data flow: ``reference``, and ``lower``
    with ``estimate`` if it has either (a protocol without circuits declares neither), or
    the states path's hooks if it has ``lower_evolution``, or the Bloch path's if it has
    ``tomography_tasks``."""
    needed = DATA_FLOW if any(hasattr(plugin, a) for a in DATA_FLOW[1:]) else DATA_FLOW[:1]
    if hasattr(plugin, "lower_evolution"):
        needed = STATE_FLOW
    elif hasattr(plugin, "tomography_tasks"):
        needed = BLOCH_FLOW
    return [a for a in needed if not hasattr(plugin, a)]


@cache
def protocol_plugins() -> dict[str, ProtocolPlugin]:
    """Every installed protocol plugin by name (cached; :func:`refresh` reloads).

    A plugin that fails to load, or lacks part of the interface, is skipped with a warning
    naming its entry point, so a broken third-party package never breaks qcompile.
    """
    found: dict[str, ProtocolPlugin] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugin = ep.load()
        except Exception as exc:  # a third party's import error must not break qcompile
            warnings.warn(
                f"protocol plugin {ep.name!r} ({ep.value}) failed to load: {exc}",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        missing = [a for a in ("NAME", "SUMMARY", "PARAMETERS", "from_mapping")
                   if not hasattr(plugin, a)]  # fmt: skip
        if not hasattr(plugin, "run") or getattr(plugin.run, "one_runner", False):
            flow = _missing_flow(plugin)
            missing += ["run (or " + ", ".join(flow) + ")"] if flow else []
            plugin = plugin if flow else DataFlowPlugin(plugin)
        if missing or plugin.NAME != ep.name:
            why = f"lacks {', '.join(missing)}" if missing else f"NAME is {plugin.NAME!r}"
            warnings.warn(
                f"protocol plugin {ep.name!r} ({ep.value}) skipped: {why}",
                RuntimeWarning,
                stacklevel=2,
            )
            continue
        found.setdefault(ep.name, plugin)
    if not found:
        raise QCompileError(
            "no protocol is registered: qcompile's entry points are missing — install the "
            "package (`python -m pip install .` or `-e .`) rather than running from the source"
        )
    return found


def refresh() -> None:
    """Forget the cached registry (after installing a plugin in a running session)."""
    protocol_plugins.cache_clear()


def get_protocol(name: str) -> ProtocolPlugin:
    """The protocol plugin registered under ``name``."""
    plugins = protocol_plugins()
    try:
        return plugins[name]
    except KeyError:
        raise InvalidParameter("protocol", name, "one of " + ", ".join(plugins)) from None


class _Registry(Mapping[str, ProtocolPlugin]):
    """A read-only view of the registry as a mapping name → plugin."""

    def __getitem__(self, name: str) -> ProtocolPlugin:
        return protocol_plugins()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(protocol_plugins())

    def __len__(self) -> int:
        return len(protocol_plugins())

    def __repr__(self) -> str:
        return f"PROTOCOLS({', '.join(self)})"


#: Every registered protocol by name (a live view of the entry points).
PROTOCOLS: Mapping[str, ProtocolPlugin] = _Registry()
