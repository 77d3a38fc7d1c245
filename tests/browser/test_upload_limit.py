"""An upload over the limit is refused in the browser with a message that names the limit."""

import os

from mnist_core.handwriting.collection import Limits

from .conftest import problems, wait_idle


def test_a_file_over_the_limit_gets_a_clear_message(page, tmp_path):
    big = tmp_path / "digits.zip"
    with open(big, "wb") as fh:  # sparse: the browser checks the size before reading a byte
        fh.truncate(Limits().max_total_bytes + 2**20)
    page.goto(f"{page.base_url}/batch")
    page.get_by_text("Nothing uploaded yet").wait_for()
    page.locator("input[type=file]").set_input_files(str(big))
    limit_mb = Limits().max_total_bytes // 2**20
    page.get_by_text(f"File must be {limit_mb:.1f}MB or smaller.").wait_for(timeout=30_000)
    wait_idle(page)
    assert page.get_by_text("Nothing uploaded yet").is_visible()  # nothing was sent to the reader
    assert problems(page) == []
    os.remove(big)
