"""The ``ovlite`` command: ``benchmark``, ``conformance``, ``devices``, ``new-plugin`` and
``plugins``.

Other packages add subcommands through the entry-point group ``ovlite.commands``: each entry
point names a function ``register(subparsers)`` that adds its parser (``ovlite-serve`` adds
``serve``).  Commands a known package would add answer with the package to install.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from typing import Any

from . import __version__, onnxruntime_install
from . import properties as props
from .availability import probe
from .benchmark import BenchmarkConfig, BenchmarkResult, run_benchmark, write_report
from .core import Core
from .device_string import parse_device
from .errors import OvliteError
from .hookspecs import PLUGIN_API_VERSION

HINTS = ("latency", "throughput", "cumulative_throughput", "none")
COMMANDS_GROUP = "ovlite.commands"
# Subcommands that packages of this project add, and the package that adds each.
KNOWN_COMMANDS = {"serve": "ovlite-serve (pip install -e plugins/ovlite-serve)"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except OvliteError as error:
        print(f"ovlite: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ovlite", description="ovlite: inference on any device")
    parser.add_argument("--version", action="version", version=f"ovlite {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    devices = commands.add_parser("devices", help="list devices, their availability and plugins")
    devices.add_argument("-v", "--verbose", action="store_true", help="every property and value")
    devices.add_argument("--json", action="store_true")
    devices.set_defaults(run=cmd_devices)

    plugins = commands.add_parser("plugins", help="list installed plugins and load failures")
    plugins.add_argument("--json", action="store_true")
    plugins.set_defaults(run=cmd_plugins)
    add_conformance_command(commands)
    add_new_plugin_command(commands)
    add_package_commands(commands)

    bench = commands.add_parser(
        "benchmark",
        help="measure throughput and latency",
        allow_abbrev=False,
        description="Measure a model on a device, in the manner of OpenVINO's benchmark_app.",
    )
    add = bench.add_argument
    add(
        "-m",
        dest="model",
        default="resnet18",
        help="ONNX file or built-in model (default: resnet18)",
    )
    add(
        "-d",
        dest="device",
        default="CPU",
        help="device string, e.g. CPU, MULTI:GPU,CPU (default: CPU)",
    )
    add("-hint", dest="hint", choices=HINTS, default="throughput", help="performance hint")
    add("-nireq", dest="nireq", type=int, default=0, help="requests in flight (default: optimal)")
    add("-nstreams", dest="nstreams", help="streams: N, or per device DEV:N,DEV:N")
    add("-nthreads", dest="nthreads", type=int, help="inference threads")
    add("-b", dest="batch", type=int, help="batch size for a dynamic batch dimension (default 1)")
    add("-shape", dest="shape", help="reshape the model: [1,3,224,224] or name[1,3,224,224],...")
    add("-data_shape", dest="data_shape", help="shape of generated data for dynamic inputs")
    add("-t", dest="seconds", type=float, help="seconds to measure (default 10 without -niter)")
    add("-niter", dest="niter", type=int, help="number of requests to run")
    add("-api", dest="api", choices=("sync", "async"), default="async")
    add("-i", dest="inputs", nargs="+", default=[], help=".npy / .npz input files")
    add("-cdir", dest="cache_dir", help="model cache folder (CACHE_DIR)")
    add("-load_config", dest="load_config", help='JSON file {"DEVICE": {"KEY": value}}')
    add("-dump_config", dest="dump_config", help="write the applied configuration as JSON")
    add("-pc", dest="perf_counts", action="store_true", help="print per-node counters")
    add("-json_stats", dest="json_stats", help="write statistics as JSON to this file")
    add("-report_folder", dest="report_folder", help="write benchmark_report.json here")
    add("--plot", dest="plot", help="draw latency over time and its histogram to a PNG")
    add(
        "--compare",
        dest="compare",
        nargs="+",
        metavar="CONF",
        help="run several configurations and print ratios: DEVICE, a hint, or DEVICE@hint",
    )
    bench.set_defaults(run=cmd_benchmark)
    return parser


# ---- devices and plugins ---------------------------------------------------------------------


def device_rows(core: Core, verbose: bool) -> list[dict[str, Any]]:
    rows = []
    for family, device in sorted(core.devices().items()):
        availability = probe(device)
        ids = device.device_ids() if availability else []
        for device_id in ids if len(ids) > 1 else [None]:
            name = family if device_id is None else f"{family}.{device_id}"
            row: dict[str, Any] = {
                "device": name,
                "full_name": device.full_device_name(device_id),
                "available": bool(availability),
                "reason": availability.reason,
                "package": device.package,
                "version": device.version,
                "meta": device.is_meta,
                "priority": device.priority,
            }
            if verbose and availability:
                keys = core.get_property(name, props.supported_properties)
                row["properties"] = {k: _text(core.get_property(name, k)) for k in keys}
            rows.append(row)
    return rows


def cmd_devices(args: argparse.Namespace) -> int:
    core = Core()
    rows = device_rows(core, args.verbose)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        state = "available" if row["available"] else f"UNAVAILABLE: {row['reason']}"
        kind = " (meta)" if row["meta"] else ""
        print(f"{row['device']}{kind}: {row['full_name']}")
        print(
            f"    {state}; from {row['package']} {row['version']}; AUTO priority {row['priority']}"
        )
        if row["available"] and row["reason"]:
            print(f"    note: {row['reason']}")
        for key, value in row.get("properties", {}).items():
            print(f"    {key}: {value}")
    if not rows:
        print("no devices: install a plugin, e.g. pip install ovlite-cpu")
    return 0


def cmd_plugins(args: argparse.Namespace) -> int:
    core = Core()
    core.available_devices  # noqa: B018 - loads the plugins
    plugins = [vars(p) for p in core.plugins]
    failures = [vars(f) for f in core.plugin_failures]
    runtime = onnxruntime_install.inspect()
    if args.json:
        installed = {"installed": runtime.installed, "owner": runtime.module_owner}
        installed.update(problems=runtime.problems, fix=runtime.fix)
        print(
            json.dumps(
                {"plugins": plugins, "failures": failures, "onnxruntime": installed}, indent=2
            )
        )
        return 0
    for plugin in plugins:
        devices = ", ".join(plugin["devices"]) or "no devices"
        print(
            f"{plugin['name']}: {plugin['package']} {plugin['version']} ({plugin['entry_point']}) -> {devices}"
        )
    for failure in failures:
        print(f"FAILED {failure['name']} ({failure['package']}): {failure['error']}")
    if not plugins and not failures:
        print("no plugins installed")
    print(runtime.describe())
    return 0


# ---- conformance -----------------------------------------------------------------------------


def add_conformance_command(commands: Any) -> None:
    conformance = commands.add_parser(
        "conformance",
        help="run the plugin conformance suite on an installed device",
        description="Run ovlite's plugin conformance suite (ovlite.testing.conformance) on an "
        "installed device with pytest, print a summary and optionally write it as JSON. "
        "Exits 1 when a test fails.",
    )
    conformance.add_argument("device", help="device string, e.g. CPU, REFERENCE, HETERO:CPU")
    conformance.add_argument(
        "--claims",
        nargs="+",
        default=[],
        metavar="CLAIM",
        help="features the device claims, tested instead of skipped (the suite's supports_* "
        "attributes): cancellation, profiling, throughput_streams, dynamic_shapes, or all; "
        "space- or comma-separated",
    )
    conformance.add_argument(
        "--json",
        dest="json_path",
        metavar="FILE",
        help="write the JSON summary to FILE; '-' prints it instead of the readable summary",
    )
    conformance.add_argument("-k", dest="select", metavar="EXPRESSION", help="as pytest -k")
    conformance.set_defaults(run=cmd_conformance)


def cmd_conformance(args: argparse.Namespace) -> int:
    try:  # pytest and the suite are imported for this command only
        from .testing.conformance.runner import parse_claims, run_conformance
    except ImportError as error:
        raise OvliteError(
            f"ovlite conformance needs pytest and onnx (pip install 'ovlite[test]'): {error}"
        ) from error
    report = run_conformance(args.device, parse_claims(args.claims), args.select)
    document = json.dumps(report.to_json(), indent=2)
    if args.json_path == "-":
        print(document)
    else:
        print(report.describe())
        if args.json_path:
            with open(args.json_path, "w") as handle:
                handle.write(document + "\n")
            print(f"JSON summary written to {args.json_path}")
    return 0 if report.ok else 1


# ---- new-plugin ------------------------------------------------------------------------------


def add_new_plugin_command(commands: Any) -> None:
    new = commands.add_parser(
        "new-plugin",
        help="write a device plugin package to start from",
        description="Write a device plugin package (src layout, plugin API "
        f"{PLUGIN_API_VERSION}): pyproject.toml with the ovlite entry point, the device "
        "module, a README and tests/test_conformance.py. Installed with pip install -e, it "
        "passes the conformance suite as written.",
    )
    new.add_argument("name", help="the plugin's name, e.g. mydevice (package ovlite-mydevice)")
    new.add_argument(
        "--dir", dest="directory", metavar="PATH", help="folder to write (default: ./ovlite-NAME)"
    )
    new.add_argument(
        "--device", metavar="DEVICE_NAME", help="what users type (default: NAME in upper case)"
    )
    new.set_defaults(run=cmd_new_plugin)


def cmd_new_plugin(args: argparse.Namespace) -> int:
    from .scaffold import new_plugin, plugin_names

    names = plugin_names(args.name, args.device)
    folder = new_plugin(args.name, args.directory, args.device)
    print(f"wrote {names.distribution} (device {names.device}) to {folder}")
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        print(f"  {path.relative_to(folder)}")
    print(f"next: cd {folder} && pip install -e '.[test]' && pytest -rs tests")
    return 0


def add_package_commands(commands: Any) -> None:
    """Add the subcommands installed packages register; name the package for missing ones."""
    added = set()
    for entry in entry_points(group=COMMANDS_GROUP):
        try:
            entry.load()(commands)
            added.add(entry.name)
        except Exception as error:  # a broken package must not break the other commands
            print(f"ovlite: command {entry.name!r} failed to load: {error}", file=sys.stderr)
    for name, package in KNOWN_COMMANDS.items():
        if name not in added:
            # No option prefix: whatever follows the command is taken, then refused by _missing.
            missing = commands.add_parser(
                name, help=f"(needs {package.split()[0]})", prefix_chars="\0", add_help=False
            )
            missing.add_argument("args", nargs="*")
            missing.set_defaults(
                run=lambda args, package=package, name=name: _missing(name, package)
            )


def _missing(name: str, package: str) -> int:
    print(f"ovlite: error: 'ovlite {name}' needs the package {package}", file=sys.stderr)
    return 2


def _text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(map(str, value))
    if isinstance(value, list | tuple):
        return ", ".join(f"{v}" for v in value)
    return f"{value}"  # enums by name: LATENCY


# ---- benchmark -------------------------------------------------------------------------------


def config_from_args(args: argparse.Namespace) -> BenchmarkConfig:
    device_config = {}
    if args.load_config:
        with open(args.load_config) as handle:
            loaded = json.load(handle)
        if not isinstance(loaded, dict) or not all(isinstance(v, dict) for v in loaded.values()):
            raise OvliteError(
                f"-load_config {args.load_config}: expected {{device: {{KEY: value}}}}"
            )
        device_config = {str(parse_device(k)): v for k, v in loaded.items()}
    return BenchmarkConfig(
        model=args.model,
        device=args.device,
        hint=None if args.hint == "none" else args.hint,
        nireq=args.nireq,
        nstreams=args.nstreams,
        nthreads=args.nthreads,
        batch=args.batch,
        shape=args.shape,
        data_shape=args.data_shape,
        seconds=args.seconds,
        niter=args.niter,
        api=args.api,
        input_files=args.inputs,
        cache_dir=args.cache_dir,
        device_config=device_config,
        perf_counts=args.perf_counts,
    )


def cmd_benchmark(args: argparse.Namespace) -> int:
    base = config_from_args(args)
    core = Core()
    if args.compare:
        results = []
        for variant in compare_configs(base, args.compare):
            try:
                results.append(run_one(core, variant, quiet=True))
            except OvliteError as exc:  # one configuration that cannot run here: say why
                print(f"[ WARNING ] {variant.label}: could not run: {exc}")
        if not results:
            raise OvliteError("--compare: none of the configurations could run")
        print_comparison(results)
        if args.plot:
            from .plot import plot_comparison

            plot_comparison(results, args.plot)
            print(f"[ INFO ] plot written to {args.plot}")
        return 0
    result = run_one(core, base, quiet=False)
    if args.dump_config:
        applied = {
            k: _jsonable_value(v)
            for k, v in result.properties.items()
            if not props.lookup_key(k).read_only
        }
        with open(args.dump_config, "w") as handle:
            json.dump({base.device: applied}, handle, indent=2)
        print(f"[ INFO ] configuration written to {args.dump_config}")
    for path in write_report(result, args.report_folder, args.json_stats):
        print(f"[ INFO ] statistics written to {path}")
    if args.plot:
        from .plot import plot_result

        plot_result(result, args.plot)
        print(f"[ INFO ] plot written to {args.plot}")
    return 0


def _jsonable_value(value: Any) -> Any:
    return (
        value
        if isinstance(value, bool | int | float | str | list | dict) or value is None
        else f"{value}"  # enums by name: THROUGHPUT
    )


def compare_configs(base: BenchmarkConfig, variants: Sequence[str]) -> list[BenchmarkConfig]:
    """``CPU``, ``latency`` or ``MULTI:GPU,CPU@throughput`` -> one config each."""
    configs = []
    for variant in variants:
        device, _, hint = variant.rpartition("@")
        if not device:
            device, hint = (base.device, variant) if variant.lower() in HINTS else (variant, "")
        hint = hint.lower() if hint else (base.hint or "none")
        if hint not in HINTS:
            raise OvliteError(f"--compare {variant!r}: hint must be one of {', '.join(HINTS)}")
        configs.append(
            BenchmarkConfig(
                **{**vars(base), "device": device, "hint": None if hint == "none" else hint}
            )
        )
    return configs


def run_one(core: Core, config: BenchmarkConfig, quiet: bool) -> BenchmarkResult:
    progress = ProgressBar(config.seconds if not config.niter else None, config.niter, config.label)
    if not quiet:
        print_versions(core, config.device)
    result = run_benchmark(config, core, progress)
    progress.finish()
    if not quiet:
        print_result(result)
    else:
        print(
            f"[ INFO ] {config.label}: {result.throughput:.2f} FPS, median {result.latency('median'):.2f} ms"
        )
    return result


def print_versions(core: Core, device: str) -> None:
    print(f"[ INFO ] ovlite {__version__}")
    for name, version in core.get_versions(device).items():
        print(f"[ INFO ] {name}: {version.description} {version.build_number}")


def print_result(result: BenchmarkResult) -> None:
    config = result.config
    print(
        f"[ INFO ] model {result.model_name} on {config.device}, hint {config.hint or 'none'}, api {config.api}"
    )
    shapes = ", ".join(f"{name} {list(shape)}" for name, shape in result.input_shapes.items())
    print(f"[ INFO ] inputs: {shapes}")
    print("[ INFO ] configuration applied by the device:")
    for key, value in sorted(result.properties.items()):
        if key not in SUMMARIZED:
            print(f"[ INFO ]   {key}: {_text(value)}")
    print(f"[ INFO ] compile model took {result.compile_ms:.2f} ms")
    print(f"[ INFO ] first inference took {result.first_inference_ms:.2f} ms")
    if result.settle_ms:
        print(f"[ INFO ] {config.device} settled on its device in {result.settle_ms:.0f} ms more")
    print(f"[ INFO ] count:      {result.count} iterations")
    print(f"[ INFO ] duration:   {result.duration_s * 1000:.2f} ms")
    print("[ INFO ] latency:")
    for statistic in ("median", "average", "min", "max", "p90", "p99"):
        print(f"[ INFO ]    {statistic + ':':9} {result.latency(statistic):.2f} ms")
    print(f"[ INFO ] throughput: {result.throughput:.2f} FPS")
    if len(result.executed_on) > 1 or parse_device(config.device).is_composite:
        print("[ INFO ] share of requests per device:")
        for device, count in result.executed_on.most_common():
            print(f"[ INFO ]    {device}: {count} ({100 * count / max(result.count, 1):.1f}%)")
    if config.perf_counts:
        print_counters(result)


#: Properties whose content the printout already shows in another one (AUTO's figures are in
#: OVLITE_CONFIGURATION_REASON); they stay in the JSON report.
SUMMARIZED = frozenset({props.intel_auto.measurements.name})


def print_counters(result: BenchmarkResult) -> None:
    if not result.profiling:
        print("[ INFO ] no per-node counters: the device reported none")
        return
    print("[ INFO ] per-node counters of the last inference (µs):")
    total = sum(p.real_time_us for p in result.profiling)
    for info in sorted(result.profiling, key=lambda p: -p.real_time_us)[:30]:
        print(
            f"    {info.node_name[:40]:40} {info.node_type[:18]:18} {info.exec_type[:24]:24} {info.real_time_us:10.1f}"
        )
    print(f"    total {total:.1f} µs over {len(result.profiling)} nodes")


def print_comparison(results: list[BenchmarkResult]) -> None:
    base = results[0].throughput or 1.0
    print()
    print(
        f"{'configuration':36} {'FPS':>10} {'median ms':>10} {'p90 ms':>9} {'vs first':>9}"
        f"  {'precision':9} runs on"
    )
    for result in results:
        devices = ", ".join(result.properties.get(props.execution_devices.name, []))
        precision = str(result.properties.get(props.hint.inference_precision.name, "")) or "-"
        print(
            f"{result.config.label:36} {result.throughput:10.2f} {result.latency('median'):10.2f} "
            f"{result.latency('p90'):9.2f} {result.throughput / base:8.2f}x  {precision:9} {devices}"
        )
    for result in results:
        reason = result.properties.get(props.configuration_reason.name)
        if parse_device(result.config.device).name == "AUTO" and reason:
            print(f"\n[ INFO ] {result.config.label}: {reason}")


class ProgressBar:
    """A live line with elapsed time, completed requests and running throughput."""

    def __init__(self, seconds: float | None, niter: int | None, label: str) -> None:
        self.seconds = seconds if seconds else (None if niter else 10.0)
        self.niter = niter
        self.label = label
        self.interactive = sys.stderr.isatty()
        self.last_printed = -1.0

    def __call__(self, elapsed: float, done: int, fps: float) -> None:
        fraction = min(1.0, (done / self.niter) if self.niter else elapsed / (self.seconds or 1))
        bar = "#" * int(fraction * 30)
        line = f"[{bar:30}] {elapsed:6.1f} s {done:8d} req {fps:10.1f} FPS  {self.label}"
        if self.interactive:
            print("\r" + line, end="", file=sys.stderr, flush=True)
        elif elapsed - self.last_printed >= 2.0:  # a log gets a line every two seconds
            print(line, file=sys.stderr, flush=True)
            self.last_printed = elapsed

    def finish(self) -> None:
        if self.interactive:
            print(file=sys.stderr)


if __name__ == "__main__":
    raise SystemExit(main())
