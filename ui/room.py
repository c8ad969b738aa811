"""The class room on the page: the teacher starts one, students join it by link or QR code, the class's
drawings land on the teacher's map, and the teacher asks polls.

- ``?room=CODE&key=SECRET``: the teacher's page (bookmarked), with the invitation (``room_invite``) and
  the room panel (``room``): the counts, the room map (``room_map``), the gallery (``room_gallery``),
  moderation and polls (``room_poll``). The panel is a fragment that checks the room's version every
  ``PANEL_REFRESH_S`` and computes only when it moved.
- ``?room=CODE``: a student's page, the normal app under a banner (``room_member``). Each new current
  input is shared (``share_current``, called by the workbench on every stroke); a fragment checks only
  the room's current poll every ``POLL_CHECK_S``. A student never loads other students' drawings.

The rooms themselves live in ``ae_demo.rooms`` (``resources.room_store``). Nothing a student sends is
rendered as HTML or Markdown: nicknames go into HTML escaped, and poll texts into Markdown as literal
text (``literal``). When the store does not answer, the room's panels say so and try again; the rest
of the page does not wait for it.
"""
from __future__ import annotations

import hashlib
import html
import re
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import plotly.graph_objects as go
import segno
import streamlit as st

from ae_demo import rooms
from ae_demo.messages import Message
from ae_demo.display import png_data_uri
from ae_demo.inference import run_ladder
from ae_demo.view import NEIGHBOURS, InputsView

from . import charts, i18n, predict, resources, state, theme, tour
from .i18n import N_, _

PANEL_REFRESH_S = 1.0     # the teacher's panel checks the room's version this often: a new star waits up to this
                          # for the next look, of the 2 s it may take; each look that finds drawings redraws the panel
POLL_CHECK_S = 3.0        # a student's page checks for the room's current poll this often
GALLERY_SIZES = {N_("small"): 56, N_("medium"): 84, N_("large"): 140}   # px per picture
ORDERS = (N_("time"), N_("predicted class"), N_("most unusual"))
_UNREACHABLE = Message("The class room is unreachable just now (its store does not answer). Retrying by itself; "
                       "everything else on this page works as before.")
_KINDS = {state.InputKind.DRAWING: rooms.DrawingKind.DRAWING, state.InputKind.UPLOAD: rooms.DrawingKind.UPLOAD,
          state.InputKind.SAMPLE: rooms.DrawingKind.SAMPLE, state.InputKind.CAMERA: rooms.DrawingKind.CAMERA}
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&=\"'])")


def literal(text: str) -> str:
    """``text`` for a Markdown label, shown as typed: every Markdown character escaped, one line."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _store() -> rooms.RoomStore:
    return resources.room_store()


# --------------------------------------------------------------------------- who this visitor is

def follow_the_url() -> state.RoomSeat | None:
    """Seat this visitor by the URL: ``?room=`` joins as a student, with ``&key=`` opens the teacher's page."""
    params = st.query_params
    code = params.get("room")
    seat = state.visitor().room_seat
    if not code:
        if seat is not None:
            state.visitor().seat_in_room(None)
        return None
    key = params.get("key")
    if seat is not None and seat.code == code.strip().upper() and seat.key == (key or None):
        return seat
    store = _store()
    try:
        if "key" in params:
            room = store.room(code)
            if not store.is_teacher(room.code, key):
                seat = state.RoomSeat(room.code, problem=Message(
                    "This link's teacher key does not open class room {code}, so it steers nothing. Open the "
                    "teacher's link you bookmarked, or join as a student with the link without the key.",
                    code=room.code))
            else:
                seat = state.RoomSeat(room.code, key=key, room=room)
        else:
            member = store.join(code, params.get("member"))
            room = store.room(code)
            params["member"] = member  # a reload, or a page back on another replica, is the same member
            seat = state.RoomSeat(room.code, member=member, room=room)
    except rooms.StoreUnreachable:
        return state.RoomSeat(code, problem=_UNREACHABLE)  # not kept: the next run tries again
    except rooms.RoomError as error:
        seat = state.RoomSeat(code.strip().upper()[:12], problem=error.message)
    state.visitor().seat_in_room(seat)
    return seat


def _start_room(dataset: str, family: str, latent_dim: int) -> None:
    try:
        room, key = _store().create_room(dataset, family, latent_dim)
    except rooms.RoomError as error:  # the store is full, or unreachable
        state.visitor().room_message = error.message
        return
    st.query_params["room"], st.query_params["key"] = room.code, key
    st.query_params.pop("member", None)
    state.visitor().seat_in_room(state.RoomSeat(room.code, key=key, room=room))
    resources.unprocessed_error_reference(dataset)  # made now, not in the first student's stroke (a second or so)


def sidebar_section(seat: state.RoomSeat | None, dataset: str, family: str, latent_dim: int) -> None:
    """The sidebar's class-room part: start a room, or which room this page is in."""
    st.sidebar.markdown(_("**Class room**"))
    if seat is not None and seat.key is not None:
        st.sidebar.caption(_("You teach class room {code}. Bookmark this page: its link holds your teacher key.")
                           .format(code=seat.code))
        return
    if seat is not None and seat.member is not None:
        st.sidebar.caption(_("You are in class room {code}.").format(code=seat.code))
        return
    st.sidebar.button(_("Start a class room"), key=state.ROOM_START, on_click=_start_room,
                      args=(dataset, family, latent_dim),
                      help=_("Students join with a link or a QR code; their drawings appear on your map, and you can "
                             "ask them polls. The room uses this dataset, model family and the z = {z} map.")
                      .format(z=latent_dim))
    problem = state.visitor().take_room_message()
    if problem:
        st.sidebar.error(i18n.error_text(problem))


def room_panels(seat: state.RoomSeat | None) -> None:
    """Under the title: the teacher's invitation and room panel, or a student's banner and poll."""
    if seat is None:
        return
    if seat.key is not None:
        invitation(seat)
        with st.container(key="room"):
            _teacher_panel(seat.code, seat.key)
    else:
        with st.container(key="room_member"):
            member_banner(seat)


# --------------------------------------------------------------------------- the teacher

def student_link(code: str) -> str:
    """The link students open: this page's address with ``?room=CODE`` and nothing else (never the key)."""
    parts = urlsplit(st.context.url or "http://localhost:8501/")
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", f"room={code}", ""))


def invitation(seat: state.RoomSeat) -> None:
    """The student link in large type and its QR code, readable from the back of a hall."""
    link = student_link(seat.code)
    qr = segno.make(link, error="m")
    alt = _("QR code of {link}").format(link=link)
    scan = _("Scan the code or open the link: your drawings appear on this map, without your names.")
    with st.container(key="room_invite"):
        st.html(f'<div style="display:flex; gap:2rem; align-items:center; flex-wrap:wrap">'
                f'<img src="{qr.svg_data_uri(scale=10, border=2, dark="#000000", light="#ffffff")}" '
                f'alt="{html.escape(alt)}" style="width:min(320px, 80vw); image-rendering:pixelated; '
                f'background:#fff">'
                f'<div><div style="font-size:1.4rem">{html.escape(_("Join class room"))}</div>'
                f'<div style="font-size:4rem; font-weight:700; letter-spacing:0.3rem">{html.escape(seat.code)}</div>'
                f'<div style="font-size:1.6rem; word-break:break-all">{html.escape(link)}</div>'
                f'<div style="opacity:0.7">{html.escape(scan)}</div></div></div>')


@st.fragment(run_every=PANEL_REFRESH_S)
def _teacher_panel(code: str, key: str) -> None:
    store = _store()
    try:
        version = store.version(code)
        panel = state.visitor().room_panel
        if panel is None or panel.version != version:
            view = store.class_view(code, key)
            panel = state.RoomPanel(view.version, view, _still_shown(view, panel))
            state.visitor().room_panel = panel
    except rooms.StoreUnreachable:
        st.warning(i18n.error_text(_UNREACHABLE))
        return
    except rooms.RoomError as error:
        st.error(i18n.error_text(error))
        return
    message = state.visitor().take_room_message()
    if message:
        st.error(i18n.error_text(message))
    view = panel.view
    if view.room.closed:
        st.info(_("Class room {code} is closed. Start a new one from the sidebar (remove ?room= from the address "
                  "first).").format(code=code))
        return
    c = view.counts
    shared = (_("{n} drawing shared") if c.shared == 1 else _("{n} drawings shared")).format(n=i18n.integer(c.shared))
    members = _("{n} in the room").format(n=i18n.integer(c.members))
    st.markdown("**" + _("{members}, {shared}").format(members=members, shared=shared) + "**"
                + (" " + _("({n} hidden)").format(n=i18n.integer(c.hidden)) if c.hidden else "")
                + (" · " + _("locked: no new members") if view.room.locked else ""))
    labels = _labels(view)
    map_column, side = st.columns([3, 2], gap="medium")
    with map_column:
        selected = _room_map(view)
    with side:
        _look_at(panel, labels, selected)
        _poll_admin(code, key, view)
    _gallery(panel, labels)
    _moderation(code, key, view, labels)


@dataclass(frozen=True)
class GalleryPicture:
    """A drawing as the teacher's panel shows it: its reconstruction at one size, and both as inline PNGs."""

    reconstruction: np.ndarray   # (28, 28) float32 in [0, 1]: the room's model family at that size
    picture_uri: str
    reconstruction_uri: str


def _still_shown(view: rooms.ClassView, before: state.RoomPanel | None) -> dict:
    """The pictures of ``before`` whose drawings ``view`` still shows: a drawing is run and encoded once per size."""
    if before is None:
        return {}
    shown = {(d.member, d.at) for d in view.drawings}
    return {key: picture for key, picture in before.pictures.items() if key[:2] in shown}


def _pictures(panel: state.RoomPanel, indices: list[int], latent_dim: int) -> dict[int, GalleryPicture]:
    """Drawing index -> its picture at ``latent_dim`` for ``indices`` of the panel's drawings; those not yet
    reconstructed at that size go through the room's model family as one batch."""
    drawings, room = panel.view.drawings, panel.view.room
    new = [i for i in indices if (drawings[i].member, drawings[i].at, latent_dim) not in panel.pictures]
    if new:
        model = resources.models_for(room.dataset, room.family)[latent_dim]
        images = np.stack([drawings[i].picture for i in new]).astype(np.float32) / 255.0
        for i, reconstruction in zip(new, run_ladder({latent_dim: model}, images).reconstructions[0]):
            panel.pictures[(drawings[i].member, drawings[i].at, latent_dim)] = GalleryPicture(
                reconstruction, png_data_uri(drawings[i].picture), png_data_uri(reconstruction))
    return {i: panel.pictures[(drawings[i].member, drawings[i].at, latent_dim)] for i in indices}


def _classes(room: rooms.Room) -> tuple[str, ...]:
    return resources.reference_for(room.dataset).classes


def _labels(view: rooms.ClassView) -> list[str]:
    """Each drawing's label ("#n · class · time · nickname"), made once per panel run: the gallery, the
    moderation list and the chosen drawing all show it, and each label asked the server's caches for the classes."""
    classes = _classes(view.room)
    labels = []
    for index, drawing in enumerate(view.drawings):
        name = classes[drawing.predicted] if drawing.predicted < len(classes) else str(drawing.predicted)
        nickname = view.nicknames.get(drawing.member)
        labels.append(f"#{index + 1} · {_(name)} · {time.strftime('%H:%M:%S', time.localtime(drawing.at))}"
                      + (f" · {nickname}" if nickname else ""))
    return labels


def _room_map(view: rooms.ClassView) -> int | None:
    """The room's drawings as stars on the teacher's map, coloured by their neighbours' class; returns the
    index of a clicked star's drawing."""
    room = view.room
    classes = _classes(room)
    base = resources.map_base_figure(room.dataset, room.family, room.latent_dim, None, False, i18n.language())
    stars = []
    for label in sorted({d.predicted for d in view.drawings}):
        rows = [i for i, d in enumerate(view.drawings) if d.predicted == label]
        name = classes[label] if label < len(classes) else str(label)
        stars.append({"type": "scattergl", "x": [view.drawings[i].placed[0] for i in rows],
                      "y": [view.drawings[i].placed[1] for i in rows], "mode": "markers",
                      "name": _("the class's drawings · {name}").format(name=_(name)),
                      # member and time: which drawing a click picks, and what a benchmark reads as arrived
                      "customdata": [[i, view.drawings[i].member, view.drawings[i].at] for i in rows],
                      "hovertemplate": _("drawing #{number} · looks like {name}").format(
                          number="%{customdata[0]}", name=_(name)) + "<extra></extra>",
                      "marker": {"symbol": "star", "size": 18, "color": theme.CLASS_COLOURS[label % 10],
                                 "line": {"color": theme.STAR_OUTLINE, "width": 1.5}}})
    for trace in stars:  # hovertemplate numbers from 1
        trace["customdata"] = [[i + 1, m, at] for i, m, at in trace["customdata"]]
    st.caption(_("The room map: each dot is a held-out image on the z = {z} map of the room's model; each star a "
                 "student's current input, placed among its nearest codes and coloured by the class most of its 8 "
                 "nearest held-out images have. Click a star to look at it.").format(z=room.latent_dim))
    st.caption(_map_summary(view, classes))
    event = st.plotly_chart(charts.assemble(base, stars), key="room_map", on_select="rerun",
                            selection_mode="points")
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    for point in points:
        custom = point.get("customdata")
        if isinstance(custom, list) and len(custom) == 3:
            index = int(custom[0]) - 1
            if 0 <= index < len(view.drawings) and view.drawings[index].member == custom[1]:
                return index
    return None


def _map_summary(view: rooms.ClassView, classes: tuple[str, ...]) -> str:
    """The room map's stars in words, for a screen reader (a Plotly chart is a picture to it)."""
    if not view.drawings:
        return _("No stars on the map yet.")
    counts = np.bincount([d.predicted for d in view.drawings])
    return _("Stars on the map by the class their neighbours give them: {counts}.").format(counts="; ".join(
        f"{_(classes[label]) if label < len(classes) else label}: {i18n.integer(n)}"
        for label, n in enumerate(counts) if n))


def _look_at(panel: state.RoomPanel, labels: list[str], selected: int | None) -> None:
    if selected is None:
        st.caption(_("Click a star on the map to see that drawing and its reconstruction here."))
        return
    view = panel.view
    drawing = view.drawings[selected]
    left, right = st.columns(2)
    said = _("drawing {label}").format(label=labels[selected])
    again = _("its reconstruction at z = {z}").format(z=view.room.latent_dim)
    left.image(drawing.picture, caption=said, width="stretch", alt=said)
    right.image(_pictures(panel, [selected], view.room.latent_dim)[selected].reconstruction, caption=again,
                width="stretch", alt=again)
    st.caption(_("More unusual than {percent} % of held-out images (its reconstruction error against theirs).")
               .format(percent=int(drawing.unusual)))


def _gallery(panel: state.RoomPanel, labels: list[str]) -> None:
    """The drawings with their reconstructions at a bottleneck size the teacher chooses (the room's map size
    first), sorted as the teacher asks, the pictures as large as the room needs."""
    view = panel.view
    with st.container(key="room_gallery"):
        st.markdown(_("**The gallery**"))
        top = st.columns([3, 3, 2])
        order = top[0].radio(_("Sort by"), ORDERS, key="room_gallery_order", horizontal=True,
                             format_func=i18n.fixed())
        dims = resources.zoo().latent_dims(view.room.dataset, view.room.family)
        latent_dim = top[1].select_slider(
            _("Reconstructed with a code of z numbers"), dims, key=state.ROOM_GALLERY_Z,
            value=view.room.latent_dim if view.room.latent_dim in dims else dims[-1],
            help=_("The same drawings through the room's model family at another bottleneck size, to compare what "
                   "each size keeps of them. The map and a clicked star stay at the room's size."))
        size = top[2].radio(_("Picture size"), list(GALLERY_SIZES), key="room_gallery_size", horizontal=True,
                            index=1, format_func=i18n.fixed())
        indices = list(range(len(view.drawings)))
        if order == "predicted class":
            indices.sort(key=lambda i: (view.drawings[i].predicted, view.drawings[i].at))
        elif order == "most unusual":
            indices.sort(key=lambda i: -view.drawings[i].unusual)
        if not indices:
            st.caption(_("No drawings yet: they appear here as the students draw."))
            return
        pictures = _pictures(panel, indices, latent_dim)
        px = GALLERY_SIZES[size]
        cells = "".join(
            f'<figure style="margin:0; width:{2 * px + 8}px"><div style="display:flex; gap:4px">'
            f'<img src="{pictures[i].picture_uri}" alt="{html.escape(_("drawing {number}").format(number=i + 1))}" '
            f'width="{px}" height="{px}" '
            f'style="image-rendering:pixelated">'
            f'<img src="{pictures[i].reconstruction_uri}" '
            f'alt="{html.escape(_("reconstruction of drawing {number}").format(number=i + 1))}" width="{px}" '
            f'height="{px}" style="image-rendering:pixelated"></div>'
            f'<figcaption class="ae-detail">{html.escape(labels[i])} · '
            f'{html.escape(_("unusual {percent} %").format(percent=int(view.drawings[i].unusual)))}'
            f'</figcaption></figure>' for i in indices)
        st.html(f'<div style="display:flex; flex-wrap:wrap; gap:0.75rem">{cells}</div>')
        st.caption(_("Each pair: a student's input and its reconstruction by the room's model family at z = {z}. "
                     "\"Unusual\": the share of held-out images whose reconstruction error is smaller than its "
                     "(the convolutional autoencoder's error at the anomaly demo's size, whatever the size chosen "
                     "here; the held-out images as the page shows a sample, not preprocessed).").format(z=latent_dim))


def _moderation(code: str, key: str, view: rooms.ClassView, labels: list[str]) -> None:
    with st.expander(_("Moderate the room")):
        cols = st.columns([3, 1])
        choice = cols[0].selectbox(_("A drawing"), range(len(view.drawings)), format_func=labels.__getitem__,
                                   key="room_hide_choice", index=None, placeholder=_("Choose a drawing to hide"))
        member = view.drawings[choice].member if choice is not None and choice < len(view.drawings) else None
        cols[1].button(_("Hide it"), key="room_hide", disabled=member is None, on_click=_steer,
                       args=("hide", code, key, member))
        cols = st.columns(4)
        cols[0].button(_("Clear all drawings"), key="room_clear", on_click=_steer, args=("clear", code, key))
        # a key per state: the switch shows the store's state, whoever changed it
        cols[1].toggle(_("Locked"), value=view.room.locked, key=f"room_lock_{view.room.locked}",
                       help=_("No new members; those in the room stay"), on_change=_steer,
                       args=("lock", code, key, not view.room.locked))
        cols[2].toggle(_("Nicknames"), value=view.room.allow_nicknames,
                       key=f"room_nicknames_{view.room.allow_nicknames}",
                       help=_("Students may give a nickname of up to {count} characters").format(
                           count=rooms.NICKNAME_MAX),
                       on_change=_steer, args=("allow_nicknames", code, key, not view.room.allow_nicknames))
        cols[3].button(_("Close the room"), key="room_close", type="primary", on_click=_steer,
                       args=("close", code, key))


def _steer(action: str, code: str, key: str, *args) -> None:
    """A teacher's change to the room (a widget's callback: the panel that follows shows it)."""
    try:
        getattr(_store(), action)(code, key, *args)
    except rooms.StoreUnreachable:
        state.visitor().room_message = _UNREACHABLE
    except rooms.RoomError as error:
        state.visitor().room_message = error.message


def _poll_draft() -> tuple[str, list[str], int | None]:
    """The teacher's poll form: the question, the choices (non-empty lines), the right one's index or None."""
    lines = [line.strip() for line in str(state.widget(state.ROOM_POLL_CHOICES) or "").splitlines()]
    correct = int(state.widget(state.ROOM_POLL_CORRECT) or 0)
    return str(state.widget(state.ROOM_POLL_QUESTION) or ""), [line for line in lines if line], \
        (correct - 1 if correct else None)


_OWN_QUESTION = ""   # the poll form's "Ask" choice for the teacher's own question (else a tour step's section)


def _tour_questions(room: rooms.Room) -> dict[str, str]:
    """section -> "Step n · title" of the tour steps whose question this room's dataset can answer."""
    return {step.section: _("Step {n} · {title}").format(n=n, title=_(step.title))
            for n, step in enumerate(tour.STEPS, 1)
            if predict.can_ask(step.section, room.dataset, room.family)}


def _ask(code: str, key: str, room: rooms.Room) -> None:
    section = state.widget(state.ROOM_POLL_ASKS) or _OWN_QUESTION
    if section == _OWN_QUESTION:
        question, choices, correct = _poll_draft()
        _steer("ask", code, key, question, choices, correct)
        return
    # computed now, for the teacher's current input: the answer is the app's, as in the tour
    item = state.visitor().current_item()
    asked = predict.question_for(section, room.dataset, room.family, item)
    _steer("ask", code, key, asked.text, list(asked.options), asked.options.index(asked.right), asked.because)


def _poll_admin(code: str, key: str, view: rooms.ClassView) -> None:
    with st.container(key="room_poll"):
        poll = view.poll
        if poll is None:
            with st.form("room_poll_form", clear_on_submit=False):
                st.markdown(_("**Ask the class**"))
                asks = {_OWN_QUESTION: _("Your own question (below)")} | _tour_questions(view.room)
                st.selectbox(_("Ask"), list(asks), format_func=asks.get, key=state.ROOM_POLL_ASKS,
                             help=_("A tour step's predict-first question, asked about your current input; the app "
                                    "computes its right answer, as the tour does. Or your own question."))
                st.text_input(_("Question"), key=state.ROOM_POLL_QUESTION, max_chars=rooms.QUESTION_MAX)
                st.text_area(_("Choices, one a line ({fewest} to {most})").format(fewest=rooms.MIN_CHOICES,
                                                                                   most=rooms.MAX_CHOICES),
                             key=state.ROOM_POLL_CHOICES)
                st.number_input(_("The right answer's line (0: none; the students see it when you reveal it)"), 0,
                                rooms.MAX_CHOICES, 0, key=state.ROOM_POLL_CORRECT)
                st.form_submit_button(_("Ask"), on_click=_ask, args=(code, key, view.room))
            return
        st.markdown(_("**Poll:** {question}").format(question=literal(poll.question)))
        total = sum(view.tally)
        fig = go.Figure(go.Bar(x=list(view.tally), y=[c[:40] for c in poll.choices], orientation="h",
                               marker_color=[theme.GREEN if poll.revealed and i == poll.correct else theme.BLUE
                                             for i in range(len(poll.choices))],
                               text=[str(n) for n in view.tally], textposition="auto"))
        fig.update_layout(height=60 + 40 * len(poll.choices), margin=dict(l=0, r=0, t=0, b=0),
                          yaxis=dict(autorange="reversed"), xaxis=dict(title=_("answers"), rangemode="tozero"))
        st.plotly_chart(fig, key="room_poll_chart")
        st.caption((_("{n} answer from {members} in the room") if total == 1 else
                    _("{n} answers from {members} in the room")).format(n=i18n.integer(total),
                                                                        members=i18n.integer(view.counts.members))
                   + ("; " + _("the right answer: {answer}").format(answer=literal(poll.choices[poll.correct]))
                      if poll.revealed and poll.correct is not None else ""))
        if poll.revealed and poll.explanation:
            st.caption(literal(poll.explanation))
        # the chart's numbers as text, for a screen reader (a Plotly chart is a picture to it)
        st.caption(_("Answers: {counts}.").format(counts="; ".join(
            f"{literal(choice)}: {i18n.integer(n)}" for choice, n in zip(poll.choices, view.tally))))
        cols = st.columns(2)
        if poll.correct is not None and not poll.revealed:
            cols[0].button(_("Reveal the answer"), key="room_poll_reveal", on_click=_steer, args=("reveal", code, key))
        cols[1].button(_("End the poll"), key="room_poll_end", on_click=_steer, args=("end_poll", code, key))


# --------------------------------------------------------------------------- a student

_BANNER = N_("You are in room {code}. Your drawing is shared, without your name, with the class.")


def member_banner(seat: state.RoomSeat) -> None:
    """The student's banner: where they are, the share switch, leave, a nickname if allowed, the poll."""
    if seat.problem is not None:
        st.warning(literal(i18n.error_text(seat.problem)))  # it may quote what was in the link
        if seat.problem == _UNREACHABLE:
            _retry_join()
        else:
            st.button(_("Dismiss"), key="room_dismiss", on_click=_leave_url)
        return
    room = seat.room
    cols = st.columns([4, 1, 1])
    sharing = state.widget(state.ROOM_SHARE, True)
    cols[0].info(_(_BANNER).format(code=seat.code) if sharing else
                 _("You are in room {code}. Your drawing is not shared (switch it back on to share it).")
                 .format(code=seat.code))
    cols[1].toggle(_("Share my drawing"), value=True, key=state.ROOM_SHARE, on_change=_sharing_changed, args=(seat,))
    cols[2].button(_("Leave the room"), key="room_leave", on_click=_leave, args=(seat,))
    if room is not None and room.allow_nicknames:
        nickname = st.text_input(_("Nickname (optional, up to {count} characters; the teacher sees it under your "
                                   "drawing)").format(count=rooms.NICKNAME_MAX),
                                 key="room_nickname")  # checked here: no max_chars to cut it silently
        if nickname:
            try:
                _store().set_nickname(seat.code, seat.member, nickname)
            except rooms.StoreUnreachable:
                st.warning(i18n.error_text(_UNREACHABLE))
            except rooms.RoomError as error:
                st.error(i18n.error_text(error))
    _member_poll(seat.code, seat.member)


def _leave(seat: state.RoomSeat) -> None:
    try:
        _store().leave(seat.code, seat.member)
    except rooms.RoomError:
        pass  # gone or unreachable: leaving the page is what matters
    _leave_url()


def _leave_url() -> None:
    for param in ("room", "member", "key"):
        st.query_params.pop(param, None)
    state.visitor().seat_in_room(None)


def _sharing_changed(seat: state.RoomSeat) -> None:
    if not state.widget(state.ROOM_SHARE, True):
        try:
            _store().unshare(seat.code, seat.member)
        except rooms.RoomError:
            pass
    state.visitor().room_shared = None  # switched back on: the current input goes up with the next run


@st.fragment(run_every=POLL_CHECK_S)
def _retry_join() -> None:
    """While the store does not answer: try to seat this visitor again every few seconds; once seated (or
    refused for good), the whole page runs with the room."""
    follow_the_url()
    if state.visitor().room_seat is not None:  # kept only when the store answered
        st.rerun(scope="app")


@st.fragment(run_every=POLL_CHECK_S)
def _member_poll(code: str, member: str) -> None:
    """The room's current poll, checked every few seconds: the question, the choices, and once revealed,
    whether this student was right. Reruns nothing else and reads nothing else of the room."""
    with st.container(key="room_poll"):
        message = state.visitor().take_room_message()
        if message:
            st.error(i18n.error_text(message))
        try:
            store = _store()
            room = store.room(code)
            seat = state.visitor().room_seat
            if seat is not None and seat.code == code:
                seat.room = room  # the teacher may have allowed nicknames since: the next page run shows the field
            if room.closed:
                st.info(_("Class room {code} is closed. The rest of the page works as before.").format(code=code))
                return
            poll = store.poll(code)
            mine = store.my_answer(code, member, poll.id) if poll is not None else None
        except rooms.StoreUnreachable:
            st.caption(i18n.error_text(_UNREACHABLE))
            return
        except rooms.RoomError as error:
            st.caption(i18n.error_text(error))
            return
        share_current(state.visitor().current_item())  # an input the rate limit dropped goes up now
        if poll is None:
            return
        st.markdown(_("**The teacher asks:** {question}").format(question=literal(poll.question)))
        if mine is None and not poll.revealed:
            cols = st.columns(len(poll.choices))
            for i, choice in enumerate(poll.choices):
                cols[i].button(literal(choice), key=f"room_answer_{poll.id}_{i}", on_click=_answer,
                               args=(code, member, poll.id, i))
            return
        if mine is not None:
            st.markdown(_("You answered: {answer}").format(answer=literal(poll.choices[mine])))
        if poll.revealed and poll.correct is not None:
            right = literal(poll.choices[poll.correct])
            if mine is None:
                st.markdown(_("The right answer: {answer}").format(answer=right))
            elif mine == poll.correct:
                st.success(_("Right! The answer is {answer}.").format(answer=right))
            else:
                st.warning(_("Not this time: the right answer is {answer}.").format(answer=right))
            if poll.explanation:
                st.caption(literal(poll.explanation))
        elif mine is not None:
            st.caption(_("Waiting for the teacher to reveal the answer."))


def _answer(code: str, member: str, poll_id: int, choice: int) -> None:
    try:
        _store().answer(code, member, poll_id, choice)
    except rooms.StoreUnreachable:
        state.visitor().room_message = _UNREACHABLE
    except rooms.RoomError as error:
        state.visitor().room_message = error.message


def share_current(current: state.InputItem, view: InputsView | None = None, column: int | None = None) -> None:
    """A member's new current input goes to the room (at most one every ``rooms.SHARE_INTERVAL_S``; a dropped
    one goes up with the whole page that follows). Called by the workbench on every stroke, with the page's
    ``view`` of its inputs and the current one's ``column`` in it: where the page's map is the room's, the
    room takes the input's place on it from there instead of searching the map's codes again."""
    seat = state.visitor().room_seat
    if seat is None or seat.member is None or seat.room is None or not state.widget(state.ROOM_SHARE, True):
        return
    picture = np.round(np.clip(current.prepared.image, 0, 1) * 255).astype(np.uint8)
    digest = hashlib.sha1(picture.tobytes()).hexdigest()
    if digest == state.visitor().room_shared:
        return
    room: rooms.Room = seat.room
    try:
        drawing = _drawing_of(room, current.prepared.image, picture, _KINDS[current.kind],
                              _on_room_map(room, view, column))
        if _store().share(seat.code, seat.member, drawing):
            state.visitor().room_shared = digest
    except rooms.StoreUnreachable:
        pass  # the banner's poll says so; the next stroke tries again
    except (rooms.RoomClosed, rooms.NotMember, rooms.UnknownRoom) as error:
        seat.problem = error.message


def _on_room_map(room: rooms.Room, view: InputsView | None, column: int | None) -> tuple[np.ndarray, np.ndarray] | None:
    """(2,) place and (NEIGHBOURS,) nearest reference rows of input ``column`` of the page's ``view`` on the room's
    default map, when the page placed it on that very map (same dataset, family and size, not recomputed)."""
    on_map = None if view is None or column is None else view.maps.get(room.latent_dim)
    if on_map is None or on_map.latent_map is not resources.default_map_for(room.dataset, room.family,
                                                                            room.latent_dim):
        return None
    return on_map.placed[column], on_map.neighbours[column]


def _drawing_of(room: rooms.Room, image: np.ndarray, picture: np.ndarray, kind: int,
                on_map: tuple[np.ndarray, np.ndarray] | None = None) -> rooms.Drawing:
    """The shared form of an input: its (28, 28) uint8 ``picture``, placed on the room's default map by the room's
    model, the class most of its nearest held-out neighbours have, and its unusualness.

    Placed from ``image``, the (28, 28) float32 the student's own page ran: where the room's family is the
    page's, the server's ladder cache already holds its pass, so a stroke costs no second ladder; ``on_map``
    (``_on_room_map``), where the page placed it on the room's map already.

    The unusualness: the conv autoencoder's error on ``image`` at the anomaly demo's size (from the same cache),
    as a percentile of its errors on held-out images taken as the page takes them, not preprocessed
    (``resources.unprocessed_error_reference``). Like with like: the demo's own reference went through
    ``anomaly.anomaly_input``, and against it a held-out sample as the page runs it came out more unusual than
    almost every held-out image; putting each shared input through that path instead cost a stroke's share
    several times the rest of it, many times a second in a room."""
    image = np.asarray(image, np.float32)[None]
    latent_map = resources.default_map_for(room.dataset, room.family, room.latent_dim)
    if on_map is None:  # only the family's code at the map's size is needed (compute_view would run PCA too)
        ladder = resources.ladder_caches(room.dataset, room.family)[0].run(image)
        placed, neighbours = latent_map.locate(ladder.code(room.latent_dim, 0)[None], NEIGHBOURS)
        on_map = placed[0], neighbours[0]
    placed, neighbours = on_map
    votes = np.bincount(latent_map.labels[neighbours], minlength=10)
    conv = resources.ladder_caches(room.dataset, "conv")[0].run(image)
    sse = conv.sse[conv.latent_dims.index(resources.anomaly_references(room.dataset).default_latent_dim)][0]
    unusual = resources.unprocessed_error_reference(room.dataset).percentile(sse)
    return rooms.Drawing("", picture, tuple(placed), int(votes.argmax()), float(unusual), kind)
