"""Reading batches: folders, ZIPs and uploads, labels, skips and limits."""

import io
import zipfile

import pytest
from PIL import Image

from mnist_core.handwriting.collection import Limits, read_collection
from tests.hostile.digits import digit_image, encode
from tests.hostile.make_corpus import _lying_member

PNG = encode(digit_image(3))


def zip_of(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def reasons(coll) -> dict:
    return {s["file"]: s["reason"] for s in coll.skipped}


def labels(coll) -> dict:
    return {item.file: item.label for item in coll.items}


def test_labels_from_folders_prefixes_or_none(tmp_path):
    for name in ["7/a.png", "7/b.jpg", "0/c.png", "3_d.png", "4-e.png", "5.png", "loose.png", "12_f.png",
                 "sub/7/g.png", "sub/8_h.png"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(PNG)
    coll = read_collection(tmp_path)
    assert labels(coll) == {"0/c.png": 0, "3_d.png": 3, "4-e.png": 4, "5.png": 5, "7/a.png": 7, "7/b.jpg": 7,
                            "12_f.png": None, "loose.png": None, "sub/7/g.png": 7, "sub/8_h.png": 8}
    assert coll.skipped == [] and coll.labelled == 8
    assert all(item.data == PNG for item in coll.items)


def test_folder_that_is_not_a_label_is_said_so(tmp_path):
    for name in ["10/a.png", "x/b.png", "x/2_c.png", "7/d.png"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(PNG)
    coll = read_collection(tmp_path)
    assert labels(coll) == {"10/a.png": None, "x/b.png": None, "x/2_c.png": 2, "7/d.png": 7}
    assert len(coll.notes) == 2
    assert "'10' is not a digit label" in coll.notes[0] and "unlabelled" in coll.notes[0]
    assert "'x' is not a digit label" in coll.notes[1] and "1 image(s)" in coll.notes[1]


def test_hidden_system_and_other_files_are_skipped_with_reasons(tmp_path):
    files = {"7/a.png": PNG, ".DS_Store": b"\0\0", "7/.hidden.png": PNG, "notes.txt": b"hi", "Thumbs.db": b"x",
             "__MACOSX/7/._a.png": b"x", "7/empty.png": b"", "7/text.png": b"hello"}
    for name, data in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(data)
    (tmp_path / "7" / "link.png").symlink_to(tmp_path / "7" / "a.png")
    coll = read_collection(tmp_path)
    assert labels(coll) == {"7/a.png": 7}
    why = reasons(coll)
    assert "hidden or system" in why[".DS_Store"] and "hidden or system" in why["7/.hidden.png"]
    assert "hidden or system" in why["Thumbs.db"] and "hidden or system folder" in why["__MACOSX/"]
    assert "not an image file name" in why["notes.txt"]
    assert "empty file" in why["7/empty.png"] and "not a readable image" in why["7/text.png"]
    assert "not a regular file" in why["7/link.png"]


def test_zip_is_read_in_memory_and_unsafe_paths_are_refused(tmp_path):
    data = zip_of({"7/": b"", "7/a.png": PNG, "../evil.png": PNG, "/abs/evil.png": PNG, "C:/win/evil.png": PNG,
                   "a/../../evil2.png": PNG, "inner.zip": zip_of({"1/x.png": PNG}), "__MACOSX/7/._a.png": b"x"})
    archive = tmp_path / "batch.zip"
    archive.write_bytes(data)
    coll = read_collection(archive)
    assert labels(coll) == {"7/a.png": 7}
    why = reasons(coll)
    for name in ["../evil.png", "/abs/evil.png", "C:/win/evil.png", "a/../../evil2.png"]:
        assert "unsafe path" in why[name]
    assert "7/" not in why and "nested archives" in why["inner.zip"]  # a folder entry is not a skipped file
    assert "hidden or system" in why["__MACOSX/7/._a.png"]
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["batch.zip"]  # nothing was extracted
    assert not (tmp_path.parent / "evil.png").exists()


def test_uploads_list_with_files_and_a_zip():
    uploads = [("3_a.png", PNG), ("b.png", PNG), ("batch.zip", zip_of({"7/c.png": PNG})), ("d.txt", b"x")]
    coll = read_collection(uploads)
    assert labels(coll) == {"3_a.png": 3, "b.png": None, "batch.zip/7/c.png": 7}
    assert "not an image file name" in reasons(coll)["d.txt"]


def test_single_image_file_and_missing_path(tmp_path):
    (tmp_path / "4_x.png").write_bytes(PNG)
    assert labels(read_collection(tmp_path / "4_x.png")) == {"4_x.png": 4}
    (tmp_path / "broken.zip").write_bytes(b"PK\3\4 not really a zip")
    assert "not a readable ZIP" in reasons(read_collection(tmp_path / "broken.zip"))["broken.zip"]
    with pytest.raises(FileNotFoundError):
        read_collection(tmp_path / "nowhere")


def test_file_count_limit():
    uploads = [(f"{i % 10}/{i}.png", PNG) for i in range(7)]
    coll = read_collection(uploads, Limits(max_files=5))
    assert len(coll.items) == 5 and len(coll.skipped) == 2
    assert all("limit of 5 images" in s["reason"] for s in coll.skipped)


def test_total_size_limit_on_declared_sizes_and_on_bytes_read():
    big = bytes(300_000)
    honest = read_collection([("bomb.zip", zip_of({"0/a.png": PNG, "0/big.png": big, "0/b.png": PNG}))],
                             Limits(max_total_bytes=200_000))
    assert labels(honest) == {"0/a.png": 0, "0/b.png": 0}
    assert "exceed the limit" in reasons(honest)["0/big.png"]
    liar = _lying_member(zip_of({"0/a.png": PNG, "0/big.png": big}), "0/big.png", 100)
    coll = read_collection([("liar.zip", liar)], Limits(max_total_bytes=200_000))
    assert labels(coll) == {"0/a.png": 0}
    assert "archive entry" in reasons(coll)["0/big.png"]  # caught reading, long before 300 kB


def test_pixel_limit_checked_from_the_header():
    huge = encode(Image.new("L", (3000, 2000), 255))
    coll = read_collection([("huge.png", huge), ("ok.png", PNG)], Limits(max_pixels=5_000_000))
    assert labels(coll) == {"ok.png": None}
    assert "3000x2000 pixels is too large" in reasons(coll)["huge.png"]


def test_many_entries_stop_early():
    members = {f"{i}.txt": b"" for i in range(60)}
    coll = read_collection([("many.zip", zip_of(members))], Limits(max_files=10))
    assert len(coll.skipped) < 60
    assert any("the rest of the archive was not read" in s["reason"] for s in coll.skipped)


def test_windows_paths_in_zip_and_linked_folders(tmp_path):
    coll = read_collection([("win.zip", zip_of({"batch\\7\\a.png": PNG, "batch\\2_b.png": PNG}))])
    assert labels(coll) == {"batch/7/a.png": 7, "batch/2_b.png": 2}
    (tmp_path / "real" / "3").mkdir(parents=True)
    (tmp_path / "real" / "3" / "a.png").write_bytes(PNG)
    (tmp_path / "root").mkdir()
    (tmp_path / "root" / "3").symlink_to(tmp_path / "real" / "3")
    linked = read_collection(tmp_path / "root")
    assert linked.items == [] and "links are not followed" in reasons(linked)["3/"]


def test_items_come_in_the_order_a_file_browser_shows():
    files = [(name, PNG) for name in ("0/09.png", "0/03.png", "1/b.png", "0/10.png", "0/7.png", "1/A.png")]
    files.append(("0/notes.txt", b"x"))
    files.append(("0/.hidden.png", PNG))
    got = read_collection(files)
    assert [i.file for i in got.items] == ["0/03.png", "0/7.png", "0/09.png", "0/10.png", "1/A.png", "1/b.png"]
    assert {s["file"] for s in got.skipped} == {"0/.hidden.png", "0/notes.txt"}
