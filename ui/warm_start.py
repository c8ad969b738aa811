"""A server's start-up: what a visit's first page needs, made before the first visitor comes.

``app.py``'s server (an ``st.App``) runs ``warm_start`` in its lifespan, so ``streamlit run
app.py`` answers its first request only once torch is imported, the default models are
loaded and their ladders compiled, and the maps the first page shows are loaded and drawn.
Without it the first visitor of a just-started server waited for all of that, torch's import
most of it (``benchmarks/bench_canvas.py``'s fresh-server visit; the README's Speed section). Everything goes into the same caches the page uses
(``ui.resources``); the other datasets and families load when first asked for.
"""
from __future__ import annotations

import time

from ae_demo.datasets import DATASETS, DEFAULT_DATASET

from . import bottleneck_maps, resources, server


def warm_start(dataset: str = DEFAULT_DATASET) -> float:
    """Load, draw and compile the default view of ``dataset`` (its registry entry's default model);
    returns the seconds it took."""
    started = time.perf_counter()
    server.configure_process()  # before anything is loaded: the process serves from now on
    family, latent_dim = DATASETS[dataset].default_model.family, DATASETS[dataset].default_model.latent_dim
    # Streamlit imports pandas when a component first mounts (it looks for dataframes in the
    # canvas's arguments): a few tenths of a second of the first visit's canvas otherwise
    import pandas  # noqa: F401

    resources.reference_for(dataset)
    resources.heldout_pictures(dataset)
    resources.main_map_picture(dataset, family, latent_dim, None)
    for z in bottleneck_maps.sizes(dataset):
        resources.small_map_picture(dataset, z)
    resources.error_chart_base(dataset)
    # the ladders as the server serves them: one graph each, compiled now rather than after the first page
    for thread in resources.compile_ladders(dataset, family):
        thread.join()
    return time.perf_counter() - started
