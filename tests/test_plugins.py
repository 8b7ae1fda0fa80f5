"""Protocols are plugins: the built-ins come through the ``qcompile.protocols`` entry points,
a third-party package installed in the test session adds one without touching qcompile, a
broken one is skipped with a warning, and no bare ``backends`` import name is installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from test_cli import run_cli

from qcompile.backends import get_backend
from qcompile.protocols import PROTOCOLS, ProtocolPlugin, get_protocol
from qcompile.protocols.plugin import refresh
from qcompile.run.recipe import execute, make_recipe

BUILT_IN = {"homogenization", "coherent-feedback", "dissipative-qubits", "ising-memory",
            "photonic-ising-toy", "gkp", "cat", "lindblad"}  # fmt: skip

#: A third party's protocol: one qubit rotated by R_y(θ); ⟨Z⟩ = cos θ exactly.
PLUGIN_SOURCE = '''
"""A third-party protocol: R_y(theta) on one qubit, <Z> = cos(theta)."""
import math
from qcompile.protocols.parameters import Parameter
from qcompile.results import RunResult

NAME = "tilt"
SUMMARY = "one qubit tilted by R_y(theta)"
PARAMETERS = (Parameter("theta", "float", 0.5, "any real angle"),)


class Tilt:
    name = NAME

    def __init__(self, theta):
        self.theta = float(theta)

    def parameters(self):
        return {"theta": self.theta}


def from_mapping(values):
    return Tilt(values.get("theta", 0.5))


def run(protocol, backend, *, solvers=None, shots=None, seed=None, **options):
    from qiskit import QuantumCircuit
    from qiskit.quantum_info import Statevector

    qc = QuantumCircuit(1)
    qc.ry(protocol.theta, 0)
    z = float(Statevector(qc).expectation_value(_z()).real)
    return RunResult(protocol=NAME, parameters=protocol.parameters(), backend=backend.name,
                     seed=seed, shots=shots, circuit={}, observables={"Z": [z]},
                     ideal={"Z": [z]}, reference={"Z": [math.cos(protocol.theta)]})


def _z():
    from qiskit.quantum_info import SparsePauliOp
    return SparsePauliOp("Z")
'''


#: A third party's protocol declared by its data flow only (no `run`): a qubit R_y(θ)|0⟩,
#: then amplitude damping with probability p by a collision with a fresh ancilla. Exactly,
#: ⟨Z⟩ = 1 − 2 sin²(θ/2)(1 − p) and ⟨X⟩ = sin θ √(1 − p).
DATA_FLOW_SOURCE = '''
"""A third-party protocol declared by its data flow: R_y(theta), then amplitude damping."""
import math
from qcompile.protocols.parameters import Parameter

NAME = "damp"
SUMMARY = "a tilted qubit, amplitude-damped by one collision"
PARAMETERS = (Parameter("theta", "float", 0.5, "any real angle"),
              Parameter("p", "float", 0.3, "0 <= p <= 1; damping probability"))


class Damp:
    name = NAME

    def __init__(self, theta, p):
        self.theta, self.p = float(theta), float(p)
        if not 0 <= self.p <= 1:
            from qcompile.errors import InvalidParameter
            raise InvalidParameter("p", p, "0 <= p <= 1")

    def parameters(self):
        return {"theta": self.theta, "p": self.p}


def from_mapping(values):
    return Damp(values.get("theta", 0.5), values.get("p", 0.3))


def reference(protocol):
    s2 = math.sin(protocol.theta / 2) ** 2
    return {"Z": 1 - 2 * s2 * (1 - protocol.p),
            "X": math.sin(protocol.theta) * math.sqrt(1 - protocol.p)}


def lower(protocol):
    from qiskit import QuantumCircuit

    circuits = []
    for basis in "ZX":
        qc = QuantumCircuit(2, 1)
        qc.ry(protocol.theta, 0)
        qc.cry(2 * math.asin(math.sqrt(protocol.p)), 0, 1)
        qc.cx(1, 0)
        if basis == "X":
            qc.h(0)
        qc.measure(0, 0)
        circuits.append(qc)
    return circuits


def estimate(protocol, counts):
    out = {}
    for basis, c in zip("ZX", counts):
        total = sum(c.values())
        m = (c.get("0", 0) - c.get("1", 0)) / total
        out[basis] = m
        if total > 1.5:  # sampled counts, not an exact distribution
            out[basis + "_stderr"] = math.sqrt(max(1 - m * m, 0) / total)
    return out
'''


def _install(site, name: str, module_source: str, entry: str) -> None:
    """A minimal installed distribution: the module and its dist-info with entry points."""
    (site / f"{name}.py").write_text(module_source)
    info = site / f"{name}-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[qcompile.protocols]\n{entry}\n")


@pytest.fixture
def third_party(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    _install(site, "tilt_plugin", PLUGIN_SOURCE, "tilt = tilt_plugin")
    _install(site, "damp_plugin", DATA_FLOW_SOURCE, "damp = damp_plugin")
    monkeypatch.syspath_prepend(str(site))
    refresh()
    yield site
    monkeypatch.undo()
    sys.modules.pop("tilt_plugin", None)
    sys.modules.pop("damp_plugin", None)
    refresh()


def test_built_ins_are_registered_through_entry_points():
    assert BUILT_IN <= set(PROTOCOLS)
    for name in BUILT_IN:
        plugin = get_protocol(name)
        assert isinstance(plugin, ProtocolPlugin)
        assert plugin.NAME == name
        defaults = {p.name: p.default for p in plugin.PARAMETERS}
        assert set(defaults) and all(p.allowed for p in plugin.PARAMETERS)


def test_a_third_party_protocol_runs_without_touching_qcompile(third_party):
    assert "tilt" in PROTOCOLS
    recipe = make_recipe("tilt", {"theta": 1.1}, seed=4)
    result = execute(recipe, get_backend("aer"))
    assert result.observables["Z"][0] == pytest.approx(np.cos(1.1), abs=1e-12)
    assert result.reference["Z"][0] == pytest.approx(np.cos(1.1), abs=1e-12)


def test_third_party_protocol_is_listed_by_the_cli(third_party, tmp_path, capsys):
    listing = tmp_path / "p.json"
    assert run_cli("protocols", "--json", str(listing)) == 0
    data = json.loads(listing.read_text())
    assert data["tilt"]["summary"] == "one qubit tilted by R_y(theta)"
    assert "--theta" in capsys.readouterr().out


def test_a_broken_plugin_is_skipped_with_a_warning(tmp_path, monkeypatch):
    site = tmp_path / "site"
    site.mkdir()
    _install(site, "broken_plugin", "raise ImportError('missing dependency')\n",
             "broken = broken_plugin")  # fmt: skip
    _install(site, "partial_plugin", "NAME = 'partial'\n", "partial = partial_plugin")
    halfway = ("NAME = 'halfway'\nSUMMARY = 'circuits without an estimate'\nPARAMETERS = ()\n"
               "def from_mapping(v): return v\ndef reference(p): return {}\n"
               "def lower(p): return []\n")  # fmt: skip
    _install(site, "halfway_plugin", halfway, "halfway = halfway_plugin")
    monkeypatch.syspath_prepend(str(site))
    refresh()
    try:
        with pytest.warns(RuntimeWarning) as caught:
            names = set(PROTOCOLS)
        assert BUILT_IN <= names and not {"broken", "partial", "halfway"} & names
        messages = " ".join(str(w.message) for w in caught)
        assert "broken" in messages and "partial" in messages
        assert "'halfway'" in messages and "run (or estimate)" in messages
    finally:
        monkeypatch.undo()
        refresh()


def test_unknown_protocol_lists_the_registered_ones(capsys):
    assert run_cli("sweep", "nonesuch", "--grid", "alpha=0.1,0.2") == 2
    err = capsys.readouterr().err
    assert "--protocol" in err and "homogenization" in err and "lindblad" in err


def test_no_bare_backends_or_benchmarks_package_is_installed(tmp_path):
    """Outside the repository, before qcompile is imported, neither name resolves."""
    script = (
        "import importlib.util as u; "
        "print(u.find_spec('backends'), u.find_spec('benchmarks'), u.find_spec('qcompile.backends')"
        " is not None)"
    )
    env = os.environ | {"PYTHONPATH": ""}
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["None", "None", "True"]


def test_a_users_backends_py_does_not_shadow_qcompile(tmp_path):
    """A user's own backends.py (or benchmarks.py) beside their script breaks nothing."""
    (tmp_path / "backends.py").write_text("raise ImportError('the user module')\n")
    (tmp_path / "benchmarks.py").write_text("raise ImportError('the user module')\n")
    env = os.environ | {"PYTHONPATH": ""}
    script = textwrap.dedent(
        """
        from qcompile.backends import ResultStore, get_backend
        from qcompile.protocols import homogenization
        from qcompile.protocols.homogenization import run as run_experiment
        r = run_experiment(homogenization(alpha=0.5, reservoir=2), get_backend("aer"), seed=1)
        print(round(r.reference["system_fidelity"][-1], 6))
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    cli = subprocess.run([sys.executable, "-m", "qcompile.cli", "run", "homogenization",
                          "--alpha", "0.5", "--reservoir", "2", "--backend", "reference"],
                         cwd=tmp_path, env=env, capture_output=True, text=True)  # fmt: skip
    assert cli.returncode == 0, cli.stderr


def test_the_old_import_name_still_works_after_importing_qcompile(tmp_path):
    """``from backends import get_backend`` (the README's old example) keeps working, with a
    DeprecationWarning, and gives the very same classes."""
    script = textwrap.dedent(
        """
        import warnings
        import qcompile
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            from backends import ResultStore, get_backend
            from backends.aer import AerBackend
        import qcompile.backends.aer as real
        assert AerBackend is real.AerBackend
        assert any(issubclass(w.category, DeprecationWarning) for w in caught)
        print(type(get_backend("aer")).__name__)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "AerBackend"


def test_generated_run_command_for_a_third_party_protocol(third_party, tmp_path):
    """`qcompile run tilt` exists because the plugin is installed: options from its
    declaration, results on the JSON contract, ⟨Z⟩ = cos θ."""
    out = tmp_path / "tilt.json"
    env = os.environ | {"PYTHONPATH": str(third_party)}
    done = subprocess.run([sys.executable, "-m", "qcompile.cli", "run", "tilt", "--theta", "1.1",
                           "--backend", "aer", "--seed", "2", "--json", str(out)],
                          env=env, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    data = json.loads(out.read_text())
    assert data["protocol"] == "tilt" and data["parameters"] == {"theta": 1.1}
    assert data["observables"]["Z"][0] == pytest.approx(np.cos(1.1), abs=1e-12)
    bad = subprocess.run([sys.executable, "-m", "qcompile.cli", "run", "tilt", "--theta", "x"],
                         env=env, capture_output=True, text=True)  # fmt: skip
    assert bad.returncode == 2 and "--theta" in bad.stderr and "Traceback" not in bad.stderr


def test_generated_compile_commands(tmp_path, capsys):
    """`compile PROTOCOL` for the protocols with a circuit; the others say so in one line.
    A parameter named like the command's own option is spelled --protocol-<name>."""
    from qiskit import qpy

    circuit_path, report = tmp_path / "cf.qpy", tmp_path / "cf.json"
    code = run_cli("compile", "coherent-feedback", "--gamma", "5", "--t-max", "0.5", "--dt",
                   "0.1", "--protocol-target", "01", "--target", "fake_torino",
                   "-o", str(circuit_path), "--json", str(report))  # fmt: skip
    assert code == 0
    with circuit_path.open("rb") as handle:
        (circuit,) = qpy.load(handle)
    data = json.loads(report.read_text())
    assert data["parameters"]["target"] == "01" and data["parameters"]["gamma"] == 5
    two_qubit = sum(1 for inst in circuit.data if inst.operation.num_qubits == 2)
    assert data["circuit"]["two_qubit_gates"] == two_qubit > 0
    capsys.readouterr()
    assert run_cli("compile", "photonic-ising-toy") == 2  # master equations only
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no single circuit" in err[0]
    qasm = tmp_path / "cat.qasm"
    assert run_cli("compile", "cat", "--target", "all_to_all_cx", "-o", str(qasm)) == 0
    assert qasm.read_text().startswith("OPENQASM 3")
    assert run_cli("compile", "coherent-feedback", "--gamma", "-1") == 2
    assert "--gamma" in capsys.readouterr().err


def test_compare_plot_for_a_scalar_protocol(tmp_path, capsys):
    """`compare --plot` draws every protocol (it raised for the toy model, gkp and cat)."""
    assert run_cli("run", "photonic-ising-toy", "--cutoff", "12", "--time", "2",
                   "--decode-time", "2") == 0  # fmt: skip
    png = tmp_path / "toy.png"
    assert run_cli("compare", "--latest", "--plot", str(png)) == 0
    assert png.read_bytes()[:4] == b"\x89PNG"


def test_validation_errors_cross_process_boundaries_intact():
    """A sweep worker's InvalidParameter reaches the parent as itself (not BrokenProcessPool)."""
    import pickle

    from qcompile.errors import InvalidParameter

    error = pickle.loads(pickle.dumps(InvalidParameter("order", 3, "1 or 2")))
    assert isinstance(error, InvalidParameter)
    assert (error.name, error.value, error.allowed) == ("order", 3, "1 or 2")
    assert error.as_flag() == "invalid --order=3: allowed 1 or 2"


def _damped(theta: float, p: float) -> dict[str, float]:
    return {"Z": 1 - 2 * np.sin(theta / 2) ** 2 * (1 - p), "X": np.sin(theta) * np.sqrt(1 - p)}


def test_a_data_flow_protocol_runs_through_the_one_runner(third_party, tmp_path):
    """`damp` declares reference, lower and estimate, no run: qcompile's runner compiles its
    circuits, samples them, stores the run, and the exact distribution of the circuits (ideal)
    and the shots (device) agree with the closed form (1e-12; 4σ)."""
    out = tmp_path / "damp.json"
    env = os.environ | {"PYTHONPATH": str(third_party), "QCOMPILE_HOME": str(tmp_path / "h")}
    done = subprocess.run([sys.executable, "-m", "qcompile.cli", "run", "damp", "--theta", "1.1",
                           "--p", "0.3", "--backend", "aer", "--shots", "4000", "--seed", "2",
                           "--json", str(out)],
                          env=env, capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "stored as run" in done.stdout
    data = json.loads(out.read_text())
    exact = _damped(1.1, 0.3)
    assert data["circuit"]["two_qubit_gates"] >= 1 and data["shots"] == 4000
    for key, value in exact.items():
        assert data["reference"][key] == pytest.approx(value, abs=1e-12)
        assert data["ideal"][key] == pytest.approx(value, abs=1e-12)
        assert abs(data["observables"][key] - value) < 4 * data["observables"][key + "_stderr"]
    listed = subprocess.run([sys.executable, "-m", "qcompile.cli", "runs", "list"], env=env,
                            capture_output=True, text=True)  # fmt: skip
    assert "damp" in listed.stdout and "done" in listed.stdout


def test_a_data_flow_protocol_replays_from_its_recipe(third_party):
    """The recipe of a data-flow protocol runs again through the same runner; on the
    reference backend only the reference is computed."""
    recipe = make_recipe("damp", {"theta": 0.7, "p": 0.5}, seed=3)
    ideal = execute(recipe, get_backend("aer"))
    exact = _damped(0.7, 0.5)
    assert ideal.shots is None and ideal.circuit["num_qubits"] >= 2
    for key, value in exact.items():
        assert ideal.observables[key] == pytest.approx(value, abs=1e-12)
    reference = execute(recipe, get_backend("reference"))
    assert reference.circuit == {} and reference.ideal == {}
    assert reference.observables == pytest.approx(exact, abs=1e-12)


def test_a_data_flow_protocol_compiles_its_lowered_circuits(third_party, tmp_path):
    """`compile damp` compiles the circuits of its `lower` (QPY holds them all): on an
    all-to-all target each compiled circuit has the exact outcome distribution of its source
    (1e-9); OpenQASM 3, one circuit per file, is refused before compiling."""
    from qiskit import qpy

    from qcompile.run.pipeline import exact_distribution

    path = tmp_path / "damp.qpy"
    env = os.environ | {"PYTHONPATH": str(third_party)}

    def compile_(*args: str):
        return subprocess.run([sys.executable, "-m", "qcompile.cli", "compile", "damp", *args],
                              env=env, capture_output=True, text=True)  # fmt: skip

    done = compile_("--theta", "0.9", "--p", "0.4", "--target", "all_to_all_cx", "-o", str(path))
    assert done.returncode == 0, done.stderr
    with path.open("rb") as handle:
        compiled = qpy.load(handle)
    sources = get_protocol("damp").lower(get_protocol("damp").from_mapping({"theta": 0.9,
                                                                            "p": 0.4}))  # fmt: skip
    assert len(compiled) == len(sources) == 2
    for circuit, source in zip(compiled, sources, strict=True):
        got, want = exact_distribution(circuit), exact_distribution(source)
        assert set(got) | set(want) == set(want)
        assert all(abs(got.get(k, 0) - v) < 1e-9 for k, v in want.items())
    refused = compile_("-o", str(tmp_path / "damp.qasm"))
    assert refused.returncode == 2 and "--output" in refused.stderr and ".qpy" in refused.stderr
    assert not (tmp_path / "damp.qasm").exists()
