"""The page, one module per job; ``app.py`` at the top is its table of contents.

- ``resources``: everything cached for the whole server (``st.cache_resource`` / ``st.cache_data``):
  models, reference images, maps, the map fitter, the computed view of a batch of inputs.
- ``state``: one visitor's state, one typed object (``state.Visitor``), and the widget keys other modules read.
- ``rerun``: what reruns when (the first paint, the browser timers, the whole page's hand-over);
  ``page_style`` the page's CSS, ``pictures`` the grids of inline pictures, ``theme`` its colours and sizes.
- ``server``: the server process's settings (from the warm start) and which replica it is.
- ``charts``: Plotly figures built once per server; a run adds only the visitor's stars.
- ``warm_start``: the server's start-up (``app.py``'s lifespan): the first page's models, maps
  and compiled ladders, made before the first visitor comes.
- one module per section: ``sidebar``, ``inputs``, ``workbench`` (inputs + ladder + main map,
  rerun on every stroke), ``ladder``, ``latent_map``, ``bottleneck_maps``, ``playground``,
  ``network``, ``features``, ``tour``, ``presentation``, ``exports`` and ``demos/``.

The computing lives in ``ae_demo``; nothing here trains, fits or encodes by itself.
"""
