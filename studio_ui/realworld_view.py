"""The "real world" figures on the Models page: each model's accuracy on real handwriting beside MNIST's."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_core.analysis import realworld

HOW = {
    "digits": ("Real handwriting from people the models never trained on (../shared/data/real, split by person): "
               "scanned forms at 32, 16 and 8 px (optdigits, 30 writers), tablet digits of the UJI writers held "
               "out of training, and the 100 shared photos under six conditions. A refusal (\"not a digit\") "
               "counts as wrong. A source a model learned from and that has no writer ids to hold out says "
               "*trained on* and is not scored. Measured with `python bench/realworld.py --save`."),
    "shapes": ("Real drawings of ellipses, rectangles and triangles by the 6 HDS people held out of training "
               "(../shared/data/real); \"not a shape\" counts as wrong. The test column is the generated test "
               "split. Measured with `python bench/realworld.py --models NAME --save`."),
}
TEST_LABEL = {"digits": "MNIST test", "shapes": "generated test"}


def _percent(v):
    return f"{v:.2%}" if isinstance(v, float) else v if isinstance(v, str) else "-"


def summary(cards: list, task: str = "digits") -> None:
    """A table of every measured model of the list, or a note saying how to measure them."""
    rows = realworld.summary_rows(cards, test_label=TEST_LABEL.get(task, "test"))
    if not rows:
        st.info("No model here has been measured on real handwriting yet. Run `python bench/realworld.py "
                "--models NAME --save` to measure one; its figures then appear here.")
        return
    frame = pd.DataFrame(rows)
    for column in frame.columns:
        if column not in ("model", "measured"):
            frame[column] = frame[column].map(_percent)
    st.dataframe(frame, hide_index=True, width="stretch", key="models_realworld")
    st.caption(HOW.get(task, HOW["digits"]))


def model_section(name: str) -> None:
    """One model's full table: interval, refusals and commonest errors per source."""
    data = realworld.load(name)
    if not data:
        return
    section = st.expander(f"Real handwriting: {len(data['sources'])} sources, measured {data.get('measured')}",
                          key="models_realworld_one", on_change="rerun")
    if not section.open:
        return
    with section:
        frame = pd.DataFrame(realworld.table_rows(data["sources"]))
        frame["images"] = frame["images"].map(lambda v: "" if v is None or pd.isna(v) else f"{int(v):,}")  # no "None"
        st.dataframe(frame, hide_index=True, width="stretch")
        other = data.get("other_refused")
        if other:
            st.caption(f"Real drawings that are none of the shapes (HDS 'other': cubes, arrows, letters, scribbles) "
                       f"answered \"not a shape\": {other['share']:.1%} ({other['refused']} of {other['n']}).")
        st.caption("Accuracy counts a refusal as wrong; the interval is Wilson's 95%; errors read "
                   "label->answer.")
