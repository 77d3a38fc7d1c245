"""Read a batch of images: a ZIP, a directory, a single file, or uploaded (name, bytes) pairs.

Labels come from the folder holding a file when it is named 0-9 (`7/x.jpg`),
else from a digit prefix in the file name (`7_x.png`, `7-x.png`, `7.png`),
else the image is unlabelled (predicted, not scored). A folder with another
name (`10`, `x`, `misc`) is not a label: its files are read as unlabelled
(unless their names carry a label) and a note says so, so a mistyped label
folder is visible instead of silently scored.

Archives are read member by member in memory, never extracted, so paths such as
`../x` or `/etc/x` cannot write anywhere; they are still skipped as unsafe.
Limits are checked on the sizes a ZIP declares and again on the bytes actually
read, and each image's header is checked for its pixel count before anything
decodes it. Every file that is not used is listed in `skipped` with a reason
(a ZIP's folder entries are not files: they are passed over in silence).
"""

from __future__ import annotations

import io
import os
import re
import stat
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from PIL import Image, UnidentifiedImageError

from mnist_core.handwriting.decode import FORMATS, plain_decode_error

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm",
                    ".pnm")
SYSTEM_NAMES = {"__macosx", ".ds_store", "thumbs.db", "desktop.ini", ".spotlight-v100", ".trashes", ".fseventsd"}
PREFIX_LABEL = re.compile(r"^([0-9])(?:[_\-].*)?$")
MAX_ENTRIES_FACTOR = 5  # entries examined per allowed image before an archive is called hostile


@dataclass
class Limits:
    max_files: int = 20_000
    max_total_bytes: int = 200 * 2**20
    max_pixels: int = 40_000_000


@dataclass
class Item:
    file: str
    label: int | None
    data: bytes


@dataclass
class Collection:
    items: list = field(default_factory=list)
    skipped: list = field(default_factory=list)  # {file, reason}
    notes: list = field(default_factory=list)  # collection-wide remarks, e.g. a folder that is not a label

    @property
    def labelled(self) -> int:
        return sum(item.label is not None for item in self.items)


class _Reader:
    """Applies skips, limits and labels to entries as they come."""

    def __init__(self, limits: Limits, class_names=None):
        self.limits, self.out, self.total, self.seen = limits, Collection(), 0, 0
        self.odd_folders: dict = {}
        # Named classes (a shapes model): labels are folder names or name prefixes, as class indices.
        digits = class_names is None or list(class_names) == [str(k) for k in range(10)]
        self.names = None if digits else {str(n).lower(): k for k, n in enumerate(class_names)}

    def skip(self, file: str, reason: str) -> None:
        self.out.skipped.append({"file": file, "reason": reason})

    def full(self) -> bool:
        return self.seen >= self.limits.max_files * MAX_ENTRIES_FACTOR

    def accept_name(self, name: str, declared: int | None) -> bool:
        """Checks that need no bytes: path, hidden files, extension, count and declared size."""
        self.seen += 1
        if unsafe_path(name):
            self.skip(name, "unsafe path (absolute or containing '..'): not read")
            return False
        parts = PurePosixPath(name).parts
        if any(p.lower() in SYSTEM_NAMES or p.startswith(".") for p in parts):
            self.skip(name, "hidden or system file: ignored")
            return False
        ext = os.path.splitext(name)[1].lower()
        if ext == ".zip":
            self.skip(name, "archive inside a collection: nested archives are not read")
            return False
        if ext not in IMAGE_EXTENSIONS:
            self.skip(name, f"not an image file name (accepted: {', '.join(IMAGE_EXTENSIONS)})")
            return False
        if len(self.out.items) >= self.limits.max_files:
            self.skip(name, f"over the limit of {self.limits.max_files:,} images per collection")
            return False
        if declared is not None and self.total + declared > self.limits.max_total_bytes:
            self.skip(name, f"{_mb(declared)} would exceed the limit of {_mb(self.limits.max_total_bytes)} "
                            f"uncompressed in total")
            return False
        return True

    def budget(self) -> int:
        return self.limits.max_total_bytes - self.total

    def add(self, name: str, data: bytes) -> None:
        if len(data) > self.budget():
            self.skip(name, f"more than {_mb(self.budget())} of data: exceeds the limit of "
                            f"{_mb(self.limits.max_total_bytes)} uncompressed in total")
            return
        self.total += len(data)
        reason = header_problem(data, self.limits.max_pixels)
        if reason:
            self.skip(name, reason)
            return
        self.out.items.append(Item(name, self._label(name), data))

    def _label(self, name: str) -> int | None:
        path = PurePosixPath(name)
        folder = path.parent.name if len(path.parts) > 1 else ""
        if self.names is not None:
            return self._named_label(path, folder)
        if re.fullmatch(r"[0-9]", folder):
            return int(folder)
        match = PREFIX_LABEL.match(path.stem)
        if folder:
            self.odd_folders.setdefault(str(path.parent), [0, 0])[0 if match else 1] += 1
        return int(match.group(1)) if match else None

    def _named_label(self, path: PurePosixPath, folder: str) -> int | None:
        if folder.lower() in self.names:
            return self.names[folder.lower()]
        prefix = re.split(r"[_\-]", path.stem, maxsplit=1)[0].lower()
        if folder:
            self.odd_folders.setdefault(str(path.parent), [0, 0])[0 if prefix in self.names else 1] += 1
        return self.names.get(prefix)

    def finish(self) -> Collection:
        what = "a digit label (label folders are named 0-9)" if self.names is None else \
            f"a class label (label folders are named {', '.join(self.names)})"
        for folder, (named, unnamed) in sorted(self.odd_folders.items()):
            if unnamed:
                self.out.notes.append(f"folder '{folder}' is not {what}: "
                                      f"its {unnamed} image(s) without a label prefix are read as unlabelled")
        # In the order a file browser shows them (0/3 before 0/10), not the ZIP's or the disk's own.
        self.out.items.sort(key=lambda item: natural_key(item.file))
        return self.out


def natural_key(name: str) -> list:
    """'0/07.png' < '0/9.png' < '0/10.png': runs of digits compare as numbers, the rest case-blind."""
    return [(0, int(part), part) if part.isdigit() else (1, 0, part.lower()) for part in re.split(r"(\d+)", name)]


def unsafe_path(name: str) -> bool:
    """Absolute, drive-letter or parent-relative: would escape a folder if it were ever extracted."""
    return name.startswith(("/", "\\")) or bool(re.match(r"^[A-Za-z]:", name)) or ".." in re.split(r"[/\\]", name)


def _mb(n: int) -> str:
    return f"{n / 2**20:.1f} MB" if n >= 2**20 else f"{n:,} bytes"


def header_problem(data: bytes, max_pixels: int) -> str | None:
    """Why the bytes cannot be an acceptable image, judged from the header alone (no decoding)."""
    if not data:
        return "empty file (0 bytes)"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=FORMATS) as im:
                w, h = im.size
    except UnidentifiedImageError:
        return "not a readable image (accepted: PNG, JPEG, GIF, BMP, TIFF, WebP, PPM)"
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return f"image is too large (decompression bomb guard: {exc})"
    except Exception as exc:  # noqa: BLE001 - a corrupt header can raise anything
        return f"the header is unreadable: {plain_decode_error(exc)}"
    if w * h > max_pixels:
        return f"{w}x{h} pixels is too large (at most {max_pixels / 1e6:.0f} megapixels per image)"
    if w < 1 or h < 1:
        return f"the image has no pixels ({w}x{h})"
    return None


def read_collection(source, limits: Limits | None = None, class_names=None) -> Collection:
    """Items and skipped entries from a directory, a ZIP, one image file, or [(name, bytes), ...].

    class_names: the model's classes when they are not the digits 0-9 (a shapes
    model): labels are then those names as folders (`ellipse/x.png`) or prefixes
    (`ellipse_x.png`), any case, and an item's label is the class's index.
    A path that does not exist raises FileNotFoundError; anything else that
    cannot be read is reported in `skipped`, never raised."""
    reader = _Reader(limits or Limits(), class_names)
    if isinstance(source, (list, tuple)):
        for name, data in source:
            name = str(name).replace("\\", "/").lstrip("/")
            if name.lower().endswith(".zip"):
                _read_zip(reader, io.BytesIO(data), name, prefix=f"{name}/" if len(source) > 1 else "")
            elif reader.accept_name(name, len(data)):
                reader.add(name, bytes(data))
        return reader.finish()
    path = Path(source)
    if not path.exists():
        raise FileNotFoundError(f"no such file or directory: {source}")
    if path.is_dir():
        _read_dir(reader, path)
    elif path.suffix.lower() == ".zip" or zipfile.is_zipfile(path):
        with open(path, "rb") as fp:
            _read_zip(reader, fp, path.name)
    elif reader.accept_name(path.name, path.stat().st_size):
        reader.add(path.name, _read_bounded(path, reader.budget()))
    return reader.finish()


def _read_bounded(path: Path, budget: int) -> bytes:
    with open(path, "rb") as fp:
        return fp.read(budget + 1)  # one byte more than allowed is enough to notice a file that grew


def _read_dir(reader: _Reader, root: Path) -> None:
    for folder, dirs, files in os.walk(root):
        rel_folder = Path(folder).relative_to(root)
        for d in sorted(dirs):
            if d.startswith(".") or d.lower() in SYSTEM_NAMES:
                reader.skip((rel_folder / d).as_posix() + "/", "hidden or system folder: ignored")
            elif (Path(folder) / d).is_symlink():
                reader.skip((rel_folder / d).as_posix() + "/", "linked folder: links are not followed")
        dirs[:] = sorted(d for d in dirs if not (d.startswith(".") or d.lower() in SYSTEM_NAMES
                                                 or (Path(folder) / d).is_symlink()))
        for name in sorted(files):
            if reader.full():
                reader.skip(rel_folder.as_posix() + "/", "too many entries: the rest of the folder was not read")
                return
            path = Path(folder) / name
            rel = (rel_folder / name).as_posix()
            info = path.lstat()
            if stat.S_ISLNK(info.st_mode) or not stat.S_ISREG(info.st_mode):
                reader.skip(rel, "not a regular file (links and devices are not followed)")
                continue
            if reader.accept_name(rel, info.st_size):
                try:
                    reader.add(rel, _read_bounded(path, reader.budget()))
                except OSError as exc:
                    reader.skip(rel, f"could not be read ({exc.strerror or exc})")


def _read_zip(reader: _Reader, fp, label: str, prefix: str = "") -> None:
    try:
        archive = zipfile.ZipFile(fp)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        reader.skip(label, f"not a readable ZIP archive ({exc})")
        return
    with archive:
        for info in archive.infolist():
            name = prefix + info.filename.replace("\\", "/")  # archives made on Windows may use backslashes
            if reader.full():
                reader.skip(label, f"more than {reader.seen:,} entries: the rest of the archive was not read")
                return
            if info.is_dir():  # not a file: the files inside it are entries of their own
                reader.seen += 1
                continue
            if unsafe_path(info.filename):
                reader.seen += 1
                reader.skip(name, "unsafe path in the archive (absolute or containing '..'): not read")
                continue
            if not reader.accept_name(name, info.file_size):
                continue
            if info.flag_bits & 0x1:
                reader.skip(name, "encrypted archive entry: not supported")
                continue
            try:
                with archive.open(info) as member:
                    data = member.read(min(info.file_size, reader.budget()) + 1)
            except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError, ValueError) as exc:
                reader.skip(name, f"corrupt or unsupported archive entry ({exc})")
                continue
            if len(data) > info.file_size:
                reader.skip(name, f"archive entry is larger than it declares ({_mb(info.file_size)}): "
                                  f"rejected as a ZIP bomb")
                continue
            reader.add(name, data)
