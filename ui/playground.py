"""Play with the codes: a morph between two inputs, and a slider per code number."""
from __future__ import annotations

import hashlib
import io
from functools import partial

import numpy as np
import streamlit as st
from PIL import Image

from ae_demo.display import enlarge, image_strip
from ae_demo.exports import strip_png
from ae_demo.inference import decode_between, decode_codes
from ae_demo.view import InputsView
from ae_demo.zoo import FAMILIES

from . import i18n, resources, state
from .i18n import N_, _

PLAYGROUND_TABS = (N_("Morph between two inputs"), N_("Nudge the code"))
MAX_SLIDERS = 16  # codes longer than this are no longer something a class can take apart by hand


def _gif_bytes(frames: np.ndarray, scale: int = 4) -> bytes:
    """(steps, 28, 28) in [0, 1] -> an animated GIF going there and back."""
    pictures = [Image.fromarray(enlarge(f, scale)) for f in np.concatenate([frames, frames[-2:0:-1]])]
    buffer = io.BytesIO()
    pictures[0].save(buffer, format="GIF", save_all=True, append_images=pictures[1:], duration=120, loop=0)
    return buffer.getvalue()


@st.fragment
def playground_section(dataset: str, family: str, z: int, view: InputsView, column: int) -> None:
    """The morph and the code sliders, one tab each; the tab is kept in the URL (``?playground=``).

    Only the open tab runs and is on the page. Every element on the page costs the browser a
    re-render on each stroke, and the sixteen sliders alone were a large part of it (``benchmarks/bench_canvas.py``).
    """
    st.subheader(_("Play with the codes"))
    morph, nudge = st.tabs([_(tab) for tab in PLAYGROUND_TABS], default=_linked_tab(), key="playground",
                           bind="query-params")
    if morph.open:
        with morph:
            interpolation_section(dataset, family, z, view, column)
    if nudge.open:
        with nudge:
            latent_sliders_section(dataset, family, view, column)


def _linked_tab() -> str | None:
    """The tab the visit's link named (``?playground=Nudge the code``), in any language, as this visitor's language
    writes it: a link made in one language opens its tab in another. Read once: the tabs' default must not change
    when the URL drops the tab (Streamlit leaves a bound parameter out while it holds the default)."""
    visitor = state.visitor()
    if visitor.linked_tab is None:
        wanted = st.query_params.get("playground")
        visitor.linked_tab = next((tab for tab in PLAYGROUND_TABS if wanted in
                                   {tab, *(i18n.translations(code).gettext(tab) for code in i18n.LANGUAGES)}), "")
    return _(visitor.linked_tab) if visitor.linked_tab else None


def _endpoint_codes(dataset: str, family: str, z: int, view: InputsView) -> dict[str, np.ndarray]:
    """name -> (z,) code: every input of this session (as the ladder encoded it), then the first held-out
    image of each class (the code the map holds for it)."""
    options = {item.name: view.code(z, i) for i, item in enumerate(state.visitor().items())}
    lm = resources.default_map_for(dataset, family, z)
    reference = resources.reference_for(dataset)
    for label, name in enumerate(reference.classes):
        row = int(np.flatnonzero(lm.labels == label)[0])
        options[_("held-out {name} (#{index})").format(name=_(name), index=int(lm.indices[row]))] = lm.codes[row]
    return options


@st.fragment
def interpolation_section(dataset: str, family: str, z: int, view: InputsView, column: int) -> None:
    """A decoded morph between two inputs' codes, downloadable as a PNG strip and a GIF."""
    st.caption(_("Both inputs are encoded by the z = {z} model; the codes on the straight line between "
                 "them are decoded. If every frame looks like a real image, the latent space is well organised "
                 "between them.").format(z=z))
    options = _endpoint_codes(dataset, family, z, view)
    names = list(options)
    items = state.visitor().items()
    current = items[column]
    others = [item.name for item in items if item.key != current.key]
    # by default: from the current input to another of the visitor's, else to a held-out image of class 5
    default_end = others[-1] if others else names[len(items) + 5]
    cols = st.columns([2, 2, 1])
    # keyed by the current input, so that "From" moves to a new current input instead of keeping the old one
    start = cols[0].selectbox(_("From"), names, index=names.index(current.name),
                              key=f"morph_start_{dataset}_{current.key}")
    end = cols[1].selectbox(_("To"), names, index=names.index(default_end), key=f"morph_end_{dataset}")
    steps = cols[2].slider(_("Steps"), 3, 20, 10, key="morph_steps")
    frames = decode_between(resources.models_for(dataset, family)[z], options[start], options[end], steps)
    strip = image_strip(frames, gap=1)
    with st.container(key="morph"):
        st.image(strip, width="stretch", alt=_("{steps} images decoded on the straight line between the codes of "
                                               "{start} and {end}").format(steps=steps, start=start, end=end))
    down = st.columns(2)
    # made when pressed (see ui.exports)
    down[0].download_button(_("Download PNG strip"), partial(strip_png, frames), "morph.png", "image/png", key="morph_png")
    down[1].download_button(_("Download GIF"), partial(_gif_bytes, frames), "morph.gif", "image/gif", key="morph_gif")


@st.fragment
def latent_sliders_section(dataset: str, family: str, view: InputsView, column: int) -> None:
    """One slider per code number (codes up to MAX_SLIDERS): nudge the input's code and see the decoded image."""
    all_dims = view.latent_dims
    dims = [z for z in all_dims if z <= MAX_SLIDERS]
    if not dims:
        st.caption(_("The sliders need a code of {most} numbers or fewer; the {family} models here have {sizes}. Pick "
                     "another family in the sidebar.").format(most=MAX_SLIDERS, family=_(FAMILIES[family]).lower(),
                                                              sizes=_(", ").join(map(str, all_dims))))
        return
    st.caption(_("Each slider is one number of the input's code; it starts where the encoder put it and spans "
               "the 1st to the 99th percentile of that number over the held-out images' codes (widened to reach "
               "the input's own value). Move one and watch what it controls."))
    top = st.columns([1, 3])
    z = top[0].selectbox(_("Latent size"), dims, index=len(dims) - 1, key="nudge_latent")
    model = resources.models_for(dataset, family)[z]
    code = view.code(z, column)
    lo, hi = resources.default_map_for(dataset, family, z).code_bounds()
    digest = hashlib.sha1(state.visitor().items()[column].prepared.image.tobytes()).hexdigest()[:10]
    if top[1].button(_("Reset to the input's code"), key="nudge_reset"):
        for i in range(z):
            state.drop_widget(state.nudge_key(dataset, family, z, i, digest))
    sliders, result = st.columns([3, 1])
    nudged = code.copy()
    with sliders:
        grid = st.columns(4)
        for i in range(z):
            low, high = float(min(lo[i], code[i])), float(max(hi[i], code[i]))
            nudged[i] = grid[i % 4].slider(f"z[{i}]", low, high, float(code[i]), step=(high - low) / 100 or 0.01,
                                           format="%.2f", key=state.nudge_key(dataset, family, z, i, digest))
    with result:
        pair = decode_codes(model, np.stack([code, nudged]))
        st.image(pair[0], caption=_("decoded from the input's code"), width="stretch",
                 alt=_("the input decoded from its own code at z = {z}").format(z=z))
        st.image(pair[1], caption=_("decoded from the nudged code"), width="stretch",
                 alt=_("decoded from the nudged code at z = {z}").format(z=z))
