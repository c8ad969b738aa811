"""The look of each section of the page: small functions named for what they show.

Heavy things are loaded once per server and shared read-only between sessions
(``st.cache_resource``); results are cached by their inputs (``st.cache_data``); what
belongs to one visitor (their drawings, uploads, current input) lives in
``st.session_state``. The computing lives in ``ae_demo``; nothing here trains or fits.
"""
from __future__ import annotations

import hashlib
import html
import io
import random
import time
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import streamlit as st
import torch
from PIL import Image

from ae_demo.data import DATASETS
from ae_demo.device import describe_device, pick_device, use_one_cpu_thread_per_call
from ae_demo.display import MapPicture, enlarge, error_heatmap, image_strip, png_data_uri
from ae_demo.inference import (LadderCache, LadderResult, decode_codes, decode_grid, family_latent_dims,
                               interpolate_images, load_family, run_ladder)
from ae_demo.map_fitter import MapFitter
from ae_demo.maps import LatentMap, encode_images, load_map, refit_map
from ae_demo.projection import METRICS, MapSettings
from ae_demo.preprocess import InputError, Prepared, prepare_upload
from ae_demo.zoo import FAMILIES, cards, load_verified_reference, model_name

# The formats we read, plus a few we cannot, so those get our explanation rather than a silent refusal.
use_one_cpu_thread_per_call()

UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff", "svg", "heic", "heif", "avif"]
CANVAS_PX = 280          # 10 canvas pixels per model pixel: a finger or a mouse draws comfortably
PAGE_FOLLOWS_DRAWING_MS = 1000  # the whole page catches up with a drawing this long after its last stroke
# One colour per family, the same in every chart of the app.
FAMILY_COLOURS = {"conv": "#4c9be8", "dense": "#f5a623", "vae": "#b36ae2", "dae": "#2bb673", "pca": "#e8554e"}


# --- shared, read-only: loaded once per server process ---------------------------------------

@st.cache_resource(show_spinner="Loading the pretrained models…")
def models_for(dataset: str, family: str):
    """latent_dim -> model on the best device; shared by every session."""
    return load_family(dataset, family, pick_device())


@st.cache_resource(show_spinner=False)
def reference_for(dataset: str):
    """The bundled held-out images and labels of ``dataset``, checked against the card."""
    return load_verified_reference(dataset)


@st.cache_data(show_spinner=False, max_entries=512)
def prepare_cached(data: bytes, name: str) -> Prepared:
    return prepare_upload(data, name)


@st.cache_resource(show_spinner=False)
def _ladder_cache(dataset: str, family: str) -> LadderCache:
    return LadderCache(models_for(dataset, family))


def ladder_for(dataset: str, family: str, images: np.ndarray) -> LadderResult:
    """Every ``family`` model (or every PCA size) on (B, 28, 28) images; each image computed once per server."""
    return _ladder_cache(dataset, family).run(images)


# --- one visitor's inputs ------------------------------------------------------------------

@dataclass(frozen=True)
class InputItem:
    """One input the visitor made or picked: what they gave and what the model sees."""

    key: str              # "sample", "drawing", "camera" or "upload:<file id>"
    name: str             # what the page calls it: a file name, "Drawing", "Sample #12 (7)"
    prepared: Prepared


def inputs() -> dict[str, InputItem]:
    """This session's inputs, oldest first; created on first use."""
    return st.session_state.setdefault("inputs", {})


def set_current(key: str) -> None:
    st.session_state["current"] = key


def current_item() -> InputItem:
    items = inputs()
    key = st.session_state.get("current")
    if key not in items:
        key = "sample"
        set_current(key)
    return items[key]


def sample_item(dataset: str, index: int) -> InputItem:
    reference = reference_for(dataset)
    image = reference.images[index].numpy()
    label = DATASETS[dataset].classes[int(reference.labels[index])]
    prepared = Prepared(raw=None, image=image.astype(np.float32) / 255.0, notes=("held-out image, used as it is",))
    return InputItem("sample", f"Sample #{index} ({label})", prepared)


def remember(key: str, name: str, prepared: Prepared) -> None:
    inputs()[key] = InputItem(key, name, prepared)


def forget(key: str) -> None:
    inputs().pop(key, None)


def page_style() -> None:
    """28x28 images are sent as they are and scaled up by the browser with hard pixel edges:
    sharper than a blurred stretch, and 16x less to encode and send than pre-enlarged PNGs.
    The ladder is a grid of figures (see ``_ladder_row``); the rerun timers take no room."""
    st.html("<style>.stImage img, [data-testid='stImage'] img, .ae-ladder img { image-rendering: pixelated; }"
            ".st-key-raw_input img { image-rendering: auto; }"
            ".ae-ladder { display: grid; grid-template-columns: repeat(var(--cells), minmax(0, 1fr)); gap: 1rem; }"
            ".ae-ladder figure { margin: 0; } .ae-ladder img { width: 100%; display: block; }"
            ".ae-ladder .ae-title { font-weight: 600; margin-bottom: 0.25rem; }"
            ".ae-ladder .ae-detail { font-size: 0.875rem; opacity: 0.65; margin-top: 0.25rem; }"
            ".st-key-page_follows, .st-key-first_paint { display: none; }"
            ".st-key-below_the_ladder > div { content-visibility: auto; contain-intrinsic-size: auto 400px; }</style>")


# A timer in the browser that asks for a rerun once the page has shown a token for a while.
# Restarted by every new token, so a burst of strokes costs one rerun of the whole page, after it.
_RERUN_TIMER = st.components.v2.component("ae_demo.rerun_timer", js="""
export default function ({ data, setTriggerValue, parentElement }) {
  clearTimeout(parentElement.aeTimer);
  const token = data && data.token;
  if (token && token !== parentElement.aeFired) {
    parentElement.aeTimer = setTimeout(() => requestAnimationFrame(() => {
      parentElement.aeFired = token;
      setTriggerValue("fired", token);
    }), data.delay_ms);
  }
  return () => clearTimeout(parentElement.aeTimer);
}""")


def rerun_timer(token: str | None, delay_ms: int, key: str) -> bool:
    """Mount the timer for ``token`` (None: no timer); True in the run its firing caused.

    Inside a fragment its firing reruns the fragment; outside one, the whole script.
    """
    result = _RERUN_TIMER(key=key, data={"token": token, "delay_ms": delay_ms}, on_fired_change=lambda: None)
    # getattr: outside `streamlit run` (a bare `python app.py`) the result carries no trigger values
    return token is not None and getattr(result, "fired", None) == token


# --- sidebar ---------------------------------------------------------------------------

def model_picker_sidebar() -> tuple[str, str]:
    """Dataset and model family, kept in the URL so a link reopens the same view."""
    params = st.query_params
    st.sidebar.title("Autoencoder Lab")
    datasets = list(DATASETS)
    if "dataset" not in st.session_state:
        st.session_state["dataset"] = params.get("dataset") if params.get("dataset") in datasets else "mnist"
    # a drawing or a photo of a digit is no piece of clothing: a new dataset starts from its own sample
    dataset = st.sidebar.radio("Dataset", datasets, key="dataset", format_func=lambda d: DATASETS[d].title,
                               on_change=set_current, args=("sample",))
    families = [f for f in FAMILIES if f != "pca" and family_latent_dims(dataset, f)]
    if st.session_state.get("family") not in families:
        wanted = params.get("family")
        st.session_state["family"] = wanted if wanted in families else "conv"
    family = st.sidebar.selectbox("Model family", families, key="family", format_func=lambda f: FAMILIES[f],
                                  help="Convolutional is the bottleneck ladder 2…64; the others exist at some sizes.")
    st.query_params["dataset"], st.query_params["family"] = dataset, family
    return dataset, family


def device_sidebar() -> None:
    st.sidebar.markdown("**Runs on**")
    st.sidebar.caption(describe_device(pick_device()))
    seconds = st.session_state.get("last_inference_s")
    if seconds is not None:
        st.sidebar.caption(f"Last inference: {seconds * 1000:.1f} ms for all models of the family and PCA")
    st.sidebar.divider()
    st.sidebar.caption(f"Images: {DATASETS[st.session_state['dataset']].attribution}. "
                       "Models trained for this app; see the README.")


# --- inputs ------------------------------------------------------------------------------

def draw_tab() -> None:
    st.caption("Draw white on black, as MNIST digits are. Undo, redo and clear are the three icons just above "
               "the canvas's top-right corner; they show while the pointer is over the canvas.")
    width = st.slider("Stroke width", 8, 40, 22, key="stroke_width")
    result = None
    with st.container(key="draw_canvas"):
        from streamlit_drawable_canvas import st_canvas  # the component registers itself on import

        result = st_canvas(stroke_width=width, stroke_color="#ffffff", background_color="#000000",
                           height=CANVAS_PX, width=CANVAS_PX, drawing_mode="freedraw",
                           return_image_data=True, key="canvas")
    png = result.image_bytes if result is not None else None
    if not png:
        return
    digest = hashlib.sha1(png).hexdigest()
    if st.session_state.get("canvas_digest") == digest:
        return
    st.session_state["canvas_digest"] = digest
    try:
        remember("drawing", "Drawing", prepare_cached(png, "drawing"))
        set_current("drawing")
    except InputError:  # an empty or cleared canvas: nothing to show, nothing wrong
        forget("drawing")


def upload_tab() -> None:
    files = st.file_uploader("Upload images (PNG, JPEG, GIF, BMP, WebP, TIFF)", type=UPLOAD_TYPES,
                             accept_multiple_files=True, key="upload",
                             help="A photo of a digit on paper works: the background is removed and the ink centred.")
    errors = {}
    seen = set()
    for file in files or []:
        key = f"upload:{file.file_id}"
        seen.add(key)
        if key in inputs():
            continue
        try:
            remember(key, file.name, prepare_cached(file.getvalue(), file.name))
            set_current(key)  # the newest upload becomes the current input
        except InputError as error:
            errors[file.name] = str(error)
    for key in [k for k in inputs() if k.startswith("upload:") and k not in seen]:
        forget(key)  # removed from the uploader
    st.session_state["upload_errors"] = {**{k: v for k, v in st.session_state.get("upload_errors", {}).items()
                                            if any(f.name == k for f in files or [])}, **errors}
    for name, message in st.session_state["upload_errors"].items():
        st.error(f"**{name}**: {message}")


def camera_tab() -> None:
    st.caption("Hold a digit written in thick dark pen on white paper up to the camera, filling most of the frame.")
    photo = st.camera_input("Take a photo", key="camera")
    if photo is None:
        forget("camera")
        return
    if st.session_state.get("camera_id") == photo.file_id:
        return
    st.session_state["camera_id"] = photo.file_id
    try:
        remember("camera", "Webcam photo", prepare_cached(photo.getvalue(), "webcam photo"))
        set_current("camera")
    except InputError as error:
        st.error(f"Webcam photo: {error}")


def sample_tab(dataset: str) -> None:
    classes = DATASETS[dataset].classes
    reference = reference_for(dataset)
    st.caption(f"{len(reference.labels):,} held-out images the models never saw in training.")
    choice = st.selectbox("Class", ["any class", *classes], key="sample_class")
    if st.button("Pick a random sample", key="sample_random", icon=":material/casino:"):
        pool = np.arange(len(reference.labels))
        if choice != "any class":
            pool = pool[reference.labels.numpy() == classes.index(choice)]
        pick_sample(dataset, int(random.choice(pool)))


def pick_sample(dataset: str, index: int) -> None:
    st.session_state["sample_index"] = index
    st.query_params["sample"] = str(index)
    remember_sample(dataset)
    set_current("sample")


def remember_sample(dataset: str) -> None:
    """Keep the "sample" input in step with the dataset and the index (from the URL on first load)."""
    n = len(reference_for(dataset).labels)
    if "sample_index" not in st.session_state:
        from_url = st.query_params.get("sample", "")
        st.session_state["sample_index"] = int(from_url) if from_url.isdigit() and int(from_url) < n else 0
    index = st.session_state["sample_index"] % n
    st.session_state["sample_index"] = index
    item = sample_item(dataset, index)
    inputs()["sample"] = item


def input_sources(dataset: str) -> None:
    """Draw, upload, photograph or pick: every path ends in the same preprocessing."""
    draw, upload, camera, sample = st.tabs([":material/draw: Draw", ":material/upload_file: Upload",
                                               ":material/photo_camera: Webcam", ":material/casino: Samples"])
    with draw:
        draw_tab()
    with upload:
        upload_tab()
    with camera:
        camera_tab()
    with sample:
        sample_tab(dataset)


def current_input_panel() -> InputItem:
    """The input being explored: as given, and as the model sees it."""
    items = inputs()
    keys = list(items)
    current = current_item()
    st.session_state["input_choice"] = current.key
    st.selectbox("Current input", keys, key="input_choice", format_func=lambda k: items[k].name,
                 on_change=lambda: set_current(st.session_state["input_choice"]))
    given, seen = st.columns(2)
    with given:
        if current.prepared.raw is not None:
            with st.container(key="raw_input"):  # a photo: smooth scaling (see page_style)
                st.image(current.prepared.raw, caption="As given", width="stretch")
        else:
            st.image(current.prepared.image, caption="As given (a held-out image)", width="stretch")
    with seen:
        st.image(current.prepared.image, caption="What the model sees: 28×28", width="stretch")
    if current.prepared.notes:
        st.caption(" · ".join(current.prepared.notes))
    return current


# --- the workbench: input and reconstructions, rerun alone on every stroke ------------------------

def workbench(dataset: str, family: str) -> tuple[list[InputItem], InputItem]:
    """Inputs and the bottleneck ladder; returns this session's inputs and the current one.

    A stroke, an upload or a sample pick reruns only this part (a fragment), so the new
    reconstructions arrive at the cost of Streamlit's round trip. When the current input
    changed, the rest of the page (chart, maps, morph, sliders) follows in a full rerun: at
    once for a pick or an upload, and a second after the last stroke for a drawing, so that
    a digit drawn in several strokes costs the browser one redraw of the charts, not one a stroke.
    """
    st.session_state["_page_run"] = True
    _workbench_fragment(dataset, family)
    st.session_state["_page_run"] = False
    return list(inputs().values()), current_item()


def _input_signature(items: list[InputItem], current: InputItem) -> str:
    """A short token for what the page shows: the inputs' images and which one is current."""
    digest = hashlib.sha1(current.key.encode())
    for item in items:
        digest.update(item.key.encode() + b"\0" + item.prepared.image.tobytes())
    return digest.hexdigest()[:16]


@st.fragment
def _workbench_fragment(dataset: str, family: str) -> None:
    sources, current_panel = st.columns([3, 2], gap="large")
    with sources:
        input_sources(dataset)
    with current_panel:
        current = current_input_panel()
    items = list(inputs().values())
    net, pca, column = reconstructions_section(dataset, family, items, current)
    st.session_state["last_inference_s"] = net.seconds + pca.seconds
    uploads_section(items, net)
    signature = _input_signature(items, current)
    if st.session_state.get("_page_run"):
        st.session_state["page_input"] = signature
    stale = signature != st.session_state.get("page_input")
    delay = PAGE_FOLLOWS_DRAWING_MS if current.key == "drawing" else 0
    if rerun_timer(signature if stale else None, delay, key="page_follows"):
        st.rerun(scope="app")


def first_paint() -> bool:
    """True in a visit's first run, which shows the inputs and the ladder and stops there.

    The charts and maps cost the browser seconds to load and draw (Plotly's bundle, WebGL),
    and the ladder came out only with them; so the first run leaves them out, and a timer
    asks for the whole page as soon as this part is on the screen.
    """
    if st.session_state.get("page_drawn"):
        return False
    st.session_state["page_drawn"] = True
    st.caption("Drawing the error chart and the maps…")
    rerun_timer("whole page", 0, key="first_paint")
    return True


# --- results -------------------------------------------------------------------------------

def _ladder_row(images: np.ndarray, target: np.ndarray, result: LadderResult, column: int, heatmaps: bool,
                label: str) -> None:
    """The input and its reconstruction at every size, each an <img> of its own, in one HTML block.

    Inline PNGs in one element: a stroke costs the browser one update and no image requests,
    where fourteen st.image elements cost fourteen updates and fourteen fetches.
    """
    cells = [("Input", "28×28, 784 numbers", target, "the input, 28×28")]
    for i, z in enumerate(result.latent_dims):
        recon = images[i, column]
        cells.append((f"z = {z}", f"SSE {result.sse[i, column]:.1f} · {result.psnr[i, column]:.1f} dB",
                      error_heatmap(recon, target) if heatmaps else recon, f"{label} at z = {z}"))
    figures = "".join(f'<figure><div class="ae-title">{html.escape(title)}</div>'
                      f'<img src="{png_data_uri(picture)}" alt="{html.escape(alt)}">'
                      f'<figcaption class="ae-detail">{html.escape(detail)}</figcaption></figure>'
                      for title, detail, picture, alt in cells)
    st.html(f'<div class="ae-ladder" style="--cells: {len(cells)}">{figures}</div>')


def reconstructions_section(dataset: str, family: str, items: list[InputItem], current: InputItem):
    """The bottleneck ladder for the current input, then PCA at the same sizes. Returns both results."""
    net, pca, column = _ladders(dataset, family, items, current)
    target = current.prepared.image
    with st.container(key="reconstructions"):
        st.subheader(f"What {', '.join(map(str, net.latent_dims))} numbers keep")
        st.caption(f"The input squeezed through a bottleneck of z numbers by the {FAMILIES[family].lower()} "
                   "autoencoder, then rebuilt. SSE: squared error over the 784 pixels (lower is better); "
                   "PSNR in dB (higher is better).")
        heatmaps = st.toggle("Show per-pixel error instead (black = exact, yellow/white = wrong)", key="error_heatmaps")
        _ladder_row(net.reconstructions, target, net, column, heatmaps, FAMILIES[family])
        st.markdown("**PCA at the same sizes** — the best any *linear* autoencoder can do")
        _ladder_row(pca.reconstructions, target, pca, column, heatmaps, "PCA")
    return net, pca, column


def _ladders(dataset: str, family: str, items: list[InputItem],
             current: InputItem) -> tuple[LadderResult, LadderResult, int]:
    """The family's ladder and PCA's at the family's sizes over every input, and the current input's column."""
    batch = np.stack([item.prepared.image for item in items]).astype(np.float32)
    net = ladder_for(dataset, family, batch)
    pca = _only_sizes(ladder_for(dataset, "pca", batch), net.latent_dims)
    return net, pca, [item.key for item in items].index(current.key)


def _only_sizes(result: LadderResult, dims: tuple[int, ...]) -> LadderResult:
    keep = [i for i, z in enumerate(result.latent_dims) if z in dims]
    return LadderResult(tuple(result.latent_dims[i] for i in keep), result.reconstructions[keep],
                        result.sse[keep], result.psnr[keep], result.seconds)


def error_chart_section(dataset: str, family: str, items: list[InputItem], current: InputItem) -> None:
    """Held-out error against latent size for every family and PCA, with this input's errors on top."""
    net, pca, column = _ladders(dataset, family, items, current)
    st.subheader("Error against bottleneck size")
    st.caption("Lines: mean error on the held-out images (from the model card). Stars: your current input.")
    fig = go.Figure()
    by_family: dict[str, list] = {}
    for card in cards(dataset):
        by_family.setdefault(card.family, []).append(card)
    for fam, members in by_family.items():
        xs = [c.latent_dim for c in members]
        ys = [c.metrics.get("sse_per_image") for c in members]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=f"{FAMILIES[fam]} (held-out mean)",
                                 line=dict(color=FAMILY_COLOURS[fam], dash="dot" if fam == "pca" else "solid")))
    for fam, result in ((family, net), ("pca", pca)):
        fig.add_trace(go.Scatter(x=list(result.latent_dims), y=result.sse[:, column].tolist(), mode="markers",
                                 name=f"your input · {FAMILIES[fam]}",
                                 marker=dict(symbol="star", size=14, color=FAMILY_COLOURS[fam],
                                             line=dict(color="white", width=1))))
    # whole-number ticks in readable type: Plotly's default log ticks are bare leading digits (5, 2, 10, 5 …)
    ticks = dict(tickfont=dict(size=15), title_font=dict(size=16), minor=dict(showgrid=False))
    fig.update_layout(xaxis=dict(title="latent size z", type="log", tickvals=[2, 4, 8, 16, 32, 64], **ticks),
                      yaxis=dict(title="SSE per image (784 pixels)", type="log", tickformat="d",
                                 tickvals=[1, 2, 5, 10, 20, 50, 100], **ticks),
                      height=380, margin=dict(l=10, r=10, t=10, b=10), legend=dict(orientation="h", y=-0.25))
    st.plotly_chart(fig, key="error_chart")


def uploads_section(items: list[InputItem], net: LadderResult) -> None:
    """One result per uploaded image, named by its file."""
    uploads = [(i, item) for i, item in enumerate(items) if item.key.startswith("upload:")]
    if not uploads:
        return
    with st.expander(f"Every upload ({len(uploads)})", expanded=len(uploads) > 1), st.container(key="upload_results"):
        for column, item in uploads:
            cells = st.columns(len(net.latent_dims) + 2)
            cells[0].markdown(f"**{item.name}**")
            cells[1].image(item.prepared.image, caption="28×28", width="stretch")
            for i, z in enumerate(net.latent_dims):
                cells[i + 2].image(net.reconstructions[i, column], caption=f"z={z} · SSE {net.sse[i, column]:.0f}",
                                   width="stretch")


# --- the latent space ------------------------------------------------------------------------

# Ten colours, one per class, the same on every map of the app (Plotly's "D3" palette).
CLASS_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
SMALL_MAP_SIZES = (2, 8, 32)
MANIFOLD_STEPS = 15      # decoded manifold: a 15x15 grid of latent points


@st.cache_resource(show_spinner="Loading the map…")
def default_map_for(dataset: str, family: str, latent_dim: int) -> LatentMap:
    """The precomputed map (or the raw 2-D latent) of one model, shared by every session."""
    return load_map(model_name(family, latent_dim, dataset), models_for(dataset, family)[latent_dim])


@st.cache_data(show_spinner=False, max_entries=32)
def custom_map_for(dataset: str, family: str, latent_dim: int, settings: MapSettings) -> LatentMap:
    """A map recomputed with other settings from the default map's codes; cached for every session that asks."""
    return refit_map(default_map_for(dataset, family, latent_dim), settings, fit=map_fitter().fit)


def map_for(dataset: str, family: str, latent_dim: int) -> LatentMap:
    settings = st.session_state.get("map_settings", {}).get((dataset, family, latent_dim))
    if settings is None:
        return default_map_for(dataset, family, latent_dim)
    return custom_map_for(dataset, family, latent_dim, settings)


@st.cache_data(show_spinner=False, max_entries=512)
def codes_cached(dataset: str, family: str, latent_dim: int, images: np.ndarray) -> np.ndarray:
    """(B, 28, 28) in [0, 1] -> (B, latent_dim) codes of one model."""
    model = models_for(dataset, family)[latent_dim]
    return encode_images(model, torch.from_numpy((images * 255).round().astype(np.uint8)))


@st.cache_data(show_spinner=False, max_entries=64)
def manifold_image(dataset: str, family: str, lo: tuple, hi: tuple) -> np.ndarray:
    """Decode a MANIFOLD_STEPS² grid of 2-D codes spanning lo..hi -> (rows*28, cols*28) in [0, 1]."""
    model = models_for(dataset, family)[2]
    return decode_grid(model, lo, hi, MANIFOLD_STEPS)


def map_figure(lm: LatentMap, dataset: str, placed: np.ndarray, names: list[str], height: int,
               thumbnails: int = 0, grid: np.ndarray | None = None) -> go.Figure:
    """Reference points one trace per class, each input a star trace named "your input …".

    placed (M, 2) and names (M,): the inputs, the current one last (drawn larger, in yellow).
    """
    classes = DATASETS[dataset].classes
    fig = go.Figure()
    for label, name in enumerate(classes):
        rows = np.flatnonzero(lm.labels == label)
        fig.add_trace(go.Scattergl(
            x=lm.coords[rows, 0], y=lm.coords[rows, 1], mode="markers", name=name,
            marker=dict(size=4, color=CLASS_COLOURS[label], opacity=0.7),
            customdata=np.stack([lm.indices[rows], np.full(len(rows), label)], 1),
            hovertemplate=f"{name}<br>held-out #%{{customdata[0]}}<extra></extra>"))
    if grid is not None:  # invisible points everywhere, so a click on empty space selects a place to decode
        fig.add_trace(go.Scattergl(x=grid[:, 0], y=grid[:, 1], mode="markers", name="decode here",
                                   marker=dict(size=12, opacity=0), showlegend=False,
                                   hovertemplate="decode (%{x:.2f}, %{y:.2f})<extra></extra>"))
    for i, ((x, y), name) in enumerate(zip(placed, names)):
        is_current = i == len(names) - 1  # the current input comes last, drawn on top and larger
        fig.add_trace(go.Scattergl(x=[x], y=[y], mode="markers", name=f"your input · {name}",
                                   marker=dict(symbol="star", size=24 if is_current else 14,
                                               color="#ffd21f" if is_current else "#ffffff",
                                               line=dict(color="#000000", width=1.5)),
                                   hovertemplate=f"your input · {name}<extra></extra>"))
    if thumbnails:
        reference = reference_for(dataset)
        span = np.ptp(lm.coords, axis=0).max()
        for row in np.linspace(0, len(lm.indices) - 1, thumbnails).astype(int):
            image = reference.images[int(lm.indices[row])].numpy() / 255.0
            fig.add_layout_image(source=png_data_uri(image), x=float(lm.coords[row, 0]), y=float(lm.coords[row, 1]),
                                 xref="x", yref="y", sizex=span / 30, sizey=span / 30,
                                 xanchor="center", yanchor="middle", layer="above")
    fig.update_layout(height=height, margin=dict(l=0, r=0, t=0, b=0), showlegend=True,
                      legend=dict(itemsizing="constant"), dragmode="pan" if grid is None else "select",
                      xaxis=dict(showticklabels=grid is not None, zeroline=False),
                      yaxis=dict(showticklabels=grid is not None, zeroline=False, scaleanchor="x" if grid is not None else None))
    return fig


def _latent_grid(lm: LatentMap) -> np.ndarray:
    lo, hi = np.percentile(lm.coords, 1, axis=0), np.percentile(lm.coords, 99, axis=0)
    xs, ys = np.linspace(lo[0], hi[0], 40), np.linspace(lo[1], hi[1], 40)
    return np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)


def latent_map_section(dataset: str, family: str, items: list[InputItem], current: InputItem) -> tuple[int, LatentMap]:
    """The main map: thousands of held-out images in the model's latent space, the inputs placed on it."""
    dims = family_latent_dims(dataset, family)
    st.subheader("Where your input lands among real images")
    st.caption("Each dot is a held-out image, encoded by the model and laid out in 2-D so that images with "
               "similar codes sit close together (UMAP). Stars are your inputs, placed by their nearest "
               "codes without moving any dot. Click a dot to see it; on a 2-D latent, click anywhere to decode that place.")
    default = 32 if 32 in dims else dims[-1]
    if st.session_state.get("map_latent") not in dims:
        st.session_state["map_latent"] = default
    top = st.columns([2, 1, 1])
    z = top[0].select_slider("Latent size of the mapped model", dims, key="map_latent")
    thumbnails = top[1].toggle("Thumbnails on the map", key="map_thumbnails")
    lm = map_for(dataset, family, z)
    top[2].caption(f"{len(lm.labels):,} points · {_describe_settings(lm.settings)}")
    batch = np.stack([item.prepared.image for item in items]).astype(np.float32)
    codes = codes_cached(dataset, family, z, batch)
    started = time.perf_counter()
    placed = lm.place(codes)
    st.session_state["placement_ms"] = (time.perf_counter() - started) * 1000
    order = [i for i, item in enumerate(items) if item.key != current.key] + [[it.key for it in items].index(current.key)]
    grid = _latent_grid(lm) if lm.settings.method == "identity" else None
    fig = map_figure(lm, dataset, placed[order], [items[i].name for i in order], 560, thumbnails=120 if thumbnails else 0,
                     grid=grid)
    map_column, side = st.columns([3, 2] if z == 2 else [5, 2], gap="medium")
    with map_column, st.container(key="latent_map"):
        event = st.plotly_chart(fig, key=f"map_chart_{dataset}_{family}_{z}", on_select="rerun",
                                selection_mode=("points", "box"))
    with side:
        if z == 2:
            manifold_panel(dataset, family, lm)
        selection_panel(dataset, family, z, lm, event)
    current_code = codes[[it.key for it in items].index(current.key)]
    neighbours_panel(dataset, lm, current_code)
    return z, lm


def _describe_settings(settings: MapSettings) -> str:
    if settings.method == "identity":
        return "the 2-D code itself, not projected"
    if settings.method == "pca":
        return "PCA projection"
    return f"UMAP · n_neighbors {settings.n_neighbors} · min_dist {settings.min_dist} · {settings.metric}"


def manifold_panel(dataset: str, family: str, lm: LatentMap) -> None:
    """Images decoded from evenly spaced points of a 2-D latent: what each place on the map means."""
    lo = tuple(np.percentile(lm.coords, 1, axis=0).round(3).tolist())
    hi = tuple(np.percentile(lm.coords, 99, axis=0).round(3).tolist())
    st.image(manifold_image(dataset, family, lo, hi), clamp=True, width="stretch",
             caption=f"Decoded manifold: {MANIFOLD_STEPS}×{MANIFOLD_STEPS} evenly spaced codes, "
                     "laid out as on the map (up is up)")


def selection_panel(dataset: str, family: str, z: int, lm: LatentMap, event) -> None:
    """The image behind a clicked dot and its reconstruction; or, on a 2-D latent, the decoded place."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if not points:
        st.caption("Click a dot (or, on a 2-D latent, anywhere) to look at it here.")
        return
    point = points[0]
    model = models_for(dataset, family)[z]
    custom = point.get("customdata")
    if custom is not None and len(custom) == 2:
        index, label = int(custom[0]), int(custom[1])
        image = reference_for(dataset).images[index].numpy().astype(np.float32) / 255.0
        recon = run_ladder({z: model}, image[None]).reconstructions[0, 0]
        left, right = st.columns(2)
        left.image(image, caption=f"held-out #{index}: {DATASETS[dataset].classes[label]}", width="stretch")
        right.image(recon, caption=f"its reconstruction at z = {z}", width="stretch")
    elif z == 2:
        code = np.array([[point["x"], point["y"]]], dtype=np.float32)
        decoded = decode_codes(model, code)[0]
        st.image(decoded, caption=f"decoded from ({point['x']:.2f}, {point['y']:.2f})", width=160)


def neighbours_panel(dataset: str, lm: LatentMap, code: np.ndarray) -> None:
    """The current input's 8 nearest held-out images in latent space."""
    st.markdown("**Its 8 nearest neighbours in latent space**")
    reference = reference_for(dataset)
    cells = st.columns(8)
    for cell, row in zip(cells, lm.neighbours(code, 8)):
        index = int(lm.indices[row])
        cell.image(reference.images[index].numpy(),
                   caption=DATASETS[dataset].classes[int(lm.labels[row])], width="stretch")


def bottleneck_maps_section(dataset: str, items: list[InputItem], current: InputItem) -> None:
    """Small maps of the convolutional ladder at 2, 8 and 32, the current input placed on each."""
    st.subheader("How the map changes with the bottleneck")
    st.caption("The same held-out images in the latent space of the convolutional autoencoder at three sizes, "
               "coloured by class as on the map above; the yellow star is your input. With 2 numbers the "
               "classes overlap; with more they pull apart. The 2-D one is drawn as it is.")
    dims = [z for z in SMALL_MAP_SIZES if z in family_latent_dims(dataset, "conv")]
    batch = current.prepared.image[None].astype(np.float32)
    cells = st.columns(len(dims) + 1)
    for cell, z in zip(cells[1:], dims):
        lm = default_map_for(dataset, "conv", z)
        placed = lm.place(codes_cached(dataset, "conv", z, batch))
        with cell, st.container(key=f"small_map_{z}"):
            st.markdown(f"**z = {z}**" + (" (raw 2-D code)" if z == 2 else " (UMAP)"))
            st.image(small_map_picture(dataset, z).with_stars(placed), width="stretch",
                     caption=f"{len(lm.labels):,} held-out images")
    with cells[0]:
        st.markdown("**z = 2, decoded**")
        manifold_panel(dataset, "conv", default_map_for(dataset, "conv", 2))


@st.cache_resource(show_spinner=False)
def small_map_picture(dataset: str, latent_dim: int) -> MapPicture:
    """The conv model's default map at ``latent_dim`` drawn once per server; stars go on copies."""
    lm = default_map_for(dataset, "conv", latent_dim)
    return MapPicture.draw(lm.coords, lm.labels, CLASS_COLOURS)


# --- playing with codes ---------------------------------------------------------------------

def _gif_bytes(frames: np.ndarray, scale: int = 4) -> bytes:
    """(steps, 28, 28) in [0, 1] -> an animated GIF going there and back."""
    pictures = [Image.fromarray(enlarge(f, scale)) for f in np.concatenate([frames, frames[-2:0:-1]])]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=120, loop=0)
    return buffer.getvalue()


def _png_bytes(image: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def _endpoint_options(dataset: str) -> dict[str, np.ndarray]:
    """Every input of this session, then the first held-out image of each class."""
    options = {item.name: item.prepared.image for item in inputs().values()}
    reference = reference_for(dataset)
    for label, name in enumerate(DATASETS[dataset].classes):
        index = int(np.flatnonzero(reference.labels.numpy() == label)[0])
        options[f"held-out {name} (#{index})"] = reference.images[index].numpy().astype(np.float32) / 255.0
    return options


PLAYGROUND_TABS = ("Morph between two inputs", "Nudge the code")


@st.fragment
def playground_section(dataset: str, family: str, z: int, current: InputItem) -> None:
    """The morph and the code sliders, one tab each; the tab is kept in the URL (``?playground=``).

    Only the open tab runs and is on the page. Every element on the page costs the browser a
    re-render on each stroke, and the sixteen sliders alone were about 60 ms of it.
    """
    st.subheader("Play with the codes")
    morph, nudge = st.tabs(PLAYGROUND_TABS, key="playground", bind="query-params")
    if morph.open:
        with morph:
            interpolation_section(dataset, family, z, current)
    if nudge.open:
        with nudge:
            latent_sliders_section(dataset, family, current)


@st.fragment
def interpolation_section(dataset: str, family: str, z: int, current: InputItem) -> None:
    """A decoded morph between two inputs' codes, downloadable as a PNG strip and a GIF."""
    st.caption(f"Both inputs are encoded by the z = {z} model; the codes on the straight line between "
               "them are decoded. A smooth morph means the latent space is well organised between them.")
    options = _endpoint_options(dataset)
    names = list(options)
    others = [item.name for item in inputs().values() if item.key != current.key]
    # by default: from the current input to another of the visitor's, else to a held-out image of class 5
    default_end = others[-1] if others else names[len(inputs()) + 5]
    cols = st.columns([2, 2, 1])
    # keyed by the current input, so that "From" moves to a new current input instead of keeping the old one
    start = cols[0].selectbox("From", names, index=names.index(current.name),
                              key=f"morph_start_{dataset}_{current.key}")
    end = cols[1].selectbox("To", names, index=names.index(default_end), key=f"morph_end_{dataset}")
    steps = cols[2].slider("Steps", 3, 20, 10, key="morph_steps")
    frames = interpolate_images(models_for(dataset, family)[z], options[start], options[end], steps)
    strip = image_strip(frames, gap=1)
    with st.container(key="morph"):
        st.image(strip, width="stretch")
    strip = enlarge(strip, 4)  # the download: big enough for a slide
    down = st.columns(2)
    down[0].download_button("Download PNG strip", _png_bytes(strip), "morph.png", "image/png", key="morph_png")
    down[1].download_button("Download GIF", _gif_bytes(frames), "morph.gif", "image/gif", key="morph_gif")


@st.fragment
def latent_sliders_section(dataset: str, family: str, current: InputItem) -> None:
    """One slider per latent number (sizes up to 16): nudge the input's code and see the decoded image."""
    dims = [z for z in family_latent_dims(dataset, family) if z <= 16]
    if not dims:
        st.caption(f"The sliders need a code of 16 numbers or fewer; the {FAMILIES[family].lower()} models here have "
                   f"{', '.join(map(str, family_latent_dims(dataset, family)))}. Pick another family in the sidebar.")
        return
    st.caption("Each slider is one number of the input's code; it starts where the encoder put it and spans "
               "the range the held-out images use. Move one and watch what it controls.")
    top = st.columns([1, 3])
    z = top[0].selectbox("Latent size", dims, index=len(dims) - 1, key="nudge_latent")
    model = models_for(dataset, family)[z]
    code = codes_cached(dataset, family, z, current.prepared.image[None].astype(np.float32))[0]
    lm = default_map_for(dataset, family, z)
    lo, hi = np.percentile(lm.codes, 1, axis=0), np.percentile(lm.codes, 99, axis=0)
    digest = hashlib.sha1(current.prepared.image.tobytes()).hexdigest()[:10]
    if top[1].button("Reset to the input's code", key="nudge_reset"):
        for i in range(z):
            st.session_state.pop(f"nudge_{dataset}_{family}_{z}_{i}_{digest}", None)
    sliders, result = st.columns([3, 1])
    nudged = code.copy()
    with sliders:
        grid = st.columns(4)
        for i in range(z):
            low, high = float(min(lo[i], code[i])), float(max(hi[i], code[i]))
            nudged[i] = grid[i % 4].slider(f"z[{i}]", low, high, float(code[i]), step=(high - low) / 100 or 0.01,
                                           format="%.2f", key=f"nudge_{dataset}_{family}_{z}_{i}_{digest}")
    with result:
        pair = decode_codes(model, np.stack([code, nudged]))
        st.image(pair[0], caption="decoded from the input's code", width="stretch")
        st.image(pair[1], caption="decoded from the nudged code", width="stretch")


def recompute_map_section(dataset: str, family: str, z: int) -> None:
    """Other UMAP settings, or PCA, for the main map: computed on demand, cached for everyone."""
    if z == 2:
        return
    with st.expander("Recompute the map with other settings"):
        with st.form(key="map_form"):
            cols = st.columns(4)
            method = cols[0].radio("Projection", ["umap", "pca"], format_func=str.upper, key="map_method")
            n_neighbors = cols[1].slider("n_neighbors", 5, 100, 15, key="map_n_neighbors",
                                         help="UMAP: larger keeps more of the global layout")
            min_dist = cols[2].slider("min_dist", 0.0, 0.99, 0.1, key="map_min_dist",
                                      help="UMAP: smaller packs similar images more tightly")
            metric = cols[3].selectbox("metric", list(METRICS), key="map_metric")
            submitted = st.form_submit_button("Recompute", type="primary")
        keyed = (dataset, family, z)
        chosen = st.session_state.setdefault("map_settings", {})
        if submitted:
            settings = MapSettings(method=method, n_neighbors=n_neighbors, min_dist=float(min_dist), metric=metric)
            with st.status(f"Recomputing the z = {z} map…", expanded=True) as status:
                n = len(default_map_for(dataset, family, z).labels)
                st.write(f"Fitting UMAP to the codes of {n:,} held-out images in a background process (seconds; "
                         "in the first minute after the server starts, UMAP is still compiling there and the "
                         "first fit waits for it)." if method == "umap" else
                         f"Fitting PCA to the codes of {n:,} held-out images (a second or two).")
                started = time.perf_counter()
                custom_map_for(dataset, family, z, settings)
                status.update(label=f"Map recomputed in {time.perf_counter() - started:.1f} s", state="complete",
                              expanded=False)
            chosen[keyed] = settings
            st.rerun()
        if keyed in chosen and st.button("Back to the precomputed map", key="map_reset"):
            chosen.pop(keyed)
            st.rerun()


@st.cache_resource(show_spinner=False)
def map_fitter() -> MapFitter:
    """One worker process per server that fits recomputed UMAP maps, warmed up when the server starts."""
    return MapFitter(warm_up=True)


def warm_up_umap() -> None:
    """Start the map fitter (and so its warm-up) once the first page is out."""
    map_fitter()
