"""The ``qcompile`` command: list protocols, compile them, run them, look at stored runs.

Every failure the user can fix is one line on stderr naming the parameter, exit code 2.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qcompile.errors import InvalidParameter, QCompileError

app = typer.Typer(
    help="Compile open-system protocols to hardware gates, run them, check them against "
    "references.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
run_app = typer.Typer(
    help="Compile and run a protocol; compare device, ideal and reference.", no_args_is_help=True
)
compile_app = typer.Typer(
    help="Compile a protocol for a target and print the compile report.", no_args_is_help=True
)
runs_app = typer.Typer(help="Runs kept in the results store.", no_args_is_help=True)
jobs_app = typer.Typer(
    help="Jobs submitted to IBM Quantum (or runtime's local mode), kept in the store.",
    no_args_is_help=True,
)
app.add_typer(run_app, name="run")
app.add_typer(compile_app, name="compile")
app.add_typer(runs_app, name="runs")
app.add_typer(jobs_app, name="jobs")

out = Console()
err = Console(stderr=True)

# -- shared options --------------------------------------------------------------------------
Alpha = Annotated[float | None, typer.Option(help="(SWAP)^alpha exponent; give --alpha or --eta.")]
Eta = Annotated[float | None, typer.Option(help="Partial-swap angle eta (alpha = -2 eta/pi).")]
Reservoir = Annotated[int, typer.Option(help="Reservoir qubits N (>= 1).")]
Rounds = Annotated[int, typer.Option(help="Sweeps over the reservoir (>= 1).")]
InputState = Annotated[
    str, typer.Option(help="Initial system state: 0 1 + - +i -i, x,y,z or polar:theta,phi[,r].")
]
ReservoirState = Annotated[
    str, typer.Option(help="Reservoir state xi, same forms as --input-state.")
]
Seed = Annotated[
    int | None, typer.Option(help="Seed for layout, simulation and bootstrap (recorded).")
]
JsonPath = Annotated[
    Path | None, typer.Option("--json", help="Write machine-readable results here.")
]


Mode = Annotated[
    str, typer.Option(help="ibm: backends: batch (default; Open Plan) | session | job.")
]
DynamicalDecoupling = Annotated[
    str | None, typer.Option("--dd", help="ibm: backends: dynamical decoupling XX | XpXm | XY4.")
]
Twirling = Annotated[
    str, typer.Option(help="ibm: backends: Pauli twirling none | gates | measure | all.")
]


MitigateReadout = Annotated[
    bool,
    typer.Option(
        "--mitigate-readout",
        help="aer:<fake backend>: undo readout errors (tensored assignment matrices).",
    ),
]


def _backend(
    name: str, store, mode: str, dd: str | None, twirling: str, mitigate_readout: bool = False
):
    """The named backend; IBM execution options are refused for the other backends."""
    from backends import IBMOptions, get_backend
    from backends.aer import READOUT_MITIGATION_SUFFIX

    if mitigate_readout:
        if not name.strip().startswith("aer:"):
            raise InvalidParameter(
                "mitigate_readout", True, "only with an aer:<fake backend> backend (device noise)"
            )
        name = name.strip().removesuffix(READOUT_MITIGATION_SUFFIX) + READOUT_MITIGATION_SUFFIX

    options = IBMOptions(mode=mode, dynamical_decoupling=dd, twirling=twirling)
    if not name.strip().startswith("ibm:"):
        for flag, value, default in (("mode", mode, "batch"), ("dd", dd, None),
                                     ("twirling", twirling, "none")):  # fmt: skip
            if value != default:
                raise InvalidParameter(flag, value, f"{default!r} unless --backend is ibm:...")
    backend = get_backend(name, store=store, ibm_options=options)
    if hasattr(backend, "on_status"):  # a job on a real device: show its queue status
        backend.on_status = lambda job_id, status: err.print(f"job {job_id}: {status}")
    return backend


def _check_output_path(name: str, path: Path | None) -> None:
    """Refuse an output path before any work is done, so nothing is lost at the end."""
    if path is None:
        return
    parent = path.expanduser().resolve().parent
    if not parent.is_dir():
        raise InvalidParameter(
            name, str(path), f"a file in an existing directory ({parent} does not exist)"
        )
    if path.is_dir():
        raise InvalidParameter(name, str(path), "a file path, not a directory")


def _homogenization(alpha, eta, reservoir, rounds, input_state, reservoir_state):
    from qcompile.protocols import homogenization

    return homogenization(
        alpha=alpha,
        eta=eta,
        reservoir=reservoir,
        rounds=rounds,
        input_state=input_state,
        reservoir_state=reservoir_state,
    )


def _fmt(value, digits: int = 6) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


# -- protocols -------------------------------------------------------------------------------
@app.command("protocols")
def protocols_command(json_path: JsonPath = None) -> None:
    """List protocols with their parameters and allowed ranges."""
    from qcompile.protocols import PROTOCOLS

    _check_output_path("json", json_path)
    listing = {}
    for name, module in PROTOCOLS.items():
        table = Table(title=f"{name} — {module.SUMMARY}", title_justify="left")
        for column in ("parameter", "type", "default", "allowed"):
            table.add_column(column)
        for p in module.PARAMETERS:
            table.add_row(
                "--" + p.name.replace("_", "-"),
                p.kind,
                "—" if p.default is None else str(p.default),
                p.allowed,
            )
        out.print(table)
        listing[name] = {
            "summary": module.SUMMARY,
            "parameters": [p.__dict__ for p in module.PARAMETERS],
        }
    if json_path:
        from qcompile.results import write_atomic

        write_atomic(json_path, json.dumps(listing, indent=2).encode())


# -- run -------------------------------------------------------------------------------------
@run_app.command("homogenization")
def run_homogenization(
    alpha: Alpha = None,
    eta: Eta = None,
    reservoir: Reservoir = 4,
    rounds: Rounds = 1,
    input_state: InputState = "0",
    reservoir_state: ReservoirState = "+",
    backend: Annotated[
        str,
        typer.Option(
            help="aer, aer:<fake backend> (device noise), ibm:<device> (IBM Quantum), "
            "ibm:<fake backend> (runtime local mode) or reference."
        ),
    ] = "aer:fake_torino",
    shots: Annotated[
        int | None,
        typer.Option(
            help="Shots per tomography circuit (device default 4000; ideal: exact without)."
        ),
    ] = None,
    mode: Mode = "batch",
    dd: DynamicalDecoupling = None,
    twirling: Twirling = "none",
    mitigate_readout: MitigateReadout = False,
    seed: Seed = None,
    json_path: JsonPath = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a PNG plot of fidelity vs k here.")
    ] = None,
) -> None:
    """Homogenization (spec 000): system fidelity to xi after k = 0..N collisions."""
    from backends import ResultStore
    from qcompile.experiment import check_run, run_experiment

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    protocol = _homogenization(alpha, eta, reservoir, rounds, input_state, reservoir_state)
    store = ResultStore()
    chosen = _backend(backend, store, mode, dd, twirling, mitigate_readout)
    check_run(protocol, chosen, shots, seed)
    with _progress() as progress:
        result = run_experiment(
            protocol, chosen, shots=shots, seed=seed, store=store, progress=progress
        )
    _print_homogenization(result)
    if json_path:
        result.write_json(json_path)
        out.print(f"results: {json_path}")
    if plot:
        from qcompile.plots import save_plot

        save_plot(result, plot)
        out.print(f"plot: {plot}")
    out.print(f"stored as run {result.run_id} in {store.path}")


def _print_homogenization(result) -> None:
    obs, ideal, ref = result.observables, result.ideal, result.reference
    p = result.parameters
    device_label = result.backend + (f" ({result.shots} shots)" if result.shots else " (exact)")
    info = result.circuit
    if info:
        out.print(
            f"circuit on {info['target']}: {info['num_qubits']} qubits, "
            f"{info['two_qubit_gates']} two-qubit gates, depth {info['depth']}"
        )
    table = Table(
        title=f"F(rho_S^(k), xi)   alpha={p['alpha']:.6g}  eta={p['eta']:.6g}  "
        f"N={p['reservoir']}  rounds={p['rounds']}"
    )
    for column in ("k", device_label, "±", "ideal", "reference"):
        table.add_column(column, justify="right")
    for k, reference in enumerate(ref["system_fidelity"]):
        table.add_row(
            str(k),
            _fmt(obs["system_fidelity"][k]) if obs else "—",
            _fmt(obs["system_fidelity_stderr"][k], 4) if obs else "—",
            _fmt(ideal["system_fidelity"][k]) if ideal else "—",
            _fmt(reference),
        )
    out.print(table)
    table = Table(title="F(rho_Rj, xi) at the end")
    for column in ("j", device_label, "±", "ideal", "reference"):
        table.add_column(column, justify="right")
    for j, reference in enumerate(ref["reservoir_fidelity"]):
        table.add_row(
            str(j + 1),
            _fmt(obs["reservoir_fidelity"][j]) if obs else "—",
            _fmt(obs["reservoir_fidelity_stderr"][j], 4) if obs else "—",
            _fmt(ideal["reservoir_fidelity"][j]) if ideal else "—",
            _fmt(reference),
        )
    out.print(table)


@run_app.command("dissipative-qubits")
def run_dissipative_qubits(
    encoding: Annotated[
        list[str] | None,
        typer.Option(
            "--encoding",
            "--encodings",
            help="Encoding (repeatable): af, physical, symm[:a1_sq,b1_sq], nsymm[:c_af_sq], "
            "custom:<4 amplitudes>/<4 amplitudes>. Default: af, symm, nsymm, physical.",
        ),
    ] = None,
    coupling: Annotated[
        float, typer.Option("--J", help="Ising coupling J (units of Delta).")
    ] = 2.0,
    alpha: Annotated[float, typer.Option(help="Ohmic coupling alpha >= 0.")] = 0.05,
    omega_c: Annotated[
        str, typer.Option(help="Bath cutoff omega_c > 0, or inf (the paper's Lindblad limit).")
    ] = "inf",
    cutoff: Annotated[str, typer.Option(help="exponential | hard.")] = "exponential",
    t_max: Annotated[float, typer.Option(help="Final time (units of 1/Delta).")] = 60.0,
    dt: Annotated[float, typer.Option(help="Reference time step.")] = 0.1,
    solver: Annotated[str, typer.Option(help="Reference: lindblad | heom.")] = "lindblad",
    heom_depth: Annotated[int, typer.Option(help="HEOM hierarchy depth.")] = 3,
    heom_exponents: Annotated[int, typer.Option(help="HEOM: prony terms Nr (2 Nr exponents).")] = 6,
    heom_fit_window: Annotated[
        float, typer.Option(help="HEOM: correlation-function fit window [0, T].")
    ] = 15.0,
    collisions: Annotated[
        int, typer.Option(help="Bath collisions in the circuits (each exact).")
    ] = 12,
    device_every: Annotated[
        int, typer.Option(min=1, help="Tomograph every k-th collision on a device.")
    ] = 3,
    squared: Annotated[
        bool,
        typer.Option(
            "--squared/--unsquared", help="Squared Uhlmann fidelity, or Nielsen-Chuang's."
        ),
    ] = True,
    delta: Annotated[float, typer.Option(help="Tunnelling Delta > 0 (the energy unit).")] = 1.0,
    backend: Annotated[
        str, typer.Option(help="reference, aer, aer:<fake backend>, ibm:<device>.")
    ] = "aer:fake_torino",
    shots: Annotated[
        int | None, typer.Option(help="Shots per tomography setting (device default 4000).")
    ] = None,
    mode: Mode = "batch",
    dd: DynamicalDecoupling = None,
    twirling: Twirling = "none",
    mitigate_readout: MitigateReadout = False,
    seed: Seed = None,
    json_path: JsonPath = None,
    plot: Annotated[
        Path | None, typer.Option(help="PNG of fidelity, leakage and purity vs t.")
    ] = None,
) -> None:
    """Two dissipative qubits (spec 001): which encoding protects a logical qubit best."""
    from backends import ResultStore
    from backends.heom import HEOMSettings, check_heom_memory
    from backends.propagators import SOLVERS, reference_propagators
    from qcompile.encoding_experiment import run_encodings
    from qcompile.experiment import check_run
    from qcompile.protocols.dissipative_qubits import dissipative_qubits

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    protocol = dissipative_qubits(
        J=coupling,
        alpha=alpha,
        omega_c=omega_c,
        cutoff=cutoff,
        delta=delta,
        t_max=t_max,
        dt=dt,
        encodings=encoding or "af,symm,nsymm,physical",
        squared=squared,
    )
    if solver not in SOLVERS:
        raise InvalidParameter("solver", solver, "one of " + ", ".join(SOLVERS))
    heom = None
    if solver == "heom":
        settings = HEOMSettings(
            depth=heom_depth, exponents=heom_exponents, fit_window=heom_fit_window
        )
        check_heom_memory(settings, 4)
        heom = settings.__dict__.copy()
        if not math.isfinite(protocol.omega_c):
            raise InvalidParameter("omega_c", omega_c, "a finite cutoff with --solver heom")
    store = ResultStore()
    chosen = _backend(backend, store, mode, dd, twirling, mitigate_readout)
    check_run(protocol, chosen, shots, seed)
    with _progress() as progress:
        result = run_encodings(
            protocol,
            chosen,
            reference_propagators,
            solver=solver,
            heom=heom,
            collisions=collisions,
            device_every=device_every,
            shots=shots,
            seed=seed,
            store=store,
            progress=progress,
        )
    _print_encodings(result)
    if json_path:
        result.write_json(json_path)
        out.print(f"results: {json_path}")
    if plot:
        from qcompile.plots import save_plot

        save_plot(result, plot)
        out.print(f"plot: {plot}")
    out.print(f"stored as run {result.run_id} in {store.path}")


def _print_encodings(result) -> None:
    import numpy as np

    from qcompile.encoding_experiment import rank_encodings

    ref, ideal, obs = result.reference, result.ideal, result.observables
    info = result.circuit
    if info:
        out.print(
            f"circuits: {info['collisions']} exact collisions of dt = {info['collision_dt']:g} "
            f"on {info['qubits']} qubits ({info['lowering']})"
            + (
                f"; compiled for {info['compiled']['target']}: "
                f"{info['compiled']['two_qubit_gates']} two-qubit gates in the longest"
                if "compiled" in info
                else ""
            )
        )
    names = [k for k, v in ref.items() if isinstance(v, dict) and "fidelity" in v]
    late = lambda block, name, key: (  # noqa: E731
        float(
            np.mean(
                np.asarray(block[name][key])[
                    np.asarray(block["times"]) >= block["times"][-1] * 2 / 3
                ]
            )
        )
        if block and name in block and key in block[name]
        else None
    )
    table = Table(title=f"late-time means (last third), reference: {ref.get('solver')}")
    for column in ("encoding", "<F> reference", "ideal circuit", "device", "±",
                   "purity (ref)", "leakage (ref)"):  # fmt: skip
        table.add_column(column, justify="right")
    for name in names:
        error = late(obs, name, "fidelity_stderr") if result.shots else None
        table.add_row(
            name,
            _fmt(late(ref, name, "fidelity"), 4),
            _fmt(late(ideal, name, "fidelity"), 4),
            _fmt(late(obs, name, "fidelity"), 4) if result.shots else "—",
            _fmt(error, 4),
            _fmt(late(ref, name, "purity"), 4),
            _fmt(late(ref, name, "leakage"), 4),
        )
    out.print(table)
    for label, block in (
        ("reference", ref),
        (f"device ({result.backend})", obs if result.shots else None),
    ):
        if not block:
            continue
        ranking = rank_encodings(block)
        scores = dict(ranking)
        text = " > ".join(f"{n} ({s:.3f})" for n, s in ranking)
        out.print(f"ranking on {label}: {text}")
        if "physical" in scores:
            beaten = [n for n, s in ranking if n != "physical" and s > scores["physical"]]
            out.print(f"  encodings that beat the physical qubit: {', '.join(beaten) or 'none'}")


@run_app.command("ising-memory")
def run_ising_memory_command(
    size: Annotated[str, typer.Option(help="Lattice size M (2..64), or a list '3,5,7'.")] = "3",
    delta: Annotated[
        str, typer.Option(help="Bit-flip rate Delta > 0 (units of kappa), or a list.")
    ] = "0.02",
    kappa: Annotated[float, typer.Option(help="Correction rate kappa > 0.")] = 1.0,
    time: Annotated[float, typer.Option("--time", help="Memory time T.")] = 800.0,
    trajectories: Annotated[
        int, typer.Option(help="Exact trajectories (reference backend).")
    ] = 100_000,
    dt: Annotated[float, typer.Option(help="Collision step of the circuits.")] = 0.5,
    backend: Annotated[
        str,
        typer.Option(
            help="reference (exact trajectories) or a circuit backend: aer, aer:<fake backend>."
        ),
    ] = "reference",
    shots: Annotated[int | None, typer.Option(help="Circuit shots (default 4000).")] = None,
    seed: Seed = None,
    json_path: JsonPath = None,
    plot: Annotated[
        Path | None, typer.Option(help="PNG: success vs M and 1 - success on a log scale.")
    ] = None,
) -> None:
    """The dissipative 2D Ising memory (spec 004): decoded success from |0> after time T."""
    from backends import ResultStore, get_backend
    from backends.solvers import default_solvers
    from qcompile.ising_experiment import exponential_fit, run_ising_memory
    from qcompile.protocols.ising_memory import BETA_C, ising_memory

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    sizes = [int(v) if float(v).is_integer() else v for v in _float_list("size", size)]
    deltas = _float_list("delta", delta)
    points = [
        ising_memory(size=m, delta=d, kappa=kappa, time=time, trajectories=trajectories, dt=dt)
        for d in deltas
        for m in sizes
    ]
    store = ResultStore()
    chosen = get_backend(backend, store=store)
    for protocol in points:
        if chosen.name != "reference":
            protocol.check_fits(chosen.num_qubits, chosen.capacity)
    solvers = default_solvers()
    results = []
    with _progress() as progress:
        for protocol in points:
            results.append(
                run_ising_memory(
                    protocol,
                    chosen,
                    simulate=solvers["kmc"],
                    exact=solvers["exact_memory"],
                    shots=shots,
                    seed=seed,
                    store=store,
                    progress=progress,
                )
            )
    table = Table(title=f"decoded success from |0bar>, T = {time:g}/kappa ({chosen.name})")
    for column in ("M", "Delta", "beta", "phase", "success", "±", "ideal circuit", "exact ME"):
        table.add_column(column, justify="right")
    for r in results:
        obs, ref = r.observables, r.reference
        table.add_row(
            str(r.parameters["size"]),
            f"{r.parameters['delta']:g}",
            f"{ref['beta']:.4f}",
            "ordered" if ref["beta"] > ref["beta_c"] else "disordered",
            _fmt(obs.get("success_probability"), 6),
            _fmt(obs.get("success_probability_stderr"), 6),
            _fmt(r.ideal.get("success_probability"), 6),
            _fmt(ref.get("success_probability"), 6),
        )
    out.print(table)
    fits = {}
    for d in deltas:
        chosen_points = [r for r in results if r.parameters["delta"] == d]
        ordered = chosen_points and chosen_points[0].reference["beta"] > BETA_C
        if not ordered and len(chosen_points) >= 2:
            values = [r.observables["success_probability"] for r in chosen_points]
            out.print(
                f"Delta = {d:g} (disordered): success {min(values):.4f}..{max(values):.4f}, "
                "pinned at 1/2: only the parity survives"
            )
        if ordered and len(chosen_points) >= 2:
            fit = exponential_fit(
                [r.parameters["size"] for r in chosen_points],
                [1 - r.observables["success_probability"] for r in chosen_points],
                [r.observables["success_probability_stderr"] for r in chosen_points],
            )
            if fit:
                fits[str(d)] = fit
                out.print(
                    f"Delta = {d:g} (ordered): ln(1 - p) = {fit['a']:.2f} - {fit['gamma']:.3f} M "
                    f"({fit['points']} sizes with failures): 1 - p falls exponentially in M"
                )
    if json_path:
        from qcompile.results import write_atomic

        if len(results) == 1:
            results[0].write_json(json_path)
        else:
            payload = {"sweep": [r.to_dict() for r in results], "fits": fits}
            write_atomic(json_path, json.dumps(payload, indent=2).encode())
        out.print(f"results: {json_path}")
    if plot:
        from qcompile.plots import ising_figure, save_figure

        save_figure(ising_figure(results), plot)
        out.print(f"plot: {plot}")
    out.print("stored as run(s) " + ", ".join(r.run_id for r in results) + f" in {store.path}")


@run_app.command("photonic-ising-toy")
def run_photonic_ising_toy(
    photons: Annotated[float, typer.Option(help="N = lambda/kappa2 (|alpha|^2 = 2N).")] = 1.0,
    kappa2: Annotated[float, typer.Option(help="Two-photon loss kappa2 > 0.")] = 1.0,
    kappa1: Annotated[float, typer.Option(help="Single-photon loss (with a spin flip).")] = 0.02,
    kappa_d: Annotated[float, typer.Option(help="Dephasing kappa_d >= 0.")] = 0.02,
    kappa_nn: Annotated[float, typer.Option(help="Parity-correcting rate kappa_nn >= 0.")] = 1.0,
    time: Annotated[float, typer.Option("--time", help="Memory time (units of 1/kappa2).")] = 20.0,
    decode_time: Annotated[float, typer.Option(help="Recovery evolution time.")] = 20.0,
    cutoff: Annotated[int, typer.Option(help="Fock cutoff of the cavity.")] = 20,
    seed: Seed = None,
    json_path: JsonPath = None,
) -> None:
    """Photonic-Ising toy model (spec 004 §6): one cat cavity and a spin."""
    from backends import ResultStore
    from backends.reference import lindblad_state_at
    from qcompile.protocols.photonic_ising import photonic_ising_toy
    from qcompile.toy_experiment import run_photonic_toy

    _check_output_path("json", json_path)
    protocol = photonic_ising_toy(
        photons=photons, kappa2=kappa2, kappa1=kappa1, kappa_d=kappa_d, kappa_nn=kappa_nn,
        time=time, decode_time=decode_time, cutoff=cutoff,
    )  # fmt: skip
    store = ResultStore()
    with _progress() as progress:
        result = run_photonic_toy(
            protocol, solver=lindblad_state_at, seed=seed, store=store, progress=progress
        )
    ref = result.reference
    out.print(
        f"|alpha|^2 = {ref['alpha_squared_modulus']:.4g} (alpha^2 = -2i lambda/kappa2: the "
        "paper's |alpha|^2 = N is off by 2, spec 004 §2)"
    )
    table = Table(title=f"toy model: memory {time:g}, decoder {decode_time:g} (cutoff {cutoff})")
    for column in ("logical state", "fidelity after decoding", "<QZ> at T", "trace"):
        table.add_column(column, justify="right")
    for name in ref["fidelity"]:
        table.add_row(
            name, f"{ref['fidelity'][name]:.6f}", f"{ref['symmetry_QZ'][name]:+.6f}",
            f"{ref['trace'][name]:.6f}",
        )  # fmt: skip
    out.print(table)
    lattice = ref["idealized_lattice"]
    out.print(
        f"idealised lattice (spec §5): Delta = 2N kappa1 = {lattice['delta']:.4g}, kappa = 2N "
        f"kappa_nn = {lattice['kappa']:.4g}, beta = {lattice['beta']:.4f}"
        + (
            f" ({lattice['phase']}; mean-field <Q> = {lattice['mean_field_magnetization']:.4f})"
            if "phase" in lattice
            else ""
        )
    )
    if json_path:
        result.write_json(json_path)
        out.print(f"results: {json_path}")
    out.print(f"stored as run {result.run_id} in {store.path}")


def _circuit_only(circuits: bool, **options) -> None:
    """Circuit options (grid size, dt) are refused for the reference backend."""
    for name, value in options.items():
        if value is not None and not circuits:
            raise InvalidParameter(name, value, "only with --backend aer or aer:<fake backend>")


@run_app.command("gkp")
def run_gkp_command(
    lattice: Annotated[str, typer.Option(help="square | hexagonal.")] = "square",
    epsilon: Annotated[float, typer.Option(help="Energy regularisation epsilon.")] = 0.1,
    noise: Annotated[
        str, typer.Option(help="none | quadrature | loss | detuning | kerr | dephasing.")
    ] = "none",
    sigma: Annotated[
        str, typer.Option(help="Noise strength sigma >= 0, or a list '0.003,0.01,0.03'.")
    ] = "0",
    cutoff: Annotated[int, typer.Option(help="Fock cutoff of the Lindblad simulation.")] = 60,
    kappa: Annotated[int, typer.Option(help="[q, p] = i kappa: 1 or 2.")] = 1,
    prefactor: Annotated[float, typer.Option(help="BCH prefactor A (spec 003 §2).")] = 1.0,
    backend: Annotated[
        str, typer.Option(help="reference (Lindblad) | aer | aer:<fake> (compiled grid step).")
    ] = "reference",
    grid_qubits: Annotated[
        int | None, typer.Option(help="Circuits: position-grid qubits m (2^m points; 6).")
    ] = None,
    dt: Annotated[
        float | None, typer.Option(help="Circuits: collision step (default: dt·|L|^2 = 0.2).")
    ] = None,
    shots: Annotated[int, typer.Option(help="Circuits: shots of the few-step device run.")] = 4000,
    seed: Seed = None,
    json_path: JsonPath = None,
    plot: Annotated[
        Path | None, typer.Option(help="PNG: logical rate vs sigma (Fig. 1), exact lines.")
    ] = None,
) -> None:
    """GKP qubit protected by dissipation (spec 003): exact torus rate vs truncated Lindblad,
    or vs the compiled collision step on the position grid (--backend aer)."""
    from backends import ResultStore
    from backends.solvers import default_solvers
    from qcompile.bosonic_experiment import run_gkp
    from qcompile.protocols.gkp import gkp

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    protocols = [
        gkp(lattice=lattice, epsilon=epsilon, noise=noise, sigma=s, cutoff=cutoff, kappa=kappa,
            prefactor=prefactor)
        for s in _float_list("sigma", sigma)
    ]  # fmt: skip
    store = ResultStore()
    solved = default_solvers()
    chosen = _backend(backend, store, "batch", None, "none")
    circuits = chosen.name != "reference"
    _circuit_only(circuits, grid_qubits=grid_qubits, dt=dt)
    grid_qubits = 6 if grid_qubits is None else grid_qubits
    options = {"grid_qubits": grid_qubits, "dt": dt} if circuits else {}
    results = []
    with _progress() as progress:
        for protocol in protocols:
            results.append(run_gkp(protocol, chosen, evolve=solved["evolve"],
                                   evolve_states=solved["evolve_states"], seed=seed, store=store,
                                   progress=progress, shots=shots if circuits else None,
                                   **options))  # fmt: skip
    theorem = "3" if lattice == "square" else "5"
    where = f"grid m = {grid_qubits} on {chosen.name}" if circuits else f"cutoff {cutoff}"
    table = Table(
        title=f"GKP {lattice}, epsilon = {epsilon:g}, noise {noise}: logical rate (units of Gamma)"
    )
    columns = ["sigma", f"exact (torus, Thm {theorem})", "asymptotic"]
    columns += (["compiled step (Kraus)", "grid Lindblad", "step error", "2q gates/step"]
                if circuits else [f"Lindblad, {where}", "bias"])  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    for r in results:
        ref, obs = r.reference, r.observables
        row = [f"{r.parameters['sigma']:g}", _fmt(ref["torus_rate"], 6),
               _fmt(ref["asymptotic_rate"], 6), f"{obs['rate']:.6f}"]  # fmt: skip
        if circuits:
            row += [f"{r.ideal['rate']:.6f}", f"{obs['step_error']:.2e}",
                    str(r.circuit["two_qubit_gates"])]  # fmt: skip
        else:
            row.append(_fmt(obs.get("truncation_bias"), 4))
        table.add_row(*row)
    out.print(table)
    if circuits:
        c = results[0].circuit
        out.print(
            f"grid: {c['grid_qubits']} qubits + 1 ancilla, dq = {c['spacing']:.4f}, |q|,|p| <= "
            f"{c['window']:.2f} (vacuum outside: {c['truncation_error_vacuum']:.1e}); dt = "
            f"{c['dt']:g} (dt·max|L|^2 = {c['dt_norm']:.2f}); one step on {c['target']}: "
            f"{c['two_qubit_gates']} two-qubit gates, depth {c['depth']}"
        )
        dev = results[0].observables["device"]
        out.print(
            f"{dev['steps']} compiled steps from the vacuum with shots on {chosen.name}: <Z> = "
            f"{dev['z']:.3f} ± {dev['z_stderr']:.3f} (Kraus iteration: "
            f"{results[0].ideal['z_after_steps']:.3f})"
        )
    if noise not in ("none", "quadrature"):
        out.print("(no torus closure for this noise: the exact line is the noiseless rate)")
    if json_path:
        from qcompile.results import write_atomic

        if len(results) == 1:
            results[0].write_json(json_path)
        else:
            payload = {"sweep": [r.to_dict() for r in results]}
            write_atomic(json_path, json.dumps(payload, indent=2).encode())
        out.print(f"results: {json_path}")
    if plot:
        from qcompile.plots import gkp_figure, save_figure

        save_figure(gkp_figure(results), plot)
        out.print(f"plot: {plot}")
    out.print("stored as run(s) " + ", ".join(r.run_id for r in results) + f" in {store.path}")


@run_app.command("cat")
def run_cat_command(
    photons: Annotated[float, typer.Option(help="N = lambda/kappa2 (|alpha|^2 = 2N).")] = 1.0,
    kappa2: Annotated[float, typer.Option(help="Two-photon loss kappa2 > 0.")] = 1.0,
    kappa1: Annotated[float, typer.Option(help="Single-photon loss (bit flips).")] = 0.01,
    kappa_d: Annotated[float, typer.Option(help="Dephasing (phase flips).")] = 0.1,
    cutoff: Annotated[int, typer.Option(help="Fock cutoff.")] = 40,
    backend: Annotated[
        str, typer.Option(help="reference | aer | aer:<fake> (compiled Fock-binary step).")
    ] = "reference",
    dt: Annotated[
        float | None, typer.Option(help="Circuits: collision step (default: dt·|L|^2 = 0.2).")
    ] = None,
    shots: Annotated[int, typer.Option(help="Circuits: shots of the few-step device run.")] = 4000,
    seed: Seed = None,
    json_path: JsonPath = None,
) -> None:
    """Cat qubit (spec 004 §2): steady amplitude, bit-flip and phase-flip rates, from the
    Lindbladian or from the compiled Fock-binary collision step (--backend aer)."""
    from backends import ResultStore
    from backends.solvers import default_solvers
    from qcompile.bosonic_experiment import run_cat
    from qcompile.protocols.cat import cat

    _check_output_path("json", json_path)
    protocol = cat(photons=photons, kappa2=kappa2, kappa1=kappa1, kappa_d=kappa_d, cutoff=cutoff)
    store = ResultStore()
    s = default_solvers()
    chosen = _backend(backend, store, "batch", None, "none")
    circuits = chosen.name != "reference"
    _circuit_only(circuits, dt=dt)
    with _progress() as progress:
        result = run_cat(
            protocol, chosen, state_at=s["state_at"], evolve=s["evolve"], slowest=s["slowest"],
            evolve_states=s["evolve_states"], seed=seed, store=store, progress=progress,
            **({"dt": dt, "shots": shots} if circuits else {}),
        )  # fmt: skip
    obs, ref = result.observables, result.reference
    table = Table(title=f"cat qubit, N = {photons:g} (|alpha|^2 = {2 * photons:g})")
    if circuits:
        for column in (
            "quantity",
            "compiled step (Kraus)",
            "Fock-binary Lindblad",
            "2 kappa1 |alpha|^2",
        ):
            table.add_column(column, justify="right")
        table.add_row(
            "bit-flip (parity) rate",
            _fmt(obs["bit_flip_rate"], 5),
            _fmt(result.ideal["bit_flip_rate"], 5),
            _fmt(ref["bit_flip_rate"], 5),
        )
        table.add_row("phase-flip rate (kappa1 = 0)", _fmt(obs["phase_flip_rate"], 6), "—", "—")
        table.add_row("one-step error", f"{obs['step_error']:.2e}", "—", "—")
        table.add_row("2q gates per step", str(result.circuit["two_qubit_gates"]), "—", "—")
        dev = obs["device"]
        table.add_row(f"parity after {dev['steps']} steps (shots)",
                      f"{dev['parity']:.3f} ± {dev['parity_stderr']:.3f}",
                      f"{result.ideal['parity_after_steps']:.3f}", "—")  # fmt: skip
    else:
        for column in ("quantity", "computed", "expected"):
            table.add_column(column, justify="right")
        table.add_row("<n> (from vacuum, no errors)", f"{obs['n']:.5f}", f"{ref['n']:.5f}")
        table.add_row("<a^2>", f"{obs['a2'][0]:+.5f}{obs['a2'][1]:+.5f}i", f"{ref['a2'][1]:+.5f}i")
        table.add_row(
            "bit-flip (parity) rate", _fmt(obs["bit_flip_rate"], 5), _fmt(ref["bit_flip_rate"], 5)
        )
        table.add_row("phase-flip rate (kappa1 = 0)", _fmt(obs["phase_flip_rate"], 6), "—")
    out.print(table)
    if json_path:
        result.write_json(json_path)
        out.print(f"results: {json_path}")
    out.print(f"stored as run {result.run_id} in {store.path}")


@run_app.command("coherent-feedback")
def run_coherent_feedback(
    gamma: Annotated[
        str, typer.Option(help="Feedback strength(s) >= 0; a list '0,5,10' sweeps.")
    ] = "5",
    t_max: Annotated[float, typer.Option(help="Final time.")] = 6.0,
    dt: Annotated[float, typer.Option(help="Circuit time step (t_max/dt an integer).")] = 0.01,
    transient_at: Annotated[
        float | None, typer.Option(help="Time of the eq. (84) dephasing kick.")
    ] = None,
    noise: Annotated[str, typer.Option(help="none | persistent (eq. 86).")] = "none",
    initial: Annotated[
        str | None, typer.Option(help="ideal | imperfect (eq. 88; default with persistent noise).")
    ] = None,
    plant_hamiltonian: Annotated[
        str, typer.Option(help="Plant Hamiltonian as a Pauli sum, qubit 1 leftmost.")
    ] = "XX",
    target: Annotated[str, typer.Option(help="Target plant state |phi0> as a bit string.")] = "00",
    sample_every: Annotated[
        float, typer.Option(help="Spacing of reported times (a multiple of dt).")
    ] = 0.1,
    rule: Annotated[
        str, typer.Option(help="Coefficient sampling: rotating | end | midpoint | left.")
    ] = "rotating",
    synthesis: Annotated[
        str, typer.Option(help="exact (one unitary per step) | trotter.")
    ] = "exact",
    order: Annotated[int, typer.Option(help="Product-formula order, 1 or 2.")] = 1,
    collision: Annotated[str, typer.Option(help="exact | dilation | channel.")] = "exact",
    backend: Annotated[
        str,
        typer.Option(
            help="reference, aer (ideal circuit), aer:<fake backend>, ibm:<device> or "
            "ibm:<fake backend> (runtime local mode)."
        ),
    ] = "aer",
    shots: Annotated[
        int | None, typer.Option(help="Shots per tomography setting (device default 4000).")
    ] = None,
    mode: Mode = "batch",
    dd: DynamicalDecoupling = None,
    twirling: Twirling = "none",
    mitigate_readout: MitigateReadout = False,
    device_every: Annotated[
        int, typer.Option(min=1, help="Tomograph every k-th reported time on a device.")
    ] = 5,
    seed: Seed = None,
    json_path: JsonPath = None,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG plot of D(t) here.")] = None,
) -> None:
    """Coherent feedback (spec 002): trace distance D(t) of the plant to its ideal trajectory."""
    from backends import ResultStore
    from backends.reference import lindblad_reference
    from qcompile.dynamics_experiment import run_dynamics
    from qcompile.experiment import check_run
    from qcompile.protocols.coherent_feedback import coherent_feedback

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    gammas = _float_list("gamma", gamma)
    protocols = [
        coherent_feedback(
            gamma=g,
            t_max=t_max,
            dt=dt,
            transient_at=transient_at,
            noise=noise,
            initial=initial,
            plant_hamiltonian=plant_hamiltonian,
            target=target,
            sample_every=sample_every,
        )
        for g in gammas
    ]
    lowering = {"rule": rule, "synthesis": synthesis, "order": order, "collision": collision}
    _check_lowering(lowering)
    store = ResultStore()
    chosen = _backend(backend, store, mode, dd, twirling, mitigate_readout)
    for protocol in protocols:
        check_run(protocol, chosen, shots, seed)
    results = []
    with _progress() as progress:
        for protocol in protocols:
            results.append(
                run_dynamics(
                    protocol,
                    chosen,
                    lindblad_reference,
                    lowering=lowering,
                    shots=shots,
                    seed=seed,
                    device_every=device_every,
                    store=store,
                    progress=progress,
                )
            )
    for protocol, result in zip(protocols, results, strict=True):
        _print_trace_distance(protocol, result)
    if len(results) > 1:
        _print_plateaus(results)
    if json_path:
        from qcompile.results import write_atomic

        if len(results) == 1:
            results[0].write_json(json_path)
        else:
            payload = {"sweep": [r.to_dict() for r in results], "plateau": _plateaus(results)}
            write_atomic(json_path, json.dumps(payload, indent=2).encode())
        out.print(f"results: {json_path}")
    if plot:
        from qcompile.plots import save_plot

        save_plot(results[-1], plot)
        out.print(f"plot: {plot}" + (" (last gamma of the sweep)" if len(results) > 1 else ""))
    out.print("stored as run(s) " + ", ".join(r.run_id for r in results) + f" in {store.path}")


def _float_list(name: str, text: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise InvalidParameter(
            name, text, "a number or a comma-separated list of numbers"
        ) from None
    if not values:
        raise InvalidParameter(name, text, "a number or a comma-separated list of numbers")
    return values


def _check_lowering(lowering: dict) -> None:
    from qcompile.lowering.dynamics import COLLISIONS, RULES, SYNTHESES

    for name, allowed in (("rule", RULES), ("synthesis", SYNTHESES), ("collision", COLLISIONS)):
        if lowering[name] not in allowed:
            raise InvalidParameter(name, lowering[name], "one of " + ", ".join(allowed))
    if lowering["order"] not in (1, 2):
        raise InvalidParameter("order", lowering["order"], "1 or 2")


def _progress():
    """A rich progress display on stderr; returns (context, callback)."""
    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )
    tasks: dict[str, int] = {}

    class _Context:
        def __enter__(self):
            bar.__enter__()
            return self.update

        def __exit__(self, *exc):
            return bar.__exit__(*exc)

        @staticmethod
        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage, total=total)
            bar.update(tasks[stage], completed=done)

    return _Context()


def _plateaus(results) -> list[dict]:
    from qcompile.protocols.coherent_feedback import plateau

    rows = []
    for r in results:
        row = {
            "gamma": r.parameters["gamma"],
            "reference": plateau(r.reference["times"], r.reference["trace_distance"]),
        }
        if r.ideal:
            row["ideal"] = plateau(r.ideal["times"], r.ideal["trace_distance"])
        if r.observables and r.shots:
            row["device"] = plateau(r.observables["times"], r.observables["trace_distance"])
        rows.append(row)
    return rows


def _print_plateaus(results) -> None:
    from qcompile.protocols.coherent_feedback import FIG2_PLATEAU

    table = Table(title="plateau: max of D(t) over the last period (limsup, spec 002 §6b)")
    for column in ("gamma", "device", "ideal circuit", "reference", "spec (Fig. 2)"):
        table.add_column(column, justify="right")
    rows = _plateaus(results)
    fig2 = results[0].parameters["noise"] == "persistent" and results[0].parameters["t_max"] >= 30
    for row in rows:
        spec = FIG2_PLATEAU.get(row["gamma"]) if fig2 else None
        table.add_row(
            f"{row['gamma']:g}",
            _fmt(row.get("device"), 4),
            _fmt(row.get("ideal"), 4),
            _fmt(row["reference"], 4),
            _fmt(spec, 4),
        )
    out.print(table)
    for key in ("reference", "ideal"):
        values = [row[key] for row in rows if key in row]
        if len(values) > 1:
            falling = all(b < a for a, b in zip(values, values[1:], strict=False))
            out.print(f"{key}: plateau {'falls' if falling else 'does NOT fall'} as gamma grows")


def _print_trace_distance(protocol, result) -> None:
    import numpy as np

    from qcompile.protocols.coherent_feedback import FIG1_TABLE

    ref, ideal, obs = result.reference, result.ideal, result.observables
    lowering = result.circuit.get("lowering")
    if lowering:
        out.print(
            f"lowered: {lowering['steps']} steps of dt={lowering['dt']:g}, "
            f"{lowering['system_qubits']}+{lowering['ancillas']} qubits, "
            f"~{lowering['two_qubit_gates']} CX, method {lowering['method']}"
        )
    device = {
        t: (v, e)
        for t, v, e in zip(
            obs.get("times", []),
            obs.get("trace_distance", []),
            obs.get("trace_distance_stderr", []),
            strict=False,
        )
    }
    table = Table(title=f"D(t), gamma={protocol.gamma:g}  ({result.backend})")
    for column in ("t", "device", "±", "ideal circuit", "reference"):
        table.add_column(column, justify="right")
    times = ref["times"]
    stride = max(1, len(times) // 25)
    for i, t in enumerate(times):
        if i % stride and i != len(times) - 1 and not (result.shots and t in device):
            continue
        value, error = device.get(t, (None, None))
        if not result.shots and obs:
            value, error = obs["trace_distance"][i], None
        table.add_row(
            f"{t:g}",
            _fmt(value, 6),
            _fmt(error, 4),
            _fmt(ideal["trace_distance"][i], 6) if ideal else "—",
            _fmt(ref["trace_distance"][i], 6),
        )
    out.print(table)
    if ideal:
        gap = float(np.max(np.abs(np.subtract(ideal["trace_distance"], ref["trace_distance"]))))
        out.print(
            f"ideal circuit vs reference: max |dD| = {gap:.2e} over {len(times)} times "
            f"({'within' if gap <= 1e-3 else 'NOT within'} 1e-3)"
        )
    if protocol.is_fig1():
        series = ideal or ref
        lookup = dict(zip(series["times"], series["trace_distance"], strict=True))
        checked = {t: v for t, v in FIG1_TABLE.items() if t in lookup}
        if checked:
            dev = max(abs(lookup[t] - v) for t, v in checked.items())
            which = "ideal circuit" if ideal else "reference"
            out.print(
                f"Fig. 1 table (spec 002 §6a), {len(checked)} times: max |{which} - table| = "
                f"{dev:.2e} ({'reproduced' if dev <= 1e-3 else 'NOT reproduced'} within 1e-3)"
            )
        before = [v for t, v in lookup.items() if t < protocol.transient_at]
        if before:
            out.print(f"Theorem 1: max D(t) before t_a = {max(before):.1e}")
    if protocol.noise == "persistent":
        from qcompile.protocols.coherent_feedback import plateau

        out.print(
            f"plateau (max of D over the last period): reference "
            f"{plateau(ref['times'], ref['trace_distance']):.4f}"
            + (
                f", ideal circuit {plateau(ideal['times'], ideal['trace_distance']):.4f}"
                if ideal
                else ""
            )
        )


# -- compile ---------------------------------------------------------------------------------
@compile_app.command("homogenization")
def compile_homogenization(
    alpha: Alpha = None,
    eta: Eta = None,
    reservoir: Reservoir = 4,
    rounds: Rounds = 1,
    input_state: InputState = "0",
    reservoir_state: ReservoirState = "+",
    target: Annotated[
        str, typer.Option(help="A fake IBM backend (fake_torino, ...) or all_to_all_cx.")
    ] = "fake_torino",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the compiled circuit as QPY.")
    ] = None,
    seed: Seed = 0,
    json_path: JsonPath = None,
) -> None:
    """Compile the homogenization circuit and print the compile report."""
    from qiskit import qpy

    from qcompile.compile import compile_protocol
    from qcompile.results import write_atomic
    from qcompile.targets import GENERIC_TARGETS, fake_backend

    _check_output_path("output", output)
    _check_output_path("json", json_path)
    protocol = _homogenization(alpha, eta, reservoir, rounds, input_state, reservoir_state)
    resolved = None if target in GENERIC_TARGETS else fake_backend(target)
    if resolved is not None:
        protocol.check_fits(resolved.num_qubits, f"{target} ({resolved.num_qubits} qubits)")
    circuit, report = compile_protocol(protocol, resolved, seed=seed)
    table = Table(title=f"compile report: homogenization on {report.target}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in report.to_dict().items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    out.print(table)
    if output:
        import io

        buffer = io.BytesIO()
        qpy.dump(circuit, buffer)
        write_atomic(output, buffer.getvalue())
        out.print(f"circuit: {output}")
    if json_path:
        payload = {
            "protocol": protocol.name,
            "parameters": protocol.parameters(),
            "seed": seed,
            "circuit": report.to_dict(),
            "compile_time_s": report.compile_time_s,
        }
        write_atomic(json_path, json.dumps(payload, indent=2).encode())


# -- bench -----------------------------------------------------------------------------------
@app.command("bench")
def bench(
    suite: Annotated[str, typer.Option(help="Benchmark suite: protocols.")] = "protocols",
    against: Annotated[
        str, typer.Option(help="Peers: any of qiskit (O2 and O3), pytket.")
    ] = "qiskit,pytket",
    targets: Annotated[
        str, typer.Option(help="Comma-separated targets.")
    ] = "fake_torino,fake_fez,fake_sherbrooke,all_to_all_cx",
    quick: Annotated[
        bool, typer.Option(help="A smaller suite (N in 2,4,8,16; shorter dynamics).")
    ] = False,
    seed: Seed = 1,
    json_path: JsonPath = None,
    markdown: Annotated[Path | None, typer.Option(help="Write the markdown table here.")] = None,
    plot: Annotated[
        Path | None, typer.Option(help="Write a PNG of the two-qubit ratios here.")
    ] = None,
) -> None:
    """Transpiler benchmarks: qcompile vs Qiskit O2/O3 and pytket on the protocol circuits."""
    from qcompile.benchmark_suite import (
        TARGETS,
        markdown_table,
        pytket_available,
        run_suite,
        suite_circuits,
    )
    from qcompile.results import write_atomic

    for name, path in (("json", json_path), ("markdown", markdown), ("plot", plot)):
        _check_output_path(name, path)
    if suite != "protocols":
        raise InvalidParameter("suite", suite, "protocols")
    peers = [p.strip() for p in against.split(",") if p.strip()]
    unknown = [p for p in peers if p not in ("qiskit", "pytket")]
    if unknown:
        raise InvalidParameter("against", against, "a comma-separated subset of qiskit, pytket")
    chosen_targets = [t.strip() for t in targets.split(",") if t.strip()]
    for t in chosen_targets:
        if t not in TARGETS:
            raise InvalidParameter(
                "targets", t, "a comma-separated subset of " + ", ".join(TARGETS)
            )
    compilers = ["qcompile", "qiskit_o2", "qiskit_o3"]
    if "pytket" in peers:
        if pytket_available():
            compilers.append("pytket")
        else:
            err.print("pytket is not installed (pip install pytket pytket-qiskit): skipping it")
    with _progress() as progress:
        progress("building circuits", 0, 1)
        circuits = suite_circuits(quick=quick)
        progress("building circuits", 1, 1)
        result = run_suite(circuits, chosen_targets, compilers, seed=seed, progress=progress)
    table = markdown_table(result)
    out.print(table, markup=False, highlight=False)
    for name, info in result["summary"].items():
        if isinstance(info, dict) and "geomean_ratio_two_qubit_gates" in info:
            out.print(
                f"{name}: two-qubit geomean vs O3 {info['geomean_ratio_two_qubit_gates']:.3f}, "
                f"max {info['max_ratio_two_qubit_gates']:.3f}, compile time geomean vs O3 "
                f"{info['geomean_ratio_compile_time']:.2f}"
            )
    if json_path:
        write_atomic(json_path, json.dumps(result, indent=2).encode())
        out.print(f"results: {json_path}")
    if markdown:
        write_atomic(markdown, table.encode())
    if plot:
        from qcompile.plots import bench_figure, save_figure

        save_figure(bench_figure(result), plot)
        out.print(f"plot: {plot}")


# -- runs ------------------------------------------------------------------------------------
@runs_app.command("list")
def runs_list(
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
) -> None:
    """List stored runs, newest first."""
    from backends import ResultStore

    store = ResultStore()
    table = Table(title=f"runs in {store.path}")
    for column in ("id", "created", "protocol", "backend", "status"):
        table.add_column(column)
    for row in store.list_runs(limit):
        table.add_row(
            row["id"], row["created"][:19], row["protocol"], row["backend"], row["status"]
        )
    out.print(table)


@runs_app.command("show")
def runs_show(run_id: str) -> None:
    """Print a stored run as JSON."""
    from backends import ResultStore

    row = ResultStore().get_run(run_id)
    if row["result"] is not None:
        print(row["result"].to_json())
    else:
        print(json.dumps({k: v for k, v in row.items() if k != "result"}, indent=2))


# -- jobs ------------------------------------------------------------------------------------
@jobs_app.command("list")
def jobs_list(
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
) -> None:
    """List remembered jobs, newest first."""
    from backends import ResultStore

    store = ResultStore()
    table = Table(title=f"jobs in {store.path}")
    for column in ("job id", "run", "created", "backend", "mode", "status", "circuits", "shots"):
        table.add_column(column)
    for row in store.list_jobs(limit):
        table.add_row(
            row["id"],
            row["run_id"] or "—",
            row["created"][:19],
            row["backend"] + (" (local)" if row["local"] else ""),
            row["mode"],
            row["status"],
            str(row["num_circuits"]),
            str(row["shots"]),
        )
    out.print(table)


@jobs_app.command("show")
def jobs_show(job_id: str) -> None:
    """Print a job as JSON: backend, mode, options, calibration time, status, counts."""
    from backends import ResultStore

    print(json.dumps(ResultStore().get_job(job_id), indent=2))


def _job_done(job: dict, result) -> None:
    out.print(f"job {job['id']}: {job['status']} ({job['num_circuits']} circuits)")
    if result is not None:
        out.print(f"run {result.run_id} is complete: `qcompile compare {result.run_id}`")


@jobs_app.command("fetch")
def jobs_fetch(job_id: str) -> None:
    """Fetch a job's result (waiting while it runs) and complete the run it belongs to."""
    from backends import ResultStore
    from qcompile.jobs import fetch_job

    with _progress() as progress:
        job, result = fetch_job(job_id, ResultStore(), progress)
    _job_done(job, result)


@jobs_app.command("wait")
def jobs_wait(
    job_id: str,
    poll: Annotated[float, typer.Option(min=0.1, help="Seconds between status checks.")] = 10.0,
    timeout: Annotated[
        float | None, typer.Option(min=0, help="Give up after this many seconds.")
    ] = None,
) -> None:
    """Wait until a job is final, printing its status changes; then fetch it."""
    from backends import ResultStore
    from qcompile.jobs import wait_job

    with _progress() as progress:
        job, result = wait_job(
            job_id,
            ResultStore(),
            poll_s=poll,
            timeout_s=timeout,
            on_status=lambda status: err.print(f"job {job_id}: {status}"),
            progress=progress,
        )
    _job_done(job, result)


@jobs_app.command("cancel")
def jobs_cancel(job_id: str) -> None:
    """Cancel a job that has not finished."""
    from backends import ResultStore
    from qcompile.jobs import cancel_job

    job = cancel_job(job_id, ResultStore())
    out.print(f"job {job['id']}: {job['status']}")


# -- compare ---------------------------------------------------------------------------------
@app.command("compare")
def compare(
    run_id: Annotated[
        str | None, typer.Argument(help="A run id (see `qcompile runs list`).")
    ] = None,
    latest: Annotated[bool, typer.Option(help="The newest finished run.")] = False,
    json_path: JsonPath = None,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG plot here.")] = None,
) -> None:
    """Device vs ideal vs reference for one run: observables with errors, and a plot."""
    from backends import ResultStore
    from qcompile.compare import compare_run
    from qcompile.results import write_atomic

    _check_output_path("json", json_path)
    _check_output_path("plot", plot)
    if (run_id is None) == (not latest):
        raise InvalidParameter("run_id", run_id, "a run id or --latest (one of them)")
    store = ResultStore()
    run_id = store.latest_run() if latest else run_id
    row = store.get_run(run_id)
    if row["result"] is None:
        raise QCompileError(
            f"run {run_id} is {row['status']}"
            + (f" ({row['error']})" if row["error"] else "")
            + "; a run waiting on an IBM job is completed by `qcompile jobs fetch JOB_ID`"
        )
    result = row["result"]
    comparison = compare_run(result)
    jobs = store.list_jobs(run_id=run_id)
    out.print(
        f"run {run_id}: {result.protocol} on {result.backend}"
        + (f", {result.shots} shots" if result.shots else ", exact")
        + (f", jobs {', '.join(j['id'] for j in jobs)}" if jobs else "")
    )
    for key, block in comparison["observables"].items():
        axis = block["axis"]
        table = Table(title=f"{key}: device vs ideal circuit vs reference")
        for column in (axis, result.backend, "±", "ideal", "reference", "(dev-ideal)/σ"):
            table.add_column(column, justify="right")
        for row_ in block["rows"]:
            if row_["device"] is None and "times" in result.reference and len(block["rows"]) > 25:
                continue
            sigma = (
                (row_["device"] - row_["ideal"]) / row_["stderr"]
                if row_["device"] is not None and row_["ideal"] is not None and row_["stderr"]
                else None
            )
            table.add_row(
                f"{row_[axis]:g}",
                _fmt(row_["device"]),
                _fmt(row_["stderr"], 4),
                _fmt(row_["ideal"]),
                _fmt(row_["reference"]),
                "—" if sigma is None else f"{sigma:+.1f}",
            )
        out.print(table)
        summary = block["summary"]
        parts = [
            f"max |device - ideal| = {_fmt(summary['device_vs_ideal'], 4)}",
            "max |ideal - reference| = "
            + (
                "—"
                if summary["ideal_vs_reference"] is None
                else f"{summary['ideal_vs_reference']:.1e}"
            ),
        ]
        if summary["within_2_sigma"] is not None:
            parts.append(
                f"{100 * summary['within_2_sigma']:.0f}% of device points within 2σ of ideal"
            )
        out.print(f"{key}: " + "; ".join(parts))
    if json_path:
        write_atomic(json_path, json.dumps(comparison, indent=2).encode())
        out.print(f"comparison: {json_path}")
    if plot:
        from qcompile.plots import save_plot

        save_plot(result, plot)
        out.print(f"plot: {plot}")


# -- sweep -----------------------------------------------------------------------------------
@app.command("sweep")
def sweep(
    protocol: Annotated[str, typer.Argument(help="A protocol (see `qcompile protocols`).")],
    grid: Annotated[
        list[str],
        typer.Option(help="A swept parameter: name=start:stop:count or name=v1,v2 (repeat)."),
    ],
    param: Annotated[
        list[str] | None, typer.Option(help="A fixed parameter name=value (repeatable).")
    ] = None,
    backend: Annotated[str, typer.Option(help="As for `qcompile run`.")] = "aer:fake_torino",
    shots: Annotated[int | None, typer.Option(help="Shots per circuit (device default).")] = None,
    seed: Annotated[int, typer.Option(help="Point i uses seed + i (fixes the sweep id).")] = 1,
    executor: Annotated[
        str, typer.Option(help="processes (local pool) or dask://HOST:PORT.")
    ] = "processes",
    workers: Annotated[
        int | None, typer.Option(min=1, help="Local worker processes (default min(4, CPUs)).")
    ] = None,
    mode: Mode = "batch",
    dd: DynamicalDecoupling = None,
    twirling: Twirling = "none",
    json_path: JsonPath = None,
) -> None:
    """Run a protocol over a parameter grid in parallel; re-running the same sweep resumes it."""
    from backends import ResultStore
    from qcompile.experiment import check_run
    from qcompile.protocols import get_protocol
    from qcompile.results import write_atomic
    from qcompile.sweep import grid_points, open_executor, parse_grid, plan_sweep, run_sweep

    _check_output_path("json", json_path)
    get_protocol(protocol)
    fixed = {}
    for item in param or []:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise InvalidParameter("param", item, "name=value")
        fixed[name.strip().replace("-", "_")] = _param_value(value.strip())
    points = grid_points([parse_grid(g) for g in grid], fixed)
    store = ResultStore()
    chosen = _backend(backend, store, mode, dd, twirling)  # validates name and options early
    module = get_protocol(protocol)
    for point in points:
        check_run(module.from_mapping(point), chosen, shots, seed)
    ibm_options = chosen.options.to_dict() if backend.strip().startswith("ibm:") else {}
    plan = plan_sweep(protocol, points, backend, shots=shots, seed=seed, ibm_options=ibm_options)
    pool, shares_store = open_executor(executor, workers)
    try:
        with _progress() as progress:
            result = run_sweep(
                plan, store, executor=pool, shares_store=shares_store, progress=progress
            )
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
    out.print(
        f"sweep {result.sweep_id}: {len(result.results)} points "
        f"({result.skipped} read from the store, {result.ran} run)"
    )
    table = Table(title=f"{protocol} sweep on {backend}")
    swept = [parse_grid(g).name for g in grid]
    for column in (*swept, "run"):
        table.add_column(column)
    for run in result.results:
        table.add_row(*(f"{run.parameters.get(n)!s}" for n in swept), run.run_id)
    out.print(table)
    if json_path:
        payload = {
            "sweep_id": result.sweep_id,
            "protocol": protocol,
            "backend": backend,
            "points": [r.to_dict() for r in result.results],
        }
        write_atomic(json_path, json.dumps(payload, indent=2).encode())
        out.print(f"results: {json_path}")


def _param_value(text: str):
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app; a :class:`QCompileError` becomes one line and exit code 2."""
    try:
        app(args=argv, prog_name="qcompile")
    except InvalidParameter as exc:
        print(f"qcompile: error: {exc.as_flag()}", file=sys.stderr)
        sys.exit(2)
    except QCompileError as exc:
        print(f"qcompile: error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
