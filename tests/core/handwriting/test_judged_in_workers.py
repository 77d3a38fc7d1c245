"""The not-a-digit detector moved from the model's process into the preprocessing workers (issue 27 §2).

Before, evaluate_images judged every image of a batch in one call on the stacked inputs; now each file's
worker judges that file's digit(s) alone. That is the same answer only if the detector's answer for an
image does not depend on which images share its call: checked here on real inputs to the last bit (the
scores, not just the reasons), and the reports of the pool and of this process are equal."""

from __future__ import annotations

import numpy as np
import pytest

from mnist_core.handwriting import not_a_digit
from mnist_core.handwriting import reading as hw
from mnist_core.models import loading
from tests.conftest import REPO, SHARED
from tests.hostile.digits import digit_image, encode, number_image

pytestmark = pytest.mark.skipif(not not_a_digit.available(), reason="the detector is not shipped")
PHOTOS = SHARED / "data" / "handwriting_sample"


def real_inputs() -> np.ndarray:
    """28x28 inputs as the batch path renders them: the shared photos, samples of every real source
    and generated non-digits (wholes and parts)."""
    from mnist_core.data import real
    from mnist_core.handwriting import negatives

    named = [(p.name, p.read_bytes()) for p in sorted(PHOTOS.glob("[0-9]/*"))]
    images = [im for _, im in negatives.generate(60, seed=5)]
    if real.available():
        images += list(real.hds().images[::40]) + list(real.optdigits(16).images[::60])
    named += [(f"{i}.png", encode(im if not isinstance(im, np.ndarray) else _pil(im))) for i, im in enumerate(images)]
    out = []
    for r in hw.process_many(named, parallel=False):
        if "x" in r:
            out += [r["x"]] + (list(r["parts"]) if r["parts"] is not None else [])
    assert len(out) > 150
    return np.stack(out)[..., None]


def _pil(a: np.ndarray):
    from PIL import Image

    a = np.asarray(a)
    return Image.fromarray(a if a.dtype == np.uint8 else (np.clip(a, 0, 1) * 255).astype(np.uint8))


def test_the_detector_judges_each_image_alone():
    x = real_inputs()
    params = not_a_digit._head()
    together = not_a_digit.head_score(not_a_digit._features(x), params)
    alone = np.concatenate([not_a_digit.head_score(not_a_digit._features(x[i:i + 1]), params)
                            for i in range(len(x))])
    assert np.array_equal(together, alone)  # the scores themselves, bit for bit
    odd = np.concatenate([not_a_digit.head_score(not_a_digit._features(x[i:i + 7]), params)
                          for i in range(0, len(x), 7)])
    assert np.array_equal(together, odd)
    reasons = not_a_digit.check(x)
    assert reasons == [r for i in range(len(x)) for r in not_a_digit.check(x[i:i + 1])]
    assert 0 < sum(r is not None for r in reasons) < len(x)  # both answers occur: the check can see a change


def test_workers_judge_what_the_model_will_read():
    one, number = encode(digit_image(4, width=6)), encode(number_image([3, 1, 8]))
    assert "judged" not in hw._process_chunk([("a.png", one)], None)[0]  # nobody asked
    judged = hw._process_chunk([("a.png", one)], None, judge=True)[0]
    assert judged["parts"] is None and judged["judged"] == [None]
    parts = hw._process_chunk([("n.png", number)], None, judge=True)[0]
    assert len(parts["parts"]) == 3 and parts["judged"] == [None, None, None]
    dots = encode(_dots())
    refused = hw._process_chunk([("d.png", dots)], None, judge=True)[0]
    assert len(refused["judged"]) == (1 if refused["parts"] is None else len(refused["parts"]))
    assert any(refused["judged"])


def _dots():
    from PIL import Image, ImageDraw

    im = Image.new("L", (300, 120), 255)
    draw = ImageDraw.Draw(im)
    for i in range(6):
        draw.ellipse((20 + 45 * i, 50, 34 + 45 * i, 64), fill=0)
    return im


def test_the_pool_and_this_process_give_the_same_report():
    model = loading.load("default", root=REPO / "models")
    named = [(f"{i % 10}/{i}.png", encode(digit_image(i % 10, width=3 + i % 9))) for i in range(30)]
    named += [("5/num.png", encode(number_image([5, 0]))), ("dots.png", encode(_dots()))]
    pooled = hw.evaluate_images(model, named, parallel=True)
    here = hw.evaluate_images(model, named, parallel=False)
    hw.shutdown_pool()
    assert pooled.predictions == here.predictions
    by_file = {p.file: p for p in here.predictions}
    assert by_file["dots.png"].reason and by_file["dots.png"].prediction is None
    assert by_file["5/num.png"].number == "50"
    unjudged = hw.evaluate_images(model, named, parallel=False, reject=False)
    assert all(p.reason is None for p in unjudged.predictions)


def test_a_batch_judges_a_numbers_parts_together(monkeypatch):
    """Four or more parts, half of them refused: a pattern of marks, every part refused (as_a_whole), in a
    batch as on the canvas; three parts with one refused stay a number with a '?'."""
    model = loading.load("default", root=REPO / "models")
    monkeypatch.setattr(hw, "rejections", lambda x: ["not a digit (test)" if i % 2 == 0 else None
                                                     for i in range(len(x))])
    named = [("four.png", encode(number_image([1, 2, 3, 4]))), ("three.png", encode(number_image([5, 6, 7])))]
    by_file = {p.file: p for p in hw.evaluate_images(model, named, parallel=False).predictions}
    four, three = by_file["four.png"], by_file["three.png"]
    assert four.prediction is None and four.number is None  # every part refused, not "?2?4"
    assert four.reason == not_a_digit.REASON  # two reasons among the parts: the general one
    assert three.number is not None and three.number.count("?") == 2 and three.prediction is not None
