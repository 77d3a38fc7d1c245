"""Faster preprocessing, same pixels: every result of the current code equals, bit for bit, what the
code before the speed work (reference_v1, kept verbatim) gives, on the 100 shared photos (batch and
full-resolution decoding), samples of every real source (tiny scanned forms included), generated
non-digits and synthetic hard cases. Equal outputs mean every accuracy and refusal figure stands."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageFilter

from mnist_core.handwriting import preprocess as new
from mnist_core.handwriting.decode import load_image
from mnist_core.handwriting.reading import BATCH_DRAFT
from tests.conftest import SHARED
from tests.core.handwriting.reference_v1 import preprocess as old
from tests.hostile.digits import digit_image, encode, number_image

PHOTOS = SHARED / "data" / "handwriting_sample"


def outcome(pp, image) -> dict:
    """Everything analyse and render produce for one image, whole and split into digits."""
    a = pp.analyse(image)
    out = {"reason": a.reason, "dark_ink": a.dark_ink, "scale": a.scale, "enlarged": a.enlarged,
           "kept": list(a.kept), "grey": np.asarray(a.grey), "grey_mode": a.grey.mode,
           "background": a.background, "steps": a.steps}
    if a.comps is not None:
        every = range(1, len(a.comps) + 1)
        out["comps"] = (a.comps.area, a.comps.bbox, a.comps.mask(every), a.comps.mask(a.kept),
                        [a.comps.mask([k]) for k in list(every)[:40]])
    if a.reason:
        return out
    whole = pp.render(a, a.kept)
    groups = pp.group_columns(a.comps, a.kept)
    out.update(x=whole.x, box=whole.box, render_steps=whole.steps, groups=groups,
               parts=[(p.x, p.box) for p in (pp.render(a, g) for g in groups)])
    quiet = pp.analyse(image, keep_steps=False)  # the batch path: no pictures, same digit
    out["batch_x"] = None if quiet.reason else pp.render(quiet, quiet.kept).x
    return out


def differences(a, b, where: str = "") -> list:
    if isinstance(a, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in differences(a.get(k), b.get(k), f"{where}.{k}")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return [f"{where}: {len(a)} != {len(b)} items"]
        return [d for i, (u, v) in enumerate(zip(a, b)) for d in differences(u, v, f"{where}[{i}]")]
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        same = a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
        return [] if same else [f"{where}: arrays differ ({a.dtype}{a.shape} vs {b.dtype}{b.shape})"]
    return [] if type(a) is type(b) and a == b else [f"{where}: {a!r} != {b!r}"]


def assert_same(images: list) -> None:
    bad = [f"{name}{d}" for name, im in images for d in differences(outcome(old, im), outcome(new, im))[:3]]
    assert not bad, f"{len(bad)} difference(s) from the reference, e.g.:\n" + "\n".join(bad[:12])


def photo_files() -> list:
    files = sorted(p for p in PHOTOS.glob("[0-9]/*") if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not files:
        pytest.skip(f"the shared photos are not at {PHOTOS}")
    return files


@pytest.mark.parametrize("draft", [BATCH_DRAFT, None], ids=["batch decoding", "full resolution"])
def test_the_shared_photos(draft):
    assert_same([(p.name, load_image(p.read_bytes(), p.name, draft=draft)) for p in photo_files()])


def test_samples_of_every_real_source():
    from mnist_core.data import real

    if not real.available():
        pytest.skip("the shared real sources are not there")
    images = []
    for side in (8, 16, 32):  # 8 and 16 take the tiny-input enlargement
        images += [(f"optdigits{side}-{i}", im) for i, im in enumerate(real.optdigits(side).images[::40])]
    samples, _, _ = real.uji_strokes()
    images += [(f"uji-{size}-{pen}-{i}", real.render_strokes(samples[i], size, pen))
               for size in real.UJI_SIZES for pen in real.UJI_PENS for i in range(0, len(samples), 97)]
    images += [(f"hds-{i}", im) for i, im in enumerate(real.hds().images[::50])]
    assert_same(images)


def test_generated_non_digits():
    from mnist_core.handwriting import negatives

    assert_same([(f"{kind}-{i}", im) for i, (kind, im) in enumerate(negatives.generate(40, seed=3))])


def synthetic() -> list:
    rng = np.random.default_rng(0)
    out = [(f"pen {w}", digit_image(i % 10, width=w)) for i, w in enumerate((1, 2, 4, 9, 14, 25, 40, 60))]
    out += [(f"tiny {s}x{s}", digit_image(3, size=200, width=22).resize((s, s), Image.Resampling.BOX))
            for s in (7, 8, 9, 12, 16, 20, 24, 32, 39, 40, 41)]
    out += [("tiny 10x30", digit_image(1, width=20).resize((10, 30), Image.Resampling.BOX)),
            ("light ink", digit_image(5, ink=235, paper=12)), ("number", number_image([1, 9, 4, 7])),
            ("blank", Image.new("L", (120, 90), 240)), ("black", Image.new("L", (90, 90), 0)),
            ("noise", Image.fromarray(rng.integers(0, 256, (150, 150), dtype=np.uint8))),
            ("speckled", Image.fromarray(np.where(rng.random((200, 200)) < 0.03, 0, 255).astype(np.uint8))),
            ("strip", digit_image(7, width=12).resize((400, 30))), ("tall", digit_image(1, width=10).resize((25, 500)))]
    shade = np.linspace(1.0, 0.35, 300, dtype=np.float32)[None, :]
    out.append(("shadow", Image.fromarray((np.asarray(digit_image(2, size=300), np.float32) * shade).astype(np.uint8))))
    out.append(("blurred jpeg", load_image(encode(digit_image(8, size=640).filter(ImageFilter.GaussianBlur(2)),
                                                  "JPEG", quality=70))))
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[..., :3] = 255
    canvas[..., 3] = np.asarray(digit_image(6, size=280, ink=255, paper=0))
    out += [("canvas rgba", canvas), ("float array", np.asarray(digit_image(0), np.float32) / 255),
            ("16-bit", Image.fromarray(np.asarray(digit_image(4), np.uint16) * 257)),
            ("rgb", digit_image(9, mode="RGB"))]
    return out


def test_synthetic_hard_cases():
    assert_same(synthetic())
