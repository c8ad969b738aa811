"""Your own images: the upload panel (``own_data``), the training's progress, and the lab on a finished dataset.

"Your own images" in the sidebar's dataset picker opens the panel; ``?dataset=<id>`` opens a
finished dataset (``&key=<owner key>`` adds its delete button). The reading, training and
every number shown are computed in ``ae_demo`` (``image_sets``, ``own_training``, ``own_lab``).
"""
from __future__ import annotations

import hashlib
from functools import partial

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from ae_demo.image_sets import (MAX_ARCHIVE_UPLOAD_MB, MAX_IMAGES, MAX_TOTAL_BYTES, MIN_IMAGES, SIZES, ArchiveError,
                                read_image_set)
from ae_demo.own_data import ID_PATTERN, OwnDataError, delete_dataset
from ae_demo.own_lab import UNUSUAL_PERCENTILE, error_display, to_display
from ae_demo.preprocess import MAX_UPLOAD_BYTES, InputError

from . import i18n, network, resources, state, theme
from .exports import page_url
from .i18n import N_, _

OWN = "own"            # the picker's value for "Your own images"
PREVIEW = 48           # pictures in the preview grid
TILE_PX = 72           # a picture's width on the page
# what the training worker reports (own_training's progress stages and a job's end), in words
STAGES = {"PCA": N_("PCA"), "training": N_("training"), "maps": N_("maps"), "anomaly": N_("anomaly references"),
          "saving": N_("saving")}
ENDS = {"failed": N_("The training failed."), "cancelled": N_("The training was cancelled."),
        "unknown": N_("The training is unknown to this server (it may have restarted).")}
COLOURS = {"grey": N_("grey"), "colour": N_("colour")}


def is_own(dataset: str) -> bool:
    """The panel, or a teacher's dataset: the page shows these instead of the zoo's sections."""
    return dataset == OWN or bool(ID_PATTERN.match(dataset))


def open_from_url(dataset_id: str | None) -> str | None:
    """Load and register ``?dataset=<id>`` when it is a teacher's dataset; its id, or None (with a message)."""
    if not dataset_id or not ID_PATTERN.match(dataset_id):
        return None
    try:
        resources.own_lab(dataset_id)
    except OwnDataError as error:
        st.sidebar.error(i18n.error_text(error))
        return None
    state.visitor().open_own(dataset_id)
    return dataset_id


def own_page(dataset: str) -> None:
    if dataset == OWN:
        upload_panel()
    else:
        lab_page(dataset)


# ------------------------------------------------------------------------------ the panel

def _read(files, size: int, colour: bool):
    """The uploads read into an ImageSet, kept for this visitor while the files and settings stay the same."""
    signature = hashlib.sha1(repr(([(f.file_id, f.size) for f in files], size, colour)).encode()).hexdigest()
    kept = state.visitor().own_read
    if kept and kept[0] == signature:
        return kept[1]
    with st.spinner(_("Reading the pictures…")):
        found = read_image_set([(f.name, f.getvalue()) for f in files], size=size, colour=colour)
    state.visitor().own_read = (signature, found)
    return found


def upload_panel() -> None:
    with st.container(key=state.OWN_DATA):
        st.subheader(_("Your own images"))
        st.caption(_("Upload a ZIP of pictures, or many picture files. Sub-folders of the ZIP are classes "
                     "(leaves/oak/…, leaves/maple/…); without sub-folders there are no classes. At least {low} "
                     "pictures; above {high}, a random {high} are used. Up to {mb} MB a file.").format(
                         low=MIN_IMAGES, high=i18n.integer(MAX_IMAGES), mb=MAX_ARCHIVE_UPLOAD_MB))
        files = st.file_uploader(_("Pictures or a ZIP"), accept_multiple_files=True, key=state.OWN_DATA_UPLOAD,
                                 max_upload_size=MAX_ARCHIVE_UPLOAD_MB,
                                 help=_("Up to {mb} MB per file; a ZIP may hold up to {total} MB of pictures "
                                        "once unpacked.").format(mb=MAX_ARCHIVE_UPLOAD_MB,
                                                                 total=MAX_TOTAL_BYTES // 2 ** 20))
        left, middle, right = st.columns(3)
        name = left.text_input(_("Name"), key=state.OWN_DATA_NAME, placeholder=_("e.g. Leaves of the school garden"))
        labels = i18n.fixed()
        colour = middle.radio(_("Grey or colour"), list(COLOURS), key=state.OWN_DATA_COLOUR, horizontal=True,
                              format_func=lambda c: labels(COLOURS[c]))
        size = right.radio(_("Size"), SIZES, index=1, key=state.OWN_DATA_SIZE, horizontal=True,
                           format_func=lambda s: f"{s}×{s}")
        found = None
        if files:
            try:
                found = _read(files, size, colour == "colour")
            except (ArchiveError, InputError) as error:
                st.error(i18n.error_text(error))
        if found is not None:
            _preview(found)
        job = state.visitor().own_job
        if job is None and found is not None and found.problem is None:
            if st.button(_("Train"), key=state.OWN_DATA_TRAIN, type="primary"):
                try:
                    state.visitor().own_job = resources.own_trainer().submit(
                        found.images, found.labels, found.classes, name, owner=state.visitor().id,
                        source={"skipped": len(found.skipped), "notes": list(found.notes)})
                except OwnDataError as error:
                    st.error(i18n.error_text(error))
        if state.visitor().own_job is not None:
            training_progress()


def _preview(found) -> None:
    n = len(found.images)
    classes = (_("{n} classes: {names}").format(n=len(found.classes), names=", ".join(found.classes))
               if found.classes else _("no classes (no sub-folders)"))
    st.markdown(_("**{n} pictures** as the models will see them ({shape}), {classes}.")
                .format(n=i18n.integer(n), shape="×".join(map(str, found.image_shape)), classes=classes))
    for note in found.notes:
        st.info(i18n.error_text(note))
    if n:
        shown = [to_display(found.images[i].astype(np.float32) / 255.0) for i in range(min(n, PREVIEW))]
        captions = [found.classes[found.labels[i]] if found.classes else None for i in range(len(shown))]
        st.image(shown, width=TILE_PX, caption=captions if found.classes else None,
                 alt=[_("picture {n} of your upload as the models will see it").format(n=i + 1)
                      for i in range(len(shown))])
    if found.problem:
        st.warning(i18n.error_text(found.problem))
    if found.skipped:
        with st.expander(_("{n} files skipped, each with its reason").format(n=len(found.skipped)),
                         expanded=len(found.skipped) <= 10):
            st.dataframe({_("file"): [s.name for s in found.skipped],
                          _("reason"): [i18n.error_text(s.reason) for s in found.skipped]},
                         hide_index=True, use_container_width=True)


@st.fragment(run_every=1.0)
def training_progress() -> None:
    job = state.visitor().own_job
    if job is None:
        return
    status = resources.own_trainer().status(job, owner=state.visitor().id)
    with st.container(key="own_data_progress"):
        if status.state == "waiting":
            st.info(_("Another training runs on this server: yours is number {place} in the queue and starts "
                      "when those before it end.").format(place=status.place))
        elif status.state == "training":
            progress = status.progress or {}
            done = max(0, progress.get("model_index", 0) - 1) + (progress.get("step", 0) / max(1, progress.get("steps") or 1))
            total = max(1, progress.get("n_models", 1))
            left = progress.get("seconds_left")
            stage = progress.get("stage")
            text = _("{stage}: {model}").format(stage=_(STAGES.get(stage, stage)) if stage else _("starting"),
                                                model=progress.get("model", ""))
            if progress.get("epochs"):
                text += _(", epoch {epoch} of {epochs}").format(epoch=progress["epoch"], epochs=progress["epochs"])
            if left is not None:
                text += _(" — about {seconds} s left").format(seconds=i18n.number(left, 0))
            st.progress(min(1.0, done / total), text=text)
        elif status.state == "finished":
            link = f"?dataset={status.dataset_id}"
            st.success(_("Done: open it at [{link}]({link}).").format(link=link))
            if status.owner_key:
                st.warning(_("Owner key, shown only now: {key}. Keep it: the link {link}&key={key} deletes the "
                             "dataset.").format(key=status.owner_key, link=link))
            state.visitor().open_own(status.dataset_id)
        elif status.state in ("failed", "cancelled", "unknown"):
            st.error(_(ENDS[status.state]) + (" " + i18n.error_text(status.error) if status.error else ""))
        if status.state in ("waiting", "training"):
            if st.button(_("Cancel"), key=state.OWN_DATA_CANCEL):
                resources.own_trainer().cancel(job, owner=state.visitor().id)
        elif st.button(_("Start another"), key="own_data_again"):
            state.visitor().own_job = None
            st.rerun()


# --------------------------------------------------------------------------- a finished dataset

def lab_page(dataset_id: str) -> None:
    lab = resources.own_lab(dataset_id)
    card = lab.dataset.card
    metrics = card["metrics"]
    with st.container(key="own_lab"):
        st.subheader(lab.dataset.name)
        shape = "×".join(map(str, lab.dataset.image_shape[1:])) + " " + _(COLOURS["colour" if lab.dataset.colour
                                                                             else "grey"])
        st.caption(_("{n} of your pictures at {shape}; {held} held out of all training, for every figure "
                     "below. The conv ladder and PCA were trained on the rest.")
                   .format(n=i18n.integer(card["n_images"]), shape=shape, held=i18n.integer(len(lab.heldout))))
        picture = _current_picture(lab)
        _ladder(lab, picture)
        _error_chart(lab)
        _latent_map(lab, picture)
        _small_maps(lab, picture)
        _network(lab, picture)
        _morph_and_sliders(lab, picture)
        _unusual(lab, picture)
        st.info(_("Denoising, generating with the VAE and latent arithmetic need a denoising net, a variational "
                  "net or classes chosen by a teacher: this dataset has the conv ladder and PCA only, so those "
                  "demos are not offered for it.") + ("" if lab.dataset.classes else " " + _(
                  "It has no classes either (its pictures were not in sub-folders), so the map is not coloured.")))
        _delete(lab)


def _current_picture(lab) -> np.ndarray:
    rows = lab.heldout
    labels = i18n.fixed()
    sources = {"heldout": N_("a held-out picture"), "upload": N_("upload one"), "draw": N_("draw one")}
    source = st.radio(_("Picture"), list(sources), key=state.OWN_LAB_SOURCE, horizontal=True,
                      format_func=lambda s: labels(sources[s]))
    framed = _("Framed as the dataset's pictures were: the centred square, resized to {s}×{s}.").format(s=lab.size)
    if source == "upload":
        upload = st.file_uploader(_("Or upload a picture"), key=state.OWN_LAB_UPLOAD,
                                  max_upload_size=MAX_UPLOAD_BYTES // 2 ** 20)
        if upload is not None:
            try:
                picture = lab.frame(upload.getvalue(), upload.name)
                st.caption(framed)
                return picture
            except InputError as error:
                st.error(i18n.error_text(error))
    elif source == "draw":
        from streamlit_drawable_canvas import st_canvas  # the component registers itself on import

        pen = st.color_picker(_("Pen"), "#ffffff", key=state.OWN_LAB_PEN) if lab.dataset.colour else "#ffffff"
        result = st_canvas(stroke_width=state.widget(state.STROKE_WIDTH, 22), stroke_color=pen,
                           background_color="#000000", height=280, width=280, drawing_mode="freedraw",
                           return_image_data=True, key=state.OWN_LAB_CANVAS)
        png = result.image_bytes if result is not None else None
        if png:
            try:
                picture = lab.frame(png, "drawing")
                st.caption(framed)
                return picture
            except InputError as error:
                st.caption(i18n.error_text(error))
    pick = st.number_input(_("Held-out picture"), 1, len(rows), 1, key=state.OWN_LAB_PICK,
                           help=_("Pictures the models never trained on."))
    return lab.picture(int(rows[int(pick) - 1]))


def _ladder(lab, picture: np.ndarray) -> None:
    rungs = lab.ladder(picture)
    values = int(np.prod(lab.dataset.image_shape))
    with st.container(key="own_ladder"):
        st.markdown(_("**The bottleneck ladder**: what each code size gives back (SSE: squared error summed over "
                      "the {values} numbers of the picture).").format(values=i18n.integer(values)))
        columns = st.columns(len(rungs) + 1)
        columns[0].image(to_display(picture), caption=_("input"), width=TILE_PX, alt=_("the picture itself"))
        for column, rung in zip(columns[1:], rungs):
            conv = _("conv z={z} · SSE {sse}").format(z=rung.latent_dim, sse=i18n.number(rung.conv_sse))
            column.image(to_display(rung.conv), caption=conv, width=TILE_PX,
                         alt=_("reconstruction by the {what}").format(what=conv))
            column.image(error_display(rung.conv, picture), caption=_("its error"), width=TILE_PX,
                         alt=_("error per pixel of the conv z={z} reconstruction").format(z=rung.latent_dim))
            if rung.pca is not None:
                pca = _("PCA z={z} · SSE {sse}").format(z=rung.latent_dim, sse=i18n.number(rung.pca_sse))
                column.image(to_display(rung.pca), caption=pca, width=TILE_PX,
                             alt=_("reconstruction by the {what}").format(what=pca))
    _exports(lab, picture, rungs)


def _exports(lab, picture: np.ndarray, rungs) -> None:
    left, right = st.columns(2)
    left.download_button(_("Ladder as PNG (for slides)"), lab.ladder_png(picture, rungs),
                         file_name=f"{lab.dataset.id}-ladder.png", mime="image/png", key="own_lab_ladder_png")
    z = 32 if 32 in lab.conv else lab.latent_dims[-1]
    right.download_button(_("The z = {z} map as CSV").format(z=z), lab.map_csv(z), file_name=f"{lab.dataset.id}-map-z{z}.csv",
                          mime="text/csv", key="own_lab_map_csv")
    # the link without ``key``: the owner key opens the delete button and must not travel in a slide's zip
    url = page_url().split("?")[0] + f"?dataset={lab.dataset.id}"
    st.sidebar.download_button(_("Download this view (zip)"), partial(lab.view_zip, picture, rungs, url),
                               f"autoencoder-lab-{lab.dataset.id}-view.zip", "application/zip", key="view_zip",
                               icon=":material/folder_zip:",
                               help=_("The picture and its reconstructions at every size as slide-sized PNGs, the "
                                      "ladder sheet, the map as CSV, the settings as JSON and the link that "
                                      "reopens this dataset."))


def _error_chart(lab) -> None:
    metrics = lab.dataset.card["metrics"]
    conv = {int(z): v for z, v in metrics["conv_sse_per_image"].items()}
    pca = {int(z): v for z, v in metrics["pca_sse_per_image"].items()}
    figure = go.Figure()
    figure.add_scatter(x=list(conv), y=list(conv.values()), name=_("conv"), line_color=theme.BLUE)
    figure.add_scatter(x=list(pca), y=list(pca.values()), name="PCA", line_color=theme.RED)
    figure.update_layout(xaxis=dict(type="log", title=_("code size z"), tickvals=list(conv)),
                         yaxis_title=_("mean SSE on the held-out pictures"), height=300,
                         margin=dict(l=10, r=10, t=30, b=10))
    st.plotly_chart(figure, key="own_error_chart")
    # the chart's numbers as text, for a screen reader (a Plotly chart is a picture to it)
    st.caption(_("Mean SSE on the held-out pictures, conv: {conv}; PCA: {pca}.").format(
        conv="; ".join(f"z = {z}: {i18n.number(v)}" for z, v in conv.items()),
        pca="; ".join(f"z = {z}: {i18n.number(v)}" for z, v in pca.items())))
    if lab.pca_wins_at(32):
        n_train = lab.dataset.card["n_images"] - len(lab.heldout)
        st.warning(_("On this dataset PCA wins at z = 32 ({pca} against {conv}). PCA's code is exactly the "
                     "best linear one for the training pictures, while the network learned its code from {n} "
                     "training pictures in {steps} steps of {batch}; it can beat PCA only where it finds more than "
                     "a linear code, and with this few pictures and steps it did not.")
                   .format(pca=i18n.number(pca[32]), conv=i18n.number(conv[32]), n=i18n.integer(n_train),
                           steps=i18n.integer(lab.training_steps(32)), batch=lab.dataset.card["recipe"]["batch_size"]))


def _latent_map(lab, picture: np.ndarray) -> None:
    dims = lab.latent_dims
    z = st.radio(_("Map of the code size"), dims, index=dims.index(32) if 32 in dims else len(dims) - 1,
                 key=state.OWN_LAB_MAP_Z, horizontal=True)
    coords = lab.maps[z]["coords"]
    figure = go.Figure()
    if lab.dataset.classes:
        for k, name in enumerate(lab.dataset.classes):
            mine = lab.labels == k
            figure.add_scattergl(x=coords[mine, 0], y=coords[mine, 1], mode="markers", name=name,
                                 marker=dict(size=5, color=theme.CLASS_COLOURS[k % len(theme.CLASS_COLOURS)]))
    else:
        figure.add_scattergl(x=coords[:, 0], y=coords[:, 1], mode="markers", name=_("your pictures"),
                             marker=dict(size=5, color=theme.BLUE))
    spot = lab.place(picture, z)
    figure.add_scatter(x=[spot[0]], y=[spot[1]], mode="markers", name=_("this picture"),
                       marker=dict(symbol="star", size=18, color=theme.HIGHLIGHT, line=dict(color=theme.STAR_OUTLINE, width=1)))
    figure.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10))
    st.plotly_chart(figure, key="own_map")
    knn = (lab.dataset.card["metrics"].get("map_knn_accuracy") or {}).get(str(z))
    if knn is not None:
        st.caption(_("Each point is one of your pictures, placed by {method}. On this map, {knn} of the held-out "
                     "pictures have the class that most of their 10 nearest training pictures have.")
                   .format(method=_("its 2-D code itself") if z == 2 else "UMAP", knn=i18n.percent(knn)))
    rows = lab.neighbours(picture, z)
    st.markdown(_("**Nearest pictures in the z = {z} code**").format(z=z))
    st.image([to_display(lab.picture(int(r))) for r in rows], width=TILE_PX,
             alt=[_("nearest picture {rank} in the z = {z} code").format(rank=rank, z=z)
                  for rank in range(1, len(rows) + 1)])


def _small_maps(lab, picture: np.ndarray) -> None:
    from plotly.subplots import make_subplots

    dims = lab.latent_dims
    figure = make_subplots(rows=1, cols=len(dims), subplot_titles=[f"z = {z}" for z in dims])
    colours = ([theme.CLASS_COLOURS[k % len(theme.CLASS_COLOURS)] for k in lab.labels] if lab.dataset.classes
               else theme.BLUE)
    for i, z in enumerate(dims, 1):
        coords = lab.maps[z]["coords"]
        figure.add_scattergl(x=coords[:, 0], y=coords[:, 1], mode="markers", marker=dict(size=3, color=colours),
                             showlegend=False, row=1, col=i)
        spot = lab.place(picture, z)
        figure.add_scatter(x=[spot[0]], y=[spot[1]], mode="markers", showlegend=False, row=1, col=i,
                           marker=dict(symbol="star", size=12, color=theme.HIGHLIGHT))
    figure.update_xaxes(showticklabels=False)
    figure.update_yaxes(showticklabels=False)
    figure.update_layout(height=220, margin=dict(l=10, r=10, t=30, b=10))
    st.markdown(_("**Every bottleneck's map**, the star where this picture lands on each"))
    st.plotly_chart(figure, key="own_small_maps")
    # the chart's numbers as text, for a screen reader (a Plotly chart is a picture to it)
    st.caption(_("Where this picture lands: {places}.").format(places="; ".join(
        f"z = {z}: ({i18n.number(x, 2)}, {i18n.number(y, 2)})" for z, (x, y) in
        ((z, lab.place(picture, z)[:2]) for z in dims))))


def _network(lab, picture: np.ndarray) -> None:
    z = 32 if 32 in lab.conv else lab.latent_dims[-1]
    with st.expander(_("Inside the z = {z} network: this picture through every layer").format(z=z)):
        for out in lab.network(picture, z):
            shape = "×".join(map(str, out.shape))
            name = network.layer_name(out.layer)
            st.markdown(f"**{name}** · {shape} · " + _("{n} learned numbers").format(
                n=i18n.integer(out.layer.parameters))
                        + f" — {network.layer_what(out.layer)}")
            if out.output.ndim == 3 and out.layer.name != "output":
                maps = out.output[:8]
                low, high = float(maps.min()), float(maps.max())
                st.image([np.round((m - low) / max(high - low, 1e-6) * 255).astype(np.uint8) for m in maps],
                         width=TILE_PX, alt=[_("map {n} of {layer}").format(n=i + 1, layer=name)
                                             for i in range(len(maps))])
            elif out.layer.name == "output":
                st.image(to_display(out.output), width=TILE_PX, alt=_("the network's output picture"))


def _morph_and_sliders(lab, picture: np.ndarray) -> None:
    rows = lab.heldout
    z = 32 if 32 in lab.conv else lab.latent_dims[-1]
    other = st.number_input(_("Morph towards held-out picture"), 1, len(rows), min(2, len(rows)),
                            key=state.OWN_LAB_MORPH_TO)
    steps = lab.morph(picture, lab.picture(int(rows[int(other) - 1])), z)
    st.image([to_display(s) for s in steps], width=TILE_PX,
             caption=[_("decoded") if 0 < i < len(steps) - 1 else "" for i in range(len(steps))],
             alt=[_("step {n} of {count} of the morph between the two pictures").format(n=i + 1, count=len(steps))
                  for i in range(len(steps))])
    st.caption(_("The z = {z} codes of the two pictures, mixed in even steps and decoded.").format(z=z))
    if 2 in lab.conv:
        code = lab.code(picture, 2)
        first, second = st.columns(2)
        a = first.slider(_("code number 1"), -5.0, 5.0, float(np.clip(code[0], -5, 5)), key="own_lab_code_0")
        b = second.slider(_("code number 2"), -5.0, 5.0, float(np.clip(code[1], -5, 5)), key="own_lab_code_1")
        st.image(to_display(lab.decode(np.array([a, b], np.float32), 2)), width=2 * TILE_PX,
                 caption=_("the z = 2 decoder's picture of these two numbers"),
                 alt=_("the z = 2 decoder's picture of the code ({a}, {b})").format(a=i18n.number(a, 2),
                                                                                   b=i18n.number(b, 2)))


def _unusual(lab, picture: np.ndarray) -> None:
    percentile, sse = lab.unusualness(picture)
    verdict = (_("the model reconstructs it worse than nearly all of them") if percentile >= UNUSUAL_PERCENTILE
               else _("an ordinary one, as far as the model can tell") if percentile < 75
               else _("on the unusual side, but real ones like it exist"))
    st.markdown(_("**How unusual is this?** More unusual than {p} % of the held-out pictures (z = {z}, SSE {sse}): "
                  "{verdict}.").format(p=int(percentile), z=lab.anomaly_latent_dim, sse=i18n.number(sse),
                                       verdict=verdict))


def _delete(lab) -> None:
    key = st.query_params.get("key")
    if not key:
        return
    if st.button(_("Delete this dataset"), key=state.OWN_LAB_DELETE):
        try:
            delete_dataset(lab.dataset.id, key)
        except OwnDataError as error:
            st.error(i18n.error_text(error))
            return
        resources.own_lab.clear()
        st.success(_("Deleted."))
        del st.query_params["key"]
        st.query_params["dataset"] = OWN
