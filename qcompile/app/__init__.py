"""What the ``qcompile`` command offers on top of the runners: parameter sweeps, IBM jobs
remembered in the store, device-vs-ideal-vs-reference comparisons, plots, and the transpiler
benchmark suite."""
