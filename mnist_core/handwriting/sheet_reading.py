"""Photos of filled-in collection sheets read back into a collection (sheets.py makes the sheets).

`read_sheet` finds the four markers with OpenCV's ArUco detector, maps
their sixteen corners onto the layout's with a homography (a flat page in
any perspective or rotation), squares the page up, cuts each box inside its
border, and tells filled boxes from empty ones. `collection_files` names the
filled boxes as an ordinary labelled collection (`<label>/<sheet>-r<row>c<col>.png`,
`<writer>/<label>/...` with a writer), which the collection reader, Batch,
evaluate and fine-tuning read like any upload.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np
from PIL import Image

from mnist_core.handwriting.collection import Limits, read_collection
from mnist_core.handwriting.decode import ImageError, load_image
from mnist_core.handwriting.sheets import CORNERS, ID_BLOCK, MARKER, SheetError, SheetSpec, opencv, marker_dictionary

READ_DPI = 200  # resolution of the squared-up page that boxes are cut from
WORK_LONG_SIDE = 2400  # photos are shrunk to this long side before the markers are looked for
INSET = 0.8  # mm cut off inside a box's border, for a border that the squaring left a pixel or two off
FIT_LIMIT_MM = 1.5  # markers further than this from a flat page's are not one flat sheet
INK_BELOW = 0.72  # a pixel darker than this fraction of the box's paper is ink
MIN_INK = 0.005  # a filled box: at least this fraction of it inked...
MIN_EXTENT = 0.22  # ...spanning at least this fraction of its height or width
SPECK = 0.0008  # inked blobs under this fraction of the box are dust or JPEG noise

MISSING_HELP = ("photograph the whole page, flat, with its four corner squares in the picture, uncovered and in "
                "focus")


@dataclass
class Cut:
    row: int
    col: int
    label: str
    image: np.ndarray  # uint8 grey, dark ink on light paper, the box's inside
    filled: bool
    ink: float  # fraction of the box inked

    @property
    def box(self) -> str:
        return f"r{self.row}c{self.col}"


@dataclass
class SheetRead:
    file: str  # the photo's name as given (a ZIP member's path inside the archive)
    sheet: str  # the name its digits are filed under: the photo's file name without extension
    spec: SheetSpec | None = None
    reason: str | None = None  # why the photo could not be read (nothing of it is used then)
    page: np.ndarray | None = None  # the squared-up page, uint8 grey at READ_DPI
    cuts: list = field(default_factory=list)
    writer_image: np.ndarray | None = None  # the writer field, for a person to read
    fit_mm: float | None = None  # how far the markers lie from a flat page's, RMS

    @property
    def filled(self) -> list:
        return [c for c in self.cuts if c.filled]

    @property
    def empty(self) -> int:
        return sum(not c.filled for c in self.cuts)


def _to_grey(image) -> np.ndarray:
    im = image if isinstance(image, Image.Image) else load_image(image)
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba)  # a transparent background is paper
    if im.mode.startswith("I;16") or im.mode in ("I", "F"):
        a = np.asarray(im, np.float64)
        span = a.max() - a.min()
        return ((a - a.min()) / (span or 1) * 255).astype(np.uint8)
    return np.asarray(im.convert("L"))


def find_markers(grey: np.ndarray) -> dict:
    """{marker id: (4, 2) corners} of the ArUco markers in a grey image (ids of the sheet dictionary)."""
    cv2 = opencv()
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(marker_dictionary(), params)
    found: dict = {}
    for scale in (1.0, 0.5):  # a blurred or very large photo: the markers may show at half size
        img = grey if scale == 1.0 else cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        corners, ids, _ = detector.detectMarkers(img)
        if ids is None:
            continue
        this = {}
        for c, i in zip(corners, ids.ravel()):
            this.setdefault(int(i), []).append(np.asarray(c, np.float64).reshape(4, 2) / scale)
        if len(_by_corner(this)[0]) > len(_by_corner(found)[0]):
            found = this
        if len(_by_corner(found)[0]) == 4:
            break
    return found


def _by_corner(found: dict) -> tuple[dict, list]:
    """({corner index: [(id, corners), ...]}, ids that belong to no sheet corner)."""
    corners: dict = {}
    for i, cs in found.items():
        k = i // ID_BLOCK
        if k < 4:
            for c in cs:
                corners.setdefault(k, []).append((i, c))
    return corners, [i for i in found if i // ID_BLOCK >= 4]


def locate(grey: np.ndarray) -> tuple:
    """(SheetSpec, 3x3 homography from the image to the page in mm, RMS misfit in mm), or raises SheetError."""
    cv2 = opencv()
    corners, _ = _by_corner(find_markers(grey))
    if not corners:
        raise SheetError(f"no sheet markers found: {MISSING_HELP}")
    missing = [CORNERS[k] for k in range(4) if k not in corners]
    if missing:
        which = " and ".join(missing)
        raise SheetError(f"the {which} marker{'s were' if len(missing) > 1 else ' was'} not found (hidden, cut off "
                         f"or out of focus): {MISSING_HELP}")
    several = [CORNERS[k] for k in range(4) if len(corners[k]) > 1]
    if several:
        raise SheetError(f"more than one {several[0]} marker: the photo shows parts of several sheets; "
                         "photograph one sheet at a time")
    ids = tuple(corners[k][0][0] for k in range(4))
    spec = SheetSpec.from_marker_ids(ids)  # SheetError for markers of no known sheet
    g = spec.geometry()
    src, dst = [], []
    for k, (x, y) in enumerate(g["markers"]):
        src.append(corners[k][0][1])
        dst.append([(x, y), (x + MARKER, y), (x + MARKER, y + MARKER), (x, y + MARKER)])
    src = np.concatenate(src).astype(np.float64)
    dst = np.asarray(dst, np.float64).reshape(-1, 2)
    homography, _ = cv2.findHomography(src, dst, 0)
    if homography is None or not np.isfinite(homography).all():
        raise SheetError(f"the markers do not outline a page (are they in a line?): {MISSING_HELP}")
    mapped = cv2.perspectiveTransform(src.reshape(-1, 1, 2), homography).reshape(-1, 2)
    fit = float(np.sqrt(((mapped - dst) ** 2).sum(axis=1).mean()))
    if fit > FIT_LIMIT_MM:
        raise SheetError(f"the corner markers do not lie on one flat page (off by {fit:.1f} mm): flatten the "
                         "sheet, or print it again if it was scaled unevenly")
    return spec, homography, fit


def square_up(grey: np.ndarray, spec: SheetSpec, homography: np.ndarray, dpi: int = READ_DPI) -> np.ndarray:
    """The page seen straight on, `dpi` pixels per inch (white where the photo does not reach)."""
    cv2 = opencv()
    g = spec.geometry()
    s = dpi / 25.4
    to_px = np.diag([s, s, 1.0]) @ homography
    size = (int(round(g["width_mm"] * s)), int(round(g["height_mm"] * s)))
    return cv2.warpPerspective(grey, to_px, size, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                               borderValue=255)


def _clear_edge_lines(cut: np.ndarray, ink: np.ndarray) -> None:
    """Whiten rows and columns along the cut's edges that are mostly ink: what is left of the printed border."""
    band = max(2, cut.shape[0] // 10)
    for axis in (0, 1):
        cover = ink.mean(axis=1 - axis)
        n = len(cover)
        for idx in list(range(band)) + list(range(n - band, n)):
            if cover[idx] > 0.7:
                sl = (idx, slice(None)) if axis == 0 else (slice(None), idx)
                ink[sl] = False
                cut[sl] = 255


def cut_box(page: np.ndarray, box: dict, dpi: int = READ_DPI) -> tuple[np.ndarray, bool, float]:
    """(grey cut, filled, ink fraction) of one box (mm) of a squared-up page."""
    cv2 = opencv()
    s = dpi / 25.4
    x0, y0 = int(round((box["x"] + INSET) * s)), int(round((box["y"] + INSET) * s))
    x1, y1 = int(round((box["x"] + box["w"] - INSET) * s)), int(round((box["y"] + box["h"] - INSET) * s))
    cut = page[y0:y1, x0:x1].copy()
    paper = float(np.percentile(cut, 90)) if cut.size else 255.0
    ink = cut < max(paper, 40.0) * INK_BELOW
    _clear_edge_lines(cut, ink)
    n, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    keep = [k for k in range(1, n) if stats[k, cv2.CC_STAT_AREA] >= SPECK * ink.size]
    if not keep:
        return cut, False, 0.0
    area = float(sum(stats[k, cv2.CC_STAT_AREA] for k in keep)) / ink.size
    xs0 = min(stats[k, cv2.CC_STAT_LEFT] for k in keep)
    xs1 = max(stats[k, cv2.CC_STAT_LEFT] + stats[k, cv2.CC_STAT_WIDTH] for k in keep)
    ys0 = min(stats[k, cv2.CC_STAT_TOP] for k in keep)
    ys1 = max(stats[k, cv2.CC_STAT_TOP] + stats[k, cv2.CC_STAT_HEIGHT] for k in keep)
    extent = max((xs1 - xs0) / ink.shape[1], (ys1 - ys0) / ink.shape[0])
    return cut, bool(area >= MIN_INK and extent >= MIN_EXTENT), area


def read_sheet(image, name: str = "sheet.jpg", sheet: str | None = None) -> SheetRead:
    """Read one photo or scan (path, bytes, PIL image or array) of a filled-in sheet. Never raises for a bad
    photo: the SheetRead's reason says what went wrong, and it then has no cuts."""
    cv2 = opencv()
    result = SheetRead(file=name, sheet=sheet or sheet_name(name))
    try:
        pil = image if isinstance(image, Image.Image) else (
            Image.fromarray(np.asarray(image)) if isinstance(image, np.ndarray) else load_image(image, name))
        grey = _to_grey(pil)
        long_side = max(grey.shape)
        if long_side > WORK_LONG_SIDE:
            f = WORK_LONG_SIDE / long_side
            grey = cv2.resize(grey, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
        if min(grey.shape) < 100:
            raise SheetError(f"the picture is {grey.shape[1]}x{grey.shape[0]} pixels: too small to hold a sheet")
        spec, homography, fit = locate(grey)
    except (ImageError, SheetError) as exc:
        result.reason = str(exc).removeprefix(f"{name}: ")
        return result
    except Exception as exc:  # noqa: BLE001 - one bad photo must never stop the others
        result.reason = f"could not be read ({type(exc).__name__}: {exc})"
        return result
    page = square_up(grey, spec, homography)
    g = spec.geometry()
    result.spec, result.page, result.fit_mm = spec, page, fit
    for b in g["boxes"]:
        cut, filled, ink = cut_box(page, b)
        result.cuts.append(Cut(b["row"], b["col"], b["label"], cut, filled, ink))
    s = READ_DPI / 25.4
    wf = g["writer"]
    result.writer_image = page[int(wf["y"] * s):int((wf["y"] + wf["h"]) * s), int(wf["x"] * s):int((wf["x"] + wf["w"]) * s)]
    return result


def sheet_name(file: str) -> str:
    """A photo's file name without extension, made safe as a file-name part."""
    stem = PurePosixPath(str(file).replace("\\", "/")).stem
    return safe_name(stem) or "sheet"


def safe_name(text: str | None) -> str:
    """Letters, digits, '.', '_' and '-' only (others become '_'), no leading dot: safe as a path part."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", (text or "").strip()).strip("._")[:80]


def read_sheets(source, limits: Limits | None = None, progress=None) -> tuple[list[SheetRead], list[dict]]:
    """Read every photo in a folder, ZIP, file or [(name, bytes)]: (SheetReads, skipped [{file, reason}] of the
    files that are not images). Two photos with the same name get distinct sheet names (-2, -3, ...)."""
    coll = read_collection(source, limits)
    reads = []
    for k, (item, sheet) in enumerate(zip(coll.items, sheet_names([it.file for it in coll.items]))):
        reads.append(read_sheet(item.data, item.file, sheet=sheet))
        if progress:
            progress(k + 1, len(coll.items))
    return reads, list(coll.skipped)


def sheet_names(files: list) -> list[str]:
    """The sheet name of each photo: its file name without extension, -2, -3, ... for a name seen before."""
    names: list = []
    for file in files:
        base = name = sheet_name(file)
        k = 1
        while name in names:
            k += 1
            name = f"{base}-{k}"
        names.append(name)
    return names


def png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "PNG")
    return buf.getvalue()


def collection_files(read: SheetRead, writer: str | None = None, spoiled=(), labels: dict | None = None) -> list:
    """[(relative path, PNG bytes)] of a sheet's filled boxes: `<label>/<sheet>-r<row>c<col>.png`, under
    `<writer>/` when a writer is given. spoiled: boxes ("r0c3") left out; labels: {box: label} corrections."""
    if read.reason:
        return []
    folder = f"{safe_name(writer)}/" if safe_name(writer) else ""
    out = []
    for c in read.filled:
        if c.box in spoiled:
            continue
        label = (labels or {}).get(c.box, c.label)
        out.append((f"{folder}{label}/{read.sheet}-{c.box}.png", png_bytes(c.image)))
    return out


def outlined(read: SheetRead, spoiled=(), scale: float = 0.5) -> np.ndarray:
    """The squared-up page in colour at `scale`, each box outlined: green filled, grey empty, red spoiled."""
    cv2 = opencv()
    page = cv2.cvtColor(read.page, cv2.COLOR_GRAY2RGB)
    if scale != 1:
        page = cv2.resize(page, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    s = READ_DPI / 25.4 * scale
    boxes = {(b["row"], b["col"]): b for b in read.spec.geometry()["boxes"]}
    for c in read.cuts:
        b = boxes[(c.row, c.col)]
        colour = (220, 40, 40) if c.box in spoiled else (20, 170, 60) if c.filled else (170, 170, 170)
        cv2.rectangle(page, (int(b["x"] * s), int(b["y"] * s)), (int((b["x"] + b["w"]) * s), int((b["y"] + b["h"]) * s)),
                      colour, 3 if c.filled else 1)
    return page
