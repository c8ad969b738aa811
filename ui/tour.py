"""A guided tour: a few steps, each setting the page up and saying what to notice.

The step lives in the URL (``?tour=3``), so a link in a slide opens it; Next and Back, or the
arrow keys, move through it. Applying a step sets the dataset, the family, the input, which
section is open, and scrolls to that section.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from ae_demo.datasets import DEFAULT_DATASET

from . import state, theme
from .i18n import N_, _
from .state import InputKind

PARAM = "tour"
_APPLIED = "tour_applied"   # the step whose page set-up has been applied (session state)


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
             "reconstructions"),
    TourStep("The bottleneck ladder",
             "Each picture is the same input squeezed through fewer numbers and rebuilt. With 2 numbers only a "
             "rough, digit-like shape survives; by 16 or 32 the strokes come back. SSE under each picture is the "
             "squared error over its 784 pixels.",
             "reconstructions"),
    TourStep("PCA: the best linear autoencoder",
             "A linear autoencoder with a z-number bottleneck can do no better than PCA: projecting onto the top "
             "z principal directions of the data. The chart shows the held-out error of both against z: the "
             "nonlinear network's line stays below PCA's dotted one at every size.",
             "error_chart"),
    TourStep("Sparsity: what hidden units learn",
             "Another constraint: many hidden units (196), but each one mostly off. A KL penalty pushes every "
             "unit's average activation towards ρ = 0.1. Each tile is the input that excites one unit most: "
             "compare the net trained with the penalty (left) and without (right).",
             "features", opens="features_open"),
    TourStep("The latent map",
             "Every dot is a held-out digit's 32-number code, laid out in 2-D by UMAP so that similar codes sit "
             "together; the colours are the true classes, which the network never saw. The yellow star is the "
             "input, placed by its nearest codes.",
             "latent_map"),
    TourStep("The network, layer by layer",
             "The encoder's convolutions turn the picture into feature maps, smaller and more numerous; a linear "
             "layer squeezes them into the code. The decoder runs the same road back, and only the code crosses "
             "the bottleneck.",
             "network", opens="network_open"),
    TourStep("Play with the codes",
             "A code is a point in a space the decoder can turn into a picture. Moving in a straight line between "
             "two inputs' codes and decoding each step shows what lies between them.",
             "playground"),
    TourStep("Watch it learn",
             "Press Start to train a small autoencoder from random weights on this server. The loss curve falls, "
             "and the reconstructions of 8 images it never trains on sharpen epoch by epoch; with a 2-D code, the "
             "map of the codes sorts itself by class although the network never sees the labels.",
             "learn_live", opens="demo_learn_live_open"),
    TourStep("Denoising",
             "Noise is added to the input. The plain convolutional autoencoder rebuilds some of the noise; the "
             "denoising one, trained on noisy inputs with clean targets, removes more of it: compare the SSE under "
             "each picture and the two curves over the noise level.",
             "denoise", opens="demo_denoise_open"),
    TourStep("How unusual is this?",
             "An autoencoder rebuilds what resembles its training data well and the rest badly, so its error scores "
             "how unusual an input is: here as the share of held-out images with a smaller error. Upload a letter "
             "or noise and watch the score rise.",
             "anomaly", opens="demo_anomaly_open"),
    TourStep("New images from random codes",
             "A VAE keeps its codes close to N(0, I), so random draws from N(0, I) decode to digit-like images. "
             "The plain autoencoder's codes crowd into clumps: random codes in the box they span often land in "
             "the holes between them and decode to blurs.",
             "generate", opens="demo_generate_open"),
    TourStep("Latent arithmetic",
             "A direction in code space can carry meaning: add the difference of two class means to the input's "
             "code and decode. At strength 0 it is the input's own reconstruction; stronger, a 7 drifts towards a 1.",
             "arithmetic", opens="demo_arithmetic_open"),
)


def current_step() -> int | None:
    """1-based step from the URL, or None when no tour runs."""
    raw = st.query_params.get(PARAM, "")
    return min(max(int(raw), 1), len(STEPS)) if raw.isdigit() else None


def _apply(number: int) -> None:
    """Set the page up for step ``number``: runs before any widget of the page is made."""
    step = STEPS[number - 1]
    st.query_params[PARAM] = str(number)
    st.session_state[state.DATASET] = step.dataset
    st.session_state[state.FAMILY] = step.family
    state.set_sample_index(step.sample)
    state.set_current(InputKind.SAMPLE.value)
    st.session_state["map_latent"] = step.map_latent
    for key in {s.opens for s in STEPS if s.opens}:
        st.session_state[key] = key == step.opens
    st.session_state[_APPLIED] = number


def follow_the_url() -> None:
    """At the top of the page: a link (``?tour=k``) or a new step sets the page up once."""
    number = current_step()
    if number is not None and st.session_state.get(_APPLIED) != number:
        _apply(number)


def _go(number: int) -> None:
    _apply(min(max(number, 1), len(STEPS)))


def _move(by: int) -> None:
    """Back or Next, relative to the step applied last: a second press that lands while the page is
    still drawing the first one's step reaches the previous run's button, and must still move on."""
    _go((st.session_state.get(_APPLIED) or current_step() or 1) + by)


def _end() -> None:
    st.query_params.pop(PARAM, None)
    st.session_state.pop(_APPLIED, None)


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
        st.markdown(_(step.says))
        back, forward, end, _spacer = st.columns([1, 1, 1, 5])
        back.button(_("Back"), key="tour_back", icon=":material/arrow_back:", disabled=number == 1,
                    on_click=_move, args=(-1,), shortcut="Left")
        forward.button(_("Next"), key="tour_next", icon=":material/arrow_forward:", type="primary",
                       disabled=number == len(STEPS), on_click=_move, args=(1,), shortcut="Right")
        end.button(_("End the tour"), key="tour_end", on_click=_end)
        st.caption(_("← and → on the keyboard go back and forward."))
        _SCROLL(key="tour_scroll", data={"target": step.section, "token": f"{number}"})
        _CLEAR_THE_SIDEBAR(key="tour_clear_sidebar")
