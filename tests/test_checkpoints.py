"""Trained models that stand alone: a checkpoint predicts, recommends and rescores by itself."""
import json
import re
import zipfile

import numpy as np
import pytest

from autorec_lib import datasets, experiment, splits
from autorec_lib.config import course_config
from autorec_lib.checkpoint import CheckpointError
from autorec_lib.cli import main
from autorec_lib.trained import load


@pytest.fixture(params=[("autorec", "item"), ("autorec", "user"), ("biased-mf", "item")], ids=str)
def saved(request, small_data, tmp_path):
    model, variant = request.param
    split = splits.make_split(small_data, seed=0)
    result = experiment.train(small_data, split, model, variant, epochs=2, progress=False)
    return result, result.save(tmp_path / "model.npz")


def test_a_loaded_checkpoint_predicts_exactly_as_the_trained_model(saved):
    result, path = saved
    model = load(path)
    test = result.split.test
    users, items = result.data.user_ids[test["user"]], result.data.item_ids[test["item"]]
    expected = np.clip(result.learner.predict(test["user"].to_numpy(), test["item"].to_numpy()), *result.data.scale)
    np.testing.assert_array_equal(model.predict(users, items), expected)
    assert model.config == result.config


def test_recommend_takes_a_movielens_id_and_gives_titles_of_unrated_movies(saved):
    result, path = saved
    model = load(path)
    user_id = int(result.data.user_ids[0])
    table = model.recommend(user_id, 5)
    rated = set(result.data.item_ids[result.split.train.loc[result.split.train["user"] == 0, "item"]])
    assert list(table.columns) == ["item_id", "title", "score"] and len(table) == 5
    assert not rated & set(table["item_id"]) and table["title"].str.startswith("Movie").all()
    assert table["score"].between(*result.data.scale).all() and table["score"].is_monotonic_decreasing
    assert table.equals(result.trained().recommend(user_id, 5))


def test_an_unknown_movielens_id_is_refused_by_name(saved):
    _, path = saved
    with pytest.raises(KeyError, match="user id 7 is not in ml-100k"):
        load(path).recommend(7)


def test_evaluate_rebuilds_the_split_and_reproduces_the_scores(saved, small_data):
    result, path = saved
    scores = load(path).evaluate(small_data)
    assert scores["test"].rmse == pytest.approx(result.scores["test"].rmse, abs=1e-6)
    assert scores["valid"].rmse == pytest.approx(result.scores["valid"].rmse, abs=1e-6)


def test_evaluate_refuses_data_that_does_not_rebuild_the_training_ratings(saved, tmp_path):
    from conftest import write_ml100k
    _, path = saved
    other = datasets.load("ml-100k", write_ml100k(tmp_path / "other" / "ml-100k", seed=5))
    with pytest.raises(ValueError, match="does not rebuild the training ratings"):
        load(path).evaluate(other)


def test_a_split_built_by_hand_cannot_be_evaluated(small_data, tmp_path):
    split = splits.make_split(small_data)
    by_hand = splits.Split(split.train, split.test, split.valid, "mine")
    path = experiment.train(small_data, by_hand, epochs=1, progress=False).save(tmp_path / "m.npz")
    with pytest.raises(ValueError, match="cannot be rebuilt"):
        load(path).evaluate(small_data)


def test_a_file_that_is_not_a_checkpoint_is_named(tmp_path):
    path = tmp_path / "notes.npz"
    path.write_text("hello")
    with pytest.raises(CheckpointError, match=r"notes\.npz is not an autorec_lib checkpoint"):
        load(path)
    other = tmp_path / "arrays.npz"
    np.savez(other, a=np.zeros(3))
    with pytest.raises(CheckpointError, match=r"arrays\.npz is a \.npz archive but not an autorec_lib checkpoint"):
        load(other)


def test_a_truncated_checkpoint_is_named(saved, tmp_path):
    _, path = saved
    cut = tmp_path / "cut.npz"
    cut.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(CheckpointError, match=r"cut\.npz is truncated or corrupted"):
        load(cut)


def test_a_checkpoint_whose_weights_do_not_match_its_config_is_named(saved, tmp_path):
    _, path = saved
    bad = tmp_path / "bad.npz"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bad, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "__meta__.npy":
                meta = json.loads(str(np.load(path)["__meta__"]))
                net = meta["config"]["net"]
                if "hidden" in net:
                    net["hidden"] = [h + 1 for h in net["hidden"]]
                else:
                    net["n_factors"] += 1
                import io
                buf = io.BytesIO()
                np.save(buf, np.array(json.dumps(meta)))
                data = buf.getvalue()
            dst.writestr(item, data)
    with pytest.raises(CheckpointError, match=r"bad\.npz does not match its own configuration"):
        load(bad)


def test_a_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at .*nothing.npz"):
        load(tmp_path / "nothing.npz")


def test_cli_prints_the_resolved_config_and_recommends_and_evaluates_from_the_checkpoint(small_ml100k, tmp_path,
                                                                                        capsys):
    out = tmp_path / "out"
    assert main(["train", "--data-path", str(small_ml100k), "--epochs", "2", "--lr", "0.002", "--out", str(out),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    config = json.loads(printed.splitlines()[0].removeprefix("configuration: "))
    assert config["train"]["lr"] == 0.002 and config["train"]["lam"] == course_config().train.lam
    ckpt = out / "autorec-item-torch-ml-100k-random-seed0.npz"
    assert main(["recommend", "--checkpoint", str(ckpt), "--user", "10", "-n", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("top 3 movies for user 10") and len(lines) == 4 and "Movie" in lines[1]
    assert main(["evaluate", "--checkpoint", str(ckpt), "--data-path", str(small_ml100k)]) == 0
    test_line = [line for line in capsys.readouterr().out.splitlines() if line.startswith("test RMSE")][0]
    stored = json.loads((out / "autorec-item-torch-ml-100k-random-seed0.json").read_text())
    assert float(test_line.split()[2]) == pytest.approx(stored["test_rmse"], abs=5e-5)


def test_cli_names_a_bad_checkpoint_and_an_unknown_user(small_ml100k, tmp_path, capsys):
    bad = tmp_path / "x.npz"
    bad.write_text("not a model")
    assert main(["recommend", "--checkpoint", str(bad), "--user", "1"]) == 2
    assert "x.npz is not an autorec_lib checkpoint" in capsys.readouterr().err


@pytest.mark.parametrize("users, items, message", [
    ([1, 1], [50], "2 user ids and 1 item ids"),
    ([1.5], [50], "user ids must be whole numbers, got 1.5"),
    (["1"], [50], "user ids must be whole numbers"),
    ([1], [np.nan], "item ids must be whole numbers, got nan"),
])
def test_predict_refuses_pairs_that_are_not_pairs_of_ids(saved, users, items, message):
    result, path = saved
    model = load(path)
    known_user, known_item = int(result.data.user_ids[0]), int(result.data.item_ids[0])
    users = [known_user if u == 1 else u for u in users]
    items = [known_item if i == 50 else i for i in items]
    with pytest.raises(ValueError, match=re.escape(message)):
        model.predict(users, items)


def test_predict_accepts_ids_of_any_integer_type_and_whole_floats(saved):
    result, path = saved
    model = load(path)
    user, item = int(result.data.user_ids[0]), int(result.data.item_ids[0])
    expected = model.predict([user], [item])
    for u, i in ((np.int32(user), np.int64(item)), (float(user), float(item)), (np.array([user]), [item])):
        np.testing.assert_array_equal(model.predict(u, i), expected)


@pytest.mark.parametrize("n", [0, -2, 2.5, "3"])
def test_recommend_refuses_a_count_that_is_not_a_positive_integer(saved, n):
    result, path = saved
    with pytest.raises(ValueError, match="n \\(how many items\\) must be a positive integer"):
        load(path).recommend(int(result.data.user_ids[0]), n)
