# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 6. Exercises: vary AutoRec
#
# Now you change the model and measure what happens. Each exercise asks for a small piece of
# code or a table of results, and a **check function** from `autorec_lib.exercises` tells you
# whether your answer is right: it checks the structure of the answer, then compares its numbers
# with the reference solution's within a tolerance of 0.01 RMSE.
#
# **What you will learn**
#
# * to write AutoRec's masked loss yourself;
# * how the hidden size, the encoder/decoder activations, depth and dropout change I-AutoRec's
#   accuracy, and how to measure such effects honestly on a validation split;
# * to reproduce, on ML-100K, the activation comparison of the AutoRec paper.
#
# **Ground rules.** Every experiment uses the validation split (never the test split: we are
# choosing things), trains for `EPOCHS` = 30 epochs with seed 0 at learning rate `LR` = 3e-3
# (three times the course default, so that each run takes seconds), and otherwise uses the course
# defaults. The helper `valid_rmse(...)` below does exactly that; use it.
#
# This is the solution notebook. The learner's copy, `notebooks/student/06_exercises.ipynb`, is
# generated from it by `make student`, which replaces every cell tagged `solution` with a stub.

# %%
import json

import matplotlib.pyplot as plt
import pandas as pd
import torch

from autorec_lib import datasets, experiment, splits
from autorec_lib import exercises as ex
from autorec_lib.config import TrainConfig
from autorec_lib.torch_backend import AutoRec

data = datasets.load("ml-100k")
split = splits.make_split(data, "random", test_fraction=0.1, valid_fraction=0.1, seed=0)
print(f"{ex.EPOCHS} epochs per run at lr {ex.LR}; hidden sizes {ex.HIDDEN_SIZES}; dropouts {ex.DROPOUTS}")


def valid_rmse(**model_options) -> float:
    """Validation RMSE of I-AutoRec trained for EPOCHS epochs at LR (seed 0), course defaults otherwise."""
    train = {**experiment.defaults("autorec", "item")["train"], "epochs": ex.EPOCHS, "lr": ex.LR, "seed": 0}
    result = experiment.train(data, split, "autorec", "item", train_config=TrainConfig(**train),
                              progress=False, eval_test=False, **model_options)
    return result.scores["valid"].rmse

# %% [markdown]
# ## Exercise 1: the masked loss
#
# Write `my_masked_loss(pred, target, mask)` in PyTorch: the sum of squared errors over observed
# entries only (mask 1), as a single-element tensor. Unobserved entries must get zero gradient.
#
# *Hint:* multiply the error by the mask **before** squaring; sum, do not average.

# %% tags=["solution"]
def my_masked_loss(pred, target, mask):
    return (((pred - target) * mask) ** 2).sum()

# %%
ex.check_masked_loss(my_masked_loss)

# %% [markdown]
# ## Exercise 2: the hidden size
#
# Measure I-AutoRec's validation RMSE for every hidden size in `ex.HIDDEN_SIZES`, as a dict
# `{hidden_size: rmse}` named `hidden_sweep`. Then look at the plot: where do returns diminish?
#
# *Hint:* `valid_rmse(hidden=k)`.

# %% tags=["solution"]
hidden_sweep = {k: valid_rmse(hidden=k) for k in ex.HIDDEN_SIZES}

# %%
ex.check_hidden_sweep(hidden_sweep)
fig, ax = plt.subplots(figsize=(5, 3))
ax.plot(list(hidden_sweep), list(hidden_sweep.values()), "o-")
ax.set(xscale="log", xlabel="hidden units k", ylabel="validation RMSE", title="I-AutoRec vs hidden size")
ax.set_xticks(ex.HIDDEN_SIZES, [str(k) for k in ex.HIDDEN_SIZES], minor=False)
ax.minorticks_off();

# %% [markdown]
# ## Exercise 3: activations (the paper's table)
#
# The paper compares identity and sigmoid for the encoder $g$ and the decoder $f$. Measure the
# validation RMSE for each `(encoder, decoder)` pair in `ex.ACTIVATION_PAIRS` (the paper's four,
# plus ReLU and ELU encoders), as a dict `{(encoder, decoder): rmse}` named `activation_table`.
# Which pair wins? Does it agree with the paper's finding that a non-linear encoder with a linear
# decoder is best?
#
# *Hint:* `valid_rmse(encoder=..., decoder=...)`.

# %% tags=["solution"]
activation_table = {(g, f): valid_rmse(encoder=g, decoder=f) for g, f in ex.ACTIVATION_PAIRS}

# %%
ex.check_activation_table(activation_table)
pd.Series(activation_table, name="validation RMSE").rename_axis(["encoder g", "decoder f"]).round(4).to_frame()

# %% [markdown]
# A sigmoid *decoder* squeezes outputs into (0, 1) while ratings live in 1–5, so those rows are
# far off: the decoder should stay linear, as the paper found.
#
# ## Exercise 4: go deeper
#
# The paper reports a small gain from a deeper I-AutoRec with hidden layers 500-250-500. Build
# that model as `deep_model` (a `torch.nn.Module`; the library's `AutoRec` takes a tuple of hidden
# sizes), and measure its validation RMSE as `deep_rmse`.
#
# *Hint:* `AutoRec(n_inputs=data.n_users, hidden=ex.DEEP_HIDDEN)`; `valid_rmse(hidden=...)`.

# %% tags=["solution"]
deep_model = AutoRec(n_inputs=data.n_users, hidden=ex.DEEP_HIDDEN)
deep_rmse = valid_rmse(hidden=ex.DEEP_HIDDEN)

# %%
ex.check_deep_model(deep_model, data.n_users, deep_rmse)
print(f"deep: {deep_rmse:.4f} vs one hidden layer of 500: {hidden_sweep[500]:.4f}")

# %% [markdown]
# ## Exercise 5: dropout
#
# Dropout on the hidden layer is a regulariser beside λ. Measure the validation RMSE for every
# rate in `ex.DROPOUTS` as `dropout_sweep = {rate: rmse}`.

# %% tags=["solution"]
dropout_sweep = {p: valid_rmse(dropout=p) for p in ex.DROPOUTS}

# %%
ex.check_dropout(dropout_sweep)
pd.Series(dropout_sweep, name="validation RMSE").round(4).to_frame()

# %% [markdown]
# ## Summary
#
# * The masked loss is one line; what matters is masking before squaring and summing.
# * Returns from more hidden units diminish quickly; the activation table shows why the paper
#   chose a sigmoid encoder with an identity decoder.
# * Depth and dropout are further knobs; with 30 epochs and λ = 100 their effects are small, and
#   measuring them on validation keeps the test split honest.
#
# ## Going further
#
# 1. Repeat exercise 3 for U-AutoRec. Is the ranking of activations the same?
# 2. Give the deep model more epochs (it trains more slowly). Does its advantage grow?
# 3. Combine the best settings you found and, only once, evaluate that single model on the test
#    split.

# %% tags=["results"]
best_pair = min(activation_table, key=activation_table.get)
print(json.dumps({"checks": "all passed", "best activations": "/".join(best_pair),
                  "best hidden size": min(hidden_sweep, key=hidden_sweep.get)}))
