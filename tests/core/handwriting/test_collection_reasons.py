"""Collections: the exact reasons users read for every skipped file, limits at their boundaries, counts
of entries, named classes and notes (found by `make mutation`: the older tests matched words only)."""

import os

import pytest
from PIL import Image

from mnist_core.handwriting import collection as col
from mnist_core.handwriting.collection import Limits, read_collection
from tests.hostile.digits import digit_image, encode
from tests.core.handwriting.test_collection import zip_of
from tests.hostile.make_corpus import _lying_member

PNG = encode(digit_image(3))
EXTENSIONS = ".png, .jpg, .jpeg, .gif, .bmp, .tif, .tiff, .webp, .ppm, .pgm, .pbm, .pnm"


def first_member_encrypted(data: bytes) -> bytes:
    """Set the 'encrypted' flag of the first member in its local and central headers (zipfile writes none)."""
    out = bytearray(data)
    for header, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = out.index(header) + offset
        out[at] |= 0x1
    return bytes(out)


def skipped(coll) -> list:
    return [(s["file"], s["reason"]) for s in coll.skipped]


def labels(coll) -> dict:
    return {item.file: item.label for item in coll.items}


def test_upload_reasons_word_for_word():
    tiny = encode(Image.new("L", (1, 1), 0))
    uploads = [("../x.png", PNG), ("/abs\\3_a.png", PNG), (".hidden.png", PNG), ("a.txt", b"x"),
               ("empty.png", b""), ("text.png", b"hello"), ("icon.png", encode(Image.new("L", (4, 4)), "ICO")),
               ("cut.png", PNG[:20]), ("one.png", tiny), ("dir\\7_b.png", PNG), ("Xa.png", PNG)]
    coll = read_collection(uploads)
    assert labels(coll) == {"abs/3_a.png": 3, "one.png": None, "dir/7_b.png": 7, "Xa.png": None}
    assert skipped(coll) == [
        ("../x.png", "unsafe path (absolute or containing '..'): not read"),
        (".hidden.png", "hidden or system file: ignored"),
        ("a.txt", f"not an image file name (accepted: {EXTENSIONS})"),
        ("empty.png", "empty file (0 bytes)"),
        ("text.png", "not a readable image (accepted: PNG, JPEG, GIF, BMP, TIFF, WebP, PPM)"),
        ("icon.png", "not a readable image (accepted: PNG, JPEG, GIF, BMP, TIFF, WebP, PPM)"),
        ("cut.png", "the header is unreadable: the file is cut short (truncated): it ends before the picture does "
                    "(an interrupted download or copy?); accepted: complete PNG, JPEG, GIF, BMP, TIFF, WebP or PPM "
                    "images (the decoder said: Truncated File Read)")]
    assert coll.notes == []


def test_archive_paths_that_would_escape():
    members = {"\\abs.png": PNG, "c:/x.png": PNG, "C:/y.png": PNG, "inner.zip": b"PK", "3/ok.png": PNG}
    coll = read_collection([("a.zip", zip_of(members))])
    unsafe = "unsafe path in the archive (absolute or containing '..'): not read"
    assert skipped(coll) == [("/abs.png", unsafe), ("c:/x.png", unsafe), ("C:/y.png", unsafe),
                             ("inner.zip", "archive inside a collection: nested archives are not read")]
    assert labels(coll) == {"3/ok.png": 3}
    assert col.unsafe_path("\\x") and col.unsafe_path("z:x") and not col.unsafe_path("a/..b/c")


def test_sizes_in_words():
    assert col._mb(1023) == "1,023 bytes" and col._mb(2**20 - 1) == "1,048,575 bytes"
    assert col._mb(2**20) == "1.0 MB" and col._mb(3 * 2**19) == "1.5 MB" and col._mb(2**30) == "1024.0 MB"


def test_limits_at_their_boundaries():
    n = len(PNG)  # 861 bytes
    coll = read_collection([("a.png", PNG), ("b.png", PNG)], Limits(max_total_bytes=n))
    assert labels(coll) == {"a.png": None}  # exactly the limit is allowed
    assert skipped(coll) == [("b.png", "861 bytes would exceed the limit of 861 bytes uncompressed in total")]
    coll = read_collection([("a.png", PNG), ("b.png", PNG)], Limits(max_files=1))
    assert skipped(coll) == [("b.png", "over the limit of 1 images per collection")]
    big = encode(Image.new("L", (2000, 1000), 255))
    coll = read_collection([("big.png", big), ("huge.png", encode(Image.new("L", (2000, 1001), 255)))],
                           Limits(max_pixels=2_000_000))
    assert labels(coll) == {"big.png": None}
    assert skipped(coll) == [("huge.png", "2000x1001 pixels is too large (at most 2 megapixels per image)")]
    coll = read_collection([("huge.png", big)], Limits(max_pixels=1_500_000))
    assert skipped(coll) == [("huge.png", "2000x1000 pixels is too large (at most 2 megapixels per image)")]


def test_the_reader_keeps_a_running_total_and_checks_the_bytes_it_got():
    reader = col._Reader(Limits(max_total_bytes=2 * len(PNG) + 10))
    assert (reader.total, reader.seen, reader.budget()) == (0, 0, 2 * len(PNG) + 10)
    reader.add("a.png", PNG)
    reader.add("b.png", PNG)
    assert reader.total == 2 * len(PNG) and reader.budget() == 10
    reader.add("c.png", PNG)  # more bytes than the sizes declared
    assert skipped(reader.finish()) == [
        ("c.png", "more than 10 bytes of data: exceeds the limit of 1,732 bytes uncompressed in total")]
    exact = col._Reader(Limits(max_total_bytes=len(PNG)))
    exact.add("a.png", PNG)
    assert labels(exact.finish()) == {"a.png": None}


def test_entries_are_counted_up_to_five_per_allowed_image():
    members = {"../u.png": PNG, "d/": b"", **{f"{i}.txt": b"" for i in range(6)}}
    coll = read_collection([("many.zip", zip_of(members))], Limits(max_files=1))
    not_image = f"not an image file name (accepted: {EXTENSIONS})"
    assert skipped(coll) == [
        ("../u.png", "unsafe path in the archive (absolute or containing '..'): not read"),
        ("0.txt", not_image), ("1.txt", not_image), ("2.txt", not_image),
        ("many.zip", "more than 5 entries: the rest of the archive was not read")]


def test_zip_entries_encrypted_corrupt_or_lying_do_not_stop_the_rest():
    data = first_member_encrypted(zip_of({"0/secret.png": PNG, "0/a.png": PNG}))
    coll = read_collection([("enc.zip", data)])
    assert labels(coll) == {"0/a.png": 0} and coll.items[0].data == PNG
    assert skipped(coll) == [("0/secret.png", "encrypted archive entry: not supported")]
    liar = _lying_member(zip_of({"0/big.png": bytes(300), "0/b.png": PNG}), "0/big.png", 100)
    coll = read_collection([("liar.zip", liar)])
    assert labels(coll) == {"0/b.png": 0}
    # zipfile stops at the declared size and checks the CRC there, so a lying entry reads as corrupt
    assert skipped(coll) == [("0/big.png", "corrupt or unsupported archive entry (Bad CRC-32 for file '0/big.png')")]
    assert skipped(read_collection([("bad.zip", b"junk")])) == [
        ("bad.zip", "not a readable ZIP archive (File is not a zip file)")]


def test_two_uploads_prefix_the_zip_and_one_does_not():
    z = zip_of({"7/c.png": PNG})
    assert labels(read_collection([("a.zip", z)])) == {"7/c.png": 7}
    assert labels(read_collection([("a.zip", z), ("4_b.png", PNG)])) == {"a.zip/7/c.png": 7, "4_b.png": 4}


def test_named_classes_from_folders_and_prefixes():
    uploads = [("ELLIPSE/a.png", PNG), ("star-x-y.png", PNG), ("x_star.png", PNG), ("misc/star_1.png", PNG),
               ("misc/a.png", PNG), ("misc/b.png", PNG), ("sub/other/c.png", PNG), ("loose.png", PNG)]
    coll = read_collection(uploads, class_names=["Ellipse", "Star"])
    assert labels(coll) == {"ELLIPSE/a.png": 0, "star-x-y.png": 1, "x_star.png": None, "misc/star_1.png": 1,
                            "misc/a.png": None, "misc/b.png": None, "sub/other/c.png": None, "loose.png": None}
    what = "is not a class label (label folders are named ellipse, star)"
    assert coll.notes == [f"folder 'misc' {what}: its 2 image(s) without a label prefix are read as unlabelled",
                          f"folder 'sub/other' {what}: its 1 image(s) without a label prefix are read as unlabelled"]


def test_digit_names_as_classes_read_as_digits():
    uploads = [("7/a.png", PNG), ("x/3_b.png", PNG), ("x/c.png", PNG), ("x/d.png", PNG)]
    coll = read_collection(uploads, class_names=[str(k) for k in range(10)])
    assert labels(coll) == {"7/a.png": 7, "x/3_b.png": 3, "x/c.png": None, "x/d.png": None}
    assert coll.notes == ["folder 'x' is not a digit label (label folders are named 0-9): its 2 image(s) "
                          "without a label prefix are read as unlabelled"]


def test_folder_reasons_word_for_word(tmp_path, monkeypatch):
    for name in ("7/a.png", ".git/7_x.png", "__MACOSX/7_y.png", "big/1_z.png", "dev/f.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(PNG)
    (tmp_path / "big" / "1_z.png").write_bytes(PNG + bytes(2000))
    (tmp_path / "dev" / "f.png").unlink()
    os.mkfifo(tmp_path / "dev" / "f.png")
    (tmp_path / "linked").symlink_to(tmp_path / "7")
    coll = read_collection(tmp_path, Limits(max_total_bytes=2000))
    assert labels(coll) == {"7/a.png": 7} and coll.items[0].data == PNG
    assert skipped(coll) == [
        (".git/", "hidden or system folder: ignored"),
        ("__MACOSX/", "hidden or system folder: ignored"),
        ("linked/", "linked folder: links are not followed"),
        ("big/1_z.png", "2,861 bytes would exceed the limit of 2,000 bytes uncompressed in total"),
        ("dev/f.png", "not a regular file (links and devices are not followed)")]
    with pytest.raises(FileNotFoundError) as info:
        read_collection(tmp_path / "nowhere")
    assert str(info.value) == f"no such file or directory: {tmp_path / 'nowhere'}"


def test_a_single_file_at_the_limit_and_a_file_that_cannot_be_read(tmp_path, monkeypatch):
    (tmp_path / "2_a.png").write_bytes(PNG)
    coll = read_collection(tmp_path / "2_a.png", Limits(max_total_bytes=len(PNG)))
    assert labels(coll) == {"2_a.png": 2} and coll.items[0].data == PNG
    (tmp_path / "big.png").write_bytes(PNG + bytes(10))
    assert skipped(read_collection(tmp_path / "big.png", Limits(max_total_bytes=len(PNG)))) == [
        ("big.png", "871 bytes would exceed the limit of 861 bytes uncompressed in total")]
    errors = iter([OSError(5, "Input/output error"), OSError("gone")])

    def failing(path, budget):
        raise next(errors)

    monkeypatch.setattr(col, "_read_bounded", failing)
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.png").write_bytes(PNG)
    (folder / "b.png").write_bytes(PNG)
    assert skipped(read_collection(folder)) == [("a.png", "could not be read (Input/output error)"),
                                                ("b.png", "could not be read (gone)")]


def test_a_folder_with_too_many_entries_stops(tmp_path):
    (tmp_path / "sub").mkdir()
    for i in range(6):
        (tmp_path / "sub" / f"{i}.txt").write_bytes(b"")
    coll = read_collection(tmp_path, Limits(max_files=1))
    assert skipped(coll)[-1] == ("sub/", "too many entries: the rest of the folder was not read")
    assert len(coll.skipped) == 6
