"""Latent arithmetic: the current input's code moved along (mean of class B − mean of class A), decoded."""
from __future__ import annotations

import numpy as np
import streamlit as st

from ae_demo.arithmetic import class_means, move_towards_class
from ae_demo.datasets import DATASETS
from ae_demo.inference import reconstruct_images

from .. import exports, i18n, resources, state
from ..i18n import _
from . import opened

STEPS = 7   # pictures in the strip: strengths evenly from 0 to the slider's value


def arithmetic_section(dataset: str) -> None:
    with st.container(key="arithmetic"):
        section = opened("arithmetic", _("Latent arithmetic: move an input towards another class"))
        if not section.open:
            return
        with section:
            classes = resources.reference_for(dataset).classes
            defaults = DATASETS[dataset].arithmetic
            # a dataset without an opening choice: from its first class towards its second
            source, target = (defaults.source_class, defaults.target_class) if defaults else (0, min(1, len(classes) - 1))
            dims = resources.zoo().latent_dims(dataset, "conv")
            opening = defaults.latent_dim if defaults and defaults.latent_dim in dims else dims[0]
            cols = st.columns(4)
            labels = i18n.fixed()
            z = cols[0].selectbox(_("Code size (convolutional)"), dims, index=dims.index(opening),
                                  key=f"arithmetic_latent_{dataset}")
            a = cols[1].selectbox(_("From class A"), range(len(classes)), index=source,
                                  format_func=lambda i: labels(classes[i]), key=f"arithmetic_from_{dataset}")
            b = cols[2].selectbox(_("Towards class B"), range(len(classes)), index=target,
                                  format_func=lambda i: labels(classes[i]), key=f"arithmetic_to_{dataset}")
            strength = cols[3].slider(_("Strength"), 0.0, 2.0, 1.5, 0.05, key="arithmetic_strength")
            current = state.visitor().current_item()
            lm = resources.default_map_for(dataset, "conv", z)
            model = resources.models_for(dataset, "conv")[z]
            strengths = np.linspace(0.0, strength, STEPS)
            moved = move_towards_class(model, current.prepared.image, class_means(lm), a, b, strengths)
            st.caption(_("The code of your current input, {name}, plus s × (mean code of the {b} held-out images − "
                         "mean code of the {a} ones), {count} held-out codes of the convolutional z = {z} model, "
                         "decoded for s from 0 to {strength}. At s = 0 it is the input's own reconstruction.").format(
                name=current.name, b=_(classes[b]), a=_(classes[a]), count=i18n.integer(len(lm.labels)), z=z,
                strength=i18n.number(strength, 2)))
            left, right = st.columns([1, 7])
            left.image(reconstruct_images(model, current.prepared.image[None])[0],
                       caption=_("its reconstruction, z = {z}").format(z=z),
                       width="stretch", alt=_("reconstruction of {name} at z = {z}").format(name=current.name, z=z))
            with right, st.container(key="arithmetic_strip"):
                for cell, s, picture in zip(st.columns(STEPS), moved.strengths, moved.images):
                    cell.image(picture, caption=f"s = {i18n.number(s, 2)}", width="stretch",
                               alt=_("decoded at strength s = {s} from {a} towards {b}").format(
                                   s=i18n.number(s, 2), a=_(classes[a]), b=_(classes[b])))
            exports.strip_download(moved.images, f"arithmetic-class{a}-to-class{b}.png", key="arithmetic_png")
