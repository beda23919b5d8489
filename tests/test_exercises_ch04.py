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

def like_ml100k(folder, rare: int, keep: int = 1) -> None:
    """Make ``folder``'s synthetic files more like ML-100K's: movie ids 1, 2, ... (so that a movie index, one
    less, is mostly some other movie's id), and the first ``rare`` movies with only ``keep`` rating(s)."""
    lines, seen = [], {}
    for line in (folder / "u.data").read_text().splitlines():
        user, item, rest = line.split("\t", 2)
        index = int(item) - 100
        seen[index] = seen.get(index, 0) + 1
        if index >= rare or seen[index] <= keep:
            lines.append(f"{user}\t{index + 1}\t{rest}")
    (folder / "u.data").write_text("\n".join(lines) + "\n")
    movies = (folder / "u.item").read_text(encoding="latin-1").splitlines()
    (folder / "u.item").write_text("".join(f"{int(m.split('|', 1)[0]) - 99}|{m.split('|', 1)[1]}\n" for m in movies),
                                   encoding="latin-1")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """Synthetic data and the notebook's random split of it (make_split, as the checks require), in which
    a movie with validation ratings has no training rating: a few movies have a single rating, and the
    split's seed is the first that puts one of them in the validation part."""
    folder = write_ml100k(tmp_path_factory.mktemp("ch04") / "ml-100k", n_users=60, n_items=50, density=0.25, seed=1)
    like_ml100k(folder, rare=6)
    data = datasets.load("ml-100k", folder)
    for seed in range(50):
        split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=seed)
        if not split.valid["item"].isin(split.train["item"]).all():
            return data, split
    raise AssertionError("no split seed puts a movie without training ratings in the validation part")


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

def reconstruct(run, ratings, data):
    """The network fed every movie row of ``ratings`` (the notebook's solution feeds split.train)."""
    net = run.learner.model
    device = next(net.parameters()).device
    matrix = RatingMatrix(ratings, data.n_users, data.n_items, "item")
    net.eval()
    with torch.no_grad():
        return net(torch.from_numpy(matrix.dense(np.arange(data.n_items))[0]).to(device)).cpu().numpy()


def read_off(r_hat, split, data):
    """The notebook's solution: each validation pair read off the reconstruction, clipped, unseen -> default."""
    users, items = split.valid["user"].to_numpy(), split.valid["item"].to_numpy()
    pred = np.clip(r_hat[items, users], *data.scale)
    unseen = ~np.isin(items, split.train["item"]) | ~np.isin(users, split.train["user"])
    pred[unseen] = metrics.DEFAULT_RATING
    return pred


def prediction_solution(run, split, data):
    """The notebook's solution: (reconstruction, valid_pred, my_valid_rmse)."""
    r_hat = reconstruct(run, split.train, data)
    pred = read_off(r_hat, split, data)
    return r_hat, pred, rmse(pred, split)


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


def overlap_solution(recs, top) -> set:
    """The notebook's few_shared: the MovieLens ids in both lists."""
    return set(recs["item_id"]) & set(top)


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
    assert not split.valid["item"].isin(split.train["item"]).all()  # some prediction is the default rating
    run = models[seed]["I-AutoRec"]
    ch04.check_prediction_step(*prediction_solution(run, split, data), run, split, data)
    assert capsys.readouterr().out.startswith("correct:")


def test_prediction_step_accepts_other_types_a_clipped_reconstruction_and_the_learners_reconstruct(setup, models,
                                                                                                  capsys):
    data, split = setup
    run = models[0]["I-AutoRec"]
    r_hat, pred, valid_rmse = prediction_solution(run, split, data)
    ch04.check_prediction_step(torch.from_numpy(r_hat), torch.from_numpy(pred).float(), torch.tensor(valid_rmse),
                               run, split, data)
    ch04.check_prediction_step(r_hat.tolist(), pred.astype(np.float32).tolist(), np.float32(valid_rmse), run, split,
                               data)
    ch04.check_prediction_step(np.clip(r_hat, *data.scale), pd.Series(pred), valid_rmse, run, split, data)
    # the learner's own reconstruct is the same step on the same rows (and the library's predictions the
    # same numbers): what the check asks for is the reconstruction they come from, however it was run
    library, _ = metrics.predict_with_default(run.learner.predict, split.valid, split.train, data.scale)
    ch04.check_prediction_step(run.learner.reconstruct(np.arange(data.n_items)), library, rmse(library, split), run,
                               split, data)
    assert capsys.readouterr().out.count("correct:") == 4


def test_prediction_step_asks_for_the_reconstruction_the_predictions_are_read_off(setup, models):
    """The library's own scoring (metrics.predict_with_default, run.scores['valid']) gives the right numbers
    without the step; the reconstruction of the training rows is what shows the step was taken."""
    data, split = setup
    run = models[0]["I-AutoRec"]
    library, _ = metrics.predict_with_default(run.learner.predict, split.valid, split.train, data.scale)
    stored = run.scores["valid"].rmse
    for reconstruction, match in ((None, "array of numbers|should hold numbers"),
                                  (np.zeros((data.n_items, data.n_users)), "not the trained network's output"),
                                  (library, "2 dimension"),
                                  (np.full((data.n_items, data.n_users), data.scale[1]), "not the trained network")):
        with pytest.raises(CheckFailed, match=match):
            ch04.check_prediction_step(reconstruction, library, stored, run, split, data)


def test_prediction_step_rejects_a_reconstruction_of_other_rows_or_another_network(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    r_hat, _, right_rmse = prediction_solution(run, split, data)
    leaky = reconstruct(run, pd.concat([split.train, split.valid]), data)  # validation ratings in the input
    torch.manual_seed(99)
    fresh = AutoRec(n_inputs=data.n_users, hidden=500)
    matrix = RatingMatrix(split.train, data.n_users, data.n_items, "item")
    with torch.no_grad():
        untrained = fresh(torch.from_numpy(matrix.dense(np.arange(data.n_items))[0])).numpy()
    for wrong, match in ((leaky, "TRAINING ratings alone"), (untrained, "not the trained network's output"),
                         (r_hat[::-1], "not the trained network's output")):  # the rows in another order
        assert not np.allclose(wrong, r_hat, atol=1e-3)
        pred = read_off(wrong, split, data)
        with pytest.raises(CheckFailed, match=match) as failure:
            ch04.check_prediction_step(wrong, pred, rmse(pred, split), run, split, data)
        assert_hides(str(failure.value), [right_rmse])
    with pytest.raises(CheckFailed, match="a row per user") as failure:
        ch04.check_prediction_step(r_hat.T, read_off(r_hat, split, data), right_rmse, run, split, data)
    with pytest.raises(CheckFailed, match="shape"):
        ch04.check_prediction_step(r_hat[:-1], read_off(r_hat, split, data), right_rmse, run, split, data)


def wrong_predictions(r_hat, split, data, mistake: str) -> np.ndarray:
    """Predictions read off the right reconstruction ``r_hat`` with one slip a learner could make."""
    pred = read_off(r_hat, split, data)
    users, items = split.valid["user"].to_numpy(), split.valid["item"].to_numpy()
    unseen = ~np.isin(items, split.train["item"])
    if mistake == "no default":
        pred[unseen] = np.clip(r_hat[items[unseen], users[unseen]], *data.scale)  # the empty row's reconstruction
    elif mistake == "transposed":
        both_in = (users < data.n_items) & (items < data.n_users)
        pred[both_in] = np.clip(r_hat[users[both_in], items[both_in]], *data.scale)
    elif mistake == "another order":
        pred = pred[np.argsort(items, kind="stable")]
    elif mistake == "another user's column":
        pred[~unseen] = np.clip(r_hat[items, (users + 1) % data.n_users], *data.scale)[~unseen]
    return pred


@pytest.mark.parametrize("mistake, match", [
    ("no default", "default rating"),
    ("transposed", "transposed"),
    ("another order", "order of split.valid"),
    ("another user's column", "not read off your reconstruction"),
])
def test_prediction_step_rejects_a_wrong_read_of_the_reconstruction(setup, models, mistake, match):
    data, split = setup
    run = models[0]["I-AutoRec"]
    r_hat, right, right_rmse = prediction_solution(run, split, data)
    wrong = wrong_predictions(r_hat, split, data, mistake)
    assert not np.allclose(wrong, right, atol=1e-3)  # the slip matters on this data
    with pytest.raises(CheckFailed, match=match) as failure:
        ch04.check_prediction_step(r_hat, wrong, rmse(wrong, split), run, split, data)
    assert_hides(str(failure.value), [right_rmse])


def test_prediction_step_rejects_unclipped_predictions(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    r_hat, pred, _ = prediction_solution(run, split, data)
    unclipped = pred.copy()
    unclipped[np.argmax(pred)] = data.scale[1] + 0.3  # a raw output above 5 stars, left as it was
    with pytest.raises(CheckFailed, match="clips"):
        ch04.check_prediction_step(r_hat, unclipped, rmse(unclipped, split), run, split, data)


def test_prediction_step_rejects_another_part_of_the_split(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    r_hat, pred, _ = prediction_solution(run, split, data)
    on_test, _ = metrics.predict_with_default(run.learner.predict, split.test, split.train, data.scale)
    assert len(split.test) != len(split.valid)
    with pytest.raises(CheckFailed, match="one prediction per validation rating"):
        ch04.check_prediction_step(r_hat, on_test, 1.0, run, split, data)
    with pytest.raises(CheckFailed, match="TEST RMSE"):
        ch04.check_prediction_step(r_hat, pred, run.scores["test"].rmse, run, split, data)


def test_prediction_step_rejects_the_mae_the_mse_and_a_rounded_rmse(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    r_hat, pred, right = prediction_solution(run, split, data)
    errors = pred - split.valid["rating"].to_numpy()
    for wrong, match in ((np.abs(errors).mean(), "MAE"), (right ** 2, "square root"),
                         (round(right, 3), "unrounded"), (round(right, 4), "unrounded"),
                         (np.float32(round(right, 4)), "unrounded"),
                         (round(right, 1), "not the RMSE of your valid_pred"),  # says nothing of a guessed digit
                         (right + 0.0137, "not the RMSE of your valid_pred")):
        with pytest.raises(CheckFailed, match=match) as failure:
            ch04.check_prediction_step(r_hat, pred, wrong, run, split, data)
        assert_hides(str(failure.value), [right])


def test_prediction_step_names_no_test_score_a_run_does_not_have(setup, models):
    """A wrong RMSE is refused by name even when the run holds no test score (it is not looked up eagerly)."""
    data, split = setup
    run = models[0]["I-AutoRec"]
    no_test = dataclasses.replace(run, scores={"valid": run.scores["valid"]})
    r_hat, pred, right = prediction_solution(no_test, split, data)
    with pytest.raises(CheckFailed, match="not the RMSE of your valid_pred"):
        ch04.check_prediction_step(r_hat, pred, right + 0.0137, no_test, split, data)


def test_prediction_step_rejects_a_run_of_another_model_settings_or_split(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    r_hat, pred, value = prediction_solution(run, split, data)
    user = experiment.train(data, split, "autorec", "user", progress=False, epochs=2)
    with pytest.raises(CheckFailed, match="I-AutoRec"):
        ch04.check_prediction_step(r_hat, pred, value, user, split, data)
    small = experiment.train(data, split, "autorec", "item", progress=False, hidden=20)
    with pytest.raises(CheckFailed, match="not the course's I-AutoRec model"):
        ch04.check_prediction_step(*prediction_solution(small, split, data), small, split, data)
    short = experiment.train(data, split, "autorec", "item", progress=False, epochs=3)
    with pytest.raises(CheckFailed, match="epochs"):
        ch04.check_prediction_step(*prediction_solution(short, split, data), short, split, data)
    other = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=7)
    with pytest.raises(CheckFailed, match="not trained on the 'random' split you passed"):
        ch04.check_prediction_step(*prediction_solution(run, other, data), run, other, data)
    with pytest.raises(CheckFailed, match="Result"):
        ch04.check_prediction_step(r_hat, pred, value, run.learner, split, data)


@pytest.mark.parametrize("why", list(WHY_NOT))
def test_prediction_step_refuses_an_i_autorec_that_is_not_the_courses(setup, not_the_course, why):
    data, split = setup
    run = not_the_course["I-AutoRec"][why]
    with pytest.raises(CheckFailed, match=WHY_NOT[why]):
        ch04.check_prediction_step(*prediction_solution(run, split, data), run, split, data)


def test_prediction_step_says_a_run_trained_further_after_train_returned_it_changed(setup, models):
    data, split = setup
    further = experiment.train(data, split, "autorec", "item", progress=False)
    further.learner.train_epoch(np.random.default_rng(0))  # one more epoch, after its scores were stored
    with pytest.raises(CheckFailed, match="trained further") as failure:
        ch04.check_prediction_step(*prediction_solution(further, split, data), further, split, data)
    assert "not trained on" not in str(failure.value)


def test_prediction_step_rejects_wrong_types(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    r_hat, pred, value = prediction_solution(run, split, data)
    with pytest.raises(CheckFailed, match="dimension"):
        ch04.check_prediction_step(r_hat, pred[:, None], value, run, split, data)
    with pytest.raises(CheckFailed, match="number"):
        ch04.check_prediction_step(r_hat, pred, f"{value:.4f}", run, split, data)
    with pytest.raises(CheckFailed, match="NaN"):
        ch04.check_prediction_step(r_hat, np.where(np.arange(len(pred)) == 0, np.nan, pred), value, run, split, data)


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
    with pytest.raises(CheckFailed, match="scores changed"):
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


def test_rprop_check_accepts_values_typed_as_float32(setup, models, capsys):
    """A column (or one cell) typed as float32 still holds the Result's values, to float32's 7 digits."""
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    table = optimizer_table(adam, rprop)
    tables = [table.astype(np.float32), table.astype({"valid RMSE": np.float32}),
              table.astype({"train seconds": np.float32})]
    cell = table.astype(object)
    cell.loc["Adam", "valid RMSE"] = torch.tensor(table.loc["Adam", "valid RMSE"], dtype=torch.float32)
    for typed in (*tables, cell):
        ch04.check_rprop(rprop, typed, adam, split, data)
    assert capsys.readouterr().out.count("correct:") == 4


def test_rprop_check_says_a_rounded_value_is_rounded(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    table = optimizer_table(adam, rprop)
    for digits in (3, 4):
        with pytest.raises(CheckFailed, match="is rounded") as failure:
            ch04.check_rprop(rprop, table.round(digits), adam, split, data)
        assert_hides(str(failure.value), [table.loc["Adam", "valid RMSE"], table.loc["Adam", "train seconds"]])


def test_rprop_check_names_no_test_score_a_run_does_not_have(setup, models):
    data, split = setup
    adam, rprop = models[0]["I-AutoRec"], models[0]["Rprop"]
    no_test = dataclasses.replace(rprop, scores={"valid": rprop.scores["valid"]})
    table = optimizer_table(adam, no_test)
    table.loc["Rprop", "valid RMSE"] += 0.0137
    with pytest.raises(CheckFailed, match="own Result"):
        ch04.check_rprop(no_test, table, adam, split, data)


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
    table = np.random.default_rng(0).uniform(0.0, 5.3, size=(data.n_users, data.n_items))
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
    rated = split.train.loc[split.train["user"] == user, "item"].to_numpy()
    run.learner.table[user, rated] = 4.99  # predicted high, so that a list over every movie includes them
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
    with pytest.raises(CheckFailed, match="not trained on the 'random' split"):
        ch04.check_few_ratings_recommendations(user, recs, run, split, data)
    top = everyones_top_solution(run, data)
    with pytest.raises(CheckFailed, match="not trained on the 'random' split"):
        ch04.check_overlap(overlap_solution(recs, top), top, recs, run, split, data)


def overlap_case(setup, models):
    """Exercise 3's answers for the seed-0 run: (data, split, run, few_recs, everyones_top, few_shared)."""
    data, split = setup
    run = models[0]["I-AutoRec"]
    _, recs = few_ratings_solution(run, data, split)
    top = everyones_top_solution(run, data)
    return data, split, run, recs, top, overlap_solution(recs, top)


def test_overlap_check_accepts_everyones_top_as_a_set_a_list_or_floats(setup, models, capsys):
    data, split, run, recs, top, right = overlap_case(setup, models)
    for typed in (set(top.tolist()), frozenset(top.tolist()), top[::-1].tolist(), top.astype(float), pd.Series(top)):
        ch04.check_overlap(right, typed, recs, run, split, data)
    assert capsys.readouterr().out.count("correct:") == 5
    with pytest.raises(CheckFailed, match="10 entries|should have 10"):
        ch04.check_overlap(right, set(top[:9].tolist()), recs, run, split, data)


def test_few_ratings_check_accepts_scores_rounded_as_section_4_4_shows_them(setup, models, capsys):
    data, split = setup
    run = models[0]["I-AutoRec"]
    user, recs = few_ratings_solution(run, data, split)
    ch04.check_few_ratings_recommendations(user, recs.round(3), run, split, data)
    ch04.check_few_ratings_recommendations(user, recs.round(4), run, split, data)
    assert capsys.readouterr().out.count("correct:") == 2
    coarse = recs.round(1)
    assert not np.allclose(coarse["score"], recs["score"], atol=ch04.SCORE_TOL)
    with pytest.raises(CheckFailed, match="fewer than 3 decimals"):
        ch04.check_few_ratings_recommendations(user, coarse, run, split, data)


def test_few_ratings_check_names_movie_indices_given_as_movielens_ids(setup, models):
    data, split = setup
    run = models[0]["I-AutoRec"]
    user, recs = few_ratings_solution(run, data, split)
    indices = np.searchsorted(data.item_ids, recs["item_id"])
    assert np.isin(indices, data.item_ids).mean() > 0.5  # most indices are some other movie's id, as in ML-100K
    as_ids = recs.assign(item_id=indices)
    with pytest.raises(CheckFailed, match="indices") as failure:
        ch04.check_few_ratings_recommendations(user, as_ids, run, split, data)
    assert "already rated" not in str(failure.value)
    # and when no index is 0 (no movie has id 0), by the scores: the list read as ids scores otherwise
    seen = np.flatnonzero(np.isin(np.arange(data.n_items), split.train["item"]))
    counts = np.bincount(split.train["user"], minlength=data.n_users)
    for other in np.argsort(counts, kind="stable"):
        picks = metrics.recommend(run.learner.predict, int(other), split.train, data.n_items, data.titles,
                                  data.item_ids, 10, data.scale)
        if counts[other] == counts.min() and not (picks["item"] == 0).any():
            break
    else:
        pytest.skip("every user with the fewest ratings has movie index 0 in their list")
    by_index = pd.DataFrame({"item_id": picks["item"].to_numpy(), "score": picks["score"].to_numpy()})
    assert len(seen) and by_index["item_id"].isin(data.item_ids).all()
    with pytest.raises(CheckFailed, match="holds movie indices, not MovieLens ids"):
        ch04.check_few_ratings_recommendations(int(other), by_index, run, split, data)


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


def test_overlap_check_asks_for_the_shared_ids_and_refuses_a_count(setup, models):
    """A count (one of 11 values) could be found by trying; the shared ids are what the check asks for."""
    data, split, run, recs, top, right = overlap_case(setup, models)
    for count in (len(right), float(len(right)), np.int64(len(right)), torch.tensor(len(right))):
        with pytest.raises(CheckFailed, match="not .* the check counts them itself"):
            ch04.check_overlap(count, top, recs, run, split, data)


def test_overlap_check_accepts_the_shared_ids_typed_any_way(setup, models, capsys):
    data, split, run, recs, top, right = overlap_case(setup, models)
    typed = (right, frozenset(right), sorted(right), np.array(sorted(right)), np.array(sorted(right), float),
             pd.Series(sorted(right), dtype="int64"), torch.tensor(sorted(right)))
    for shared in typed:
        ch04.check_overlap(shared, top, recs, run, split, data)
    assert capsys.readouterr().out.count("correct:") == len(typed)


def test_overlap_check_accepts_no_shared_movie_when_there_is_none(setup, models, capsys):
    data, split = setup
    run = models[0]["I-AutoRec"]
    top = everyones_top_solution(run, data)
    apart = pd.DataFrame({"item_id": np.setdiff1d(data.item_ids, top)[:10], "score": np.linspace(5, 4, 10)})
    for empty in (set(), [], np.array([], dtype=np.int64)):  # a list that shares none with everyone's top 10
        ch04.check_overlap(empty, top, apart, run, split, data)
    assert capsys.readouterr().out.count("correct:") == 3


def test_overlap_check_rejects_wrong_shared_ids_and_a_wrong_top_10(setup, models):
    data, split, run, recs, top, right = overlap_case(setup, models)
    few = set(recs["item_id"].tolist())
    assert right and few - right and set(top.tolist()) - right  # each wrong set below differs from the right one
    for wrong, match in ((right - {min(right)}, "leaves out"),
                         (right | {min(few - right)}, "not in everyones_top"),
                         (right | {min(set(top.tolist()) - right)}, "not in few_recs"),
                         (np.searchsorted(data.item_ids, sorted(right)), "not in"),  # indices, not ids
                         ([*sorted(right), min(right)], "twice")):
        with pytest.raises(CheckFailed, match=match) as failure:
            ch04.check_overlap(wrong, top, recs, run, split, data)
        assert_hides(str(failure.value), [len(right)])
    user0_list = run.trained().recommend(int(data.user_ids[0]), n=10)["item_id"].to_numpy()
    assert set(user0_list) != set(top)
    for wrong_top in (user0_list, recs["item_id"].to_numpy()):  # a user's list for everyone's
        with pytest.raises(CheckFailed, match="highest mean predicted rating"):
            ch04.check_overlap(overlap_solution(recs, wrong_top), wrong_top, recs, run, split, data)


def test_overlap_check_names_indices_given_for_movielens_ids(setup, models):
    data, split, run, recs, top, _ = overlap_case(setup, models)
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
    with pytest.raises(CheckFailed, match="not trained on the 'random' split"):
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


# --------------------------------------------------------------------------------------------
# Every check: the notebook's split, as make_split made it, and runs trained on it
# --------------------------------------------------------------------------------------------

def all_checks(results, split, data):
    """Each check of the chapter called with the reference answers computed on ``split`` from ``results``."""
    run = results["I-AutoRec"]
    user, recs = few_ratings_solution(run, data, split)
    top = everyones_top_solution(run, data)
    return {
        "prediction step": lambda: ch04.check_prediction_step(*prediction_solution(run, split, data), run, split,
                                                              data),
        "rprop": lambda: ch04.check_rprop(results["Rprop"], optimizer_table(run, results["Rprop"]), run, split, data),
        "few ratings": lambda: ch04.check_few_ratings_recommendations(user, recs, run, split, data),
        "overlap": lambda: ch04.check_overlap(overlap_solution(recs, top), top, recs, run, split, data),
        "rare movies": lambda: ch04.check_rare_movies(*rare_solution(results, split, data), results, split, data),
    }


def train_all(data, split):
    return {"I-AutoRec": experiment.train(data, split, "autorec", "item", progress=False),
            "biased MF": experiment.train(data, split, "biased-mf", progress=False),
            "Rprop": rprop_solution(data, split)}


@pytest.fixture(scope="module")
def elsewhere(setup):
    """Splits that are not the notebook's, each with the course's runs trained on it (consistent with it)."""
    data, split = setup
    made = {
        "holdout": (splits.make_split(data, "holdout", valid_fraction=0.1, seed=0), "'holdout'"),
        "a larger validation part": (splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.2,
                                                       seed=0), "valid_fraction=0.2"),
        "validation and test swapped": (dataclasses.replace(split, valid=split.test, test=split.valid),
                                        "replaced, swapped or edited"),
        "a split made by hand": (splits.Split(train=split.train, test=split.test, valid=split.valid, name="random"),
                                 "should be the Split that splits.make_split"),
    }
    return {name: (other, train_all(data, other), why) for name, (other, why) in made.items()}


CHECKS = ("prediction step", "rprop", "few ratings", "overlap", "rare movies")


@pytest.mark.parametrize("check", CHECKS)
@pytest.mark.parametrize("which", ["holdout", "a larger validation part", "validation and test swapped",
                                   "a split made by hand"])
def test_every_check_refuses_a_split_that_is_not_the_notebooks(setup, elsewhere, which, check):
    """Runs trained on another split, passed with that split: with the swapped one, early stopping chose on
    test ratings and the rare-movie subset would be built from them."""
    data, _ = setup
    other, results, why = elsewhere[which]
    with pytest.raises(CheckFailed, match=why):
        all_checks(results, other, data)[check]()


@pytest.mark.parametrize("check", CHECKS)
def test_every_check_refuses_a_split_without_its_test_part_by_name(setup, models, check):
    """The course's split with its test part dropped (the runs trained on the whole split): refused with a
    message, not a TypeError or KeyError from deep inside."""
    data, split = setup
    with pytest.raises(CheckFailed, match="test part"):
        all_checks(models[0], dataclasses.replace(split, test=None), data)[check]()


@pytest.mark.parametrize("check", CHECKS)
def test_every_check_refuses_ratings_edited_in_place(setup, models, check):
    data, split = setup
    edited = dataclasses.replace(data, ratings=data.ratings.assign(rating=data.ratings["rating"].clip(2, 5)))
    with pytest.raises(CheckFailed, match="changed in place"):
        all_checks(models[0], split, edited)[check]()


@pytest.mark.parametrize("check", CHECKS)
def test_every_check_passes_without_reading_a_test_rating(setup, models, check, capsys):
    """Every test rating replaced by NaN: each check still passes, so none reads them."""
    data, split = setup
    blind = dataclasses.replace(split, test=split.test.assign(rating=np.nan))
    all_checks(models[0], blind, data)[check]()
    assert capsys.readouterr().out.startswith("correct:")


def test_rounded_reads_the_value_alone():
    """ch04.rounded, behind every "looks rounded" message of chapters 4 to 9: it takes the learner's value
    only (an earlier version compared it with the expected value rounded, an oracle that gave the answer
    away digit by digit), calls 3 to 6 decimals rounded, typed as a float32 or not, and not a guess of
    fewer decimals nor an unrounded value."""
    import inspect

    assert list(inspect.signature(ch04.rounded).parameters) == ["value"]
    for value, digits in ((0.343696, 6), (0.3437, 4), (np.float32(0.3437), 4), (3.3127, 4), (0.123, 3),
                          (np.float32(2.40612), 5), (0.5, None), (0.01, None), (3.31, None), (1.0, None),
                          (0.3436961234, None), (np.float32(0.34369612), None), (float("nan"), None)):
        assert ch04.rounded(value) == digits, value
    rng = np.random.default_rng(0)
    unrounded = rng.uniform(0.5, 1.5, 2000)
    assert not any(ch04.rounded(v) for v in unrounded)  # float64: never
    flagged32 = np.mean([ch04.rounded(np.float32(v)) is not None for v in unrounded])
    assert flagged32 < 0.03  # float32: seldom (and only asked about a value already found wrong)
