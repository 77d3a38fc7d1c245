"""python -m mnist_core export / tensorboard, and the --report options."""

import json

import pytest

from mnist_core.cli import main
from mnist_core.models import store
from mnist_core.models.numpy_nets import NumpyNet
from tests.core.test_cli import cli


@pytest.fixture
def np_model(store_root):
    from mnist_core.data.mnist import load_splits

    splits = load_splits()
    net = NumpyNet((784, 10), seed=0)
    for i in range(0, 4096, 128):
        net.train_step(splits.x_train[i:i + 128], splits.y_train[i:i + 128], 0.5)
    store.save("np", net, {"kind": "numpy_softmax", "backend": "numpy", "test_accuracy": 0.85})
    return "np"


def test_export_json_reports_the_agreement_and_the_card_keeps_it(np_model, tmp_path, capsys):
    out = tmp_path / "np.onnx"
    assert main(["export", np_model, "--format", "onnx", "--out", str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["images"] == 1000 and report["same_class"] == 1000 and report["all_same_class"]
    assert report["max_prob_diff"] < 1e-5 and report["path"] == str(out) and out.is_file()
    assert store.read_card(np_model)["exports"]["onnx"]["same_class"] == 1000


def test_export_text_output_and_clear_errors(np_model, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["export", np_model, "--format", "keras"]) == 0
    text = capsys.readouterr().out
    assert "np.keras" in text and "same class on every image" in text and "keras 3." in text
    assert (tmp_path / "np.keras").is_file()
    assert main(["export", np_model, "--format", "onnx", "--out", "x.tflite"]) == 2
    assert "error: an export to onnx is a file ending in .onnx" in capsys.readouterr().err
    assert main(["export", "ghost", "--format", "onnx"]) == 2
    assert "no model named 'ghost'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["export", np_model, "--format", "pt"])


def test_tensorboard_command(runs_root, tmp_path, capsys):
    from mnist_core.training.config import TrainConfig
    from mnist_core.training.rundir import RunDir

    run = RunDir.create(TrainConfig.for_model("softmax", epochs=1))
    run.append_event("epoch", epoch=1, loss=1.0, accuracy=0.5, lr=0.01)
    assert main(["tensorboard"]) == 0
    out = capsys.readouterr().out
    assert f"{run.id}: 1 epochs" in out and "tensorboard --logdir runs" in out
    assert any((run.path / "tensorboard" / "train").iterdir())
    assert main(["tensorboard", run.id, "--logdir", str(tmp_path / "tb"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["path"] == str(tmp_path / "tb" / run.id)
    assert main(["tensorboard", "nope"]) == 2 and "no run 'nope'" in capsys.readouterr().err


@pytest.mark.slow
def test_export_litert_as_a_process(np_model, store_root, tmp_path):
    out = tmp_path / "np.tflite"
    proc = cli("export", np_model, "--format", "litert", "--out", str(out), env={"MNIST_STUDIO_MODELS": str(store_root)})
    assert "1000 MNIST test images: same class on every image" in proc.stdout and out.is_file()


def test_evaluate_and_models_write_reports(np_model, tmp_path, capsys):
    from tests.hostile.digits import digit_image, encode

    photos = tmp_path / "photos"
    for d in (1, 4, 7):
        (photos / str(d)).mkdir(parents=True)
        (photos / str(d) / "a.png").write_bytes(encode(digit_image(d)))
    (photos / "junk.png").write_bytes(b"junk")
    out = tmp_path / "batch.html"
    assert main(["evaluate", "--model", np_model, "--images", str(photos), "--report", str(out), "--json"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)  # stdout stays pure JSON, without the arrays the report used
    assert result["n"] == 3 and "inputs" not in result and f"report written to {out}" in captured.err
    html = out.read_text()
    assert "junk.png" in html and html.count("<figure><img alt=") == len(result["mistakes"])

    out = tmp_path / "test-set.html"
    assert main(["evaluate", "--model", np_model, "--report", str(out)]) == 0
    assert "on the MNIST test set" in capsys.readouterr().out
    html = out.read_text()
    assert "of 10000 labelled images" in html and html.count("<figure><img alt=") > 20  # every mistake, not 20

    out = tmp_path / "models.html"
    assert main(["models", "--report", str(out)]) == 0
    assert "<td>np</td>" in out.read_text() and "np" in capsys.readouterr().out
    assert main(["models", "--report", str(tmp_path)]) == 2
    assert "could not write the report" in capsys.readouterr().err
