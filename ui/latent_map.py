"""The main map: thousands of held-out images in the model's latent space, the visitor's inputs on it."""
from __future__ import annotations

import base64
import collections
import hashlib
import html
import time

import numpy as np
import streamlit as st

from ae_demo.display import MapPicture
from ae_demo.inference import decode_codes
from ae_demo.maps import LatentMap
from ae_demo.projection import METRICS, MapSettings
from ae_demo.view import InputsView, MapView
from ae_demo.datasets import DATASETS

from . import charts, exports, i18n, rerun, resources, state, theme
from .i18n import N_, _
from .pictures import Picture, picture_grid
from .resources import MANIFOLD_STEPS


def describe_settings(settings: MapSettings) -> str:
    if settings.method == "identity":
        return _("the 2-D code itself, not projected")
    if settings.method == "pca":
        return _("PCA projection")
    return f"UMAP · n_neighbors {settings.n_neighbors} · min_dist {settings.min_dist} · {settings.metric}"


def explain_settings(settings: MapSettings) -> str:
    """The map header's tooltip: its settings in plain words."""
    if settings.method == "identity":
        return _("The code has 2 numbers: each dot is drawn at its code, nothing is projected.")
    if settings.method == "pca":
        return _("PCA: the codes projected onto their two directions of largest spread, a linear view that keeps "
                 "distances along those two directions.")
    return _("UMAP squeezes the {metric} distances between codes into 2-D. n_neighbors {n_neighbors}: each code's "
             "neighbourhood is its {n_neighbors} nearest codes (more: a more global picture). min_dist {min_dist}: "
             "how close dots may be packed (smaller: tighter clumps). {metric_says} UMAP keeps who is near whom; "
             "the distances between clusters and their sizes mean little."
             ).format(metric=settings.metric, n_neighbors=settings.n_neighbors, min_dist=settings.min_dist,
                      metric_says=_(METRIC_SAYS[settings.metric]) if settings.metric in METRIC_SAYS else "")


# each of projection.METRICS in plain words, for the map header's tooltip
METRIC_SAYS = {"euclidean": N_("euclidean: the straight-line distance between codes."),
               "cosine": N_("cosine: the angle between codes, whatever their lengths."),
               "manhattan": N_("manhattan: the differences summed code number by code number."),
               "correlation": N_("correlation: how alike the rises and falls of two codes' numbers are.")}


def map_latent(dataset: str, family: str) -> int:
    """The latent size of the mapped model, chosen on the page (the dataset's default model's where ``family``
    has it)."""
    dims = resources.zoo().latent_dims(dataset, family)
    if state.widget(state.MAP_LATENT) not in dims:
        default = DATASETS[dataset].default_model.latent_dim
        state.set_widget(state.MAP_LATENT, default if default in dims else dims[-1])
    return state.widget(state.MAP_LATENT)


def latent_map_section(dataset: str, family: str, view: InputsView, items: list[state.InputItem],
                       column: int) -> None:
    """The main map with every input placed on it, the decoded manifold of a 2-D code, a clicked dot, neighbours.

    Part of the workbench (a stroke reruns it): the map is a picture drawn once per server with the
    inputs' stars laid over it, so a star moves with the ladder. The interactive Plotly chart (hover,
    zoom, click a dot) is one switch away; it costs the browser a redraw of every dot on each stroke.
    ``view`` holds the inputs' positions on the map (``view.maps[z]``).
    """
    dims = resources.zoo().latent_dims(dataset, family)
    st.subheader(_("Where your input lands among real images"))
    st.caption(_("Each dot is a held-out image, encoded by the model and laid out in 2-D so that images with "
                 "similar codes sit close together (UMAP; the distances between clusters and the clusters' sizes "
                 "mean little in such a layout). Stars are your inputs (yellow: the current one), placed by their "
                 "nearest codes without moving any dot, so a star always lands among existing dots: a letter seems "
                 "to belong to some class. Switch on the interactive map to hover, zoom and click a dot; on a 2-D "
                 "latent, to click anywhere and decode that place."))
    top = st.columns([2, 1, 1])
    z = top[0].select_slider(_("Latent size of the mapped model"), dims, key=state.MAP_LATENT,
                             on_change=rerun.mark_page_due)
    interactive = top[1].toggle(_("Interactive map"), key="map_interactive",
                                help=_("Hover, zoom and click the dots (a Plotly chart, heavier to redraw on each "
                                       "stroke)"))
    thumbnails = top[1].toggle(_("Thumbnails on the map"), key="map_thumbnails", disabled=not interactive)
    on_map: MapView = view.maps[z]
    lm = on_map.latent_map
    top[2].caption(_("{count} held-out points · {settings}").format(count=i18n.integer(len(lm.labels)),
                                                                     settings=describe_settings(lm.settings)),
                   help=explain_settings(lm.settings))
    order = [i for i in range(len(items)) if i != column] + [column]  # the current input last, drawn on top
    names = [items[i].name for i in order]
    reference = resources.reference_for(dataset)
    recomputed = state.visitor().recomputed_map(dataset, family, z)
    event = None
    map_column, side = st.columns([3, 2] if lm.drawn_as_code else [5, 2], gap="medium")
    with map_column:
        with st.container(key="latent_map"):
            if interactive:
                fig = charts.assemble(resources.map_base_figure(dataset, family, z, recomputed, bool(thumbnails),
                                                                 i18n.language()),
                                      charts.map_stars(on_map.placed[order], names))
                event = st.plotly_chart(fig, key=f"map_chart_{dataset}_{family}_{z}", on_select="rerun",
                                        selection_mode=("points", "box"),
                                        config=exports.chart_config(f"map-{family}-z{z}"))
            else:
                shown = hashlib.sha1(items[column].prepared.image.tobytes()).hexdigest()[:12]
                _map_picture(dataset, family, z, recomputed, on_map.placed[order], names, shown)
        exports.map_csv_download(lm, reference.classes, f"map-{dataset}-{family}-z{z}.csv", key="map_csv")
    with side:
        if lm.drawn_as_code:
            manifold_panel(dataset, family, lm)
        selection_panel(dataset, family, z, lm, event)
    neighbours_panel(dataset, lm, on_map.neighbours[column])


def _map_picture(dataset: str, family: str, z: int, recomputed: MapSettings | None, placed: np.ndarray,
                 names: list[str], shown: str) -> None:
    """The map as a picture (drawn and encoded once per server) with a star per input laid over it, and a legend.

    placed (M, 2) and names (M,): the inputs, the current one last. The stars' <img> names them in its alt text
    and carries ``shown`` (a digest of the current input's picture) as ``data-input``: a slightly different
    drawing can land on the very same spot, and a browser test or benchmark still knows the map has followed.
    """
    picture, uri = resources.main_map_picture(dataset, family, z, recomputed)
    classes = resources.reference_for(dataset).classes
    legend = "".join(f'<span class="ae-key"><i style="background: {theme.CLASS_COLOURS[k]}"></i>'
                     f'{html.escape(_(name))}</span>' for k, name in enumerate(classes))
    alt = _("z = {z} map of the held-out images, one colour per class, each class named at its centre")
    current = html.escape(_("your input: {name}").format(name=names[-1]))
    st.html(starred_picture(picture, uri, placed, alt.format(z=z),
                            "; ".join(_("your input · {name}").format(name=name) for name in names),
                            f'<figcaption class="ae-legend">{legend}<span class="ae-key"><b class="ae-star-key">★</b>'
                            f'{current}</span></figcaption>',
                            classes, css="ae-map ae-main-map", shown=shown))


def starred_picture(picture: MapPicture, uri: str, placed: np.ndarray, alt: str, stars_alt: str, caption: str,
                    classes: tuple[str, ...], css: str = "ae-map", shown: str = "") -> str:
    """HTML: a map picture (``uri``, encoded once per server) with each class's name at its centre and a star on
    each of (M, 2) ``placed`` laid over it, then ``caption`` (a <figcaption>). The names are text in the
    visitor's language (the picture's alt text says they are there, so a screen reader skips them); the stars
    are an SVG of a few hundred bytes in an <img> (st.html keeps pictures but strips inline SVG); ``shown``,
    when given, goes on it as ``data-input``."""
    stars = base64.b64encode(picture.stars_svg(placed, theme.STAR_COLOURS, theme.STAR_OUTLINE).encode()).decode()
    marker = f' data-input="{shown}"' if shown else ""
    size = picture.pixels.shape[0]
    # a name near the picture's edge moves in a little, so that less of it is cut off
    spots = [(label, min(max(100 * x / size, 12), 88), min(max(100 * y / size, 4), 96))
             for label, x, y in picture.class_centres if label < len(classes)]
    names = "".join(f'<span class="ae-map-label" aria-hidden="true" style="left: {x:.1f}%; top: {y:.1f}%">'
                    f"{html.escape(_(classes[label]))}</span>" for label, x, y in spots)
    return (f'<figure class="{css}"><div class="ae-map-frame"><img src="{uri}" alt="{html.escape(alt)}">{names}'
            f'<img class="ae-stars" src="data:image/svg+xml;base64,{stars}" alt="{html.escape(stars_alt)}"{marker}>'
            f'</div>{caption}</figure>')


def manifold_panel(dataset: str, family: str, lm: LatentMap) -> None:
    """Images decoded from evenly spaced points of a 2-D latent: what each place on the map means."""
    lo, hi = (tuple(b.round(3).tolist()) for b in lm.bounds())
    st.image(resources.manifold_png(dataset, family, lo, hi), width="stretch",
             caption=_("Decoded manifold: {steps}×{steps} evenly spaced codes, laid out as on the map (up is up), "
                       "spanning the 1st to the 99th percentile of the held-out codes on each axis")
             .format(steps=MANIFOLD_STEPS),
             alt=_("{steps}×{steps} grid of images decoded from evenly spaced 2-D codes from {low} to {high}")
             .format(steps=MANIFOLD_STEPS, low=_place(lo), high=_place(hi)))


def selection_panel(dataset: str, family: str, z: int, lm: LatentMap, event) -> None:
    """The image behind a clicked dot and its reconstruction; or, on a 2-D code's map, the decoded place."""
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    if not points:
        st.caption(_("Click a dot (or, on a 2-D latent, anywhere) to look at it here.") if event is not None else
                   _("Switch on the interactive map to click a dot (or, on a 2-D latent, anywhere) and look at it "
                     "here."))
        return
    point = points[0]
    model = resources.models_for(dataset, family)[z]
    custom = point.get("customdata")
    if custom is not None and len(custom) == 2:
        index, label = int(custom[0]), int(custom[1])
        reference = resources.reference_for(dataset)
        row = int(np.flatnonzero(lm.indices == index)[0])
        left, right = st.columns(2)
        said = dict(index=index, name=_(reference.classes[label]), z=z)
        left.image(reference.images[index], caption=_("held-out #{index}: {name}").format(**said), width="stretch",
                   alt=_("held-out image #{index}, of class {name}").format(**said))
        # decoded from the code the map holds for it: the code its dot was placed by
        right.image(decode_codes(model, lm.codes[row][None])[0], caption=_("its reconstruction at z = {z}")
                    .format(**said), width="stretch",
                    alt=_("reconstruction of held-out image #{index} at z = {z}").format(**said))
    elif lm.drawn_as_code:
        decoded = decode_codes(model, np.array([[point["x"], point["y"]]], dtype=np.float32))[0]
        place = _place((point['x'], point['y']))
        st.image(decoded, caption=_("decoded from {place}").format(place=place), width=160,
                 alt=_("image decoded from the 2-D code {place}").format(place=place))


def _place(code) -> str:
    """A point of a 2-D code as the page writes it: (−1.23, 4.56)."""
    return f"({i18n.number(float(code[0]), 2)}, {i18n.number(float(code[1]), 2)})"


def neighbours_panel(dataset: str, lm: LatentMap, rows: np.ndarray) -> None:
    """The current input's nearest held-out images in latent space (``rows`` of the map, nearest first).

    One HTML strip of pictures encoded once per server (``resources.heldout_pictures``): the
    neighbours change with every input, the pictures they are drawn from do not.
    """
    reference = resources.reference_for(dataset)
    pictures, cells = resources.heldout_pictures(dataset), []
    for rank, row in enumerate(rows, 1):
        index, name = int(lm.indices[row]), _(reference.classes[int(lm.labels[row])])
        cells.append(Picture(pictures.uri(index),
                                   _("neighbour {rank}: held-out #{index}, {name}").format(rank=rank, index=index,
                                                                                           name=name), name))
    # the map's gist in words, for a screen reader: the classes around the input
    counts = collections.Counter(_(reference.classes[int(lm.labels[row])]) for row in rows)
    around = _(", ").join(f"{name} ×{count}" for name, count in counts.most_common())
    with st.container(key="neighbours"):  # the heading in the same element: one update fewer a stroke
        heading = _("<p><strong>Its {count} nearest neighbours in latent space</strong> (held-out images, nearest "
                    "first): {classes}</p>").format(count=len(rows), classes=html.escape(around))
        st.html(heading + picture_grid("ae-strip", cells, _("nearest neighbours, nearest first")))


def recompute_map_section(dataset: str, family: str, z: int, lm: LatentMap) -> None:
    """Other UMAP settings, or PCA, for the main map: computed on demand, cached for everyone."""
    if lm.drawn_as_code:
        return
    with st.expander(_("Recompute the map with other settings")):
        with st.form(key="map_form"):
            cols = st.columns(4)
            method = cols[0].radio(_("Projection"), ["umap", "pca"], format_func=str.upper, key="map_method")
            n_neighbors = cols[1].slider("n_neighbors", 5, 100, 15, key="map_n_neighbors",
                                         help=_("UMAP: larger keeps more of the global layout"))
            min_dist = cols[2].slider("min_dist", 0.0, 0.99, 0.1, key="map_min_dist",
                                      help=_("UMAP: smaller packs similar images more tightly"))
            metric = cols[3].selectbox("metric", list(METRICS), key="map_metric")
            submitted = st.form_submit_button(_("Recompute"), type="primary")
        if submitted:
            settings = MapSettings(method=method, n_neighbors=n_neighbors, min_dist=float(min_dist), metric=metric)
            with st.status(_("Recomputing the z = {z} map…").format(z=z), expanded=True) as status:
                n = i18n.integer(len(lm.labels))
                st.write(_("Fitting UMAP to the codes of {count} held-out images in a background process (seconds; "
                           "in the first minute after the server starts, UMAP is still compiling there and the "
                           "first fit waits for it).").format(count=n) if method == "umap" else
                         _("Fitting PCA to the codes of {count} held-out images (a second or two).").format(count=n))
                started = time.perf_counter()
                resources.custom_map_for(dataset, family, z, settings)
                status.update(label=_("Map recomputed in {seconds} s").format(
                    seconds=i18n.number(time.perf_counter() - started)), state="complete", expanded=False)
            state.visitor().set_recomputed_map(dataset, family, z, settings)
            st.rerun()
        if state.visitor().recomputed_map(dataset, family, z) is not None and st.button(_("Back to the precomputed map"),
                                                                             key="map_reset"):
            state.visitor().set_recomputed_map(dataset, family, z, None)
            st.rerun()
