"""Autoencoder Lab: draw, upload or photograph a digit and see what every bottleneck keeps.

    streamlit run app.py

This file lays out the page; each section is a function in ui.py, and the models,
preprocessing, maps and metrics live in the ae_demo package.
"""
import streamlit as st

import ui
from ae_demo.display import app_icon

st.set_page_config(page_title="Autoencoder Lab", page_icon=app_icon(), layout="wide")

ui.page_style()
dataset, family = ui.model_picker_sidebar()
ui.remember_sample(dataset)

st.title("Autoencoder Lab")
st.caption("An autoencoder squeezes a 28×28 image (784 numbers) through a bottleneck of a few numbers and "
           "rebuilds it. Draw, upload, photograph or pick an image and see what survives at each size.")

items, current = ui.workbench(dataset, family)
ui.device_sidebar()
if ui.first_paint():  # the ladder first; the charts and maps follow in the next run
    st.stop()
with st.container(key="below_the_ladder"):  # drawn by the browser only when scrolled to (see ui.page_style)
    ui.error_chart_section(dataset, family, items, current)

    st.divider()
    map_latent, _ = ui.latent_map_section(dataset, family, items, current)
    ui.recompute_map_section(dataset, family, map_latent)
    ui.bottleneck_maps_section(dataset, items, current)
    st.divider()
    ui.playground_section(dataset, family, map_latent, current)
ui.warm_up_umap()
