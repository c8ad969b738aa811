"""The network, with the current input flowing through it: each layer's output, shape and parameters.

Computed only while its expander is open: closed, it costs a stroke nothing.
"""
from __future__ import annotations

import html

import streamlit as st

from ae_demo.display import bars_picture, feature_mosaic, png_data_uri
from ae_demo.network import CODE, DECODER, ENCODER, LayerOutput, encoder_says, trace
from ae_demo.zoo import FAMILIES

from . import formulas, resources, state, theme

PART_COLOURS = {ENCODER: theme.BLUE, CODE: theme.HIGHLIGHT, DECODER: theme.GREEN}
PART_SAYS = {  # the encoder's sentence depends on the model's shapes: ae_demo.network.encoder_says
    CODE: "The code: everything the decoder will ever know about the input.",
    DECODER: "The decoder rebuilds a picture from the code alone; training pushed it to match the input "
             "(y = x) as closely as it can.",
}


def _picture(out: LayerOutput):
    if out.output.ndim == 3 and out.output.shape[0] == 1:
        return out.output[0].clip(0, 1)            # the reconstruction itself
    if out.output.ndim == 3:
        return feature_mosaic(out.output)           # the first 8 feature maps
    return bars_picture(out.output, colour=PART_COLOURS[out.layer.part], background=theme.BACKGROUND)


def _card(out: LayerOutput) -> str:
    shape = " × ".join(str(n) for n in out.shape)
    what = "first 8 of its feature maps" if out.output.ndim == 3 and out.shape[0] > 1 else \
        ("one bar per number" if out.output.ndim == 1 else "the reconstruction")
    return (f'<figure class="ae-layer" style="border-top: 4px solid {PART_COLOURS[out.layer.part]}">'
            f'<div class="ae-title">{html.escape(out.layer.name)}</div>'
            f'<img src="{png_data_uri(_picture(out))}" alt="{html.escape(out.layer.name)}: {what}">'
            f'<figcaption class="ae-detail">{shape} · {out.layer.parameters:,} parameters<br>'
            f'{html.escape(out.layer.what)}</figcaption></figure>')


def network_section(dataset: str, family: str, z: int, current: state.InputItem) -> None:
    """The chosen model (``family`` at ``z``, the mapped size) as a diagram, with the input's outputs."""
    with st.container(key="network"):
        opened = st.expander(f"The network, layer by layer: {FAMILIES[family].lower()}, z = {z}",
                             key=state.NETWORK_OPEN, on_change="rerun")
        if not opened.open:
            return
        with opened:
            model = resources.models_for(dataset, family)[z]
            outputs = trace(model, current.prepared.image)
            total = sum(o.layer.parameters for o in outputs)
            st.caption(f"Your current input, {current.name}, going through the model that makes the ladder's "
                       f"z = {z} picture: {len(outputs)} steps, {total:,} learned parameters. Blue: encoder; "
                       "yellow: the code; green: decoder. Feature maps are each stretched to their own "
                       "range (black lowest, white highest). Bars are the numbers themselves, each layer's scaled "
                       "to its own largest magnitude (the tallest bar of a layer is its largest |value|; the grey "
                       "line is 0), so bar heights compare within a layer, not across layers.")
            says = {ENCODER: encoder_says(outputs), **PART_SAYS}
            st.markdown(" ".join(f'<span style="color:{PART_COLOURS[p]}">■</span> {says[p]}'
                                 for p in (ENCODER, CODE, DECODER)), unsafe_allow_html=True)
            formulas.show(*formulas.network_equations(outputs, z, PART_COLOURS))
            st.html('<div class="ae-network">' + '<div class="ae-arrow">→</div>'.join(_card(o) for o in outputs)
                    + "</div>")
