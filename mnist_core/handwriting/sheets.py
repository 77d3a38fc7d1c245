"""Collection sheets: a printable page of labelled boxes (sheet_reading.py reads photos of filled-in ones).

`render` draws a sheet (a grid of boxes, each with its expected label printed
small above it, a writer field, and an ArUco marker in each corner) and
`layout` describes it: every position a fraction of the page's width or
height, a box's x, y, w, h its inside, within the printed border. The
markers carry the sheet's options (corner k's marker id is 50k plus a
number: rows, columns, prompt and paper, layout version), so a photo says
by itself which layout it shows and `read_sheet` needs no layout file.

Photos of filled-in sheets are read back by sheet_reading.py.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from mnist_core.errors import UserError

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


def opencv():
    import cv2  # OpenCV: about 0.25 s to import, only where sheets are made or read

    return cv2


def marker_dictionary():
    cv2 = opencv()
    return cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_250)


def _font(size_px: int):
    try:
        return ImageFont.load_default(size=size_px)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType: the small bitmap font
        return ImageFont.load_default()


def render(spec: SheetSpec, dpi: int = PRINT_DPI) -> Image.Image:
    """The printable page as a greyscale image at `dpi`."""
    cv2 = opencv()
    g = spec.geometry()
    px = dpi / 25.4

    def p(v: float) -> int:
        return int(round(v * px))

    page = Image.new("L", (p(g["width_mm"]), p(g["height_mm"])), 255)
    draw = ImageDraw.Draw(page)
    for mid, (x, y) in zip(spec.marker_ids(), g["markers"]):
        side = p(MARKER)
        marker = cv2.aruco.generateImageMarker(marker_dictionary(), mid, side, borderBits=1)
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
