"""Start-up time of the command line and of the package import, against baselines measured in the same run.

    python benchmarks/bench_startup.py [--runs N]

Each command is started N times as a fresh process (bytecode compiled once first, so
the figures do not include compiling), and the median, minimum and maximum wall times
are printed, with the median as a ratio of two baselines started the same way:

* ``python -c pass`` — the interpreter alone;
* ``python -c "import numpy"`` — the cheapest numeric import.

Measured: ``egrid --help``, ``egrid run --help`` (target ≤ 0.3 s) and the package
imports ``import enforcement_grid.sim`` and ``import enforcement_grid.cli.cli``.
A line lists which heavy modules (SciPy, matplotlib, Dask, HiGHS …) each import pulls in:
none should, until a command needs them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

PY = sys.executable
HEAVY = ("scipy", "matplotlib", "dask", "distributed", "highspy", "pulp", "openpyxl", "pandas.plotting._matplotlib")

COMMANDS = {
    "python -c pass": [PY, "-c", "pass"],
    "python -c 'import numpy'": [PY, "-c", "import numpy"],
    "egrid --help": [PY, "-m", "enforcement_grid.cli.cli", "--help"],
    "egrid run --help": [PY, "-m", "enforcement_grid.cli.cli", "run", "--help"],
    "import enforcement_grid.sim": [PY, "-c", "import enforcement_grid.sim"],
    "import enforcement_grid.cli.cli": [PY, "-c", "import enforcement_grid.cli.cli"],
}
BASELINES = ("python -c pass", "python -c 'import numpy'")


def wall_s(cmd: list[str], env: dict) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - t


def heavy_modules(statement: str, env: dict) -> list[str]:
    code = f"{statement}; import sys; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([PY, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    return out.split()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=9, help="starts of each command (default 9)")
    args = ap.parse_args()
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    # one start each first, writing bytecode, as a user's second call would find it
    for cmd in COMMANDS.values():
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)

    times: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for _ in range(args.runs):  # interleaved, so a burst of load hits every command alike
        for name, cmd in COMMANDS.items():
            times[name].append(wall_s(cmd, env))

    med = {name: statistics.median(ts) for name, ts in times.items()}
    print(f"Start-up wall time, {args.runs} fresh processes each (bytecode cached), median [min–max]:")
    head = "".join(f"  ÷ {b:>26s}" for b in BASELINES)
    print(f"  {'command':34s} {'seconds':>24s}{head}")
    for name, ts in times.items():
        ratios = "".join(f"  {med[name] / med[b]:28.2f}" for b in BASELINES)
        print(f"  {name:34s} {med[name]:8.3f} [{min(ts):.3f}–{max(ts):.3f}]{ratios}")
    print()
    for statement in ("import enforcement_grid.sim", "import enforcement_grid.cli.cli"):
        found = heavy_modules(statement, env)
        print(f"  {statement}: heavy modules imported: {', '.join(found) if found else 'none'}")
    print(f"\n  target: egrid --help and egrid run --help ≤ 0.3 s "
          f"(now {med['egrid --help']:.3f} s and {med['egrid run --help']:.3f} s)")


if __name__ == "__main__":
    main()
