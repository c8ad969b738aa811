"""Reading a teacher's own pictures: classes from folders, sizes, odd encodings, every refused archive."""
from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from ae_demo import image_sets
from ae_demo.image_sets import ArchiveError, read_image_set
from ae_demo.preprocess import as_dataset_picture

COLOURS = {"red": (220, 40, 30), "green": (40, 200, 60), "blue": (30, 60, 220)}


def shape_png(seed: int, colour=(200, 50, 50), side: int = 40, mode: str = "RGB", fmt: str = "PNG") -> bytes:
    """A distinct picture: a coloured square at a seeded place on a noisy grey ground."""
    rng = np.random.default_rng(seed)
    pixels = rng.integers(90, 130, (side, side, 3)).astype(np.uint8)
    r, c = rng.integers(0, side // 2, 2)
    pixels[r:r + side // 2, c:c + side // 2] = colour
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, fmt)
    return buffer.getvalue()


def make_zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def mark_encrypted(data: bytes) -> bytes:
    """Set the "encrypted" bit of every entry's local and central header (zipfile cannot write encryption)."""
    data = bytearray(data)
    for signature, flag_offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(signature)
        while at >= 0:
            data[at + flag_offset] |= 0x1
            at = data.find(signature, at + 4)
    return bytes(data)


def class_zip(per_class: int = 20, wrapper: str = "shapes/") -> bytes:
    return make_zip({f"{wrapper}{cls}/{i}.png": shape_png(100 * k + i, colour)
                     for k, (cls, colour) in enumerate(COLOURS.items()) for i in range(per_class)})


@pytest.fixture(autouse=True)
def nothing_written(tmp_path, monkeypatch):
    """Every test runs in an empty folder that must stay empty: no entry is ever written to disk."""
    monkeypatch.chdir(tmp_path)
    yield
    assert list(tmp_path.iterdir()) == []


class TestClassesAndSizes:
    def test_sub_folders_are_classes_in_colour(self):
        found = read_image_set([("shapes.zip", class_zip())], size=32, colour=True)
        assert found.images.shape == (60, 3, 32, 32) and found.images.dtype == np.uint8
        assert found.classes == ("blue", "green", "red")     # sorted, as ImageFolder
        assert np.bincount(found.labels).tolist() == [20, 20, 20]
        # the red pictures are red where the square is: the red channel's maximum beats blue's
        red = found.images[found.labels == 2]
        assert (red[:, 0].max(axis=(1, 2)) > red[:, 2].max(axis=(1, 2)) + 50).all()
        assert found.problem is None and found.skipped == ()

    @pytest.mark.parametrize("size", image_sets.SIZES)
    def test_grey_at_every_size(self, size):
        found = read_image_set([("shapes.zip", class_zip(per_class=2))], size=size, colour=False)
        assert found.images.shape == (6, 1, size, size)

    def test_loose_files_have_no_classes(self):
        files = [(f"pic{i}.png", shape_png(i)) for i in range(55)]
        found = read_image_set(files, size=28)
        assert found.labels is None and found.classes == () and len(found.images) == 55
        assert found.problem is None

    def test_a_folder_on_disk(self, tmp_path):
        root = tmp_path / "leaves"
        for cls in ("oak", "maple"):
            (root / cls).mkdir(parents=True)
            for i in range(3):
                (root / cls / f"{i}.png").write_bytes(shape_png(hash(cls) % 1000 + i))
        found = read_image_set(root, size=28, colour=True)
        assert found.classes == ("maple", "oak") and len(found.images) == 6
        for path in sorted(root.rglob("*"), reverse=True):  # leave the folder as the autouse check wants it
            path.unlink() if path.is_file() else path.rmdir()
        root.rmdir()

    def test_a_loose_file_beside_class_folders_is_skipped(self):
        data = make_zip({"a/1.png": shape_png(1), "b/2.png": shape_png(2), "stray.png": shape_png(3)})
        found = read_image_set([("x.zip", data)])
        assert [s.name for s in found.skipped] == ["stray.png"] and "class folder" in found.skipped[0].reason


class TestWhatIsLeftOut:
    def test_non_images_duplicates_and_metadata_are_listed(self):
        data = make_zip({"a.png": shape_png(1), "copy.png": shape_png(1), "notes.txt": b"hello",
                         "__MACOSX/._a.png": b"\x00\x05"})
        found = read_image_set([("x.zip", data)])
        reasons = {s.name: s.reason for s in found.skipped}
        assert len(found.images) == 1
        assert "duplicate of 'a.png'" in reasons["copy.png"]
        assert "text, not an image" in reasons["notes.txt"]
        assert "metadata" in reasons["__MACOSX/._a.png"]

    def test_too_few_says_how_many(self):
        found = read_image_set([(f"{i}.png", shape_png(i)) for i in range(7)])
        assert found.problem.startswith("Only 7 usable pictures found") and "at least 50" in found.problem

    def test_above_the_most_a_stated_random_subset(self):
        files = [(f"{i}.png", shape_png(i)) for i in range(12)]
        found = read_image_set(files, max_images=10)
        assert len(found.images) == 10 and "a random 10 of them are used (seed 0)" in found.notes[0]
        assert found.names == read_image_set(files, max_images=10).names       # the same subset each time

    def test_decompression_bomb_is_skipped_and_named(self, monkeypatch):
        monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)   # Pillow's own guard, made small
        found = read_image_set([("bomb.png", shape_png(1, side=100)), ("ok.png", b"")])
        reasons = {s.name: s.reason for s in found.skipped}
        assert "enormous picture" in reasons["bomb.png"] and "empty" in reasons["ok.png"]


class TestOddEncodings:
    def test_cmyk_16_bit_alpha_and_animated_gif_are_read(self):
        buffer = io.BytesIO()
        Image.fromarray((np.arange(40 * 40).reshape(40, 40) * 40).astype(np.uint16)).save(buffer, "PNG")
        sixteen = buffer.getvalue()
        rgba = np.zeros((40, 40, 4), np.uint8)
        rgba[10:30, 10:30] = (255, 0, 0, 255)
        buffer = io.BytesIO()
        Image.fromarray(rgba).save(buffer, "PNG")
        alpha = buffer.getvalue()
        frames = [Image.new("RGB", (40, 40), c) for c in ("red", "blue")]
        buffer = io.BytesIO()
        frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:])
        gif = buffer.getvalue()
        files = [("cmyk.jpg", shape_png(1, mode="CMYK", fmt="JPEG")), ("16.png", sixteen),
                 ("alpha.png", alpha), ("anim.gif", gif)]
        found = read_image_set(files, size=28, colour=True)
        assert found.skipped == () and len(found.images) == 4
        by_name = dict(zip(found.names, found.images))
        assert by_name["anim.gif"][0].mean() > 200 and by_name["anim.gif"][2].mean() < 30   # first frame: red
        assert by_name["alpha.png"][0, 14, 14] > 200 and by_name["alpha.png"][1, 14, 14] < 30

    def test_exif_rotation_is_applied(self):
        pixels = np.zeros((40, 80, 3), np.uint8)
        pixels[:, :40] = 255                          # left half white
        image = Image.fromarray(pixels)
        exif = image.getexif()
        exif[0x0112] = 6                              # "rotate 90° clockwise to view"
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", exif=exif, quality=95)
        picture = as_dataset_picture(buffer.getvalue(), 28, colour=False)
        upright = as_dataset_picture(image.transpose(Image.Transpose.ROTATE_270), 28, colour=False)
        assert np.abs(picture - upright).max() < 0.1
        assert picture[0, :4].mean() > 0.9 and picture[0, -4:].mean() < 0.1   # white on top after turning


class TestRefusedArchives:
    @pytest.mark.parametrize("name, fragment", [("/etc/x.png", "absolute path or '..'"),
                                                ("../x.png", "absolute path or '..'"),
                                                ("a/../../x.png", "absolute path or '..'"),
                                                ("C:\\x.png", "absolute path or '..'"),
                                                ("inner.zip", "contains another archive")])
    def test_bad_names_and_nested_archives(self, name, fragment):
        data = make_zip({"ok.png": shape_png(1), name: shape_png(2)})
        with pytest.raises(ArchiveError, match=fragment):
            read_image_set([("up.zip", data)])

    def test_an_archive_hiding_under_a_picture_name(self):
        data = make_zip({"ok.png": shape_png(1), "fake.png": make_zip({"a.png": shape_png(2)})})
        with pytest.raises(ArchiveError, match="is itself an archive"):
            read_image_set([("up.zip", data)])

    def test_encrypted_entry(self):
        data = mark_encrypted(make_zip({"secret.png": shape_png(1), "also.png": shape_png(2)}))
        with pytest.raises(ArchiveError, match="encrypted"):
            read_image_set([("up.zip", data)])

    @pytest.mark.parametrize("damage", ["truncated", "flipped"])
    def test_corrupt_archives(self, damage):
        data = bytearray(make_zip({"a.png": shape_png(1), "b.png": shape_png(2)}))
        if damage == "truncated":
            data = data[: len(data) // 2]
        else:
            data[60:260] = bytes(200)                 # the first entry's compressed data, the directory intact
        with pytest.raises(ArchiveError, match="damaged|not a readable ZIP"):
            read_image_set([("up.zip", bytes(data))])

    def test_an_entry_inflating_over_100_times_is_not_read(self):
        data = make_zip({"ok.png": shape_png(1), "bomb.png": bytes(5_000_000)})
        found = read_image_set([("up.zip", data)])
        assert [s.name for s in found.skipped] == ["bomb.png"] and "more than 100 times" in found.skipped[0].reason

    def test_a_lying_header_stops_at_the_size_it_declares(self):
        # zipfile inflates no more than the header's uncompressed size, and the ratio check reads
        # that size: a header that understates it gives a damaged entry, not a flood of bytes.
        data = bytearray(make_zip({"bomb.png": bytes(2_000_000)}))
        local, central = data.find(b"PK\x03\x04"), data.find(b"PK\x01\x02")
        compressed = data[local + 18:local + 22]
        data[local + 22:local + 26] = compressed           # uncompressed size := compressed size
        data[central + 24:central + 28] = compressed
        with pytest.raises(ArchiveError, match="is damaged"):
            read_image_set([("up.zip", bytes(data))])

    def test_more_entries_than_the_limit(self, monkeypatch):
        monkeypatch.setattr(image_sets, "MAX_ENTRIES", 5)
        data = make_zip({f"{i}.png": shape_png(i) for i in range(6)})
        with pytest.raises(ArchiveError, match="more than 5 entries"):
            read_image_set([("up.zip", data)])

    def test_more_bytes_than_the_limit(self, monkeypatch):
        monkeypatch.setattr(image_sets, "MAX_TOTAL_BYTES", 10_000)
        data = make_zip({f"{i}.png": shape_png(i, side=60) for i in range(3)})
        with pytest.raises(ArchiveError, match="unpacks to more than"):
            read_image_set([("up.zip", data)])
