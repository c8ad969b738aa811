"""A guided tour: a few steps, each setting the page up and saying what to notice.

The step lives in the URL (``?tour=3``), so a link in a slide opens it; Next and Back, or the
arrow keys, move through it. Applying a step sets the dataset, the family, the input, which
section is open, and scrolls to that section.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ae_demo.anomaly import UNUSUAL_PERCENTILE
from ae_demo.datasets import DEFAULT_DATASET
from ae_demo.generation import code_spread
from ae_demo.datasets import dataset as dataset_entry
from ae_demo.identity import ABOUT_AS_WELL, copies_like_heldout, probe_noun

from . import i18n, predict, resources, state, theme
from .demos.generate import DEFAULT_LATENT, DEFAULT_SEED, what_it_shows
from .features import HIDDEN as SPARSE_HIDDEN
from .i18n import N_, _
from .state import InputKind

PARAM = "tour"


@dataclass(frozen=True)
class TourStep:
    title: str
    says: str                       # two or three sentences, true of what the page shows
    section: str                    # the container key scrolled to
    dataset: str = DEFAULT_DATASET
    family: str = "conv"
    sample: int = 1500              # held-out image shown (row of the bundled sample: a 7)
    opens: str | None = None        # the key of an expander the step opens
    map_latent: int = 32


STEPS: tuple[TourStep, ...] = (
    TourStep(N_("y = x: a network trained to copy"),
             N_("An autoencoder is trained with its targets set to its inputs (y = x): it learns a function "
                "h(x) ≈ x. Copying is only interesting under a constraint: here every picture must pass through a "
                "bottleneck of z numbers, so the network has to learn what matters about digits."),
             "network", opens=state.NETWORK_OPEN),
    TourStep(N_("Watch it learn"),
             N_("Press Start to train a small autoencoder from random weights on this server. The loss curve falls, "
                "and the reconstructions of 8 images it never trains on sharpen epoch by epoch; with a 2-D code, the "
                "codes tend to group by class although the network never sees the labels; some classes overlap."),
             "learn_live", opens=state.demo_open_key("learn_live")),
    TourStep(N_("The bottleneck ladder"),
             N_("Each picture is the same input squeezed through fewer numbers and rebuilt. With 2 numbers only a "
                "rough, digit-like shape survives; by 16 or 32 the strokes come back. SSE under each picture is the "
                "squared error summed over its 784 pixels, each in [0, 1]: 0 is exact, 784 the most it can be."),
             "reconstructions"),
    TourStep(N_("PCA: the best linear autoencoder"),
             N_("On the images it was fitted to, and measured in squared error, no linear autoencoder with a z-number "
                "bottleneck beats PCA, the projection onto the top z principal directions; a linear net trained to "
                "that optimum spans the same subspace, though not necessarily with the same directions (Baldi & "
                "Hornik, 1989). The networks here are nonlinear and trained with cross-entropy, and everything is "
                "scored in SSE on held-out images: on the chart the convolutional line stays below PCA's dotted one "
                "at every size."),
             "error_chart"),
    TourStep(N_("Copying without a constraint"),
             N_("UFLDL warns that a net as wide as its input, with no constraint, can learn to copy. Here is one: 1,000 "
                "hidden units, no sparsity penalty, no weight decay. On {n_heldout} held-out {items} its mean SSE is "
                "{free_heldout}, against {bottleneck_heldout} at the z = 32 bottleneck; on drawn letters "
                "{free_letter}, on pure noise {free_noise}, on {other_noun} {free_other}. {verdict}"),
             "identity", opens=state.IDENTITY_OPEN),
    TourStep(N_("Sparsity: what hidden units learn"),
             N_("Another constraint: each hidden unit should be mostly off. A KL penalty pushes every unit's average "
                "activation towards ρ = {rho} (the value of UFLDL's MNIST exercise; the tutorial's text uses 0.05). "
                "This net's {hidden} hidden units are still fewer than the 784 pixels, so it is a bottleneck too; "
                "UFLDL argues for sparsity where the hidden layer is as large as the input or larger. Each tile is "
                "the input that excites one unit most: compare the net trained with the penalty (left) and without "
                "(right)."),
             "features", opens=state.FEATURES_OPEN),
    TourStep(N_("The latent map"),
             N_("Every dot is a held-out digit's 32-number code, laid out in 2-D by UMAP so that similar codes sit "
                "together; the colours are the true classes, which the network never saw. The yellow star is the "
                "input, placed by its nearest codes, so it always lands among dots, even for a letter. In a UMAP "
                "layout the distances between clusters and their sizes mean little."),
             "latent_map"),
    TourStep(N_("Play with the codes"),
             N_("A code is a point in a space the decoder can turn into a picture. Moving in a straight line between "
                "two inputs' codes and decoding each step shows what lies between them."),
             "playground"),
    TourStep(N_("New images from random codes"),
             N_("A VAE's KL term pulls each image's q(z|x) towards the prior N(0, I), so draws from N(0, I) land "
                "where its decoder has learned something; its held-out codes still spread wider than the prior "
                "(standard deviation {vae_sd} per code number at z = 2, against the prior's 1). The plain "
                "autoencoder has no prior: the demo draws its random codes from the box its held-out codes span, and "
                "from a Gaussian fitted to them. {new_images}"),
             "generate", opens=state.demo_open_key("generate")),
    TourStep(N_("Denoising"),
             N_("Noise is added to the input. The plain convolutional autoencoder never saw noise in training, and "
                "it does worse than leaving the input alone: its SSE against the clean digit is larger than the noisy "
                "input's own, on this 7 and, at low noise, on the held-out digits (the curves). The denoising one, "
                "trained on noisy inputs with clean targets, brings the SSE well below the noisy input's here; at "
                "very low noise even it does a little worse than leaving the input alone (the curves)."),
             "denoise", opens=state.demo_open_key("denoise")),
    TourStep(N_("How unusual is this?"),
             N_("An autoencoder usually rebuilds what resembles its training data well and the rest worse, so its "
                "error can score how unusual an input is: here as the share of held-out images with a smaller error. "
                "Upload a letter or noise and watch the score rise, though not always: letters such as I, l and O can "
                "pass as digits, and {ordinary_above} % of real digits score at the {unusual}th percentile or "
                "above."),
             "anomaly", opens=state.demo_open_key("anomaly")),
    TourStep(N_("Latent arithmetic"),
             N_("A direction in code space can carry meaning: add the difference of two class means to the input's "
                "code and decode. At strength 0 it is the input's own reconstruction; stronger, a 7 drifts towards a 1."),
             "arithmetic", opens=state.demo_open_key("arithmetic")),
)


def _figures(step: TourStep) -> dict[str, str]:
    """The figures a step's text quotes, from their sources and written for the visitor's language: the sparse
    net's card, the anomaly score's threshold, and for the unconstrained net's step what ``ae_demo.identity``
    measured (``resources.copy_errors_for``)."""
    sparse = resources.zoo().card(step.dataset, "sparse", SPARSE_HIDDEN)
    figures = {"rho": i18n.number(sparse.recipe["sparsity_target"], None), "hidden": i18n.integer(SPARSE_HIDDEN),
               "unusual": i18n.number(UNUSUAL_PERCENTILE, 0), "ordinary_above": i18n.number(100 - UNUSUAL_PERCENTILE, 0)}
    if "{new_images}" in step.says:   # computed only for the step that quotes them: the demo's own figures
        figures["vae_sd"] = i18n.number(float(code_spread(resources.code_maps_2d(step.dataset).vae_codes).mean()))
        figures["new_images"] = what_it_shows(step.dataset, DEFAULT_LATENT, DEFAULT_SEED)
    if step.section == "identity":
        figures.update(identity_figures(step.dataset))
    return figures


def identity_figures(dataset: str) -> dict[str, str]:
    """The unconstrained net's step's figures and its verdict, from what was measured on ``dataset``, written for
    the visitor's language."""
    rows, _share, _never = resources.copy_errors_for(dataset)
    bottleneck, free = rows[0], rows[-1]
    items = _(dataset_entry(dataset).items)
    copied = [k for k in free.probes if copies_like_heldout(free, k)]
    missed = [k for k in free.probes if k not in copied]
    said = []
    if copied:
        said.append(_("It copies {probes} about as well as {items} (within {times}x): there it learned to copy, not "
                      "what {items} are.").format(probes=i18n.join([_(probe_noun(k, dataset)) for k in copied]),
                                                  items=items, times=i18n.number(ABOUT_AS_WELL, None)))
    if missed:
        said.append(_("It does not copy {probes}: trained only on {items}, it learned to copy inputs like them (the "
                      "section says where the error lies).").format(
                          probes=i18n.join([_(probe_noun(k, dataset)) for k in missed], "or"), items=items))
    return {"n_heldout": i18n.integer(free.n_heldout), "items": items, "free_heldout": i18n.number(free.heldout, 2),
            "bottleneck_heldout": i18n.number(bottleneck.heldout, 2),
            "free_letter": i18n.number(free.probes["letter"], 2), "free_noise": i18n.number(free.probes["noise"], 2),
            "free_other": i18n.number(free.probes["other"], 2), "other_noun": _(probe_noun("other", dataset)),
            "verdict": " ".join(said)}


def current_step() -> int | None:
    """1-based step from the URL, or None when no tour runs."""
    raw = st.query_params.get(PARAM, "")
    return min(max(int(raw), 1), len(STEPS)) if raw.isdigit() else None


def _apply(number: int) -> None:
    """Set the page up for step ``number``: runs before any widget of the page is made."""
    step = STEPS[number - 1]
    st.query_params[PARAM] = str(number)
    state.set_widget(state.DATASET, step.dataset)
    state.set_widget(state.FAMILY, step.family)
    state.visitor().sample_index = step.sample
    state.visitor().current = InputKind.SAMPLE.value
    state.set_widget(state.MAP_LATENT, step.map_latent)
    for key in {s.opens for s in STEPS if s.opens}:
        state.set_widget(key, key == step.opens)
    state.visitor().tour_applied = number


def follow_the_url() -> None:
    """At the top of the page: a link (``?tour=k``) or a new step sets the page up once."""
    number = current_step()
    if number is not None and state.visitor().tour_applied != number:
        _apply(number)


def _go(number: int) -> None:
    _apply(min(max(number, 1), len(STEPS)))


def _move(by: int) -> None:
    """Back or Next, relative to the step applied last: a second press that lands while the page is
    still drawing the first one's step reaches the previous run's button, and must still move on."""
    _go((state.visitor().tour_applied or current_step() or 1) + by)


def _end() -> None:
    st.query_params.pop(PARAM, None)
    state.visitor().tour_applied = None


# Scrolls the page to a section once it is on the page (below the ladder it comes a run later).
_SCROLL = st.components.v2.component("ae_demo.scroll_to", js="""
export default function ({ data, parentElement }) {
  const target = data && data.target;
  if (!target || parentElement.aeScrolled === data.token) return;
  // Sections above the target are laid out lazily (content-visibility), so the target moves while
  // they render: scroll again until it stays put, for a few seconds at most.
  let tries = 0, last = null;
  const find = () => {
    const el = document.querySelector(`.st-key-${target}`);
    if (el) {
      el.scrollIntoView({behavior: "instant", block: "start"});
      const top = Math.round(el.getBoundingClientRect().top);
      if (top === last && tries > 10) { parentElement.aeScrolled = data.token; return; }
      last = top;
    }
    if (tries++ < 60) parentElement.aeTimer = setTimeout(find, 150);
  };
  find();
  return () => clearTimeout(parentElement.aeTimer);
}""")


# Keeps the fixed tour panel clear of the sidebar: the sidebar's right edge, as the page lays it out
# now (opened, closed, resized by hand), in a CSS variable that the panel's left edge follows.
_CLEAR_THE_SIDEBAR = st.components.v2.component("ae_demo.clear_the_sidebar", js="""
export default function ({ parentElement }) {
  const fit = () => {
    const bar = document.querySelector('[data-testid=stSidebar]');
    const right = bar ? Math.max(0, Math.round(bar.getBoundingClientRect().right)) : 0;
    document.documentElement.style.setProperty('--ae-sidebar-right', right + 'px');
  };
  fit();
  const bar = document.querySelector('[data-testid=stSidebar]');
  const resized = new ResizeObserver(fit), changed = new MutationObserver(fit);
  if (bar) { resized.observe(bar); changed.observe(bar, {attributes: true}); bar.addEventListener('transitionend', fit); }
  window.addEventListener('resize', fit);
  const slides = setInterval(fit, 400);  // the sidebar slides in and out by a transform, which no observer sees
  return () => { resized.disconnect(); changed.disconnect(); window.removeEventListener('resize', fit);
                 clearInterval(slides); if (bar) bar.removeEventListener('transitionend', fit); };
}""")


def tour_panel() -> None:
    """The tour's bar under the title: step k of n, what to notice, Back / Next (or ← / →), End."""
    number = current_step()
    with st.container(key="tour"):
        if number is None:
            st.button(_("Take the guided tour"), key="tour_start", icon=":material/school:", on_click=_go, args=(1,))
            return
        step = STEPS[number - 1]
        # a bar along the bottom of the window: in view wherever the step scrolls the page
        st.html("<style>.st-key-tour { position: fixed; bottom: 0; left: var(--ae-sidebar-right, 0px); right: 0;"
                " width: auto !important; z-index: 1000;"
                f" background: #1b1f2a; border-top: 3px solid {theme.HIGHLIGHT}; padding: 0.75rem 2rem 0.5rem;"
                " max-height: 40vh; overflow-y: auto; }"
                " [data-testid='stMain'] { padding-bottom: 14rem; }</style>")
        st.markdown("**" + _("Guided tour · step {number} of {count}: {title}").format(
            number=number, count=len(STEPS), title=_(step.title)) + "**")
        st.markdown(_(step.says).format(**_figures(step)))
        predict.predict_panel(step.section, step.dataset, step.family, state.visitor().current_item())
        back, forward, end, _spacer = st.columns([1, 1, 1, 5])
        back.button(_("Back"), key="tour_back", icon=":material/arrow_back:", disabled=number == 1,
                    on_click=_move, args=(-1,), shortcut="Left")
        forward.button(_("Next"), key="tour_next", icon=":material/arrow_forward:", type="primary",
                       disabled=number == len(STEPS), on_click=_move, args=(1,), shortcut="Right")
        end.button(_("End the tour"), key="tour_end", on_click=_end)
        st.caption(_("← and → on the keyboard go back and forward."))
        _SCROLL(key="tour_scroll", data={"target": step.section, "token": f"{number}"})
        _CLEAR_THE_SIDEBAR(key="tour_clear_sidebar")
