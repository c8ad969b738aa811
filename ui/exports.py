"""Exports for slides on the page: a PNG under every picture strip, Plotly's own PNG button on every chart,
the main map as CSV, and one "Download this view" zip (``ae_demo.exports`` makes the files).

Every file is made when its button is pressed (Streamlit's deferred download: ``data`` is a
callable), not in every run of the page: encoding a zip of slide-sized PNGs on each stroke was
a tenth of what a whole-page run cost, for a button most visitors never press. The callables
get values, never session state: they run outside the script.
"""
from __future__ import annotations

from functools import partial
from urllib.parse import urlencode

import numpy as np
import streamlit as st

from ae_demo import exports
from ae_demo.zoo import FAMILIES

from . import state
from .i18n import N_, _


def chart_config(file_name: str) -> dict:
    """``st.plotly_chart(config=…)``: the modebar's camera saves the chart as a 1600x900 PNG, ``file_name``.png."""
    return {"displaylogo": False,
            "toImageButtonOptions": {"format": "png", "filename": file_name, "width": 1600, "height": 900, "scale": 1}}


def strip_download(images: np.ndarray, file_name: str, key: str, label: str = N_("Download PNG strip")) -> None:
    """A download button for (N, 28, 28) pictures side by side, enlarged for a slide."""
    st.download_button(_(label), partial(exports.strip_png, images), file_name, "image/png", key=key,
                       icon=":material/download:")


def map_csv_download(lm, classes, file_name: str, key: str) -> None:
    """The main map's points (held-out row, class, x, y) as CSV."""
    st.download_button(_("Download the map as CSV"),
                       partial(exports.map_csv, lm.coords, lm.labels, lm.indices, classes),
                       file_name, "text/csv", key=key, icon=":material/table:",
                       help=_("One row per held-out image on the map: its row in the bundled sample, its class "
                              "and its position."))


def page_url() -> str:
    """The page's URL with its query parameters (the view a link reopens)."""
    base = (st.context.url or "http://localhost:8501/").split("?")[0]
    query = urlencode({k: st.query_params.get(k) for k in st.query_params})
    return f"{base}?{query}" if query else base


def view_zip_download(dataset: str, family: str, view, current: state.InputItem, column: int) -> None:
    """Sidebar: the current input, its ladder (network and PCA) and per-size pictures, the settings and the URL."""
    net, pca = view.net, view.pca
    image = current.prepared.image
    ladders = {f"ladder {family}": np.concatenate([image[None], net.reconstructions[:, column]]),
               "ladder pca": np.concatenate([image[None], pca.reconstructions[:, column]])}
    per_size = {f"{family} z = {z}": net.reconstructions[i, column] for i, z in enumerate(net.latent_dims)}
    settings = {"dataset": dataset, "family": FAMILIES[family], "input": current.name,
                "ladder_sizes": list(net.latent_dims), "map_latent": state.widget(state.MAP_LATENT),
                "sse_per_size": {str(z): round(float(net.sse[i, column]), 2) for i, z in enumerate(net.latent_dims)}}

    def make_zip(url: str = page_url()) -> bytes:
        pictures = {"input": image, **{name: exports.strip_png(strip) for name, strip in ladders.items()}, **per_size}
        return exports.view_zip(pictures, settings, url)

    st.sidebar.download_button(_("Download this view (zip)"), make_zip, "autoencoder-lab-view.zip",
                               "application/zip", key="view_zip", icon=":material/folder_zip:",
                               help=_("The input and its reconstructions as slide-sized PNGs, the settings as JSON "
                                      "and the link that reopens this view."))
