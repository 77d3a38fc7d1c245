"""Preprocessing: any image -> MNIST's 28x28 format, with synthetic digits drawn at test time."""

import io

import numpy as np
import pytest
from PIL import Image, ImageDraw

from mnist_core.handwriting import decode
from mnist_core.handwriting import imageops as ops
from tests.hostile.digits import BROKEN, digit_image, encode, number_image, prepared, split_digits


def x_of(image) -> np.ndarray:
    p = prepared(image)
    assert p.found, p.reason
    return p.x[:, :, 0]


def close(a: np.ndarray, b: np.ndarray) -> float:
    """Cosine similarity of two 28x28 results (1.0 = identical)."""
    return float((a * b).sum() / (np.linalg.norm(a) * np.linalg.norm(b)))


@pytest.fixture(scope="module")
def reference():
    return x_of(digit_image(3))


def test_output_is_mnist_shaped(reference):
    p = prepared(digit_image(3))
    assert p.x.shape == (28, 28, 1) and p.x.dtype == np.float32
    assert p.x.min() >= 0 and p.x.max() == pytest.approx(1.0)
    ys, xs = np.nonzero(reference > 0.05)
    assert max(ys.max() - ys.min(), xs.max() - xs.min()) + 1 in (19, 20, 21)  # long side fitted to 20 px
    total = reference.sum()
    cy = (reference.sum(axis=1) * np.arange(28)).sum() / total
    cx = (reference.sum(axis=0) * np.arange(28)).sum() / total
    assert abs(cy - 14) <= 1 and abs(cx - 14) <= 1  # centred by mass like MNIST
    assert reference[:2].max() == 0 and reference[:, -2:].max() == 0  # black margins


def test_steps_show_every_stage(reference):
    p = prepared(digit_image(3))
    titles = [t for t, _ in p.steps]
    assert titles[0] == "grey" and titles[-1] == "centred 28x28"
    assert any("background" in t for t in titles) and any("stroke width" in t for t in titles)
    assert all(img.dtype == np.uint8 and img.ndim == 2 for _, img in p.steps)
    assert np.array_equal(p.steps[-1][1], (reference * 255 + 0.5).astype(np.uint8))
    left, top, right, bottom = p.box
    assert 50 < left < right < 160 and 15 < top < bottom < 175  # where digit_image drew it


@pytest.mark.parametrize("make", [
    lambda: Image.new("L", (120, 90), 255),
    lambda: Image.new("L", (120, 90), 0),
    lambda: Image.new("RGB", (64, 64), (128, 128, 128)),
    lambda: Image.new("RGBA", (64, 64), (0, 0, 0, 0)),
    lambda: Image.fromarray(np.clip(np.random.default_rng(0).normal(235, 3, (200, 200)), 0, 255).astype(np.uint8)),
    lambda: ((np.random.default_rng(1).random((200, 200)) > 0.97) * 255).astype(np.uint8),
    lambda: np.random.default_rng(2).random((150, 150)).astype(np.float32),
], ids=["white", "black", "grey", "transparent", "paper-noise", "salt-and-pepper", "uniform-noise"])
def test_blank_images_have_no_digit(make):
    p = prepared(make())
    assert not p.found and p.x is None and p.reason.startswith("no digit found")
    assert p.steps  # the page can still show what was looked at
    assert split_digits(make()) == []


def test_tiny_image_is_rejected_with_reason():
    p = prepared(Image.new("L", (1, 1), 0))
    assert not p.found and "too small" in p.reason


def test_polarity_white_on_black_equals_dark_on_light(reference):
    inverted = digit_image(3, ink=235, paper=10)
    assert close(x_of(inverted), reference) > 0.97


def test_canvas_rgba_white_strokes_on_transparent(reference):
    strokes = np.asarray(digit_image(3, ink=255, paper=0))
    rgba = np.zeros((*strokes.shape, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[..., 3] = strokes  # streamlit-drawable-canvas: colour everywhere, ink in the alpha channel
    assert close(x_of(rgba), reference) > 0.97
    opaque = np.dstack([strokes] * 3 + [np.full_like(strokes, 255)])  # canvas with a painted black background
    assert close(x_of(opaque), reference) > 0.97


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "LA", "CMYK", "P", "1", "I", "I;16", "F"])
def test_every_mode_gives_the_same_digit(mode, reference):
    im = digit_image(3)
    if mode == "I;16":
        im = Image.fromarray(np.asarray(im, np.uint16) * 257)
    elif mode == "F":
        im = Image.fromarray(np.asarray(im, np.float32) / 255)
    elif mode == "1":
        im = im.convert("1", dither=Image.Dither.NONE)  # a bilevel scan
    else:
        im = im.convert(mode)
    assert im.mode == mode
    assert close(x_of(im), reference) > 0.95


def test_shadow_and_specks_do_not_change_the_digit(reference):
    a = np.asarray(digit_image(3), np.float32)
    ramp = np.linspace(1.0, 0.35, a.shape[1], dtype=np.float32)[None, :]  # light falls off to a third
    shaded = Image.fromarray((a * ramp).astype(np.uint8))
    assert close(x_of(shaded), reference) > 0.95
    specked = digit_image(3)
    pen = ImageDraw.Draw(specked)
    for x, y in [(10, 10), (185, 20), (15, 180), (190, 190), (100, 192)]:
        pen.ellipse((x - 2, y - 2, x + 2, y + 2), fill=0)
    p = prepared(specked)
    assert close(p.x[:, :, 0], reference) > 0.97
    assert p.box == prepared(digit_image(3)).box  # the crop ignores the specks


def test_stroke_width_is_normalised():
    """A hairline and a marker stroke both come out with MNIST-like widths."""
    widths = {}
    for pen in (2, 14, 40):
        x = x_of(digit_image(7, size=400, width=pen))
        big = np.asarray(Image.fromarray(x).resize((112, 112), Image.Resampling.BILINEAR)) > 0.5
        widths[pen] = ops.stroke_width(big) / 4  # in 28x28 pixels
    assert all(1.4 <= w <= 3.2 for w in widths.values()), widths  # MNIST: 1.3-3.2, median 1.9
    assert max(widths.values()) / min(widths.values()) < 1.8  # raw pens differ 20x


def test_exif_orientation_is_applied(reference):
    upright = digit_image(3, mode="RGB")
    exif = Image.Exif()
    exif[0x0112] = 6
    stored = encode(upright.transpose(Image.Transpose.ROTATE_90), "JPEG", exif=exif.tobytes(), quality=95)
    loaded = decode.load_image(stored, "rotated.jpg")
    assert loaded.size == upright.size
    assert close(x_of(loaded), reference) > 0.95


@pytest.mark.parametrize("data, words", [
    (b"", "empty file"),
    (b"\x89PNG\r\n\x1a\n" + bytes(40), "corrupt|not a readable image"),
    (b"plain text, not an image", "not a readable image"),
], ids=["empty", "bad-png", "text"])
def test_load_image_rejects_bad_bytes(data, words):
    with pytest.raises(decode.ImageError, match=words):
        decode.load_image(data, "x.png")


def test_load_image_rejects_truncated_and_oversized(tmp_path):
    jpeg = encode(digit_image(5, mode="RGB"), "JPEG")
    with pytest.raises(decode.ImageError, match="truncated"):
        decode.load_image(jpeg[: len(jpeg) // 2], "half.jpg")
    big = encode(Image.new("L", (3000, 2000), 255))
    with pytest.raises(decode.ImageError, match="too large"):
        decode.load_image(big, "big.png", max_pixels=5_000_000)
    with pytest.raises(decode.ImageError, match="no such file"):
        decode.load_image(tmp_path / "missing.png")
    path = tmp_path / "five.png"
    path.write_bytes(encode(digit_image(5)))
    assert decode.load_image(path).size == (200, 200)
    assert decode.load_image(io.BytesIO(path.read_bytes())).size == (200, 200)


def test_animated_gif_uses_the_first_frame():
    frames = [digit_image(7).convert("P"), digit_image(1).convert("P")]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:])
    assert close(x_of(decode.load_image(buf.getvalue())), x_of(digit_image(7))) > 0.97


def test_split_digits_left_to_right():
    parts = split_digits(number_image([2, 0, 4, 5, 1]))
    assert len(parts) == 5 and all(p.found for p in parts)
    lefts = [p.box[0] for p in parts]
    assert lefts == sorted(lefts)
    assert close(parts[1].x[:, :, 0], x_of(digit_image(0))) > 0.85


@pytest.mark.parametrize("digit", [4, 5])
def test_separate_strokes_of_one_digit_stay_together(digit):
    im = digit_image(digit, strokes=BROKEN)
    assert len(split_digits(im)) == 1


def test_components_match_a_flood_fill():
    rng = np.random.default_rng(1)
    mask = rng.random((40, 50)) > 0.6
    comps = ops.components(mask)
    seen = np.zeros_like(mask)
    count = 0
    for y, x in zip(*np.nonzero(mask)):
        if seen[y, x]:
            continue
        count += 1
        stack, area = [(y, x)], 0
        seen[y, x] = True
        while stack:
            cy, cx = stack.pop()
            area += 1
            for dy in (-1, 0, 1):
                for dx in (-1, 0, 1):
                    ny, nx = cy + dy, cx + dx
                    if 0 <= ny < 40 and 0 <= nx < 50 and mask[ny, nx] and not seen[ny, nx]:
                        seen[ny, nx] = True
                        stack.append((ny, nx))
        label = comps.labels()[y, x]
        assert label == count  # numbered in the raster order of their first pixels, as the flood fill meets them
        assert comps.area[label - 1] == area
        assert comps.mask([label])[y, x]
    assert len(comps) == count
    assert np.array_equal(comps.mask(range(1, count + 1)), mask)


def test_morphology_matches_naive_filters():
    rng = np.random.default_rng(2)
    a = rng.random((23, 31)).astype(np.float32)
    padded = np.pad(a, 2, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (5, 5))
    assert np.allclose(ops.dilate(a, 2), windows.max(axis=(2, 3)))
    assert np.allclose(ops.erode(a, 2), windows.min(axis=(2, 3)))
    assert np.allclose(ops.box_blur(a, 2), windows.mean(axis=(2, 3)), atol=1e-5)


def test_detached_stroke_is_kept_but_a_dot_at_the_same_distance_is_not():
    body = [(0.3, 0.3), (0.25, 0.55), (0.5, 0.5), (0.75, 0.65), (0.78, 0.85), (0.5, 0.98), (0.2, 0.9)]
    five = {5: [[(0.35, 0.02), (0.85, 0.02)], body]}  # the bar floats a fifth of the height above
    p = prepared(digit_image(5, strokes=five))
    full = prepared(digit_image(5, strokes={5: [body]}))
    assert p.box[1] < full.box[1] - 20  # the crop reaches up to the bar
    dotted = digit_image(5, strokes={5: [body]})
    ImageDraw.Draw(dotted).ellipse((108, 24, 112, 28), fill=0)  # a pen dot where the bar was
    assert prepared(dotted).box == full.box  # is dust
