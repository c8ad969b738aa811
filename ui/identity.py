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

from . import resources, state
from .pictures import Picture, picture_grid

FEATURES_SHOWN = 100  # the first 100 of each net's 1,000 features, as a 10x10 grid


def _label(family: str, z: int) -> str:
    return {"conv": f"z = {z} bottleneck", "sparse": f"sparse, {z:,} units",
            "identity": f"unconstrained, {z:,} units"}.get(family, f"{FAMILIES[family]}, {z}")


def findings(dataset: str) -> list[str]:
    """The section's sentences, every figure from ``resources.copy_errors_for`` (what was measured)."""
    rows, noise_share, n_never = resources.copy_errors_for(dataset)
    by_family = dict(zip((family for family, _ in COMPARED), rows))
    free, bottleneck, sparse = by_family["identity"], by_family["conv"], by_family["sparse"]
    items = dataset_entry(dataset).items
    said = [f"Mean SSE per image (squared error over the 784 pixels), on {free.n_heldout:,} held-out {items}: "
            f"unconstrained {free.heldout:.2f}, z = 32 bottleneck {bottleneck.heldout:.2f}, sparse "
            f"{sparse.heldout:.2f}. On " + ", ".join(f"{free.n_probes[k]} {probe_noun(k, dataset)}"
                                                   for k in PROBE_KINDS)
            + ": unconstrained " + ", ".join(f"{free.probes[k]:.2f}" for k in PROBE_KINDS) + "."]
    copied = [k for k in PROBE_KINDS if copies_like_heldout(free, k)]
    missed = [k for k in PROBE_KINDS if k not in copied]
    if copied:
        said.append(f"It rebuilds {' and '.join(probe_noun(k, dataset) for k in copied)} about as well as held-out "
                    f"{items} (within {ABOUT_AS_WELL:g} times its held-out error): there it learned to copy, not "
                    f"what {items} are.")
    if missed:
        text = (f"It does not copy {' or '.join(probe_noun(k, dataset) for k in missed)} (more than "
                f"{ABOUT_AS_WELL:g} times its held-out error): trained only on {items}, it learned to copy inputs "
                f"like them, not any input.")
        if "noise" in missed and n_never:
            text += (f" {n_never} of the 784 pixels are black in every held-out image; a pixel that is always 0 "
                     f"gives its weights no gradient, so the net never learned to pass it through, and those "
                     f"pixels carry {noise_share:.0%} of its error on the noise.")
        said.append(text)
    return said


def identity_section(dataset: str, current: state.InputItem) -> None:
    """The three nets on the current input and on the non-members, what was measured, and the features."""
    if any(z not in resources.zoo().latent_dims(dataset, family) for family, z in COMPARED):
        return  # a dataset without the lesson's nets (your own images)
    with st.container(key="identity"):
        opened = st.expander("Copying without a constraint: the unconstrained net", key=state.IDENTITY_OPEN,
                             on_change="rerun")
        if not opened.open:
            return
        with opened:
            st.caption("Three nets rebuild your input and three inputs that are no "
                       f"{dataset_entry(dataset).items}: one hidden layer of 1,000 sigmoid units (wider than the "
                       "784 pixels) trained with no sparsity penalty and no weight decay (unconstrained), the same "
                       "layer kept sparse, and the convolutional net squeezed to 32 numbers.")
            probes = resources.identity_probes(dataset)
            names = [("your input", current.prepared.image)] + [(probe_label(k, dataset), probes[k])
                                                                for k in PROBE_KINDS]
            inputs = np.stack([image for _, image in names]).astype(np.float32)
            rebuilt = rebuilt_by_each(resources.identity_models(dataset), inputs)
            for row, (what, image) in enumerate(names):
                cells = [Picture(png_data_uri(image), what, "the input", what.capitalize())]
                for family, z in COMPARED:
                    recon, sse = rebuilt[model_name(family, z, dataset)]
                    cells.append(Picture(png_data_uri(recon[row]), f"{what} rebuilt by the {_label(family, z)}",
                                               f"SSE {sse[row]:.1f}", _label(family, z)))
                st.html(picture_grid("ae-strip", cells))
            for sentence in findings(dataset):
                st.markdown(sentence)
            st.markdown("**Features: sparse against unconstrained.** Each tile is the input (of norm 1) that "
                        "excites one hidden unit most, x = W_i/‖W_i‖; the first "
                        f"{FEATURES_SHOWN} of each net's 1,000, each tile's contrast stretched on its own.")
            left, right = st.columns(2)
            for cell, family in ((left, "sparse"), (right, "identity")):
                model = resources.identity_models(dataset)[model_name(family, 1000, dataset)]
                tiles = model.features()[:FEATURES_SHOWN].cpu().numpy()
                cell.image(tile_grid(tiles, 10, scale=2), caption=_label(family, 1000), width="stretch")
