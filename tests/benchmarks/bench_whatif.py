"""What-if and batch figures (docs/performance.md, what-if, batch and speed): 1,000 what-if scenarios of the desk,
and a 10,000-scenario batch on local processes against a 2-worker Dask LocalCluster, with memory over time."""

from __future__ import annotations

import importlib.util
import os
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _cases import Figures, case

ROOT = Path(__file__).resolve().parents[2]
DESK = ROOT / "fixtures" / "problems" / "desk.toml"


def desk_scenarios(count: int, seed: int = 0) -> list[dict]:
    rng = np.random.default_rng(seed)
    return [{"id": f"s{i}", "shock": {"BTC": float(rng.uniform(-0.4, 0.2)), "ETH": float(rng.uniform(-0.4, 0.2)),
                                      "SOL": float(rng.uniform(-0.5, 0.2))},
             "haircut_shift": {"*": float(rng.uniform(0.0, 0.05))},
             "requirement_scale": {"*": float(rng.uniform(0.8, 1.3))}} for i in range(count)]


@case(params={"1-worker": 1, "2-workers": 2})
def thousand_what_if_scenarios(workers: int) -> Figures:
    """1,000 what-if scenarios of desk.toml (random shocks, haircut add-ons, requirement scales)"""
    import allocator
    from allocator.analysis.whatif import what_if

    problem = allocator.load_problem(DESK)
    scenarios = desk_scenarios(1000)
    start = time.perf_counter()
    table = what_if(problem, scenarios, workers=workers)
    seconds = time.perf_counter() - start
    return {"workers": workers, "seconds": round(seconds, 2), "per_scenario_ms": round(1000 * seconds / len(table), 2),
            "statuses": table["status"].value_counts().to_dict()}


@case(params={"1000x60-100": (1000, 60, 100)})
def large_book_table(assets: int, accounts: int, scenarios: int) -> Figures:
    """a what-if table on a generated hub-and-spoke book (``generate_problem(n, 2, k, seed=1, topology="hub")``):
    scenarios moving every price by 0.1% x i and every requirement by 1 + 0.001 x i, one worker; seconds, per
    scenario, the objectives' sum (the runner's ``peak_mb`` is the memory the table takes)"""
    from allocator.analysis.whatif import what_if
    from allocator.io.generate import generate_problem

    problem = generate_problem(assets, 2, accounts, seed=1, topology="hub")
    rows = [{"id": f"s{i}", "shock": {"*": 0.001 * i}, "requirement_scale": {"*": 1.0 + 0.001 * i}}
            for i in range(scenarios)]
    start = time.perf_counter()
    table = what_if(problem, rows)
    seconds = time.perf_counter() - start
    return {"seconds": round(seconds, 2), "per_scenario_ms": round(1000 * seconds / len(table), 1),
            "statuses": table["status"].value_counts().to_dict(),
            "objective_sum": round(float(table["objective"].sum()), 4), "load": [round(x, 2) for x in os.getloadavg()]}


class TreeMemory:
    """Samples the resident memory of this process and all its descendants (from /proc) every 0.2 s."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        root = os.getpid()
        while not self._stop.wait(0.2):
            parents, rss = {}, {}
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit():
                    continue
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                parents[int(entry.name)] = int(fields[1])
                rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
            tree, frontier = {root}, {root}
            while frontier:
                frontier = {p for p, parent in parents.items() if parent in frontier} - tree
                tree |= frontier
            self.samples.append(sum(rss.get(p, 0) for p in tree) / 2**20)

    def summary(self) -> dict[str, float]:
        """Peak, and the mean of each quarter of the run: flat memory means the last three agree (the first
        includes start-up, workers importing and compiling)."""
        quarters = np.array_split(np.array(self.samples), 4)
        return {"peak_mb": round(max(self.samples), 1),
                **{f"q{i + 1}_mb": round(float(q.mean()), 1) for i, q in enumerate(quarters)}}


def _has_dask() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("dask", "distributed"))


@case(params={"10000": (25, 20, 20)})
def scenario_batch(shocks: int, haircut_shifts: int, requirement_scales: int) -> Figures:
    """batch of desk.toml (a grid of BTC shocks x haircut shifts x requirement scales, chunks of 100), 2 workers:
    local pool, then a Dask LocalCluster if dask is installed; memory of the whole process tree"""
    from allocator.batch.runner import run_batch
    from allocator.batch.spec import load_spec

    values = {"shock.BTC": np.linspace(0.0, -0.45, shocks), "haircut_shift.*": np.linspace(0.0, 0.06, haircut_shifts),
              "requirement_scale.*": np.linspace(0.8, 1.4, requirement_scales)}
    grid = "\n".join(f'"{k}" = [{", ".join(f"{x:.6f}" for x in v)}]' for k, v in values.items())
    figures: Figures = {}
    rates = {}
    with tempfile.TemporaryDirectory() as folder:
        spec_path = Path(folder) / "spec.toml"
        spec_path.write_text(f'chunk_size = 100\n[[jobs]]\nname = "desk"\nproblem = "{DESK}"\n[jobs.grid]\n{grid}\n')
        spec = load_spec(spec_path)
        for backend in ("local", "dask") if _has_dask() else ("local",):
            seen: list[tuple[float, int]] = []
            with TreeMemory() as memory:
                summary = run_batch(spec, Path(folder) / backend, workers=2,
                                    dask="local" if backend == "dask" else None,
                                    progress=lambda n, seen=seen: seen.append((time.perf_counter(), n)))
            steady = (summary.total - seen[0][1]) / (seen[-1][0] - seen[0][0])  # after the first chunk is back
            rates[backend] = (summary.total / summary.seconds, steady)
            figures[backend] = {"workers": 2, "seconds": round(summary.seconds, 1),
                                "scenarios_per_s": round(summary.total / summary.seconds, 1),
                                "steady_per_s": round(steady, 1), "solved": summary.solved,
                                "infeasible": summary.infeasible, "failed": summary.failed, **memory.summary()}
    if "dask" in rates:
        figures["dask_over_local"] = {"end_to_end": round(rates["dask"][0] / rates["local"][0], 3),
                                      "steady_state": round(rates["dask"][1] / rates["local"][1], 3)}
    else:
        figures["dask"] = "not run: dask[distributed] is not installed (pip install 'allocator[dask]')"
    return figures
