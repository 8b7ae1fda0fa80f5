"""Parameters are declared once: the declaration's defaults are the builders' defaults and the
hand-written commands' defaults, so `qcompile protocols` never tells a user something else
than what runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer.main

import qcompile.cli
from qcompile.cli.common import run_app
from qcompile.protocols import PROTOCOLS

#: Builders that need a choice with no default (α or η; a model file): it is supplied, and
#: every other declared default is still checked against the builder.
REQUIRED_CHOICE = {
    "homogenization": {"alpha": 0.5},
    "lindblad": {"model": str(Path(__file__).parents[1] / "examples" / "amplitude_damping.toml")},
}


def _same(a, b) -> bool:
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        try:
            return float(a) == float(b)
        except (TypeError, ValueError):
            return False
    return str(a) == str(b)


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_declared_defaults_are_the_builders(name):
    plugin = PROTOCOLS[name]
    required = REQUIRED_CHOICE.get(name, {})
    built = plugin.from_mapping(required).parameters()
    checked = 0
    for p in plugin.PARAMETERS:
        if p.name in required:
            continue
        if p.default is not None and isinstance(p.default, (int, float, str)) and p.name in built:
            value = built[p.name]
            if isinstance(value, list):  # declared as the comma-separated text the CLI takes
                continue
            assert _same(value, p.default), (p.name, value, p.default)
            checked += 1
    scalar = [
        p
        for p in plugin.PARAMETERS
        if p.name not in required and isinstance(p.default, (int, float, str))
    ]
    assert checked or not scalar, f"{name}: no declared default was compared with the builder"


@pytest.mark.parametrize("name", sorted(PROTOCOLS))
def test_declared_defaults_are_the_commands(name):
    command = typer.main.get_command(run_app).commands[name]
    declared = {p.name: p.default for p in PROTOCOLS[name].PARAMETERS}
    kinds = {p.name: p.kind for p in PROTOCOLS[name].PARAMETERS}
    for option in command.params:
        if declared.get(option.name) is None:
            continue
        if kinds[option.name] == "list":  # a repeatable option: the default is in its help
            assert option.default is None and f"(default {declared[option.name]})" in option.help
        else:
            assert _same(option.default, declared[option.name]), option.name


def test_gkp_default_cutoff_follows_epsilon(capsys):
    """The default Fock cutoff is max(60, ⌈6/ε⌉): ε < 0.1 no longer refuses a --cutoff the
    user never gave; below what 400 levels hold, the message names --epsilon."""
    from test_cli import run_cli

    from qcompile.protocols import gkp

    assert gkp(epsilon=0.1).cutoff == 60
    assert gkp(epsilon=0.08).cutoff == 75  # ⌈6/0.08⌉
    assert gkp(epsilon=0.08, cutoff=90).cutoff == 90
    assert run_cli("run", "gkp", "--epsilon", "0.01") == 2
    err = capsys.readouterr().err
    assert "--epsilon" in err and "--cutoff" not in err


#: Every flag of every `run` and `compile` command on 2026-12-01, before the built-in commands
#: were generated from the declarations: a contract (scripts use them).
FLAGS = Path(__file__).parent / "data" / "cli_flags_2026_12.json"


@pytest.mark.parametrize("command", sorted(json.loads(FLAGS.read_text())))
def test_every_flag_that_worked_still_works(command):
    group, name = command.split()
    click_command = qcompile.cli.command().commands[group].commands[name]
    flags = {o for p in click_command.params for o in (*p.opts, *p.secondary_opts)}
    assert set(json.loads(FLAGS.read_text())[command]) <= flags


def test_the_docs_reference_is_generated_from_the_declarations(tmp_path, capsys):
    """The docs' parameter tables are what `qcompile protocols --markdown` writes from the
    declarations (the docs hook generates them when the site is built): every parameter and
    run option of every protocol, with the flag its generated `run` command takes (a flag
    that parses: checked against the command), and every protocol has its page."""
    import importlib.util

    from test_cli import run_cli

    root = Path(__file__).parent.parent
    path = tmp_path / "reference.md"
    assert run_cli("protocols", "--markdown", str(path)) == 0
    generated = path.read_text()
    spec = importlib.util.spec_from_file_location("docs_hooks", root / "docs" / "hooks.py")
    hooks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(hooks)

    class Page:
        class file:
            src_path = "protocols/reference.md"

    assert hooks.on_page_markdown("<!-- parameters: all -->", Page, None, None) == generated
    pages = "\n".join(p.read_text() for p in (root / "docs" / "protocols").glob("*.md"))
    for name in PROTOCOLS:
        assert f"<!-- parameters: {name} -->" in pages, f"no docs page shows {name}'s table"
        table = hooks.on_page_markdown(f"<!-- parameters: {name} -->", Page, None, None)
        assert table.startswith("| flag |") and table.strip() in generated
    commands = typer.main.get_command(run_app).commands
    for name, plugin in PROTOCOLS.items():
        section = generated.split(f"#### `{name}` ")[1].split("#### ")[0]
        options = {o.name: o for o in commands[name].params}
        for p in (*plugin.PARAMETERS, *getattr(plugin, "RUN_OPTIONS", ())):
            option = options.get(p.name) or options["protocol_" + p.name]
            assert f"| `{option.opts[0]}`" in section, (name, p.name)
