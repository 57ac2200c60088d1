"""A resumable batch on local processes: run it twice, the second run finds everything done."""

import tempfile

from allocator.batch.runner import run_batch
from allocator.batch.spec import load_spec

if __name__ == "__main__":  # worker processes re-import this module
    spec = load_spec("fixtures/batch/desk-grid.toml")
    with tempfile.TemporaryDirectory() as outdir:
        for run in (1, 2):
            s = run_batch(spec, outdir, workers=2)
            print(f"run {run}: {s.total} scenarios, {s.solved} solved, {s.infeasible} infeasible, {s.failed} failed, "
                  f"{s.skipped} done by an earlier run")
