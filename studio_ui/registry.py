"""Every page of the dashboard in one place: app.py's navigation and the Home page's link cards read it.

A new page is a script in pages/ plus one PageInfo line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath


@dataclass(frozen=True)
class PageInfo:
    path: str  # the script, relative to the repository root
    title: str
    icon: str
    blurb: str  # one line for the Home page
    editor_only: bool = False  # a visitor's navigation leaves it out, and the page stops when opened otherwise

    @property
    def url_path(self) -> str:
        """The file name: studio_ui.routing relies on a page's URL being its file name."""
        return PurePosixPath(self.path).stem


HOME = PageInfo("pages/home.py", "Home", ":material/home:", "What the tool does, MNIST in numbers, the leaderboard.")

SECTIONS: dict[str, tuple[PageInfo, ...]] = {
    "Explore": (
        HOME,
        PageInfo("pages/data.py", "Data", ":material/grid_view:",
                 "MNIST samples, class balance, mean digits, augmentation."),
    ),
    "Models": (
        PageInfo("pages/train.py", "Train", ":material/model_training:", "Train a model and watch it learn, live.",
                 editor_only=True),
        PageInfo("pages/sweeps.py", "Sweeps", ":material/tune:",
                 "Search hyperparameters on Ray, stop losers early, keep the winners.", editor_only=True),
        PageInfo("pages/models.py", "Models", ":material/leaderboard:",
                 "Compare saved models, their curves; download or delete."),
        PageInfo("pages/inspect.py", "Inspect", ":material/troubleshoot:",
                 "Confusions, mistakes, filters, feature maps, saliency."),
    ),
    "Try it": (
        PageInfo("pages/draw.py", "Draw", ":material/draw:", "Draw digits and see what the model reads."),
        PageInfo("pages/batch.py", "Batch", ":material/photo_library:",
                 "Upload photos or a ZIP of handwriting and score them."),
    ),
}


def all_pages() -> list[PageInfo]:
    return [page for section in SECTIONS.values() for page in section]


def editor_only_paths() -> frozenset[str]:
    return frozenset(p.url_path for p in all_pages() if p.editor_only)
