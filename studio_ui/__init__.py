"""Streamlit-side helpers shared by the pages: session state, caches, charts, run panels.

Nothing here decides anything about models or data; that is mnist_core's job.
"""
