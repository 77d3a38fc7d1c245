"""MNIST Studio: `streamlit run app.py`.

The router: page setup, the sidebar's active-model picker (shared by every
page through st.session_state) and st.navigation over pages/. Each page
is a thin script over mnist_core; TensorFlow is imported only by the pages
that need a model, so the Home page appears fast. Each page's url_path is its
file name: studio_ui.routing relies on that to send a deep link on a freshly
started server (which Streamlit runs as an old-style pages/ app) back here,
and studio_ui.gate to put its sign-in form behind every page's URL.
"""

from pathlib import Path

import streamlit as st

from mnist_core.cpu_env import prefer_onednn
from studio_ui import gate, registry, state

prefer_onednn()  # before any page imports TensorFlow; runs started from here inherit it

FAVICON = Path(__file__).parent / "studio_ui" / "favicon.png"


def pages() -> dict[str, list]:
    """st.navigation's sections, from studio_ui.registry (which the Home page's links read too)."""
    return {section: [st.Page(p.path, title=p.title, icon=p.icon, default=True) if p is registry.HOME
                      else st.Page(p.path, title=p.title, icon=p.icon, url_path=p.url_path) for p in infos]
            for section, infos in registry.SECTIONS.items()}


def main() -> None:
    # A file in the repo: a ":material/...:" icon makes the browser fetch the favicon from Google's font
    # server, which fails offline (tests/browser/test_offline.py).
    st.set_page_config(page_title="MNIST Studio", page_icon=str(FAVICON), layout="wide")
    role = gate.require_access(pages())  # when shared: the sign-in form and nothing else until a token
    page = st.navigation(gate.for_role(pages(), role))
    state.sidebar_model_picker()
    gate.sidebar(role)
    page.run()


# Worker processes (the Batch page's preprocessing pool) re-import the main
# script as __mp_main__; they must not draw the app a second time.
if __name__ != "__mp_main__":
    main()
