"""Compare ``hot_path.py`` between another checkout and this one, in alternating runs.

Each run starts ``hot_path.py`` once with the other checkout's ovlite (and its CPU plugin) on
``PYTHONPATH``, then once with this one; at the end it prints, for each case, the median over
the runs of each run's median and of each run's ratio to raw ``session.run``.  The machine is
shared, so the two are measured in turns rather than one after the other.  Usage::

    python benchmarks/hot_path_ab.py /path/to/other/checkout [--runs 7] [-- --rounds 7 --calls 3000]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROW = re.compile(r"\s+(.+?)\s+([\d.]+) us/inference\s+rate vs raw\s+([\d.]+)x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("baseline", help="the other checkout (its root folder)")
    parser.add_argument("--runs", type=int, default=7)
    argv = sys.argv[1:]
    passed = argv[argv.index("--") + 1 :] if "--" in argv else []
    args = parser.parse_args(argv[: argv.index("--")] if "--" in argv else argv)
    other = Path(args.baseline).resolve()
    envs = {
        f"baseline ({other})": dict(
            os.environ, PYTHONPATH=f"{other}{os.pathsep}{other / 'plugins' / 'ovlite-cpu'}"
        ),
        "this checkout": dict(os.environ),
    }
    rows: dict[str, dict[str, list[tuple[float, float]]]] = {name: {} for name in envs}
    for run in range(args.runs):
        for name, env in envs.items():
            load = os.getloadavg()[0]
            out = subprocess.run(
                [sys.executable, str(HERE / "hot_path.py"), *passed],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            if run == 0:
                print(out.splitlines()[0])
            for line in out.splitlines()[1:]:
                match = ROW.match(line)
                if match:
                    case = rows[name].setdefault(match.group(1), [])
                    case.append((float(match.group(2)), float(match.group(3))))
            print(f"run {run} {name}: done {time.strftime('%H:%M:%S')}, load {load:.2f}")
    for name, cases in rows.items():
        print(f"== {name}: median over {args.runs} runs; us/inference, rate vs raw")
        for case, values in cases.items():
            us = statistics.median(v[0] for v in values)
            ratio = statistics.median(v[1] for v in values)
            each = " ".join(f"{v[0]:.1f}" for v in values)
            print(f"  {case:30s} {us:8.2f} us  {ratio:5.2f}x   runs: {each}")


if __name__ == "__main__":
    main()
