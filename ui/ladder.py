"""The bottleneck ladder: what each code size keeps of the input, PCA beneath, and the error chart."""
from __future__ import annotations

import hashlib

import numpy as np
import streamlit as st

from ae_demo.display import error_heatmap, png_data_uri
from ae_demo.inference import LadderResult
from ae_demo.view import InputsView
from ae_demo.zoo import FAMILIES

from . import charts, exports, formulas, i18n, rerun, resources, state, theme
from .i18n import N_, _
from .pictures import Picture, picture_grid


# what the numbers under every ladder picture are (metrics.sse, metrics.psnr)
SSE_SAYS = N_("SSE: the squared error summed over the 784 pixels, each in [0, 1], so from 0 (exact) to at most 784; "
              "lower is better.")
PSNR_SAYS = N_("PSNR = 10·log₁₀(1 / MSE) in dB, with MSE = SSE / 784; higher is better.")


def _ladder_row(target: np.ndarray, target_uri: str, result: LadderResult, column: int, heatmaps: bool,
                label: str, name: str, heading: str = "") -> None:
    """The input and its reconstruction at every size, each an <img> of its own, in one HTML block.

    Inline PNGs in one element: a stroke costs the browser one update and no image requests,
    where fourteen st.image elements cost fourteen updates and fourteen fetches. The block is
    kept by its content (``resources.rendered_html``): the whole-page run that follows a stroke
    shows the same ladder again without encoding it again. ``target_uri``: the input's picture, already
    encoded; ``name``: what the page calls the input; ``heading``: HTML put before the row, in the same element.
    Each picture's alt text says what it shows and its error, in the visitor's language.
    """
    recons, sse, psnr = result.reconstructions[:, column], result.sse[:, column], result.psnr[:, column]
    digest = hashlib.sha1(b"".join(np.ascontiguousarray(a, np.float32).tobytes()
                                   for a in (target, recons, sse, psnr))).hexdigest()

    def make() -> str:
        cells = [Picture(target_uri, _("the input, {name}: 28×28").format(name=name),
                               _("28×28, 784 numbers"), _("Input"))]
        for i, z in enumerate(result.latent_dims):
            picture = error_heatmap(recons[i], target) if heatmaps else recons[i]
            says = dict(family=label, name=name, z=z, sse=i18n.number(sse[i]), psnr=i18n.number(psnr[i]))
            alt = (_("per-pixel error of the {family} reconstruction of {name} at z = {z} (dark blue: exact, "
                     "yellow: wrong), SSE {sse}") if heatmaps else
                   _("{family} reconstruction of {name} at z = {z}, SSE {sse}, PSNR {psnr} dB")).format(**says)
            cells.append(Picture(png_data_uri(picture), alt, "SSE {sse} · {psnr} dB".format(**says), f"z = {z}"))
        return heading + picture_grid("ae-ladder", cells, _("{family}: the input, then its reconstruction "
                                                                  "at each size").format(family=label))

    # one string for a key: Streamlit's cache hashes a str at once, a tuple element by element
    st.html(resources.rendered_html(f"ladder|{i18n.language()}|{label}|{name}|{heading}|{heatmaps}|"
                                    f"{result.latent_dims}|{digest}", make))


def reconstructions_section(family: str, view: InputsView, current: state.InputItem, column: int) -> None:
    """The bottleneck ladder for the current input, then PCA at the same sizes."""
    target = current.prepared.image
    with st.container(key="reconstructions"):
        st.subheader(_("What {sizes} numbers keep").format(sizes=", ".join(map(str, view.latent_dims))))
        # the pictures first, right under the heading: what explains them and the switch follow them
        heatmaps = bool(state.widget(state.ERROR_HEATMAPS, False))
        target_uri = current.picture_uris[1]  # encoded once per input (state.InputItem.picture_uris)
        _ladder_row(target, target_uri, view.net, column, heatmaps, _(FAMILIES[family]), current.name)
        _ladder_row(target, target_uri, view.pca, column, heatmaps, "PCA", current.name,
                    heading=_("<p><strong>PCA at the same sizes</strong> — in squared error on the images it was "
                              "fitted to, the best any <em>linear</em> autoencoder can do; its output clipped to "
                              "[0, 1] here</p>"))
        st.caption(_("The input squeezed through a bottleneck of z numbers by the {family} autoencoder, then "
                     "rebuilt.").format(family=_(FAMILIES[family]).lower()) + " " + _(SSE_SAYS) + " " + _(PSNR_SAYS))
        st.toggle(_("Show per-pixel error instead (dark blue = exact, yellow = wrong)"), key=state.ERROR_HEATMAPS)
        if not rerun.painting_first():  # KaTeX's typesetting held back a reload's first pictures
            formulas.show(formulas.LADDER_LOSS, formulas.LADDER_WORDS)


def uploads_section(items: list[state.InputItem], view: InputsView) -> None:
    """One result per uploaded image, named by its file: a row of inline pictures each, kept by content as the
    ladder is (a stroke reruns this with every upload unchanged: no picture is encoded again)."""
    uploads = [(i, item) for i, item in enumerate(items) if item.kind is state.InputKind.UPLOAD]
    if not uploads:
        return
    net = view.net
    with st.expander(_("Every upload ({count})").format(count=len(uploads)), expanded=len(uploads) > 1), \
            st.container(key="upload_results"):
        st.caption(_(SSE_SAYS))
        for column, item in uploads:
            def make(column=column, item=item) -> str:
                cells = [Picture(item.picture_uris[1], _("the input, {name}: 28×28").format(name=item.name),
                                       "28×28", item.name)]
                cells += [Picture(png_data_uri(net.reconstructions[i, column]),
                                        _("reconstruction of {name} at z = {z}, SSE {sse}").format(
                                            name=item.name, z=z, sse=i18n.number(net.sse[i, column], 0)),
                                        "SSE " + i18n.number(net.sse[i, column], 0), f"z = {z}")
                          for i, z in enumerate(net.latent_dims)]
                return picture_grid("ae-ladder", cells, item.name)

            digest = hashlib.sha1(net.reconstructions[:, column].tobytes()).hexdigest()
            st.html(resources.rendered_html(f"upload|{i18n.language()}|{item.key}|{item.name}|{net.latent_dims}|"
                                            f"{digest}", make))


def error_chart_section(dataset: str, family: str, view: InputsView, column: int) -> None:
    """Held-out error against latent size for every family and PCA, with this input's errors on top."""
    st.subheader(_("Error against bottleneck size"))
    zoo = resources.zoo()
    n_heldout = zoo.samples[dataset].n_images
    st.caption(_("Lines: mean SSE over the 784 pixels on the {count} held-out images (from the model card; PCA's "
                 "output unclipped there). Stars: your current input, as the ladder scores it (PCA clipped to [0, 1]). "
                 "The networks were trained to minimise cross-entropy, PCA squared error on its training images; all "
                 "are scored here in SSE.").format(count=i18n.integer(n_heldout)))
    stars = [{"type": "scatter", "x": list(result.latent_dims), "y": result.sse[:, column].tolist(),
              "mode": "markers", "name": _("your input · {family}").format(family=_(FAMILIES[fam])),
              "marker": {"symbol": "star", "size": 14, "color": theme.FAMILY_COLOURS[fam],
                         "line": {"color": "white", "width": 1}}}
             for fam, result in ((family, view.net), ("pca", view.pca))]
    fig = charts.assemble(resources.error_chart_base(dataset, i18n.language()), stars)
    st.plotly_chart(fig, key="error_chart", config=exports.chart_config("error-against-size"))
    # the chart's numbers as text, for a screen reader (a Plotly chart is a picture to it)
    st.caption(" ".join(_("Your input's SSE, {family}: {values}.").format(
        family=_(FAMILIES[fam]), values="; ".join(f"z = {z}: {i18n.number(e)}"
                                               for z, e in zip(result.latent_dims, result.sse[:, column])))
        for fam, result in ((family, view.net), ("pca", view.pca))))
