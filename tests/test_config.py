"""One typed configuration, passed whole: course defaults, field-by-field overrides, round trips."""
import dataclasses

import numpy as np

import pytest

from autorec_lib import experiment, splits
from autorec_lib.config import COURSE, AutoRecConfig, MFConfig, RunConfig, TrainConfig, course_config


def test_overriding_the_learning_rate_keeps_u_autorecs_tuned_epochs_lambda_and_patience():
    course = course_config("autorec", "user")
    changed = course.replace(lr=5e-4 * 2)
    assert changed.train.lr == 1e-3
    assert dataclasses.replace(changed.train, lr=course.train.lr) == course.train
    assert changed.net == course.net and (changed.model_type, changed.variant) == ("autorec", "user")


def test_a_model_field_changes_only_that_field():
    changed = course_config("autorec", "item").replace(hidden=300)
    assert changed.net.hidden == (300,) and changed.net.dropout == COURSE[("autorec", "item")].net.dropout
    assert changed.train == COURSE[("autorec", "item")].train


def test_train_keywords_change_one_field_and_the_result_stores_the_resolved_config(small_data):
    split = splits.make_split(small_data)
    result = experiment.train(small_data, split, "autorec", "user", epochs=1, lr=2e-3, progress=False)
    course = course_config("autorec", "user")
    assert result.config == course.replace(epochs=1, lr=2e-3).bind(small_data.n_users, small_data.n_items)
    assert result.summary()["config"]["train"]["patience"] == course.train.patience


def test_a_config_object_is_passed_whole(small_data):
    split = splits.make_split(small_data)
    run = course_config("biased-mf").replace(epochs=1, n_factors=3)
    result = experiment.train(small_data, split, config=run, progress=False)
    assert result.config.net.n_factors == 3 and result.config.model_type == "biased-mf"
    with pytest.raises(ValueError, match="contradicts config.model_type"):
        experiment.train(small_data, split, "autorec", config=run, progress=False)


@pytest.mark.parametrize("change, message", [
    ({"hidden": 10}, "'hidden' is not a setting of model type 'mf'"),
    ({"learning_rate": 0.1}, "'learning_rate' is not a setting"),
    ({"variant": "user"}, "start from course_config"),
])
def test_unknown_or_inapplicable_fields_are_refused_by_name(change, message):
    with pytest.raises(ValueError, match=message):
        course_config("mf").replace(**change)


def test_a_run_config_round_trips_through_a_dict():
    for run in COURSE.values():
        bound = run.bind(943, 1682)
        assert RunConfig.from_dict(bound.as_dict()) == bound


def test_bind_fills_the_data_sizes_by_variant():
    assert course_config("autorec", "item").bind(10, 20).net.n_inputs == 10
    assert course_config("autorec", "user").bind(10, 20).net.n_inputs == 20
    assert course_config("mf").bind(10, 20).net == MFConfig(10, 20, COURSE[("mf", "item")].net.n_factors, False)


def test_a_run_config_refuses_a_model_config_of_the_wrong_kind():
    with pytest.raises(ValueError, match="needs a MFConfig"):
        RunConfig("mf", net=AutoRecConfig())
    with pytest.raises(ValueError, match="biased=True"):
        RunConfig("biased-mf", net=MFConfig(biased=False))


def test_rprop_trains_full_batch_and_others_use_the_batch_size():
    assert TrainConfig(optimizer="rprop", batch_size=8).batch_for(100) == 100
    assert TrainConfig(optimizer="adam", batch_size=8).batch_for(100) == 8


@pytest.mark.parametrize("change, message", [
    ({"hidden": "500"}, "hidden must be a positive integer or a tuple of them, got '500' (str)"),
    ({"hidden": ("500",)}, "hidden size must be a positive integer, got '500' (str)"),
    ({"hidden": 2.5}, "hidden must be a positive integer or a tuple of them, got 2.5 (float)"),
    ({"epochs": 10.0}, "epochs must be a positive integer, got 10.0 (float)"),
    ({"lr": "0.01"}, "learning rate must be a number, got '0.01' (str)"),
    ({"lam": None}, "lambda (weight regularization) must be a number, got None (NoneType)"),
    ({"dropout": "0.5"}, "dropout must be a number, got '0.5' (str)"),
    ({"seed": -1}, "seed must be a non-negative integer, got -1 (int)"),
    ({"patience": True}, "patience must be a positive integer, got True (bool)"),
    ({"device": 0}, "unknown device 0"),
])
def test_settings_of_the_wrong_type_are_refused_with_their_real_value(change, message):
    with pytest.raises(ValueError) as err:
        course_config("autorec", "item").replace(**change)
    assert message in str(err.value)


def test_numpy_integers_are_whole_numbers_for_sizes():
    assert course_config("autorec", "item", hidden=np.int64(300)).net.hidden == (300,)


def test_a_split_of_another_data_set_is_refused_by_name(small_data, tmp_path):
    from conftest import write_ml100k

    from autorec_lib import datasets, splits
    from autorec_lib.datasets import DataError

    split = splits.make_split(small_data, "random", 0.2, 0.2, seed=0)
    other = datasets.load("ml-100k", write_ml100k(tmp_path / "small" / "ml-100k", n_users=5, n_items=5))
    with pytest.raises(DataError, match="this split names (user|item) index .* the split was made from another"):
        experiment.train(other, split, "autorec", "item", epochs=1, progress=False)
    renamed = dataclasses.replace(split, spec=dataclasses.replace(split.spec, dataset="ml-latest-small"))
    with pytest.raises(DataError, match="this split was made from ml-latest-small, not from ml-100k"):
        experiment.train(small_data, renamed, "autorec", "item", epochs=1, progress=False)
