"""Notebook 06's checks: the reference solutions pass, the plausible wrong answers are refused."""
import dataclasses

import pytest

torch = pytest.importorskip("torch")

from autorec_lib import experiment, splits  # noqa: E402
from autorec_lib.config import TrainConfig  # noqa: E402
from autorec_lib.exercises import CheckFailed, ch06, reference  # noqa: E402
from autorec_lib.torch_backend import AutoRec  # noqa: E402


# --- exercise 1: the masked loss --------------------------------------------------------------

def test_masked_loss_check_accepts_the_summed_masked_error_masked_before_or_after_squaring(capsys):
    ch06.check_masked_loss(lambda p, t, m: (((p - t) * m) ** 2).sum())
    ch06.check_masked_loss(lambda p, t, m: ((p - t) ** 2 * m).sum())  # the same for a 0/1 mask
    assert capsys.readouterr().out.count("correct:") == 2


@pytest.mark.parametrize("wrong, message", [
    (lambda p, t, m: (((p - t) * m) ** 2).sum() / m.sum(), "averaged over the observed"),
    (lambda p, t, m: (((p - t) * m) ** 2).mean(), "averaged over all entries"),
    (lambda p, t, m: ((p - t) ** 2).mean(), "averaged over all entries"),
    (lambda p, t, m: ((p - t) ** 2).sum(), "expected"),
    (lambda p, t, m: ((p - t * m) ** 2).sum(), "expected"),
    (lambda p, t, m: torch.nn.functional.mse_loss(p, t, reduction="sum"), "expected"),
    (lambda p, t, m: ((p - t) * m) ** 2, "single-element tensor"),
    (lambda p, t, m: (((p - t) * m) ** 2).sum().item(), "single-element tensor"),
], ids=["mean-over-observed", "mean-over-all-masked", "mean-over-all", "no-mask", "mask-on-target-only",
        "mse-loss", "no-sum", "python-float"])
def test_masked_loss_check_rejects_plausible_mistakes(wrong, message):
    with pytest.raises(CheckFailed, match=message):
        ch06.check_masked_loss(wrong)


# --- the table checks, on runs trained on small synthetic data (structure only) ---------------

@pytest.fixture(scope="module")
def small(tmp_path_factory):
    from autorec_lib import datasets
    from conftest import write_ml100k

    data = datasets.load("ml-100k", write_ml100k(tmp_path_factory.mktemp("d") / "ml-100k", 40, 60, 0.3))
    split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    return data, split


@pytest.fixture(scope="module")
def hidden_runs(small):
    data, split = small
    return {k: ch06.run(data, split, hidden=k, lam=ch06.chosen_lambda("hidden", k)) for k in ch06.HIDDEN_SIZES}


def _table(runs, part="valid"):
    return {k: r.scores[part].rmse for k, r in runs.items()}


def test_runs_on_small_data_pass_the_structure_checks_and_fail_only_on_the_ml100k_reference(small, hidden_runs):
    assert all(r.history.stopped_early for r in hidden_runs.values())
    with pytest.raises(CheckFailed, match="the validation RMSE is .* expected"):
        ch06.check_hidden_sweep(_table(hidden_runs), hidden_runs, small[1])


def test_swapped_labels_are_refused(small, hidden_runs):
    runs = {**hidden_runs, 300: hidden_runs[500], 500: hidden_runs[300]}
    with pytest.raises(CheckFailed, match=r"300: the model was built with hidden=\(500,\), expected \(300,\)"):
        ch06.check_hidden_sweep(_table(runs), runs, small[1])


def test_swapped_numbers_in_the_reported_table_are_refused(small, hidden_runs):
    table = {**_table(hidden_runs), 300: hidden_runs[500].scores["valid"].rmse,
             500: hidden_runs[300].scores["valid"].rmse}
    with pytest.raises(CheckFailed, match="300: you report"):
        ch06.check_hidden_sweep(table, hidden_runs, small[1])


def test_test_split_scores_are_refused_with_a_hint(small, hidden_runs):
    with pytest.raises(CheckFailed, match="TEST RMSE"):
        ch06.check_hidden_sweep(_table(hidden_runs, "test"), hidden_runs, small[1])


def test_a_run_that_never_stopped_early_is_refused(small, hidden_runs):
    unconverged = dataclasses.replace(hidden_runs[100], history=dataclasses.replace(
        hidden_runs[100].history, stopped_early=False))
    runs = {**hidden_runs, 100: unconverged}
    with pytest.raises(CheckFailed, match="100: training ran all .* epochs without early stopping"):
        ch06.check_hidden_sweep(_table(runs), runs, small[1])


def test_an_untrained_or_briefly_trained_model_is_refused(small, hidden_runs):
    data, split = small
    short = experiment.train(data, split, "autorec", "item", progress=False, hidden=100,
                             **TrainConfig(epochs=2, lr=ch06.LR, lam=ch06.chosen_lambda("hidden", 100)).as_dict())
    runs = {**hidden_runs, 100: short}
    with pytest.raises(CheckFailed, match="100: trained with"):
        ch06.check_hidden_sweep(_table(runs), runs, split)


@pytest.mark.parametrize("field, value", [("lr", 1e-3), ("lam", 1.0), ("batch_size", 64), ("patience", 3)])
def test_other_training_settings_are_refused(small, hidden_runs, field, value):
    changed = dataclasses.replace(hidden_runs[100], config=hidden_runs[100].config.replace(**{field: value}))
    runs = {**hidden_runs, 100: changed}
    with pytest.raises(CheckFailed, match=f"100: trained with {field}="):
        ch06.check_hidden_sweep(_table(runs), runs, small[1])


def test_a_run_trained_on_another_split_is_refused(small, hidden_runs):
    data, _ = small
    other = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.2, seed=0)
    with pytest.raises(CheckFailed, match="trained on .* ratings, but split.train has"):
        ch06.check_hidden_sweep(_table(hidden_runs), hidden_runs, other)


def test_a_run_trained_on_a_reseeded_split_of_the_same_size_is_refused(small, hidden_runs):
    data, split = small
    other = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=1)
    assert len(other.train) == len(split.train)
    runs = {**hidden_runs, 300: ch06.run(data, other, hidden=300, lam=ch06.chosen_lambda("hidden", 300))}
    with pytest.raises(CheckFailed, match="300: .* not on the exercise's training ratings"):
        ch06.check_hidden_sweep(_table(runs), runs, split)


def test_a_run_scored_with_validation_and_test_swapped_is_refused(small, hidden_runs):
    data, split = small
    swapped = splits.Split(train=split.train, valid=split.test, test=split.valid)
    runs = {**hidden_runs, 300: ch06.run(data, swapped, hidden=300, lam=ch06.chosen_lambda("hidden", 300))}
    with pytest.raises(CheckFailed, match="300 was not trained and scored on the 'random' split you passed"):
        ch06.check_hidden_sweep(_table(runs), runs, split)


@pytest.mark.realdata
def test_a_linear_run_worse_than_the_mean_is_refused_even_within_the_wide_tolerance(ml100k):
    split = splits.make_split(ml100k, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    pair = ("identity", "identity")
    entry = reference("ch06")["activations"][ch06.key(pair)]
    assert entry["mean"] + ch06.tolerance(entry) > ch06.global_mean_rmse(split)  # the window reaches past the mean
    weak = ch06.run(ml100k, split, encoder="identity", decoder="identity", lam=ch06.chosen_lambda("activations", pair))
    table = {pair: ch06.global_mean_rmse(split) + 0.01}
    with pytest.raises(CheckFailed):
        ch06._check_table("activations", table, {pair: weak}, [pair], split, lambda p: (
            ch06.chosen_lambda("activations", p), {"hidden": (500,), "encoder": p[0], "decoder": p[1], "dropout": 0.0}))


def test_missing_extra_and_wrongly_typed_answers_are_refused(small, hidden_runs):
    split = small[1]
    partial = {k: v for k, v in hidden_runs.items() if k != 500}
    with pytest.raises(CheckFailed, match="lacks 500"):
        ch06.check_hidden_sweep(_table(partial), partial, split)
    with pytest.raises(CheckFailed, match="unexpected keys 50"):
        ch06.check_hidden_sweep({**_table(hidden_runs), 50: 0.9}, hidden_runs, split)
    with pytest.raises(CheckFailed, match="should be a dict"):
        ch06.check_hidden_sweep(list(_table(hidden_runs).values()), hidden_runs, split)
    with pytest.raises(CheckFailed, match="expected the Result"):
        ch06.check_hidden_sweep(_table(hidden_runs), _table(hidden_runs), split)


def test_dropout_ignored_is_refused(small):
    data, split = small
    no_dropout = ch06.run(data, split, lam=ch06.chosen_lambda("dropout", 0.0))
    runs = {p: no_dropout for p in ch06.DROPOUTS}
    with pytest.raises(CheckFailed, match=r"0.2: the model was built with dropout=0.0, expected 0.2"):
        ch06.check_dropout(_table(runs), runs, split)


def test_activation_pairs_with_swapped_encoder_and_decoder_are_refused(small):
    data, split = small
    pair, swapped = ("identity", "sigmoid"), ("sigmoid", "identity")
    wrong = ch06.run(data, split, encoder="sigmoid", decoder="identity", lam=ch06.chosen_lambda("activations", pair))
    runs = {p: wrong for p in ch06.ACTIVATION_PAIRS}
    with pytest.raises(CheckFailed, match="identity/identity: the model was built with encoder='sigmoid'"):
        ch06.check_activation_table(_table(runs), runs, split)
    assert swapped in ch06.ACTIVATION_PAIRS


def test_deep_model_of_the_wrong_size_or_orientation_is_refused(small):
    data, split = small
    with pytest.raises(CheckFailed, match="weight shapes"):
        ch06.check_deep_model(AutoRec(data.n_items, ch06.DEEP_HIDDEN), data, None, split)
    with pytest.raises(CheckFailed, match="weight shapes"):
        ch06.check_deep_model(AutoRec(data.n_users, (500,)), data, None, split)
    shallow = ch06.run(data, split, lam=ch06.chosen_lambda("deep", "deep"))
    with pytest.raises(CheckFailed, match=r"deep: the model was built with hidden=\(500,\)"):
        ch06.check_deep_model(AutoRec(data.n_users, ch06.DEEP_HIDDEN), data, shallow, split)


def test_best_choice_must_be_the_lowest_validation_rmse():
    table = {20: 0.95, 100: 0.91, 300: 0.89, 500: 0.892}
    ch06.check_best(300, table, "best hidden size")
    with pytest.raises(CheckFailed, match="you chose 500"):
        ch06.check_best(500, table, "best hidden size")  # e.g. chosen by test RMSE


def test_checks_never_read_the_test_split(small, hidden_runs):
    data, split = small
    blind = splits.Split(train=split.train, valid=split.valid, test=None)
    with pytest.raises(CheckFailed, match="the validation RMSE is .* expected"):  # gets to the value check
        ch06.check_hidden_sweep(_table(hidden_runs), hidden_runs, blind)


# --- the stored reference: three seeds, and a seed it has never seen ---------------------------

@pytest.mark.realdata
def test_every_reference_seed_lies_within_the_check_tolerance_and_every_run_stopped_early():
    study = reference("ch06")
    for group in ("activations", "hidden", "deep", "dropout"):
        for name, entry in study[group].items():
            assert len(entry["valid"]) >= 3, (group, name)
            assert all(entry["stopped_early"]), (group, name)
            assert max(entry["epochs_run"]) < ch06.MAX_EPOCHS, (group, name)
            for value in entry["valid"]:
                assert abs(value - entry["mean"]) <= ch06.tolerance(entry), (group, name, value)


@pytest.mark.realdata
@pytest.mark.slow
def test_the_reference_solution_passes_on_a_seed_the_reference_never_saw(ml100k):
    split = splits.make_split(ml100k, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
    runs = {k: ch06.run(ml100k, split, seed=3, hidden=k, lam=ch06.chosen_lambda("hidden", k))
            for k in ch06.HIDDEN_SIZES}
    ch06.check_hidden_sweep(_table(runs), runs, split)
    runs = {p: ch06.run(ml100k, split, seed=3, encoder=p[0], decoder=p[1], lam=ch06.chosen_lambda("activations", p))
            for p in ch06.ACTIVATION_PAIRS}
    ch06.check_activation_table(_table(runs), runs, split)
