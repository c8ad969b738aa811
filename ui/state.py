"""One visitor's state: everything the page keeps for a visitor, in one typed object, and every widget key
that other modules read or set, named once.

``visitor()`` is this session's :class:`Visitor`, the one thing the page keeps in
``st.session_state`` for itself. Widgets own the keys they are created with (``key=…``): the
ones read or set outside the widget's own call are named here, and read or set only through
``widget`` / ``set_widget`` / ``drop_widget``. No other ``ui`` module touches
``st.session_state`` (tests/test_state.py checks it).
"""
from __future__ import annotations

import enum
import functools
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import streamlit as st

from ae_demo.display import png_data_uri
from ae_demo.preprocess import Prepared
from ae_demo.projection import MapSettings

# --- widget keys read or set outside the widget that owns them ------------------------------------

DATASET = "dataset"                 # the sidebar's dataset picker
FAMILY = "family"                   # the sidebar's model family
INPUT_CHOICE = "input_choice"       # the current input's picker
LANGUAGE = "language"               # the page's language, a code of ui.i18n.LANGUAGES (the sidebar's picker)
MAP_LATENT = "map_latent"           # the main map's latent size (a tour step sets it)
PRESENT_MODE = "present_mode"       # presentation mode's toggle
SAMPLE_CLASS = "sample_class"       # the class a random sample is drawn from
STROKE_WIDTH = "stroke_width"       # the canvas's pen (its slider sits under the canvas)
ERROR_HEATMAPS = "error_heatmaps"   # the ladder's per-pixel error switch (its toggle sits under the ladder)
GENERATE_SEED = "generate_seed"     # the new-images demo's seed ("New samples" adds one)
FEATURES_OPEN = "features_open"     # the hidden units' expander (a tour step opens it)
NETWORK_OPEN = "network_open"       # the network's expander (a tour step opens it)
IDENTITY_OPEN = "identity_open"     # the unconstrained net's expander (a tour step opens it)
PREDICT_ON = "predict_on"           # the sidebar's switch for the tour's predict-first questions
OWN_DATA = "own_data"               # the "Your own images" panel's container
OWN_DATA_UPLOAD = "own_data_upload"  # its uploader: a ZIP or many pictures
OWN_DATA_NAME = "own_data_name"
OWN_DATA_COLOUR = "own_data_colour"  # "grey" or "colour"
OWN_DATA_SIZE = "own_data_size"      # 28, 32 or 64
OWN_DATA_TRAIN = "own_data_train"
OWN_DATA_CANCEL = "own_data_cancel"
OWN_LAB_PICK = "own_lab_pick"        # the held-out picture shown on an own dataset
OWN_LAB_UPLOAD = "own_lab_upload"    # a picture to frame as the dataset's
OWN_LAB_SOURCE = "own_lab_source"    # which picture: a held-out one, an upload or a drawing
OWN_LAB_CANVAS = "own_lab_canvas"
OWN_LAB_PEN = "own_lab_pen"          # the drawing's colour, on a colour dataset
OWN_LAB_MORPH_TO = "own_lab_morph_to"
OWN_LAB_MAP_Z = "own_lab_map_z"
OWN_LAB_DELETE = "own_lab_delete"
ROOM_START = "room_start"           # the sidebar's "Start a class room" button
ROOM_SHARE = "room_share"           # a member's share switch
ROOM_GALLERY_Z = "room_gallery_z"   # the bottleneck size the teacher's gallery reconstructs at
ROOM_POLL_ASKS = "room_poll_asks"          # the teacher's poll form: their own question or a tour step's (its section),
ROOM_POLL_QUESTION = "room_poll_question"  # their question,
ROOM_POLL_CHOICES = "room_poll_choices"    # the choices, one a line,
ROOM_POLL_CORRECT = "room_poll_correct"    # and the right answer's line (0: none)


def demo_open_key(name: str) -> str:
    """The expander of classroom demo ``name`` (a contract key: ``demo_<name>_open``)."""
    return f"demo_{name}_open"


def predict_key(section: str) -> str:
    """The radio of the predict-first question of tour section ``section``."""
    return f"predict_{section}"


def predict_show_key(section: str) -> str:
    """The "Show" button that reveals the answer of ``section``'s question without a guess."""
    return f"predict_show_{section}"


def nudge_key(dataset: str, family: str, latent_dim: int, number: int, input_digest: str) -> str:
    """The slider of code number ``number`` in the playground, for one model and one input."""
    return f"nudge_{dataset}_{family}_{latent_dim}_{number}_{input_digest}"


def widget(key: str, default: Any = None) -> Any:
    """The value the widget with ``key`` holds (or was given before it is made); ``default`` when none."""
    return st.session_state.get(key, default)


def has_widget(key: str) -> bool:
    return key in st.session_state


def set_widget(key: str, value: Any) -> None:
    """Set the widget with ``key``: before it is made in this run (a link, a tour step), or in a callback."""
    st.session_state[key] = value


def drop_widget(key: str) -> None:
    """Forget the widget's value: it starts from its default when next made."""
    st.session_state.pop(key, None)


# --- the visitor ------------------------------------------------------------------------------------

class InputKind(enum.Enum):
    """Where an input came from; each kind but uploads holds one input at a time."""

    SAMPLE = "sample"
    DRAWING = "drawing"
    CAMERA = "camera"
    UPLOAD = "upload"


@dataclass(frozen=True)
class InputItem:
    """One input the visitor made or picked: what they gave and what the model sees."""

    key: str              # unique in the session: the kind's value, or "upload:<file id>"
    kind: InputKind
    name: str             # what the page calls it: a file name, "Drawing", "Sample #12 (7)"
    prepared: Prepared

    @classmethod
    def make(cls, kind: InputKind, name: str, prepared: Prepared, file_id: str | None = None) -> "InputItem":
        return cls(f"{kind.value}:{file_id}" if kind is InputKind.UPLOAD else kind.value, kind, name, prepared)

    @functools.cached_property
    def picture_uris(self) -> tuple[str | None, str]:
        """(as given, as the model sees it) as inline PNGs: encoded once per input, shown on every run.
        A drawing is white on black, so it goes as grey levels: a third of the values to compress."""
        raw = self.prepared.raw
        given = None if raw is None else png_data_uri(np.asarray(raw.convert("L" if self.kind is InputKind.DRAWING
                                                                             else "RGB")))
        return given, png_data_uri(self.prepared.image)


@dataclass
class PageRuns:
    """What ``ui.rerun`` keeps of a visitor's runs: the first paint, the whole page's hand-over."""

    drawn: bool = False                 # the visit's first run (ladder only) is behind us
    shown_inputs: str | None = None     # signature of the inputs the whole page last showed
    due: bool = False                   # the whole page is to run next (rerun.follow_if_due)
    in_page_run: bool = False           # True while a whole-page run (not a fragment's) is inside the workbench


@dataclass
class RoomSeat:
    """This visitor's place in a class room: the teacher (``key``) or a member (``member``), or why neither."""

    code: str
    key: str | None = None          # the teacher key: this visitor steers the room
    member: str | None = None       # a student's member id
    problem: str | None = None      # why this visitor is not in the room, as the banner says it
    room: object | None = None      # the rooms.Room as read when seated (its dataset, family and map size)


@dataclass
class RoomPanel:
    """What the teacher's panel computed at one version of the room (it redraws only when that moves)."""

    version: int
    view: object                    # rooms.ClassView
    pictures: dict                  # (member, time shared, z) -> ui.room.GalleryPicture: what the panel reconstructed
                                    # of the visible drawings so far, at the sizes it was asked for


@dataclass
class Visitor:
    """Everything the page keeps for one visitor (beside what its widgets hold): one object per session."""

    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])   # who owns the live training it started
    inputs: dict[str, InputItem] = field(default_factory=dict)       # key -> input, oldest first
    current: str = InputKind.SAMPLE.value                            # key of the current input
    sample_index: int | None = None          # row of the held-out sample shown as "Sample #…"
    canvas_digest: str | None = None         # sha1 of the canvas picture last read
    camera_id: str | None = None             # file id of the webcam photo last read
    upload_errors: dict[str, str] = field(default_factory=dict)         # file name -> message, still in the uploader
    unreadable_uploads: dict[str, bytes] = field(default_factory=dict)  # uploads preprocessing refused, still there
    recomputed_maps: dict[tuple[str, str, int], MapSettings] = field(default_factory=dict)  # (dataset, family, z)
    last_inference_s: float | None = None    # the workbench's last ladder pass, network and PCA
    busy_message: str | None = None          # the message of this visitor's last refused live-training Start
    own_job: str | None = None               # the id of the training this visitor started (ae_demo.own_training)
    own_opened: list[str] = field(default_factory=list)  # own datasets this visitor opened: the picker shows these
    own_read: tuple | None = None            # (upload signature, ImageSet) of the own-data panel's last reading
    demo_applied: str | None = None          # the ?demo= value whose expander has been opened
    tour_applied: int | None = None          # the tour step whose page set-up has been applied
    linked_tab: str | None = None            # the playground tab the visit's link named (``?playground=``), English
    page: PageRuns = field(default_factory=PageRuns)
    room_seat: RoomSeat | None = None        # this visitor's place in a class room (ui/room.py)
    room_shared: str | None = None           # digest of the picture this member last shared
    room_panel: RoomPanel | None = None      # what the teacher's panel last drew, by the room's version
    room_message: str | None = None          # what the room refused of the visitor's last action, shown once
    predictions_shown: set[str] = field(default_factory=set)  # tour sections whose answer "Show" revealed unanswered

    def items(self) -> list[InputItem]:
        """This session's inputs, oldest first."""
        return list(self.inputs.values())

    def items_of(self, kind: InputKind) -> list[InputItem]:
        return [i for i in self.inputs.values() if i.kind is kind]

    def remember(self, new: InputItem, make_current: bool = False) -> None:
        self.inputs[new.key] = new
        if make_current:
            self.current = new.key

    def forget(self, key: str) -> None:
        self.inputs.pop(key, None)

    def set_current(self, key: str) -> None:
        self.current = key

    def current_item(self) -> InputItem:
        """The input the page explores; the held-out sample when the current one is gone."""
        if self.current not in self.inputs:
            self.current = InputKind.SAMPLE.value
        return self.inputs[self.current]

    def current_column(self) -> int:
        """The current input's position in ``items()``."""
        return list(self.inputs).index(self.current_item().key)

    def seen_canvas(self, digest: str) -> bool:
        """True when the canvas shows what was last read; else remember ``digest`` as read."""
        seen, self.canvas_digest = self.canvas_digest == digest, digest
        return seen

    def seen_camera(self, file_id: str) -> bool:
        """True when this webcam photo was read already; else remember it as read."""
        seen, self.camera_id = self.camera_id == file_id, file_id
        return seen

    def recomputed_map(self, dataset: str, family: str, latent_dim: int) -> MapSettings | None:
        """The settings this visitor recomputed the map with; None: the precomputed map."""
        return self.recomputed_maps.get((dataset, family, latent_dim))

    def set_recomputed_map(self, dataset: str, family: str, latent_dim: int, settings: MapSettings | None) -> None:
        if settings is None:
            self.recomputed_maps.pop((dataset, family, latent_dim), None)
        else:
            self.recomputed_maps[(dataset, family, latent_dim)] = settings

    def open_own(self, dataset_id: str) -> None:
        """Show the own dataset ``dataset_id`` in this visitor's picker (opened by a link or trained here)."""
        if dataset_id not in self.own_opened:
            self.own_opened.append(dataset_id)

    def seat_in_room(self, seat: RoomSeat | None) -> None:
        """Sit in a class room (None: leave it); what was shared or drawn for another room goes."""
        self.room_seat, self.room_shared, self.room_panel = seat, None, None

    def take_room_message(self) -> str | None:
        """The message of the room's last refusal, once (taken by the call)."""
        message, self.room_message = self.room_message, None
        return message


_VISITOR = "visitor"


def visitor() -> Visitor:
    """This session's visitor, made on first use."""
    return st.session_state.setdefault(_VISITOR, Visitor())
