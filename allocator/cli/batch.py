"""``allocator batch SPEC -o OUTDIR``: many problems and scenarios, resumable (docs/batch.md); exit 0 or 2."""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click

from allocator.cli.exits import EXIT_INPUT, fail_input
from allocator.cli.options import WORKERS, SolverName


@click.command("batch")
@click.argument("spec", type=click.Path(path_type=Path))
@click.option("-o", "--output", "outdir", type=click.Path(file_okay=False, path_type=Path),
              help="Directory for result chunks and the manifest (required); re-running resumes.")
@click.option("--out", "outdir_alias", hidden=True, type=click.Path(file_okay=False, path_type=Path),
              help="Old spelling of --output (one release).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the run's summary as JSON on standard output (messages go to standard error).")
@click.option("--dask", default=None, metavar="ADDRESS",
              help="Run on a Dask cluster at ADDRESS, or 'local' to start a LocalCluster.")
@click.option("--workers", type=WORKERS, default=None, help="Local processes (default: all cores).")
@click.option("--solver", type=SolverName(), default=None, help="cvxpy solver name (default HIGHS).")
def command(spec: Path, outdir: Path | None, outdir_alias: Path | None, as_json: bool, dask: str | None,
            workers: int | None, solver: str | None) -> None:
    """Solve every problem and scenario of SPEC (a batch TOML or a directory of problems) into OUTDIR.

    The results are the chunk files and the manifest in OUTDIR (docs/batch.md); '-' is not a directory."""
    if outdir_alias is not None:
        if outdir is not None:
            raise click.UsageError("--out is the old spelling of -o/--output: give one")
        click.echo("warning: --out is deprecated: use -o/--output (--out goes in a later release)", err=True)
        outdir = outdir_alias
    if outdir is None:
        raise click.UsageError("Missing option '-o' / '--output' (the directory for the results).")
    if str(outdir) == "-":
        raise click.BadParameter("'-' is not a directory: batch writes chunk files and a manifest",
                                 param_hint="'-o' / '--output'")
    from allocator.batch.backends import MissingExtraError, require_dask
    from allocator.batch.runner import run_batch
    from allocator.batch.spec import load_spec
    from allocator.cli.progress import progress_bar
    from allocator.errors import InputError

    if dask:
        try:
            require_dask()  # before anything is read or written
        except MissingExtraError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(EXIT_INPUT)
    try:
        loaded = load_spec(spec)
        with progress_bar("batch", total=len(loaded.units)) as advance:
            summary = run_batch(loaded, outdir, workers=workers, dask=dask, solver=solver, progress=advance)
    except InputError as error:
        fail_input(error)
    if as_json:
        click.echo(json.dumps({**asdict(summary), "notes": list(summary.notes), "output": str(outdir)}, indent=2))
    click.echo(f"{summary}; written to {outdir}", err=as_json)
