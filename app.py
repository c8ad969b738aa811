"""Autoencoder Lab: draw, upload or photograph a digit and see what every bottleneck keeps.

    streamlit run app.py

``page`` is the page's table of contents: each section is a function in the ``ui`` package
(one module per section), and the models, preprocessing, maps and metrics live in ``ae_demo``.
Streamlit runs this file as each visit's page script. ``streamlit run app.py`` also imports
it to find ``app``, the server (an ``st.App``; ``uvicorn app:app`` serves it too), whose
start-up loads, draws and compiles what a first page needs (``ui.warm_start``) before the
first visitor comes: a just-started server is as quick as a warm one.
"""
import asyncio
from contextlib import asynccontextmanager

import streamlit as st


def page() -> None:
    """The page, top to bottom."""
    server.configure_process()  # once per process (the warm start did it already under `streamlit run`)
    st.set_page_config(page_title="Autoencoder Lab", page_icon=app_icon(theme.BLUE, theme.HIGHLIGHT, theme.GREEN),
                       layout="wide",
                       initial_sidebar_state="collapsed" if presentation.is_on() else "auto")
    i18n.choose_language()  # before any text: every text goes through i18n._
    tour.follow_the_url()  # a tour step sets the page up before any widget is made
    demos.follow_the_url()  # ?demo=<name> opens that demo

    page_style.page_style()
    rerun.rerun_after_reconnect()  # a replica's death: the page is drawn again where the browser reconnects
    presentation.style()
    dataset, family = sidebar.model_picker()
    if own_data.is_own(dataset):  # "Your own images", or a teacher's dataset: a page of its own
        st.title("Autoencoder Lab")
        own_data.own_page(dataset)
        return
    seat = room.follow_the_url()
    room.sidebar_section(seat, dataset, family, latent_map.map_latent(dataset, family))
    presentation.toggle()
    predict.toggle()
    i18n.language_picker()
    inputs.remember_sample(dataset)

    st.title("Autoencoder Lab")
    st.caption(i18n._("An autoencoder is trained to give back its input (y = x) through a bottleneck of a few "
                      "numbers. Draw, upload, photograph or pick a 28×28 image (784 numbers) and see what survives "
                      "at each size."))
    room.room_panels(seat)
    tour.tour_panel()

    items, current, view = workbench.workbench(dataset, family)
    sidebar.about_the_server()
    if rerun.first_paint():  # the ladder first; the charts and maps follow in the next run
        st.stop()

    column = state.visitor().current_column()
    z = latent_map.map_latent(dataset, family)
    exports.view_zip_download(dataset, family, view, current, column)
    with st.container(key="below_the_ladder"):  # drawn by the browser only when scrolled to (see ui.page_style)
        ladder.error_chart_section(dataset, family, view, column)
        identity.identity_section(dataset, current)
        features.features_section(dataset, current)
        st.divider()
        latent_map.recompute_map_section(dataset, family, z, view.maps[z].latent_map)
        network.network_section(dataset, family, z, current)
        bottleneck_maps.bottleneck_maps_section(
            dataset, workbench.view_of(dataset, "conv", items, on_maps=bottleneck_maps.sizes(dataset)), column)
        st.divider()
        playground.playground_section(dataset, family, z, view, column)
        st.divider()
        st.subheader(i18n._("Classroom demos"))
        learn_live.learn_live_section(dataset)
        denoise.denoise_section(dataset)
        anomaly.anomaly_section(dataset)
        generate.generate_section(dataset)
        arithmetic.arithmetic_section(dataset)
    resources.map_fitter()  # its UMAP warm-up starts once the first page is out
    resources.compile_ladders(dataset, family)  # and the ladders it ran become one graph each
    resources.memory_collector()  # from now on closed sessions' memory is collected without a GC after every run


@asynccontextmanager
async def _warm_start(_app):
    from ui import warm_start  # imported here: Streamlit's caches look for the server's runtime, which exists by now
    await asyncio.to_thread(warm_start.warm_start)  # in a thread: the server's event loop stays free
    yield


if __name__ == "__main__":  # a visit's script run
    from ae_demo.display import app_icon
    from ui import (bottleneck_maps, demos, exports, features, i18n, identity, inputs, ladder, latent_map, network,
                    own_data, page_style, playground, predict, presentation, rerun, resources, room, server, sidebar,
                    state, theme, tour, workbench)
    from ui.demos import anomaly, arithmetic, denoise, generate, learn_live

    page()
else:  # imported by `streamlit run app.py` (or uvicorn) to find the server
    app = st.App(__file__, lifespan=_warm_start)
