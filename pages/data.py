"""Data: MNIST samples per digit, class balance, mean images, augmentation preview."""

import numpy as np
import streamlit as st

from mnist_core.data import mnist as mnist_data, stats
from mnist_core.training.config import ConfigError, TrainConfig
from studio_ui import charts, pictures, routing, state

routing.ensure_router()

INTRO = ("What the models learn from. **MNIST**: 70,000 handwritten digits, 28x28 pixels, white on black, each "
         "centred by its centre of mass in a 20x20 box; every model trains on 55,000 of them, picks its epoch "
         "on 5,000 (validation) and is scored once on the other 10,000 (test). Look at the samples, how evenly "
         "the digits are spread, the average of each digit, what augmentation does to an image, and the "
         "hand-drawn shapes the shapes models learn from.")

st.title("Data")
st.markdown(INTRO)
mnist = state.require_mnist()

split = st.segmented_control("Split", ["train", "test"], default="train", key="data_split",
                             help="Train shows MNIST's 60,000 training images (train + validation); "
                                  "test the 10,000 test images.") or "train"
x, y = (mnist.x_train, mnist.y_train) if split == "train" else (mnist.x_test, mnist.y_test)

# Lazy tabs: only the open tab runs and is drawn, so the page opens without plotly's script
# (about a second per page in the browser here) or TensorFlow; a chart tab pays for it when opened.
TABS = ("Samples per digit", "Class balance", "Mean images", "Augmentation", "Hand-drawn shapes")
samples_tab, balance_tab, means_tab, augment_tab, shapes_tab = st.tabs(TABS, key="data_tab", on_change="rerun")
seed = st.session_state.get("data_seed", 0)
per_digit = st.session_state.get("data_per_digit", 12)
picks = stats.samples_per_digit(y, per_digit, seed)  # the augmentation tab starts from the same images

if samples_tab.open:
    with samples_tab:
        left, right = st.columns([3, 1])
        right.slider("Samples per digit", 4, 20, 12, key="data_per_digit")
        if right.button("New random samples", icon=":material/shuffle:"):
            st.session_state["data_seed"] = seed + 1
            st.rerun()
        sheet = pictures.grid(x[np.clip(picks, 0, None).ravel()], cols=per_digit, scale=2)
        left.image(sheet, caption=f"One row per digit, 0 at the top ({split} split)")

if balance_tab.open:
    with balance_tab:
        st.plotly_chart(charts.class_balance({"train": stats.class_counts(mnist.y_train),
                                              "test": stats.class_counts(mnist.y_test)}))

if means_tab.open:
    with means_tab:
        means = stats.mean_images(x, y) / 255.0
        st.plotly_chart(charts.image_row(means, [str(d) for d in range(10)], colorscale="Viridis",
                                         zmax=float(means.max())))
        st.caption("Bright pixels are where that digit's ink usually is. "
                   "All digits are centred by their centre of mass.")


def augmentation_preview() -> None:
    st.caption("Random rotation, shift and zoom, as the Train page's *augment* option applies them to each batch. "
               "The first row is the original images.")
    c1, c2, c3 = st.columns(3)
    rotation = c1.slider("Rotation (degrees)", 0, 45, 10, key="aug_rotation")
    shift = c2.slider("Shift (fraction)", 0.0, 0.3, 0.1, 0.01, key="aug_shift")
    zoom = c3.slider("Zoom (fraction)", 0.0, 0.3, 0.1, 0.01, key="aug_zoom")
    try:
        config = TrainConfig(rotation_deg=float(rotation), shift=float(shift), zoom=float(zoom),
                             augment=True).validate()
    except ConfigError as exc:
        st.error(str(exc))
        return
    originals = mnist_data.to_model_input(x[picks[:, 0].clip(0)][:10])
    from mnist_core.data import augment  # TensorFlow: only once this tab is opened

    with st.spinner("Augmenting (the first time loads TensorFlow, a few seconds)..."):
        variants = [augment.preview(originals, config, seed=seed * 10 + i) for i in range(3)]
    rows = np.concatenate([originals] + variants)
    st.image(pictures.grid(rows, cols=10, scale=3), caption="Top: originals. Below: three random augmentations.")


@st.cache_data(show_spinner="Drawing shapes...")
def shape_samples(per_class: int, version: int) -> np.ndarray:
    from mnist_core.data import shapes

    x, y = shapes.generate(per_class, shapes.SPLIT_SEEDS["validation"])
    return x[np.argsort(y, kind="stable")]


if augment_tab.open:
    with augment_tab:
        augmentation_preview()

if shapes_tab.open:
    with shapes_tab:
        from mnist_core.data import shapes

        st.caption("The shapes task's data, generated from seeded strokes with a hurried hand's faults "
                   "(mnist_core/data/shapes.py) and put through the same preprocessing as a real drawing. These are "
                   "the first drawings of its fixed validation split, one row per class.")
        st.image(pictures.grid(shape_samples(10, shapes.GENERATOR_VERSION), cols=10, scale=2),
                 caption=f"One row per class: {', '.join(shapes.CLASSES)} "
                         f"(generator version {shapes.GENERATOR_VERSION})")
