"""Check functions for the exercises of notebook 09 (AutoRec among its peers, and how to reproduce a paper).

Exercise 1 recomputes a mean and a standard deviation from the reproduction record (numbers
written by ``scripts/reproduce.py``), once the record is shown to be the course's: one test RMSE per
seed of its protocol, its own stored mean and sd, and the tuned I-AutoRec's random-split test RMSEs
those of the committed ``notebooks/results/reproduction.json`` (:data:`RECORD_DIGEST`; a test holds
the two equal, so a new reproduction must update the digest). Exercise 2 compares the four choices
with the pitfall each snippet commits and says only whether all four are right. It keeps no answer
in plain text and no digest per snippet (those could be reversed one snippet at a time, 4 tries
each), only one salted, deliberately slow digest of the four answers together
(``hashlib.pbkdf2_hmac``, :data:`SNIPPET_ITERATIONS` rounds of SHA-256, about half a second a
try on the course's CPU). Its limit, plainly: the check runs on the learner's machine, so whatever it
can verify a program can search for. Trying all 4^4 = 256 combinations, against the check or against
the digest, takes about two minutes of computing there (less on a faster machine), and then gives all
four answers; the check makes that slow and deliberate, not impossible. Exercise 3 checks that the run is the course's I-AutoRec on the
split's training ratings, rebuilds its leaky input matrix and rescores the **validation** split. No
check reads test ratings.
"""
from __future__ import annotations

import hashlib
import hmac
import math

import numpy as np
import pandas as pd

from . import fail, number, passed
from .ch04 import course_run, rounded
from .ch05 import trained_on
from ..matrix import RatingMatrix
from ..metrics import evaluate

RMSE_TOL = 1e-6  # the same code on the same float32 predictions: equal up to rounding
RUN_HINT = "pass `run`, the I-AutoRec of Sec. 9.4 trained with the course's settings"
STAT_TOL = 1e-6  # a mean or sd of five RMSEs, recomputed: equal up to rounding, float32 included (~1e-7)

# The three pitfalls of Sec. 9.4, and what a snippet may be: one of them or none.
PITFALLS = {
    "test-input": "(a) test ratings fed to the network as input when it predicts them",
    "test-epoch": "(b) the epoch (or any hyperparameter) chosen by test RMSE",
    "user-rows": "(c) user rows (U-AutoRec) reported as I-AutoRec",
    "none": "none of the three",
}
# Exercise 2: four snippets from imagined reimplementations; each commits at most one pitfall.
SNIPPETS = {
    "A": ("R = np.zeros((n_users, n_items))\n"
          "R[train.user, train.item] = train.rating\n"
          "model = AutoRec(n_inputs=n_items)   # 'I-AutoRec'\n"
          "for epoch in range(epochs):\n"
          "    for batch in batches(R):\n"
          "        step(model, batch)"),
    "B": ("scores = []\n"
          "for epoch in range(epochs):\n"
          "    train_epoch(model)\n"
          "    scores.append(rmse(model, test))\n"
          "print('RMSE', min(scores))"),
    "C": ("R_eval = R_train.copy()\n"
          "R_eval[test.item, test.user] = test.rating\n"
          "pred = model(R_eval)                 # rows are items\n"
          "print('RMSE', rmse(pred[test.item, test.user], test.rating))"),
    "D": ("best, best_weights = inf, None\n"
          "for epoch in range(epochs):\n"
          "    train_epoch(model)\n"
          "    v = rmse(model, valid)\n"
          "    if v < best:\n"
          "        best, best_weights = v, copy(model.weights)\n"
          "model.weights = best_weights\n"
          "print('RMSE', rmse(model, test))"),
}
# The answers, not in plain text: PBKDF2-HMAC-SHA256 of "A=<pitfall>;B=<pitfall>;C=<pitfall>;D=<pitfall>"
# (snippets in order), with this salt and this many rounds (twice OWASP's 2023 figure for PBKDF2-SHA256:
# about 0.5 s a try on the course's 2-core CPU, measured 2026-12-05 under load).
_SNIPPET_SALT = bytes.fromhex("3d6ded65f7389a5906d24e3251c73582")
SNIPPET_ITERATIONS = 1_200_000
_SNIPPETS_DIGEST = "40a1d582a502dfb30543dcc8a2c7a14cb01f7891bffca14bd1316ee7e14bf515"
# One hint for every wrong choice: the three questions the exercise asks, naming no snippet.
SNIPPETS_HINT = ("for each snippet ask what one row of the matrix fed to the network is, what the network reads "
                 "when it predicts a test rating, and on which split the reported epoch is chosen")


def _snippets_digest(answers: dict) -> str:
    """The slow digest of all four answers together (never of one alone)."""
    text = ";".join(f"{name}={answers[name]}" for name in sorted(SNIPPETS))
    return hashlib.pbkdf2_hmac("sha256", text.encode(), _SNIPPET_SALT, SNIPPET_ITERATIONS).hex()


# Exercise 1: the committed record's tuned I-AutoRec random-split test RMSEs, one per seed: how many, and
# the SHA-256 of their reprs joined by commas (_test_digest). A record that differs (made up, cut to fewer
# seeds, or another reproduction) is refused. Rerunning scripts/reproduce.py changes them: then update both
# (tests/test_exercises_ch09.py says so when they disagree with notebooks/results/reproduction.json).
RECORD_SEEDS = 5
RECORD_DIGEST = "241f2f15dbb9349fc386d66e82b7c1b5702ddd11cfe190ac43bca2934f3f9885"


def _test_digest(values) -> str:
    return hashlib.sha256(",".join(repr(float(v)) for v in values).encode()).hexdigest()


def reproduction_runs(reproduction: dict, model: str, config: str, protocol: str) -> dict:
    """One model's summary (``random`` seeds or ``folds``) from the reproduction record."""
    if not isinstance(reproduction, dict) or "results" not in reproduction:
        fail("pass the reproduction record as loaded from notebooks/results/reproduction.json")
    for entry in reproduction["results"]:
        if entry["model"] == model and entry["config"] == config:
            return entry[protocol]
    fail(f"the reproduction record has no {model} ({config}) entry: run scripts/reproduce.py")


# --------------------------------------------------------------------------------------------
# Exercise 1: mean ± sd over seeds
# --------------------------------------------------------------------------------------------

def _whole_record(reproduction: dict, runs: dict) -> np.ndarray:
    """The tuned I-AutoRec's per-seed test RMSEs, refused unless the record is as written: one per seed
    of the protocol, labelled by those seeds, agreeing with the mean and sd stored beside them, and the
    committed record's (:data:`RECORD_SEEDS`, :data:`RECORD_DIGEST`)."""
    seeds = reproduction.get("protocol", {}).get("seeds") if isinstance(reproduction.get("protocol"), dict) else None
    values = np.asarray(runs.get("test", []), dtype=np.float64)
    changed = ("the reproduction record's tuned I-AutoRec test RMSEs are not as scripts/reproduce.py wrote them "
               "({}): load the record again from notebooks/results/reproduction.json, and copy a list before "
               "you change it (entry() hands you the record's own lists)")
    if not seeds or len(values) != len(seeds) or list(runs.get("labels", [])) != list(seeds):
        fail(changed.format(f"{len(values)} value(s) for the {len(seeds or [])} seeds of its protocol"))
    stored = (runs.get("test_mean"), runs.get("test_sd"))
    if not all(isinstance(v, (int, float)) for v in stored) or not (
            math.isclose(float(values.mean()), stored[0], rel_tol=1e-9)
            and math.isclose(float(values.std(ddof=1)), stored[1], rel_tol=1e-9)):
        fail(changed.format("they no longer give the mean and sd stored beside them"))
    if len(values) != RECORD_SEEDS or _test_digest(runs.get("test", [])) != RECORD_DIGEST:
        fail("the reproduction record's tuned I-AutoRec test RMSEs are not those of the course's record: pass "
             "`repro` as the notebook loads it from notebooks/results/reproduction.json (a record made up, cut "
             "to fewer seeds or written by another reproduction is not the one this exercise is about)")
    return values


def check_mean_sd(seed_stats, reproduction: dict) -> None:
    """Exercise 1: ``seed_stats``, a dict with ``mean`` and ``sd`` of tuned I-AutoRec's five per-seed
    test RMSEs on the random splits, computed from ``reproduction``."""
    if not isinstance(seed_stats, dict) or set(seed_stats) != {"mean", "sd"}:
        got = sorted(seed_stats) if isinstance(seed_stats, dict) else type(seed_stats).__name__
        fail(f"seed_stats should be a dict with exactly the keys 'mean' and 'sd', got {got}")
    mean = number(seed_stats["mean"], "seed_stats['mean']", 0.0, 5.0)
    sd = number(seed_stats["sd"], "seed_stats['sd']", 0.0, 5.0)
    runs = reproduction_runs(reproduction, "I-AutoRec", "tuned", "random")
    values = _whole_record(reproduction, runs)
    want_mean, want_sd = float(values.mean()), float(values.std(ddof=1))
    if not math.isclose(mean, want_mean, abs_tol=STAT_TOL):
        if rounded(mean):
            fail(f"seed_stats['mean'] is {mean:g}, which looks rounded: give it unrounded (round only what you print)")
        folds = reproduction_runs(reproduction, "I-AutoRec", "tuned", "folds")
        if math.isclose(mean, float(np.mean(folds["test"])), abs_tol=STAT_TOL):
            fail("seed_stats['mean'] is the mean over the folds u1..u5; take the random splits' seeds ('random')")
        if math.isclose(mean, float(np.mean(runs["valid"])), abs_tol=STAT_TOL):
            fail("seed_stats['mean'] is the mean validation RMSE; the exercise asks about the test RMSE ('test')")
        for other in reproduction["results"]:
            if other["model"] == "I-AutoRec" and other["config"] != "tuned" and math.isclose(
                    mean, float(np.mean(other["random"]["test"])), abs_tol=STAT_TOL):
                fail(f"seed_stats['mean'] is the mean of the {other['config']!r} I-AutoRec runs; take the "
                     "'tuned' ones")
        fail(f"seed_stats['mean'] is {mean:.6f}, which is not the mean of the tuned I-AutoRec's {len(values)} "
             "per-seed test RMSEs on the random splits")
    if not math.isclose(sd, want_sd, abs_tol=STAT_TOL):
        if rounded(sd):
            fail(f"seed_stats['sd'] is {sd:g}, which looks rounded: give it unrounded (round only what you print)")
        if math.isclose(sd, float(values.std(ddof=0)), abs_tol=STAT_TOL):
            fail("seed_stats['sd'] divides by n (np.std's default); the spread of a few seeds is estimated "
                 "with the sample standard deviation, which divides by n - 1 (ddof=1)")
        if math.isclose(sd, want_sd / math.sqrt(len(values)), abs_tol=STAT_TOL):
            fail("seed_stats['sd'] is the standard error of the mean (sd / sqrt(n)); the exercise asks for the sd")
        fail(f"seed_stats['sd'] is {sd:.6f}, which is not the standard deviation of those {len(values)} test "
             "RMSEs (mind which one a handful of repeats calls for)")
    passed(f"tuned I-AutoRec, {len(values)} seeds: test RMSE {want_mean:.4f} ± {want_sd:.4f} (sample sd)")


# --------------------------------------------------------------------------------------------
# Exercise 2: which pitfall does each snippet commit?
# --------------------------------------------------------------------------------------------

def check_snippets(answers) -> None:
    """Exercise 2: ``answers``, a dict from each snippet's name to a key of ``PITFALLS``. A wrong answer
    gets one message, whichever snippet it is about and whichever pitfall it names."""
    if not isinstance(answers, dict) or set(answers) != set(SNIPPETS):
        got = sorted(answers) if isinstance(answers, dict) else type(answers).__name__
        fail(f"answers should be a dict with one entry per snippet {sorted(SNIPPETS)}, got {got}")
    for name in sorted(SNIPPETS):
        choice = answers[name]
        if not isinstance(choice, str) or choice not in PITFALLS:
            fail(f"answers[{name!r}] = {choice!r} is not one of {sorted(PITFALLS)} (one string per snippet)")
    if not hmac.compare_digest(_snippets_digest(answers), _SNIPPETS_DIGEST):
        fail(f"not all four answers are right yet (the check does not say which, so that trying options tells "
             f"nothing): {SNIPPETS_HINT}")
    passed("each snippet is matched with the pitfall it commits, or with none (the solution notebook explains "
           "each one)")


# --------------------------------------------------------------------------------------------
# Exercise 3: the effect of pitfall (a), measured on the validation split
# --------------------------------------------------------------------------------------------

def leaky_learner(result, inputs: pd.DataFrame, data):
    """A learner that predicts with ``result``'s trained network, but encodes rows of ``inputs``.

    Pass ``split.train`` to get the honest learner back; pass training plus held-out ratings to
    commit pitfall (a): the network then reads the very ratings it is asked to predict.
    """
    from .. import backends

    matrix = RatingMatrix(inputs, data.n_users, data.n_items, result.config.variant)
    fw = backends.get(result.config.framework)
    return fw.build_learner(result.learner.model, matrix, inputs, result.config.train, data.scale)


def check_leak_on_valid(leak, result, split, data) -> None:
    """Exercise 3: ``leak``, a dict with ``honest`` (the validation RMSE of ``result`` as trained) and
    ``leaky`` (the validation RMSE when the network encodes rows of training + validation ratings)."""
    if not isinstance(leak, dict) or set(leak) != {"honest", "leaky"}:
        got = sorted(leak) if isinstance(leak, dict) else type(leak).__name__
        fail(f"leak should be a dict with exactly the keys 'honest' and 'leaky', got {got}")
    course_run(result, "I-AutoRec", split, data, "the I-AutoRec result", hint=RUN_HINT)
    trained_on(result.learner, split, data, "item", "the I-AutoRec result")
    honest = number(leak["honest"], "leak['honest']", 0.0, 5.0)
    leaky = number(leak["leaky"], "leak['leaky']", 0.0, 5.0)
    want_honest = result.scores["valid"].rmse  # course_run rescored it on split.valid
    if not math.isclose(honest, want_honest, abs_tol=RMSE_TOL):
        if rounded(honest):
            fail(f"leak['honest'] is {honest:g}, which looks rounded: give it unrounded (round only what you print)")
        fail(f"leak['honest'] is {honest:.4f}, which is not the run's own validation RMSE: take "
             "result.scores['valid'].rmse")
    inputs = pd.concat([split.train, split.valid], ignore_index=True)
    model = leaky_learner(result, inputs, data)
    want_leaky = evaluate(model.predict, split.valid, split.train, data.scale).rmse
    if not math.isclose(leaky, want_leaky, abs_tol=RMSE_TOL):
        if rounded(leaky):
            fail(f"leak['leaky'] is {leaky:g}, which looks rounded: give it unrounded (round only what you print)")
        if math.isclose(leaky, want_honest, abs_tol=RMSE_TOL):
            fail("leak['leaky'] equals the honest score: build the learner on training + validation ratings "
                 "(pd.concat of split.train and split.valid) and score split.valid with it")
        fail(f"leak['leaky'] is {leaky:.4f}, which is not what a learner encoding training + validation "
             "ratings scores on split.valid. Score the validation part, with split.train deciding "
             "which users and movies are unseen.")
    change = want_leaky - want_honest
    effect = (f"falls from {want_honest:.4f} to {want_leaky:.4f} ({-change:.4f} better, all of it a leak)" if change < 0
              else f"goes from {want_honest:.4f} to {want_leaky:.4f} ({change:+.4f}: this run does not profit from "
                   "the leak)")
    passed(f"with the validation ratings in its input, I-AutoRec's validation RMSE {effect}")
