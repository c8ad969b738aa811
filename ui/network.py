"""The network, with the current input flowing through it: each layer's output, shape and parameters.

Computed only while its expander is open: closed, it costs a stroke nothing.
"""
from __future__ import annotations

import hashlib
import html

import streamlit as st

from ae_demo.display import bars_picture, feature_mosaic, png_data_uri
from ae_demo.messages import Message
from ae_demo.network import CODE, DECODER, ENCODER, Layer, LayerOutput, encoder_says, numbers_per_step, trace
from ae_demo.zoo import FAMILIES

from . import formulas, i18n, resources, state, theme
from .i18n import N_, _

PART_COLOURS = {ENCODER: theme.BLUE, CODE: theme.HIGHLIGHT, DECODER: theme.GREEN}
PART_SAYS = {  # the encoder's sentence depends on the model's shapes: ae_demo.network.encoder_sentence
    CODE: N_("The code: everything the decoder will ever know about the input."),
    DECODER: N_("The decoder rebuilds a picture from the code alone; training pushed it to match the input "
                "(y = x) as closely as it can."),
}


def layer_name(layer: Layer) -> str:
    """A layer's name ("conv 1 (stride 2)") in the visitor's language."""
    return i18n.error_text(layer.name)


def layer_what(layer: Layer) -> str:
    """What a layer does, one sentence in the visitor's language."""
    return i18n.error_text(layer.what)


def encoder_sentence(outputs: list[LayerOutput]) -> str:
    """``ae_demo.network.encoder_says`` in the visitor's language, its path of counts written as the language does."""
    said = encoder_says(outputs)
    counts = numbers_per_step(outputs)
    return i18n.error_text(Message(said.template, **{**said.params, "path": " → ".join(map(i18n.integer, counts))}))


def _picture(out: LayerOutput):
    if out.output.ndim == 3 and out.output.shape[0] == 1:
        return out.output[0].clip(0, 1)            # the reconstruction itself
    if out.output.ndim == 3:
        return feature_mosaic(out.output)           # the first 8 feature maps
    return bars_picture(out.output, colour=PART_COLOURS[out.layer.part], background=theme.BACKGROUND)


def _card(out: LayerOutput) -> str:
    shape = " × ".join(str(n) for n in out.shape)
    what = _("first 8 of its feature maps") if out.output.ndim == 3 and out.shape[0] > 1 else \
        (_("one bar per number") if out.output.ndim == 1 else _("the reconstruction"))
    name = html.escape(layer_name(out.layer))
    return (f'<figure class="ae-layer" style="border-top: 4px solid {PART_COLOURS[out.layer.part]}">'
            f'<div class="ae-title">{name}</div>'
            f'<img src="{png_data_uri(_picture(out))}" alt="{name}: {html.escape(what)}">'
            f'<figcaption class="ae-detail">{shape} · '
            + html.escape(_("{count} parameters").format(count=i18n.integer(out.layer.parameters))) + '<br>'
            f'{html.escape(layer_what(out.layer))}</figcaption></figure>')


# Play / Step / Back: the current input flowing through the layers, in the browser, from the pictures this
# run sent once (a layer not yet reached: its name under an empty frame, readable, as every caption must be).
# Each step lights the next layer and shows its output (LAYER_MS apart when playing); no step
# asks the server for anything. With the browser's reduced-motion setting, Play shows every layer at once.
LAYER_MS = 400
_PLAY = st.components.v2.component("ae_demo.network_play", css="""
.ae-play-controls { display: flex; gap: 0.5rem; margin-bottom: 0.5rem; align-items: center; }
.ae-play-controls button { font: inherit; padding: 0.3rem 0.9rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid rgba(250, 250, 250, 0.3); background: transparent; color: inherit; }
.ae-play-row { display: flex; flex-wrap: wrap; gap: 0.5rem; align-items: flex-start; }
.ae-play-row figure { margin: 0; width: 120px; border-top: 4px dashed var(--part); }
.ae-play-row figure.ae-lit { border-top-style: solid; } .ae-play-row figure.ae-now { outline: 2px solid var(--part); }
.ae-play-row img { background: rgba(250, 250, 250, 0.06); transition: opacity 0.3s; }
.ae-play-row img { width: 100%; display: block; image-rendering: pixelated; visibility: hidden; }
.ae-play-row figure.ae-lit img { visibility: visible; }
.ae-play-row figcaption { font-size: 0.8rem; }
@media (prefers-reduced-motion: reduce) { .ae-play-row img { transition: none; } }
""", js="""
export default function ({ data, parentElement }) {
  const layers = (data && data.layers) || [];
  const still = window.matchMedia('(prefers-reduced-motion: reduce)').matches;
  let root = parentElement.querySelector('.ae-play');
  if (!root || root.dataset.token !== data.token) {
    if (root) root.remove();
    root = document.createElement('div');
    root.className = 'ae-play';
    root.dataset.token = data.token;
    const says = data.says;
    root.innerHTML = '<div class="ae-play-controls"><button data-act="back"></button>'
      + '<button data-act="play"></button><button data-act="step"></button>'
      + '<span class="ae-play-where" aria-live="polite"></span></div><div class="ae-play-row"></div>';
    root.querySelector('[data-act=back]').textContent = '◀ ' + says.back;
    root.querySelector('[data-act=play]').textContent = '▶ ' + says.play;
    root.querySelector('[data-act=step]').textContent = says.step + ' ▶';
    const row = root.querySelector('.ae-play-row');
    for (const layer of layers) {
      const figure = document.createElement('figure');
      figure.style.setProperty('--part', layer.colour);
      const img = document.createElement('img');
      img.src = layer.uri; img.alt = layer.name;
      const caption = document.createElement('figcaption');
      caption.textContent = layer.name;
      figure.append(img, caption);
      row.append(figure);
    }
    parentElement.append(root);
    root.aeShown = 0;
  }
  const figures = [...root.querySelectorAll('figure')];
  const where = root.querySelector('.ae-play-where');
  const show = (n) => {
    root.aeShown = Math.max(0, Math.min(n, figures.length));
    figures.forEach((f, i) => { f.classList.toggle('ae-lit', i < root.aeShown);
                                f.classList.toggle('ae-now', i === root.aeShown - 1); });
    where.textContent = root.aeShown ? data.says.where.replace('{shown}', root.aeShown)
      .replace('{count}', figures.length).replace('{name}', layers[root.aeShown - 1].name) : '';
    root.dataset.shown = String(root.aeShown);
  };
  const stop = () => { clearInterval(root.aeTimer); root.aeTimer = null; };
  root.querySelector('[data-act=back]').onclick = () => { stop(); show(root.aeShown - 1); };
  root.querySelector('[data-act=step]').onclick = () => { stop(); show(root.aeShown + 1); };
  root.querySelector('[data-act=play]').onclick = () => {
    stop();
    if (still) { show(figures.length); return; }
    show(root.aeShown >= figures.length ? 1 : root.aeShown + 1);
    root.aeTimer = setInterval(() => {
      if (root.aeShown >= figures.length) { stop(); return; }
      show(root.aeShown + 1);
    }, data.layer_ms);
  };
  show(root.aeShown);
  return () => stop();
}""")


def play_control(outputs: list[LayerOutput], token: str) -> None:
    """Play / Step / Back through ``outputs``' pictures in the browser (container ``network_play``)."""
    layers = [{"name": layer_name(o.layer), "uri": png_data_uri(_picture(o)), "colour": PART_COLOURS[o.layer.part]}
              for o in outputs]
    says = {"back": _("Back"), "play": _("Play"), "step": _("Step"),
            "where": _("{shown} of {count}: {name}")}   # filled in the browser
    with st.container(key="network_play"):
        _PLAY(key="network_play_component", data={"layers": layers, "layer_ms": LAYER_MS, "says": says,
                                                  "token": f"{token}|{i18n.language()}"})


def network_section(dataset: str, family: str, z: int, current: state.InputItem) -> None:
    """The chosen model (``family`` at ``z``, the mapped size) as a diagram, with the input's outputs."""
    with st.container(key="network"):
        opened = st.expander(_("The network, layer by layer: {family}, z = {z}").format(
            family=_(FAMILIES[family]).lower(), z=z), key=state.NETWORK_OPEN, on_change="rerun")
        if not opened.open:
            return
        with opened:
            model = resources.models_for(dataset, family)[z]
            outputs = trace(model, current.prepared.image)
            total = sum(o.layer.parameters for o in outputs)
            st.caption(_("Your current input, {name}, going through the model that makes the ladder's "
                         "z = {z} picture: {steps} steps, {total} learned parameters. Blue: encoder; "
                         "yellow: the code; green: decoder. Feature maps are each stretched to their own "
                         "range (black lowest, white highest). Bars are the numbers themselves, each layer's scaled "
                         "to its own largest magnitude (the tallest bar of a layer is its largest |value|; the grey "
                         "line is 0), so bar heights compare within a layer, not across layers.").format(
                             name=current.name, z=z, steps=i18n.integer(len(outputs)), total=i18n.integer(total)))
            says = {ENCODER: encoder_sentence(outputs), **{p: _(t) for p, t in PART_SAYS.items()}}
            st.markdown(" ".join(f'<span style="color:{PART_COLOURS[p]}" aria-hidden="true">■</span> {says[p]}'
                                 for p in (ENCODER, CODE, DECODER)), unsafe_allow_html=True)
            formulas.show(*formulas.network_equations(outputs, z, PART_COLOURS))
            st.markdown(_("**Watch your input flow through it**: Play lights each layer in turn with its output; "
                          "Step and Back go one layer at a time."))
            play_control(outputs, f"{dataset}|{family}|{z}|{current.key}|"
                         + hashlib.sha1(current.prepared.image.tobytes()).hexdigest()[:12])
            st.html('<div class="ae-network">' + '<div class="ae-arrow">→</div>'.join(_card(o) for o in outputs)
                    + "</div>")
