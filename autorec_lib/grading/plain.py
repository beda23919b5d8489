"""Values as plain data: how a learner's answers leave their kernel and are rebuilt in the grader.

The kernel side (:func:`collect`, run by the grader's collection snippet in the learner's kernel)
writes each value as JSON, NumPy arrays (``np.save`` without pickle), tensors (``torch.save`` of a
plain tensor) and course checkpoints (``Result.save``); the grader side (:func:`snapshot`, then
:class:`Decoder`) copies those files out of the kernel's folder at once and rebuilds the values with
loaders that cannot run code: ``json``, ``np.load(allow_pickle=False)``, ``torch.load(weights_only=True)``
and the checkpoint reader. Nothing a kernel wrote is ever unpickled in the grader.

A :class:`~autorec_lib.ratings.RatingData` is never taken from the learner: only its name crosses, and
the grader loads its own copy. A function crosses as a handle: the grader's :class:`RemoteFunction`
sends its inputs (as plain data) to the kernel, which applies the learner's function there
(:func:`apply`) and returns the output as plain data; so a check can call it like a local one while
the learner's code runs only in the kernel. Anything else without a plain form here (a network, an
object array) is refused with :class:`NotPlainData`, naming the type.

Every tagged value is a JSON object with the key ``"$"``; plain JSON objects never appear untagged,
so a dict the learner built cannot pass for one of these forms.
"""
from __future__ import annotations

import dataclasses
import functools
import inspect
import json
import os
import pickle
import re
import shutil
import stat
import sys
from pathlib import Path

import numpy as np

TAG = "$"
INDEX = "values.json"
FILE = re.compile(r"v\d{1,6}\.(npy|pt|npz)")  # the only file names the grader reads from a kernel's folder
MAX_DEPTH = 40
MAX_FILE_BYTES = 1 << 30  # what one value's file may hold (the kernel's file-size limit is the same)
NUMBER_DTYPES = {"bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
                 "float16", "float32", "float64"}


class NotPlainData(TypeError):
    """A value that cannot cross from a learner's kernel to the grader as plain data (the message says why)."""


FUNCTIONS: list = []  # kernel side: the functions handed to the grader, by handle (their index)


# ---------------------------------------------------------------- kernel side: encode and collect

class _Files:
    """Numbered files in one folder: ``v0.npy``, ``v1.pt``, ..."""

    def __init__(self, folder: Path):
        self.folder, self.count = Path(folder), 0

    def new(self, suffix: str) -> tuple[str, Path]:
        name = f"v{self.count}{suffix}"
        self.count += 1
        return name, self.folder / name


def _module(name: str):
    """A module the kernel has already imported, else None (encoding never imports a framework)."""
    return sys.modules.get(name)


def _course_type(value, module: str, name: str) -> bool:
    mod = _module(module)
    return mod is not None and isinstance(value, getattr(mod, name))


def encode(value, files: _Files, depth: int = 0):
    """``value`` as JSON-able data, writing arrays, tensors and checkpoints into ``files``' folder."""
    if depth > MAX_DEPTH:
        raise NotPlainData(f"the value is nested more than {MAX_DEPTH} levels deep")
    sub = lambda v: encode(v, files, depth + 1)  # noqa: E731
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.generic):
        return _encode_numpy_scalar(value, files)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [sub(v) for v in value]
        if isinstance(value, list):
            return items
        return {TAG: "tuple" if isinstance(value, tuple) else "set", "items": items}
    if isinstance(value, dict):
        return {TAG: "dict", "items": [[sub(k), sub(v)] for k, v in value.items()]}
    if isinstance(value, np.ndarray):
        return _encode_array(value, files)
    pd = _module("pandas")
    if pd is not None and isinstance(value, (pd.DataFrame, pd.Series, pd.Index)):
        return _encode_pandas(value, files, sub)
    torch = _module("torch")
    if torch is not None and isinstance(value, torch.Tensor):
        name, path = files.new(".pt")
        torch.save(value.detach().to("cpu").clone(), path)
        return {TAG: "tensor", "file": name, "requires_grad": bool(value.requires_grad)}
    if inspect.isfunction(value) or inspect.ismethod(value) or inspect.isbuiltin(value) or \
            isinstance(value, functools.partial):
        FUNCTIONS.append(value)
        return {TAG: "function", "handle": len(FUNCTIONS) - 1, "name": str(getattr(value, "__name__", "function"))}
    return _encode_course(value, files, sub)


def _encode_numpy_scalar(value, files: _Files):
    if value.dtype.name in NUMBER_DTYPES:
        return {TAG: "np", "dtype": value.dtype.name, "value": value.item()}
    return _encode_array(np.asarray(value), files)  # 0-d array: exact, whatever the dtype


def _encode_array(value: np.ndarray, files: _Files):
    if isinstance(value, np.ma.MaskedArray):
        raise NotPlainData("a masked array cannot be carried: fill it (array.filled(np.nan)) or pass its data and mask")
    if value.dtype.hasobject:
        flat = value.ravel().tolist()
        if all(isinstance(v, str) for v in flat):
            return {TAG: "strings", "shape": list(value.shape), "items": [str.__str__(v) for v in flat]}
        kinds = sorted({type(v).__name__ for v in flat if not isinstance(v, str)})
        raise NotPlainData(f"an array of Python objects ({', '.join(kinds[:3])}) cannot be carried as plain data: "
                           "make it an array of numbers or strings")
    name, path = files.new(".npy")
    with open(path, "wb") as f:
        np.save(f, np.ascontiguousarray(value), allow_pickle=False)
    return {TAG: "ndarray", "file": name}


def _encode_column(values, files: _Files, what: str):
    array = values.to_numpy()
    try:
        encoded = _encode_array(array, files)
    except NotPlainData as err:
        raise NotPlainData(f"{what} of dtype {values.dtype}: {err}") from None
    return {**encoded, "dtype": str(values.dtype)}


def _encode_index(index, files: _Files, sub):
    pd = _module("pandas")
    if isinstance(index, pd.RangeIndex):
        return {TAG: "range", "start": index.start, "stop": index.stop, "step": index.step, "name": sub(index.name)}
    if isinstance(index, pd.MultiIndex):
        return {TAG: "multiindex", "names": [sub(n) for n in index.names],
                "levels": [_encode_column(index.get_level_values(k), files, f"index level {k}")
                           for k in range(index.nlevels)]}
    return {TAG: "index", "values": _encode_column(index, files, "the index"), "name": sub(index.name)}


def _encode_pandas(value, files: _Files, sub):
    pd = _module("pandas")
    if isinstance(value, pd.Index):
        return _encode_index(value, files, sub)
    if isinstance(value, pd.Series):
        return {TAG: "series", "data": _encode_column(value, files, f"series {value.name!r}"),
                "index": _encode_index(value.index, files, sub), "name": sub(value.name)}
    return {TAG: "frame", "columns": _encode_index(value.columns, files, sub),
            "data": [_encode_column(value.iloc[:, k], files, f"column {value.columns[k]!r}")
                     for k in range(value.shape[1])],
            "index": _encode_index(value.index, files, sub)}


def _encode_course(value, files: _Files, sub):
    """The course's own types: data by name, splits as frames, runs as checkpoints."""
    if _course_type(value, "autorec_lib.ratings", "RatingData"):
        return {TAG: "ratingdata", "name": str(value.name)}
    if _course_type(value, "autorec_lib.splits", "Split"):
        return {TAG: "split", "train": sub(value.train), "valid": sub(value.valid), "test": sub(value.test),
                "name": sub(value.name), "spec": sub(value.spec.to_dict() if value.spec is not None else None)}
    if _course_type(value, "autorec_lib.splits", "SplitSpec"):
        return {TAG: "splitspec", "fields": sub(value.to_dict())}
    if _course_type(value, "autorec_lib.metrics", "Evaluation"):
        return {TAG: "evaluation", "fields": sub(value.as_dict())}
    if _course_type(value, "autorec_lib.training", "History"):
        return {TAG: "history", "records": sub(value.records), "best_epoch": sub(value.best_epoch),
                "stopped_early": sub(value.stopped_early)}
    if _course_type(value, "autorec_lib.config", "RunConfig"):
        return {TAG: "runconfig", "fields": sub(value.as_dict())}
    if _course_type(value, "autorec_lib.experiment", "Result"):
        name, path = files.new(".npz")
        value.save(path)
        return {TAG: "result", "checkpoint": name, "history": sub(value.history), "scores": sub(value.scores),
                "data": sub(value.data), "split": sub(value.split), "device": sub(value.device),
                "seconds": sub(value.seconds), "warm_start": bool(value.warm_start),
                # what the learner itself was built with: a check compares it with the run's config
                "learner_train": sub(value.learner.cfg.as_dict())}
    if _course_type(value, "autorec_lib.matrix", "RatingMatrix"):
        coo = value.csr.tocoo()
        return {TAG: "ratingmatrix", "variant": value.variant, "shape": [int(n) for n in value.shape],
                "rows": sub(coo.row.astype(np.int64)), "columns": sub(coo.col.astype(np.int64)),
                "values": sub(coo.data.astype(np.float32))}
    if _course_type(value, "autorec_lib.torch_backend", "AutoRec"):  # the course's network: config and weights
        name, path = files.new(".pt")
        _module("torch").save({k: v.detach().to("cpu").clone() for k, v in value.state_dict().items()}, path)
        return {TAG: "autorec", "config": sub(dataclasses.asdict(value.config)), "weights": name,
                "training": bool(value.training)}
    if _course_type(value, "autorec_lib.torch_backend", "AutoRecLearner"):  # its network, data and settings
        attributes = {k: v for k, v in vars(value).items()
                      if not k.startswith("_") and type(v) in (bool, int, float, str)}
        return {TAG: "autoreclearner", "config": sub(dataclasses.asdict(value.model.config)),
                "weights": sub(value.get_weights()), "matrix": sub(value.matrix), "cfg": sub(value.cfg.as_dict()),
                "output": [float(value.output.a), float(value.output.b)],
                "sparse": _course_type(value, "autorec_lib.sparse", "SparseAutoRecLearner"),
                "attributes": sub(attributes), "kind": type(value).__name__}
    if _module("torch.nn") is not None and type(value) is _module("torch.nn").Sequential:  # torch's own layers
        return _encode_sequential(value, files)
    if _course_type(value, "autorec_lib.trained", "TrainedModel"):
        name, path = files.new(".npz")
        value.save(path)
        return {TAG: "trainedmodel", "checkpoint": name}
    kind = type(value)
    raise NotPlainData(f"a {kind.__module__}.{kind.__qualname__} cannot be carried out of the notebook as "
                       "plain data (numbers, strings, lists, dicts, arrays, data frames, tensors, and the course's "
                       "data, splits and trained runs can)")


# The layers an ``nn.Sequential`` may hold to cross (a network written in the notebook, as chapter 6's
# deeper model is): each is rebuilt in the grader from its kind, its sizes and its weights, so none of
# the learner's code comes along. A layer of another kind (or a module class of the notebook's own)
# cannot cross.
SEQUENTIAL_LAYERS = {"Linear": ("in_features", "out_features"), "Sigmoid": (), "ReLU": (), "ELU": ("alpha",),
                     "Tanh": (), "Identity": (), "Dropout": ("p",)}


def _encode_sequential(value, files: _Files):
    torch = _module("torch")
    layers = []
    for layer in value:
        kind = type(layer)
        if kind.__module__.split(".")[:2] != ["torch", "nn"] or kind.__name__ not in SEQUENTIAL_LAYERS:
            raise NotPlainData(f"an nn.Sequential crosses only when it holds layers of the kinds "
                               f"{', '.join(SEQUENTIAL_LAYERS)}; it holds a {kind.__module__}.{kind.__qualname__}")
        entry = {"kind": kind.__name__, "args": {k: getattr(layer, k) for k in SEQUENTIAL_LAYERS[kind.__name__]}}
        if kind.__name__ == "Linear":
            name, path = files.new(".pt")
            torch.save({k: v.detach().to("cpu").clone() for k, v in layer.state_dict().items()}, path)
            entry["weights"], entry["args"]["bias"] = name, layer.bias is not None
            entry["dtype"] = str(layer.weight.dtype).removeprefix("torch.")
        layers.append(entry)
    return {TAG: "sequential", "layers": layers, "training": bool(value.training)}


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def collect(folder: str, thunks: dict) -> None:
    """Kernel side: evaluate each ``thunks[key]()`` and write its value as plain data into ``folder``.

    ``folder/values.json`` holds ``{"values": {key: encoded}, "problems": {key: {"kind", "error"}}}``:
    ``raised`` when evaluating the expression raised (a name the notebook never defined, say),
    ``not plain`` when its value has no plain form. Prints nothing: the notebook's output is not read.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    files, values, problems = _Files(folder), {}, {}
    for key, thunk in thunks.items():
        try:
            value = thunk()
        except Exception as err:  # noqa: BLE001 (the learner's code: any exception is an answer's state)
            problems[key] = {"kind": "raised", "error": f"{type(err).__name__}: {err}"}
            continue
        try:
            values[key] = encode(value, files)
        except Exception as err:  # noqa: BLE001
            detail = str(err) if isinstance(err, NotPlainData) else f"{type(err).__name__}: {err}"
            problems[key] = {"kind": "not plain", "error": detail}
    _write_atomic(folder / INDEX, json.dumps({"values": values, "problems": problems}))


def _gradients(result, inputs: list):
    """d result / d each input that requires a gradient, when ``result`` is a one-element tensor (else None)."""
    torch = _module("torch")
    if torch is None or not (isinstance(result, torch.Tensor) and result.requires_grad and result.numel() == 1):
        return None
    wanted = [x for x in inputs if isinstance(x, torch.Tensor) and x.requires_grad]
    if not wanted:
        return None
    grads = torch.autograd.grad(result, wanted, allow_unused=True)
    return [g.detach() if g is not None else None for g in grads]


def apply(request: str, reply: str, handle: int) -> None:
    """Kernel side: call function ``handle`` on the inputs the grader wrote in ``request``; the output
    (and the gradients of a one-element tensor output, see :class:`RemoteFunction`) go to ``reply``."""
    encoded, _ = read_index(Path(request))
    decode = Decoder(Path(request), load_data=None)
    args, kwargs = decode(encoded["args"]), decode(encoded["kwargs"])

    def call():
        result = FUNCTIONS[handle](*args, **kwargs)
        return {"result": result, "grads": _gradients(result, [*args, *kwargs.values()])}

    collect(reply, {"output": call})


# ---------------------------------------------------------------- grader side: snapshot and decode

def _copy_regular(source: Path, target: Path, limit: int = MAX_FILE_BYTES) -> None:
    """Copy a regular file without following a link, refusing more than ``limit`` bytes."""
    fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    with os.fdopen(fd, "rb") as src:
        info = os.fstat(src.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise NotPlainData(f"{source.name} is not a regular file")
        if info.st_size > limit:
            raise NotPlainData(f"{source.name} holds {info.st_size} bytes, more than the {limit} allowed")
        with open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)


def snapshot(source: Path, target: Path) -> bool:
    """Copy what :func:`collect` wrote in ``source`` (the kernel's folder) into the grader's own ``target``.

    Only ``values.json`` and files named like ``v12.npy`` are copied, each only if it is a regular file
    (links and devices are refused); the grader reads the copies, which the kernel can no longer
    touch. False when ``source`` holds no ``values.json`` (the collection never ran).
    """
    target.mkdir(parents=True, exist_ok=True)
    try:
        names = os.listdir(source)
    except FileNotFoundError:
        return False
    if INDEX not in names:
        return False
    _copy_regular(source / INDEX, target / INDEX, 64 << 20)
    for name in names:
        if FILE.fullmatch(name):
            try:
                _copy_regular(source / name, target / name)
            except (OSError, NotPlainData):
                pass  # a value that needs this file is refused when it is decoded
    return True


def read_index(folder: Path) -> tuple[dict, dict]:
    """The encoded values and the problems from a snapshot's ``values.json``, refused unless well formed."""
    try:
        index = json.loads((folder / INDEX).read_text())
    except (OSError, ValueError) as err:
        raise NotPlainData(f"the collected values are unreadable ({err})") from None
    values, problems = (index.get("values"), index.get("problems")) if isinstance(index, dict) else (None, None)
    if not (isinstance(values, dict) and isinstance(problems, dict)
            and all(isinstance(p, dict) and isinstance(p.get("error"), str) for p in problems.values())):
        raise NotPlainData("the collected values are not in the grader's format")
    return values, problems


class Decoder:
    """Rebuilds encoded values from a snapshot folder; ``load_data(name)`` supplies the grader's own data,
    and ``call(handle, args, kwargs)`` calls a function in the kernel it came from (None: no functions)."""

    def __init__(self, folder: Path, load_data, call=None):
        self.folder, self.load_data, self.call = Path(folder), load_data, call

    def file(self, name) -> Path:
        if not (isinstance(name, str) and FILE.fullmatch(name)):
            raise NotPlainData(f"{name!r} is not a file name the grader reads")
        path = self.folder / name
        if not path.is_file():
            raise NotPlainData(f"the value's file {name} is missing or was refused")
        return path

    def __call__(self, obj, depth: int = 0):
        if depth > MAX_DEPTH + 5:
            raise NotPlainData("the value is nested too deeply")
        if obj is None or type(obj) in (bool, int, float, str):
            return obj
        if isinstance(obj, list):
            return [self(v, depth + 1) for v in obj]
        if not (isinstance(obj, dict) and isinstance(obj.get(TAG), str)):
            raise NotPlainData("the collected values hold an untagged object")
        method = getattr(self, f"_{obj[TAG]}", None)
        if method is None:
            raise NotPlainData(f"unknown kind of value {obj[TAG]!r}")
        try:
            return method(obj, lambda v: self(v, depth + 1))
        except (KeyError, TypeError, ValueError, AttributeError, RuntimeError, pickle.UnpicklingError) as err:
            if isinstance(err, (NotPlainData, LearnerRaised)):
                raise
            detail = f"{type(err).__name__}: {err}"
            raise NotPlainData(f"a {obj[TAG]} value could not be rebuilt safely ({detail})") from None

    # containers and numbers
    def _tuple(self, obj, sub):
        return tuple(sub(v) for v in obj["items"])

    def _set(self, obj, sub):
        return {sub(v) for v in obj["items"]}

    def _dict(self, obj, sub):
        return {sub(k): sub(v) for k, v in obj["items"]}

    def _np(self, obj, sub):
        if obj["dtype"] not in NUMBER_DTYPES or type(obj["value"]) not in (bool, int, float):
            raise NotPlainData(f"a NumPy {obj['dtype']!r} scalar is not plain data")
        return np.dtype(obj["dtype"]).type(obj["value"])

    def _strings(self, obj, sub):
        items = obj["items"]
        if not all(isinstance(v, str) for v in items):
            raise NotPlainData("an array of strings holds something else")
        array = np.empty(len(items), dtype=object)
        array[:] = items
        return array.reshape([int(n) for n in obj["shape"]])

    def _ndarray(self, obj, sub):
        return np.load(self.file(obj["file"]), allow_pickle=False)  # an object array raises ValueError

    def _tensor(self, obj, sub):
        import torch

        try:
            tensor = torch.load(self.file(obj["file"]), map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            raise NotPlainData(f"a tensor file holds more than a tensor ({str(err).splitlines()[0]})") from None
        if not isinstance(tensor, torch.Tensor):
            raise NotPlainData(f"a tensor file holds a {type(tensor).__name__}")
        if obj.get("requires_grad") is True and tensor.is_floating_point():
            tensor.requires_grad_(True)
        return tensor

    def _function(self, obj, sub):
        if self.call is None:
            raise NotPlainData("a function can only be graded while its notebook's kernel runs")
        return RemoteFunction(int(obj["handle"]), str(obj["name"]), self.call)

    # pandas
    def _column(self, obj, sub):
        import pandas as pd

        values = sub({k: v for k, v in obj.items() if k != "dtype"})
        column = pd.Series(values.reshape(-1) if values.ndim else values)
        if str(column.dtype) != obj.get("dtype"):
            try:
                column = column.astype(obj["dtype"])
            except (TypeError, ValueError):
                pass  # keep the values as read
        return column

    def _index_of(self, obj, sub):
        import pandas as pd

        kind = obj.get(TAG)
        if kind == "range":
            return pd.RangeIndex(int(obj["start"]), int(obj["stop"]), int(obj["step"]), name=sub(obj["name"]))
        if kind == "multiindex":
            levels = [self._column(level, sub) for level in obj["levels"]]
            return pd.MultiIndex.from_arrays(levels, names=[sub(n) for n in obj["names"]])
        if kind == "index":
            return pd.Index(self._column(obj["values"], sub), name=sub(obj["name"]))
        raise NotPlainData(f"{kind!r} is not an index")

    _range = _multiindex = _index = _index_of

    def _series(self, obj, sub):
        column = self._column(obj["data"], sub)
        column.index = self._index_of(obj["index"], sub)
        column.name = sub(obj["name"])
        return column

    def _frame(self, obj, sub):
        import pandas as pd

        index = self._index_of(obj["index"], sub)
        columns = self._index_of(obj["columns"], sub)
        data = {k: self._column(c, sub).array for k, c in enumerate(obj["data"])}  # arrays: no alignment
        frame = pd.DataFrame(data, index=index)
        if len(columns) != frame.shape[1]:
            raise NotPlainData("a data frame's columns and data disagree")
        frame.columns = columns
        return frame

    # the course's types
    def _ratingdata(self, obj, sub):
        from ..registry import DATASETS

        name = obj["name"]
        if name not in DATASETS:
            raise NotPlainData(f"{name!r} is not one of the course's data sets ({', '.join(DATASETS)})")
        return self.load_data(name)

    def _split(self, obj, sub):
        from ..splits import Split, SplitSpec

        spec = sub(obj["spec"])
        return Split(sub(obj["train"]), sub(obj["test"]), sub(obj["valid"]), sub(obj["name"]),
                     SplitSpec.from_dict(spec) if spec is not None else None)

    def _splitspec(self, obj, sub):
        from ..splits import SplitSpec

        return SplitSpec.from_dict(sub(obj["fields"]))

    def _evaluation(self, obj, sub):
        from ..metrics import Evaluation

        return Evaluation(**sub(obj["fields"]))

    def _history(self, obj, sub):
        from ..training import History

        return History(sub(obj["records"]), sub(obj["best_epoch"]), bool(sub(obj["stopped_early"])))

    def _runconfig(self, obj, sub):
        from ..config import RunConfig

        return RunConfig.from_dict(sub(obj["fields"]))

    def _ratingmatrix(self, obj, sub):
        import pandas as pd

        from ..matrix import RatingMatrix

        variant, (n_rows, n_columns) = obj["variant"], obj["shape"]
        rows, columns = sub(obj["rows"]), sub(obj["columns"])
        users, items = (columns, rows) if variant == "item" else (rows, columns)
        n_users, n_items = (n_columns, n_rows) if variant == "item" else (n_rows, n_columns)
        frame = pd.DataFrame({"user": users, "item": items, "rating": sub(obj["values"])})
        return RatingMatrix(frame, int(n_users), int(n_items), variant)

    def _autorec(self, obj, sub):
        import torch

        from ..torch_backend import AutoRec

        state = torch.load(self.file(obj["weights"]), map_location="cpu", weights_only=True)
        if not (isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())):
            raise NotPlainData("an AutoRec's weights file holds more than its weights")
        model = AutoRec(**sub(obj["config"]))
        model.load_state_dict(state)
        return model.train(bool(obj["training"]))

    def _sequential(self, obj, sub):
        """An ``nn.Sequential`` of torch's own layers (:data:`SEQUENTIAL_LAYERS`), rebuilt from kinds, sizes and weights."""
        import torch
        from torch import nn

        layers = []
        for entry in obj["layers"]:
            kind, args = entry["kind"], dict(entry["args"])
            if kind not in SEQUENTIAL_LAYERS or set(args) - set(SEQUENTIAL_LAYERS[kind]) - {"bias"}:
                raise NotPlainData(f"an nn.Sequential's layer {kind!r} is not one the grader rebuilds")
            if not all(type(v) in (bool, int, float) for v in args.values()):
                raise NotPlainData(f"an nn.Sequential's {kind} layer has settings that are not numbers")
            if kind == "Linear":
                dtype = getattr(torch, str(entry["dtype"]), None)
                if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
                    raise NotPlainData("an nn.Sequential's Linear layer has no floating-point type")
                layer = nn.Linear(int(args["in_features"]), int(args["out_features"]), bias=bool(args["bias"]),
                                  dtype=dtype)
                state = torch.load(self.file(entry["weights"]), map_location="cpu", weights_only=True)
                if not (isinstance(state, dict) and all(isinstance(v, torch.Tensor) for v in state.values())):
                    raise NotPlainData("a Linear layer's weights file holds more than its weights")
                layer.load_state_dict(state)
            else:
                layer = getattr(nn, kind)(**args)
            layers.append(layer)
        return nn.Sequential(*layers).train(bool(obj["training"]))

    def _autoreclearner(self, obj, sub):
        """The library's PyTorch AutoRec learner with the network's weights, the matrix and the settings it
        was trained with, and the learner's own plain attributes (``fill``, say) where the library's has none.
        A learner class of the notebook's own crosses as the library's: its methods stay in the kernel."""
        import torch

        from ..config import TrainConfig
        from ..objective import DECODER_RANGE
        from ..sparse import SparseAutoRecLearner
        from ..torch_backend import AutoRec, AutoRecLearner

        config, (a, b) = sub(obj["config"]), (float(v) for v in obj["output"])
        bounded = DECODER_RANGE.get(config.get("decoder"))
        scale = tuple((f - b) / a for f in bounded) if bounded else None
        kind = SparseAutoRecLearner if obj["sparse"] else AutoRecLearner
        learner = kind(AutoRec(**config), sub(obj["matrix"]), TrainConfig(**sub(obj["cfg"])), torch.device("cpu"),
                       scale)
        learner.output.a, learner.output.b = a, b
        learner.set_weights(sub(obj["weights"]))
        for name, value in sub(obj["attributes"]).items():
            if isinstance(name, str) and name.isidentifier() and not hasattr(learner, name):
                setattr(learner, name, value)
        return learner

    def _trained(self, name):
        """The checkpoint's model, computing on the CPU here, with its configuration as trained (device too)."""
        from ..checkpoint import CheckpointError
        from ..config import RunConfig
        from ..trained import load

        try:
            model = load(self.file(name), device="cpu")
        except CheckpointError as err:
            raise NotPlainData(f"the trained model's checkpoint is refused: {err}") from None
        model.config = RunConfig.from_dict(model.meta["config"])
        return model

    def _trainedmodel(self, obj, sub):
        return self._trained(obj["checkpoint"])

    def _result(self, obj, sub):
        from ..experiment import Result

        from ..config import TrainConfig

        model = self._trained(obj["checkpoint"])
        if "learner_train" in obj:  # the learner as it was in the kernel, whatever the run's config says
            model.learner.cfg = TrainConfig(**sub(obj["learner_train"]))
        return Result(model.config, sub(obj["history"]), sub(obj["scores"]), model.learner, sub(obj["data"]),
                      sub(obj["split"]), str(sub(obj["device"])), float(sub(obj["seconds"])),
                      warm_start=bool(obj.get("warm_start", False)))


class LearnerRaised(Exception):
    """The learner's function raised in its kernel; the subclass bears the exception's name there."""

    @classmethod
    def named(cls, error: str) -> "LearnerRaised":
        name, _, message = error.partition(": ")
        kind = type(name if name.isidentifier() else "LearnerError", (cls,), {})
        return kind(message)


class RemoteFunction:
    """A learner's function, called from the grader: inputs and output cross as plain data.

    ``call(handle, args, kwargs)`` (the grader's, bound to the running kernel) returns ``(output,
    gradients)``. When the output is a one-element tensor and some input tensors require a gradient,
    the kernel also returns d output / d input, and the output here carries them into autograd, so
    that ``output.backward()`` fills the inputs' ``.grad`` as if the function had run here.
    """

    def __init__(self, handle: int, name: str, call):
        self.handle, self.__name__, self._call = handle, name, call

    def __repr__(self) -> str:
        return f"<the learner's function {self.__name__}>"

    def __call__(self, *args, **kwargs):
        output, grads = self._call(self.handle, list(args), dict(kwargs))
        if grads is None:
            return output
        import torch

        inputs = [x for x in [*args, *kwargs.values()] if isinstance(x, torch.Tensor) and x.requires_grad]
        if not (isinstance(output, torch.Tensor) and isinstance(grads, list) and len(grads) == len(inputs)):
            return output
        return _carried_gradient().apply(output, tuple(grads), *inputs)


@functools.lru_cache(maxsize=None)
def _carried_gradient():
    import torch

    class CarriedGradient(torch.autograd.Function):
        """Forward: the kernel's output. Backward: the kernel's gradients, times the incoming one."""

        @staticmethod
        def forward(ctx, output, grads, *inputs):
            ctx.grads = grads
            return output.clone()

        @staticmethod
        def backward(ctx, grad_output):
            return (None, None, *[None if g is None else grad_output * g for g in ctx.grads])

    return CarriedGradient
