import json
import re

import pytest

from autorec_lib.cli import main


def test_cli_trains_end_to_end_and_writes_json_png_and_checkpoint(small_ml100k, tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["train", "--data-path", str(small_ml100k), "--epochs", "3", "--hidden", "16",
                 "--out", str(out), "--no-progress"])
    assert code == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert re.fullmatch(r"test RMSE: \d\.\d{4}", last)
    stem = "autorec-item-torch-ml-100k-random-seed0"
    result = json.loads((out / f"{stem}.json").read_text())
    assert result["test_rmse"] == pytest.approx(float(last.split(": ")[1]), abs=5e-5)
    assert len(result["history"]) == 3 and result["config"]["net"]["hidden"] == [16]
    assert (out / f"{stem}.png").stat().st_size > 1000 and (out / f"{stem}.npz").exists()


@pytest.mark.parametrize("model", ["mf", "biased-mf"])
def test_cli_trains_the_mf_baselines(small_ml100k, tmp_path, capsys, model):
    assert main(["train", "--model", model, "--data-path", str(small_ml100k), "--epochs", "2",
                 "--out", str(tmp_path), "--no-progress", "--factors", "4"]) == 0
    assert "test RMSE:" in capsys.readouterr().out


@pytest.mark.parametrize("flags, message", [
    (["--hidden", "0"], "hidden size must be a positive integer, got 0"),
    (["--lambda", "-1"], "lambda (weight regularization) must be >= 0, got -1.0"),
    (["--dropout", "1.5"], "dropout must lie in [0, 1), got 1.5"),
    (["--model", "mf", "--hidden", "10"], "--hidden does not apply to --model mf"),
    (["--model", "mf", "--inputs", "sparse"], "model type 'mf' trains on single ratings: leave inputs at 'auto'"),
])
def test_cli_refuses_bad_hyperparameters_with_a_message(small_ml100k, tmp_path, capsys, flags, message):
    code = main(["train", "--data-path", str(small_ml100k), "--out", str(tmp_path), "--no-progress", *flags])
    assert code == 2 and message in capsys.readouterr().err


def test_cli_rejects_an_unknown_activation_before_training(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--encoder-activation", "softmax"])
    assert "invalid choice: 'softmax'" in capsys.readouterr().err


def test_cli_reports_missing_data_clearly(tmp_path, capsys):
    assert main(["train", "--data-path", str(tmp_path), "--no-progress"]) == 2
    assert "does not hold ml-100k" in capsys.readouterr().err


def test_cli_inputs_sparse_trains_from_sparse_ratings_to_the_dense_paths_numbers(small_ml100k, tmp_path, capsys):
    """--inputs sparse is how rows reach the network, not another model: the checkpoint and the
    score match the dense run up to float rounding, and the recorded configuration says which."""
    scores = {}
    for inputs in ("dense", "sparse"):
        assert main(["train", "--data-path", str(small_ml100k), "--epochs", "3", "--hidden", "16", "--inputs", inputs,
                     "--out", str(tmp_path / inputs), "--no-progress"]) == 0
        result = json.loads(next((tmp_path / inputs).glob("*.json")).read_text())
        assert result["config"]["train"]["inputs"] == inputs
        scores[inputs] = result["test_rmse"]
    assert scores["sparse"] == pytest.approx(scores["dense"], abs=1e-4)


@pytest.mark.parametrize("enabled", [True, False])
def test_cli_imports_libraries_with_the_collector_paused_then_frozen_and_restores_its_state(enabled):
    import gc

    from autorec_lib import cli

    was = gc.isenabled()
    gc.unfreeze()  # earlier in-process runs of the CLI froze objects too
    (gc.enable if enabled else gc.disable)()
    try:
        with cli._long_lived():
            assert not gc.isenabled()
            made = [[] for _ in range(10)]  # objects made inside: frozen afterwards
        assert gc.isenabled() is enabled and gc.get_freeze_count() >= len(made)
    finally:
        gc.unfreeze()
        (gc.enable if was else gc.disable)()


def test_the_program_exits_with_the_commands_status_and_message():
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "autorec_lib", "train", "--epochs", "0"], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2 and done.stderr.startswith("error:") and "epochs" in done.stderr


STEM = "autorec-item-torch-ml-100k-random-seed0"
QUICK = ["--epochs", "1", "--hidden", "4", "--no-progress"]


def test_a_second_run_into_the_same_folder_is_refused_before_training_unless_forced(small_ml100k, tmp_path, capsys):
    out = tmp_path / "runs"
    assert main(["train", "--data-path", str(small_ml100k), "--out", str(out), *QUICK]) == 0
    first = (out / f"{STEM}.npz").read_bytes()
    capsys.readouterr()
    assert main(["train", "--data-path", str(small_ml100k), "--out", str(out), "--seed", "0", "--lr", "0.01",
                 *QUICK]) == 2
    err = capsys.readouterr().err
    assert f"{STEM}.json" in err and "--force" in err
    assert (out / f"{STEM}.npz").read_bytes() == first  # the first run's checkpoint is untouched
    assert main(["train", "--data-path", str(small_ml100k), "--out", str(out), "--lr", "0.01", "--force",
                 *QUICK]) == 0
    assert (out / f"{STEM}.npz").read_bytes() != first
    assert json.loads((out / f"{STEM}.json").read_text())["config"]["train"]["lr"] == 0.01
    assert sorted(p.name for p in out.iterdir()) == [f"{STEM}{s}" for s in (".json", ".npz", ".png")]


def test_a_run_whose_name_another_run_took_meanwhile_keeps_its_files_under_a_new_name(tmp_path):
    from autorec_lib import cli
    from autorec_lib.files import write_atomically

    (tmp_path / f"{STEM}.npz").write_bytes(b"the other run's checkpoint")  # appeared while this one trained
    writers = {suffix: (lambda suffix: lambda path, overwrite: write_atomically(
        path, lambda f: f.write(suffix.encode()), overwrite))(suffix) for suffix in (".json", ".png", ".npz")}
    assert cli._write_new(tmp_path, STEM, writers, force=False) == f"{STEM}-2"
    assert (tmp_path / f"{STEM}.npz").read_bytes() == b"the other run's checkpoint"
    assert not (tmp_path / f"{STEM}.json").exists()  # no half set under the taken name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [f"{STEM}.npz"] + [f"{STEM}-2{s}" for s in (".json", ".png", ".npz")])


def test_outputs_get_the_permissions_the_umask_gives_any_file(small_ml100k, tmp_path):
    import os

    old = os.umask(0o022)
    try:
        assert main(["train", "--data-path", str(small_ml100k), "--out", str(tmp_path / "runs"), *QUICK]) == 0
    finally:
        os.umask(old)
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in (tmp_path / "runs").iterdir()} == {
        f"{STEM}{s}": "0o644" for s in (".json", ".png", ".npz")}


@pytest.mark.parametrize("n", ["0", "-3"])
def test_recommend_refuses_a_count_that_is_not_positive(small_ml100k, tmp_path, capsys, n):
    assert main(["train", "--data-path", str(small_ml100k), "--out", str(tmp_path), *QUICK]) == 0
    capsys.readouterr()
    assert main(["recommend", "--checkpoint", str(tmp_path / f"{STEM}.npz"), "--user", "10", "-n", n]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and f"n (how many items) must be a positive integer, got {int(n)}" in captured.err
