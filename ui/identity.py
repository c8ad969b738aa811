"""Copying without a constraint: the unconstrained net beside the z = 32 bottleneck and the sparse net.

UFLDL's claim is that a net as wide as its input, with no constraint, can learn to copy. The
section shows the three nets on the current input and on three non-members (a drawn letter,
pure noise, an image of the other dataset), then says what was measured (``ae_demo.identity``,
on the bundled held-out images), and sets the sparse net's features beside the unconstrained
net's. Computed only while its expander is open.
"""
from __future__ import annotations

import numpy as np
import streamlit as st

from ae_demo.datasets import dataset as dataset_entry
from ae_demo.display import png_data_uri, tile_grid
from ae_demo.identity import (ABOUT_AS_WELL, COMPARED, PROBE_KINDS, copies_like_heldout, probe_label, probe_noun,
                              rebuilt_by_each)
from ae_demo.zoo import FAMILIES, model_name

from . import i18n, resources, state
from .i18n import N_, _
from .pictures import Picture, picture_grid

FEATURES_SHOWN = 100  # the first 100 of each net's 1,000 features, as a 10x10 grid


def _label(family: str, z: int) -> str:
    labels = {"conv": N_("z = {z} bottleneck"), "sparse": N_("sparse, {z} units"), "identity": N_("unconstrained, {z} units")}
    if family in labels:
        return _(labels[family]).format(z=i18n.integer(z))
    return f"{_(FAMILIES[family])}, {z}"


def findings(dataset: str) -> list[str]:
    """The section's sentences, every figure from ``resources.copy_errors_for`` (what was measured)."""
    rows, noise_share, n_never = resources.copy_errors_for(dataset)
    by_family = dict(zip((family for family, _z in COMPARED), rows))
    free, bottleneck, sparse = by_family["identity"], by_family["conv"], by_family["sparse"]
    items = _(dataset_entry(dataset).items)
    times = i18n.number(ABOUT_AS_WELL, None)
    said = [_("Mean SSE per image (squared error over the 784 pixels), on {n} held-out {items}: unconstrained "
              "{free}, z = 32 bottleneck {bottleneck}, sparse {sparse}. On {probes}: unconstrained {errors}.").format(
        n=i18n.integer(free.n_heldout), items=items, free=i18n.number(free.heldout, 2),
        bottleneck=i18n.number(bottleneck.heldout, 2), sparse=i18n.number(sparse.heldout, 2),
        probes=_(", ").join(f"{i18n.integer(free.n_probes[k])} {_(probe_noun(k, dataset))}" for k in PROBE_KINDS),
        errors=_(", ").join(i18n.number(free.probes[k], 2) for k in PROBE_KINDS))]
    copied = [k for k in PROBE_KINDS if copies_like_heldout(free, k)]
    missed = [k for k in PROBE_KINDS if k not in copied]
    if copied:
        said.append(_("It rebuilds {probes} about as well as held-out {items} (within {times} times its held-out "
                      "error): there it learned to copy, not what {items} are.").format(
            probes=i18n.join([_(probe_noun(k, dataset)) for k in copied]), items=items, times=times))
    if missed:
        text = _("It does not copy {probes} (more than {times} times its held-out error): trained only on {items}, "
                 "it learned to copy inputs like them, not any input.").format(
            probes=i18n.join([_(probe_noun(k, dataset)) for k in missed], "or"), times=times, items=items)
        if "noise" in missed and n_never:
            text += " " + _("{never} of the 784 pixels are black in every held-out image; a pixel that is always 0 "
                            "gives its weights no gradient, so the net never learned to pass it through, and those "
                            "pixels carry {share} of its error on the noise.").format(
                never=i18n.integer(n_never), share=i18n.percent(noise_share))
        said.append(text)
    return said


def identity_section(dataset: str, current: state.InputItem) -> None:
    """The three nets on the current input and on the non-members, what was measured, and the features."""
    if any(z not in resources.zoo().latent_dims(dataset, family) for family, z in COMPARED):
        return  # a dataset without the lesson's nets (your own images)
    with st.container(key="identity"):
        opened = st.expander(_("Copying without a constraint: the unconstrained net"), key=state.IDENTITY_OPEN,
                             on_change="rerun")
        if not opened.open:
            return
        with opened:
            st.caption(_("Three nets rebuild your input and three inputs that are no {items}: one hidden layer of "
                         "1,000 sigmoid units (wider than the 784 pixels) trained with no sparsity penalty and no weight "
                         "decay (unconstrained), the same layer kept sparse, and the convolutional net squeezed to 32 "
                         "numbers.").format(items=_(dataset_entry(dataset).items)))
            probes = resources.identity_probes(dataset)
            names = [(_("your input"), current.prepared.image)] + [(_(probe_label(k, dataset)), probes[k])
                                                                   for k in PROBE_KINDS]
            inputs = np.stack([image for _what, image in names]).astype(np.float32)
            rebuilt = rebuilt_by_each(resources.identity_models(dataset), inputs)
            for row, (what, image) in enumerate(names):
                cells = [Picture(png_data_uri(image), what, _("the input"), what[:1].upper() + what[1:])]
                for family, z in COMPARED:
                    recon, sse = rebuilt[model_name(family, z, dataset)]
                    cells.append(Picture(png_data_uri(recon[row]), _("{what} rebuilt by the {net}").format(
                        what=what, net=_label(family, z)), _("SSE {sse}").format(sse=i18n.number(sse[row])),
                        _label(family, z)))
                st.html(picture_grid("ae-strip", cells))
            for sentence in findings(dataset):
                st.markdown(sentence)
            st.markdown(_("**Features: sparse against unconstrained.** Each tile is the input (of norm 1) that "
                          "excites one hidden unit most, x = W_i/‖W_i‖; the first {shown} of each net's 1,000, each "
                          "tile's contrast stretched on its own.").format(shown=i18n.integer(FEATURES_SHOWN)))
            left, right = st.columns(2)
            for cell, family in ((left, "sparse"), (right, "identity")):
                model = resources.identity_models(dataset)[model_name(family, 1000, dataset)]
                tiles = model.features()[:FEATURES_SHOWN].cpu().numpy()
                cell.image(tile_grid(tiles, 10, scale=2), caption=_label(family, 1000), width="stretch",
                           alt=_("{count} grey tiles, the features of the {net} net").format(
                               count=i18n.integer(FEATURES_SHOWN), net=_label(family, 1000)))
