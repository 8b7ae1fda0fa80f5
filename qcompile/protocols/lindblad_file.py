r"""A user's open system of qubits as a TOML model: parsed, validated, built into an OpenSystem.

.. math:: \dot\rho = -i\Big[\sum_j c_j(t)\,P_j,\ \rho\Big]
          + \sum_k \gamma_k\big(A_k\rho A_k^\dagger - \tfrac12\{A_k^\dagger A_k,\rho\}\big)

with Pauli strings P_j, real coefficients c_j(t) from a fixed set of forms (no ``eval``),
jump operators L_k = √γ_k A_k, instantaneous channels at given times, a product initial state
and Pauli-sum observables. **Qubit order**: qubit 0 is the *leftmost* letter of a Pauli string
(the model's tensor order; the circuits convert to Qiskit's little-endian order in one place,
:meth:`qcompile.model.OpenSystem.qiskit_qubit`). The format (every key is checked; a bad one is
reported as ``invalid <key>=<value>: allowed <what>``)::

    qubits = 2
    initial = "0+"                       # one label per qubit: 0 1 + - r l (r, l = |±i>)
    [times]
    t_max = 4.0                          # final time
    dt = 0.05                            # circuit step (t_max/dt an integer)
    sample_every = 0.5                   # reported times (a multiple of dt)
    [[hamiltonian]]
    pauli = "XX"                         # on all qubits, or with qubits = [i, j, ...]
    coefficient = 1.0                    # or { form = "cos", amplitude = 1, frequency = 2 }
    [[jump]]
    operator = "sigma-"                  # sigma- sigma+ X Y Z n, on `qubit`; or pauli = "ZZ"
    qubit = 0
    rate = 0.1                           # L = sqrt(rate) * operator
    [[channel]]
    time = 1.0                           # a multiple of dt
    kind = "dephasing"                   # dephasing bit-flip depolarizing amplitude-damping reset
    qubit = 1
    probability = 0.5
    [observables]
    Z0 = "ZI"                            # Pauli sums, e.g. "0.5*XX + 0.5*YY"
    [lowering]                           # optional defaults for the lowering
    rule = "midpoint"

Coefficient forms (all real; t in the model's time unit): a number; ``constant`` (value);
``cos``/``sin`` (amplitude, frequency ω, phase φ = 0, offset = 0: A·cos(ωt + φ) + c);
``gaussian`` (amplitude, center, width, offset = 0); ``exp`` (amplitude, rate, offset = 0:
A·e^{−rate·t} + c); ``ramp`` (start, stop, t0 = 0, t1 = t_max: linear between, flat outside);
``step`` (value, start = 0, stop = ∞: value on [start, stop), else 0).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from qiskit.quantum_info import SparsePauliOp

from qcompile.errors import InvalidParameter
from qcompile.model import InstantChannel, OpenSystem, TimeDependentTerm, embed
from qcompile.resources import check_time_steps

try:  # Python >= 3.11
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = [
    "Coefficient",
    "FORMS",
    "LindbladModel",
    "MAX_QUBITS",
    "load_model",
    "parse_model",
    "pauli_sum_matrix",
]

MAX_QUBITS = 8
#: Each coefficient form: (required keys, optional keys with defaults).
FORMS: dict[str, tuple[tuple[str, ...], dict[str, float]]] = {
    "constant": (("value",), {}),
    "cos": (("amplitude", "frequency"), {"phase": 0.0, "offset": 0.0}),
    "sin": (("amplitude", "frequency"), {"phase": 0.0, "offset": 0.0}),
    "gaussian": (("amplitude", "center", "width"), {"offset": 0.0}),
    "exp": (("amplitude", "rate"), {"offset": 0.0}),
    "ramp": (("start", "stop"), {"t0": 0.0, "t1": math.nan}),
    "step": (("value",), {"start": 0.0, "stop": math.inf}),
}
_TOP_KEYS = {"qubits", "initial", "times", "hamiltonian", "jump", "channel", "observables",
             "lowering", "name", "description"}  # fmt: skip
_TIME_KEYS = ("t_max", "dt", "sample_every")
_LOWERING = {"rule", "synthesis", "order", "collision"}
_LABEL_STATES = {
    "0": (1, 0),
    "1": (0, 1),
    "+": (1 / math.sqrt(2), 1 / math.sqrt(2)),
    "-": (1 / math.sqrt(2), -1 / math.sqrt(2)),
    "r": (1 / math.sqrt(2), 1j / math.sqrt(2)),
    "l": (1 / math.sqrt(2), -1j / math.sqrt(2)),
}
_NAMED = {
    "sigma-": np.array([[0, 1], [0, 0]], dtype=complex),  # |0><1|: decay 1 → 0
    "sigma+": np.array([[0, 0], [1, 0]], dtype=complex),
    "x": np.array([[0, 1], [1, 0]], dtype=complex),
    "y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "z": np.diag([1, -1]).astype(complex),
    "n": np.diag([0, 1]).astype(complex),
}
_CHANNELS = ("dephasing", "bit-flip", "depolarizing", "amplitude-damping", "reset")


@dataclass(frozen=True)
class Coefficient:
    """A real coefficient c(t) of one of the :data:`FORMS` (picklable, printable)."""

    form: str
    params: tuple[tuple[str, float], ...]

    def __call__(self, t: float) -> float:
        p = dict(self.params)
        if self.form == "constant":
            return p["value"]
        if self.form in ("cos", "sin"):
            wave = math.cos if self.form == "cos" else math.sin
            return p["amplitude"] * wave(p["frequency"] * t + p["phase"]) + p["offset"]
        if self.form == "gaussian":
            z = (t - p["center"]) / p["width"]
            return p["amplitude"] * math.exp(-0.5 * z * z) + p["offset"]
        if self.form == "exp":
            return p["amplitude"] * math.exp(-p["rate"] * t) + p["offset"]
        if self.form == "ramp":
            s = min(max((t - p["t0"]) / (p["t1"] - p["t0"]), 0.0), 1.0)
            return p["start"] + (p["stop"] - p["start"]) * s
        return p["value"] if p["start"] <= t < p["stop"] else 0.0  # step

    @property
    def is_constant(self) -> bool:
        return self.form == "constant"


@dataclass(frozen=True)
class LindbladModel:
    """A parsed model: the :class:`OpenSystem`, its times and its lowering defaults."""

    system: OpenSystem
    t_max: float
    dt: float
    sample_every: float
    lowering: dict[str, Any]
    name: str = "lindblad"


def load_model(path: str | Path) -> dict[str, Any]:
    """The TOML table of the model file ``path`` (errors name the file and the line)."""
    p = Path(path).expanduser()
    try:
        found = p.is_file()
    except OSError as exc:  # e.g. a name longer than the file system takes
        raise InvalidParameter("model", str(path), f"a readable file ({exc.strerror})") from None
    if not found:
        raise InvalidParameter("model", str(path), "a readable TOML model file")
    try:
        with p.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidParameter("model", str(path), f"valid TOML ({exc})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidParameter("model", str(path), f"a readable TOML file ({exc})") from None


def _number(key: str, value: Any, *, positive: bool = False, nonneg: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParameter(key, value, "a number")
    x = float(value)
    if not math.isfinite(x):
        raise InvalidParameter(key, value, "a finite number")
    if positive and x <= 0:
        raise InvalidParameter(key, value, "a number > 0")
    if nonneg and x < 0:
        raise InvalidParameter(key, value, "a number >= 0")
    return x


def _table(key: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidParameter(key, value, "a TOML table")
    return value


def _unknown(key: str, table: Mapping[str, Any], allowed: Sequence[str]) -> None:
    for k in table:
        if k not in allowed:
            raise InvalidParameter(
                f"{key}.{k}" if key else k, table[k], "one of the keys " + ", ".join(allowed)
            )


def pauli_sum_matrix(text: str, num_qubits: int, key: str) -> np.ndarray:
    """'0.5*XZ + ZI - YY' → matrix; the leftmost letter acts on qubit 0 (subsystem 0)."""
    if not isinstance(text, str):
        raise InvalidParameter(key, text, "a Pauli sum string like 'XX' or '0.5*XZ + ZI'")
    cleaned = text.replace(" ", "")
    tokens = re.findall(r"([+-]?)(?:([0-9.]+(?:[eE][+-]?[0-9]+)?)\*)?([IXYZ]+)", cleaned)
    rebuilt = "".join(s + (c + "*" if c else "") + p for s, c, p in tokens)
    if not tokens or rebuilt != cleaned:
        raise InvalidParameter(key, text, "a Pauli sum string like 'XX' or '0.5*XZ + ZI'")
    terms = []
    for sign, coeff, label in tokens:
        if len(label) != num_qubits:
            raise InvalidParameter(key, text, f"Pauli strings of {num_qubits} letters")
        value = float(coeff) if coeff else 1.0
        if not math.isfinite(value):
            raise InvalidParameter(key, text, "finite coefficients")
        terms.append((label, -value if sign == "-" else value))
    # SparsePauliOp's leftmost letter is the leftmost tensor factor: our qubit 0
    return SparsePauliOp.from_list(terms).to_matrix()


def _coefficient(key: str, value: Any, t_max: float) -> Coefficient:
    if not isinstance(value, Mapping):
        return Coefficient("constant", (("value", _number(key, value)),))
    form = value.get("form")
    if form not in FORMS:
        raise InvalidParameter(f"{key}.form", form, "one of " + ", ".join(FORMS))
    required, optional = FORMS[form]
    _unknown(key, value, ("form", *required, *optional))
    params = {}
    for name in required:
        if name not in value:
            raise InvalidParameter(f"{key}.{name}", None, f"a number (required by form {form!r})")
        params[name] = _number(f"{key}.{name}", value[name])
    for name, default in optional.items():
        params[name] = _number(f"{key}.{name}", value[name]) if name in value else default
    if form == "gaussian" and params["width"] <= 0:
        raise InvalidParameter(f"{key}.width", params["width"], "a number > 0")
    if form == "ramp":
        if math.isnan(params["t1"]):
            params["t1"] = t_max
        if params["t1"] <= params["t0"]:
            raise InvalidParameter(f"{key}.t1", params["t1"], f"> t0 = {params['t0']:g}")
    if form == "step" and params["stop"] <= params["start"]:
        raise InvalidParameter(f"{key}.stop", params["stop"], f"> start = {params['start']:g}")
    return Coefficient(form, tuple(params.items()))


def _operator_on(key: str, entry: Mapping[str, Any], n: int) -> np.ndarray:
    """A Pauli string/sum on all qubits or on ``qubits``, or a named operator on ``qubit``."""
    if ("pauli" in entry) == ("operator" in entry):
        raise InvalidParameter(key, dict(entry), "exactly one of the keys 'pauli', 'operator'")
    if "operator" in entry:
        name = str(entry["operator"]).lower()
        if name not in _NAMED:
            raise InvalidParameter(f"{key}.operator", entry["operator"], ", ".join(_NAMED))
        qubit = _qubit(f"{key}.qubit", entry.get("qubit"), n)
        return embed(_NAMED[name], [qubit], (2,) * n)
    if "qubits" in entry:
        qubits = entry["qubits"]
        if not isinstance(qubits, list) or not qubits:
            raise InvalidParameter(f"{key}.qubits", qubits, f"a list of qubits in 0..{n - 1}")
        qubits = [_qubit(f"{key}.qubits", q, n) for q in qubits]
        if len(set(qubits)) != len(qubits):
            raise InvalidParameter(f"{key}.qubits", qubits, "distinct qubits")
        local = pauli_sum_matrix(entry["pauli"], len(qubits), f"{key}.pauli")
        return embed(local, qubits, (2,) * n)
    return pauli_sum_matrix(entry["pauli"], n, f"{key}.pauli")


def _qubit(key: str, value: Any, n: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < n:
        raise InvalidParameter(key, value, f"a qubit index in 0..{n - 1}")
    return value


def _channel_kraus(kind: str, p: float) -> list[np.ndarray]:
    x, y, z, i = (_NAMED["x"], _NAMED["y"], _NAMED["z"], np.eye(2, dtype=complex))
    if kind == "dephasing":
        return [math.sqrt(1 - p) * i, math.sqrt(p) * z]
    if kind == "bit-flip":
        return [math.sqrt(1 - p) * i, math.sqrt(p) * x]
    if kind == "depolarizing":  # ρ → (1 − p)ρ + p·1/2
        return [math.sqrt(1 - 3 * p / 4) * i] + [math.sqrt(p / 4) * s for s in (x, y, z)]
    if kind == "amplitude-damping":
        return [np.diag([1, math.sqrt(1 - p)]).astype(complex), math.sqrt(p) * _NAMED["sigma-"]]
    return [np.diag([1, 0]).astype(complex), _NAMED["sigma-"]]  # reset to |0>


def _initial_state(value: Any, n: int) -> np.ndarray:
    if not isinstance(value, str) or len(value) != n or any(c not in _LABEL_STATES for c in value):
        raise InvalidParameter(
            "initial", value, f"{n} labels from {' '.join(_LABEL_STATES)} (qubit 0 first)"
        )
    state = np.array([1.0], dtype=complex)
    for label in value:  # qubit 0 is the leftmost tensor factor
        state = np.kron(state, np.array(_LABEL_STATES[label], dtype=complex))
    return state


def _times(table: Any) -> tuple[float, float, float]:
    times = _table("times", table)
    _unknown("times", times, _TIME_KEYS)
    for k in ("t_max", "dt"):
        if k not in times:
            raise InvalidParameter(f"times.{k}", None, "a number > 0 (required)")
    t_max = _number("times.t_max", times["t_max"], positive=True)
    dt = _number("times.dt", times["dt"], positive=True)
    if dt <= t_max:
        check_time_steps(t_max, dt)
    steps = round(t_max / dt)
    if dt > t_max or abs(steps * dt - t_max) > 1e-9 * max(1.0, t_max):
        raise InvalidParameter("times.dt", dt, f"a divisor of t_max = {t_max:g}")
    every = _number("times.sample_every", times.get("sample_every", t_max / 10), positive=True)
    k = every / dt
    if abs(k - round(k)) > 1e-9 or round(k) < 1 or every > t_max + 1e-12:
        raise InvalidParameter("times.sample_every", every, f"a multiple of dt = {dt:g}, <= t_max")
    return t_max, dt, every


def parse_model(data: Mapping[str, Any]) -> LindbladModel:
    """Validate a model table (as read from TOML) and build its :class:`LindbladModel`."""
    data = _table("model", data)
    _unknown("", data, sorted(_TOP_KEYS))
    n = data.get("qubits")
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_QUBITS:
        raise InvalidParameter("qubits", n, f"an integer in 1..{MAX_QUBITS}")
    if "times" not in data:
        raise InvalidParameter("times", None, "a [times] table with t_max and dt")
    t_max, dt, every = _times(data["times"])
    dims = (2,) * n

    static = np.zeros((2**n, 2**n), dtype=complex)
    terms = []
    hamiltonian = data.get("hamiltonian", [])
    if not isinstance(hamiltonian, list):
        raise InvalidParameter("hamiltonian", hamiltonian, "an array of [[hamiltonian]] tables")
    for j, entry in enumerate(hamiltonian):
        key = f"hamiltonian[{j}]"
        entry = _table(key, entry)
        _unknown(key, entry, ("pauli", "qubits", "coefficient"))
        if "pauli" not in entry:
            raise InvalidParameter(f"{key}.pauli", None, "a Pauli string (required)")
        op = _operator_on(key, entry, n)
        coefficient = _coefficient(f"{key}.coefficient", entry.get("coefficient", 1.0), t_max)
        if coefficient.is_constant:
            static = static + coefficient(0.0) * op
        else:
            terms.append(TimeDependentTerm(op, coefficient))

    jumps = []
    jump_list = data.get("jump", [])
    if not isinstance(jump_list, list):
        raise InvalidParameter("jump", jump_list, "an array of [[jump]] tables")
    for k, entry in enumerate(jump_list):
        key = f"jump[{k}]"
        entry = _table(key, entry)
        _unknown(key, entry, ("pauli", "qubits", "operator", "qubit", "rate"))
        if "rate" not in entry:
            raise InvalidParameter(f"{key}.rate", None, "a number >= 0 (required)")
        rate = _number(f"{key}.rate", entry["rate"], nonneg=True)
        if rate > 0:
            jumps.append(math.sqrt(rate) * _operator_on(key, entry, n))

    channels = []
    channel_list = data.get("channel", [])
    if not isinstance(channel_list, list):
        raise InvalidParameter("channel", channel_list, "an array of [[channel]] tables")
    for k, entry in enumerate(channel_list):
        key = f"channel[{k}]"
        entry = _table(key, entry)
        _unknown(key, entry, ("time", "kind", "qubit", "probability"))
        time = _number(f"{key}.time", entry.get("time"), nonneg=True)
        steps = time / dt
        if time > t_max or abs(steps - round(steps)) > 1e-9:
            raise InvalidParameter(f"{key}.time", time, f"a multiple of dt = {dt:g} in [0, t_max]")
        kind = entry.get("kind")
        if kind not in _CHANNELS:
            raise InvalidParameter(f"{key}.kind", kind, "one of " + ", ".join(_CHANNELS))
        qubit = _qubit(f"{key}.qubit", entry.get("qubit"), n)
        p = _number(f"{key}.probability", entry.get("probability", 1.0), nonneg=True)
        if p > 1:
            raise InvalidParameter(f"{key}.probability", p, "a probability in [0, 1]")
        kraus = tuple(embed(op, [qubit], dims) for op in _channel_kraus(kind, p))
        channels.append(InstantChannel(round(steps) * dt, kraus, name=f"{kind}[q{qubit}]"))

    observables = _table("observables", data.get("observables", {}))
    if not observables:
        raise InvalidParameter("observables", {}, "at least one name = 'Pauli sum' entry")
    matrices = {
        str(name): pauli_sum_matrix(text, n, f"observables.{name}")
        for name, text in observables.items()
    }
    for name in matrices:
        if name == "times" or name.endswith("_stderr") or not name.strip():
            raise InvalidParameter(
                f"observables.{name}", name, "a name other than 'times' or '*_stderr'"
            )

    lowering = dict(_table("lowering", data.get("lowering", {})))
    _unknown("lowering", lowering, sorted(_LOWERING))
    initial = _initial_state(data.get("initial", "0" * n), n)
    system = OpenSystem(
        dims=dims,
        hamiltonian=static,
        time_dependent=tuple(terms),
        jump_operators=tuple(jumps),
        channels=tuple(channels),
        initial_state=initial,
        observables=matrices,
        labels=tuple(f"q{i}" for i in range(n)),
    )
    name = data.get("name", "lindblad")
    return LindbladModel(system, t_max, dt, every, lowering, str(name))
