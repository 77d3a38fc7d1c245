"""Promote and restore on the Sweeps and Models pages: the core's comparison, a confirmation, one button.

The rule (compare, refuse a worse candidate unless insisted on, keep the replaced model as
<target>-previous) is mnist_core.models.selection's; this module only shows it.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from mnist_core import access
from mnist_core.models import selection, store

FLASH = "promote_flash"  # a message shown once, at the top of the next run of the page


def show_flash() -> None:
    message = st.session_state.pop(FLASH, None)
    if message:
        st.success(message)


def _table(comparison: selection.Comparison, roles: tuple[str, str] = ("candidate", "current")) -> None:
    """A static table (it wraps on a phone, where a data grid would scroll sideways)."""
    frame = pd.DataFrame(comparison.table(roles)).set_index("model")
    st.table(frame.rename(columns={"validation": "validation accuracy", "test": "test accuracy"}))


def promote_box(candidates: list[str], target: str, key: str, label: str | None = None) -> None:
    """The best candidate beside the model it would replace, a confirmation box and the Promote button."""
    if not access.is_editor():
        return
    try:
        plan = selection.plan(candidates, target)
    except store.StoreError as exc:
        st.caption(f"Cannot promote to `{target}`: {exc}")
        return
    comparison, chosen = plan["comparison"], plan["chosen"]
    with st.container(border=True, key=f"{key}_box"):
        st.markdown(label or f"**Promote '{chosen}' to `{target}`**: every page then reads with it.")
        if comparison.current is not None:
            _table(comparison)
        st.caption(comparison.describe() + ("." if comparison.current is None else
                   f". The model it replaces is kept as `{plan['previous']}`, which Restore brings back."))
        if comparison.worse:
            st.warning(f"'{chosen}' reads worse than the current `{target}` on its {comparison.metric} accuracy: "
                       f"promoting it would make every page read with a worse model.", icon=":material/warning:")
        sure = st.checkbox(f"Yes, replace `{target}` with '{chosen}'"
                           + (", although it reads worse" if comparison.worse else ""),
                           key=f"{key}_sure_{chosen}")
        if st.button(f"Promote to {target}", key=key, disabled=not sure, icon=":material/upgrade:",
                     help=selection.RULE) and sure:
            try:
                result = selection.promote(candidates, target, force=comparison.worse)
            except (store.StoreError, access.AccessDenied) as exc:
                st.error(f"Not promoted: {exc}")
                return
            kept = (f" The model it replaced is kept as `{result['previous']}`: Restore on the Models page "
                    "brings it back.") if result["previous"] else ""
            st.session_state[FLASH] = f"'{chosen}' is now `{target}`.{kept}"
            st.rerun()


def restore_box(target: str, key: str) -> None:
    """When promote kept a model beside `target`: the two side by side and a confirmed Restore button."""
    if not access.is_editor():
        return
    previous = store.previous_name(target)
    try:
        kept = selection.restorable(target)
        current = store.read_card(target) if store.exists(target) else None
    except store.StoreError as exc:
        st.caption(f"Cannot offer to restore `{target}`: {exc}")
        return
    if kept is None:
        return
    with st.container(border=True, key=f"{key}_box"):
        replaced_by = (kept.get("kept") or {}).get("replaced_by")
        st.markdown(f"**Restore `{target}`** from `{previous}`, the model it was before "
                    + (f"'{replaced_by}' was promoted." if replaced_by else "the last promote."))
        _table(selection.compare({**kept, "name": previous}, current, target), ("kept", "now"))
        sure = st.checkbox(f"Yes, put `{previous}` back as `{target}`", key=f"{key}_sure")
        if st.button(f"Restore {target}", key=key, disabled=not sure, icon=":material/undo:") and sure:
            try:
                result = selection.restore(target)
            except (store.StoreError, access.AccessDenied) as exc:
                st.error(f"Not restored: {exc}")
                return
            note = ""
            if result["replaced"]:
                note = (f" The model it replaced is still saved as '{result['replaced']}'." if result["still_saved"]
                        else f" The model it replaced (promoted from '{result['replaced']}') is gone.")
            st.session_state[FLASH] = f"`{target}` is the model it was before the last promote again.{note}"
            st.rerun()
