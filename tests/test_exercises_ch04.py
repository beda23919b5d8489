"""The checks of notebook 04's exercises: the reference solutions pass, plausible wrong answers fail.

Everything trains on small synthetic data in ML-100K's format (60 users, 50 movies), in seconds.
"""
from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from autorec_lib import datasets, experiment, metrics, splits  # noqa: E402
from autorec_lib.config import TrainConfig  # noqa: E402
from autorec_lib.exercises import CheckFailed, ch04  # noqa: E402
from autorec_lib.matrix import RatingMatrix  # noqa: E402
from autorec_lib.torch_backend import AutoRec  # noqa: E402
from conftest import write_ml100k  # noqa: E402
from exercise_support import assert_hides, one_thread  # noqa: E402, F401 (one_thread: autouse fixture)

SEEDS = (0, 1, 2, 3, 4, 5)  # the notebook trains with seed 0; 1 to 5 are unseen


# --------------------------------------------------------------------------------------------
# Data and trained models, made once for the module
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Synthetic data and a split in which one movie with validation ratings has no training rating."""
    folder = write_ml100k(tmp_path_factory.mktemp("ch04") / "ml-100k", n_users=60, n_items=50, density=0.25, seed=1)
    data = datasets.load("ml-100k", folder)
    split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    unseen = int(split.valid["item"].value_counts().index[0])  # a movie with validation ratings
    moved = split.train["item"] == unseen
    split = splits.Split(train=split.train[~moved].reset_index(drop=True),
                         test=pd.concat([split.test, split.train[moved]], ignore_index=True),
                         valid=split.valid, name=split.name)
    return data, split


class Models:
    """The notebook's `results` (Adam I-AutoRec, biased MF) and the Rprop I-AutoRec, trained per seed on demand."""

    def __init__(self, data, split):
        self.data, self.split, self.runs = data, split, {}

    def __getitem__(self, seed):
        if seed not in self.runs:
            data, split = self.data, self.split
            self.runs[seed] = {
                "I-AutoRec": experiment.train(data, split, "autorec", "item", progress=False, seed=seed),
                "biased MF": experiment.train(data, split, "biased-mf", progress=False, seed=seed),
                "Rprop": rprop_solution(data, split, seed),
            }
        return self.runs[seed]


@pytest.fixture(scope="module")
def models(setup):
    return Models(*setup)


@pytest.fixture(scope="module")
def not_the_course(setup, models):
    """Runs that are not the course's of Sec. 4.3 though of the right model type: cut short, other
    settings, started from given weights, trained on another split (each consistent with itself)."""
    data, split = setup
    other_split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=7)
    train = lambda *args, **changes: experiment.train(data, split, *args, progress=False, **changes)
    return {
        "I-AutoRec": {
            "cut short": train("autorec", "item", epochs=5),
            "other settings": train("autorec", "item", lr=5e-4, hidden=30, epochs=3),
            "warm start": train("autorec", "item", init_weights=models[0]["I-AutoRec"].learner.get_weights()),
        },
        "biased MF": {
            "cut short": train("biased-mf", epochs=2),
            "other settings": train("biased-mf", n_factors=16),
            "warm start": train("biased-mf", init_weights=models[0]["biased MF"].learner.get_weights()),
        },
        "other split": (other_split, experiment.train(data, other_split, "autorec", "item", progress=False)),
    }


# what each run of `not_the_course` is refused for
WHY_NOT = {"cut short": "epochs", "other settings": "not the course's", "warm start": "init_weights"}


# --------------------------------------------------------------------------------------------
# The reference solutions (the notebook's solution cells)
# --------------------------------------------------------------------------------------------

def prediction_solution(run, split, data):
    """The notebook's solution: every movie row of the training matrix through the network."""
    net = run.learner.model
    device = next(net.parameters()).device
    matrix = RatingMatrix(split.train, data.n_users, data.n_items, "item")
    net.eval()
    with torch.no_grad():
        r_hat = net(torch.from_numpy(matrix.dense(np.arange(data.n_items))[0]).to(device)).cpu().numpy()
    users, items = split.valid["user"].to_numpy(), split.valid["item"].to_numpy()
    pred = np.clip(r_hat[items, users], *data.scale)
    unseen = ~np.isin(items, split.train["item"]) | ~np.isin(users, split.train["user"])
    pred[unseen] = metrics.DEFAULT_RATING
    return pred, float(np.sqrt(np.mean((pred - split.valid["rating"].to_numpy()) ** 2)))


def rmse(pred, split) -> float:
    return float(np.sqrt(np.mean((np.asarray(pred, np.float64) - split.valid["rating"].to_numpy()) ** 2)))


def rprop_solution(data, split, seed=0, **changes):
    cfg = TrainConfig(**{**ch04.RPROP, "seed": seed, **changes})
    return experiment.train(data, split, "autorec", "item", **cfg.as_dict(), eval_test=False, progress=False)


def optimizer_table(adam, rprop) -> pd.DataFrame:
    runs = {"Adam": adam, "Rprop": rprop}
    return pd.DataFrame([{"epochs run": len(r.history.records), "best epoch": r.history.best_epoch,
                          "train seconds": sum(rec["seconds"] for rec in r.history.records),
                          "valid RMSE": r.scores["valid"].rmse} for r in runs.values()], index=list(runs))


def few_ratings_solution(run, data, split):
    counts = np.bincount(split.train["user"], minlength=data.n_users)
    user = int(counts.argmin())
    return user, run.trained().recommend(int(data.user_ids[user]), n=10)  # scores clipped to the rating scale


def everyones_top_solution(run, data, clip=True) -> np.ndarray:
    """MovieLens ids of the 10 highest mean predictions over all users, from the trained model by id."""
    model = run.trained()
    users, items = np.repeat(data.user_ids, data.n_items), np.tile(data.item_ids, data.n_users)
    predicted = model.predict(users, items) if clip else run.learner.predict(
        np.repeat(np.arange(data.n_users), data.n_items), np.tile(np.arange(data.n_items), data.n_users))
    mean = predicted.reshape(data.n_users, data.n_items).mean(axis=0)
    return data.item_ids[np.argsort(-mean, kind="stable")[:10]]


def overlap_solution(recs, top) -> int:
    return len(set(recs["item_id"]) & set(top))


def rare_solution(results, split, data, subset=None):
    if subset is None:
        counts = np.bincount(split.train["item"], minlength=data.n_items)
        subset = split.valid[counts[split.valid["item"]] < 10]
    rare = {name: metrics.evaluate(results[name].learner.predict, subset, split.train, data.scale).rmse
            for name in ("I-AutoRec", "biased MF")}
    return subset, rare


# --------------------------------------------------------------------------------------------
# Exercise 1: AutoRec's prediction step, by hand
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_prediction_step_solution_passes_on_the_notebooks_seed_and_five_unseen_ones(setup, models, seed, capsys):
    data, split = setup
    run = models[seed]["I-AutoRec"]
    ch04.check_prediction_step(*prediction_solution(run, split, data), run, split, data)
    assert capsys.readouterr().out.startswith("correct:")


def test_prediction_step_accepts_other_types_and_the_librarys_own_predictions(setup, models, capsys):
    data, split = setup
    run = models[0]["I-AutoRec"]
    pred, valid_rmse = prediction_solution(run, split, data)
    ch04.check_prediction_step(torch.from_numpy(pred).float(), torch.tensor(valid_rmse), run, split, data)
    ch04.check_prediction_step(pred.astype(np.float32).tolist(), np.float32(valid_rmse), run, split, data)
    ch04.check_prediction_step(pd.Series(pred), valid_rmse, run, split, data)
    library, _ = metrics.predict_with_default(run.learner.predict, split.valid, split.train, data.scale)
    ch04.check_prediction_step(library, rmse(library, split), run, split, data)
    assert capsys.readouterr().out.count("correct:") == 4


def wrong_predictions(run, split, data, mistake: str) -> np.ndarray:
    """The reference solution with one slip a learner could make."""
    pred, _ = prediction_solution(run, split, data)
    users, items = split.valid["user"].to_numpy(), split.valid["item"].to_numpy()
    unseen = ~np.isin(items, split.train["item"])
    net = run.learner.model
    with torch.no_grad():
        if mistake == "no default":
            empty = net(torch.zeros(1, data.n_users)).numpy()[0]  # what the network says for an empty row
            pred[unseen] = np.clip(empty[users[unseen]], *data.scale)
        elif mistake == "validation ratings in the input":
            both = RatingMatrix(pd.concat([split.train, split.valid]), data.n_users, data.n_items, "item")
            r_hat = net(torch.from_numpy(both.dense(np.arange(data.n_items))[0])).numpy()
            pred[~unseen] = np.clip(r_hat[items, users], *data.scale)[~unseen]
        elif mistake == "transposed":
            both_in = (users < data.n_items) & (items < data.n_users)
            matrix = RatingMatrix(split.train, data.n_users, data.n_items, "item")
            r_hat = net(torch.from_numpy(matrix.dense(np.arange(data.n_items))[0])).numpy()
            pred[both_in] = np.clip(r_hat[users[both_in], items[both_in]], *data.scale)
        elif mistake == "another order":
            pred = pred[np.argsort(items, kind="stable")]
        elif mistake == "an untrained network":
            torch.manual_seed(99)
            fresh = AutoRec(n_inputs=data.n_users, hidden=500)
            matrix = RatingMatrix(split.train, data.n_users, data.n_items, "item")
            pred = np.clip(fresh(torch.from_numpy(matrix.dense(np.arange(data.n_items))[0])).numpy()[items, users],
                           *data.scale)
            pred[unseen] = metrics.DEFAULT_RATING
    return pred


@pytest.mark.parametrize("mistake, match", [
    ("no default", "default rating"),
    ("validation ratings in the input", "TRAINING ratings alone"),
    ("transposed", "transposed"),
    ("another order", "order of split.valid"),
    ("an untrained network", "not the trained model's predictions"),
])
def test_prediction_step_rejects_a_wrong_read_of_the_reconstruction(setup, models, mistake, match):
    data, split = setup
    run = models[0]["I-AutoRec"]
    right, right_rmse = prediction_solution(run, split, data)
    wrong = wrong_predictions(run, split, data, mistake)
    assert not np.allclose(wrong, right, atol=1e-3)  # the slip matters on this data
    with pytest.raises(CheckFailed, match=match) as failure:
        ch04.check_prediction_step(wrong, rmse(wrong, split), run, split, data)
    assert_hides(str(failure.value), [right_rmse])


def test_prediction_step_rejects_unclipped_predictions(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    pred, _ = prediction_solution(run, split, data)
    unclipped = pred.copy()
    unclipped[np.argmax(pred)] = data.scale[1] + 0.3  # a raw output above 5 stars, left as it was
    with pytest.raises(CheckFailed, match="clips"):
        ch04.check_prediction_step(unclipped, rmse(unclipped, split), run, split, data)


def test_prediction_step_rejects_another_part_of_the_split(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    on_test, _ = metrics.predict_with_default(run.learner.predict, split.test, split.train, data.scale)
    assert len(split.test) != len(split.valid)
    with pytest.raises(CheckFailed, match="one prediction per validation rating"):
        ch04.check_prediction_step(on_test, 1.0, run, split, data)
    pred, _ = prediction_solution(run, split, data)
    with pytest.raises(CheckFailed, match="TEST RMSE"):
        ch04.check_prediction_step(pred, run.scores["test"].rmse, run, split, data)


def test_prediction_step_rejects_the_mae_the_mse_and_a_rounded_rmse(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    pred, right = prediction_solution(run, split, data)
    errors = pred - split.valid["rating"].to_numpy()
    for wrong, match in ((np.abs(errors).mean(), "MAE"), (right ** 2, "square root"),
                         (round(right, 3), "unrounded"), (round(right, 4), "unrounded"),
                         (np.float32(round(right, 4)), "unrounded"),
                         (round(right, 1), "not the RMSE of your valid_pred"),  # says nothing of a guessed digit
                         (right + 0.0137, "not the RMSE of your valid_pred")):
        with pytest.raises(CheckFailed, match=match) as failure:
            ch04.check_prediction_step(pred, wrong, run, split, data)
        assert_hides(str(failure.value), [right])


def test_prediction_step_rejects_a_run_of_another_model_settings_or_split(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    pred, value = prediction_solution(run, split, data)
    user = experiment.train(data, split, "autorec", "user", progress=False, epochs=2)
    with pytest.raises(CheckFailed, match="I-AutoRec"):
        ch04.check_prediction_step(pred, value, user, split, data)
    small = experiment.train(data, split, "autorec", "item", progress=False, hidden=20)
    with pytest.raises(CheckFailed, match="not the course's I-AutoRec model"):
        ch04.check_prediction_step(*prediction_solution(small, split, data), small, split, data)
    short = experiment.train(data, split, "autorec", "item", progress=False, epochs=3)
    with pytest.raises(CheckFailed, match="epochs"):
        ch04.check_prediction_step(*prediction_solution(short, split, data), short, split, data)
    other = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=7)
    with pytest.raises(CheckFailed, match="not trained and scored on"):
        ch04.check_prediction_step(*prediction_solution(run, other, data), run, other, data)
    with pytest.raises(CheckFailed, match="Result"):
        ch04.check_prediction_step(pred, value, run.learner, split, data)


@pytest.mark.parametrize("why", list(WHY_NOT))
def test_prediction_step_refuses_an_i_autorec_that_is_not_the_courses(setup, not_the_course, why):
    data, split = setup
    run = not_the_course["I-AutoRec"][why]
    with pytest.raises(CheckFailed, match=WHY_NOT[why]):
        ch04.check_prediction_step(*prediction_solution(run, split, data), run, split, data)


def test_prediction_step_rejects_wrong_types(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    pred, value = prediction_solution(run, split, data)
    with pytest.raises(CheckFailed, match="dimension"):
        ch04.check_prediction_step(pred[:, None], value, run, split, data)
    with pytest.raises(CheckFailed, match="number"):
        ch04.check_prediction_step(pred, f"{value:.4f}", run, split, data)
    with pytest.raises(CheckFailed, match="NaN"):
        ch04.check_prediction_step(np.where(np.arange(len(pred)) == 0, np.nan, pred), value, run, split, data)


# --------------------------------------------------------------------------------------------
# Exercise 2: Rprop
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_rprop_solution_passes_on_the_notebooks_seed_and_five_unseen_ones(setup, models, seed, capsys):
    data, split = setup
    adam, rprop = models[seed]["I-AutoRec"], models[seed]["Rprop"]
    ch04.check_rprop(rprop, optimizer_table(adam, rprop), adam, split, data)
    assert capsys.readouterr().out.startswith("correct:")


def test_rprop_check_rejects_the_adam_run_passed_as_rprop(setup, models):
    data, split = setup
    adam = models[0]["I-AutoRec"]
    with pytest.raises(CheckFailed, match="optimizer 'adam'"):
        ch04.check_rprop(adam, optimizer_table(adam, adam), adam, split, data)


def test_rprop_check_rejects_a_different_lambda_and_a_budget_cut_short(setup, models):
    data, split = setup
    adam = models[0]["I-AutoRec"]
    other_lam = rprop_solution(data, split, lam=1.0)
    with pytest.raises(CheckFailed, match="lam"):
        ch04.check_rprop(other_lam, optimizer_table(adam, other_lam), adam, split, data)
    short = rprop_solution(data, split, epochs=5)
    with pytest.raises(CheckFailed, match="budget was 5 epochs"):
        ch04.check_rprop(short, optimizer_table(adam, short), adam, split, data)


def test_rprop_check_rejects_another_model_size_and_u_autorec(setup, models):
    data, split = setup
    adam = models[0]["I-AutoRec"]
    small = experiment.train(data, split, "autorec", "item", **TrainConfig(**ch04.RPROP).as_dict(),
                             eval_test=False, progress=False, hidden=20)
    with pytest.raises(CheckFailed, match="change only the optimizer"):
        ch04.check_rprop(small, optimizer_table(adam, small), adam, split, data)
    user = experiment.train(data, split, "autorec", "user", **TrainConfig(**ch04.RPROP).as_dict(),
                            eval_test=False, progress=False)
    with pytest.raises(CheckFailed, match="I-AutoRec"):
        ch04.check_rprop(user, optimizer_table(adam, user), adam, split, data)


def test_rprop_check_rejects_mini_batches(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    learner = SimpleNamespace(matrix=rprop.learner.matrix, batch_size=16, predict=rprop.learner.predict)
    mini = dataclasses.replace(rprop, learner=learner)
    with pytest.raises(CheckFailed, match="full batch"):
        ch04.check_rprop(mini, optimizer_table(adam, mini), adam, split, data)


def test_rprop_check_rejects_scores_that_are_not_the_runs_own(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    borrowed = dataclasses.replace(rprop, scores=models[1]["Rprop"].scores)
    with pytest.raises(CheckFailed, match="not trained and scored on"):
        ch04.check_rprop(borrowed, optimizer_table(adam, borrowed), adam, split, data)


def test_rprop_check_rejects_a_passed_rprop_run_as_the_adam_result(setup, models):
    data, split = setup
    rprop = models[0]["Rprop"]
    with pytest.raises(CheckFailed, match="results\\['I-AutoRec'\\]"):
        ch04.check_rprop(rprop, optimizer_table(rprop, rprop), rprop, split, data)


@pytest.mark.parametrize("why", list(WHY_NOT))
def test_rprop_check_refuses_an_adam_run_that_is_not_the_courses(setup, models, not_the_course, why):
    data, split = setup
    adam, rprop = not_the_course["I-AutoRec"][why], models[0]["Rprop"]
    with pytest.raises(CheckFailed, match=f"the Adam result.*{WHY_NOT[why]}"):
        ch04.check_rprop(rprop, optimizer_table(adam, rprop), adam, split, data)


def test_rprop_check_refuses_a_warm_started_rprop_run(setup, models):
    data, split = setup
    adam = models[0]["I-AutoRec"]
    warm = experiment.train(data, split, "autorec", "item", **TrainConfig(**ch04.RPROP).as_dict(), eval_test=False,
                            progress=False, init_weights=adam.learner.get_weights())
    with pytest.raises(CheckFailed, match="rprop started from given weights"):
        ch04.check_rprop(warm, optimizer_table(adam, warm), adam, split, data)


def test_rprop_check_accepts_a_larger_budget_another_seed_and_an_unused_batch_size(setup, models, capsys):
    data, split = setup
    adam = models[0]["I-AutoRec"]
    rprop = rprop_solution(data, split, seed=9, epochs=200, batch_size=64)  # Rprop trains full-batch anyway
    ch04.check_rprop(rprop, optimizer_table(adam, rprop), adam, split, data)
    assert capsys.readouterr().out.startswith("correct:")


def test_rprop_check_names_a_best_epoch_counted_from_zero(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    for row, run in (("Adam", adam), ("Rprop", rprop)):
        table = optimizer_table(adam, rprop)
        table.loc[row, "best epoch"] = int(np.argmin(run.history.frame()["valid_rmse"].to_numpy()))  # 0-based
        with pytest.raises(CheckFailed, match="from 0") as failure:
            ch04.check_rprop(rprop, table, adam, split, data)
        assert "swapped" not in str(failure.value)


def test_rprop_check_names_swapped_rows_only_when_both_are_swapped(setup, models):
    """A value that happens to equal the other optimizer's is not called a swap unless the other row holds
    this one's value."""
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    table = optimizer_table(adam, rprop)
    table.loc["Adam", "valid RMSE"] = rprop.scores["valid"].rmse  # Rprop's, but Rprop's row is right
    with pytest.raises(CheckFailed, match="own Result") as failure:
        ch04.check_rprop(rprop, table, adam, split, data)
    assert "swapped" not in str(failure.value)


def test_rprop_check_rejects_swapped_rows(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    table = optimizer_table(adam, rprop).rename(index={"Adam": "Rprop", "Rprop": "Adam"})
    with pytest.raises(CheckFailed, match="swapped"):
        ch04.check_rprop(rprop, table, adam, split, data)


def test_rprop_check_rejects_the_test_rmse_and_seconds_with_evaluation(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    table = optimizer_table(adam, rprop)
    table.loc["Rprop", "valid RMSE"] = rprop.scores["test"].rmse
    with pytest.raises(CheckFailed, match="test RMSE"):
        ch04.check_rprop(rprop, table, adam, split, data)
    table = optimizer_table(adam, rprop)
    table.loc["Adam", "train seconds"] = adam.seconds
    with pytest.raises(CheckFailed, match="evaluations"):
        ch04.check_rprop(rprop, table, adam, split, data)


def test_rprop_check_rejects_the_best_epoch_as_epochs_run(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    table = optimizer_table(adam, rprop)
    table.loc["Rprop", "epochs run"] = rprop.history.best_epoch
    with pytest.raises(CheckFailed, match="best epoch"):
        ch04.check_rprop(rprop, table, adam, split, data)


def test_rprop_check_hides_the_value_it_expected(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    table = optimizer_table(adam, rprop)
    right = table.loc["Rprop", "valid RMSE"]
    table.loc["Rprop", "valid RMSE"] = right + 0.0137
    with pytest.raises(CheckFailed, match="own Result") as failure:
        ch04.check_rprop(rprop, table, adam, split, data)
    assert_hides(str(failure.value), [right])


def test_rprop_check_rejects_a_dict_and_a_missing_column(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    table = optimizer_table(adam, rprop)
    with pytest.raises(CheckFailed, match="DataFrame"):
        ch04.check_rprop(rprop, table.to_dict(orient="index"), adam, split, data)
    with pytest.raises(CheckFailed, match="lacks the columns"):
        ch04.check_rprop(rprop, table.drop(columns="train seconds"), adam, split, data)
    with pytest.raises(CheckFailed, match="Result"):
        ch04.check_rprop(table, table, adam, split, data)


# --------------------------------------------------------------------------------------------
# Exercise 3: recommendations for the user with the fewest training ratings
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_few_ratings_solution_passes_on_the_notebooks_seed_and_five_unseen_ones(setup, models, seed, capsys):
    data, split = setup
    run = models[seed]["I-AutoRec"]
    user, recs = few_ratings_solution(run, data, split)
    ch04.check_few_ratings_recommendations(user, recs, run, split, data)
    for clip in (True, False):
        top = everyones_top_solution(run, data, clip)
        ch04.check_overlap(overlap_solution(recs, top), top, recs, run, split, data)
    assert capsys.readouterr().out.count("correct:") == 3


class StubLearner:
    """Known predictions (user u, movie i) -> table[u, i], some off the 1-5 scale."""

    def __init__(self, table):
        self.table = table

    def predict(self, users, items):
        return self.table[np.asarray(users), np.asarray(items)].astype(np.float32)


@pytest.fixture
def stub(setup, models):
    """A trained Result whose learner predicts a known table, some of it off the 1-5 scale."""
    data, split = setup
    table = np.random.default_rng(0).uniform(0.0, 6.0, size=(data.n_users, data.n_items))
    learner = StubLearner(table)
    scores = {part: metrics.evaluate(learner.predict, getattr(split, part), split.train, data.scale)
              for part in ("valid", "test")}  # what the trained run would have been scored
    return dataclasses.replace(models[0]["I-AutoRec"], learner=learner, scores=scores), data, split


def _recs(run, user, data, split, clip=True, n=10, train=None):
    return metrics.recommend(run.learner.predict, user, split.train if train is None else train, data.n_items,
                             data.titles, data.item_ids, n, data.scale if clip else None)


def test_few_ratings_check_passes_the_solution_on_known_predictions_by_id_or_by_index(stub, capsys):
    run, data, split = stub
    user, recs = few_ratings_solution(run, data, split)
    ch04.check_few_ratings_recommendations(user, recs, run, split, data)
    ch04.check_few_ratings_recommendations(np.int64(user), _recs(run, user, data, split), run, split, data)
    ch04.check_few_ratings_recommendations(float(user), recs, run, split, data)
    assert capsys.readouterr().out.count("correct:") == 3


def test_few_ratings_check_rejects_the_wrong_user_without_naming_the_right_one(stub):
    run, data, split = stub
    counts = np.bincount(split.train["user"], minlength=data.n_users)
    for user in (int(counts.argmax()), int(np.flatnonzero(counts > counts.min())[0])):
        with pytest.raises(CheckFailed, match="some users have fewer") as failure:
            ch04.check_few_ratings_recommendations(user, _recs(run, user, data, split), run, split, data)
        assert_hides(str(failure.value), [counts.min(), counts.argmin()])
    with pytest.raises(CheckFailed, match="whole number"):
        ch04.check_few_ratings_recommendations(counts.argmin() + 0.5, None, run, split, data)


def test_few_ratings_check_rejects_a_user_counted_on_all_ratings(stub):
    run, data, split = stub
    train_counts = np.bincount(split.train["user"], minlength=data.n_users)
    all_counts = np.bincount(data.ratings["user"], minlength=data.n_users)
    user = int(all_counts.argmin())
    assert train_counts[user] != train_counts.min()  # the mistake matters on this split
    with pytest.raises(CheckFailed, match="fewer"):
        ch04.check_few_ratings_recommendations(user, _recs(run, user, data, split), run, split, data)


def test_few_ratings_check_rejects_unclipped_scores(stub):
    run, data, split = stub
    user, _ = few_ratings_solution(run, data, split)
    recs = _recs(run, user, data, split, clip=False)
    assert recs["score"].max() > data.scale[1]
    with pytest.raises(CheckFailed, match="clip"):
        ch04.check_few_ratings_recommendations(user, recs, run, split, data)


def test_few_ratings_check_rejects_rated_movies_and_other_users_lists(stub):
    run, data, split = stub
    user, _ = few_ratings_solution(run, data, split)
    with_rated = _recs(run, user, data, split, train=split.train.iloc[:0])
    assert with_rated["item"].isin(split.train.loc[split.train["user"] == user, "item"]).any()
    with pytest.raises(CheckFailed, match="already rated"):
        ch04.check_few_ratings_recommendations(user, with_rated, run, split, data)
    other = (user + 1) % data.n_users
    with pytest.raises(CheckFailed):
        ch04.check_few_ratings_recommendations(user, _recs(run, other, data, split), run, split, data)


def test_few_ratings_check_rejects_wrong_shapes_orders_ids_and_picks(stub):
    run, data, split = stub
    user, recs = few_ratings_solution(run, data, split)
    with pytest.raises(CheckFailed, match="has 9 rows"):
        ch04.check_few_ratings_recommendations(user, recs.head(9), run, split, data)
    with pytest.raises(CheckFailed, match="sorted"):
        ch04.check_few_ratings_recommendations(user, recs.iloc[::-1], run, split, data)
    with pytest.raises(CheckFailed, match="twice"):
        doubled = pd.concat([recs.head(9), recs.head(1)], ignore_index=True)
        ch04.check_few_ratings_recommendations(user, doubled, run, split, data)
    lower = run.trained().recommend(int(data.user_ids[user]), n=11).iloc[1:].reset_index(drop=True)  # ranks 2-11
    with pytest.raises(CheckFailed, match="not the top 10"):
        ch04.check_few_ratings_recommendations(user, lower, run, split, data)
    with pytest.raises(CheckFailed, match="DataFrame"):
        ch04.check_few_ratings_recommendations(user, recs["item_id"].tolist(), run, split, data)
    with pytest.raises(CheckFailed, match="no movie"):
        ch04.check_few_ratings_recommendations(user, recs.assign(item_id=recs["item_id"] + 10_000), run, split, data)


@pytest.mark.parametrize("why", list(WHY_NOT))
def test_exercise_3_refuses_an_i_autorec_that_is_not_the_courses(setup, not_the_course, why):
    data, split = setup
    run = not_the_course["I-AutoRec"][why]
    user, recs = few_ratings_solution(run, data, split)  # right for that run
    with pytest.raises(CheckFailed, match=WHY_NOT[why]):
        ch04.check_few_ratings_recommendations(user, recs, run, split, data)
    top = everyones_top_solution(run, data)
    with pytest.raises(CheckFailed, match=WHY_NOT[why]):
        ch04.check_overlap(overlap_solution(recs, top), top, recs, run, split, data)


def test_exercise_3_refuses_a_run_of_another_split(setup, not_the_course):
    data, split = setup
    other_split, run = not_the_course["other split"]
    user, recs = few_ratings_solution(run, data, other_split)
    with pytest.raises(CheckFailed, match="not trained and scored on"):
        ch04.check_few_ratings_recommendations(user, recs, run, split, data)
    top = everyones_top_solution(run, data)
    with pytest.raises(CheckFailed, match="not trained and scored on"):
        ch04.check_overlap(overlap_solution(recs, top), top, recs, run, split, data)


def test_overlap_check_accepts_everyones_top_as_a_set_a_list_or_floats(setup, models, capsys):
    data, split = setup
    run = models[0]["I-AutoRec"]
    user, recs = few_ratings_solution(run, data, split)
    top = everyones_top_solution(run, data)
    right = overlap_solution(recs, top)
    for typed in (set(top.tolist()), frozenset(top.tolist()), top[::-1].tolist(), top.astype(float), pd.Series(top)):
        ch04.check_overlap(right, typed, recs, run, split, data)
    assert capsys.readouterr().out.count("correct:") == 5
    with pytest.raises(CheckFailed, match="10 entries|should have 10"):
        ch04.check_overlap(right, set(top[:9].tolist()), recs, run, split, data)


def test_few_ratings_check_accepts_whole_number_float_ids_and_refuses_fractions(setup, models, capsys):
    data, split = setup
    run = models[0]["I-AutoRec"]
    user, recs = few_ratings_solution(run, data, split)
    as_floats = recs.assign(item_id=recs["item_id"].astype(float))
    ch04.check_few_ratings_recommendations(user, as_floats, run, split, data)
    top = everyones_top_solution(run, data)
    ch04.check_overlap(overlap_solution(recs, top), top, as_floats, run, split, data)
    assert capsys.readouterr().out.count("correct:") == 2
    with pytest.raises(CheckFailed, match="whole numbers"):
        ch04.check_few_ratings_recommendations(user, recs.assign(item_id=recs["item_id"] + 0.5), run, split, data)
    with pytest.raises(CheckFailed, match="should hold numbers"):
        ch04.check_few_ratings_recommendations(user, recs.assign(item_id=recs["title"]), run, split, data)


def test_overlap_check_rejects_a_guessed_count_and_a_wrong_top_10(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    user, recs = few_ratings_solution(run, data, split)
    top = everyones_top_solution(run, data)
    right = overlap_solution(recs, top)
    for guess in set(range(11)) - {right}:  # every wrong count, with the right top 10
        with pytest.raises(CheckFailed, match="not the number of movies in both"):
            ch04.check_overlap(guess, top, recs, run, split, data)
    with pytest.raises(CheckFailed, match="whole number"):
        ch04.check_overlap(right / 10, top, recs, run, split, data)
    user0_list = run.trained().recommend(int(data.user_ids[0]), n=10)["item_id"].to_numpy()
    assert set(user0_list) != set(top)
    for wrong_top in (user0_list, recs["item_id"].to_numpy()):  # a user's list for everyone's, any count
        for count in range(11):
            with pytest.raises(CheckFailed, match="highest mean predicted rating"):
                ch04.check_overlap(count, wrong_top, recs, run, split, data)


def test_overlap_check_names_indices_given_for_movielens_ids(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    user, recs = few_ratings_solution(run, data, split)
    top = everyones_top_solution(run, data)
    as_indices = np.searchsorted(data.item_ids, top)
    assert not np.array_equal(as_indices, top)
    with pytest.raises(CheckFailed, match="indices"):
        ch04.check_overlap(overlap_solution(recs, top), as_indices, recs, run, split, data)
    with pytest.raises(CheckFailed, match="10 entries|should have 10"):
        ch04.check_overlap(overlap_solution(recs, top), top[:9], recs, run, split, data)


# --------------------------------------------------------------------------------------------
# Exercise 4: movies with fewer than 10 training ratings, on the validation split
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
def test_rare_movies_solution_passes_on_the_notebooks_seed_and_five_unseen_ones(setup, models, seed, capsys):
    data, split = setup
    results = models[seed]
    ch04.check_rare_movies(*rare_solution(results, split, data), results, split, data)
    assert capsys.readouterr().out.startswith("correct:")


def test_rare_movies_accepts_the_subset_in_another_order_and_numpy_rmses(setup, models, capsys):
    data, split = setup
    results = models[0]
    subset, rare = rare_solution(results, split, data)
    shuffled = subset.sample(frac=1.0, random_state=0).reset_index(drop=True)[["item", "user", "rating"]]
    ch04.check_rare_movies(shuffled, {k: np.float32(v) for k, v in rare.items()}, results, split, data)
    assert capsys.readouterr().out.startswith("correct:")


def _subset(split, data, counts_from, keep):
    counts = np.bincount(counts_from["item"], minlength=data.n_items)
    return split.valid[keep(counts[split.valid["item"].to_numpy()])]


@pytest.mark.parametrize("mistake, match", [
    ("at most 10", "not <= 10"),
    ("counted on all ratings", "ratings in split.train"),
    ("counted on train and validation", "training ratings only"),
    ("movies without training ratings left out", "no training rating at all"),
    ("whole validation split", "keep only"),
])
def test_rare_movies_check_rejects_a_wrongly_built_subset(setup, models, mistake, match):
    data, split = setup
    results = models[0]
    subsets = {
        "at most 10": _subset(split, data, split.train, lambda c: c <= 10),
        "counted on all ratings": _subset(split, data, data.ratings, lambda c: c < 10),
        "counted on train and validation": _subset(split, data, pd.concat([split.train, split.valid]),
                                                   lambda c: c < 10),
        "movies without training ratings left out": _subset(split, data, split.train, lambda c: (c < 10) & (c > 0)),
        "whole validation split": split.valid,
    }
    right, _ = rare_solution(results, split, data)
    wrong, rare = rare_solution(results, split, data, subsets[mistake])
    assert len(wrong) != len(right)  # the mistake matters on this data
    with pytest.raises(CheckFailed, match=match) as failure:
        ch04.check_rare_movies(wrong, rare, results, split, data)
    assert_hides(str(failure.value), [len(right)])


def test_rare_movies_check_rejects_a_subset_of_the_right_size_but_other_ratings(setup, models):
    data, split = setup
    results = models[0]
    right, _ = rare_solution(results, split, data)
    other = split.valid.drop(right.index).head(1)  # a validation rating of a movie with many training ratings
    swapped = pd.concat([right.iloc[1:], other])
    wrong, rare = rare_solution(results, split, data, swapped)
    assert len(wrong) == len(right)
    with pytest.raises(CheckFailed, match="not the right subset"):
        ch04.check_rare_movies(wrong, rare, results, split, data)


def test_rare_movies_check_rejects_the_test_split(setup, models):
    data, split = setup
    results = models[0]
    counts = np.bincount(split.train["item"], minlength=data.n_items)
    on_test, rare_test = rare_solution(results, split, data, split.test[counts[split.test["item"]] < 10])
    with pytest.raises(CheckFailed, match="not in split.valid"):
        ch04.check_rare_movies(on_test, rare_test, results, split, data)
    subset, right = rare_solution(results, split, data)
    with pytest.raises(CheckFailed, match="not on test") as failure:  # the right subset, scored on test
        ch04.check_rare_movies(subset, {**right, "I-AutoRec": rare_test["I-AutoRec"]}, results, split, data)
    assert_hides(str(failure.value), [right["I-AutoRec"]])


def test_rare_movies_check_rejects_swapped_labels_and_swapped_models(setup, models):
    data, split = setup
    results = models[0]
    subset, right = rare_solution(results, split, data)
    assert abs(right["I-AutoRec"] - right["biased MF"]) > 1e-4
    swapped = {"I-AutoRec": right["biased MF"], "biased MF": right["I-AutoRec"]}
    with pytest.raises(CheckFailed, match="swapped"):
        ch04.check_rare_movies(subset, swapped, results, split, data)
    with pytest.raises(CheckFailed, match="I-AutoRec"):
        ch04.check_rare_movies(subset, right, {"I-AutoRec": results["biased MF"], "biased MF": results["I-AutoRec"]},
                               split, data)


def test_rare_movies_check_rejects_runs_of_another_split(setup, models):
    data, split = setup
    results = models[0]
    subset, rare = rare_solution(results, split, data)
    other = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=7)
    moved = {**results, "biased MF": experiment.train(data, other, "biased-mf", progress=False)}
    with pytest.raises(CheckFailed, match="not trained and scored on"):
        ch04.check_rare_movies(subset, rare, moved, split, data)


@pytest.mark.parametrize("model", ["I-AutoRec", "biased MF"])
@pytest.mark.parametrize("why", list(WHY_NOT))
def test_rare_movies_check_refuses_a_run_that_is_not_the_courses(setup, models, not_the_course, model, why):
    data, split = setup
    results = {**models[0], model: not_the_course[model][why]}
    with pytest.raises(CheckFailed, match=f"results\\['{model}'\\].*{WHY_NOT[why]}"):
        ch04.check_rare_movies(*rare_solution(results, split, data), results, split, data)


def test_rare_movies_check_says_a_rounded_rmse_is_rounded(setup, models):
    data, split = setup
    results = models[0]
    subset, right = rare_solution(results, split, data)
    for digits in (3, 4):
        with pytest.raises(CheckFailed, match="unrounded") as failure:
            ch04.check_rare_movies(subset, {**right, "biased MF": round(right["biased MF"], digits)}, results,
                                   split, data)
        assert "as the course scores it" not in str(failure.value)
        assert_hides(str(failure.value), [right["biased MF"]])


def test_rare_movies_check_rejects_wrong_types_keys_and_duplicates(setup, models):
    data, split = setup
    results = models[0]
    subset, right = rare_solution(results, split, data)
    with pytest.raises(CheckFailed, match="lacks the key"):
        ch04.check_rare_movies(subset, {"I-AutoRec": right["I-AutoRec"]}, results, split, data)
    with pytest.raises(CheckFailed, match="should be a number"):
        ch04.check_rare_movies(subset, {**right, "I-AutoRec": f"{right['I-AutoRec']:.4f}"}, results, split, data)
    with pytest.raises(CheckFailed, match="DataFrame"):
        ch04.check_rare_movies(len(subset), right, results, split, data)
    with pytest.raises(CheckFailed, match="twice"):
        ch04.check_rare_movies(pd.concat([subset, subset.head(1)]), right, results, split, data)
