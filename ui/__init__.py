"""The page, one module per job; ``app.py`` at the top is its table of contents.

- ``resources``: everything cached for the whole server (``st.cache_resource`` / ``st.cache_data``):
  models, reference images, maps, the map fitter, the computed view of a batch of inputs.
- ``state``: one visitor's state (``st.session_state``), every key with a typed accessor.
- ``rerun``: what reruns when (the page CSS, the browser timers, the first paint).
- ``charts``: Plotly figures built once per server; a run adds only the visitor's stars.
- ``warm_start``: the server's start-up (``app.py``'s lifespan): the first page's models, maps
  and compiled ladders, made before the first visitor comes.
- one module per section: ``sidebar``, ``inputs``, ``workbench`` (inputs + ladder + main map,
  rerun on every stroke), ``ladder``, ``latent_map``, ``bottleneck_maps``, ``playground``,
  ``network``, ``features``, ``tour``, ``presentation``, ``exports`` and ``demos/``.

The computing lives in ``ae_demo``; nothing here trains, fits or encodes by itself.
"""
