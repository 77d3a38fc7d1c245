"""Collection sheets: a printable page of labelled boxes, and photos of filled-in pages read back into a collection.

`render` draws a sheet (a grid of boxes, each with its expected label printed
small above it, a writer field, and an ArUco marker in each corner) and
`layout` describes it: every position a fraction of the page's width or
height, a box's x, y, w, h its inside, within the printed border. The
markers carry the sheet's options (corner k's marker id is 50k plus a
number: rows, columns, prompt and paper, layout version), so a photo says
by itself which layout it shows and `read_sheet` needs no layout file.

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
import json
import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mnist_core.errors import UserError
from mnist_core.handwriting.collection import Limits, read_collection
from mnist_core.handwriting.decode import ImageError, load_image

PAPERS = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}  # width, height in mm
PROMPTS = ("digits", "shapes")
CORNERS = ("top-left", "top-right", "bottom-right", "bottom-left")
LAYOUT_VERSION = 1
ID_BLOCK = 50  # corner k's marker ids are 50k .. 50k+49; ids from 200 on are not a sheet's
MAX_CELLS = 40  # rows and columns each (the marker id ranges hold up to 50)

# Page geometry in mm.
MARGIN = 10.0  # printers leave 4-6 mm unprinted
MARKER = 16.0  # side of a corner marker (its black border included)
GAP = 5.0  # between the marker rows and the grid
LABEL_H = 4.0  # the strip above a box holding its label
PAD = 2.0  # between neighbouring cells
BORDER = 0.5  # printed box border
MIN_BOX = 10.0  # smaller boxes are too small to write a digit in

PRINT_DPI = 300
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


class SheetError(UserError, ValueError):
    """Options that make no sheet (too many rows for the page, an unknown prompt)."""


@dataclass(frozen=True)
class SheetSpec:
    rows: int = 10
    cols: int = 10
    prompt: str = "digits"
    paper: str = "a4"

    def classes(self) -> tuple:
        from mnist_core import tasks

        return tuple(tasks.class_names(self.prompt))

    def label(self, row: int, col: int) -> str:
        """Row by row through the classes: 0-9, 0-9, ... for digits."""
        names = self.classes()
        return str(names[(row * self.cols + col) % len(names)])

    def marker_ids(self) -> tuple:
        code = PROMPTS.index(self.prompt) * len(PAPERS) + list(PAPERS).index(self.paper)
        return (self.rows - 1, ID_BLOCK + self.cols - 1, 2 * ID_BLOCK + code, 3 * ID_BLOCK + LAYOUT_VERSION)

    @staticmethod
    def from_marker_ids(ids: tuple) -> "SheetSpec":
        rows, cols = ids[0] + 1, ids[1] - ID_BLOCK + 1
        code, version = ids[2] - 2 * ID_BLOCK, ids[3] - 3 * ID_BLOCK
        if version != LAYOUT_VERSION:
            raise SheetError(f"the markers are from a sheet of layout version {version}; this version reads "
                             f"version {LAYOUT_VERSION}: print a new sheet with `python -m mnist_core sheet`")
        if not 0 <= code < len(PROMPTS) * len(PAPERS):
            raise SheetError("the bottom-right marker names no known sheet (prompt and paper)")
        spec = SheetSpec(rows, cols, PROMPTS[code // len(PAPERS)], list(PAPERS)[code % len(PAPERS)])
        spec.geometry()  # raises SheetError for a layout that cannot be printed
        return spec

    def geometry(self) -> dict:
        """Everything in mm: page, markers, writer field, boxes (insides). Raises SheetError when it cannot fit."""
        if self.prompt not in PROMPTS:
            raise SheetError(f"unknown prompt '{self.prompt}' (choose from {', '.join(PROMPTS)})")
        if self.paper not in PAPERS:
            raise SheetError(f"unknown paper '{self.paper}' (choose from {', '.join(PAPERS)})")
        for what, n in (("rows", self.rows), ("columns", self.cols)):
            if not isinstance(n, int) or not 1 <= n <= MAX_CELLS:
                raise SheetError(f"{what} must be a whole number from 1 to {MAX_CELLS}, not {n}")
        w, h = PAPERS[self.paper]
        top, bottom = MARGIN + MARKER + GAP, h - MARGIN - MARKER - GAP
        cell_w, cell_h = (w - 2 * MARGIN) / self.cols, (bottom - top) / self.rows
        side = min(cell_w - PAD - 2 * BORDER, cell_h - LABEL_H - PAD - 2 * BORDER, 30.0)
        if side < MIN_BOX:
            most_cols = int((w - 2 * MARGIN) // (MIN_BOX + PAD + 2 * BORDER))
            most_rows = int((bottom - top) // (MIN_BOX + LABEL_H + PAD + 2 * BORDER))
            raise SheetError(f"{self.rows}x{self.cols} boxes do not fit on {self.paper.upper()} paper: they would be "
                             f"{max(side, 0):.1f} mm wide, under {MIN_BOX:.0f} mm (at most {most_rows} rows and "
                             f"{most_cols} columns)")
        markers = [(MARGIN, MARGIN), (w - MARGIN - MARKER, MARGIN), (w - MARGIN - MARKER, h - MARGIN - MARKER),
                   (MARGIN, h - MARGIN - MARKER)]
        boxes = []
        for r in range(self.rows):
            for c in range(self.cols):
                x = MARGIN + c * cell_w + (cell_w - side) / 2
                y = top + r * cell_h + LABEL_H + (cell_h - LABEL_H - side) / 2
                boxes.append({"row": r, "col": c, "label": self.label(r, c), "x": x, "y": y, "w": side, "h": side})
        wx0, wx1 = MARGIN + MARKER + 8, w - MARGIN - MARKER - 8
        writer = {"x": wx0 + 18, "y": MARGIN + 6.5, "w": wx1 - wx0 - 18, "h": MARKER - 7}
        return {"width_mm": w, "height_mm": h, "markers": markers, "boxes": boxes, "writer": writer,
                "side": side}


def layout(spec: SheetSpec) -> dict:
    """The layout file's content: positions as fractions of the page's width (x, w) or height (y, h)."""
    g = spec.geometry()
    w, h = g["width_mm"], g["height_mm"]

    def frac(d: dict) -> dict:
        return {**d, "x": round(d["x"] / w, 6), "y": round(d["y"] / h, 6), "w": round(d["w"] / w, 6),
                "h": round(d["h"] / h, 6)}

    markers = [frac({"id": i, "corner": corner, "x": x, "y": y, "w": MARKER, "h": MARKER})
               for i, corner, (x, y) in zip(spec.marker_ids(), CORNERS, g["markers"])]
    return {"page": {"width_mm": w, "height_mm": h, "paper": spec.paper},
            "sheet": {"rows": spec.rows, "cols": spec.cols, "prompt": spec.prompt, "version": LAYOUT_VERSION,
                      "aruco_dictionary": "DICT_4X4_250"},
            "markers": markers, "writer": frac(g["writer"]), "boxes": [frac(b) for b in g["boxes"]]}


def _cv2():
    import cv2  # OpenCV: about 0.25 s to import, only where sheets are made or read

    return cv2


def _dictionary():
    cv2 = _cv2()
    return cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_250)


def _font(size_px: int):
    try:
        return ImageFont.load_default(size=size_px)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def render(spec: SheetSpec, dpi: int = PRINT_DPI) -> Image.Image:
    """The printable page as a greyscale image at `dpi`."""
    cv2 = _cv2()
    g = spec.geometry()
    px = dpi / 25.4

    def p(v: float) -> int:
        return int(round(v * px))

    page = Image.new("L", (p(g["width_mm"]), p(g["height_mm"])), 255)
    draw = ImageDraw.Draw(page)
    for mid, (x, y) in zip(spec.marker_ids(), g["markers"]):
        side = p(MARKER)
        marker = cv2.aruco.generateImageMarker(_dictionary(), mid, side, borderBits=1)
        page.paste(Image.fromarray(marker), (p(x), p(y)))
    border = max(1, p(BORDER))
    small = _font(p(3.0 if spec.prompt == "digits" else 2.4))
    for b in g["boxes"]:
        x0, y0, x1, y1 = p(b["x"]), p(b["y"]), p(b["x"] + b["w"]), p(b["y"] + b["h"])
        draw.rectangle([x0 - border, y0 - border, x1 + border - 1, y1 + border - 1], outline=0, width=border)
        draw.text((x0 - border, y0 - border - p(0.6)), b["label"], fill=60, font=small, anchor="ld")
    wf = g["writer"]
    x0, y0 = p(wf["x"]), p(wf["y"])
    draw.rectangle([x0 - border, y0 - border, p(wf["x"] + wf["w"]) + border - 1, p(wf["y"] + wf["h"]) + border - 1],
                   outline=0, width=border)
    draw.text((x0 - p(2), y0 + p(wf["h"] / 2)), "Writer:", fill=0, font=_font(p(3.6)), anchor="rm")
    noun = "digit" if spec.prompt == "digits" else "shape"
    draw.text((p(wf["x"] - 18), p(MARGIN + 1)), f"MNIST Studio collection sheet: {spec.prompt}, {spec.rows}x{spec.cols}",
              fill=0, font=_font(p(3.2)), anchor="lt")
    notes = (f"Write one {noun} in each box, inside the border, in dark pen: the small label says which. "
             "Leave a box empty to skip it.",
             "Photograph the page flat, with all four corner squares in the picture.")
    for k, note in enumerate(notes):
        draw.text((g["width_mm"] / 2 * px, p(g["height_mm"] - MARGIN - MARKER / 2 + (k - 0.5) * 4.2)), note, fill=0,
                  font=_font(p(2.4)), anchor="mm")
    return page


def write_sheet(out: str | Path, spec: SheetSpec, png: bool = False) -> list[Path]:
    """Write OUT (.pdf, or .png) and OUT's .layout.json (and a .png beside a PDF with png=True); the paths."""
    out = Path(out)
    suffix = out.suffix.lower()
    if suffix not in (".pdf", ".png"):
        raise SheetError(f"--out must end in .pdf or .png, not '{out.name}'")
    if out.exists() and out.is_dir():
        raise SheetError(f"{out} is a folder: give a file name such as {out / 'sheet.pdf'}")
    if not out.parent.exists():
        raise SheetError(f"no such folder: {out.parent}")
    page = render(spec)
    written = []
    if suffix == ".pdf":
        out.write_bytes(pdf_bytes(page))
        written.append(out)
    if suffix == ".png" or png:
        target = out.with_suffix(".png")
        page.save(target, dpi=(PRINT_DPI, PRINT_DPI), optimize=True)
        written.append(target)
    layout_path = out.with_suffix(".layout.json")
    layout_path.write_text(json.dumps(layout(spec), indent=1) + "\n")
    written.append(layout_path)
    return written


def pdf_bytes(page: Image.Image) -> bytes:
    """A rendered page as a one-page PDF at PRINT_DPI (black and white: crisp markers, about 20 kB)."""
    buf = io.BytesIO()
    page.convert("1", dither=Image.Dither.NONE).save(buf, "PDF", resolution=PRINT_DPI,
                                                      title="MNIST Studio collection sheet")
    return buf.getvalue()


# ---------------------------------------------------------------- reading


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
    cv2 = _cv2()
    params = cv2.aruco.DetectorParameters()
    params.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    detector = cv2.aruco.ArucoDetector(_dictionary(), params)
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
    cv2 = _cv2()
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
    cv2 = _cv2()
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
    cv2 = _cv2()
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
    cv2 = _cv2()
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
    cv2 = _cv2()
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
