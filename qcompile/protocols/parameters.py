"""How a protocol declares its parameters, for ``qcompile protocols``, JSON and messages."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DEVICE_EVERY_OPTION",
    "ESTIMATOR_OPTIONS",
    "Parameter",
    "STEPS_ON_DEVICE_OPTION",
    "ZNE_OPTION",
    "circuit_only",
    "read_flag",
]


@dataclass(frozen=True)
class Parameter:
    """One physical parameter: its name, kind, default (``None``: none) and allowed range,
    with optional help text, unit and the spec section it comes from.

    How ``qcompile run`` spells it (:mod:`qcompile.cli.generated`): ``flags`` replaces the
    default ``--name`` (``("--J",)``, ``("--squared/--unsquared",)``, or several aliases);
    a ``listable`` parameter also takes a comma list (``--sigma 0.01,0.03``), one run per
    value; kind ``list`` is a repeatable option whose values are collected in a list.
    """

    name: str
    kind: str
    default: object
    allowed: str
    help: str = ""
    unit: str = ""
    spec: str = ""
    flags: tuple[str, ...] = ()
    listable: bool = False


#: The Estimator path's run options, shared by every protocol that offers it.
ESTIMATOR_OPTIONS = (
    Parameter("estimator", "bool", False, "true|false; Pauli expectation values from runtime's "
              "Estimator instead of tomography counts"),
    Parameter("resilience_level", "int", 1, "0, 1 (TREX) or 2 (TREX + ZNE); with estimator"),
)  # fmt: skip


#: Zero-noise extrapolation, a run option of every protocol with circuits that offers it.
ZNE_OPTION = Parameter(
    "zne", "str", None, "odd scale factors from 1, e.g. 1,3,5; zero-noise extrapolation "
    "(device-noise circuit backends)",
)  # fmt: skip

#: Tomography at every k-th checkpoint, a run option of every protocol on the states path.
DEVICE_EVERY_OPTION = Parameter(
    "device_every", "int", 1, "an integer >= 1: tomograph every k-th time"
)

#: Compiled steps run with shots, a run option of every protocol on the step path.
STEPS_ON_DEVICE_OPTION = Parameter(
    "steps_on_device", "int", None, "0..1000; compiled steps run with shots on the backend "
    "(aer backends; default 3)",
)  # fmt: skip


def read_flag(name: str, value: object) -> bool:
    """A boolean run option, also from text (``true``/``false``, ``1``/``0``, ``yes``/``no``:
    a sweep's ``--option`` or a recipe)."""
    from qcompile.errors import InvalidParameter

    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes"):
        return True
    if text in ("false", "0", "no"):
        return False
    raise InvalidParameter(name, value, "true or false")


def circuit_only(backend, options: dict, names: tuple[str, ...]) -> dict:
    """``options`` without the ones not given (``None``), each of ``names`` refused where the
    backend runs no circuits (the ``reference`` backend): a protocol's ``check_options``."""
    from qcompile.errors import InvalidParameter

    given = {name: value for name, value in options.items() if value is not None}
    if not getattr(backend, "runs_circuits", True):
        for name in names:
            if name in given:
                raise InvalidParameter(
                    name, given[name], "only with --backend aer or aer:<fake backend>"
                )
    return given
