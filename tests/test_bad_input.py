"""Generated bad-input corpora over every command, and the cases found by hand.

Every case must: exit 2; say what is wrong without a traceback, naming the flag; write no
output file and no store row (the store is not even created). Numbers that are not finite,
too large for the solvers or not numbers at all are tried on every numeric option that a
protocol declares, on every protocol's `run` command; and every int or float option of every
other command (compile, sweep, bench, runs, jobs, ...) takes neither text, a fraction where an
integer is asked, a non-finite number nor one beyond 64 bits or 1e6.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main
from test_cli import run_cli

from qcompile.cli.common import app, run_app
from qcompile.protocols import PROTOCOLS

EXAMPLE = str(Path(__file__).parent.parent / "examples" / "amplitude_damping.toml")
BAD = {
    "float": ("nan", "inf", "-inf", "1e308", "abc"),
    "int": ("18446744073709551616", "1.5", "abc"),
}


def _needed(protocol: str, option: str) -> list[str]:
    """What a command needs besides the option under test."""
    if protocol == "homogenization" and option != "alpha":
        return ["--alpha", "0.5"]
    if protocol == "lindblad" and option != "model":
        return ["--model", EXAMPLE]
    return []


def _corpus() -> list[tuple[str, ...]]:
    commands = typer.main.get_command(run_app).commands
    cases = []
    for protocol, plugin in sorted(PROTOCOLS.items()):
        declared = (*plugin.PARAMETERS, *getattr(plugin, "RUN_OPTIONS", ()))  # run options too
        kinds = {p.name: p.kind for p in declared}
        # a parameter whose default is inf takes it (omega_c = inf: the Lindblad limit)
        infinite_ok = {p.name for p in plugin.PARAMETERS if str(p.default) == "inf"}
        for option in commands[protocol].params:
            if getattr(option, "param_type_name", "") != "option" or option.name not in kinds:
                continue
            flag = max(option.opts, key=len)
            for value in BAD.get(kinds[option.name], ()):
                if value == "inf" and option.name in infinite_ok:
                    continue
                cases.append(("run", protocol, flag, value, *_needed(protocol, option.name)))
    return cases


CORPUS = _corpus()

#: What each other command needs besides the option under test (ids that do not exist: a
#: number must be refused before anything is looked up).
BASE = {
    ("run", "homogenization"): ("--alpha", "0.5"),
    ("run", "lindblad"): ("--model", EXAMPLE),
    ("compile", "homogenization"): ("--alpha", "0.5", "-o", "x.qpy"),
    ("compile", "lindblad"): ("--model", EXAMPLE, "-o", "x.qpy"),
    ("sweep",): ("homogenization", "--grid", "alpha=0.1,0.2"),
    ("compare",): ("nope",),
    ("runs", "show"): ("nope",),
    ("jobs", "wait"): ("nope",),
    ("jobs", "fetch"): ("nope",),
}


def _every_command_corpus() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """Every int or float option of every command other than a protocol's declared
    parameters on ``run`` (above), with the values no number option may take."""
    cases = []

    def walk(command, path: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):
            for name, sub in sorted(command.commands.items()):
                walk(sub, (*path, name))
            return
        plugin = PROTOCOLS.get(path[-1]) if path[0] == "run" else None
        declared = {p.name for p in plugin.PARAMETERS} if plugin else set()
        base = BASE.get(path, BASE.get(path[:1], ("-o", "x.qpy") if path[0] == "compile" else ()))
        for option in command.params:
            if option.param_type_name != "option" or option.name in declared:
                continue
            annotation = str(option.type_descriptor.annotation)
            kind = "float" if "float" in annotation else "int" if "int" in annotation else None
            if kind is None or (option.default is not None and str(option.default) == "inf"):
                continue
            flag = max(option.opts, key=len)
            rest = [a for a in base if a != flag]
            if flag in base:  # the option under test replaces the base's value
                i = base.index(flag)
                rest = [*base[:i], *base[i + 2 :]]
            for value in BAD[kind]:
                cases.append(((*path, *rest, flag, value), tuple(option.opts)))

    walk(typer.main.get_command(app), ())
    return cases


EVERY_COMMAND = _every_command_corpus()

#: Issue 15's examples (and their neighbours): the flag each one must name.
BY_HAND = [
    (("run", "homogenization", "--alpha", "1e308"), "--alpha"),
    (("run", "homogenization", "--alpha", "0.5", "--shots", "-1"), "--shots"),
    (("run", "homogenization", "--alpha", "0.5", "--seed", "-1"), "--seed"),
    (("run", "homogenization", "--alpha", "0.5", "--seed", str(2**64)), "--seed"),
    (("run", "homogenization", "--alpha", "0.5", "--backend", "bogus"), "--backend"),
    (("run", "homogenization", "--alpha", "0.5", "--json", "/proc/x.json"), "--json"),
    (("run", "homogenization", "--alpha", "0.5", "--plot", "/nonexistent/d/x.png"), "--plot"),
    (
        (
            "run",
            "homogenization",
            "--alpha",
            "0.5",
            "--reservoir",
            "1000",
            "--rounds",
            "100",
            "--backend",
            "reference",
        ),
        "--reservoir",
    ),  # fmt: skip
    (("run", "gkp", "--backend", "aer", "--shots", "0"), "--shots"),
    (("run", "cat", "--backend", "aer", "--shots", "0"), "--shots"),
    (("run", "gkp", "--noise", "quadrature", "--sigma", "1e308"), "--sigma"),
    (("run", "coherent-feedback", "--t-max", "1e6", "--dt", "0.001"), "--dt"),
    (("run", "coherent-feedback", "--dt", "1e-300"), "--dt"),
    (
        ("run", "dissipative-qubits", "--backend", "reference", "--collisions", "5"),
        "--collisions",
    ),  # fmt: skip
    (("run", "ising-memory", "--size", "nan"), "--size"),
    (("run", "ising-memory", "--time", "1e308"), "--time"),
    (("run", "photonic-ising-toy", "--photons", "1e308"), "--photons"),
    (("run", "lindblad", "--model", EXAMPLE, "--t-max", "1000", "--dt", "0.001"), "--dt"),
    (("run", "lindblad", "--model", "/nonexistent.toml"), "--model"),
    (("compile", "homogenization", "--alpha", "0.5", "--seed", "-1", "-o", "x.qpy"), "--seed"),
    (("compile", "homogenization", "--alpha", "0.5", "-o", "/proc/x.qpy"), "--output"),
    (("sweep", "homogenization", "--grid", "alpha=0:1:1000000000000"), "--grid"),
    (("sweep", "homogenization", "--grid", "alpha=0:1:10000000"), "--grid"),
    (("sweep", "homogenization", "--grid", "bogus=1,2"), "--grid"),
    (("sweep", "homogenization", "--grid", "alpha=a,b"), "--grid"),
    (("sweep", "homogenization", "--grid", "alpha=nan,0.1"), "--grid"),
    (("sweep", "homogenization", "--grid", "alpha=0.1", "--param", "bogus=1"), "--param"),
    (
        ("sweep", "homogenization", "--grid", "alpha=0.1,0.2", "--workers", str(10**11)),
        "--workers",
    ),  # fmt: skip
    (("runs", "list", "--limit", str(10**25)), "--limit"),
    (("jobs", "list", "--limit", str(10**25)), "--limit"),
    (("runs", "list", "--status", "bogus"), "--status"),
    (("protocols", "--json", "/proc/x.json"), "--json"),
    (("protocols", "--markdown", "/proc/x.md"), "--markdown"),
    (("run", "dissipative-qubits", "--dd", "bogus"), "--dd"),
    (("run", "dissipative-qubits", "--encodings", "bogus"), "--encoding"),
    # found by an adversarial corpus over every option of every command (session 21)
    (("sweep", "homogenization", "--grid", "alpha=0.1", "--backend", "bogus"), "--backend"),
    (("sweep", "homogenization", "--grid", "alpha=0.1", "--shots", "0"), "--shots"),
    (("run", "lindblad", "--model", "x" * 300 + ".toml"), "--model"),
    (("run", "lindblad", "--model", EXAMPLE, "--dt", "1e6"), "--dt"),
    (("run", "lindblad", "--model", EXAMPLE, "--sample-every", "1e-300"), "--sample-every"),
    (("run", "lindblad", "--model", EXAMPLE, "--t-max", "1e-300"), "--t-max"),
    (("run", "gkp", "--shots", "-1"), "--shots"),  # the reference takes no shots
    (("run", "cat", "--shots", "100"), "--shots"),
    (("run", "gkp", "--prefactor", "1e-300"), "--prefactor"),
    (("bench", "--seed", "-1"), "--seed"),
    (("bench", "--targets", ""), "--targets"),
    (("bench", "--against", ""), "--against"),
    (("run", "dissipative-qubits", "--J", "nan"), "--J"),  # the flag, not the Python name
    (("run", "cat", "--photons", "1e6"), "--photons"),  # no cutoff holds it: not --cutoff
    (("run", "photonic-ising-toy", "--photons", "1e6"), "--photons"),
    (("run", "ising-memory", "--dt", "1e-300"), "--dt"),  # refused on the reference too
    (("run", "dissipative-qubits", "--heom-depth", "4"), "--heom-depth"),  # not --solver heom
    (("run", "photonic-ising-toy", "--time", "1e6"), "--time"),  # days of integration
    (("run", "photonic-ising-toy", "--kappa-nn", "1e6"), "--time"),
    (("run", "cat", "--kappa2", "1e-300"), "--kappa2"),  # the solver returned the vacuum
    (("run", "dissipative-qubits", "--J", "1e6", "--backend", "reference"), "--J"),  # hours
    (("run", "gkp", "--noise", "quadrature", "--sigma", "1e6"), "--sigma"),  # hours
    (("run", "gkp", "--noise", "kerr", "--sigma", "3", "--backend", "aer"), "--sigma"),
    (("run", "gkp", "--prefactor", "1e6"), "--prefactor"),  # rates grow as A²: hours
    (("run", "coherent-feedback", "--gamma", "1e6", "--backend", "reference"), "--gamma"),
    (("run", "lindblad", "--model", EXAMPLE, "--t-max", "1e5", "--dt", "1"), "--dt"),
    (
        (
            "run",
            "lindblad",
            "--model",
            EXAMPLE,
            "--t-max",
            "1e6",
            "--dt",
            "10",
            "--sample-every",
            "1e5",
        ),
        "--dt",
    ),  # fmt: skip  (1e5 steps: a circuit backend refuses them, the reference would not)
    (("run", "coherent-feedback", "--t-max", "1000", "--dt", "0.01"), "--dt"),  # 1e5 steps
    # a horizon reached the solver unchecked on the reference backend (session 40)
    (("run", "gkp", "--horizon", "-5"), "--horizon"),
    (("run", "gkp", "--horizon", "0"), "--horizon"),
    (("run", "gkp", "--horizon", "0", "--backend", "aer"), "--horizon"),
    (("run", "cat", "--horizon", "-1", "--backend", "aer"), "--horizon"),
    (("run", "cat", "--horizon", "5"), "--horizon"),  # a circuit option on the reference
    (("compile", "cat", "--target", "bogus", "-o", "x.qpy"), "--target"),
    (
        ("compile", "coherent-feedback", "--protocol-target", "2", "-o", "x.qpy"),
        "--protocol-target",
    ),  # fmt: skip
]


def _check(args, flag: str, isolated_store, capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # relative outputs land here, and must not
    code = run_cli(*args)
    err = capsys.readouterr().err
    assert code == 2, (args, code, err)
    assert "Traceback" not in err and err.strip(), err
    assert flag in err, (flag, err)
    assert not (isolated_store / "qcompile.db").exists()  # the store is not even created
    assert not any(tmp_path.glob("*.json")) and not any(tmp_path.glob("*.qpy"))


@pytest.mark.parametrize("args", CORPUS, ids=[" ".join(c[1:4]) for c in CORPUS])
def test_every_declared_number_refuses_what_is_not_one(
    args, isolated_store, capsys, tmp_path, monkeypatch
):
    flag = args[2]
    _check(args, flag, isolated_store, capsys, tmp_path, monkeypatch)


@pytest.mark.parametrize(("args", "flag"), BY_HAND, ids=[" ".join(c[:4]) for c, _ in BY_HAND])
def test_issue_15_cases_are_one_clear_error(
    args, flag, isolated_store, capsys, tmp_path, monkeypatch
):
    _check(args, flag, isolated_store, capsys, tmp_path, monkeypatch)


@pytest.mark.parametrize(
    ("args", "flags"), EVERY_COMMAND, ids=[" ".join(c[0][:2] + c[0][-2:]) for c in EVERY_COMMAND]
)
def test_every_number_option_of_every_command_refuses_what_is_not_one(
    args, flags, isolated_store, capsys, tmp_path, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    code = run_cli(*args)
    err = capsys.readouterr().err
    assert code == 2, (args, code, err)
    assert "Traceback" not in err and any(f in err for f in flags), err
    assert not (isolated_store / "qcompile.db").exists()
    assert not any(tmp_path.iterdir())


def test_the_corpus_covers_every_protocol():
    assert {c[1] for c in CORPUS} >= set(PROTOCOLS) - {"lindblad"}
    assert len(CORPUS) > 100
