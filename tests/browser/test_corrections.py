"""A misread drawing, corrected with one click on the Draw page, is saved, listed on Batch and usable for teaching."""

from mnist_core.handwriting import collection, personal

from .conftest import problems, wait_idle
from .test_draw import stroke


def test_a_correction_is_saved_listed_and_usable(page):
    before = len(personal.items())
    page.goto(f"{page.base_url}/draw")
    page.get_by_text("The canvas is empty").wait_for()
    box = page.locator("canvas").last.bounding_box()
    x, y = box["x"], box["y"]
    stroke(page, [(x + 120, y + 60), (x + 200, y + 60), (x + 150, y + 230)])  # a 7
    page.locator("[data-testid=stMetric]").wait_for()
    wait_idle(page)

    correction = page.locator(".st-key-draw_correction")
    correction.get_by_role("radio", name="7", exact=True).click()
    correction.get_by_text("Saved as a 7").wait_for()  # the box's own line (a toast says it too, for a moment)
    wait_idle(page)
    assert problems(page) == []

    saved = personal.items()
    assert len(saved) == before + 1
    assert saved[0]["label"] == 7 and saved[0]["file"].startswith("7/draw-")
    # Usable: the collection reads like any labelled upload, with the label from its folder.
    read = collection.read_collection(personal.root())
    assert any(item.file.endswith(saved[0]["file"].split("/")[-1]) and item.label == 7 for item in read.items)

    page.goto(f"{page.base_url}/batch")
    page.get_by_text(f"Your collection: {before + 1} drawing(s)").click()
    page.get_by_text("Download the collection (ZIP)").wait_for()
    wait_idle(page)
    assert problems(page) == []
