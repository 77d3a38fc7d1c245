"""Keep every page behind app.py's router, even on a deep link to a fresh server.

Streamlit treats a `pages/` folder beside the entry script as an old-style
(v1) multipage app until `st.navigation` first runs in the process. So the
very first request after `streamlit run app.py`, if it is a deep link such as
/inspect, runs pages/inspect.py on its own: no page setup, no active-model
sidebar, a navigation menu made from file names. Each page calls
`ensure_router()` first; in that case it switches Streamlit to st.navigation
mode and reruns, and the rerun goes through app.py to the same page (both
modes hash a page by its URL path, which app.py keeps equal to the file name).
"""

from __future__ import annotations

import streamlit as st

from studio_ui import gate


def ensure_router() -> None:
    """Rerun through app.py when this page was started by Streamlit's pages/ folder scan."""
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the v1 fallback has nothing to undo
        PagesManager = None
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False  # what st.navigation itself does on its first call
        st.rerun()
    gate.guard_page()  # app.py has already asked for the token; this holds if a page is ever run without it
