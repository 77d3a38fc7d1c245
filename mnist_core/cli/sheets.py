"""sheet, read-sheets: print a collection sheet, and turn photos of filled-in sheets into a labelled collection."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from mnist_core.cli.common import UserError


def cmd_sheet(args) -> int:
    from mnist_core.handwriting import sheets

    try:
        spec = sheets.SheetSpec(args.rows, args.cols, args.prompt, args.paper)
        written = sheets.write_sheet(args.out, spec, png=args.png)
    except sheets.SheetError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"could not write the sheet: {exc}") from None
    g = spec.geometry()
    print(f"{spec.rows}x{spec.cols} {spec.prompt} sheet on {spec.paper.upper()} paper, boxes {g['side']:.1f} mm: "
          + ", ".join(str(p) for p in written))
    return 0


def cmd_read_sheets(args) -> int:
    from mnist_core.handwriting import sheet_reading

    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out} is a file: give a folder (it is made if missing)")
    missing = [p for p in args.photos if not Path(p).exists()]
    if missing:
        raise UserError(f"no such file or folder: {', '.join(missing)}")
    writer = sheet_reading.safe_name(args.writer) if args.writer else None
    if args.writer and not writer:
        raise UserError(f"--writer '{args.writer}' has no letters or digits to name a folder with")
    reads, skipped = [], []
    for source in args.photos:
        r, s = sheet_reading.read_sheets(source)
        reads += r
        skipped += s
    rows, written = [], 0
    for read in reads:
        files = sheet_reading.collection_files(read, writer=writer)
        for name, data in files:
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        written += len(files)
        row = {"file": read.file, "sheet": read.sheet, "read": read.reason is None, "reason": read.reason}
        if read.spec:
            row.update(rows=read.spec.rows, cols=read.spec.cols, prompt=read.spec.prompt, paper=read.spec.paper,
                       written=len(files), empty=read.empty, fit_mm=round(read.fit_mm, 3))
        rows.append(row)
    failed = [r for r in rows if not r["read"]]
    summary = {"out": str(out), "sheets": rows, "written": written, "empty": sum(r.get("empty", 0) for r in rows),
               "failed": len(failed), "skipped": skipped, "writer": writer}
    if args.json:
        print(json.dumps(summary))
    else:
        for r in rows:
            if r["read"]:
                print(f"{r['file']}: {r['written']} box(es) written, {r['empty']} empty box(es) skipped "
                      f"({r['rows']}x{r['cols']} {r['prompt']} sheet)")
            else:
                print(f"{r['file']}: not read: {r['reason']}")
        for s in skipped:
            print(f"{s['file']}: skipped: {s['reason']}")
        print(f"{written} image(s) written to {out}{f' under {writer}/' if writer else ''} from "
              f"{len(rows) - len(failed)} of {len(rows)} sheet photo(s); {summary['empty']} empty box(es) skipped")
    if not rows:
        print("no images among the inputs", file=sys.stderr)
    return 0 if rows and not failed and not skipped else 1


def register(sub) -> None:
    from mnist_core.handwriting.sheets import PAPERS, PROMPTS

    p = sub.add_parser("sheet", help="write a printable collection sheet (PDF or PNG) and its layout file")
    p.add_argument("--out", required=True, help="sheet.pdf (or sheet.png); sheet.layout.json is written beside it")
    p.add_argument("--rows", type=int, default=10)
    p.add_argument("--cols", type=int, default=10)
    p.add_argument("--prompt", choices=PROMPTS, default="digits", help="what the boxes ask for (labels row by row)")
    p.add_argument("--paper", choices=tuple(PAPERS), default="a4")
    p.add_argument("--png", action="store_true", help="also write the page as a 300 dpi PNG beside the PDF")
    p.set_defaults(func=cmd_sheet)

    p = sub.add_parser("read-sheets", help="read photos or scans of filled-in sheets into a labelled collection")
    p.add_argument("photos", nargs="+", metavar="PHOTOS_OR_ZIP", help="photos, scans, folders or ZIPs of them")
    p.add_argument("--out", required=True, help="folder for DIR/<label>/<sheet>-r<row>c<col>.png (made if missing)")
    p.add_argument("--writer", help="who filled the sheets in: files go under DIR/<writer>/<label>/")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_read_sheets)
