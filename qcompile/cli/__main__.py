"""``python -m qcompile.cli``: the ``qcompile`` command."""

from qcompile.cli import main

main()
