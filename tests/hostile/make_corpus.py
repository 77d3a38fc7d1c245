"""Generate the hostile-input corpus into a directory (nothing binary is committed).

    python -m tests.hostile.make_corpus OUT_DIR

writes OUT_DIR/corpus/ (a folder collection), OUT_DIR/corpus.zip (the same plus
hostile archive members) and OUT_DIR/bomb.zip (a tiny archive that expands
past the 200 MB limit, plus a member that lies about its size). build()
returns, for every entry, what a reader must do with it: ("read", label) or
("skipped", words the reason must contain).
"""

from __future__ import annotations

import io
import struct
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

from tests.hostile.digits import digit_image, encode

READ, SKIPPED = "read", "skipped"


def _png_header_only(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with no image data behind it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


def _exif_rotated(digit: int) -> bytes:
    """Pixels stored turned 90 degrees, with an EXIF tag (orientation 6) saying how to turn them back."""
    upright = digit_image(digit, mode="RGB")
    stored = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # display = rotate the stored pixels 90 degrees clockwise
    return encode(stored, "JPEG", exif=exif.tobytes(), quality=92)


def _palette_transparent(digit: int) -> bytes:
    """Palette PNG: index 0 transparent (the paper), index 1 black ink."""
    mask = np.asarray(digit_image(digit, ink=255, paper=0)) > 128
    im = Image.frombytes("P", (mask.shape[1], mask.shape[0]), mask.astype(np.uint8).tobytes())
    im.putpalette([255, 255, 255, 0, 0, 0] + [0] * 762)
    return encode(im, "PNG", transparency=0)


def _animated_gif(first: int, second: int) -> bytes:
    frames = [digit_image(first).convert("P"), digit_image(second).convert("P")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return buf.getvalue()


def _sixteen_bit(digit: int) -> bytes:
    a = np.asarray(digit_image(digit), dtype=np.uint16) * 257  # full 16-bit range
    return encode(Image.fromarray(a), "PNG")


def folder_entries() -> dict:
    """name -> (bytes, expectation) for the folder collection."""
    jpeg3 = encode(digit_image(3, mode="RGB"), "JPEG", quality=90)
    return {
        "3/plain.png": (encode(digit_image(3)), (READ, 3)),
        "3/truncated.jpg": (jpeg3[: len(jpeg3) * 3 // 5], (SKIPPED, "truncated")),
        "3/text.png": (b"this is a text file, not a PNG\n", (SKIPPED, "not a readable image")),
        "3/empty.png": (b"", (SKIPPED, "empty file")),
        "tiny_1x1.png": (encode(Image.new("L", (1, 1), 0)), (SKIPPED, "too small")),
        "5/white.png": (encode(Image.new("L", (64, 64), 255)), (SKIPPED, "no digit found")),
        "5/black.png": (encode(Image.new("L", (64, 64), 0)), (SKIPPED, "no digit found")),
        "7/cmyk.jpg": (encode(digit_image(7, mode="RGB").convert("CMYK"), "JPEG"), (READ, 7)),
        "7/deep16.png": (_sixteen_bit(7), (READ, 7)),
        "7/palette_transparent.png": (_palette_transparent(7), (READ, 7)),
        "7/animated.gif": (_animated_gif(7, 1), (READ, 7)),
        "7/exif_rotated.jpg": (_exif_rotated(7), (READ, 7)),
        "huge_header.png": (_png_header_only(40_000, 40_000), (SKIPPED, "too large")),
        "nested/deeper/4_nested.png": (encode(digit_image(4)), (READ, 4)),
        "10/ten.png": (encode(digit_image(1)), (READ, None)),
        "x/ex.png": (encode(digit_image(2)), (READ, None)),
        "unlabelled.png": (encode(digit_image(6)), (READ, None)),
        "readme.txt": (b"labels are folder names\n", (SKIPPED, "not an image file name")),
        ".DS_Store": (b"\0\0\0\1Bud1", (SKIPPED, "hidden or system")),
        ".hidden/9_h.png": (encode(digit_image(9)), None),  # the whole hidden folder is skipped
    }


def archive_extras() -> dict:
    """Members only an archive can hold: escaping paths, system folders, nested archives."""
    png = encode(digit_image(8))
    return {
        "../escape.png": (png, (SKIPPED, "unsafe path")),
        "../../etc/escape2.png": (png, (SKIPPED, "unsafe path")),
        "/abs/evil.png": (png, (SKIPPED, "unsafe path")),
        "__MACOSX/8/._plain.png": (b"\0\5\26\7", (SKIPPED, "hidden or system")),
        "inner.zip": (encode_zip({"8/a.png": png}), (SKIPPED, "nested archives")),
        "8/plain.png": (png, (READ, 8)),
    }


def encode_zip(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


def _lying_member(zbytes: bytes, name: str, declared: int) -> bytes:
    """Rewrite the uncompressed size of member `name` in both ZIP headers to `declared`."""
    data = bytearray(zbytes)
    with zipfile.ZipFile(io.BytesIO(zbytes)) as z:
        info = z.getinfo(name)
    struct.pack_into("<I", data, info.header_offset + 22, declared)  # local file header
    central = data.find(b"PK\x01\x02")
    while central >= 0:
        n = struct.unpack_from("<H", data, central + 28)[0]
        if data[central + 46: central + 46 + n] == name.encode():
            struct.pack_into("<I", data, central + 24, declared)
            break
        central = data.find(b"PK\x01\x02", central + 4)
    return bytes(data)


def bomb_zip(expand_mb: int = 250, liar_mb: int = 20) -> tuple[bytes, dict]:
    """A small archive: an honest member expanding to expand_mb, one that claims 1 KB but holds
    liar_mb, and one real image. Returns the bytes and the expectations."""
    buf = io.BytesIO()
    zero = bytes(2**20)
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("0/bomb.png", "w", force_zip64=True) as f:
            for _ in range(expand_mb):
                f.write(zero)
        z.writestr("1/liar.png", bytes(liar_mb * 2**20))
        z.writestr("2/ok.png", encode(digit_image(2)))
    data = _lying_member(buf.getvalue(), "1/liar.png", 1000)
    return data, {"0/bomb.png": (SKIPPED, "limit"), "1/liar.png": (SKIPPED, "archive entry"),
                  "2/ok.png": (READ, 2)}


def build(out: Path) -> dict:
    """Write the corpus under `out`; returns {"corpus": {...}, "corpus.zip": {...}, "bomb.zip": {...}}."""
    out = Path(out)
    folder = out / "corpus"
    entries = folder_entries()
    for name, (data, _) in entries.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    expected_dir = {name: e for name, (_, e) in entries.items() if e is not None}
    expected_dir[".hidden/"] = (SKIPPED, "hidden or system folder")

    members = {**{k: v for k, v in entries.items() if not k.startswith(".hidden")}, **archive_extras()}
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w", zipfile.ZIP_DEFLATED) as z:
        for folder_name in ("3/", "7/"):
            z.writestr(zipfile.ZipInfo(folder_name), b"")
        for name, (data, _) in members.items():
            z.writestr(zipfile.ZipInfo(name), data, compress_type=zipfile.ZIP_DEFLATED)
    (out / "corpus.zip").write_bytes(zbuf.getvalue())
    expected_zip = {name: e for name, (_, e) in members.items()}

    bomb, expected_bomb = bomb_zip()
    (out / "bomb.zip").write_bytes(bomb)
    return {"corpus": expected_dir, "corpus.zip": expected_zip, "bomb.zip": expected_bomb}


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m tests.hostile.make_corpus OUT_DIR")
    for source, expected in build(Path(sys.argv[1])).items():
        print(f"{source}: {len(expected)} entries")
