"""The most-confused pair and the one text form of a confusion matrix (CLI and handwriting report)."""

import numpy as np

from mnist_core.analysis.evaluate import format_confusion, most_confused


def test_most_confused_is_the_largest_off_diagonal_cell():
    cm = np.diag([900] * 10)
    cm[4, 9], cm[9, 4], cm[7, 2] = 7, 3, 6
    assert most_confused(cm) == (4, 9)
    assert most_confused(np.diag([5] * 10)) is None  # no mistakes, no pair


def test_format_confusion_has_a_header_and_one_aligned_row_per_digit():
    cm = np.diag([1135] * 10)
    cm[3, 5] = 12
    lines = format_confusion(cm).splitlines()
    assert lines[0] == "confusion matrix (rows: true digit, columns: predicted)"
    assert lines[1].split() == [str(k) for k in range(10)]
    assert [line.split() for line in lines[2:]][3] == ["3", "0", "0", "0", "1135", "0", "12", "0", "0", "0", "0"]
    assert len({len(line) for line in lines[1:]}) == 1  # columns line up
    assert format_confusion([[1, 0], [0, 2]]).splitlines()[2:] == ["   0   1   0", "   1   0   2"]
