"""Check functions for the course's exercises: one module per notebook, ``ch01`` ... ``ch09``.

========  ==========================================  ====================================
module    notebook                                    what its checks receive
========  ==========================================  ====================================
``ch01``  01 setup and data                           statistics of the ratings and splits
``ch02``  02 matrix factorization                     biased-MF runs and their numbers
``ch03``  03 the AutoRec derivation                   gradient functions, gradients, counts
``ch04``  04 AutoRec in PyTorch                       predictions, recommendations, runs
``ch05``  05 AutoRec in MXNet                         hybridized runs, Rprop steps
``ch06``  06 exercises (the study)                    runs compared with stored references
``ch07``  07 evaluating recommendations               ranking metrics and top-N lists
``ch08``  08 inside AutoRec                           codes, neighbours, filled inputs
``ch09``  09 AutoRec among its peers                  seed statistics, leaks
========  ==========================================  ====================================

A check takes the learner's answer, checks its structure first (types, keys, the configuration a
trained model was built with), then its numbers: against what the check computes itself from
the data, against an ordering that must hold, or against a stored reference within a tolerance
measured from the seed-to-seed spread. It prints one line starting with ``correct:``, or raises
:class:`CheckFailed` saying what is wrong and where to look, never the expected value. No check
reads a test rating.

The helpers below serve every chapter's checks, so that each refusal reads the same everywhere:
:func:`number` and :func:`whole` (one number, one count; a wrong type is named by :func:`kind`, never shown,
and a learner's own key or label by :func:`shown`), :func:`array` (an array of numbers from
NumPy, PyTorch, MXNet or a list), :func:`entries` (a dict with the keys asked for), :func:`result`
and :func:`item_autorec` (a trained run, as ``experiment.train`` returned it), :func:`changed_settings`
(how a run's training settings differ from the course's, each compared by :func:`same_setting`),
:func:`finished_training` (a run's history ends where its settings end a run), :func:`close`, :func:`valid_rmse` and
:func:`reference`; :func:`rating_data` (the data set, with its ratings as its files hold them),
:func:`course_split` (a split whose parts are the ones its spec rebuilds) and :func:`trained_on` (a
run trained on that split), so that a check never computes from data edited in place or from a
split whose parts were swapped. A run's config is compared with what its learner shows: its settings,
and the shapes of its weights (:func:`result`); its recorded split with its learner's own training data
(:func:`trained_on`).

Stored references live in ``reference/<chapter>.json`` beside this file, as data: the package only
reads them. ``scripts/record_references.py`` (``make reference``) writes them into the source tree,
never into an installed package and never at run time.
"""
from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import NoReturn

import numpy as np

REFERENCE_DIR = Path(__file__).with_name("reference")


class CheckFailed(AssertionError):
    """The answer is not right yet; the message says why."""


def fail(message: str) -> NoReturn:
    raise CheckFailed(message)


def passed(message: str) -> None:
    print(f"correct: {message}")


def number(value, what: str, low: float = -math.inf, high: float = math.inf) -> float:
    """``value`` as a float, refused unless it is one real number in ``[low, high]``.

    Python and NumPy numbers and 0-d arrays or tensors are accepted; a bool (or a tensor of bools), a
    string or an array of several numbers is not.
    """
    shape = tuple(getattr(value, "shape", ()))
    if math.prod(shape) != 1:
        fail(f"{what} should be one number, got an array of shape {shape}")
    if shape:  # one number in an array or tensor of shape (1,), (1, 1), ...
        value = value.reshape(-1)[0] if hasattr(value, "reshape") else np.asarray(value).reshape(-1)[0]
    boolean = isinstance(value, (bool, np.bool_)) or str(getattr(value, "dtype", "")) in ("bool", "torch.bool")
    if boolean or not hasattr(value, "__float__"):
        fail(f"{what} should be a number, got {kind(value)}")
    x = float(value)
    if not (math.isfinite(x) and low <= x <= high):
        fail(f"{what} = {x!r} is outside the plausible range [{low}, {high}]")
    return x


def kind(value) -> str:
    """What ``value`` is, for a failure message: its type's name (and its shape, when it has one), never its
    contents. A wrong answer can hold the right one (a SciPy test result, an Evaluation, a whole Result): a
    message that printed it would hand the answer over."""
    shape = getattr(value, "shape", None)
    try:
        shape = None if shape is None else tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        shape = None
    return type(value).__name__ + (f" of shape {shape}" if shape else "")


def shown(value) -> str:
    """``value`` as a failure message may show it: a string, a number or a bool as itself (the learner's
    own label or key, e.g. a dict key), anything else by :func:`kind` alone."""
    import numbers

    if isinstance(value, (str, bool, np.bool_, numbers.Number)) and len(repr(value)) <= 40:
        return repr(value)
    return kind(value)


def whole(value, what: str, low: float = 0, high: float = math.inf) -> int:
    """A count: ``value`` as an int, accepted however the number is typed (``943``, ``943.0``,
    ``np.int64(943)``, a 0-d tensor), refused when it is not a whole number in ``[low, high]``."""
    x = number(value, what, low, high)
    if not x.is_integer():
        fail(f"{what} = {x!r} should be a whole number: it counts")
    return int(x)


def array(value, what: str, ndim: int | None = None, length: int | None = None) -> np.ndarray:
    """A float64 NumPy copy of an array of finite numbers: a NumPy array, a list, a pandas Series,
    a PyTorch tensor or an MXNet NDArray; ``ndim`` and ``length`` (of the first axis), when given,
    must match."""
    if hasattr(value, "asnumpy"):  # an MXNet NDArray (which has a .detach() of its own: look first)
        value = value.asnumpy()
    elif hasattr(value, "detach"):  # a PyTorch tensor, possibly on a GPU or needing grad
        value = value.detach().cpu().numpy()
    try:
        values = np.asarray(value)
    except (TypeError, ValueError):
        fail(f"{what} should be an array of numbers, got {type(value).__name__}")
    if values.dtype.kind not in "iuf":
        fail(f"{what} should hold numbers, got {type(value).__name__} of {values.dtype}")
    if ndim is not None and values.ndim != ndim:
        fail(f"{what} should have {ndim} dimension(s), got an array of shape {values.shape}")
    if length is not None and len(values) != length:
        fail(f"{what} has {len(values)} entries; it should have {length}")
    if not np.all(np.isfinite(values)):
        fail(f"{what} holds NaN or infinite values")
    return values.astype(np.float64)


def entries(answer, keys: tuple[str, ...], what: str) -> dict:
    """``answer`` as a dict that holds every one of ``keys`` (other keys are left alone)."""
    if not isinstance(answer, dict):
        fail(f"{what} should be a dict with the keys {', '.join(map(repr, keys))}, got {type(answer).__name__}")
    missing = [k for k in keys if k not in answer]
    if missing:
        fail(f"{what} lacks the key(s) {', '.join(map(repr, missing))} (it should have {', '.join(map(repr, keys))})")
    return answer


def result(value, what: str, warm_start_ok: bool = False):
    """``value``, refused unless it is the ``Result`` that ``experiment.train`` returns, as it returned it.

    A run that started from given weights (``init_weights``) is refused unless ``warm_start_ok``, and
    so is a Result whose ``config`` does not describe the model and learner it carries (a config
    swapped in afterwards, e.g. with ``dataclasses.replace``).
    """
    from ..experiment import Result

    if not isinstance(value, Result):
        fail(f"{what} should be the Result that experiment.train returns, got {type(value).__name__}")
    if value.warm_start and not warm_start_ok:
        fail(f"{what} started from given weights (experiment.train(..., init_weights=...)); this exercise "
             "trains from the random start experiment.train makes: call it without init_weights")
    differ = _config_disagrees(value)
    if differ:
        fail(f"{what}.config does not describe the model it carries (they disagree on {', '.join(differ)}): pass the "
             "Result exactly as experiment.train returned it, and train again to change a setting")
    return value


def _config_disagrees(value) -> list[str]:
    """What in ``value.config`` (a Result's) disagrees with its learner: its training settings, its network,
    its optimizer or its framework. Only what the learner exposes is compared."""
    config, learner = value.config, value.learner
    differ = []
    cfg = getattr(learner, "cfg", None)
    if cfg is not None and type(cfg) is type(config.train):
        differ += [f"training setting {k!r}" for k in changed_settings(cfg, config.train, ignore=("device",))]
    net = getattr(getattr(learner, "model", None), "config", None)
    if net is not None and net != config.net:
        differ.append("the network's configuration")
    trainer = getattr(learner, "trainer", None)
    optimizers = [getattr(learner, "optimizer", None), trainer, getattr(trainer, "optimizer", None)]
    names = {type(o).__name__.lower() for o in optimizers if o is not None}
    if names and config.train.optimizer not in names:
        differ.append("the optimizer")
    framework = "mxnet" if type(learner).__module__.endswith("mxnet_backend") else "torch"
    if framework != config.framework:
        differ.append("the framework")
    expected = _weight_shapes(config.net)
    if expected is not None and hasattr(learner, "get_weights"):
        got = {name: tuple(np.shape(w)) for name, w in learner.get_weights().items()}
        if got != expected:
            differ.append("the shapes of the network's weights")
    return differ


def _weight_shapes(net) -> dict | None:
    """The shape of each weight (under ``get_weights``' names) of a network built as ``net`` says: what a
    learner's weights show whatever its config was relabelled to (MF's factor count is the width of ``P``
    and ``Q``, AutoRec's hidden sizes the shapes of its ``W``). None for a network of another kind."""
    from ..config import AutoRecConfig, MFConfig

    if isinstance(net, MFConfig) and net.n_users is not None and net.n_items is not None:
        k = net.n_factors
        return {"P": (net.n_users, k), "Q": (net.n_items, k), "bu": (net.n_users, 1), "bi": (net.n_items, 1),
                "mu": (1,)}
    if isinstance(net, AutoRecConfig) and net.n_inputs is not None:
        shapes = {}
        for k, (fan_in, fan_out) in enumerate(net.layer_sizes):
            shapes[f"W{k}"], shapes[f"b{k}"] = (fan_out, fan_in), (fan_out,)
        return shapes
    return None


def item_autorec(value, what: str):
    """``value``, refused unless it is a trained I-AutoRec ``Result`` (model 'autorec', variant 'item')."""
    result(value, what)
    if value.config.model_type != "autorec" or value.config.variant != "item":
        fail(f"{what} is a {value.config.model_type} ({value.config.variant}) model; this exercise is about "
             "I-AutoRec: model 'autorec', variant 'item'")
    return value


def changed_settings(train, course, ignore: tuple[str, ...] = ("seed", "device", "inputs")) -> dict:
    """The training settings of ``train`` that differ from ``course`` (both ``TrainConfig``), as
    ``{name: value in train}``; ``ignore`` names settings that change no result's meaning."""
    got, want = train.as_dict(), course.as_dict()
    return {key: got.get(key) for key, value in want.items()
            if key not in ignore and not same_setting(got.get(key), value)}


SETTING_RTOL = 1e-6  # a setting typed as a float32 (0.2 -> 0.2000000030) is still that setting


def same_setting(mine, value) -> bool:
    """Whether the setting ``mine`` is ``value``: numbers (NumPy's and 0-d tensors' too, but no bools) equal up
    to float32 rounding, or within 1e-12 of each other (a λ of 1e-20 is a λ of 0); anything else equal."""
    import numbers

    def real(v):
        if isinstance(v, (bool, np.bool_)):
            return None
        if isinstance(v, numbers.Real):
            return float(v)
        return float(v) if getattr(v, "shape", None) == () and hasattr(v, "__float__") else None

    a, b = real(mine), real(value)
    if a is None or b is None:
        return (a is None and b is None) and mine == value
    return math.isclose(a, b, rel_tol=SETTING_RTOL, abs_tol=1e-12)


def close(value, expected: float, tol: float, what: str, hint: str = "") -> float:
    """``value`` within ``tol`` of ``expected``, else a failure that names the learner's value and the
    hint, never the expected value (or anything it could be read off)."""
    x = number(value, what)
    if abs(x - expected) > tol:
        fail(f"{what} = {x:.4f} is not right yet. {hint}".rstrip())
    return x


RESCORE_TOL = 1e-6  # the same code on the same float32 predictions: equal up to rounding


def valid_rmse(result, split, scale: tuple[float, float], what: str) -> float:
    """A trained run's validation RMSE, once its model is shown to score exactly that on ``split.valid``.

    Refuses a run trained or scored on another split (or with validation and test swapped). Reads
    ``split.train`` (to know which users and movies are unseen) and ``split.valid``, never ``split.test``.
    """
    if getattr(split, "valid", None) is None:
        fail("pass the Split the runs were trained on (made by splits.make_split, with a validation part)")
    stored = result.scores.get("valid")
    if stored is None:
        fail(f"{what} has no validation score: train it on a split with a validation part")
    from ..metrics import evaluate

    again = evaluate(result.learner.predict, split.valid, split.train, scale).rmse
    if abs(stored.rmse - again) > RESCORE_TOL:
        name = f"the {split.name!r} split" if getattr(split, "name", "") else "the split"
        fail(f"{what} was not trained and scored on {name} you passed: its stored validation RMSE is not "
             f"what its model scores on that split's validation part")
    return stored.rmse


def finished_training(run, what: str, hint: str) -> None:
    """Refused unless ``run``'s history is that of a whole run of ``experiment.train``: epochs 1, 2, ... with no
    gap, its best epoch the first with the lowest validation RMSE, and it ended where its config's rule ends
    a run, stopped early (``patience`` epochs after the best) or at its budget (``epochs``), never sooner nor
    later; its stored validation score is its best epoch's. A history cut short or run on, or a learner
    trained further after ``experiment.train`` returned, is refused; ``hint`` says what to pass instead."""
    history, train = run.history, run.config.train
    records = list(getattr(history, "records", None) or [])
    epochs = [r.get("epoch") if isinstance(r, dict) else None for r in records]
    if not records or epochs != list(range(1, len(records) + 1)) or history.best_epoch is None:
        fail(f"{what} has no whole training history (one record per epoch, from epoch 1): {hint}")
    scores = [r.get("valid_rmse") for r in records]
    if any(v is None for v in scores):  # no validation part: the last epoch is kept, the budget is spent
        ended = history.best_epoch == len(records) == train.epochs and not history.stopped_early
    else:
        n, best, stop = len(records), 1, None
        for epoch in range(2, n + 1):  # training.fit's rule, replayed on the records
            if scores[epoch - 1] < scores[best - 1]:
                best = epoch
            elif epoch - best >= train.patience:
                stop = epoch  # where its config's patience ends the run
                break
        ended = (best == history.best_epoch and bool(history.stopped_early) == (stop is not None)
                 and (stop == n if stop is not None else n == train.epochs) and n <= train.epochs)
        stored = getattr(run, "scores", {}).get("valid")
        if ended and stored is not None and abs(stored.rmse - scores[best - 1]) > RESCORE_TOL:
            ended = False
    if not ended:
        fail(f"{what}'s history is not that of a run that trained to early stopping or to its epoch budget with "
             f"its settings (cut short, run on, or trained further after experiment.train returned it?): {hint}")


def _files_stamp(folder: Path) -> tuple:
    """Each file of ``folder`` with its size and modification time: the key of a fresh load."""
    try:
        return tuple(sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in Path(folder).iterdir()
                            if p.is_file()))
    except OSError:
        return ()


@functools.lru_cache(maxsize=8)
def _fresh(name: str, folder: str, stamp: tuple):
    """Data set ``name`` loaded again from ``folder`` (kept while its files stay as they are; never handed out)."""
    from .. import datasets

    return datasets.load(name, folder, download=False)


def _fresh_data(data):
    from ..datasets import DataError

    try:
        return _fresh(data.name, str(data.path), _files_stamp(data.path))
    except DataError as err:
        fail(f"the {data.name} data passed cannot be read again from {data.path}, where it was loaded from: {err}")


@functools.lru_cache(maxsize=32)
def _fresh_digests(name: str, folder: str, stamp: tuple, spec=None) -> dict:
    """The digests of the data set's ratings (``spec`` None) or of the parts that ``spec`` rebuilds from it."""
    from ..ratings import ratings_digest

    fresh = _fresh(name, folder, stamp)
    if spec is None:
        return {"ratings": ratings_digest(fresh.ratings)}
    return part_digests(spec.make(fresh))


def part_digests(split) -> dict:
    """Digests of a split's parts: the training and validation ratings, and the (user, movie) pairs of the
    test part only (its ratings are not read). A part that is None has None."""
    from ..ratings import ratings_digest

    def pairs(frame):
        return ratings_digest(frame[["user", "item"]].assign(rating=0.0))

    return {"train": ratings_digest(split.train),
            "valid": None if split.valid is None else ratings_digest(split.valid),
            "test": None if split.test is None else pairs(split.test)}


def rating_data(data, name: str | None = None, what: str = "the data"):
    """``data``, refused unless it is a ``RatingData`` from ``datasets.load`` (of data set ``name`` when given)
    whose ratings and ids are still the ones its files hold: a check that computes from ``data`` must not
    compute from ratings edited in place."""
    from ..ratings import RatingData, ratings_digest

    if not isinstance(data, RatingData):
        fail(f"pass the data set you loaded (a RatingData from datasets.load) as {what}, got {type(data).__name__}")
    if name is not None and data.name != name:
        fail(f"this exercise is about {name}, but {what} is {data.name}: load it with datasets.load({name!r})")
    fresh = _fresh_data(data)
    digest = _fresh_digests(data.name, str(data.path), _files_stamp(data.path))["ratings"]
    same = (np.array_equal(data.user_ids, fresh.user_ids) and np.array_equal(data.item_ids, fresh.item_ids)
            and tuple(data.scale) == tuple(fresh.scale) and len(data.ratings) == len(fresh.ratings)
            and ratings_digest(data.ratings) == digest)
    if not same:
        fail(f"the ratings or ids in {what} are no longer the ones {data.path} holds: were they changed in place "
             f"(e.g. data.ratings[...] = ..., or an inplace=True)? Load the data again with "
             f"datasets.load({data.name!r}), rerun from there, and change a copy (data.ratings.copy()) instead")
    return data


def course_split(split, data, what: str, kind: str, test_fraction: float | None = None,
                 valid_fraction: float | None = None):
    """``split``, refused unless ``splits.make_split(data, kind, ...)`` made it (with ``test_fraction`` and
    ``valid_fraction`` when given; any seed) and its parts are still the ones its spec rebuilds from
    ``data``'s files: a part replaced, swapped or edited is refused. Compares the training and
    validation ratings, and of the test part only which (user, movie) pairs it holds: no test rating
    is read. ``data`` should have passed :func:`rating_data`."""
    from ..datasets import DataError
    from ..splits import Split

    spec = getattr(split, "spec", None)
    if not isinstance(split, Split) or spec is None:
        fail(f"{what} should be the Split that splits.make_split(data, {kind!r}, ...) returns, got "
             f"{type(split).__name__}")
    if spec.dataset != data.name:
        fail(f"{what} was made from {spec.dataset}, not from the {data.name} data passed")
    settings = {"test_fraction": test_fraction, "valid_fraction": valid_fraction}
    wrong = {k: getattr(spec, k) for k, v in settings.items() if v is not None and getattr(spec, k) != v}
    if spec.split != kind or wrong:
        made = ", ".join([repr(spec.split)] + [f"{k}={v}" for k, v in wrong.items()])
        want = ", ".join([repr(kind)] + [f"{k}={v}" for k, v in settings.items() if v is not None])
        fail(f"{what} was made as splits.make_split(data, {made}); this exercise takes splits.make_split(data, {want})")
    if split.name != spec.split:
        fail(f"{what} is named {split.name!r}, but it was made as a {spec.split!r} split: pass it as "
             "splits.make_split returned it")
    _fresh_data(data)
    try:
        want = _fresh_digests(data.name, str(data.path), _files_stamp(data.path), spec)
    except DataError as err:
        fail(f"{what} cannot be made again from the {data.name} files in {data.path}: {err}")
    got = part_digests(split)
    changed = [part for part in ("train", "valid", "test") if got[part] != want[part]]
    if changed:
        fail(f"{what}'s {' and '.join(changed)} part{'s are' if len(changed) > 1 else ' is'} not what "
             f"splits.make_split makes with its settings ({spec.split!r}, seed={spec.seed}): a split's parts must stay "
             "as make_split returned them (were they replaced, swapped or edited?). Make the split again with "
             "splits.make_split")
    return split


def trained_on(value, split, what: str) -> None:
    """Refused unless the Result ``value`` was trained on ``split``: the split it records has the same parts
    (the test part compared by its (user, movie) pairs only), and its learner's own training data are
    ``split.train``'s ratings, no more and no fewer (a run trained elsewhere whose recorded split was
    replaced afterwards is refused). An MF learner's data are its ``users``/``items``/``ratings`` arrays,
    an AutoRec learner's its ``matrix``."""
    name = f"the {split.name!r} split" if getattr(split, "name", "") else "the split"
    mine = getattr(value, "split", None)
    if mine is not split and (mine is None or getattr(mine, "train", None) is None
                              or part_digests(mine) != part_digests(split)):
        fail(f"{what} was not trained on {name} you passed: train it with experiment.train(data, split, ...) "
             "on that split, and pass that same split to the check")
    if not _learner_trained_on(value.learner, split.train, getattr(value.config, "variant", None)):
        fail(f"{what}'s learner was not trained on the training part of {name} you passed, although the run "
             "says it was (was its .split or .scores replaced after training?): train it with "
             "experiment.train(data, split, ...) on that split, and pass the Result as it returned it")


def _as_numpy(values) -> np.ndarray:
    """A NumPy copy of a PyTorch tensor, an MXNet NDArray or an array."""
    if hasattr(values, "asnumpy"):
        return values.asnumpy()
    if hasattr(values, "detach"):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _learner_trained_on(learner, train, variant: str | None) -> bool:
    """Whether ``learner``'s own training data are the ratings of ``train`` (in any order): an AutoRec
    learner's matrix in the run's orientation (``variant``), an MF learner's rating arrays. A learner of no
    class of the library (a test's stand-in) shows no training data and is not judged here."""
    from ..matrix import RatingMatrix

    matrix = getattr(learner, "matrix", None)
    if matrix is not None:
        if getattr(matrix, "variant", None) != variant:
            return False
        rows, columns = matrix.shape
        n_users, n_items = (columns, rows) if variant == "item" else (rows, columns)
        if len(train) and (train["user"].max() >= n_users or train["item"].max() >= n_items):
            return False
        expected = RatingMatrix(train, n_users, n_items, variant)
        return matrix.shape == expected.shape and not (matrix.csr != expected.csr).nnz
    arrays = [getattr(learner, name, None) for name in ("users", "items", "ratings")]
    if any(a is None for a in arrays):  # a learner of the library's always holds its data; another is not judged
        return not any(c.__module__.startswith("autorec_lib.") for c in type(learner).__mro__)
    users, items, ratings = (_as_numpy(a).reshape(-1) for a in arrays)
    if not len(users) == len(items) == len(ratings) == len(train):
        return False
    mine = np.lexsort((items, users))
    theirs = np.lexsort((train["item"].to_numpy(), train["user"].to_numpy()))
    return (np.array_equal(users[mine].astype(np.int64), train["user"].to_numpy()[theirs])
            and np.array_equal(items[mine].astype(np.int64), train["item"].to_numpy()[theirs])
            and np.array_equal(ratings[mine].astype(np.float32), train["rating"].to_numpy(np.float32)[theirs]))


def reference(chapter: str) -> dict:
    """The stored reference answers of one chapter (written by ``make reference``)."""
    path = REFERENCE_DIR / f"{chapter}.json"
    if not path.exists():
        fail(f"no reference answers stored for {chapter} ({path}); run `make reference`")
    return json.loads(path.read_text())


def watched_call(function, args: tuple, call: str, spotted) -> tuple:
    """``(output, seen)``: the learner's ``function`` called on deep copies of ``args`` (it may change what
    it is given), and the names that ``spotted(code)`` gave the Python functions called while it ran (None
    for code it does not look for), whatever name or route reached them: an alias, a helper, a lambda, a
    ``functools.partial``, a module's ``__dict__``. Calls are seen by ``sys.setprofile`` (another profiler
    already set still receives every event); code that runs elsewhere (a grader's kernel, a C extension's
    insides) cannot be seen. What the function raised is reported as a failure naming the ``call``."""
    import copy
    import sys

    args = copy.deepcopy(args)
    seen: set[str] = set()
    before = sys.getprofile()

    def watch(frame, event, arg):
        if event == "call":
            name = spotted(frame.f_code)
            if name:
                seen.add(name)
        if before is not None:
            before(frame, event, arg)

    sys.setprofile(watch)
    try:
        output = function(*args)
    except Exception as err:  # the learner's own code: report what it raised
        fail(f"{call} raised {type(err).__name__}: {err}")
    finally:
        sys.setprofile(before)
    return output, seen


def library_function(fn) -> bool:
    """Whether ``fn`` is itself a function (or method) of the course library: an exercise that asks the
    learner to write something refuses the library's own. A learner's function that only wraps one is
    caught where a check watches the calls it makes (:func:`watched_call`)."""
    import inspect

    module = getattr(fn, "__module__", None) if inspect.isroutine(fn) else None
    return bool(module) and module.split(".")[0] == "autorec_lib"
