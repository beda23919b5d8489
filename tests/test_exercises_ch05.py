"""Notebook 05's exercise checks: the reference solutions pass on five seeds the notebook never used,
the wrong answers a learner would plausibly give are rejected. Small synthetic data. Exercises 1, 2
and 4 need MXNet (``mxnet_backend``); exercise 3 (Rprop by hand) runs on both stacks."""
from __future__ import annotations

import dataclasses
import re
import time

import numpy as np
import pandas as pd
import pytest

from autorec_lib import experiment, splits
from autorec_lib.config import course_config
from autorec_lib.exercises import CheckFailed, ch05
from autorec_lib.matrix import RatingMatrix

UNSEEN_SEEDS = (11, 12, 13, 14, 15)  # the notebook's solutions use seed 0


@pytest.fixture
def small_split(small_data):
    return splits.make_split(small_data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)


# --------------------------------------------------------------------------------------------
# Exercise 1: hybridize()
# --------------------------------------------------------------------------------------------

PREDICTION = "within a factor of 2"  # the reference solution's


def hybridize_answer(mb, data, split, seed=0, hybridize=(True, False), same_start=True, epochs=(1, 1),
                     hybridize_after_training=False, hidden=None, rng_seeds=(0, 0), imperative_off=False,
                     imperative_layers_hybridized=False, cfg_changes=None, ratings=None):
    """The notebook's solution (timings included), with the knobs a learner could get wrong.
    ``imperative_off``: the imperative model comes from mb.build_model, hybridization then turned off;
    ``imperative_layers_hybridized``: the imperative model's layers (a child block) hybridized;
    ``cfg_changes``: TrainConfig fields changed for both; ``ratings``: the matrix's ratings (else split.train)."""
    import mxnet as mx

    item = course_config("autorec", "item")
    net = item.replace(**({"hidden": hidden} if hidden else {})).net
    options = {k: getattr(net, k) for k in ("hidden", "encoder", "decoder", "dropout")}
    cfg = dataclasses.replace(item.train, **(cfg_changes or {}))
    matrix = RatingMatrix(split.train if ratings is None else ratings, data.n_users, data.n_items, "item")
    ctx = mb.pick_context()
    mx.random.seed(seed)
    learners, seconds, start = [], [], None
    for hyb, n_epochs, rng_seed in zip(hybridize, epochs, rng_seeds):
        if imperative_off and not hyb:
            model = mb.build_model(dataclasses.replace(net, n_inputs=data.n_users))
            model.hybridize(active=False)
        else:
            model = mb.AutoRec(data.n_users, **options)
            model.initialize(ctx=ctx)
        if start is None or not same_start:
            start = mb.get_weights(model)
        mb.set_weights(model, start)
        if hyb and not hybridize_after_training:
            model.hybridize()
        if not hyb and imperative_layers_hybridized:
            model.layers.hybridize()
        learner = mb.AutoRecLearner(model, matrix, cfg, ctx)
        learner.reconstruct(np.arange(4))
        rng = np.random.default_rng(rng_seed)
        t0 = time.perf_counter()
        for _ in range(n_epochs):
            learner.train_epoch(rng)
        seconds.append(time.perf_counter() - t0)
        if hyb and hybridize_after_training:
            model.hybridize()
        learners.append(learner)
    times = {"hybridized": seconds[0], "imperative": seconds[1]}
    return learners[0], learners[1], times, seconds[1] / seconds[0], PREDICTION


@pytest.mark.parametrize("seed", UNSEEN_SEEDS)
def test_hybridize_reference_solution_passes(mxnet_backend, small_data, small_split, seed, capsys):
    ch05.check_hybridize(*hybridize_answer(mxnet_backend, small_data, small_split, seed), small_split, small_data)
    assert capsys.readouterr().out.startswith("correct:")


def test_hybridize_accepts_the_best_of_several_epochs(mxnet_backend, small_data, small_split):
    ch05.check_hybridize(*hybridize_answer(mxnet_backend, small_data, small_split, epochs=(3, 3)), small_split,
                         small_data)


def test_hybridize_accepts_a_built_model_with_hybridization_turned_off(mxnet_backend, small_data, small_split):
    ch05.check_hybridize(*hybridize_answer(mxnet_backend, small_data, small_split, imperative_off=True), small_split,
                         small_data)


@pytest.mark.parametrize("changes", [{"epochs": 1}, {"seed": 1}, {"device": "cpu"}, {"patience": 3},
                                     {"inputs": "dense"}])
def test_hybridize_accepts_settings_an_epoch_does_not_read(mxnet_backend, small_data, small_split, changes, capsys):
    ch05.check_hybridize(*hybridize_answer(mxnet_backend, small_data, small_split, cfg_changes=changes), small_split,
                         small_data)
    assert capsys.readouterr().out.startswith("correct:")


@pytest.mark.parametrize("changes", [{"lr": 1e-2}, {"lam": 1.0}, {"batch_size": 8}, {"optimizer": "sgd"}])
def test_hybridize_rejects_settings_an_epoch_reads(mxnet_backend, small_data, small_split, changes):
    with pytest.raises(CheckFailed, match=f"settings other than the course's \\({next(iter(changes))}\\)"):
        ch05.check_hybridize(*hybridize_answer(mxnet_backend, small_data, small_split, cfg_changes=changes),
                             small_split, small_data)


@pytest.mark.parametrize("part", ["train+valid", "valid", "all"])
def test_hybridize_rejects_learners_trained_on_other_ratings(mxnet_backend, small_data, small_split, part):
    ratings = {"train+valid": pd.concat([small_split.train, small_split.valid]), "valid": small_split.valid,
               "all": small_data.ratings}[part]
    answer = hybridize_answer(mxnet_backend, small_data, small_split, ratings=ratings)
    with pytest.raises(CheckFailed, match="not trained on the training ratings of the split you passed"):
        ch05.check_hybridize(*answer, small_split, small_data)


def test_hybridize_rejects_a_split_other_than_the_one_its_spec_makes(mxnet_backend, small_data, small_split):
    answer = hybridize_answer(mxnet_backend, small_data, small_split)
    swapped = dataclasses.replace(small_split, valid=small_split.test, test=small_split.valid)
    with pytest.raises(CheckFailed, match="valid and test parts are not what splits.make_split makes"):
        ch05.check_hybridize(*answer, swapped, small_data)
    with pytest.raises(CheckFailed, match="should be the Split that splits.make_split"):
        ch05.check_hybridize(*answer, dataclasses.replace(small_split, spec=None), small_data)


def test_hybridize_accepts_a_speedup_rounded_as_printed(mxnet_backend, small_data, small_split, capsys):
    hybridized, imperative, _, _, prediction = hybridize_answer(mxnet_backend, small_data, small_split)
    seconds = {"hybridized": 0.5, "imperative": 0.6137}
    ch05.check_hybridize(hybridized, imperative, seconds, round(0.6137 / 0.5, 2), prediction, small_split, small_data)
    assert capsys.readouterr().out.startswith("correct:")
    with pytest.raises(CheckFailed, match="not the ratio"):
        ch05.check_hybridize(hybridized, imperative, seconds, round(0.6137 / 0.5, 1), prediction, small_split,
                             small_data)


@pytest.mark.parametrize("prediction", ["faster", "within a factor of two", 1.5, None, ch05.PREDICTIONS])
def test_hybridize_rejects_a_prediction_that_is_not_one_of_the_choices(mxnet_backend, small_data, small_split,
                                                                        prediction):
    hybridized, imperative, seconds, speedup, _ = hybridize_answer(mxnet_backend, small_data, small_split)
    with pytest.raises(CheckFailed, match="choose one of"):
        ch05.check_hybridize(hybridized, imperative, seconds, speedup, prediction, small_split, small_data)


def test_hybridize_reports_a_prediction_the_measurement_does_not_bear_out(mxnet_backend, small_data,
                                                                          small_split, capsys):
    hybridized, imperative, _, _, _ = hybridize_answer(mxnet_backend, small_data, small_split)
    seconds = {"hybridized": 0.5, "imperative": 0.6}  # fixed: a speed-up of 1.2
    ch05.check_hybridize(hybridized, imperative, seconds, 1.2, "hybridized at least 2x faster", small_split, small_data)
    out = capsys.readouterr().out
    assert out.startswith("correct:") and "within a factor of 2, you predicted" in out


def test_hybridize_rejects_two_hybridized_models(mxnet_backend, small_data, small_split):
    answer = hybridize_answer(mxnet_backend, small_data, small_split, hybridize=(True, True))
    with pytest.raises(CheckFailed, match="`imperative` is hybridized too.*build, train and time both again"):
        ch05.check_hybridize(*answer, small_split, small_data)


def test_hybridize_rejects_swapped_learners(mxnet_backend, small_data, small_split):
    hybridized, imperative, seconds, speedup, prediction = hybridize_answer(mxnet_backend, small_data,
                                                                            small_split)
    with pytest.raises(CheckFailed, match="no compiled graph now"):
        ch05.check_hybridize(imperative, hybridized, seconds, speedup, prediction, small_split, small_data)


def test_hybridize_rejects_an_imperative_model_whose_layers_are_hybridized(mxnet_backend, small_data, small_split):
    answer = hybridize_answer(mxnet_backend, small_data, small_split, imperative_layers_hybridized=True)
    with pytest.raises(CheckFailed, match="`imperative` is hybridized too"):
        ch05.check_hybridize(*answer, small_split, small_data)


def test_hybridize_accepts_numpy_and_tensor_numbers(mxnet_backend, small_data, small_split, capsys):
    import torch

    hybridized, imperative, seconds, speedup, prediction = hybridize_answer(mxnet_backend, small_data, small_split)
    as_numpy = {k: np.float32(v) for k, v in seconds.items()}
    ch05.check_hybridize(hybridized, imperative, as_numpy, torch.tensor(float(as_numpy["imperative"])
                                                                        / float(as_numpy["hybridized"])), prediction,
                         small_split, small_data)
    assert capsys.readouterr().out.startswith("correct:")


def test_hybridize_checks_through_public_gluon_behaviour_only():
    import inspect

    source = inspect.getsource(ch05)
    assert all(private not in source for private in ("._active", "._cached_op", "._optimizer", "._children"))


def test_hybridize_rejects_hybridize_called_after_training_and_says_to_time_again(mxnet_backend, small_data,
                                                                                small_split):
    answer = hybridize_answer(mxnet_backend, small_data, small_split, hybridize_after_training=True)
    with pytest.raises(CheckFailed, match="no compiled graph now.*build, train and time both again"):
        ch05.check_hybridize(*answer, small_split, small_data)


def test_hybridize_message_for_a_graph_discarded_after_right_training_claims_nothing_false(mxnet_backend, small_data,
                                                                                          small_split):
    """Rightly trained and timed, then hybridize() called again (which discards the graph): the check can
    only say what it sees now, not that the timed epochs ran imperatively."""
    hybridized, imperative, seconds, speedup, prediction = hybridize_answer(mxnet_backend, small_data, small_split)
    hybridized.model.hybridize()
    with pytest.raises(CheckFailed, match="no compiled graph now") as err:
        ch05.check_hybridize(hybridized, imperative, seconds, speedup, prediction, small_split, small_data)
    assert "ran imperatively" not in str(err.value)


def test_hybridize_rejects_models_started_from_different_weights(mxnet_backend, small_data, small_split):
    answer = hybridize_answer(mxnet_backend, small_data, small_split, same_start=False)
    with pytest.raises(CheckFailed, match="weights differ"):
        ch05.check_hybridize(*answer, small_split, small_data)


@pytest.mark.realdata
def test_hybridize_rejects_learners_fed_different_batch_orders(mxnet_backend, ml100k):
    # the small data fits in one batch, so the order of batches matters only on the real data
    split = splits.make_split(ml100k, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    answer = hybridize_answer(mxnet_backend, ml100k, split, rng_seeds=(0, 1))
    with pytest.raises(CheckFailed, match="weights differ"):
        ch05.check_hybridize(*answer, split, ml100k)


def test_hybridize_rejects_unequal_or_no_training(mxnet_backend, small_data, small_split):
    with pytest.raises(CheckFailed, match="same number of epochs"):
        ch05.check_hybridize(*hybridize_answer(mxnet_backend, small_data, small_split, epochs=(2, 1)), small_split,
                             small_data)
    with pytest.raises(CheckFailed, match="0 optimizer steps"):
        ch05.check_hybridize(*hybridize_answer(mxnet_backend, small_data, small_split, epochs=(0, 0)), small_split,
                             small_data)


def test_hybridize_rejects_a_model_other_than_the_course_defaults(mxnet_backend, small_data, small_split):
    answer = hybridize_answer(mxnet_backend, small_data, small_split, hidden=100)
    with pytest.raises(CheckFailed, match="I-AutoRec defaults"):
        ch05.check_hybridize(*answer, small_split, small_data)


def test_hybridize_rejects_the_inverted_ratio(mxnet_backend, small_data, small_split):
    hybridized, imperative, _, _, prediction = hybridize_answer(mxnet_backend, small_data, small_split)
    seconds = {"hybridized": 0.5, "imperative": 0.6}  # fixed, so that the ratio is not 1
    with pytest.raises(CheckFailed, match="the other way round"):
        ch05.check_hybridize(hybridized, imperative, seconds, 0.5 / 0.6, prediction, small_split, small_data)
    ch05.check_hybridize(hybridized, imperative, seconds, 0.6 / 0.5, prediction, small_split, small_data)


@pytest.mark.parametrize("seconds", [{"hybridized": 0.0, "imperative": 0.5},
                                     {"hybridized": -0.4, "imperative": 0.5},
                                     {"hybridized": "0.4 s", "imperative": 0.5},
                                     {"imperative": 0.5}, [0.4, 0.5]])
def test_hybridize_rejects_times_that_are_not_positive_seconds(mxnet_backend, small_data, small_split, seconds):
    hybridized, imperative, _, _, prediction = hybridize_answer(mxnet_backend, small_data, small_split)
    with pytest.raises(CheckFailed):
        ch05.check_hybridize(hybridized, imperative, seconds, 1.25, prediction, small_split, small_data)


def test_hybridize_rejects_something_other_than_learners(mxnet_backend, small_data, small_split):
    hybridized, imperative, seconds, speedup, prediction = hybridize_answer(mxnet_backend, small_data,
                                                                            small_split)
    with pytest.raises(CheckFailed, match="mb.AutoRecLearner"):
        ch05.check_hybridize(hybridized.model, imperative, seconds, speedup, prediction, small_split, small_data)


# --------------------------------------------------------------------------------------------
# Exercise 2: U-AutoRec in both frameworks, on the validation split
# --------------------------------------------------------------------------------------------

def user_results(data, split, seed=0, epochs=ch05.U_EPOCHS, frameworks=("torch", "mxnet"), variant="user",
                 changes=None, init_for=("torch", "mxnet")):
    """The notebook's solution: both frameworks from the same PyTorch-drawn weights, which are
    returned too. ``init_for``: the runs given those weights (the others draw their own)."""
    import torch

    from autorec_lib import torch_backend as tb

    course = course_config("autorec", variant)
    torch.manual_seed(seed)
    initial = tb.get_weights(tb.build_model(course.bind(data.n_users, data.n_items).net))
    # Start the output bias at a typical rating, so that the small data's short runs do not leave
    # every prediction below 1, clipped to the same RMSE in both frameworks.
    initial["b1"] = np.full_like(initial["b1"], 3.5)
    out = {}
    for key, fw in zip(("torch", "mxnet"), frameworks):
        cfg = course.replace(**{"epochs": epochs, **(changes or {}).get(key, {})})
        out[key] = experiment.train(data, split, config=cfg.replace(framework=fw),
                                    init_weights=initial if key in init_for else None, progress=False,
                                    eval_test=False)
    return out, initial


def valid_gap(results) -> float:
    return abs(results["mxnet"].scores["valid"].rmse - results["torch"].scores["valid"].rmse)


@pytest.mark.parametrize("seed", UNSEEN_SEEDS)
def test_user_autorec_reference_solution_passes(mxnet_backend, small_data, seed, capsys):
    split = splits.make_split(small_data, "random", test_fraction=0.1, valid_fraction=0.1, seed=seed)
    results, initial = user_results(small_data, split, seed)
    ch05.check_user_autorec(results, initial, valid_gap(results), small_data, split)
    assert capsys.readouterr().out.startswith("correct:")


def test_user_autorec_check_never_reads_the_test_part(mxnet_backend, small_data, small_split, capsys):
    results, initial = user_results(small_data, small_split)
    blind = dataclasses.replace(small_split, test=small_split.test.assign(rating=np.nan))  # any use of a test rating would fail
    ch05.check_user_autorec(results, initial, valid_gap(results), small_data, blind)
    assert capsys.readouterr().out.startswith("correct:")


def test_user_autorec_rejects_the_gap_measured_on_the_test_split(mxnet_backend, small_data, small_split):
    results, initial = user_results(small_data, small_split)
    test_gap = abs(results["mxnet"].test_rmse - results["torch"].test_rmse)
    assert abs(test_gap - valid_gap(results)) > 1e-4  # the two gaps differ here
    with pytest.raises(CheckFailed, match="never the test split"):
        ch05.check_user_autorec(results, initial, test_gap, small_data, small_split)


def test_user_autorec_rejects_a_signed_difference(mxnet_backend, small_data, small_split):
    results, initial = user_results(small_data, small_split)
    gap = valid_gap(results)
    assert gap > 1e-6
    with pytest.raises(CheckFailed, match="absolute"):
        ch05.check_user_autorec(results, initial, -gap, small_data, small_split)


def test_user_autorec_rejects_item_based_runs(mxnet_backend, small_data, small_split):
    results, initial = user_results(small_data, small_split, variant="item")
    with pytest.raises(CheckFailed, match="train U-AutoRec"):
        ch05.check_user_autorec(results, initial, valid_gap(results), small_data, small_split)


def test_user_autorec_rejects_two_pytorch_runs(mxnet_backend, small_data, small_split):
    results, initial = user_results(small_data, small_split, frameworks=("torch", "torch"))
    with pytest.raises(CheckFailed, match="framework='torch'"):
        ch05.check_user_autorec(results, initial, valid_gap(results), small_data, small_split)


@pytest.mark.parametrize("cap", [3, 100, 300])
def test_user_autorec_rejects_a_cap_other_than_U_EPOCHS(mxnet_backend, small_data, small_split, cap):
    results, initial = user_results(small_data, small_split, epochs=cap)
    with pytest.raises(CheckFailed, match=f"allowed {cap} epochs; cap both runs at U_EPOCHS = 60"):
        ch05.check_user_autorec(results, initial, valid_gap(results), small_data, small_split)


def test_user_autorec_rejects_frameworks_trained_for_different_epochs(mxnet_backend, small_data, small_split):
    results, initial = user_results(small_data, small_split, changes={"mxnet": {"epochs": 80}})
    with pytest.raises(CheckFailed, match="allowed 80 epochs"):
        ch05.check_user_autorec(results, initial, valid_gap(results), small_data, small_split)


@pytest.mark.parametrize("fw, trained, label", [("torch", {"epochs": 62}, {"epochs": ch05.U_EPOCHS}),
                                                 ("mxnet", {"lr_schedule": "plateau"}, {"lr_schedule": "constant"})])
def test_user_autorec_rejects_a_config_relabelled_after_training(mxnet_backend, small_data, small_split, fw, trained,
                                                                 label):
    """The reviewer's answers: a 62-epoch run, or one with a plateau schedule, relabelled as the course's."""
    results, initial = user_results(small_data, small_split, changes={fw: trained})
    results[fw] = dataclasses.replace(results[fw], config=results[fw].config.replace(**label))
    with pytest.raises(CheckFailed, match=rf"results\['{fw}'\].config does not describe the model it carries"):
        ch05.check_user_autorec(results, initial, valid_gap(results), small_data, small_split)


def test_user_autorec_rejects_a_history_cut_short(mxnet_backend, small_data, small_split):
    import copy

    results, initial = user_results(small_data, small_split)
    history = copy.deepcopy(results["mxnet"].history)
    history.records = history.records[:-1]  # its last epoch dropped
    results["mxnet"] = dataclasses.replace(results["mxnet"], history=history)
    with pytest.raises(CheckFailed, match=r"results\['mxnet'\]'s history is not that of a run"):
        ch05.check_user_autorec(results, initial, valid_gap(results), small_data, small_split)


def test_user_autorec_rejects_changed_training_options(mxnet_backend, small_data, small_split):
    lower = {"lr": 1e-3}
    results, initial = user_results(small_data, small_split, changes={"torch": lower, "mxnet": lower})
    with pytest.raises(CheckFailed, match="changes the course's training options lr"):
        ch05.check_user_autorec(results, initial, valid_gap(results), small_data, small_split)


def test_user_autorec_check_passes_what_crosses_to_the_grader(mxnet_backend, small_data, small_split, tmp_path,
                                                              capsys):
    """The grader rebuilds both runs from their checkpoints (MXNet's too), the rest from plain data."""
    from test_grading_units import carry

    results, initial = user_results(small_data, small_split)
    values = {"results": results, "initial": initial, "gap": valid_gap(results), "data": small_data,
              "split": small_split}
    got, problems = carry(tmp_path, values, load_data=lambda name: small_data)
    assert problems == {}
    ch05.check_user_autorec(got["results"], got["initial"], got["gap"], got["data"], got["split"])
    assert capsys.readouterr().out.startswith("correct:")


def test_user_autorec_accepts_settings_that_change_no_result(mxnet_backend, small_data, small_split, capsys):
    """seed, device and inputs (PyTorch's dense rows, as in Sec. 5.3) are not the course's options."""
    changes = {"torch": {"inputs": "dense", "seed": 1, "device": "cpu"}, "mxnet": {"seed": 1, "device": "cpu"}}
    results, initial = user_results(small_data, small_split, changes=changes)
    ch05.check_user_autorec(results, initial, valid_gap(results), small_data, small_split)
    assert capsys.readouterr().out.startswith("correct:")


def test_user_autorec_rejects_runs_trained_on_validation_ratings_too(mxnet_backend, small_data, small_split):
    leaky = dataclasses.replace(small_split, train=pd.concat([small_split.train, small_split.valid], ignore_index=True))
    results, initial = user_results(small_data, leaky)
    with pytest.raises(CheckFailed, match=r"results\['torch'\] was not trained on the training ratings"):
        ch05.check_user_autorec(results, initial, valid_gap(results), small_data, small_split)


def test_user_autorec_rejects_a_split_whose_validation_part_is_the_test_part(mxnet_backend, small_data, small_split):
    swapped = dataclasses.replace(small_split, valid=small_split.test, test=small_split.valid)
    results, initial = user_results(small_data, swapped)
    with pytest.raises(CheckFailed, match="valid and test parts are not what splits.make_split makes"):
        ch05.check_user_autorec(results, initial, valid_gap(results), small_data, swapped)


def test_user_autorec_names_a_rounded_gap(mxnet_backend, small_data, small_split):
    results, initial = user_results(small_data, small_split)
    gap = valid_gap(results)
    assert abs(round(gap, 4) - gap) > ch05.RMSE_TOL
    with pytest.raises(CheckFailed, match="looks rounded"):
        ch05.check_user_autorec(results, initial, round(gap, 4), small_data, small_split)


def test_user_autorec_rejects_runs_from_another_split(mxnet_backend, small_data, small_split):
    results, initial = user_results(small_data, small_split)
    other = splits.make_split(small_data, "random", test_fraction=0.1, valid_fraction=0.1, seed=5)
    with pytest.raises(CheckFailed, match="not trained on the training ratings of the split you passed"):
        ch05.check_user_autorec(results, initial, valid_gap(results), small_data, other)


def test_user_autorec_rejects_an_mxnet_run_without_the_initial_weights(mxnet_backend, small_data, small_split):
    results, initial = user_results(small_data, small_split, init_for=("torch",))
    with pytest.raises(CheckFailed, match=r"results\['mxnet'\] did not start from `initial`"):
        ch05.check_user_autorec(results, initial, valid_gap(results), small_data, small_split)


@pytest.mark.realdata
@pytest.mark.slow
def test_user_autorec_rejects_an_mxnet_run_without_the_initial_weights_on_real_data(mxnet_backend, ml100k,
                                                                                    monkeypatch):
    # on the small data the solution's raised output bias alone gives the missing weights away;
    # on ML-100K the check must tell MXNet's own draw from PyTorch's by the first epoch's loss
    split = splits.make_split(ml100k, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    results, initial = user_results(ml100k, split, epochs=2, init_for=("torch",))
    for result in results.values():  # train briefly, but present the runs as capped at U_EPOCHS
        result.config = result.config.replace(epochs=ch05.U_EPOCHS)
    # a relabelled config and a history shorter than its cap are refused (tested above): let these two
    # through here, so that only the replay of the first epoch is under test
    monkeypatch.setattr(ch05, "result_of", lambda value, what, warm_start_ok=False: value)
    monkeypatch.setattr(ch05, "finished_training", lambda run, what, hint: None)
    with pytest.raises(CheckFailed, match=r"results\['mxnet'\] did not start from `initial`"):
        ch05.check_user_autorec(results, initial, valid_gap(results), ml100k, split)


def test_user_autorec_rejects_initial_weights_other_than_those_used(mxnet_backend, small_data, small_split):
    results, _ = user_results(small_data, small_split)
    _, other = user_results(small_data, small_split, seed=1, epochs=1, init_for=())
    with pytest.raises(CheckFailed, match=r"results\['torch'\] did not start from `initial`"):
        ch05.check_user_autorec(results, other, valid_gap(results), small_data, small_split)


def test_user_autorec_rejects_initial_weights_of_the_wrong_form(mxnet_backend, small_data, small_split):
    results, initial = user_results(small_data, small_split)
    with pytest.raises(CheckFailed, match="exactly the keys"):
        ch05.check_user_autorec(results, [initial["W0"], initial["W1"]], valid_gap(results), small_data,
                                small_split)
    transposed = {**initial, "W0": initial["W0"].T}
    with pytest.raises(CheckFailed, match=r"initial\['W0'\] has shape"):
        ch05.check_user_autorec(results, transposed, valid_gap(results), small_data, small_split)


def test_user_autorec_rejects_a_bare_number_or_list(mxnet_backend, small_data, small_split):
    with pytest.raises(CheckFailed, match="'torch' and 'mxnet'"):
        ch05.check_user_autorec([0.95, 0.96], {}, 0.01, small_data, small_split)


# --------------------------------------------------------------------------------------------
# Exercise 3: Rprop by hand in NumPy against torch.optim.Rprop (no MXNet: both stacks)
# --------------------------------------------------------------------------------------------

def rprop_numpy(initial, grads, lr):
    """The notebook's solution."""
    w = np.array(initial, dtype=np.float64)
    step = np.full_like(w, lr)
    prev = np.zeros_like(w)
    after = []
    for g in grads:
        change = np.sign(g * prev)
        step = np.clip(step * np.where(change > 0, 1.2, np.where(change < 0, 0.5, 1.0)), 1e-6, 50.0)
        g = np.where(change < 0, 0.0, g)
        w = w - np.sign(g) * step
        prev = g
        after.append(w.copy())
    return after


def rprop_torch_tensors(initial, grads, lr):
    """The same rules written with PyTorch tensors, in float32, returning tensors."""
    import torch

    w = torch.tensor(initial, dtype=torch.float32)
    step, prev, after = torch.full_like(w, float(lr)), torch.zeros_like(w), []
    for g in grads:
        g = torch.tensor(g, dtype=torch.float32)
        change = torch.sign(g * prev)
        step = (step * torch.where(change > 0, 1.2, torch.where(change < 0, 0.5, 1.0))).clamp(1e-6, 50.0)
        g = torch.where(change < 0, torch.zeros_like(g), g)
        w = w - torch.sign(g) * step
        prev = g
        after.append(w.clone())
    return after


def test_rprop_by_hand_accepts_the_solution_and_other_right_formulations(capsys):
    pytest.importorskip("torch")
    ch05.check_rprop_by_hand(rprop_numpy)
    ch05.check_rprop_by_hand(rprop_torch_tensors)  # float32 tensors
    ch05.check_rprop_by_hand(lambda i, g, lr: np.array(rprop_numpy(i, g, lr)))  # one 2-D array
    ch05.check_rprop_by_hand(lambda i, g, lr: [a.tolist() for a in rprop_numpy(i, g, lr)])  # lists
    assert capsys.readouterr().out.count("correct:") == 4


@pytest.mark.parametrize("slip", list(ch05.SLIPS))
def test_rprop_by_hand_names_each_broken_rule(slip):
    pytest.importorskip("torch")
    with pytest.raises(CheckFailed, match=re.escape(ch05.SLIPS[slip])):
        ch05.check_rprop_by_hand(lambda i, g, lr: ch05._variant(i, g, lr, slip))


def keeps_memory_through_zero(initial, grads, lr):
    """The reviewer's slip: a zero gradient keeps the gradient remembered before it."""
    w, step, prev, after = np.array(initial, float), np.full(len(initial), float(lr)), np.zeros(len(initial)), []
    for g in grads:
        change = np.sign(g * prev)
        step = np.clip(step * np.where(change > 0, 1.2, np.where(change < 0, 0.5, 1.0)), 1e-6, 50.0)
        g_zeroed = np.where(change < 0, 0.0, g)
        w = w - np.sign(g_zeroed) * step
        prev = np.where(g == 0, prev, g_zeroed)
        after.append(w.copy())
    return after


def resets_step_on_zero(initial, grads, lr):
    """The reviewer's slip: a zero gradient resets the step size to lr."""
    w, step, prev, after = np.array(initial, float), np.full(len(initial), float(lr)), np.zeros(len(initial)), []
    for g in grads:
        change = np.sign(g * prev)
        step = np.clip(step * np.where(change > 0, 1.2, np.where(change < 0, 0.5, 1.0)), 1e-6, 50.0)
        step = np.where(g == 0, lr, step)
        g = np.where(change < 0, 0.0, g)
        w = w - np.sign(g) * step
        prev = g
        after.append(w.copy())
    return after


@pytest.mark.parametrize("wrong, rule", [(keeps_memory_through_zero, "keeps the memory through a zero gradient"),
                                         (resets_step_on_zero, "resets the step on a zero gradient")])
def test_rprop_by_hand_rejects_wrong_rules_for_a_zero_gradient_after_a_non_zero_one(wrong, rule):
    pytest.importorskip("torch")
    with pytest.raises(CheckFailed, match="a zero gradient after non-zero ones") as err:
        ch05.check_rprop_by_hand(wrong)
    assert ch05.SLIPS[rule] in str(err.value)


def test_rprop_by_hand_tells_weights_that_never_move_from_an_aliased_list():
    pytest.importorskip("torch")
    with pytest.raises(CheckFailed, match="never move") as err:
        ch05.check_rprop_by_hand(lambda i, g, lr: [np.array(i, float) for _ in g])
    assert "same array" not in str(err.value)


def test_rprop_by_hand_hands_the_function_copies_of_its_cases():
    pytest.importorskip("torch")
    seen = []

    def mutating(initial, grads, lr):
        out = rprop_numpy(initial, grads, lr)
        seen.append((initial.copy(), [g.copy() for g in grads]))
        initial[:] = 99.0  # a function that scribbles on its arguments
        for g in grads:
            g[:] = -g
        return out

    ch05.check_rprop_by_hand(mutating)  # every case still compared with torch on the unmutated gradients
    cases = ch05._cases()
    assert len(seen) == len(cases) + 1  # the fixed cases, then one drawn at random
    assert all(np.array_equal(i, c[1]) and all(np.array_equal(a, b) for a, b in zip(g, c[2]))
               for (i, g), c in zip(seen, cases))


def test_rprop_by_hand_refuses_a_wrapper_of_torch_rprop():
    """The reviewer's answer: a function that runs torch.optim.Rprop itself passes any comparison with it."""
    torch = pytest.importorskip("torch")

    def wrapped(initial, grads, lr):
        w = torch.nn.Parameter(torch.tensor(initial, dtype=torch.float64))
        opt, after = torch.optim.Rprop([w], lr=lr), []
        for g in grads:
            w.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
            after.append(w.detach().numpy().copy())
        return after

    with pytest.raises(CheckFailed, match="ran torch.optim.Rprop while it computed"):
        ch05.check_rprop_by_hand(wrapped)


def torch_rprop_by(make_optimizer):
    """An answer that runs torch's Rprop, reached through ``make_optimizer(param, lr)``."""
    import torch

    def wrapped(initial, grads, lr):
        w = torch.nn.Parameter(torch.tensor(initial, dtype=torch.float64))
        opt, after = make_optimizer(w, lr), []
        for g in grads:
            w.grad = torch.tensor(g, dtype=torch.float64)
            opt.step()
            after.append(w.detach().numpy().copy())
        return after

    return wrapped


def functional_rprop(initial, grads, lr):
    """torch's functional Rprop, with the step sizes and memory kept by hand."""
    import torch
    from torch.optim.rprop import rprop

    w = torch.tensor(initial, dtype=torch.float64)
    prev, step, after = torch.zeros_like(w), torch.full_like(w, float(lr)), []
    for g in grads:
        rprop([w], [torch.tensor(g, dtype=torch.float64)], [prev], [step], [torch.tensor(0.0)],
                   step_size_min=1e-6, step_size_max=50.0, etaminus=0.5, etaplus=1.2)
        after.append(w.numpy().copy())
    return after


def test_rprop_by_hand_refuses_torch_rprop_reached_by_any_name():
    """The reviewer's answers: each reaches torch's Rprop under a name other than `Rprop`, or through a helper."""
    import functools

    torch = pytest.importorskip("torch")
    from torch.optim import Rprop as TorchRprop

    def helper(w, lr):
        return TorchRprop([w], lr=lr)

    probe = type(torch.optim.Rprop([torch.nn.Parameter(torch.zeros(1))]))
    answers = {"an alias": torch_rprop_by(lambda w, lr: TorchRprop([w], lr=lr)),
               "a helper function": torch_rprop_by(helper),
               "a partial": torch_rprop_by(lambda w, lr: functools.partial(TorchRprop, lr=lr)([w])),
               "type() of a probe": torch_rprop_by(lambda w, lr: probe([w], lr=lr)),
               "a module's __dict__": torch_rprop_by(lambda w, lr: vars(torch.optim)["Rp" + "rop"]([w], lr=lr)),
               "the functional rprop": functional_rprop}
    for how, answer in answers.items():
        with pytest.raises(CheckFailed, match="ran torch.optim.Rprop while it computed") as err:
            ch05.check_rprop_by_hand(answer)
        assert "write the rules yourself" in str(err.value), how


def test_rprop_by_hand_refuses_the_librarys_mxnet_rprop(mxnet_backend):
    import mxnet as mx
    from mxnet import gluon, nd

    def library(initial, grads, lr):
        param = gluon.Parameter("w", shape=np.shape(initial))
        param.initialize(ctx=mx.cpu())
        param.set_data(nd.array(initial, dtype="float64"))
        opt, after = mxnet_backend.Rprop([param], lr), []
        for g in grads:
            param.grad()[:] = nd.array(g)
            opt.step()
            after.append(param.data().asnumpy().astype(float))
        return after

    with pytest.raises(CheckFailed, match="ran mxnet_backend.Rprop while it computed"):
        ch05.check_rprop_by_hand(library)


def test_rprop_by_hand_watching_leaves_a_profiler_already_set_in_place():
    import sys

    pytest.importorskip("torch")
    calls = []

    def profiler(frame, event, arg):
        calls.append(event)

    sys.setprofile(profiler)
    try:
        ch05.check_rprop_by_hand(rprop_numpy)
        assert sys.getprofile() is profiler
    finally:
        sys.setprofile(None)
    assert "call" in calls  # it still saw the calls made while the check watched


def test_rprop_by_hand_refuses_a_table_of_the_fixed_cases_answers():
    """A function that looks the fixed cases' answers up: the case drawn at random for each check has none."""
    pytest.importorskip("torch")
    def key(initial, grads, lr):
        return np.asarray(initial).tobytes(), np.stack(grads).tobytes(), lr

    table = {key(i, g, lr): ch05._torch_rprop_steps(i, g, lr, "float64") for _, i, g, lr in ch05._cases()}
    with pytest.raises(CheckFailed, match="a random case drawn for this check"):
        ch05.check_rprop_by_hand(lambda i, g, lr: table.get(key(i, g, lr), [np.array(i, float) for _ in g]))


def test_rprop_by_hand_draws_a_new_case_for_each_check():
    pytest.importorskip("torch")
    seen = []

    def recording(initial, grads, lr):
        seen.append((np.array(initial, float), lr))
        return rprop_numpy(initial, grads, lr)

    ch05.check_rprop_by_hand(recording)
    ch05.check_rprop_by_hand(recording)
    first, second = seen[len(seen) // 2 - 1], seen[-1]
    assert first[0].shape != second[0].shape or not np.array_equal(first[0], second[0])


def test_rprop_by_hand_random_cases_accept_float32_and_float64_answers():
    """A weight passing near 0 keeps float32's absolute rounding of larger values: 1000 draws, none refused."""
    pytest.importorskip("torch")
    for seed in range(1000):  # seed 908 was refused with an absolute tolerance of 1e-12
        _, initial, grads, lr = ch05._random_case(np.random.default_rng(seed))
        want = ch05._torch_rprop_steps(initial, grads, lr, "float64")
        atol = ch05._by_hand_atol(initial, want)
        for answer in (rprop_numpy, rprop_torch_tensors):
            got = [np.asarray(w, float) for w in answer(initial, grads, lr)]
            assert ch05._same(got, want, atol), (seed, answer.__name__)


def clips_only_the_move(initial, grads, lr):
    """The reviewer's slip: the stored step size is never clipped; only the move is."""
    w, step, prev, after = np.array(initial, float), np.full(len(initial), float(lr)), np.zeros(len(initial)), []
    for g in grads:
        change = np.sign(g * prev)
        step = step * np.where(change > 0, 1.2, np.where(change < 0, 0.5, 1.0))
        g = np.where(change < 0, 0.0, g)
        w = w - np.sign(g) * np.clip(step, 1e-6, 50.0)
        prev = g
        after.append(w.copy())
    return after


def test_rprop_by_hand_rejects_a_step_size_clipped_only_in_the_move():
    pytest.importorskip("torch")
    with pytest.raises(CheckFailed, match="after the step size reached its upper bound") as err:
        ch05.check_rprop_by_hand(clips_only_the_move)
    assert ch05.SLIPS["clips only the move"] in str(err.value)
    # both bounds are tested: each new case alone tells the slip from torch
    for case, i, g, lr in ch05._cases():
        if "after the step size reached" in case:
            assert not ch05._same(clips_only_the_move(i, g, lr), ch05._torch_rprop_steps(i, g, lr, "float64")), case


def test_rprop_by_hand_every_slip_changes_some_case():
    """The check's own cases tell each slip from iRprop− (else a slip could pass)."""
    for slip in ch05.SLIPS:
        assert any(not ch05._same(ch05._variant(i, g, lr, slip), ch05._variant(i, g, lr)) for _, i, g, lr in ch05._cases())


def test_rprop_by_hand_rejects_weights_before_each_step_and_an_aliased_list():
    pytest.importorskip("torch")

    def before(initial, grads, lr):
        after = rprop_numpy(initial, grads, lr)
        return [np.array(initial, float)] + after[:-1]

    def aliased(initial, grads, lr):
        w, out = np.array(initial, float), []
        for a in rprop_numpy(initial, grads, lr):
            w[:] = a
            out.append(w)  # the same array every time
        return out

    with pytest.raises(CheckFailed, match="before each step"):
        ch05.check_rprop_by_hand(before)
    with pytest.raises(CheckFailed, match="same array"):
        ch05.check_rprop_by_hand(aliased)


def test_rprop_by_hand_rejects_a_wrong_length_a_raising_function_and_a_non_function():
    pytest.importorskip("torch")
    with pytest.raises(CheckFailed, match="leave out the initial weights"):
        ch05.check_rprop_by_hand(lambda i, g, lr: [np.array(i, float)] + rprop_numpy(i, g, lr))
    with pytest.raises(CheckFailed, match="raised ZeroDivisionError"):
        ch05.check_rprop_by_hand(lambda i, g, lr: 1 / 0)
    with pytest.raises(CheckFailed, match="should be a function"):
        ch05.check_rprop_by_hand(rprop_numpy(np.zeros(2), [np.ones(2)], 0.1))


def test_rprop_by_hand_messages_never_show_torchs_weights():
    pytest.importorskip("torch")
    for slip in ch05.SLIPS:
        with pytest.raises(CheckFailed) as err:
            ch05.check_rprop_by_hand(lambda i, g, lr, slip=slip: ch05._variant(i, g, lr, slip))
        shown = {f"{x:.3f}" for _, i, g, lr in ch05._cases() for w in ch05._torch_rprop_steps(i, g, lr, "float64")
                 for x in w if abs(x) > 1e-3}
        assert not any(number in str(err.value) for number in shown), (slip, str(err.value))


# --------------------------------------------------------------------------------------------
# Exercise 4: MXNet Rprop against torch.optim.Rprop
# --------------------------------------------------------------------------------------------

def rprop_grads(seed: int, steps: int = 4, size: int = 6) -> tuple[np.ndarray, list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    initial = rng.normal(size=size).astype(np.float32)
    return initial, [rng.normal(size=size).astype(np.float32) for _ in range(steps)]


def rprop_answer(initial, grads, lr=0.1, torch_lr=None, mx_grads=None, record="after"):
    """The notebook's solution, with the knobs a learner could get wrong."""
    import mxnet as mx
    import torch
    from mxnet import autograd, gluon, nd

    from autorec_lib import mxnet_backend as mb

    w_mx = gluon.Parameter("w", shape=initial.shape)
    w_mx.initialize(ctx=mx.cpu())
    w_mx.set_data(nd.array(initial))
    mx_opt = mb.Rprop([w_mx], lr)
    w_t = torch.nn.Parameter(torch.tensor(initial))
    t_opt = torch.optim.Rprop([w_t], lr=torch_lr or lr)
    after_mx, after_t = [], []
    for g, g_mx in zip(grads, mx_grads or grads):
        before_mx, before_t = w_mx.data().asnumpy().copy(), w_t.detach().numpy().copy()
        with autograd.record():
            loss = (w_mx.data() * nd.array(g_mx)).sum()
        loss.backward()
        mx_opt.step()
        t_opt.zero_grad()
        (w_t * torch.from_numpy(g)).sum().backward()
        t_opt.step()
        if record == "after":
            after_mx.append(w_mx.data().asnumpy().copy())
            after_t.append(w_t.detach().numpy().copy())
        elif record == "before":
            after_mx.append(before_mx)
            after_t.append(before_t)
        elif record == "live":  # no copy: every entry is the same live tensor
            after_mx.append(w_mx.data().asnumpy().copy())
            after_t.append(w_t.detach().numpy())
        else:  # "live mxnet": every entry is the Parameter's own NDArray
            after_mx.append(w_mx.data())
            after_t.append(w_t.detach().numpy().copy())
    return {"lr": lr, "initial": initial, "grads": list(grads), "mxnet": after_mx, "torch": after_t,
            "max_diff": max(float(np.abs(getattr(a, "asnumpy", lambda: a)() - b).max())  # a live NDArray too
                            for a, b in zip(after_mx, after_t))}


@pytest.mark.parametrize("seed", UNSEEN_SEEDS)
def test_rprop_reference_solution_passes(mxnet_backend, seed, capsys):
    initial, grads = rprop_grads(seed)
    grow, flip = ch05._rule_events(grads)
    assert grow and flip  # the random gradients exercise both rules
    ch05.check_rprop(rprop_answer(initial, grads))
    assert capsys.readouterr().out.startswith("correct:")


def test_rprop_accepts_the_notebooks_hand_picked_gradients(mxnet_backend):
    grads = [np.array(g, dtype=np.float32) for g in
             ([1.0, -2.0, 0.5, 0.0], [0.5, 1.0, 0.4, -1.0], [0.3, 3.0, -0.2, -0.5], [0.2, -1.0, 0.1, -0.5])]
    ch05.check_rprop(rprop_answer(np.array([0.5, -0.2, 0.1, 0.3], dtype=np.float32), grads))


def test_rprop_rejects_different_learning_rates(mxnet_backend):
    initial, grads = rprop_grads(0)
    with pytest.raises(CheckFailed, match=r"answer\['torch'\] after step 1 differs"):
        ch05.check_rprop(rprop_answer(initial, grads, lr=0.1, torch_lr=0.01))


def test_rprop_rejects_a_single_step(mxnet_backend):
    initial, grads = rprop_grads(0, steps=1)
    with pytest.raises(CheckFailed, match="at least 3"):
        ch05.check_rprop(rprop_answer(initial, grads))


def test_rprop_rejects_gradients_that_never_change_sign(mxnet_backend):
    initial, grads = rprop_grads(0)
    with pytest.raises(CheckFailed, match="sign-change rule"):
        ch05.check_rprop(rprop_answer(initial, [np.abs(g) for g in grads]))


def test_rprop_rejects_gradients_that_always_change_sign(mxnet_backend):
    initial, grads = rprop_grads(0)
    alternating = [np.abs(grads[0]) * (-1) ** k for k in range(4)]
    with pytest.raises(CheckFailed, match="growth rule"):
        ch05.check_rprop(rprop_answer(initial, alternating))


def test_rprop_rejects_optimizers_fed_different_gradients(mxnet_backend):
    initial, grads = rprop_grads(1)
    shifted = [grads[0]] + grads[:-1]  # MXNet one step behind
    with pytest.raises(CheckFailed, match=r"answer\['mxnet'\] after step 2 differs"):
        ch05.check_rprop(rprop_answer(initial, grads, mx_grads=shifted))


def test_rprop_rejects_weights_recorded_before_each_step(mxnet_backend):
    initial, grads = rprop_grads(2)
    with pytest.raises(CheckFailed, match="after each step"):
        ch05.check_rprop(rprop_answer(initial, grads, record="before"))


@pytest.mark.parametrize("record, name", [("live", "torch"), ("live mxnet", "mxnet")])
def test_rprop_rejects_weights_recorded_without_a_copy_and_says_so(mxnet_backend, record, name):
    """The reviewer's answers: torch's .detach().numpy() and MXNet's w.data(), appended without a copy."""
    initial, grads = rprop_grads(2)
    with pytest.raises(CheckFailed, match=rf"answer\['{name}'\] holds the same array .* record a copy") as err:
        ch05.check_rprop(rprop_answer(initial, grads, record=record))
    assert "lr=" not in str(err.value) and "answer['grads']" not in str(err.value)


def test_rprop_says_so_when_every_step_holds_the_same_weights_after_the_grader_copied_them(mxnet_backend):
    """Once answers cross to the grader as plain data, the shared memory is gone: the equal steps still tell."""
    initial, grads = rprop_grads(2)
    answer = rprop_answer(initial, grads)
    answer["torch"] = [answer["torch"][-1].copy() for _ in grads]
    with pytest.raises(CheckFailed, match=r"answer\['torch'\] after step 1 differs .*every step holds the same"):
        ch05.check_rprop(answer)


def test_rprop_accepts_steps_listed_as_rows_of_one_array(mxnet_backend, capsys):
    """Rows of one stacked array share a base but not memory: they are not aliases."""
    initial, grads = rprop_grads(3)
    answer = rprop_answer(initial, grads)
    answer["mxnet"], answer["torch"] = list(np.stack(answer["mxnet"])), list(np.stack(answer["torch"]))
    ch05.check_rprop(answer)
    assert capsys.readouterr().out.startswith("correct:")


@pytest.mark.parametrize("initial", [np.float32(0.5), np.zeros(0, np.float32)])
def test_rprop_refuses_weights_that_are_not_a_vector(mxnet_backend, initial):
    grads = [np.float32(g) for g in (1.0, 1.0, -1.0)]
    answer = {"lr": 0.1, "initial": initial, "grads": grads, "mxnet": grads, "torch": grads, "max_diff": 0.0}
    with pytest.raises(CheckFailed, match="1-D array"):
        ch05.check_rprop(answer)


def test_rprop_rejects_the_initial_weights_listed_as_a_step(mxnet_backend):
    initial, grads = rprop_grads(0)
    answer = rprop_answer(initial, grads)
    answer["mxnet"] = [initial] + answer["mxnet"]
    with pytest.raises(CheckFailed, match="leave out the initial weights"):
        ch05.check_rprop(answer)


@pytest.mark.parametrize("max_diff", [1.0, -1e-3, "0", 1e-6, 1e-7])
def test_rprop_rejects_a_wrong_max_diff(mxnet_backend, max_diff):
    initial, grads = rprop_grads(0)
    answer = rprop_answer(initial, grads)
    answer["max_diff"] = max_diff
    with pytest.raises(CheckFailed, match="max_diff"):
        ch05.check_rprop(answer)


def test_rprop_rejects_a_guessed_max_diff_with_weights_near_1000(mxnet_backend, capsys):
    """The reviewer's answer: weights near 1000 make float32's rounding 1e-3, yet max_diff is recomputed exactly."""
    initial, grads = rprop_grads(7)
    answer = rprop_answer(initial + np.float32(1000), grads, lr=1.0)
    ch05.check_rprop(answer)  # resolved: the steps are far larger than the rounding
    assert capsys.readouterr().out.startswith("correct:")
    with pytest.raises(CheckFailed, match="max_diff is 0.001, which is not"):
        ch05.check_rprop({**answer, "max_diff": 1e-3})


def test_rprop_accepts_max_diff_however_it_is_computed(mxnet_backend, capsys):
    """A non-zero difference (MXNet's weights one float32 rounding off PyTorch's), computed in float64, in
    float32, as a NumPy scalar or as a 0-d tensor: all accepted."""
    import torch

    initial, grads = rprop_grads(8)
    answer = rprop_answer(initial, grads)
    answer["mxnet"] = [np.nextafter(w, np.float32(np.inf)) for w in answer["mxnet"]]
    mx, th = np.stack(answer["mxnet"]), np.stack(answer["torch"])
    ways = [float(np.abs(mx.astype(float) - th).max()), np.abs(mx - th).max(),
            torch.max(torch.abs(torch.from_numpy(mx) - torch.from_numpy(th))),
            max(float(abs(a - b).max()) for a, b in zip(answer["mxnet"], answer["torch"]))]
    assert ways[0] > 0
    for value in ways:
        ch05.check_rprop({**answer, "max_diff": value})
    assert capsys.readouterr().out.count("correct:") == len(ways)


def test_rprop_rejects_missing_keys(mxnet_backend):
    initial, grads = rprop_grads(0)
    answer = rprop_answer(initial, grads)
    del answer["initial"]
    with pytest.raises(CheckFailed, match="exactly the keys"):
        ch05.check_rprop(answer)


def test_rprop_check_passes_what_crosses_to_the_grader(mxnet_backend, tmp_path, capsys):
    """The grader rebuilds the answer from plain data (arrays and numbers): the check needs nothing else."""
    from test_grading_units import carry

    initial, grads = rprop_grads(6)
    got, problems = carry(tmp_path, {"rprop": rprop_answer(initial, grads)})
    assert problems == {}
    ch05.check_rprop(got["rprop"])
    assert capsys.readouterr().out.startswith("correct:")


def test_rprop_accepts_the_steps_as_one_2d_array(mxnet_backend, capsys):
    initial, grads = rprop_grads(3)
    answer = rprop_answer(initial, grads)
    answer["mxnet"], answer["torch"] = np.stack(answer["mxnet"]), np.stack(answer["torch"])
    ch05.check_rprop(answer)
    assert capsys.readouterr().out.startswith("correct:")


def test_rprop_rejects_steps_too_small_for_float32_to_show(mxnet_backend):
    """The reviewer's answers: huge weights with lr 1e-3, or lr 1e-6, every step listed as the start."""
    grads = [np.array(g, np.float32) for g in ([1, -1, 1, 1], [1, 1, 1, -1], [1, 1, -1, 1], [1, 1, 1, 1])]
    for initial, lr in ((np.full(4, 1000.0, np.float32), 1e-3), (np.full(4, 0.5, np.float32), 1e-6)):
        w0 = initial.astype(np.float64)
        answer = {"lr": lr, "initial": initial, "grads": grads, "mxnet": [w0] * 4, "torch": [w0] * 4, "max_diff": 0}
        with pytest.raises(CheckFailed, match="float32 cannot tell one step from the next"):
            ch05.check_rprop(answer)


def test_rprop_rejects_steps_off_by_a_fraction_of_a_step(mxnet_backend):
    initial, grads = rprop_grads(4)
    answer = rprop_answer(initial, grads)
    answer["torch"] = [w + 1e-4 for w in answer["torch"]]  # small next to lr=0.1, large next to float32 rounding
    with pytest.raises(CheckFailed, match=r"answer\['torch'\] after step 1 differs"):
        ch05.check_rprop(answer)


def test_rprop_messages_never_show_the_replayed_weights(mxnet_backend):
    initial, grads = rprop_grads(5)
    answer = rprop_answer(initial, grads)
    replay = ch05._torch_rprop_steps(initial, grads, 0.1)
    shown = {f"{x:.3f}" for w in replay for x in w if abs(x) > 1e-3}
    for wrong in ({**answer, "torch": [w * 1.1 for w in answer["torch"]]},
                  {**answer, "mxnet": [answer["initial"]] + answer["mxnet"][:-1]},
                  {**answer, "max_diff": 0.5}):
        with pytest.raises(CheckFailed) as err:
            ch05.check_rprop(wrong)
        assert not any(number in str(err.value) for number in shown), str(err.value)


def test_rprop_messages_never_show_how_far_a_step_is_off(mxnet_backend):
    """The reviewer's answer: with one weight, 'differs by up to X' gave the replayed weight away (a ± X)."""
    grads = [np.array([g], np.float32) for g in (1.0, 1.0, -1.0, 1.0)]
    answer = rprop_answer(np.array([0.5], np.float32), grads)
    for name in ("mxnet", "torch"):
        wrong = {**answer, name: [w + np.float32(0.0123) for w in answer[name]]}
        with pytest.raises(CheckFailed, match="by more than float32 rounding") as err:
            ch05.check_rprop(wrong)
        assert "0.0123" not in str(err.value) and "0.012" not in str(err.value)
