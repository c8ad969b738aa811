"""The class room: a teacher's room that students join by a short code, share their inputs with, and answer polls in.

A room is a handful of small records in a store, never a Streamlit object, so a room spans the
replicas of a deployment when the store is shared:

- ``MemoryStore``: the default, for one server; nothing to install, nothing written to disk.
- ``RedisStore``: used when ``REDIS_URL`` is set (``open_store``); every replica sees the same rooms.

Both run the same logic (``RoomStore``) over a few atomic primitives each implements, so the limits,
the teacher key, expiry and the validation of what is read back are written once.

What a room holds, and nothing else: its settings, its members (a random id and an optional
nickname), each sharing member's current input as a 28×28 uint8 picture with its placement on the
teacher's map, the current poll and its answers. No names, no addresses, no uploaded files.

Everything read back is checked (``decode_drawing``, ``_read_json``): a malformed or hostile entry,
written by anything that can reach the store, is skipped and logged, and a page never crashes on it.

The teacher key is 192 random bits (``secrets``); the store keeps only its SHA-256, compared in
constant time (``hmac.compare_digest``). Every call that steers the room (moderate, poll, lock,
close) or reads the class's drawings takes the key; a student's calls read only their room's
settings and its current poll.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import struct
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

from .messages import MessageError, N_

log = logging.getLogger(__name__)

# Codes: no 0/O, 1/I/L: read off a projector and typed on a phone without a mix-up. 31**4 ≈ 920,000 codes.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 4
KEY_BYTES = 24                 # the teacher key: 192 bits (the issue asks for at least 128)
MAX_MEMBERS = 300              # per room
MAX_ROOMS = 500                # per store
SHARE_INTERVAL_S = 0.5         # one shared input per member per half second; more are dropped, not queued
EXPIRY_S = 4 * 3600            # a room goes this long after its last write
NICKNAME_MAX = 20              # characters
QUESTION_MAX = 200             # characters of a poll's question
EXPLANATION_MAX = 400          # characters of why a poll's answer is right (a tour question's computed figures)
CHOICE_MAX = 80                # characters of one choice
MIN_CHOICES, MAX_CHOICES = 2, 6
PICTURE_SHAPE = (28, 28)
MAX_CLASSES = 256              # a predicted class is one byte

_CODE = re.compile(f"^[{CODE_ALPHABET}]{{{CODE_LENGTH}}}$")
_MEMBER = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
_NAME = re.compile(r"^[a-z0-9_]{1,40}$")  # a dataset or family name as the registry spells it


class RoomError(MessageError):
    """What a visitor did that the room refuses; the message says what to do and is safe to show."""


class UnknownRoom(RoomError):
    pass


class RoomClosed(RoomError):
    pass


class RoomLocked(RoomError):
    pass


class RoomFull(RoomError):
    pass


class StoreFull(RoomError):
    pass


class NotTeacher(RoomError):
    pass


class NotMember(RoomError):
    pass


class StoreUnreachable(RoomError):
    """The shared store does not answer (Redis is down or too slow); the caller retries later."""


@dataclass(frozen=True)
class Room:
    """A room's settings as the store holds them."""

    code: str
    dataset: str
    family: str
    latent_dim: int            # the size of the teacher's map
    allow_nicknames: bool
    locked: bool               # no new members
    closed: bool               # over: nothing is shared any more
    created_at: float          # Unix seconds


class DrawingKind:
    """Where a shared input came from (one byte on the wire)."""

    DRAWING, UPLOAD, SAMPLE, CAMERA = 0, 1, 2, 3
    NAMES = ("drawing", "upload", "sample", "photo")


@dataclass(frozen=True)
class Drawing:
    """One member's shared input: what the teacher's map and gallery show of it.

    picture: (28, 28) uint8, the input as the model sees it (white on black); placed: (x, y) on the
    room's map, computed by the student's page with the room's model; predicted: the class most of
    its nearest held-out neighbours in latent space have; unusual: its reconstruction error as a
    percentile (0 … 100) of held-out images' errors.
    """

    member: str
    picture: np.ndarray
    placed: tuple[float, float]
    predicted: int
    unusual: float
    kind: int = DrawingKind.DRAWING
    at: float = 0.0            # Unix seconds the store took it (set by ``share``)


# Wire format: format version, Unix seconds, x, y, class, unusualness, kind; then 784 bytes of picture.
_HEADER = struct.Struct("<BdffBfB")
_FORMAT = 1
DRAWING_BYTES = _HEADER.size + PICTURE_SHAPE[0] * PICTURE_SHAPE[1]


def encode_drawing(drawing: Drawing) -> bytes:
    picture = np.ascontiguousarray(drawing.picture, dtype=np.uint8)
    if picture.shape != PICTURE_SHAPE:
        raise ValueError(f"a shared picture is {PICTURE_SHAPE}, not {picture.shape}")
    return _HEADER.pack(_FORMAT, drawing.at, *drawing.placed, drawing.predicted, drawing.unusual,
                        drawing.kind) + picture.tobytes()


def decode_drawing(member: str, raw: bytes) -> Drawing | None:
    """The drawing ``raw`` holds, or None (logged) when it is not one this module wrote."""
    try:
        if not isinstance(raw, bytes) or len(raw) != DRAWING_BYTES or not _MEMBER.match(member):
            raise ValueError(f"{len(raw) if isinstance(raw, bytes) else type(raw).__name__} bytes")
        version, at, x, y, predicted, unusual, kind = _HEADER.unpack_from(raw)
        if version != _FORMAT or kind >= len(DrawingKind.NAMES):
            raise ValueError(f"format {version}, kind {kind}")
        if not all(math.isfinite(v) for v in (at, x, y, unusual)) or not 0 <= unusual <= 100:
            raise ValueError("a coordinate or score is not a finite number in range")
    except (ValueError, struct.error) as error:
        log.warning("room store: skipped a malformed drawing of %r: %s", member[:40], error)
        return None
    picture = np.frombuffer(raw, np.uint8, offset=_HEADER.size).reshape(PICTURE_SHAPE)
    return Drawing(member, picture, (x, y), predicted, unusual, kind, at)


@dataclass(frozen=True)
class Poll:
    """The room's current question. ``correct``: the index of the right choice, when there is one;
    ``explanation``: why it is right (shown with it once revealed; empty for the teacher's own questions)."""

    id: int
    question: str
    choices: tuple[str, ...]
    correct: int | None = None
    revealed: bool = False
    explanation: str = ""

    def to_json(self) -> str:
        return json.dumps({"id": self.id, "question": self.question, "choices": list(self.choices),
                           "correct": self.correct, "revealed": self.revealed, "explanation": self.explanation})

    @classmethod
    def from_json(cls, raw: bytes | str | None) -> Poll | None:
        data = _read_json(raw, "poll")
        try:
            if data is None:
                return None
            poll = cls(int(data["id"]), data["question"], tuple(data["choices"]), data.get("correct"),
                       bool(data.get("revealed", False)), str(data.get("explanation", "")))
            check_poll(poll.question, poll.choices, poll.correct, poll.explanation)
            return poll
        except (KeyError, TypeError, ValueError, RoomError) as error:
            log.warning("room store: skipped a malformed poll: %s", error)
            return None


@dataclass(frozen=True)
class Counts:
    """How many are in the room and share, for the teacher's sentence."""

    members: int
    shared: int
    hidden: int


@dataclass(frozen=True)
class ClassView:
    """What the teacher's panel shows: the settings, the counts, the visible drawings (oldest first), the poll."""

    room: Room
    version: int
    counts: Counts
    drawings: list[Drawing]
    nicknames: dict[str, str]
    poll: Poll | None
    tally: list[int] = field(default_factory=list)   # answers per choice of ``poll``


def _read_json(raw, what: str):
    if raw is None:
        return None
    try:
        return json.loads(raw)
    except (ValueError, TypeError, UnicodeDecodeError) as error:
        log.warning("room store: skipped a malformed %s: %s", what, error)
        return None


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def new_member_id() -> str:
    return secrets.token_urlsafe(12)


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()


def normal_code(code: str | None) -> str:
    """A code as typed (any case, spaces around) -> as stored; raises UnknownRoom for what no room could have."""
    code = (code or "").strip().upper()
    if not _CODE.match(code):
        raise UnknownRoom(N_("There is no class room {code!r}: a room's code is {length} letters and digits, as the "
                             "teacher's screen shows it. Check the link, or ask for it again."),
                          code=code[:12], length=CODE_LENGTH)
    return code


def check_nickname(nickname: str | None) -> str | None:
    """A nickname as it is kept: stripped; None for none. Raises RoomError saying what is wrong."""
    nickname = (nickname or "").strip()
    if not nickname:
        return None
    if len(nickname) > NICKNAME_MAX:
        raise RoomError("A nickname is at most {most} characters; this one has {count:,}. Choose a shorter one.",
                        most=NICKNAME_MAX, count=len(nickname))
    if not nickname.isprintable():
        raise RoomError("A nickname is letters, digits, spaces and punctuation, without control characters.")
    return nickname


def check_poll(question: str, choices: tuple[str, ...] | list[str], correct: int | None,
               explanation: str = "") -> None:
    if not isinstance(question, str) or not question.strip() or len(question) > QUESTION_MAX:
        raise RoomError("A poll needs a question of 1 to {most} characters.", most=QUESTION_MAX)
    if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        raise RoomError("A poll has {fewest} to {most} choices; this one has {count}.", fewest=MIN_CHOICES,
                        most=MAX_CHOICES, count=len(choices))
    if any(not isinstance(c, str) or not c.strip() or len(c) > CHOICE_MAX for c in choices):
        raise RoomError("Each choice is 1 to {most} characters.", most=CHOICE_MAX)
    if len(set(choices)) != len(choices):
        raise RoomError("Two choices are the same; make each one different.")
    if correct is not None and (not isinstance(correct, int) or not 0 <= correct < len(choices)):
        raise RoomError("The right answer must be one of the choices.")
    if not isinstance(explanation, str) or len(explanation) > EXPLANATION_MAX:
        raise RoomError("A poll's explanation is at most {most} characters.", most=EXPLANATION_MAX)


class RoomStore(ABC):
    """Rooms, their members, drawings and polls. Subclasses give the atomic primitives (the ``_`` methods).

    Each room is a few named hashes (field -> bytes): ``meta`` (settings), ``members`` (id -> JSON),
    ``drawings`` (member -> ``encode_drawing``), ``hidden`` (member -> b"1"), ``poll`` ("current" -> JSON),
    ``answers`` (member -> choice index); plus a version number, raised by every change the teacher's
    panel shows, so the panel redraws only when it moved.
    """

    def __init__(self, expiry_s: float = EXPIRY_S, max_rooms: int = MAX_ROOMS, max_members: int = MAX_MEMBERS,
                 share_interval_s: float = SHARE_INTERVAL_S):
        self.expiry_s, self.max_rooms, self.max_members = expiry_s, max_rooms, max_members
        self.share_interval_s = share_interval_s

    # --- primitives ---------------------------------------------------------------------------

    @abstractmethod
    def _create(self, code: str, meta: dict[str, bytes]) -> str:
        """Atomically: "ok", "taken" (the code exists) or "full" (``max_rooms`` live rooms)."""

    @abstractmethod
    def _join(self, code: str, member: str, record: bytes) -> str:
        """Atomically: "ok", "member" (already one), "unknown", "closed", "locked" or "full"."""

    @abstractmethod
    def _allow_share(self, code: str, member: str) -> bool:
        """True at most once per ``share_interval_s`` per member (a key that expires)."""

    @abstractmethod
    def _get(self, code: str, name: str) -> dict[str, bytes]:
        """The whole hash ``name`` of the room ({} when there is none)."""

    @abstractmethod
    def _field(self, code: str, name: str, key: str) -> bytes | None:
        ...

    @abstractmethod
    def _write(self, code: str, name: str, key: str, value: bytes | None, only_new: bool = False) -> bool:
        """Set (None: delete) one field, raise the version and keep the room alive. ``only_new``: only when
        the field is not there yet (False then). The version and expiry move in the same step."""

    @abstractmethod
    def _drop(self, code: str, *names: str) -> None:
        """Delete whole hashes, raise the version, keep the room alive."""

    @abstractmethod
    def _version(self, code: str) -> int:
        """The room's version (0: no such room)."""

    # --- rooms --------------------------------------------------------------------------------

    def create_room(self, dataset: str, family: str, latent_dim: int, allow_nicknames: bool = False
                    ) -> tuple[Room, str]:
        """A new room and its teacher key (shown once, to the teacher; the store keeps its digest)."""
        if not (_NAME.match(dataset) and _NAME.match(family)) or not 1 <= int(latent_dim) <= 4096:
            raise ValueError(f"not a model: {dataset!r}, {family!r}, z = {latent_dim!r}")
        key = secrets.token_urlsafe(KEY_BYTES)
        now = time.time()
        meta = {"dataset": dataset, "family": family, "latent_dim": str(int(latent_dim)),
                "allow_nicknames": "1" if allow_nicknames else "0", "locked": "0", "closed": "0",
                "created_at": repr(now), "key": key_digest(key)}
        for _ in range(20):
            code = new_code()
            status = self._create(code, {k: v.encode() for k, v in meta.items()})
            if status == "ok":
                return self.room(code), key
            if status == "full":
                raise StoreFull(N_("This server already holds {count} class rooms, its limit. Close a room you no "
                                   "longer use, or try again in a few hours, when idle rooms expire."),
                                count=self.max_rooms)
        raise StoreFull(N_("No free room code was found; try again."))

    def room(self, code: str) -> Room:
        """The room's settings; raises UnknownRoom (also for a room whose record is malformed)."""
        code = normal_code(code)
        meta = self._get(code, "meta")
        if not meta:
            raise UnknownRoom(N_("There is no class room {code}. It may have expired, or the code was mistyped: "
                                 "check the link, or ask the teacher for it again."), code=code)
        try:
            text = {k: v.decode() for k, v in meta.items()}
            dataset, family, latent_dim = text["dataset"], text["family"], int(text["latent_dim"])
            if not (_NAME.match(dataset) and _NAME.match(family)) or not 1 <= latent_dim <= 4096:
                raise ValueError(f"{dataset!r} {family!r} {latent_dim!r}")
            flags = {k: text[k] == "1" for k in ("allow_nicknames", "locked", "closed")}
            return Room(code, dataset, family, latent_dim, created_at=float(text["created_at"]), **flags)
        except (KeyError, ValueError, UnicodeDecodeError) as error:
            log.warning("room store: room %s has a malformed record: %s", code, error)
            raise UnknownRoom(N_("Class room {code} cannot be read; the teacher can start a new one."),
                              code=code) from None

    def version(self, code: str) -> int:
        """Raised by every change the teacher's panel shows (0: no such room)."""
        return self._version(normal_code(code))

    def is_teacher(self, code: str, key: str | None) -> bool:
        """True when ``key`` is the room's teacher key (compared in constant time)."""
        if not key:
            return False
        try:
            stored = self._field(normal_code(code), "meta", "key")
        except UnknownRoom:
            return False
        return stored is not None and hmac.compare_digest(stored, key_digest(key).encode())

    def _teacher(self, code: str, key: str | None) -> str:
        code = normal_code(code)
        if not self.is_teacher(code, key):
            raise NotTeacher(N_("Only the teacher's link (with its key) can steer this room. Open the link you "
                                "bookmarked when you started it."))
        return code

    # --- students -----------------------------------------------------------------------------

    def join(self, code: str, member: str | None = None, nickname: str | None = None) -> str:
        """A member id for a new member (or ``member`` again, when it already is one)."""
        room = self.room(code)
        nickname = check_nickname(nickname) if room.allow_nicknames else None
        member = member if member and _MEMBER.match(member) else new_member_id()
        status = self._join(room.code, member, json.dumps({"nickname": nickname}).encode())
        if status in ("ok", "member"):
            return member
        raise {"unknown": UnknownRoom(N_("There is no class room {code} any more."), code=room.code),
               "closed": RoomClosed(N_("Class room {code} is closed. The rest of the page works as before."),
                                    code=room.code),
               "locked": RoomLocked(N_("Class room {code} is locked: the teacher takes no new members now."),
                                    code=room.code),
               "full": RoomFull(N_("Class room {code} is full ({count} members). Explore on your own, or ask the "
                                   "teacher to start a second room."), code=room.code, count=self.max_members),
               }[status]

    def is_member(self, code: str, member: str | None) -> bool:
        return bool(member) and self._field(normal_code(code), "members", member) is not None

    def leave(self, code: str, member: str) -> None:
        code = normal_code(code)
        self._write(code, "drawings", member, None)
        self._write(code, "members", member, None)

    def set_nickname(self, code: str, member: str, nickname: str | None) -> None:
        room = self.room(code)
        if not room.allow_nicknames:
            raise RoomError("The teacher has not allowed nicknames in this room.")
        self._member(room.code, member)
        self._write(room.code, "members", member, json.dumps({"nickname": check_nickname(nickname)}).encode())

    def _member(self, code: str, member: str) -> None:
        if not self.is_member(code, member):
            raise NotMember(N_("You are no longer in this room; join it again from its link."))

    def share(self, code: str, member: str, drawing: Drawing) -> bool:
        """Put ``drawing`` up as the member's current input. False: dropped (rate limit), not queued."""
        room = self.room(code)
        if room.closed:
            raise RoomClosed(N_("Class room {code} is closed."), code=room.code)
        self._member(room.code, member)
        if not self._allow_share(room.code, member):
            return False
        drawing = Drawing(member, drawing.picture, tuple(map(float, drawing.placed)), int(drawing.predicted),
                          float(np.clip(drawing.unusual, 0, 100)), drawing.kind, time.time())
        if not 0 <= drawing.predicted < MAX_CLASSES:
            raise ValueError(f"class {drawing.predicted} out of range")
        self._write(room.code, "drawings", member, encode_drawing(drawing))
        return True

    def unshare(self, code: str, member: str) -> None:
        """The member's share switch off: their drawing leaves the teacher's map."""
        self._write(normal_code(code), "drawings", member, None)

    def poll(self, code: str) -> Poll | None:
        """The current poll, for a student's page (no answers, no drawings)."""
        return Poll.from_json(self._field(normal_code(code), "poll", "current"))

    def answer(self, code: str, member: str, poll_id: int, choice: int) -> bool:
        """Answer the current poll once. False: already answered, or that poll is no longer current."""
        code = normal_code(code)
        self._member(code, member)
        poll = self.poll(code)
        if poll is None or poll.id != poll_id or poll.revealed:
            return False
        if not isinstance(choice, int) or not 0 <= choice < len(poll.choices):
            raise RoomError("Choose one of the {count} answers.", count=len(poll.choices))
        return self._write(code, "answers", member, f"{poll_id}:{choice}".encode(), only_new=True)

    def my_answer(self, code: str, member: str, poll_id: int) -> int | None:
        raw = self._field(normal_code(code), "answers", member)
        return self._parse_answer(raw, poll_id)

    @staticmethod
    def _parse_answer(raw: bytes | None, poll_id: int) -> int | None:
        if raw is None:
            return None
        try:
            answered, choice = (int(part) for part in raw.decode().split(":"))
        except (ValueError, UnicodeDecodeError):
            log.warning("room store: skipped a malformed answer %r", raw[:40])
            return None
        return choice if answered == poll_id else None

    # --- the teacher --------------------------------------------------------------------------

    def class_view(self, code: str, key: str) -> ClassView:
        """Everything the teacher's panel shows, checked entry by entry."""
        code = self._teacher(code, key)
        room, version = self.room(code), self._version(code)
        hidden = set(self._get(code, "hidden"))
        members = self._get(code, "members")
        nicknames = {}
        for member, raw in members.items():
            record = _read_json(raw, "member")
            nickname = record.get("nickname") if isinstance(record, dict) else None
            if isinstance(nickname, str) and len(nickname) <= NICKNAME_MAX:
                nicknames[member] = nickname
        drawings, hidden_shared = [], 0
        for member, raw in self._get(code, "drawings").items():
            drawing = decode_drawing(member, raw)
            if drawing is None:
                continue
            if member in hidden:
                hidden_shared += 1
            else:
                drawings.append(drawing)
        drawings.sort(key=lambda d: d.at)
        poll = self.poll(code)
        tally = []
        if poll is not None:
            tally = [0] * len(poll.choices)
            for raw in self._get(code, "answers").values():
                choice = self._parse_answer(raw, poll.id)
                if choice is not None and 0 <= choice < len(tally):
                    tally[choice] += 1
        return ClassView(room, version, Counts(len(members), len(drawings), hidden_shared), drawings, nicknames,
                         poll, tally)

    def hide(self, code: str, key: str, member: str) -> None:
        """Take a member's drawing off the map and gallery, and whatever they share after it."""
        code = self._teacher(code, key)
        self._write(code, "hidden", member, b"1")

    def clear(self, code: str, key: str) -> None:
        """Every drawing off the map (members stay, and share again with their next stroke)."""
        self._drop(self._teacher(code, key), "drawings")

    def lock(self, code: str, key: str, locked: bool = True) -> None:
        self._write(self._teacher(code, key), "meta", "locked", b"1" if locked else b"0")

    def allow_nicknames(self, code: str, key: str, allowed: bool = True) -> None:
        self._write(self._teacher(code, key), "meta", "allow_nicknames", b"1" if allowed else b"0")

    def close(self, code: str, key: str) -> None:
        """The room ends: its drawings, poll and answers go; the record stays (closed) until it expires."""
        code = self._teacher(code, key)
        self._write(code, "meta", "closed", b"1")
        self._drop(code, "drawings", "poll", "answers", "hidden")

    def ask(self, code: str, key: str, question: str, choices: list[str] | tuple[str, ...],
            correct: int | None = None, explanation: str = "") -> Poll:
        """A new current poll (the last one's answers go)."""
        code = self._teacher(code, key)
        choices = tuple(c.strip() for c in choices)
        check_poll(question.strip(), choices, correct, explanation.strip())
        poll = Poll(self._version(code) + 1, question.strip(), choices, correct, explanation=explanation.strip())
        self._drop(code, "answers")
        self._write(code, "poll", "current", poll.to_json().encode())
        return poll

    def reveal(self, code: str, key: str) -> Poll | None:
        code = self._teacher(code, key)
        poll = self.poll(code)
        if poll is None:
            return None
        revealed = replace(poll, revealed=True)
        self._write(code, "poll", "current", revealed.to_json().encode())
        return revealed

    def end_poll(self, code: str, key: str) -> None:
        self._drop(self._teacher(code, key), "poll", "answers")


class MemoryStore(RoomStore):
    """Rooms in this process's memory, under one lock: the default for a single server."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, **limits):
        super().__init__(**limits)
        self._clock = clock
        self._lock = threading.Lock()
        self._rooms: dict[str, dict[str, dict[str, bytes]]] = {}
        self._versions: dict[str, int] = {}
        self._last: dict[str, float] = {}
        self._rate: dict[tuple[str, str], float] = {}

    def _live(self, code: str) -> dict[str, dict[str, bytes]] | None:
        """The room's hashes, after dropping it when it expired (the lock is held)."""
        room = self._rooms.get(code)
        if room is not None and self._clock() - self._last[code] > self.expiry_s:
            del self._rooms[code], self._versions[code], self._last[code]
            self._rate = {k: v for k, v in self._rate.items() if k[0] != code}
            return None
        return room

    def _create(self, code, meta):
        with self._lock:
            for other in list(self._rooms):
                self._live(other)
            if code in self._rooms:
                return "taken"
            if len(self._rooms) >= self.max_rooms:
                return "full"
            self._rooms[code] = {"meta": dict(meta)}
            self._versions[code], self._last[code] = 1, self._clock()
            return "ok"

    def _join(self, code, member, record):
        with self._lock:
            room = self._live(code)
            if room is None:
                return "unknown"
            members = room.setdefault("members", {})
            if member in members:
                return "member"
            meta = room["meta"]
            if meta.get("closed") == b"1":
                return "closed"
            if meta.get("locked") == b"1":
                return "locked"
            if len(members) >= self.max_members:
                return "full"
            members[member] = record
            self._changed(code)
            return "ok"

    def _allow_share(self, code, member):
        with self._lock:
            now = self._clock()
            if self._rate.get((code, member), -math.inf) > now:
                return False
            self._rate[(code, member)] = now + self.share_interval_s
            return True

    def _get(self, code, name):
        with self._lock:
            room = self._live(code)
            return dict(room.get(name, {})) if room else {}

    def _field(self, code, name, key):
        with self._lock:
            room = self._live(code)
            return room.get(name, {}).get(key) if room else None

    def _write(self, code, name, key, value, only_new=False):
        with self._lock:
            room = self._live(code)
            if room is None:
                raise UnknownRoom(N_("There is no class room {code} any more."), code=code)
            table = room.setdefault(name, {})
            if only_new and key in table:
                return False
            if value is None:
                table.pop(key, None)
            else:
                table[key] = value
            self._changed(code)
            return True

    def _drop(self, code, *names):
        with self._lock:
            room = self._live(code)
            if room is None:
                raise UnknownRoom(N_("There is no class room {code} any more."), code=code)
            for name in names:
                room.pop(name, None)
            self._changed(code)

    def _changed(self, code):
        self._versions[code] += 1
        self._last[code] = self._clock()

    def _version(self, code):
        with self._lock:
            return self._versions.get(code, 0) if self._live(code) is not None else 0

    def put_raw(self, code: str, name: str, key: str, value: bytes) -> None:
        """Write an entry as it is, unchecked: what a hostile or broken writer could leave (for tests)."""
        with self._lock:
            self._rooms[code].setdefault(name, {})[key] = value


# Redis: each room's hashes are keys "aelab:room:<code>:<name>"; "aelab:rooms" is a sorted set of the
# live rooms by their last write (Unix ms). Every write refreshes every key's expiry in the same script.
_PREFIX = "aelab:room:"
_INDEX = "aelab:rooms"
_NAMES = ("meta", "members", "drawings", "hidden", "poll", "answers", "version")

_TOUCH = """
local function touch(code, now, ttl)
  for _, name in ipairs({'meta', 'members', 'drawings', 'hidden', 'poll', 'answers', 'version'}) do
    redis.call('PEXPIRE', KEYS[1] .. code .. ':' .. name, ttl)
  end
  redis.call('ZADD', KEYS[2], now, code)
end
"""
# KEYS: prefix, index. ARGV: code, now ms, ttl ms, max rooms, then meta field/value pairs.
_CREATE_LUA = _TOUCH + """
local code, now, ttl, max_rooms = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
if redis.call('EXISTS', KEYS[1] .. code .. ':meta') == 1 then return 'taken' end
if redis.call('ZCARD', KEYS[2]) >= max_rooms then return 'full' end
for i = 5, #ARGV, 2 do redis.call('HSET', KEYS[1] .. code .. ':meta', ARGV[i], ARGV[i + 1]) end
redis.call('SET', KEYS[1] .. code .. ':version', 1)
touch(code, now, ttl)
return 'ok'
"""
# ARGV: code, now ms, ttl ms, member, record, max members
_JOIN_LUA = _TOUCH + """
local code, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local room = KEYS[1] .. code
if redis.call('EXISTS', room .. ':meta') == 0 then return 'unknown' end
if redis.call('HEXISTS', room .. ':members', ARGV[4]) == 1 then return 'member' end
if redis.call('HGET', room .. ':meta', 'closed') == '1' then return 'closed' end
if redis.call('HGET', room .. ':meta', 'locked') == '1' then return 'locked' end
if redis.call('HLEN', room .. ':members') >= tonumber(ARGV[6]) then return 'full' end
redis.call('HSET', room .. ':members', ARGV[4], ARGV[5])
redis.call('INCR', room .. ':version')
touch(code, now, ttl)
return 'ok'
"""
# ARGV: code, now ms, ttl ms, name, field, value ('' with ARGV[7] == 'del' to delete), mode: set | new | del
_WRITE_LUA = _TOUCH + """
local code, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local room = KEYS[1] .. code
if redis.call('EXISTS', room .. ':meta') == 0 then return -1 end
local key = room .. ':' .. ARGV[4]
if ARGV[7] == 'del' then redis.call('HDEL', key, ARGV[5])
elseif ARGV[7] == 'new' then
  if redis.call('HSETNX', key, ARGV[5], ARGV[6]) == 0 then return 0 end
else redis.call('HSET', key, ARGV[5], ARGV[6]) end
redis.call('INCR', room .. ':version')
touch(code, now, ttl)
return 1
"""
# ARGV: code, now ms, ttl ms, names to delete...
_DROP_LUA = _TOUCH + """
local code, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local room = KEYS[1] .. code
if redis.call('EXISTS', room .. ':meta') == 0 then return -1 end
for i = 4, #ARGV do redis.call('DEL', room .. ':' .. ARGV[i]) end
redis.call('INCR', room .. ':version')
touch(code, now, ttl)
return 1
"""


class RedisStore(RoomStore):
    """Rooms in Redis, shared by every replica that has the same ``REDIS_URL``.

    Each change is one Lua script (atomic in Redis: the limits hold under concurrent writers). When
    Redis does not answer within ``timeout_s``, calls raise StoreUnreachable, and for ``retry_s`` after
    that they raise it at once, so a page that shares every stroke never waits on a dead store.
    """

    def __init__(self, url: str, timeout_s: float = 0.5, retry_s: float = 2.0, **limits):
        import redis  # only a deployment with REDIS_URL needs the client

        super().__init__(**limits)
        self._errors = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
        self._redis = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s,
                                           health_check_interval=10)
        self._scripts = {name: self._redis.register_script(source) for name, source in
                         (("create", _CREATE_LUA), ("join", _JOIN_LUA), ("write", _WRITE_LUA),
                          ("drop", _DROP_LUA))}
        self.retry_s = retry_s
        self._down_until = 0.0

    def _call(self, what: Callable):
        if time.monotonic() < self._down_until:
            raise StoreUnreachable(N_("The class room is unreachable (its store does not answer); retrying."))
        try:
            return what()
        except self._errors as error:
            self._down_until = time.monotonic() + self.retry_s
            log.warning("room store: Redis unreachable: %s", error)
            raise StoreUnreachable(N_("The class room is unreachable (its store does not answer); retrying.")) from None

    def _script(self, name: str, code: str, *args):
        now_ms, ttl_ms = int(time.time() * 1000), int(self.expiry_s * 1000)
        return self._call(lambda: self._scripts[name](keys=[_PREFIX, _INDEX], args=[code, now_ms, ttl_ms, *args]))

    @staticmethod
    def _text(reply) -> str:
        return reply.decode() if isinstance(reply, bytes) else str(reply)

    def _create(self, code, meta):
        pairs = [part for item in meta.items() for part in item]
        return self._text(self._script("create", code, self.max_rooms, *pairs))

    def _join(self, code, member, record):
        return self._text(self._script("join", code, member, record, self.max_members))

    def _allow_share(self, code, member):
        if self.share_interval_s <= 0:
            return True
        key = f"{_PREFIX}{code}:rate:{member}"
        return bool(self._call(lambda: self._redis.set(key, b"1", px=int(self.share_interval_s * 1000), nx=True)))

    def _get(self, code, name):
        raw = self._call(lambda: self._redis.hgetall(f"{_PREFIX}{code}:{name}"))
        return {k.decode("utf-8", "replace"): v for k, v in raw.items()}

    def _field(self, code, name, key):
        return self._call(lambda: self._redis.hget(f"{_PREFIX}{code}:{name}", key))

    def _write(self, code, name, key, value, only_new=False):
        mode = "del" if value is None else "new" if only_new else "set"
        done = int(self._script("write", code, name, key, b"" if value is None else value, mode))
        if done < 0:
            raise UnknownRoom(N_("There is no class room {code} any more."), code=code)
        return done == 1

    def _drop(self, code, *names):
        if int(self._script("drop", code, *names)) < 0:
            raise UnknownRoom(N_("There is no class room {code} any more."), code=code)

    def _version(self, code):
        raw = self._call(lambda: self._redis.get(f"{_PREFIX}{code}:version"))
        try:
            return int(raw) if raw is not None else 0
        except ValueError:
            log.warning("room store: room %s has a malformed version %r", code, raw[:40])
            return 0

    def put_raw(self, code: str, name: str, key: str, value: bytes) -> None:
        """Write an entry as it is, unchecked: what a hostile or broken writer could leave (for tests)."""
        self._redis.hset(f"{_PREFIX}{code}:{name}", key, value)


def open_store(url: str | None = None) -> RoomStore:
    """Redis when ``url`` (default: the ``REDIS_URL`` environment variable) is set, else this process's memory."""
    url = url if url is not None else os.environ.get("REDIS_URL", "")
    return RedisStore(url) if url else MemoryStore()
