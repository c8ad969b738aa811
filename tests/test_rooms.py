"""The room store's contract, run against both stores: in memory, and a real redis-server on a loopback port."""
from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from ae_demo import rooms
from ae_demo.rooms import (Drawing, MemoryStore, NotMember, NotTeacher, RedisStore, RoomClosed, RoomError,
                           RoomFull, RoomLocked, StoreFull, StoreUnreachable, UnknownRoom)

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen:
    """redis-server on 127.0.0.1:port, nothing written to disk; returns once it answers."""
    process = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no", "--protected-mode", "yes"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"redis-server did not start on port {port}")


@pytest.fixture(scope="module")
def redis_url():
    if not shutil.which(REDIS_SERVER):
        pytest.skip("redis-server is not installed (apt-get install redis-server; .ci/run does)")
    port = free_port()
    process = start_redis(port)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(10)


@pytest.fixture(params=["memory", "redis"])
def make_store(request):
    """(**limits) -> a fresh, empty store of the kind under test."""
    if request.param == "memory":
        yield lambda **limits: MemoryStore(**limits)
        return
    url = request.getfixturevalue("redis_url")
    made = []

    def make(**limits):
        store = RedisStore(url, **limits)
        store._redis.flushdb()
        made.append(store)
        return store

    yield make
    for store in made:
        store._redis.close()


def drawing(seed: int = 0, predicted: int = 7) -> Drawing:
    picture = np.random.default_rng(seed).integers(0, 256, size=(28, 28), dtype=np.uint8)
    return Drawing("x" * 8, picture, (1.5, -2.25), predicted, 42.0)


def test_a_room_has_a_short_unambiguous_code_and_a_long_key(make_store):
    store = make_store()
    room, key = store.create_room("mnist", "conv", 32)
    assert len(room.code) == rooms.CODE_LENGTH and set(room.code) <= set(rooms.CODE_ALPHABET)
    assert not set("01OIL") & set(rooms.CODE_ALPHABET)
    assert len(key) * 6 >= 128 and rooms.KEY_BYTES * 8 >= 128  # url-safe base64: 6 bits a character
    assert (room.dataset, room.family, room.latent_dim, room.locked, room.closed) == ("mnist", "conv", 32, False, False)
    assert store.room(room.code.lower()) == room  # typed in lower case on a phone
    assert store.is_teacher(room.code, key)
    assert not store.is_teacher(room.code, key[:-1] + ("A" if key[-1] != "A" else "B"))
    assert not store.is_teacher(room.code, "") and not store.is_teacher(room.code, None)


def test_unknown_codes_are_refused_with_a_message(make_store):
    store = make_store()
    for code in ("ZZZZ", "k7", "<script>", "x" * 10_000):
        with pytest.raises(UnknownRoom, match="class room"):
            store.room(code)
        with pytest.raises(UnknownRoom):
            store.join(code)


def test_join_share_and_the_teacher_sees_it(make_store):
    store = make_store()
    room, key = store.create_room("mnist", "conv", 32)
    member = store.join(room.code)
    assert store.is_member(room.code, member) and store.join(room.code, member) == member
    sent = drawing(1)
    assert store.share(room.code, member, sent)
    view = store.class_view(room.code, key)
    assert view.counts == rooms.Counts(members=1, shared=1, hidden=0)
    [got] = view.drawings
    assert got.member == member and np.array_equal(got.picture, sent.picture)
    assert got.placed == (1.5, -2.25) and got.predicted == 7 and got.unusual == 42.0 and got.at > 0
    store.unshare(room.code, member)
    assert store.class_view(room.code, key).drawings == []


def test_the_version_moves_with_every_change_the_panel_shows(make_store):
    store = make_store(share_interval_s=0)
    room, key = store.create_room("mnist", "conv", 32)
    seen = [store.version(room.code)]
    member = store.join(room.code)
    seen.append(store.version(room.code))
    store.share(room.code, member, drawing())
    seen.append(store.version(room.code))
    store.ask(room.code, key, "Which?", ["a", "b"])
    seen.append(store.version(room.code))
    store.answer(room.code, member, store.poll(room.code).id, 1)
    seen.append(store.version(room.code))
    assert seen == sorted(set(seen)), seen
    store.class_view(room.code, key)  # reading changes nothing
    assert store.version(room.code) == seen[-1]
    assert store.version("ZZZZ") == 0


def test_only_the_key_steers(make_store):
    store = make_store()
    room, key = store.create_room("mnist", "conv", 32)
    member = store.join(room.code)
    for forged in (None, "", "x" * 32, key + "x", member):
        for steer in (lambda k: store.class_view(room.code, k), lambda k: store.hide(room.code, k, member),
                      lambda k: store.clear(room.code, k), lambda k: store.lock(room.code, k),
                      lambda k: store.close(room.code, k), lambda k: store.ask(room.code, k, "Q?", ["a", "b"]),
                      lambda k: store.reveal(room.code, k), lambda k: store.end_poll(room.code, k)):
            with pytest.raises(NotTeacher, match="teacher's link"):
                steer(forged)
    assert not store.room(room.code).closed and not store.room(room.code).locked


def test_hide_clear_lock_close(make_store):
    store = make_store()
    room, key = store.create_room("mnist", "conv", 32)
    a, b = store.join(room.code), store.join(room.code)
    store.share(room.code, a, drawing(1))
    store.share(room.code, b, drawing(2))
    store.hide(room.code, key, a)
    view = store.class_view(room.code, key)
    assert [d.member for d in view.drawings] == [b] and view.counts.hidden == 1
    store.clear(room.code, key)
    assert store.class_view(room.code, key).drawings == [] and store.class_view(room.code, key).counts.members == 2
    store.lock(room.code, key)
    with pytest.raises(RoomLocked, match="locked"):
        store.join(room.code)
    assert store.join(room.code, a) == a  # a member already in comes back
    store.lock(room.code, key, False)
    store.join(room.code)
    store.close(room.code, key)
    assert store.room(room.code).closed
    with pytest.raises(RoomClosed, match="closed"):
        store.join(room.code)
    with pytest.raises(RoomClosed):
        store.share(room.code, b, drawing(3))


def test_a_poll_round_trip(make_store):
    store = make_store()
    room, key = store.create_room("mnist", "conv", 32)
    a, b, c = (store.join(room.code) for _ in range(3))
    poll = store.ask(room.code, key, "  Which size keeps the 7?  ", ["2", "8", "32"], correct=2)
    assert store.poll(room.code) == poll and poll.question == "Which size keeps the 7?"
    assert store.answer(room.code, a, poll.id, 2) and store.answer(room.code, b, poll.id, 0)
    assert not store.answer(room.code, a, poll.id, 0)  # once
    assert not store.answer(room.code, c, poll.id + 1, 0)  # not the current poll
    with pytest.raises(RoomError, match="Choose one"):
        store.answer(room.code, c, poll.id, 3)
    with pytest.raises(NotMember):
        store.answer(room.code, "not-a-member-1", poll.id, 0)
    assert store.class_view(room.code, key).tally == [1, 0, 1]
    assert store.my_answer(room.code, a, poll.id) == 2 and store.my_answer(room.code, c, poll.id) is None
    revealed = store.reveal(room.code, key)
    assert revealed.revealed and store.poll(room.code).correct == 2
    assert not store.answer(room.code, c, poll.id, 1)  # revealed: no more answers
    second = store.ask(room.code, key, "Next?", ["yes", "no"], correct=0, explanation=" SSE 3.1 against 4.2. ")
    assert second.id != poll.id and store.class_view(room.code, key).tally == [0, 0]
    assert store.poll(room.code).explanation == "SSE 3.1 against 4.2."  # kept with the poll, through the store
    assert store.reveal(room.code, key).explanation == "SSE 3.1 against 4.2."
    assert store.my_answer(room.code, a, second.id) is None
    store.end_poll(room.code, key)
    assert store.poll(room.code) is None


@pytest.mark.parametrize("choices, message", [(["only"], "2 to 6"), ([str(i) for i in range(7)], "2 to 6"),
                                              (["a", ""], "1 to 80"), (["a", "a"], "same"),
                                              (["a", "x" * 81], "1 to 80")])
def test_a_bad_poll_is_refused(make_store, choices, message):
    store = make_store()
    room, key = store.create_room("mnist", "conv", 32)
    with pytest.raises(RoomError, match=message):
        store.ask(room.code, key, "Q?", choices)
    with pytest.raises(RoomError, match="question"):
        store.ask(room.code, key, "x" * 201, ["a", "b"])
    with pytest.raises(RoomError, match="right answer"):
        store.ask(room.code, key, "Q?", ["a", "b"], correct=2)
    with pytest.raises(RoomError, match="explanation"):
        store.ask(room.code, key, "Q?", ["a", "b"], correct=0, explanation="x" * 401)


def test_nicknames_only_when_allowed_and_checked(make_store):
    store = make_store()
    room, key = store.create_room("mnist", "conv", 32)
    member = store.join(room.code, nickname="ignored")  # not allowed: no nickname kept
    assert store.class_view(room.code, key).nicknames == {}
    with pytest.raises(RoomError, match="not allowed"):
        store.set_nickname(room.code, member, "Ada")
    store.allow_nicknames(room.code, key)
    with pytest.raises(RoomError, match="at most 20"):
        store.set_nickname(room.code, member, "x" * 10_000)
    with pytest.raises(RoomError, match="control"):
        store.set_nickname(room.code, member, "a\x00b")
    store.set_nickname(room.code, member, "<b>Ada</b>")  # kept as text; the page escapes it
    assert store.class_view(room.code, key).nicknames == {member: "<b>Ada</b>"}


def test_the_limits(make_store):
    store = make_store(max_members=3, max_rooms=2)
    room, key = store.create_room("mnist", "conv", 32)
    for _ in range(3):
        store.join(room.code)
    with pytest.raises(RoomFull, match="full"):
        store.join(room.code)
    store.create_room("mnist", "conv", 32)
    with pytest.raises(StoreFull, match="2 class rooms"):
        store.create_room("mnist", "conv", 32)


def test_the_default_limits_are_the_issues():
    assert (rooms.MAX_MEMBERS, rooms.MAX_ROOMS, rooms.SHARE_INTERVAL_S, rooms.NICKNAME_MAX) == (300, 500, 0.5, 20)
    assert 2 * 3600 <= rooms.EXPIRY_S <= 12 * 3600


def test_the_rate_limit_drops_and_does_not_queue(make_store):
    store = make_store(share_interval_s=0.3)
    room, key = store.create_room("mnist", "conv", 32)
    member = store.join(room.code)
    assert store.share(room.code, member, drawing(1))
    assert not store.share(room.code, member, drawing(2))  # dropped
    [kept] = store.class_view(room.code, key).drawings
    assert np.array_equal(kept.picture, drawing(1).picture)
    time.sleep(0.35)
    assert store.share(room.code, member, drawing(3))
    [kept] = store.class_view(room.code, key).drawings
    assert np.array_equal(kept.picture, drawing(3).picture)
    other = store.join(room.code)  # the limit is per member
    assert store.share(room.code, other, drawing(4))


def test_rooms_expire_after_their_last_activity(make_store):
    store = make_store(expiry_s=0.6)
    room, key = store.create_room("mnist", "conv", 32)
    member = store.join(room.code)
    time.sleep(0.4)
    store.share(room.code, member, drawing())  # activity: the room lives on
    time.sleep(0.4)
    assert store.class_view(room.code, key).counts.shared == 1
    time.sleep(0.8)
    with pytest.raises(UnknownRoom):
        store.room(room.code)
    assert store.version(room.code) == 0
    assert store.create_room("mnist", "conv", 32)  # an expired room no longer counts against the limit


def test_expired_rooms_free_their_place(make_store):
    store = make_store(expiry_s=0.3, max_rooms=1)
    store.create_room("mnist", "conv", 32)
    time.sleep(0.45)
    store.create_room("mnist", "conv", 32)


def test_malformed_entries_are_skipped_and_logged(make_store, caplog):
    store = make_store()
    room, key = store.create_room("mnist", "conv", 32)
    good = store.join(room.code)
    store.share(room.code, good, drawing(1))
    nan = bytearray(rooms.encode_drawing(drawing(2)))
    nan[9:13] = np.float32("nan").tobytes()
    for member, raw in (("shortmember", b"\x01" * 10), ("nanmember1", bytes(nan)),
                        ("<img src=x>", rooms.encode_drawing(drawing(3))),
                        ("badkind12", rooms.encode_drawing(drawing(4))[:-785] + b"\x09" + bytes(784)),
                        ("badformat", b"\x07" + rooms.encode_drawing(drawing(5))[1:])):
        store.put_raw(room.code, "drawings", member, raw)
    store.put_raw(room.code, "members", "weirdmember", b"{not json")
    store.put_raw(room.code, "members", "longnickname", b'{"nickname": "' + b"x" * 500 + b'"}')
    store.put_raw(room.code, "answers", "badanswer1", b"nonsense")
    with caplog.at_level(logging.WARNING, logger="ae_demo.rooms"):
        view = store.class_view(room.code, key)
    assert [d.member for d in view.drawings] == [good]
    assert view.nicknames == {} and view.poll is None
    assert sum("malformed" in r.message for r in caplog.records) >= 6
    store.put_raw(room.code, "poll", "current", b'{"id": 1, "question": "", "choices": "ab"}')
    assert store.poll(room.code) is None
    store.put_raw(room.code, "poll", "current", b"\xff\xfe")
    assert store.poll(room.code) is None
    store.ask(room.code, key, "Q?", ["a", "b"])
    store.put_raw(room.code, "answers", "badanswer2", b"1:99")
    assert store.class_view(room.code, key).tally == [0, 0]


def test_a_room_with_a_broken_record_is_unknown_not_a_crash(make_store):
    store = make_store()
    room, key = store.create_room("mnist", "conv", 32)
    store.put_raw(room.code, "meta", "latent_dim", b"lots")
    with pytest.raises(UnknownRoom, match="cannot be read"):
        store.room(room.code)


def test_concurrent_writers_keep_the_limits(make_store):
    store = make_store(max_members=25, share_interval_s=0)
    room, key = store.create_room("mnist", "conv", 32)

    def join(_):
        try:
            return store.join(room.code)
        except RoomFull:
            return None

    with ThreadPoolExecutor(16) as pool:
        joined = [m for m in pool.map(join, range(60)) if m]
    assert len(joined) == 25 == store.class_view(room.code, key).counts.members
    before = store.version(room.code)
    with ThreadPoolExecutor(16) as pool:
        assert all(pool.map(lambda m: store.share(room.code, m, drawing(hash(m) % 1000)), joined))
    view = store.class_view(room.code, key)
    assert sorted(d.member for d in view.drawings) == sorted(joined)
    assert view.version == before + 25  # every write raised the version once, none lost


def test_concurrent_room_creation_keeps_the_store_limit(make_store):
    store = make_store(max_rooms=5)

    def create(_):
        try:
            return store.create_room("mnist", "conv", 32)[0].code
        except StoreFull:
            return None

    with ThreadPoolExecutor(12) as pool:
        codes = [c for c in pool.map(create, range(30)) if c]
    assert len(codes) == len(set(codes)) == 5


def test_redis_down_is_unreachable_fast_and_comes_back(redis_url):
    port = free_port()
    process = start_redis(port)
    store = RedisStore(f"redis://127.0.0.1:{port}/0", retry_s=0.5)
    room, key = store.create_room("mnist", "conv", 32)
    member = store.join(room.code)
    process.kill()
    process.wait()
    with pytest.raises(StoreUnreachable, match="unreachable"):
        store.share(room.code, member, drawing())
    started = time.perf_counter()
    for _ in range(20):  # while it is down, every call fails at once instead of waiting on a timeout
        with pytest.raises(StoreUnreachable):
            store.version(room.code)
    assert time.perf_counter() - started < 0.2
    process = start_redis(port)  # a Redis without the data (no append-only file here): the room is gone
    try:
        time.sleep(0.6)
        with pytest.raises(UnknownRoom):
            store.room(room.code)
        again, _ = store.create_room("mnist", "conv", 32)
        assert store.room(again.code) == again
    finally:
        process.terminate()
        process.wait(10)


def test_open_store_follows_redis_url(redis_url, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    assert isinstance(rooms.open_store(), MemoryStore)
    monkeypatch.setenv("REDIS_URL", redis_url)
    assert isinstance(rooms.open_store(), RedisStore)


def test_the_memory_store_writes_nothing_to_disk(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = MemoryStore()
    room, key = store.create_room("mnist", "conv", 32)
    store.share(room.code, store.join(room.code), drawing())
    assert list(tmp_path.iterdir()) == []


def test_a_drawing_is_784_bytes_and_its_placement():
    raw = rooms.encode_drawing(drawing())
    assert len(raw) == rooms.DRAWING_BYTES and rooms.DRAWING_BYTES - 784 < 32
    with pytest.raises(ValueError):
        rooms.encode_drawing(Drawing("member01", np.zeros((27, 28), np.uint8), (0, 0), 0, 0))
