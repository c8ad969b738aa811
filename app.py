"""Autoencoder Lab: draw, upload or photograph a digit and see what every bottleneck keeps.

    streamlit run app.py

This file lays out the page; each section is a function in ui.py, and the models,
preprocessing and metrics live in the ae_demo package.
"""
import streamlit as st

import ui

st.set_page_config(page_title="Autoencoder Lab", page_icon="🧠", layout="wide")

dataset, family = ui.model_picker_sidebar()
ui.remember_sample(dataset)

st.title("Autoencoder Lab")
st.caption("An autoencoder squeezes a 28×28 image (784 numbers) through a bottleneck of a few numbers and "
           "rebuilds it. Draw, upload, photograph or pick an image and see what survives at each size.")

sources, current_panel = st.columns([3, 2], gap="large")
with sources:
    ui.input_sources(dataset)
with current_panel:
    current = ui.current_input_panel()

items = list(ui.inputs().values())
net, pca, column = ui.reconstructions_section(dataset, family, items, current)
ui.device_sidebar(net.seconds + pca.seconds)
ui.uploads_section(items, net)
ui.error_chart_section(dataset, family, net, pca, column)

st.divider()
map_latent, _ = ui.latent_map_section(dataset, family, items, current)
ui.recompute_map_section(dataset, family, map_latent)
ui.bottleneck_maps_section(dataset, items, current)
st.divider()
ui.interpolation_section(dataset, family, map_latent)
ui.latent_sliders_section(dataset, family, current)
ui.warm_up_umap()
