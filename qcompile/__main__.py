"""``python -m qcompile``: the ``qcompile`` command."""

from qcompile.cli import main

if __name__ == "__main__":
    main()
