"""One visitor's state: every ``st.session_state`` key the page keeps, each behind a typed accessor.

Widgets own the keys they are created with (``key=…``); the ones the page also reads
elsewhere are named here too, so a key is spelled once.
"""
from __future__ import annotations

import enum
import functools
from dataclasses import dataclass

import numpy as np
import streamlit as st

from ae_demo.display import png_data_uri
from ae_demo.preprocess import Prepared
from ae_demo.projection import MapSettings

# Widget keys read outside the widget that owns them.
DATASET = "dataset"
FAMILY = "family"
INPUT_CHOICE = "input_choice"
LANGUAGE = "language"               # the page's language, a code of ui.i18n.LANGUAGES (the sidebar's picker)
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

# Keys the page keeps for itself.
_INPUTS = "inputs"                  # dict[str, InputItem], oldest first
_CURRENT = "current"                # key of the current input
_SAMPLE_INDEX = "sample_index"      # row of the held-out sample shown as "Sample #…"
_CANVAS_DIGEST = "canvas_digest"    # sha1 of the canvas picture last read
_CAMERA_ID = "camera_id"            # file id of the webcam photo last read
_UPLOAD_ERRORS = "upload_errors"    # file name -> message, for files still in the uploader
_MAP_SETTINGS = "map_settings"      # (dataset, family, latent_dim) -> MapSettings of a recomputed map
_PAGE_DRAWN = "page_drawn"          # the visit's first run (ladder only) is behind us
_PAGE_INPUT = "page_input"          # signature of the inputs the whole page last showed
_PAGE_DUE = "page_due"              # the whole page is to run next (rerun.follow_if_due)
_IN_PAGE_RUN = "_page_run"          # True while a whole-page run (not a fragment's) is inside the workbench
_LAST_INFERENCE_S = "last_inference_s"
_UNREADABLE_UPLOADS = "unreadable_uploads"  # file name -> bytes of uploads preprocessing refused (still in the uploader)
_VISITOR = "visitor"                # a random id of this session: who owns the live training it started
_BUSY = "live_busy"                 # the message of this visitor's last refused Start
_OWN_JOB = "own_job"                # the id of the training this visitor started (ae_demo.own_training.OwnTrainer)
_OWN_OPENED = "own_opened"          # ids of the own datasets this visitor opened: the picker shows only these
_OWN_READ = "own_read"              # (upload signature, ImageSet) of the panel's last reading
_DEMO_APPLIED = "demo_applied"      # the ?demo= value whose expander has been opened
_ROOM_SEAT = "room_seat"            # RoomSeat: this visitor's place in a class room (ui/room.py)
_ROOM_SHARED = "room_shared"        # digest of the picture this member last shared
_ROOM_PANEL = "room_panel"          # RoomPanel: what the teacher's panel last drew, by the room's version

# The class room's widgets (ui/room.py) whose keys the issue names or other modules read.
ROOM_START = "room_start"           # the sidebar's "Start a class room" button
ROOM_SHARE = "room_share"           # a member's share switch
ROOM_POLL_QUESTION = "room_poll_question"  # the teacher's poll form: the question,
ROOM_POLL_CHOICES = "room_poll_choices"    # the choices, one a line,
ROOM_POLL_CORRECT = "room_poll_correct"    # and the right answer's line (0: none)
_ROOM_MESSAGE = "room_message"      # what the room refused of the visitor's last action, shown once


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
        A drawing is white on black, so it goes as grey levels: a third of the pixels to compress (2 ms less a stroke)."""
        raw = self.prepared.raw
        given = None if raw is None else png_data_uri(np.asarray(raw.convert("L" if self.kind is InputKind.DRAWING
                                                                             else "RGB")))
        return given, png_data_uri(self.prepared.image)


def _inputs() -> dict[str, InputItem]:
    return st.session_state.setdefault(_INPUTS, {})


def items() -> list[InputItem]:
    """This session's inputs, oldest first."""
    return list(_inputs().values())


def item(key: str) -> InputItem:
    return _inputs()[key]


def items_of(kind: InputKind) -> list[InputItem]:
    return [i for i in _inputs().values() if i.kind is kind]


def remember(new: InputItem, make_current: bool = False) -> None:
    _inputs()[new.key] = new
    if make_current:
        set_current(new.key)


def forget(key: str) -> None:
    _inputs().pop(key, None)


def set_current(key: str) -> None:
    st.session_state[_CURRENT] = key


def current_item() -> InputItem:
    """The input the page explores; the held-out sample when the current one is gone."""
    key = st.session_state.get(_CURRENT)
    if key not in _inputs():
        key = InputKind.SAMPLE.value
        set_current(key)
    return _inputs()[key]


def current_column() -> int:
    """The current input's position in ``items()``."""
    return list(_inputs()).index(current_item().key)


def sample_index() -> int | None:
    return st.session_state.get(_SAMPLE_INDEX)


def set_sample_index(index: int) -> None:
    st.session_state[_SAMPLE_INDEX] = index


def seen_canvas(digest: str) -> bool:
    """True when the canvas shows what was last read; else remember ``digest`` as read."""
    if st.session_state.get(_CANVAS_DIGEST) == digest:
        return True
    st.session_state[_CANVAS_DIGEST] = digest
    return False


def seen_camera(file_id: str) -> bool:
    """True when this webcam photo was read already; else remember it as read."""
    if st.session_state.get(_CAMERA_ID) == file_id:
        return True
    st.session_state[_CAMERA_ID] = file_id
    return False


def upload_errors() -> dict[str, str]:
    return st.session_state.get(_UPLOAD_ERRORS, {})


def set_upload_errors(errors: dict[str, str]) -> None:
    st.session_state[_UPLOAD_ERRORS] = errors


def unreadable_uploads() -> dict[str, bytes]:
    """file name -> bytes of the uploads that preprocessing could not read as a drawing, still in the uploader."""
    return st.session_state.get(_UNREADABLE_UPLOADS, {})


def set_unreadable_uploads(uploads: dict[str, bytes]) -> None:
    st.session_state[_UNREADABLE_UPLOADS] = uploads


def visitor_id() -> str:
    """A random id for this session, made on first use."""
    import uuid

    return st.session_state.setdefault(_VISITOR, uuid.uuid4().hex[:12])


def own_job() -> str | None:
    return st.session_state.get(_OWN_JOB)


def set_own_job(job_id: str | None) -> None:
    st.session_state[_OWN_JOB] = job_id


def own_opened() -> list[str]:
    """The own datasets this visitor opened (by link or by training), oldest first."""
    return st.session_state.setdefault(_OWN_OPENED, [])


def add_own_opened(dataset_id: str) -> None:
    if dataset_id not in own_opened():
        own_opened().append(dataset_id)


def own_read():
    return st.session_state.get(_OWN_READ)


def set_own_read(value) -> None:
    st.session_state[_OWN_READ] = value


def busy_message() -> str | None:
    return st.session_state.get(_BUSY)


def set_busy_message(message: str | None) -> None:
    st.session_state[_BUSY] = message


def demo_applied() -> str | None:
    return st.session_state.get(_DEMO_APPLIED)


def set_demo_applied(name: str) -> None:
    st.session_state[_DEMO_APPLIED] = name


def map_settings(dataset: str, family: str, latent_dim: int) -> MapSettings | None:
    """The settings this visitor recomputed the map with; None: the precomputed map."""
    return st.session_state.get(_MAP_SETTINGS, {}).get((dataset, family, latent_dim))


def set_map_settings(dataset: str, family: str, latent_dim: int, settings: MapSettings | None) -> None:
    chosen = st.session_state.setdefault(_MAP_SETTINGS, {})
    if settings is None:
        chosen.pop((dataset, family, latent_dim), None)
    else:
        chosen[(dataset, family, latent_dim)] = settings


def first_run_of_visit() -> bool:
    """True exactly once per visit: in its first run."""
    if st.session_state.get(_PAGE_DRAWN):
        return False
    st.session_state[_PAGE_DRAWN] = True
    return True


def set_in_page_run(value: bool) -> None:
    st.session_state[_IN_PAGE_RUN] = value


def in_page_run() -> bool:
    return bool(st.session_state.get(_IN_PAGE_RUN))


def page_input() -> str | None:
    return st.session_state.get(_PAGE_INPUT)


def set_page_input(signature: str) -> None:
    st.session_state[_PAGE_INPUT] = signature


def mark_page_due() -> None:
    st.session_state[_PAGE_DUE] = True


def take_page_due() -> bool:
    """True once after ``mark_page_due``."""
    return bool(st.session_state.pop(_PAGE_DUE, False))


def last_inference_s() -> float | None:
    return st.session_state.get(_LAST_INFERENCE_S)


def set_last_inference_s(seconds: float) -> None:
    st.session_state[_LAST_INFERENCE_S] = seconds


def dataset() -> str:
    return st.session_state[DATASET]


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
    pictures: list                  # per visible drawing: ui.room.GalleryPicture (its reconstruction, both as PNGs)


def room_seat() -> RoomSeat | None:
    return st.session_state.get(_ROOM_SEAT)


def set_room_seat(seat: RoomSeat | None) -> None:
    st.session_state[_ROOM_SEAT] = seat
    st.session_state.pop(_ROOM_SHARED, None)
    st.session_state.pop(_ROOM_PANEL, None)


def room_sharing() -> bool:
    """The member's share switch (on until they turn it off)."""
    return bool(st.session_state.get(ROOM_SHARE, True))


def room_shared() -> str | None:
    return st.session_state.get(_ROOM_SHARED)


def set_room_shared(digest: str | None) -> None:
    st.session_state[_ROOM_SHARED] = digest


def room_poll_draft() -> tuple[str, list[str], int | None]:
    """The teacher's poll form: the question, the choices (non-empty lines), the right one's index or None."""
    lines = [line.strip() for line in str(st.session_state.get(ROOM_POLL_CHOICES) or "").splitlines()]
    correct = int(st.session_state.get(ROOM_POLL_CORRECT) or 0)
    return str(st.session_state.get(ROOM_POLL_QUESTION) or ""), [line for line in lines if line], \
        (correct - 1 if correct else None)


def room_message() -> str | None:
    """The message of the room's last refusal, once (taken by the call)."""
    return st.session_state.pop(_ROOM_MESSAGE, None)


def set_room_message(message: str) -> None:
    st.session_state[_ROOM_MESSAGE] = message


def room_panel() -> RoomPanel | None:
    return st.session_state.get(_ROOM_PANEL)


def set_room_panel(panel: RoomPanel) -> None:
    st.session_state[_ROOM_PANEL] = panel
