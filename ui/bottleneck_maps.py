"""How the map changes with the bottleneck: the convolutional ladder's maps at three sizes, side by side."""
from __future__ import annotations

import streamlit as st

from ae_demo.view import InputsView

from . import i18n, resources
from .i18n import _
from .latent_map import manifold_panel, starred_picture

SMALL_MAP_SIZES = (2, 8, 32)
FAMILY = "conv"  # the ladder family: the only one with every size


def sizes(dataset: str) -> tuple[int, ...]:
    """The small maps' latent sizes that the zoo has for ``dataset``."""
    return tuple(z for z in SMALL_MAP_SIZES if z in resources.zoo().latent_dims(dataset, FAMILY))


def bottleneck_maps_section(dataset: str, conv_view: InputsView, column: int) -> None:
    """Small maps of the convolutional ladder, the current input (``column`` of ``conv_view``) placed on each.

    ``conv_view``: the conv family's view of the inputs, placed on the default maps of ``sizes``.
    """
    st.subheader(_("How the map changes with the bottleneck"))
    st.caption(_("The same held-out images in the latent space of the convolutional autoencoder at three sizes, "
                 "coloured by class as on the map above; the yellow star is your input. The 2-D code is drawn as "
                 "it is; the 8- and 32-number codes are UMAP layouts, and UMAP itself tends to make separated "
                 "clumps, so these pictures do not compare like for like. The codes tend to group by class; some "
                 "classes overlap, most at 2 numbers."))
    dims = sizes(dataset)
    cells = st.columns(len(dims) + 1)
    for cell, z in zip(cells[1:], dims):
        on_map = conv_view.maps[z]
        with cell, st.container(key=f"small_map_{z}"):
            how = _("raw 2-D code") if on_map.latent_map.drawn_as_code else on_map.latent_map.settings.method.upper()
            st.markdown(f"**z = {z}** ({how})")
            picture, uri = resources.small_map_picture(dataset, z)
            count = i18n.integer(len(on_map.latent_map.labels))
            st.html(starred_picture(picture, uri, on_map.placed[[column]],
                                    _("z = {z} map of the held-out images").format(z=z), _("your input's star"),
                                    '<figcaption class="ae-detail">'
                                    + _("{count} held-out images").format(count=count) + "</figcaption>",
                                    resources.reference_for(dataset).classes))
    with cells[0]:
        st.markdown("**" + _("z = {z}, decoded").format(z=2) + "**")
        manifold_panel(dataset, FAMILY, resources.default_map_for(dataset, FAMILY, 2))
