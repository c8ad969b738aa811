"""The inputs: draw, upload, photograph or pick; every path ends in the same preprocessing."""
from __future__ import annotations

import hashlib
import random

import numpy as np
import streamlit as st

from ae_demo.preprocess import MAX_UPLOAD_BYTES, InputError, Prepared, prepare_drawing, prepare_upload

from . import i18n, presentation, rerun, resources, state
from .i18n import N_, _
from .pictures import Picture, picture_grid
from .state import InputItem, InputKind

# The formats we read, plus a few we cannot, so those get our explanation rather than a silent refusal.
UPLOAD_TYPES = ["png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff", "svg", "heic", "heif", "avif"]
ANY_CLASS = N_("any class")   # the sample picker's choice of no class in particular
CANVAS_PX = 280          # 10 canvas pixels per model pixel: a finger or a mouse draws comfortably
INPUT_COLUMN_PX = 360    # the column beside the ladder: the canvas, and room for the four tabs' names
DEFAULT_STROKE = 22      # canvas pixels


def draw_tab() -> None:
    """The canvas first, its pen and help in a popover under it: nothing between the canvas and the ladder."""
    width = state.widget(state.STROKE_WIDTH, DEFAULT_STROKE)
    result = None
    with st.container(key="draw_canvas"):
        from streamlit_drawable_canvas import st_canvas  # the component registers itself on import

        result = st_canvas(stroke_width=width, stroke_color="#ffffff", background_color="#000000",
                           height=CANVAS_PX, width=CANVAS_PX, drawing_mode="freedraw",
                           return_image_data=True, key="canvas")
    with st.popover(_("Pen and help"), icon=":material/edit:", key="pen"):
        # presentation mode shows the whole page inverted for a projector, the canvas with it (ui.presentation)
        if presentation.is_on():
            st.caption(_("Draw black on white: presentation mode shows the page inverted, and the model gets your "
                         "drawing white on black, as MNIST digits are. Undo, redo and clear are the three icons just "
                         "above the canvas's top-right corner; they show while the pointer is over the canvas."))
        else:
            st.caption(_("Draw white on black, as MNIST digits are. Undo, redo and clear are the three icons just "
                         "above the canvas's top-right corner; they show while the pointer is over the canvas."))
        # WCAG 2.1.1: the canvas takes a pointer only; the same input comes from the other tabs
        st.caption(_("The canvas cannot be drawn with the keyboard: the Samples tab picks a held-out image and the "
                     "Upload tab takes a picture of a digit, and both go through the same steps as a drawing."))
        st.slider(_("Stroke width"), 8, 40, DEFAULT_STROKE, key=state.STROKE_WIDTH)
    png = result.image_bytes if result is not None else None
    if not png or state.visitor().seen_canvas(hashlib.sha1(png).hexdigest()):
        return
    try:
        # not cached: each stroke makes a new picture, and the canvas path costs ~2 ms (preprocess.prepare_drawing)
        state.visitor().remember(InputItem.make(InputKind.DRAWING, _("Drawing"), prepare_drawing(png)), make_current=True)
    except InputError:  # an empty or cleared canvas: nothing to show, nothing wrong
        state.visitor().forget(InputKind.DRAWING.value)


def upload_tab() -> None:
    files = st.file_uploader(_("Upload images (PNG, JPEG, GIF, BMP, WebP, TIFF)"), type=UPLOAD_TYPES,
                             accept_multiple_files=True, key="upload", on_change=rerun.mark_page_due,
                             max_upload_size=MAX_UPLOAD_BYTES // 2 ** 20,
                             help=_("A photo of a digit on paper works: the background is removed and the ink "
                                    "centred."))
    files = files or []
    errors, unreadable = {}, {}
    known = {item.key for item in state.visitor().items_of(InputKind.UPLOAD)}
    seen = set()
    for file in files:
        new = f"{InputKind.UPLOAD.value}:{file.file_id}"
        seen.add(new)
        if new in known:
            continue
        try:
            # once per file and session (``known`` above), so not cached for the server: a cache shared by
            # every session kept each photo's picture (~0.6 MB) for as long as the server ran
            prepared = prepare_upload(file.getvalue(), file.name)
            state.visitor().remember(InputItem.make(InputKind.UPLOAD, file.name, prepared, file.file_id),
                           make_current=True)  # the newest upload becomes the current input
        except InputError as error:
            errors[file.name] = i18n.error_text(error)
            unreadable[file.name] = file.getvalue()  # still scored by "How unusual is this?" (ui.demos.anomaly)
    for gone in known - seen:
        state.visitor().forget(gone)  # removed from the uploader
    names = {f.name for f in files}
    state.visitor().upload_errors = {**{k: v for k, v in state.visitor().upload_errors.items() if k in names}, **errors}
    state.visitor().unreadable_uploads = {**{k: v for k, v in state.visitor().unreadable_uploads.items() if k in names}, **unreadable}
    for name, message in state.visitor().upload_errors.items():
        st.error(f"**{name}**: {message}")


def camera_tab() -> None:
    st.caption(_("Hold a digit written in thick dark pen on white paper up to the camera, filling most of the "
                 "frame."))
    photo = st.camera_input(_("Take a photo"), key="camera", on_change=rerun.mark_page_due)
    if photo is None:
        state.visitor().forget(InputKind.CAMERA.value)
        return
    if state.visitor().seen_camera(photo.file_id):
        return
    try:
        prepared = prepare_upload(photo.getvalue(), _("webcam photo"))  # once per photo (seen_camera above)
        state.visitor().remember(InputItem.make(InputKind.CAMERA, _("Webcam photo"), prepared), make_current=True)
    except InputError as error:
        st.error(_("Webcam photo: {message}").format(message=i18n.error_text(error)))


def sample_tab(dataset: str) -> None:
    reference = resources.reference_for(dataset)
    st.caption(_("{count} held-out images the models never saw in training.")
               .format(count=i18n.integer(len(reference.labels))))
    st.selectbox(_("Class"), [ANY_CLASS, *reference.classes], key=state.SAMPLE_CLASS,
                 format_func=i18n.fixed())   # the value stays the dataset's class name, shown in the language
    st.button(_("Pick a random sample"), key="sample_random", icon=":material/casino:", on_click=_pick_random,
              args=(dataset,))


def _pick_random(dataset: str) -> None:
    """The button's callback: a random held-out image of the chosen class, then the whole page at once."""
    reference = resources.reference_for(dataset)
    pool = np.arange(len(reference.labels))
    choice = state.widget(state.SAMPLE_CLASS)
    if choice in reference.classes:
        pool = pool[reference.labels == reference.classes.index(choice)]
    pick_sample(dataset, int(random.choice(pool)))
    rerun.mark_page_due()


def pick_sample(dataset: str, index: int) -> None:
    """Make held-out image ``index`` the sample and the current input; kept in the URL (``?sample=``)."""
    state.visitor().sample_index = index
    st.query_params["sample"] = str(index)
    remember_sample(dataset)
    state.visitor().current = InputKind.SAMPLE.value


def remember_sample(dataset: str) -> None:
    """Keep the sample input in step with the dataset and the index (from the URL on first load)."""
    reference = resources.reference_for(dataset)
    n = len(reference.labels)
    index = state.visitor().sample_index
    if index is None:
        from_url = st.query_params.get("sample", "")
        index = int(from_url) if from_url.isdigit() and int(from_url) < n else 0
    index %= n
    state.visitor().sample_index = index
    prepared = Prepared(raw=None, image=reference.images[index], notes=(N_("held-out image, used as it is"),))
    state.visitor().remember(InputItem.make(
        InputKind.SAMPLE, _("Sample #{index} ({name})").format(index=index, name=_(reference.name(index))), prepared))


def input_sources(dataset: str) -> None:
    """Draw, upload, photograph or pick: every path ends in the same preprocessing."""
    draw, upload, camera, sample = st.tabs([":material/draw: " + _("Draw"), ":material/upload_file: " + _("Upload"),
                                            ":material/photo_camera: " + _("Webcam"),
                                            ":material/casino: " + _("Samples")])
    with draw:
        draw_tab()
    with upload:
        upload_tab()
    with camera:
        camera_tab()
    with sample:
        sample_tab(dataset)


def _choose_current() -> None:
    state.visitor().current = state.widget(state.INPUT_CHOICE)
    rerun.mark_page_due()


def current_input_panel() -> InputItem:
    """The input being explored: as given, and as the model sees it."""
    items = {item.key: item for item in state.visitor().items()}
    current = state.visitor().current_item()
    state.set_widget(state.INPUT_CHOICE, current.key)
    st.selectbox(_("Current input"), list(items), key=state.INPUT_CHOICE, format_func=lambda k: items[k].name,
                 on_change=_choose_current)
    given_uri, seen_uri = current.picture_uris
    given = Picture(seen_uri, _("{name}, a held-out image").format(name=current.name),
                          _("As given (a held-out image)")) if given_uri is None else \
        Picture(given_uri, _("{name} as given").format(name=current.name), _("As given"),
                      css="ae-raw")   # a photo: smooth scaling
    # one HTML block of inline pictures encoded once per input (state.InputItem.picture_uris)
    st.html(picture_grid("ae-input", [given, Picture(
        seen_uri, _("{name} as the model sees it: 28×28 grey levels").format(name=current.name),
        _("What the model sees: 28×28"))]))
    if current.prepared.notes:
        st.caption(" · ".join(_(note) for note in current.prepared.notes))
    return current
