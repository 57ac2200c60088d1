"""Batch jobs: many problems and scenarios, on local processes or a Dask cluster, resumable, nothing lost."""
