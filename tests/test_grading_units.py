"""The grader's parts without a kernel: the manifest read from the solution notebooks, plain data across
the kernel boundary (and what it refuses), learners' names, recognising a submission, the command's errors.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import pytest
import torch

from autorec_lib import cli, experiment, splits
from autorec_lib.grading import book, manifest, plain, sandbox
from autorec_lib.metrics import Evaluation
from autorec_lib.training import History

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = ROOT / "notebooks" / "01_setup_and_data.ipynb"
LEARNER = ROOT / "notebooks" / "student" / SOLUTION.name


class Payload:
    """Unpickling it creates ``marker``: the proof that something ran it."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


# ---------------------------------------------------------------- the manifest

def test_chapter_1s_manifest_comes_from_its_solution_notebook():
    chapter = manifest.read_chapter(SOLUTION)
    nb = nbformat.read(SOLUTION, as_version=4)
    cells = {c.id: c for c in nb.cells}
    assert [c.column for c in chapter.checks] == ["ch01.check_latest_small", "ch01.check_heavy_vs_light",
                                                  "ch01.check_holdout"]
    for check in chapter.checks:
        assert f"{check.function}(" in cells[check.cell_id].source
        assert check.exercise_cells and all(manifest.is_solution_cell(cells[i]) for i in check.exercise_cells)
        assert [a.source for a in check.args][1] in ("small", "data") and not any(a.literal for a in check.args)
    collecting = chapter.check_cells[chapter.checks[0].cell_id].collecting_source({"ch01.check_latest_small": "/f"})
    assert "check_" not in collecting
    assert "collect('/f', {'0': lambda: (latest_small), '1': lambda: (small)})" in collecting


def test_every_chapter_has_a_manifest_with_one_column_per_check_call():
    chapters = manifest.course_chapters()
    assert [c.name[:2] for c in chapters] == [f"{k:02d}" for k in range(1, 10)]
    columns = [check.column for ch in chapters for check in ch.checks]
    assert len(columns) == len(set(columns))
    ch06 = next(ch for ch in chapters if ch.name.startswith("06"))
    assert [c.column for c in ch06.checks if c.function == "check_best"] == [
        "ch06.check_best[best_hidden]", "ch06.check_best[best_pair]", "ch06.check_best[best_dropout]"]
    literal = next(c for c in ch06.checks if c.function == "check_best").args[2]
    assert literal.literal and literal.value == "best hidden size"


def test_a_solution_notebook_calling_a_check_that_does_not_exist_is_refused(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("from autorec_lib.exercises import ch01"),
                                         nbformat.v4.new_code_cell("ch01.check_nothing(x)")])
    nbformat.write(nb, tmp_path / "99_x.ipynb")
    with pytest.raises(manifest.ManifestError, match="check_nothing, which does not exist"):
        manifest.read_chapter(tmp_path / "99_x.ipynb")


# ---------------------------------------------------------------- plain data across the boundary

def carry(tmp_path: Path, values: dict, load_data=lambda name: f"the grader's {name}"):
    """``values`` collected as a kernel would, snapshotted and decoded as the grader does."""
    kernel, grader = tmp_path / "kernel", tmp_path / "grader"
    plain.collect(str(kernel), {k: (lambda v=v: v) for k, v in values.items()})
    assert plain.snapshot(kernel, grader)
    encoded, problems = plain.read_index(grader)
    decode = plain.Decoder(grader, load_data)
    return {k: decode(v) for k, v in encoded.items()}, problems


def test_numbers_containers_and_arrays_come_back_with_their_types(tmp_path):
    values = {"d": {"a": 1, 2: [1.5, None, True], ("x", 1): "s", "nan": float("nan")},
              "f32": np.float32(1.25), "b": np.bool_(True), "i": np.int64(7), "t": (1, "2"), "s": {3, 4},
              "a": np.arange(6, dtype=np.float32).reshape(2, 3), "u": np.array(["x", "yz"]),
              "o": np.array(["x", "y"], dtype=object)}
    got, problems = carry(tmp_path, values)
    assert problems == {}
    assert got["d"]["a"] == 1 and got["d"][2] == [1.5, None, True] and got["d"][("x", 1)] == "s"
    assert np.isnan(got["d"]["nan"])
    assert type(got["f32"]) is np.float32 and got["f32"] == 1.25
    assert type(got["b"]) is np.bool_ and type(got["i"]) is np.int64
    assert got["t"] == (1, "2") and got["s"] == {3, 4}
    assert got["a"].dtype == np.float32 and np.array_equal(got["a"], values["a"])
    assert np.array_equal(got["u"], values["u"]) and list(got["o"]) == ["x", "y"]


def test_frames_series_and_tensors_come_back_equal(tmp_path):
    index = pd.MultiIndex.from_tuples([("sigmoid", "identity"), ("relu", "sigmoid")], names=["g", "f"])
    frame = pd.DataFrame({"rmse": [0.9, 1.0], "epochs": [3, 4], "name": ["a", "b"]}, index=index)
    series = pd.Series([0.5, 0.25], index=[1, 5], name="ndcg")
    tensor = torch.arange(4.0, requires_grad=True) * 2
    got, problems = carry(tmp_path, {"frame": frame, "series": series, "tensor": tensor, "index": pd.Index([3, 1])})
    assert problems == {}
    pd.testing.assert_frame_equal(got["frame"], frame)
    pd.testing.assert_series_equal(got["series"], series)
    assert torch.equal(got["tensor"], tensor.detach()) and list(got["index"]) == [3, 1]


def test_course_data_crosses_by_name_and_a_trained_run_as_its_checkpoint(tmp_path, small_data):
    split = splits.make_split(small_data, "random", seed=0)
    result = experiment.train(small_data, split, "biased-mf", n_factors=3, epochs=2, device="auto", progress=False)
    loaded = {}

    def load_data(name):  # the grader's own copy: the learner's is never used
        loaded[name] = small_data
        return small_data

    got, problems = carry(tmp_path, {"data": small_data, "split": split, "result": result,
                                     "scores": result.scores, "history": result.history}, load_data)
    assert problems == {} and set(loaded) == {"ml-100k"} and got["data"] is small_data
    pd.testing.assert_frame_equal(got["split"].valid, split.valid)
    assert got["split"].spec == split.spec and got["scores"] == result.scores
    assert isinstance(got["history"], History) and got["history"].records == result.history.records
    rebuilt = got["result"]
    assert isinstance(rebuilt, experiment.Result) and rebuilt.scores == result.scores
    users, items = split.valid["user"].to_numpy(), split.valid["item"].to_numpy()
    assert np.allclose(rebuilt.learner.predict(users, items), result.learner.predict(users, items))
    assert rebuilt.config == result.config and rebuilt.history.best_epoch == result.history.best_epoch
    assert isinstance(rebuilt.scores["valid"], Evaluation)


def test_the_courses_network_and_rating_matrix_come_back_as_config_weights_and_entries(tmp_path, small_data):
    from autorec_lib.matrix import RatingMatrix
    from autorec_lib.torch_backend import AutoRec

    network = AutoRec(small_data.n_users, (5, 3, 5)).eval()
    matrix = RatingMatrix(small_data.ratings, small_data.n_users, small_data.n_items, "item")
    got, problems = carry(tmp_path, {"network": network, "matrix": matrix})
    assert problems == {}
    assert type(got["network"]) is AutoRec and got["network"].config == network.config and not got["network"].training
    for (name, a), (_, b) in zip(network.state_dict().items(), got["network"].state_dict().items()):
        assert torch.equal(a, b), name
    assert got["matrix"].variant == "item" and got["matrix"].shape == matrix.shape
    assert (got["matrix"].csr != matrix.csr).nnz == 0


def test_a_sequential_of_torchs_own_layers_comes_back_computing_the_same(tmp_path):
    """Chapter 6's deeper model is an nn.Sequential written in the notebook: it crosses as layer kinds,
    sizes and weights, and comes back as the same computation (float64 included)."""
    import torch
    from torch import nn

    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 4), nn.Sigmoid(), nn.Dropout(0.2), nn.Linear(4, 3, bias=False), nn.ELU(0.5),
                        nn.Linear(3, 6)).eval()
    wide = nn.Sequential(nn.Linear(2, 2), nn.ReLU()).double()
    got, problems = carry(tmp_path, {"net": net, "wide": wide})
    assert problems == {}
    x = torch.rand(5, 6)
    assert type(got["net"]) is nn.Sequential and not got["net"].training
    assert [type(m) for m in got["net"]] == [type(m) for m in net] and got["net"][2].p == 0.2 and got["net"][4].alpha == 0.5
    assert got["net"][3].bias is None and torch.equal(got["net"](x), net(x))
    assert got["wide"][0].weight.dtype == torch.float64


def test_a_sequential_with_a_layer_of_the_notebooks_own_or_a_subclass_does_not_cross(tmp_path):
    from torch import nn

    class Mine(nn.Module):
        def forward(self, x):
            return x * 2

    class MySequential(nn.Sequential):
        def forward(self, x):
            return super().forward(x) + 1

    got, problems = carry(tmp_path, {"custom": nn.Sequential(nn.Linear(2, 2), Mine()),
                                     "sub": MySequential(nn.Linear(2, 2))})
    assert set(problems) == {"custom", "sub"} and "custom" not in got and "sub" not in got
    assert "layers of the kinds" in problems["custom"]["error"] and "MySequential" in problems["sub"]["error"]


def test_a_pytorch_autorec_learner_comes_back_predicting_the_same_with_its_plain_attributes(tmp_path, small_data):
    from autorec_lib.config import TrainConfig
    from autorec_lib.matrix import RatingMatrix
    from autorec_lib.torch_backend import AutoRec, AutoRecLearner

    class FilledLoss(AutoRecLearner):  # a learner class of the notebook's own
        def predict(self, users, items):  # never called by the grader: its methods stay in the kernel
            raise AssertionError("the notebook's method ran in the grader")

    matrix = RatingMatrix(small_data.ratings, small_data.n_users, small_data.n_items, "item")
    learner = FilledLoss(AutoRec(small_data.n_users, 8, decoder="sigmoid"), matrix, TrainConfig(epochs=1),
                         torch.device("cpu"), small_data.scale)
    learner.fill = 3.0
    learner.train_epoch(np.random.default_rng(0))
    got, problems = carry(tmp_path, {"learner": learner})
    rebuilt = got["learner"]
    assert problems == {} and type(rebuilt) is AutoRecLearner and rebuilt.fill == 3.0
    users, items = small_data.ratings["user"].to_numpy(), small_data.ratings["item"].to_numpy()
    assert np.allclose(rebuilt.predict(users, items), AutoRecLearner.predict(learner, users, items))
    assert rebuilt.matrix.shape == matrix.shape and rebuilt.cfg == learner.cfg


def test_values_without_a_plain_form_are_refused_by_name(tmp_path):
    def undefined():
        raise NameError("name 'answer' is not defined")

    kernel = tmp_path / "kernel"
    plain.collect(str(kernel), {"f": lambda: iter([1]), "net": lambda: torch.nn.Linear(2, 2),
                                "objects": lambda: np.array([1, "a"], dtype=object),
                                "masked": lambda: np.ma.masked_array([1, 2], mask=[0, 1]), "raised": undefined})
    encoded, problems = plain.read_index(kernel)
    assert encoded == {}
    assert {k: p["kind"] for k, p in problems.items()} == {
        "f": "not plain", "net": "not plain", "objects": "not plain", "masked": "not plain", "raised": "raised"}
    assert "builtins.list_iterator cannot be carried" in problems["f"]["error"]
    assert "torch.nn.modules.linear.Linear" in problems["net"]["error"]
    assert problems["raised"]["error"] == "NameError: name 'answer' is not defined"


PICKLES = {  # a kernel's file that holds a pickle, written as each loader would meet it
    "array": ("v0.npy", lambda path, payload: np.save(path, np.array([payload], dtype=object), allow_pickle=True),
              {"$": "ndarray", "file": "v0.npy"}, "could not be rebuilt safely"),
    "tensor": ("v0.pt", lambda path, payload: torch.save({"weights": payload}, path),
               {"$": "tensor", "file": "v0.pt"}, "holds more than a tensor"),
    "checkpoint": ("v0.npz", lambda path, payload: np.savez(path, __meta__=np.array([payload], dtype=object)),
                   {"$": "trainedmodel", "checkpoint": "v0.npz"}, "checkpoint is refused"),
    "network": ("v0.pt", lambda path, payload: torch.save({"layers.0.weight": payload}, path),
                {"$": "autorec", "config": {"$": "dict", "items": [["n_inputs", 3]]}, "weights": "v0.pt",
                 "training": False}, "could not be rebuilt safely"),
}


@pytest.mark.parametrize("kind", sorted(PICKLES))
def test_a_pickle_in_a_kernels_file_is_refused_and_runs_nothing(tmp_path, kind):
    name, write, value, message = PICKLES[kind]
    marker, folder = tmp_path / "ran", tmp_path / "f"
    folder.mkdir()
    write(folder / name, Payload(marker))
    with pytest.raises(plain.NotPlainData, match=message):
        plain.Decoder(folder, lambda name: None)(value)
    assert not marker.exists()


def test_only_plain_files_named_by_the_grader_are_read(tmp_path):
    kernel = tmp_path / "kernel"
    plain.collect(str(kernel), {"a": lambda: np.ones(3)})
    secret = tmp_path / "secret.npy"
    np.save(secret, np.zeros(3))
    (kernel / "v0.npy").unlink()
    os.symlink(secret, kernel / "v0.npy")  # the kernel swaps its file for a link to something else
    assert plain.snapshot(kernel, tmp_path / "grader")
    encoded, _ = plain.read_index(tmp_path / "grader")
    decode = plain.Decoder(tmp_path / "grader", lambda name: None)
    with pytest.raises(plain.NotPlainData, match="missing or was refused"):
        decode(encoded["a"])
    for obj in ({"$": "ndarray", "file": "../secret.npy"}, {"untagged": 1}, {"$": "pickle"},
                {"$": "np", "dtype": "object", "value": 1}):
        with pytest.raises(plain.NotPlainData):
            decode(obj)
    assert not plain.snapshot(tmp_path / "nothing", tmp_path / "g2")


def test_a_name_the_course_does_not_know_is_not_loaded(tmp_path):
    decode = plain.Decoder(tmp_path, lambda name: pytest.fail("nothing should be loaded"))
    with pytest.raises(plain.NotPlainData, match="not one of the course's data sets"):
        decode({"$": "ratingdata", "name": "/etc/passwd"})


def test_a_function_is_called_in_its_kernel_on_plain_data_and_gradients_come_back(tmp_path):
    """The kernel side (``apply``) and the grader side (``RemoteFunction``) together, with one process
    playing the kernel: inputs and outputs cross as files, and backward() reaches the grader's tensor."""
    def masked_sse(pred, target, mask):  # the learner's function
        return (((pred - target) * mask) ** 2).sum()

    kernel, calls = tmp_path / "kernel", []
    plain.collect(str(kernel), {"fn": lambda: masked_sse})
    encoded, _ = plain.read_index(kernel)

    def call(handle, args, kwargs):  # what run._Kernel.call does, without the kernel
        request, reply = tmp_path / f"in{len(calls)}", tmp_path / f"out{len(calls)}"
        calls.append(handle)
        plain.collect(str(request), {"args": lambda: args, "kwargs": lambda: kwargs})
        plain.apply(str(request), str(reply), handle)
        out, problems = plain.read_index(reply)
        if problems:
            raise plain.LearnerRaised.named(problems["output"]["error"])
        value = plain.Decoder(reply, None)(out["output"])
        return value["result"], value["grads"]

    fn = plain.Decoder(kernel, None, call)(encoded["fn"])
    assert isinstance(fn, plain.RemoteFunction) and fn.__name__ == "masked_sse"
    pred = torch.randn(3, 4, requires_grad=True)
    target, mask = torch.randn(3, 4), (torch.rand(3, 4) < 0.5).float()
    value = fn(pred, target, mask)
    assert torch.allclose(value, masked_sse(pred, target, mask).detach())
    value.backward()
    assert torch.allclose(pred.grad, 2 * (pred - target).detach() * mask) and torch.all(pred.grad[mask == 0] == 0)
    with pytest.raises(plain.LearnerRaised) as raised:
        fn(pred, target)  # the learner's function raises TypeError in its kernel
    assert type(raised.value).__name__ == "TypeError" and "mask" in str(raised.value)
    with pytest.raises(plain.NotPlainData, match="only be graded while"):
        plain.Decoder(kernel, None)(encoded["fn"])


# ---------------------------------------------------------------- submissions and learners

def test_learners_are_named_by_stem_and_by_folder_where_stems_repeat(tmp_path):
    paths = [tmp_path / "a" / "x" / "sam.ipynb", tmp_path / "b" / "x" / "sam.ipynb", tmp_path / "a" / "kim.ipynb",
             tmp_path / "c" / "lee.ipynb", tmp_path / "d" / "lee.ipynb"]
    names = book.learner_names(paths)
    assert [names[p] for p in paths] == ["a/x/sam", "b/x/sam", "kim", "c/lee", "d/lee"]


def test_each_file_is_recognised_or_reported_with_the_reason(tmp_path):
    chapters = manifest.course_chapters()
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / "b.ipynb").write_text("{not json")
    (tmp_path / "sol.ipynb").write_bytes(SOLUTION.read_bytes())
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), tmp_path / "new.ipynb")
    (tmp_path / "copy.ipynb").write_bytes(LEARNER.read_bytes())
    found = {p.name: book.Submission(p) for p in book.find_submissions([tmp_path])}
    for s in found.values():
        book.classify(s, chapters)
    assert found["a.txt"].note == "not a notebook (only .ipynb files are graded)"
    assert found["b.ipynb"].note.startswith("not a readable Jupyter notebook")
    assert found["sol.ipynb"].note.startswith("this is a solution notebook (cells tagged")
    assert found["new.ipynb"].note.startswith("unknown chapter")
    assert found["copy.ipynb"].chapter.name == "01_setup_and_data" and found["copy.ipynb"].note == ""


def test_a_folder_holding_the_library_is_not_hidden_from_kernels(tmp_path):
    submissions = [book.Submission(ROOT / "x.ipynb"), book.Submission(tmp_path / "class" / "y.ipynb")]
    hide, notes = book.hidden_folders(submissions, tmp_path / "out", tmp_path / "run")
    assert hide == [str(tmp_path / "class"), str(tmp_path / "out")]
    assert notes and notes[0].startswith(f"{ROOT} is not hidden") and "autorec_lib" in notes[0]


@pytest.mark.parametrize("args, message", [
    (["--jobs", "0"], "--jobs at least 1"),
    (["--timeout", "-1"], "must be positive"),
    (["--out", "{class}/grades"], "overlap"),
    (["{class}/missing.ipynb"], "does not exist"),
])
def test_the_command_refuses_bad_arguments_with_a_message(tmp_path, capsys, args, message):
    (tmp_path / "class").mkdir()
    args = [a.format(**{"class": tmp_path / "class"}) for a in args]
    out = [] if "--out" in args else ["--out", str(tmp_path / "grades")]
    given = [] if any(a.endswith(".ipynb") for a in args) else [str(tmp_path / "class")]
    assert cli.main(["grade", *given, *out, *args]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "grades").exists()


def test_feedback_is_replaced_whole_and_the_gradebook_written_atomically(tmp_path):
    out = tmp_path / "out"
    (out / "feedback").mkdir(parents=True)
    (out / "feedback" / "gone.md").write_text("from an earlier run")
    submission = book.Submission(tmp_path / "kim.ipynb", "kim", note="not a notebook (only .ipynb files are graded)")
    book.write_feedback(out / "feedback", [submission])
    book.write_gradebook(out / "gradebook.csv", [submission], [])
    assert sorted(p.name for p in out.iterdir()) == ["feedback", "gradebook.csv"]
    assert [p.name for p in (out / "feedback").iterdir()] == ["kim.md"]
    assert (out / "gradebook.csv").read_text() == (
        "learner,chapter,points,possible,note\nkim,,,,not a notebook (only .ipynb files are graded)\n")


# ---------------------------------------------------------------- the sandbox's layers, one process

@pytest.mark.skipif(not (sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0
                         and shutil.which("unshare")), reason="needs Linux, root and util-linux's unshare")
def test_the_sandbox_drops_to_nobody_hides_folders_and_has_no_network(tmp_path):
    """What a kernel would meet, seen by a shell started the way kernels are (as root with namespaces)."""
    hidden, own = tmp_path / "class", tmp_path / "run" / "k000"
    hidden.mkdir()
    (hidden / "alice.ipynb").write_text("{}")
    own.mkdir(parents=True)
    os.chmod(tmp_path / "run", 0o711)
    os.chown(own, 65534, 65534)
    isolation = sandbox.Isolation(sandbox.Limits(memory=2 << 30), ("unshare", *sandbox.UNSHARE), (65534, 65534))
    script = ("id -u; ls -A {h}; touch {h}/x 2>/dev/null || echo refused; touch {o}/mine && echo own; "
              "ulimit -v; cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d ' '; ls /proc | grep -c '^[0-9]'")
    command = isolation.command({"own": str(own), "cwd": str(own), "hide": [str(hidden), str(tmp_path / "run")],
                                 "connection_file": None},
                                ["/bin/sh", "-c", script.format(h=hidden, o=own)])
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    lines = done.stdout.split()
    if done.returncode and "cannot run" in done.stderr:
        pytest.skip(f"user nobody cannot run this Python here: {done.stderr.strip()}")
    assert done.returncode == 0, done.stderr
    uid, *rest = lines
    assert uid == "65534"  # the kernel's user
    assert rest[:2] == ["refused", "own"]  # an empty, unwritable folder in place of the class; its own is writable
    assert rest[2] == str(2 << 20)  # KiB of address space
    assert rest[3:-1] == ["lo"]  # no network interface but loopback
    assert int(rest[-1]) <= 3  # its own processes only: the shell and what it runs
    assert not (hidden / "x").exists() and (own / "mine").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux enforces RLIMIT_AS")
def test_a_memory_limit_too_small_for_torch_is_refused_before_any_notebook_runs(tmp_path, capsys):
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "kim.ipynb").write_bytes(LEARNER.read_bytes())
    assert cli.main(["grade", str(tmp_path / "class"), "--out", str(tmp_path / "grades"), "--memory", "0.5"]) == 2
    assert "cannot import torch within its memory limit" in capsys.readouterr().err
    assert not (tmp_path / "grades" / "gradebook.csv").exists()


def _running(marker: str) -> bool:
    return any(marker in (Path("/proc") / pid / "cmdline").read_bytes().decode(errors="replace").replace("\0", " ")
               for pid in os.listdir("/proc") if pid.isdigit() and (Path("/proc") / pid / "cmdline").exists())


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's")
@pytest.mark.parametrize("namespaces", [False, True])
def test_a_kernel_dies_with_the_grader_that_started_it(tmp_path, namespaces):
    """A grader killed mid-run leaves no kernel behind: here a sandboxed `sleep` whose parent exits at once."""
    setpriv, unshare = shutil.which("setpriv"), shutil.which("unshare")
    if namespaces and not (setpriv and unshare and os.geteuid() == 0):
        pytest.skip("needs root, util-linux's unshare and setpriv")
    options = (setpriv, "--pdeathsig", "KILL", unshare, *sandbox.UNSHARE) if namespaces else ()
    marker = f"{os.getpid() % 997 + 1}.{int(namespaces) + 1}7"  # sleep's argument, to find it among processes
    command = sandbox.Isolation(sandbox.Limits(), options).command(
        {"own": str(tmp_path), "cwd": str(tmp_path), "hide": [], "connection_file": None}, ["/bin/sleep", marker])
    parent = f"import subprocess, time; subprocess.Popen({command!r}); time.sleep(3)"
    subprocess.run([sys.executable, "-c", parent], timeout=60)  # starts the sleep, lets it run, and exits
    deadline = time.monotonic() + 10
    while _running(f"sleep {marker}") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not _running(f"sleep {marker}")


def test_make_grade_runs_the_grader_in_the_course_environment(tmp_path):
    """The README's `make grade SUBMISSIONS=... OUT=... JOBS=...`: a class folder in, a gradebook out."""
    import subprocess
    import sys

    folder = tmp_path / "submissions"
    folder.mkdir()
    (folder / "notes.txt").write_text("not a notebook")
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run(["make", "--no-print-directory", "-C", str(root), "grade", f"SUBMISSIONS={folder}",
                           f"OUT={tmp_path / 'grades'}", "JOBS=2", f"VENV={sys.prefix}"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    book = (tmp_path / "grades" / "gradebook.csv").read_text()
    assert "notes" in book and "not a notebook" in book


def test_what_a_kernel_needs_from_a_scratch_folder_is_bound_back(tmp_path, monkeypatch):
    """A course, its Python or its data under /tmp would vanish under the kernel's private /tmp: the sandbox
    lists those folders (by their path or where their symlinks lead) to bind them back; others are left alone."""
    import tempfile

    from autorec_lib.grading import sandbox

    with tempfile.TemporaryDirectory(dir="/tmp") as scratch:
        data = Path(scratch) / "data"
        data.mkdir()
        link = Path(scratch) / "link"
        link.symlink_to(tmp_path)  # a scratch path that leads elsewhere still needs binding where it is
        monkeypatch.setenv("AUTOREC_DATA", str(data))
        monkeypatch.setenv("AUTOREC_CACHE", str(link))
        needed = sandbox._needed_in_scratch()
        assert str(data) in needed and str(link) in needed
        monkeypatch.setenv("AUTOREC_DATA", "/usr")  # a folder outside every scratch folder
        assert "/usr" not in sandbox._needed_in_scratch()
