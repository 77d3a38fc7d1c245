"""Home: what the tool does, MNIST in numbers, the leaderboard and active runs."""

from pathlib import Path

import streamlit as st

from mnist_core.data import mnist as mnist_data

from mnist_core.analysis import leaderboard

from mnist_core import paths

from mnist_core import tasks
from mnist_core.models import store
from studio_ui import gate, registry, routing, runs_panel, state

routing.ensure_router()

st.title("MNIST Studio")
st.markdown(
    "Train handwritten-digit classifiers on **MNIST**, compare them, look inside them, "
    "and try them on your own handwriting: draw digits on a canvas or upload photos."
)

st.subheader("The dataset")
try:
    mnist = state.mnist()
except mnist_data.MnistLoadError as exc:
    st.error(f"MNIST could not be loaded, so training and inspection will not work.\n\n{exc}")
else:
    n_val = mnist_data.VALIDATION_SIZE
    cols = st.columns(4)
    cols[0].metric("Training images", f"{len(mnist.x_train) - n_val:,}")
    cols[1].metric("Validation images", f"{n_val:,}", help="The last 5,000 of MNIST's training set.")
    cols[2].metric("Test images", f"{len(mnist.x_test):,}", help="Used only to evaluate finished models.")
    cols[3].metric("Image size", "28 x 28", help="Greyscale, a white digit on black.")
    source = Path(mnist.source)
    shown = source.relative_to(paths.REPO_ROOT) if source.is_relative_to(paths.REPO_ROOT) else source
    st.caption(f"Source: {shown} · SHA-256 {mnist.sha256[:16]}...")

st.subheader("Leaderboard")
try:
    cards = store.list_models()
    rows = leaderboard.rows(cards)
except OSError as exc:
    cards, rows = [], []
    st.error(f"Cannot read the model store: {exc}")
if rows:
    # Digits models are scored on MNIST's test set, shapes models on the generated shapes: say which.
    task_of = tasks.tasks_by_name(cards)  # an ensemble whose card names no task reads as its members
    shown = leaderboard.top(rows, 10, keep=store.protected_names())
    table = leaderboard.display(shown, ("name", "kind", "test_accuracy", "params", "train_seconds", "epochs",
                                        "created"))
    table.insert(1, "task", [str(task_of[n]) if n in task_of else None for n in table["name"]])
    st.dataframe(table, hide_index=True, column_config={
        "test_accuracy": st.column_config.NumberColumn("test accuracy", format="%.2f%%"),
        "params": st.column_config.NumberColumn("parameters", format="localized"),
        "train_seconds": st.column_config.NumberColumn("training s", format="%.0f"),
    })
    if len(shown) > 10:
        st.caption("The ten best, and below them the shipped models every page reads with.")
else:
    st.info("No saved models yet. Start one on the Train page; it appears here when it finishes.")


@st.fragment(run_every=runs_panel.POLL_S * 2)
def active_runs() -> None:
    views = runs_panel.views(runs_panel.active_runs())
    if not views:
        st.caption("No training runs are in progress.")
        return
    for view in views:
        st.progress(view.progress, text=f"**{view.name or view.model}** ({view.model}): {view.headline}")
    if gate.can_open("pages/train.py"):
        st.page_link("pages/train.py", label="Watch them on the Train page", icon=":material/monitoring:")


st.subheader("Active runs")
active_runs()

st.subheader("Pages")
links = [page for page in registry.all_pages() if page is not registry.HOME and gate.can_open(page.path)]
for i, page in enumerate(links):  # rows of three, as many as the registry's pages need (a visitor has fewer)
    if i % 3 == 0:
        row = st.columns(3)
    with row[i % 3].container(border=True, height=112):
        st.page_link(page.path, label=page.title, icon=page.icon)
        st.caption(page.blurb)
