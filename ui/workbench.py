"""The workbench: the inputs, the bottleneck ladder and the main map, rerun alone on every stroke."""
from __future__ import annotations

import numpy as np
import streamlit as st

from ae_demo.view import InputsView

from . import inputs, ladder, latent_map, rerun, resources, room, state


def workbench(dataset: str, family: str) -> tuple[list[state.InputItem], state.InputItem, InputsView]:
    """Inputs, the ladder and the main map; returns this session's inputs, the current one, and their view
    on the main map's latent size (``latent_map.map_latent``), for the sections below to reuse.

    A stroke reruns only this part (a fragment), so the new reconstructions and the input's
    star on the map arrive at the cost of Streamlit's round trip; the rest of the page follows
    a second after the last stroke. A sample pick, an upload or a photo go to the whole page at
    once (see ``rerun``).
    """
    with rerun.whole_page_run():
        view = _workbench_fragment(dataset, family)  # in a whole-page run a fragment returns what it returns
    return state.visitor().items(), state.visitor().current_item(), view


def images_of(items: list[state.InputItem]) -> np.ndarray:
    """(B, 28, 28) float32 in [0, 1]: the inputs as the models see them."""
    return np.stack([item.prepared.image for item in items]).astype(np.float32)


def view_of(dataset: str, family: str, items: list[state.InputItem], on_maps: tuple[int, ...] = ()) -> InputsView:
    """The view of ``items`` on the maps of ``on_maps``, each the one this visitor looks at (default or recomputed)."""
    return resources.inputs_view(dataset, family, images_of(items),
                                 {z: state.visitor().recomputed_map(dataset, family, z) for z in on_maps})


@st.fragment
def _workbench_fragment(dataset: str, family: str) -> InputsView:
    rerun.follow_if_due()
    # Draw and see on one screen: the canvas column beside the ladder, each input's extras (pen, help,
    # the current input) under the canvas, so nothing stands between the pen and the pictures
    with st.container(horizontal=True, gap="medium", key="workbench_row"):
        with st.container(key="input_column", width=inputs.INPUT_COLUMN_PX):
            inputs.input_sources(dataset)
            current = inputs.current_input_panel()
        with st.container(key="ladder_column"):
            items = state.visitor().items()
            z = latent_map.map_latent(dataset, family)
            view = view_of(dataset, family, items, on_maps=(z,))
            state.visitor().last_inference_s = view.net.seconds + view.pca.seconds
            column = state.visitor().current_column()
            ladder.reconstructions_section(family, view, current, column)
    ladder.uploads_section(items, view)
    latent_map.latent_map_section(dataset, family, view, items, column)
    # in a class room, the current input goes to the teacher's map: after this page's own pictures, which the
    # student waits for (the teacher's panel looks once a second)
    room.share_current(current, view, column)
    # the map's size is chosen in here; the sections below that use it follow as they follow an input
    rerun.page_follows_inputs(items, current, also=f"z={z}")
    return view
