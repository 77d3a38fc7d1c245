"""Teaching the model your handwriting: the Batch page's fine-tuning runs and collection, the Draw page's corrections.

The pages call three functions and keep nothing else of this:
  corrections_box(drawing, digit)   Draw: one click gives the right label (another changes it, Undo removes it)
  collection_box(model_name)        Batch: the personal collection, its ZIP, and teaching it
  teach_section(model, uploads)     Batch, after an evaluation: start a fine-tuning run, follow it, see before/after
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import streamlit as st

from mnist_core import access
from mnist_core.analysis import figures
from mnist_core.errors import UserError
from mnist_core.handwriting import personal
from mnist_core.models import loading, store
from mnist_core.training import finetune as ft
from mnist_core.training import finetune_runs as ftr
from mnist_core.training import queue, rundir, runview
from studio_ui import pictures, runs_panel, state

THUMBNAILS_SHOWN = 60  # the newest drawings pictured on Batch; the ZIP holds them all
RUN_KEY = "finetune_run"  # the run this session follows (else the newest fine-tuning run)
CHANGED_SHOWN = 40


# -- Draw: corrections -------------------------------------------------------------------------

CORRECTION = "draw_correction"  # {drawing: digest of its pixels, file: label/name, label}: this drawing's label
LABEL_KEY = "draw_correct_label"


def _digest(drawing) -> str:
    return hashlib.sha1(np.ascontiguousarray(np.asarray(drawing)).tobytes()).hexdigest()


def corrections_box(drawing, digit) -> None:
    """'Wrong? It is a ...': one drawing, one label. The first click saves the drawing with that label, another
    click moves it to the new label, Undo takes it out of the collection; a new drawing starts afresh."""
    if not access.is_editor():
        return
    said = digit.prediction if digit else None
    digest = _digest(drawing)
    saved = st.session_state.get(CORRECTION)
    if saved and saved["drawing"] != digest:  # a new drawing: its own, fresh choice
        st.session_state.pop(CORRECTION, None)
        st.session_state[LABEL_KEY] = None
        saved = None
    with st.container(border=True, key="draw_correction"):
        st.markdown("**Misread?** Click the right digit: the drawing joins your collection, "
                    "which the Batch page can read and teach the model.")
        st.segmented_control("The right digit", [str(k) for k in range(10)], key=LABEL_KEY,
                             label_visibility="collapsed", on_change=_label_drawing, args=(drawing, digest, said))
        if saved:
            left, right = st.columns([3, 1], vertical_alignment="center")
            left.caption(f"Saved as a **{saved['label']}** ({saved['file']}). Click another digit to change its "
                         "label; it stays one drawing.")
            right.button("Undo", icon=":material/undo:", key="draw_correction_undo", on_click=_undo_label)
        n = sum(personal.counts().values())
        st.caption(f"Your collection holds {n} drawing(s)." if n else "Your collection is empty so far.")


def _label_drawing(drawing, digest: str, said) -> None:
    label = st.session_state.get(LABEL_KEY)
    saved = st.session_state.get(CORRECTION)
    saved = saved if saved and saved["drawing"] == digest else None
    if label is None:  # the chosen digit clicked again: the label stays (Undo removes it)
        st.session_state[LABEL_KEY] = saved["label"] if saved else None
        return
    if saved and saved["label"] == label:
        return
    try:
        if saved:
            try:
                file = personal.relabel(saved["file"], int(label))
                message = f"Changed to a {label}: {file} (one drawing, one label)"
            except FileNotFoundError:  # deleted meanwhile (on Batch): save it again
                saved = None
        if not saved:
            path = personal.add(np.asarray(drawing), int(label))
            file = f"{path.parent.name}/{path.name}"
            note = f" (the model read {said})" if said is not None and str(said) != label else ""
            message = f"Saved as a {label}{note}: {file}"
    except (UserError, OSError) as exc:
        st.session_state[LABEL_KEY] = saved["label"] if saved else None
        st.toast(f"Not saved: {exc}", icon=":material/error:")
        return
    st.session_state[CORRECTION] = {"drawing": digest, "file": file, "label": label}
    st.toast(message, icon=":material/bookmark_added:")


def _undo_label() -> None:
    saved = st.session_state.pop(CORRECTION, None)
    st.session_state[LABEL_KEY] = None
    if not saved:
        return
    try:
        personal.remove(saved["file"])
    except (UserError, OSError) as exc:
        st.toast(f"Not removed: {exc}", icon=":material/error:")
        return
    st.toast(f"Removed {saved['file']} from your collection", icon=":material/undo:")


# -- Batch: the personal collection -----------------------------------------------------------------

def collection_box(model_name: str) -> None:
    """The personal collection on Batch; the model (TensorFlow) loads only when the box is open on drawings."""
    found = personal.items()
    if st.session_state.pop("collection_reopen", False):  # a delete changed the label: keep it open
        st.session_state["collection_box"] = True
    # Lazy: a closed one reads no pictures.
    box = st.expander(f"Your collection: {len(found)} drawing(s) corrected on the Draw page", key="collection_box",
                      on_change="rerun")
    if not box.open:
        return
    with box:
        flash = st.session_state.pop("collection_flash", None)
        if flash:
            st.success(flash)
        if not found:
            st.caption("Drawings you give the right label on the Draw page are kept here, in "
                       f"`{personal.root()}`, ready to read or teach the model.")
            return
        counts = personal.counts()
        st.dataframe(pd.DataFrame([counts], index=["drawings"]), key="collection_counts")
        st.download_button("Download the collection (ZIP)", personal.zip_bytes(), file_name="my-handwriting.zip",
                           mime="application/zip", icon=":material/download:", key="collection_zip")
        st.caption("Upload the ZIP above to read it with any model; teach it below.")
        _collection_pictures(found)
        _teach_form(state.load_model(model_name), personal.uploads(), "collection")


def _collection_pictures(found: list[dict]) -> None:
    """The newest drawings as thumbnails, numbered, and a way to take some out of the collection."""
    shown = found[:THUMBNAILS_SHOWN]
    pictures_, captions = [], []
    for i, r in enumerate(shown, start=1):
        try:
            pictures_.append(np.pad(personal.thumbnail(r["file"]), 3, constant_values=128))  # a frame between them
        except (UserError, OSError):  # unreadable or removed meanwhile: say so instead of a picture
            pictures_.append(np.full((62, 62), 128, np.uint8))
        captions.append(f"#{i} · {r['label']}")
    st.image(pictures_, caption=captions, width=64)
    if len(found) > len(shown):
        st.caption(f"The {len(shown)} newest of {len(found)} drawings; the ZIP holds them all.")
    if not access.is_editor():
        return
    labels = {r["file"]: f"#{i} · {r['label']} · {r['file'].split('/')[-1]}" for i, r in enumerate(shown, start=1)}
    chosen = st.multiselect("Drawings to delete", list(labels), format_func=labels.get, key="collection_pick",
                            placeholder="Pick drawings by their number")
    if st.button("Delete from the collection", icon=":material/delete:", disabled=not chosen,
                 key="collection_delete") and chosen:
        errors = []
        for file in chosen:
            try:
                personal.remove(file)
            except (UserError, OSError) as exc:
                errors.append(str(exc))
        if errors:
            st.error("Not deleted: " + "; ".join(errors))
            return
        st.session_state.pop("collection_pick", None)
        st.session_state["collection_flash"] = f"Deleted {len(chosen)} drawing(s) from your collection."
        st.session_state["collection_reopen"] = True
        st.rerun()


# -- Batch: teaching -----------------------------------------------------------------------------

def teach_section(model, uploads: list) -> None:
    """After an evaluation: teach the uploaded handwriting, and follow this session's runs."""
    st.subheader("Teach the model this handwriting")
    st.caption("Fine-tunes a copy of the model on part of these labelled images, mixed with MNIST so it does not "
               "forget, and measures before and after on the part it never learns from and on MNIST's test set. "
               "The active model stays as it is.")
    _teach_form(model, uploads, "batch")
    runs_section()


def _teach_form(model, uploads: list, key: str) -> None:
    if not access.is_editor():
        st.info("Visitors cannot start fine-tuning runs.")
        return
    if getattr(model, "backend", None) != "keras":
        why = model.why_no_graph() if model.backend in loading.RUNTIME_BACKENDS else None
        st.info(f"Fine-tuning needs a Keras model: {why}." if why else
                f"Fine-tuning needs a Keras model; **{model.name}** is "
                f"{'an ensemble: fine-tune one of its members' if model.backend == 'ensemble' else 'a NumPy net'}.")
        return
    with st.form(f"teach_{key}", border=True):
        c1, c2, c3 = st.columns(3)
        holdout = c1.slider("Held out", 0.1, 0.9, 0.5, 0.05, key=f"teach_holdout_{key}",
                            help="The share of each digit (or of the writers) kept apart to measure on.")
        epochs = c2.number_input("Epochs at most", 1, 20, ft.FinetuneConfig.epochs, key=f"teach_epochs_{key}")
        name = c3.text_input("New model name", value="", placeholder=f"{model.name}-ft-...",
                             key=f"teach_name_{key}")
        by_writer = st.checkbox("Hold out whole writers (files as label/writer/image)", key=f"teach_writer_{key}")
        start = st.form_submit_button("Teach the model", icon=":material/school:", type="primary")
    if not start:
        return
    config = ft.FinetuneConfig(base=model.name, images="(uploaded)", holdout=float(holdout), epochs=int(epochs),
                               by_writer=by_writer, name=name.strip() or None)
    try:
        ft.plan(config, images=uploads)  # every input problem is said here, before a run exists
        run = ftr.launch(config, uploads=uploads)
    except (ft.FinetuneError, store.StoreError, queue.QueueError, access.AccessDenied, OSError) as exc:
        st.error(f"Cannot teach the model: {exc}")
        return
    st.session_state[RUN_KEY] = run.id
    st.toast(f"Fine-tuning run {run.id} started.")


def runs_section() -> None:
    """The fine-tuning runs: the followed one live while it runs, then its before/after."""
    runs = ftr.list_finetunes()
    if not runs:
        return
    ids = [r.id for r in runs]
    chosen = st.session_state.get(RUN_KEY)
    index = ids.index(chosen) if chosen in ids else 0
    pick = st.selectbox("Fine-tuning run", ids, index=index, key="finetune_pick",
                        help="Runs live in the runs folder: they keep going and stay here after a reload.")
    st.session_state[RUN_KEY] = pick
    _follow(pick)


@st.fragment(run_every=runs_panel.POLL_S)
def _follow(run_id: str) -> None:
    """Reads only: a waiting run is started by its own process's turn in the queue, not by this poll."""
    run = rundir.RunDir(rundir.paths.runs_dir() / run_id)
    status = run.status()
    if status.get("state") in rundir.ACTIVE:
        # One panel, one pair of buttons (Stop and keep, Cancel): the same as a training run's.
        runs_panel.live_panel(runview.run_view(run, queue.positions().get(run_id)))
        return
    if status.get("state") != "completed":
        st.error(f"Fine-tuning run {run_id} is **{status.get('state')}**: {status.get('error') or 'no reason'}")
        return
    name = status.get("model_name")
    try:
        card = store.read_card(name) if name else None
    except store.StoreError:
        card = None
    if card is None:
        st.warning(f"The model this run saved ('{name}') is no longer in the store.")
        return
    results(card, ftr.heldout_arrays(run))


def results(card: dict, held: dict | None) -> None:
    """Before and after side by side: held-out and MNIST with intervals, per digit, the images that changed."""
    f = card["finetune"]
    (st.success if f["success"] else st.warning)(("Success: " if f["success"] else "Not a success: ") + f["note"])
    if f.get("advice"):  # the held-out part held none of the base model's mistakes
        st.info(f["advice"])
    before, after = st.columns(2)
    for col, when, model in ((before, "before", f["base"]), (after, "after", card["name"])):
        with col.container(border=True):
            st.markdown(f"**{when.capitalize()}** · `{model}`")
            lo, hi = f[f"heldout_ci95_{when}"]
            st.metric(f"Held-out ({f['heldout_n']} images)", f"{f[f'heldout_{when}']:.2%}",
                      delta=None if when == "before" else f"{(f['heldout_after'] - f['heldout_before']) * 100:+.2f} pts")
            st.caption(f"95% interval {lo:.1%} to {hi:.1%}")
            st.metric("MNIST test (10,000)", f"{f[f'mnist_{when}']:.2%}",
                      delta=None if when == "before" else f"{f['mnist_change'] * 100:+.2f} pts")
    split = f["split"]
    st.caption(f"Split: {split['method']}, {split['adapt_n']} image(s) to adapt ({split['val_n']} of them decide "
               f"early stopping), {split['heldout_n']} held out; {f['epochs_trained']} epoch(s), "
               f"{f['replay_n']} MNIST replay images.")
    st.plotly_chart(figures.before_after(f["heldout_per_class"]), key=f"ft-classes-{card['name']}")
    _changed(f, held)
    if st.button(f"Make '{card['name']}' the active model", key=f"ft-activate-{card['name']}",
                 icon=":material/check_circle:", type="primary" if f["success"] else "secondary"):
        st.session_state[state.ACTIVE] = card["name"]
        st.rerun(scope="app")


def _changed(f: dict, held: dict | None) -> None:
    changed = f.get("changed") or []
    if not changed:
        st.caption("No held-out image changed its reading.")
        return
    where = {str(name): i for i, name in enumerate(held["files"])} if held else {}
    for kind, title in (("fixed", "Fixed"), ("broken", "Broken")):
        rows = [c for c in changed if c["change"] == kind][:CHANGED_SHOWN]
        st.markdown(f"**{title} ({sum(c['change'] == kind for c in changed)})**")
        if not rows:
            st.caption("None.")
            continue
        shown = [c for c in rows if c["file"] in where]
        if shown:
            st.image([pictures.crisp(held["x"][where[c["file"]]], 3) for c in shown], width=84,
                     caption=[f"{c['label']}: {c['before']}→{c['after']}" for c in shown])
        else:
            st.dataframe(pd.DataFrame(rows), hide_index=True, key=f"ft-changed-{kind}")
