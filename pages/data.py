"""Data: MNIST samples per digit, class balance, mean images, augmentation preview."""

import numpy as np
import streamlit as st

from mnist_core.data import mnist as mnist_data, stats
from mnist_core.training.config import ConfigError, TrainConfig
from studio_ui import charts, pictures, routing, state

routing.ensure_router()

st.title("Data")
mnist = state.require_mnist()

split = st.segmented_control("Split", ["train", "test"], default="train", key="data_split",
                             help="Train shows MNIST's 60,000 training images (train + validation); "
                                  "test the 10,000 test images.") or "train"
x, y = (mnist.x_train, mnist.y_train) if split == "train" else (mnist.x_test, mnist.y_test)

st.subheader("Samples per digit")
left, right = st.columns([3, 1])
per_digit = right.slider("Samples per digit", 4, 20, 12, key="data_per_digit")
if right.button("New random samples", icon=":material/shuffle:"):
    st.session_state["data_seed"] = st.session_state.get("data_seed", 0) + 1
seed = st.session_state.get("data_seed", 0)
picks = stats.samples_per_digit(y, per_digit, seed)
sheet = pictures.grid(x[np.clip(picks, 0, None).ravel()], cols=per_digit, scale=2)
left.image(sheet, caption=f"One row per digit, 0 at the top ({split} split)")

st.subheader("Class balance")
st.plotly_chart(charts.class_balance({"train": stats.class_counts(mnist.y_train),
                                      "test": stats.class_counts(mnist.y_test)}))

st.subheader("The mean image of each digit")
means = stats.mean_images(x, y) / 255.0
st.plotly_chart(charts.image_row(means, [str(d) for d in range(10)], colorscale="Viridis", zmax=float(means.max())))
st.caption("Bright pixels are where that digit's ink usually is. All digits are centred by their centre of mass.")

st.subheader("Augmentation preview")
st.caption("Random rotation, shift and zoom, as the Train page's *augment* option applies them to each batch. "
           "The first row is the original images.")
c1, c2, c3, c4 = st.columns(4)
rotation = c1.slider("Rotation (degrees)", 0, 45, 10, key="aug_rotation")
shift = c2.slider("Shift (fraction)", 0.0, 0.3, 0.1, 0.01, key="aug_shift")
zoom = c3.slider("Zoom (fraction)", 0.0, 0.3, 0.1, 0.01, key="aug_zoom")
show = c4.toggle("Show preview", value=False, key="aug_show",
                 help="The preview loads TensorFlow (a few seconds the first time).")
if show:
    try:
        config = TrainConfig(rotation_deg=float(rotation), shift=float(shift), zoom=float(zoom), augment=True).validate()
    except ConfigError as exc:
        st.error(str(exc))
    else:
        originals = mnist_data.to_model_input(x[picks[:, 0].clip(0)][:10])
        from mnist_core.data import augment

        with st.spinner("Augmenting..."):
            variants = [augment.preview(originals, config, seed=seed * 10 + i) for i in range(3)]
        rows = np.concatenate([originals] + variants)
        st.image(pictures.grid(rows, cols=10, scale=3), caption="Top: originals. Below: three random augmentations.")

st.subheader("Hand-drawn shapes")
st.caption("The shapes task's data, generated from seeded strokes with a hurried hand's faults (mnist_core/data/shapes.py) "
           "and put through the same preprocessing as a real drawing. These are the first drawings of its fixed "
           "validation split, one row per class.")
if st.toggle("Show shape samples", value=False, key="data_shapes_show",
             help="Drawing them takes a second or two the first time."):
    from mnist_core.data import shapes


    @st.cache_data(show_spinner="Drawing shapes...")
    def shape_samples(per_class: int, version: int) -> np.ndarray:
        x, y = shapes.generate(per_class, shapes.SPLIT_SEEDS["validation"])
        return x[np.argsort(y, kind="stable")]


    st.image(pictures.grid(shape_samples(10, shapes.GENERATOR_VERSION), cols=10, scale=2),
             caption=f"One row per class: {', '.join(shapes.CLASSES)} (generator version {shapes.GENERATOR_VERSION})")
