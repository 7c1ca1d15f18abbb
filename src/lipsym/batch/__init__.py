"""Batch processing: many photos, in parallel, resumably (``lipsym batch``, docs/batch.md).

Layers: :mod:`lipsym.io` says what to analyse; :mod:`.work` analyses
one item and writes its JSON; :mod:`.local` (worker processes) or
:mod:`.dask_runner` (a dask cluster) run the items; :mod:`.tables` rebuilds
results.csv and errors.csv from the JSON files; :mod:`.run` ties them
together::

    from lipsym.batch import BatchConfig
    from lipsym.batch import run_batch
    from lipsym.io import discover

    report = run_batch(discover("photos/"), BatchConfig("out/", options), jobs=2)

This package's ``__init__`` imports nothing, so that worker processes start
light (see :mod:`.local`).
"""
