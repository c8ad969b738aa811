"""What the server loads once and shares read-only between sessions, and results cached by their inputs.

Every ``st.cache_resource`` and ``st.cache_data`` of the page is here, so that what is
computed once per server (and what each visitor's run merely looks up) can be read in one place.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import streamlit as st

from ae_demo import anomaly, corruption, generation, identity, inference, rooms
from ae_demo.datasets import DATASETS
from ae_demo.device import pick_device
from ae_demo.display import InlinePictures, MapPicture, png_bytes, png_data_uri
from ae_demo.inference import LadderCache, decode_grid, load_family
from ae_demo.live_training import LiveTrainer
from ae_demo.map_fitter import MapFitter
from ae_demo.maps import LatentMap, load_map, refit_map
from ae_demo.memory import Collector, freeze_and_collect
from ae_demo.metrics import unit_activations
from ae_demo.own_lab import OwnLab, register_own
from ae_demo.own_training import OwnTrainer
from ae_demo.projection import MapSettings
from ae_demo.view import InputsView, compute_view
from ae_demo.zoo import Zoo, load_verified_reference, model_name, read_zoo

from . import charts, i18n, theme

MANIFOLD_STEPS = 15      # decoded manifold: a 15x15 grid of latent points


@st.cache_resource(show_spinner=False)
def zoo() -> Zoo:
    """The card (pretrained/manifest.json), read once per server."""
    return read_zoo()


@st.cache_resource(show_spinner="Loading the pretrained models…")
def models_for(dataset: str, family: str):
    """latent_dim -> model on the best device; shared by every session."""
    return load_family(dataset, family, pick_device())


@st.cache_resource(show_spinner="Measuring how well each net copies what it was not trained on…")
def copy_errors_for(dataset: str) -> tuple[list[identity.CopyErrors], float, int]:
    """The unconstrained net beside the constrained ones (``identity.copy_errors`` on the bundled held-out
    images), the share of its noise error on the never-inked pixels, and how many pixels those are."""
    rows = identity.copy_errors(dataset, load_verified_reference(dataset).images)
    mask = identity.never_inked(dataset)
    model = identity.compared_models(dataset)[rows[-1].model]
    share = identity.error_share(model, identity.non_members(dataset)["noise"], mask) if mask.any() else 0.0
    return rows, share, int(mask.sum())


@st.cache_resource(show_spinner=False)
def identity_probes(dataset: str) -> dict[str, np.ndarray]:
    """kind -> (28, 28) float32: the drawn letter, the noise and the other dataset's image the section shows."""
    return identity.probe_images(dataset)


@st.cache_resource(show_spinner=False)
def identity_models(dataset: str) -> dict:
    """model name -> model, for ``identity.COMPARED`` on ``dataset``."""
    return identity.compared_models(dataset)


@dataclass(frozen=True)
class Reference:
    """A dataset's bundled held-out images, made float once for every section that shows them."""

    images: np.ndarray   # (N, 28, 28) float32 in [0, 1]
    labels: np.ndarray   # (N,) int64
    classes: tuple[str, ...]

    def name(self, row: int) -> str:
        return self.classes[int(self.labels[row])]


@st.cache_resource(show_spinner=False)
def own_trainer() -> OwnTrainer:
    """The server's one trainer of teachers' own pictures (one training at a time, the rest queued)."""
    return OwnTrainer()


@st.cache_resource(show_spinner="Loading the dataset's models…", max_entries=8)
def own_lab(dataset_id: str) -> OwnLab:
    """A teacher's dataset with its models, checked against its card; registered with the datasets."""
    lab = OwnLab(dataset_id)
    register_own(lab.dataset)
    return lab


@st.cache_resource(show_spinner=False)
def reference_for(dataset: str) -> Reference:
    """The bundled held-out images and labels of ``dataset``, checked against the card."""
    split = load_verified_reference(dataset)
    return Reference(split.images.numpy().astype(np.float32) / 255.0, split.labels.numpy(),
                     tuple(DATASETS[dataset].classes))


@st.cache_resource(show_spinner=False, max_entries=512)   # ~20 KB a ladder row: 10 MB at most
def rendered_html(key: str, _make: Callable[[], str]) -> str:
    """The HTML block that ``key`` names (a digest of what it shows), made by ``_make()`` the first time;
    shared by every session, so the run that repeats a picture does not encode it again.
    (``_make`` is left out of the cache key: Streamlit does not hash arguments named with a leading _.)"""
    return _make()


@st.cache_resource(show_spinner=False)
def heldout_pictures(dataset: str) -> InlinePictures:
    """The held-out images of ``dataset`` as inline PNGs, each encoded once per server (the neighbours strip)."""
    return InlinePictures(reference_for(dataset).images)


@st.cache_resource(show_spinner=False)
def _ladder_cache(dataset: str, family: str) -> LadderCache:
    return LadderCache(models_for(dataset, family))


@st.cache_resource(show_spinner=False)
def _pca_ladder_cache(dataset: str, family: str) -> LadderCache:
    """PCA at the sizes ``family`` has, so the two ladders line up column for column."""
    pca = models_for(dataset, "pca")
    return LadderCache({z: pca[z] for z in zoo().latent_dims(dataset, family)})


@st.cache_resource(show_spinner="Loading the map…")
def default_map_for(dataset: str, family: str, latent_dim: int) -> LatentMap:
    """The precomputed map (or the 2-D code itself) of one model, shared by every session."""
    return load_map(model_name(family, latent_dim, dataset))


@st.cache_data(show_spinner=False, max_entries=32)
def custom_map_for(dataset: str, family: str, latent_dim: int, settings: MapSettings) -> LatentMap:
    """A map recomputed with other settings from the default map's codes; cached for every session that asks."""
    return refit_map(default_map_for(dataset, family, latent_dim), settings, fit=map_fitter().fit)


def chosen_map(dataset: str, family: str, latent_dim: int, recomputed: MapSettings | None) -> LatentMap:
    """The default map, or the one recomputed with ``recomputed`` (None: the default)."""
    if recomputed is None:
        return default_map_for(dataset, family, latent_dim)
    return custom_map_for(dataset, family, latent_dim, recomputed)


def inputs_view(dataset: str, family: str, images: np.ndarray,
                on_maps: Mapping[int, MapSettings | None] | None = None) -> InputsView:
    """Everything the page shows about (B, 28, 28) float32 inputs for ``family``, placed on a map of each latent
    size in ``on_maps`` (size -> the settings a visitor recomputed that map with, None: the precomputed one)."""
    maps = {z: chosen_map(dataset, family, z, recomputed) for z, recomputed in (on_maps or {}).items()}
    return compute_view(*ladder_caches(dataset, family), maps, images)


MAP_HEIGHT_PX = 560
MAP_THUMBNAILS = 120


@st.cache_resource(show_spinner=False, max_entries=64)
def map_base_figure(dataset: str, family: str, latent_dim: int, recomputed: MapSettings | None,
                    thumbnails: bool, language: str = i18n.SOURCE_LANGUAGE) -> dict:
    """The main map's shared part (every held-out dot, the layout) as Plotly's dict, built once per server and
    language (its class names and hover texts in that language).

    ``recomputed``: the settings of a recomputed map, None for the default one (``chosen_map``).
    """
    lm = chosen_map(dataset, family, latent_dim, recomputed)
    reference = reference_for(dataset)
    grid = None
    if lm.drawn_as_code:  # a 2-D code: a click anywhere decodes that place
        lo, hi = lm.bounds()
        grid = np.stack(np.meshgrid(np.linspace(lo[0], hi[0], 40), np.linspace(lo[1], hi[1], 40)), -1).reshape(-1, 2)
    return charts.map_base(lm, reference.classes, reference.images, theme.CLASS_COLOURS, MAP_HEIGHT_PX,
                           thumbnails=MAP_THUMBNAILS if thumbnails else 0, grid=grid, say=i18n.fixed(language))


@st.cache_resource(show_spinner=False, max_entries=64)
def main_map_picture(dataset: str, family: str, latent_dim: int, recomputed: MapSettings | None
                     ) -> tuple[MapPicture, str]:
    """The main map as a picture and its PNG data URI, drawn once per server (``recomputed``: ``chosen_map``)."""
    lm = chosen_map(dataset, family, latent_dim, recomputed)
    picture = MapPicture.draw(lm.coords, lm.labels, theme.CLASS_COLOURS, background=theme.BACKGROUND,
                              size=theme.MAIN_MAP_PX, point_radius=2.4)
    return picture, png_data_uri(picture.pixels)


@st.cache_resource(show_spinner=False)
def error_chart_base(dataset: str, language: str = i18n.SOURCE_LANGUAGE) -> dict:
    """The error chart's held-out lines (every ladder family and PCA, from the cards), built once per server and
    language."""
    return charts.error_chart_base(zoo(), dataset, say=i18n.fixed(language))


@st.cache_resource(show_spinner=False, max_entries=64)
def manifold_png(dataset: str, family: str, lo: tuple, hi: tuple) -> bytes:
    """A MANIFOLD_STEPS² grid of 2-D codes spanning lo..hi, decoded, as the bytes of one PNG
    (rows*28 x cols*28): encoded once, so that st.image only names it on each run."""
    return png_bytes(decode_grid(models_for(dataset, family)[2], lo, hi, MANIFOLD_STEPS))


@st.cache_resource(show_spinner=False)
def small_map_picture(dataset: str, latent_dim: int) -> tuple[MapPicture, str]:
    """The conv model's default map at ``latent_dim`` drawn and encoded (a PNG data URI) once per server;
    stars are laid over it (``MapPicture.stars_svg``)."""
    lm = default_map_for(dataset, "conv", latent_dim)
    picture = MapPicture.draw(lm.coords, lm.labels, theme.CLASS_COLOURS, background=theme.BACKGROUND)
    return picture, png_data_uri(picture.pixels)


@st.cache_resource(show_spinner=False)
def map_fitter() -> MapFitter:
    """One worker process per server that fits recomputed UMAP maps, warmed up as the server starts."""
    return MapFitter(warm_up=True)


def ladder_caches(dataset: str, family: str) -> tuple[LadderCache, LadderCache]:
    """``family``'s ladder and PCA's at the same sizes, each shared by the whole server."""
    return _ladder_cache(dataset, family), _pca_ladder_cache(dataset, family)


def compile_ladders(dataset: str, family: str) -> list[threading.Thread]:
    """The ladders of ``dataset`` / ``family`` become one graph each, in the background, once per server
    (``LadderCache.compile_in_background``); returns the compiling threads. Called after every whole page
    (a no-op once started) and by ``ui.warm_start``, which waits for the default ones."""
    return [thread for cache in ladder_caches(dataset, family) if (thread := cache.compile_in_background())]


@st.cache_resource(show_spinner=False)
def unit_features(dataset: str, family: str, hidden: int) -> np.ndarray:
    """(hidden, 28, 28) x = W_i/‖W_i‖ of a sparse net's shipped weights (ui.features)."""
    return inference.unit_features(models_for(dataset, family)[hidden])


@st.cache_resource(show_spinner=False)
def mean_activations(dataset: str, family: str, hidden: int) -> np.ndarray:
    """(hidden,) ρ̂_j of a sparse net: each unit's mean activation over the bundled held-out images."""
    return unit_activations(models_for(dataset, family)[hidden], reference_for(dataset).images)


@st.cache_resource(show_spinner=False)
def memory_collector() -> Collector:
    """Once per server, after the first whole page has loaded what sessions share: see ``ae_demo.memory``."""
    return freeze_and_collect()


@st.cache_resource(show_spinner=False)
def room_store() -> rooms.RoomStore:
    """The class rooms of this server: in its memory, or in Redis shared by every replica when REDIS_URL is set."""
    return rooms.open_store()


# ----------------------------------------------------------------------------- the classroom demos

@st.cache_resource(show_spinner=False)
def live_trainer() -> LiveTrainer:
    """The one live training of the server (ui.demos.learn_live): a second Start gets a Busy answer."""
    return LiveTrainer(epochs=40, max_seconds=120.0)


@st.cache_resource(show_spinner="Loading the convolutional and the denoising autoencoder…")
def denoising_pair(dataset: str):
    """(conv_z32_<dataset>, dae_z32_<dataset>) on the CPU."""
    return corruption.load_denoising_pair(dataset)


@st.cache_resource(show_spinner="Measuring both nets on noisy held-out images (once per server)…")
def denoising_curve(dataset: str) -> corruption.DenoisingCurve:
    """Held-out error of both nets over σ: about 2,400 passes, once per server."""
    return corruption.denoising_curve(dataset, pair=denoising_pair(dataset))


@st.cache_resource(show_spinner=False)
def anomaly_references(dataset: str) -> anomaly.AnomalyReferences:
    """The conv ladder's held-out error quantiles and AUCs (pretrained/anomaly.json)."""
    return anomaly.load_references(dataset)


@st.cache_resource(show_spinner=False)
def unprocessed_error_reference(dataset: str) -> anomaly.ErrorReference:
    """The anomaly demo's model's errors on the reference's held-out images (the bundled sample's even rows) as
    the page runs them, not preprocessed (``anomaly.unprocessed_reference``): what a class room's drawings are
    scored against, from the pass their page already made. Computed once per server (one model, ~1,000 images)."""
    references = anomaly_references(dataset)
    model = models_for(dataset, "conv")[references.default_latent_dim]
    images = reference_for(dataset).images[0::2][:anomaly.REFERENCE_IMAGES]
    return anomaly.unprocessed_reference(model, images, references.default.model)


@st.cache_resource(show_spinner="Loading the VAE and the plain autoencoder…")
def generators(dataset: str, latent_dim: int):
    """(VAE, its map, conv model, its map) of ``latent_dim`` (2 or 16)."""
    return generation.load_generators(dataset, latent_dim)


@st.cache_data(show_spinner=False, max_entries=64)
def generated(dataset: str, latent_dim: int, seed: int) -> generation.Generated:
    """16 prior samples of the VAE and 16 random codes of the plain model, decoded; cached by seed."""
    return generation.generate(*generators(dataset, latent_dim), seed=seed)


@st.cache_resource(show_spinner=False)
def code_maps_2d(dataset: str) -> generation.CodeMaps2D:
    vae, vae_map, conv, conv_map = generators(dataset, 2)
    return generation.code_maps_2d(vae_map, conv_map)


@st.cache_resource(show_spinner=False)
def live_loss_floor(dataset: str) -> float:
    """The lowest loss Watch it learn's training can reach on its training images (metrics.cross_entropy_floor)."""
    from ae_demo.live_child import live_data
    from ae_demo.metrics import cross_entropy_floor

    return cross_entropy_floor(live_data(dataset)[0])
