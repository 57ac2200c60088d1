"""Run the benchmarks behind docs/performance.md; each case in its own fresh Python process.

    python tests/benchmarks/run.py --list                                   # every case, with what it measures
    python tests/benchmarks/run.py core                                     # every case of bench_core.py
    python tests/benchmarks/run.py 'core.generated_hub_and_spoke[200x20]'   # one case (quote the brackets)
    python tests/benchmarks/run.py core.solver_comparison --repeat 3        # every parameter set, 3 runs each
    python tests/benchmarks/run.py risk --dry-run                           # import and check, solve nothing

For every run the runner prints one JSON line and appends it to tests/benchmarks/last-run.jsonl (git-ignored):
the case id, what it measures, its wall seconds, the figures the case returned, the peak resident memory of its
process and of the processes it started and waited for (``max`` of ``ru_maxrss`` of RUSAGE_SELF and
RUSAGE_CHILDREN, in MB), and the machine (Python and library versions, CPU count, platform, commit, date).
Import time is outside the wall seconds; a fresh process per case keeps imports, caches and memory of one case
out of the next. The exit status is 1 if a case failed or timed out, 2 if a selector names no case.

Adding a benchmark: write a function in ``tests/benchmarks/bench_<module>.py`` (a new module is found by its
name) that does the work and returns a dict of figures, and decorate it with ``@case`` from ``_cases.py``::

    @case("generated_hub_and_spoke", params={"200x20": (200, 2, 20), "500x40": (500, 2, 40)})
    def generated_hub_and_spoke(assets: int, wallets: int, accounts: int) -> Figures:
        \"\"\"Generated hub-and-spoke problem: first solve and re-solves.\"\"\"   # 1st paragraph: "about"
        ...
        return {"moves": ..., "solve_s": ...}

Time what the figure is about inside the function (the runner's wall seconds cover the whole call). No
assertions: a benchmark measures; correctness belongs in tests/. Then add the figure and its command to
docs/performance.md. Modules are not named ``test_*`` so that pytest never collects them.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
RECORD = HERE / "last-run.jsonl"
LIBRARIES = ("cvxpy", "highspy", "clarabel", "numpy", "scipy", "pandas", "dask")

if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _cases import REGISTRY, Case  # noqa: E402


def modules() -> list[str]:
    return sorted(path.stem.removeprefix("bench_") for path in HERE.glob("bench_*.py"))


def load(module: str) -> None:
    importlib.import_module(f"bench_{module}")


def select(selectors: list[str]) -> list[Case]:
    """Cases named by module (``core``), case (``core.solver_comparison``) or id (``core.x[200x20]``), in order."""
    known = modules()
    chosen: dict[str, Case] = {}
    unknown = []
    for selector in selectors:
        module = selector.split(".", 1)[0].split("[", 1)[0]
        if module not in known:
            unknown.append(selector)
            continue
        load(module)
        found = [c for c in REGISTRY.values() if selector in (c.module, f"{c.module}.{c.name}", c.id)]
        if not found:
            unknown.append(selector)
        chosen.update((c.id, c) for c in found)
    if unknown:
        print(f"run.py: no benchmark {', '.join(unknown)}; modules: {', '.join(known)}; see --list", file=sys.stderr)
        raise SystemExit(2)
    return list(chosen.values())


def peak_mb() -> float:
    """Peak resident memory of this process and of its waited-for children, in MB (ru_maxrss: KB on Linux)."""
    unit = 1 if sys.platform == "darwin" else 1024
    peak = max(resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return round(peak * unit / 2**20, 1)


def machine() -> dict[str, object]:
    versions = {}
    for name in LIBRARIES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    commit = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=HERE, capture_output=True, text=True)
    return {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform(),
            "versions": versions, "commit": commit.stdout.strip() if commit.returncode == 0 else None}


def child(case_id: str, out: Path, dry_run: bool) -> int:
    """Inside the fresh process: import the case's module, run the case, write wall time, figures and peak."""
    module = case_id.split(".", 1)[0]
    load(module)
    entry = REGISTRY[case_id]
    if dry_run:
        entry.check()
        return 0
    try:
        start = time.perf_counter()
        figures = entry.run()
        wall = time.perf_counter() - start
    except BaseException as error:
        out.write_text(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        traceback.print_exc()
        return 1
    out.write_text(json.dumps({"wall_s": round(wall, 3), "peak_mb": peak_mb(), "figures": figures}))
    return 0


def spawn(entry: Case, out: Path, timeout: float | None, dry_run: bool) -> tuple[str, int | None]:
    """Run one case in a fresh process (its own process group, killed whole on a timeout or Ctrl-C)."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child", entry.id, "--out", str(out)]
    process = subprocess.Popen(command + (["--dry-run"] if dry_run else []), stdout=sys.stderr.fileno(),
                               start_new_session=True)
    try:
        code = process.wait(timeout=timeout)
        return ("ok" if code == 0 else "failed"), code
    except subprocess.TimeoutExpired:
        return "timeout", None
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def run(cases: list[Case], repeat: int, timeout: float | None, record: Path) -> int:
    host = machine()
    failures = 0
    for entry in cases:
        for index in range(1, repeat + 1):
            date = time.strftime("%Y-%m-%d %H:%M:%S")
            with tempfile.TemporaryDirectory() as folder:
                out = Path(folder) / "result.json"
                status, code = spawn(entry, out, timeout, dry_run=False)
                found = json.loads(out.read_text()) if out.is_file() else {}
            line = {"case": entry.id, "about": entry.about, "status": status, "run": index, "of": repeat, **found,
                    "date": date, **host}
            if status != "ok":
                failures += 1
                line["returncode"] = code
            print(json.dumps(line), flush=True)
            with record.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line) + "\n")
    return 1 if failures else 0


def dry_run(cases: list[Case]) -> int:
    failures = 0
    for entry in cases:
        with tempfile.TemporaryDirectory() as folder:
            status, _ = spawn(entry, Path(folder) / "result.json", timeout=None, dry_run=True)
        failures += status != "ok"
        print(f"{status:7} {entry.id}")
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0],
                                     epilog="Selectors: a module (core), a case (core.solver_comparison) or one "
                                            "id (core.generated_hub_and_spoke[200x20]). See --list.")
    parser.add_argument("selectors", nargs="*", help="what to run")
    parser.add_argument("--list", action="store_true", help="list every case (or the selected ones) and exit")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="run each case N times (fresh each)")
    parser.add_argument("--timeout", type=float, default=None, metavar="S", help="kill a case after S seconds")
    parser.add_argument("--dry-run", action="store_true", help="import each case in a fresh process, run none")
    parser.add_argument("--record", type=Path, default=RECORD, metavar="FILE",
                        help="append the JSON lines to FILE (default: tests/benchmarks/last-run.jsonl)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.out, args.dry_run)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.list:
        cases = select(args.selectors or modules())
        width = max(len(c.id) for c in cases)
        for entry in cases:
            print(f"{entry.id:{width}}  {entry.about}")
        return 0
    if not args.selectors:
        parser.error("name what to run (a module, a case or an id; see --list)")
    cases = select(args.selectors)
    return dry_run(cases) if args.dry_run else run(cases, args.repeat, args.timeout, args.record)


if __name__ == "__main__":
    sys.exit(main())
