"""How wide the browser lays out a column: a tiny st.components.v2 component that measures its own width.

Streamlit tells a script nothing about the screen, and components such as the
drawing canvas take a width in pixels. `column_width` mounts an empty element
in the current column; its script reports the element's width (again when it
changes by a tenth, e.g. a phone turned sideways), which reruns the page.
Until the browser has answered (the first run, and AppTest, which runs no
JavaScript) it returns None.
"""

from __future__ import annotations

import streamlit as st

_JS = """
export default function(component) {
  const { setStateValue, parentElement, data } = component;
  const element = parentElement.host || parentElement;  // a shadow root (isolated styles) has no box: its host has
  let sent = (data && data.known) || 0;
  const send = () => {
    const w = Math.round(element.getBoundingClientRect().width || 0);
    if (w > 0 && (!sent || Math.abs(w - sent) > sent / 10)) {
      sent = w;
      setStateValue("width", w);
    }
  };
  send();
  const observer = new ResizeObserver(send);
  observer.observe(element);
  return () => observer.disconnect();
}
"""
_CSS = ":host, :root { display: block; width: 100%; height: 0; }"

_measure = st.components.v2.component("studio_column_width", js=_JS, css=_CSS)


def column_width(key: str) -> int | None:
    """The width in CSS pixels of the column this is called in, once the browser has said; else None."""
    known = st.session_state.get(f"{key}_known")
    result = _measure(key=key, data={"known": known}, default={"width": known}, height="content",
                      on_width_change=lambda: None)
    width = getattr(result, "width", None)
    if isinstance(width, (int, float)) and width > 0:
        st.session_state[f"{key}_known"] = int(width)
        return int(width)
    return None
