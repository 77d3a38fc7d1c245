"""The browser's upload limit is what the collection reader accepts."""

import tomllib

from mnist_core.handwriting.collection import Limits

from .conftest import REPO, open_page

MB = 2**20  # Streamlit's upload megabytes


def test_streamlit_config_matches_the_reader():
    server = tomllib.loads((REPO / ".streamlit" / "config.toml").read_text())["server"]
    assert server["maxUploadSize"] * MB == Limits().max_total_bytes


def test_the_batch_uploader_takes_its_limit_from_the_reader(store):
    at = open_page("batch")
    uploader = at.get("file_uploader")[0]
    assert uploader.proto.max_upload_size_mb * MB == Limits().max_total_bytes
    assert f"up to {Limits().max_total_bytes // MB} MB" in uploader.proto.help
