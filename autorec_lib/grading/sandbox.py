"""Isolation for learners' kernels: what the operating system allows here, detected once per run.

Each kernel is started as ``[unshare ...] python -m autorec_lib.grading.sandbox SPEC -- KERNEL...``:
this module's :func:`main` runs first inside the new namespaces, then replaces itself by the kernel.
Layers, each used only where a probe shows it works (:func:`detect`):

* resource limits (``setrlimit``, any POSIX system; enforced by Linux): address space
  (``RLIMIT_AS``, the memory limit), file size (``RLIMIT_FSIZE``), no core files, and the number of
  processes (``RLIMIT_NPROC``, only under a user of its own, since it counts all that user's processes);
* Linux namespaces through util-linux's ``unshare``: no network (a network namespace with only a
  loopback that is down; the kernel talks to the grader over Unix sockets), its own process list
  (a PID namespace: it cannot see or signal other kernels), and its own mounts: an empty tmpfs over
  the submissions' folders, the gradebook's folder and every other kernel's folder, and private
  ``/tmp``, ``/var/tmp`` and ``/dev/shm``. As root this needs nothing more; another user needs
  unprivileged user namespaces (``--user --map-root-user``), and then the kernel is root inside its
  namespace and could undo those mounts (the files themselves keep their owner's permissions);
* a user of its own: when the grader runs as root, the kernel drops to ``nobody`` (no new privileges,
  no supplementary groups), so it can write nothing that root owns and cannot undo the mounts. This
  needs the Python installation, the library and the data to be readable by ``nobody``.

Always: a temporary working folder per notebook, and a minimal environment (no variables of the
grader's shell beyond what a notebook needs). Not enforced by any layer: CPU share (``--jobs``
kernels compete), disk space in the kernel's own folder beyond the file-size limit, and (without
namespaces) reading what the grader's user may read. :meth:`Isolation.describe` says which layers are on.
"""
from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

SCRATCH = ("/tmp", "/var/tmp", "/dev/shm")  # shared scratch folders: each kernel gets empty ones of its own
SCRATCH_SIZE = "512m"
UNSHARE = ["--net", "--mount", "--pid", "--fork", "--kill-child", "--mount-proc"]
NOBODY = "nobody"
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_BIND, MS_REC = 1, 2, 4, 4096, 16384
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
SIGKILL = 9


@dataclass(frozen=True)
class Limits:
    memory: int = 8 << 30  # bytes of address space (RLIMIT_AS)
    file_size: int = 1 << 30  # bytes per file written (RLIMIT_FSIZE)
    processes: int = 512  # processes and threads of the kernel's own user (RLIMIT_NPROC), with `user`


@dataclass(frozen=True)
class Isolation:
    limits: Limits = Limits()
    unshare: tuple[str, ...] = ()  # the unshare command and its options, or () without namespaces
    user: tuple[int, int] | None = None  # (uid, gid) the kernel drops to, or None
    notes: tuple[str, ...] = field(default=())  # why a layer is off

    @property
    def namespaces(self) -> bool:
        return bool(self.unshare)

    def command(self, spec: dict, kernel: list[str]) -> list[str]:
        """The command that starts ``kernel`` (argv) isolated as ``spec`` says (see :func:`main`)."""
        spec = {**spec, "memory": self.limits.memory, "file_size": self.limits.file_size,
                "processes": self.limits.processes if self.user else None, "user": self.user,
                "namespaces": self.namespaces}
        return [*self.unshare, sys.executable, "-m", "autorec_lib.grading.sandbox", json.dumps(spec), "--", *kernel]

    def describe(self) -> str:
        gib = lambda n: f"{n / (1 << 30):g} GiB"  # noqa: E731
        on = [f"memory {gib(self.limits.memory)} of address space (RLIMIT_AS)",
              f"files up to {gib(self.limits.file_size)} (RLIMIT_FSIZE)"]
        if self.namespaces:
            on.append("no network, its own process list, submissions and gradebook hidden, private /tmp "
                      "(Linux namespaces" + (", in a user namespace)" if "--user" in self.unshare else ")"))
        if self.user:
            on.append(f"runs as user {NOBODY} (uid {self.user[0]}), at most {self.limits.processes} processes")
        off = []
        if not self.namespaces:
            off.append("network, other processes and the files the grader's user can read are reachable")
        elif not self.user:
            off.append("the kernel runs as the grader's user" + (" (root)" if os.geteuid() == 0 else "")
                       + ", so it could undo the hiding and write where that user may")
        if not sys.platform.startswith("linux"):
            off.append("outside Linux the memory and file-size limits may not hold")
        if self.namespaces and "--pdeathsig" not in self.unshare:
            off.append("a kernel may outlive a grader that is killed (util-linux's setpriv is missing)")
        off.append("CPU share and disk space in its own folder are not limited")
        text = "isolation: each notebook runs in its own temporary folder with a minimal environment; " + \
            "; ".join(on) + ". Not enforced: " + "; ".join(off) + "."
        return text + "".join(f"\n  ({note})" for note in self.notes)


def _nobody() -> tuple[int, int] | None:
    try:
        import pwd

        entry = pwd.getpwnam(NOBODY)
        return entry.pw_uid, entry.pw_gid
    except (ImportError, KeyError):
        return None


PROBE = """
import os, sys
import ipykernel, numpy, autorec_lib
try:
    import torch  # the largest import of every chapter: it must fit in the memory limit
except ModuleNotFoundError:
    pass
except Exception as err:  # ImportError (a library that cannot be mapped), MemoryError, RuntimeError (bad_alloc)
    sys.exit(f"the kernel cannot import torch within its memory limit ({err}): raise --memory")
expected, data = sys.argv[1], os.environ.get("AUTOREC_DATA")
if os.path.realpath(autorec_lib.__file__) != expected:
    sys.exit(f"the kernel imports autorec_lib from {autorec_lib.__file__}, not {expected}")
if data and os.path.isdir(data) is False:
    sys.exit(f"the kernel cannot read the data folder {data}")
if data:
    os.listdir(data)
"""


def _probe(isolation: Isolation, env: dict, folder: Path) -> str:
    """'' when a process started as ``isolation`` says runs the probe, else the reason it did not."""
    folder.mkdir(parents=True, exist_ok=True)
    if isolation.user:
        os.chown(folder, *isolation.user)
    import autorec_lib

    spec = {"own": str(folder), "cwd": str(folder), "hide": [], "connection_file": None}
    command = isolation.command(spec, [sys.executable, "-c", PROBE, os.path.realpath(autorec_lib.__file__)])
    try:
        done = subprocess.run(command, env=env, cwd=folder, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if done.returncode == 0:
        return ""
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit status {done.returncode}"


def detect(limits: Limits, env: dict, folder: Path) -> Isolation:
    """The strongest isolation that works here, found by starting probe processes (a few seconds)."""
    if not hasattr(os, "setrlimit") and sys.platform == "win32":
        raise RuntimeError("grading needs a POSIX system (Linux, macOS); on Windows, run it in WSL or a container")
    root = os.geteuid() == 0
    notes = []
    unshare = shutil.which("unshare") if sys.platform.startswith("linux") else None
    candidates = []
    if unshare:
        options = (unshare, *UNSHARE) if root else (unshare, "--user", "--map-root-user", *UNSHARE)
        setpriv = shutil.which("setpriv")  # unshare, the grader's child, dies with the grader (and the kernel with it)
        candidates += [Isolation(limits, (setpriv, "--pdeathsig", "KILL", *options))] if setpriv else []
        candidates.append(Isolation(limits, options))
    else:
        notes.append("no namespaces: " + ("util-linux's unshare is not installed" if sys.platform.startswith("linux")
                                          else "they exist on Linux only"))
    user = _nobody() if root else None
    for base in candidates + [Isolation(limits)]:
        for candidate in ([replace(base, user=user)] if user else []) + [base]:
            reason = _probe(candidate, env, folder / f"probe{len(notes)}")
            if not reason:
                return replace(candidate, notes=tuple(notes))
            if reason.endswith("raise --memory"):  # no weaker isolation helps
                raise RuntimeError(reason)
            what = ("running as nobody" if candidate.user else "") + (" in namespaces" if candidate.unshare else "")
            notes.append(f"{what.strip() or 'a plain kernel'} does not work here: {reason}")
    raise RuntimeError("no kernel starts here, even without isolation: " + "; ".join(notes))


# ---------------------------------------------------------------- inside the sandbox, before the kernel

def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _mount(libc, source: str | None, target: str, fstype: str | None, flags: int, data: str | None) -> None:
    encode = lambda s: s.encode() if s is not None else None  # noqa: E731
    if libc.mount(encode(source), encode(target), encode(fstype), flags, encode(data)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"mount on {target}: {os.strerror(err)}")


def _needed_in_scratch() -> list[str]:
    """The folders a kernel needs that lie inside a scratch folder (a course cloned into /tmp, say): the
    Python installation, the course's library and the data folder. Empty scratch folders would hide them,
    so :func:`_hide` binds them back in place."""
    needed = {sys.prefix, sys.base_prefix, str(Path(__file__).resolve().parents[2])}
    needed |= {os.environ[k] for k in ("AUTOREC_DATA", "AUTOREC_CACHE") if os.environ.get(k)}
    inside = lambda path: any(path == s or path.startswith(s + os.sep) for s in SCRATCH)  # noqa: E731
    return sorted({os.path.abspath(p) for p in needed
                   if os.path.isdir(p) and (inside(os.path.abspath(p)) or inside(os.path.realpath(p)))}, key=len)


def _hide(spec: dict) -> None:
    """Empty tmpfs over the scratch and hidden folders (with what the kernel needs from a scratch folder
    bound back first), then the kernel's own folder bound back in place."""
    libc = _libc()
    own = spec["own"]
    own_fd = os.open(own, os.O_RDONLY | os.O_DIRECTORY)
    needed = [(path, os.open(path, os.O_RDONLY | os.O_DIRECTORY)) for path in _needed_in_scratch()]
    for folder in SCRATCH:
        if os.path.isdir(folder) and not os.path.islink(folder):
            _mount(libc, "tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={SCRATCH_SIZE}")
    for path, fd in needed:
        os.makedirs(path, exist_ok=True)
        _mount(libc, f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC, None)
        os.close(fd)
    for folder in spec["hide"]:
        if os.path.isdir(folder):
            _mount(libc, "tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    os.makedirs(own, exist_ok=True)
    _mount(libc, f"/proc/self/fd/{own_fd}", own, None, MS_BIND | MS_REC, None)
    os.close(own_fd)


def main(argv: list[str]) -> None:
    """``python -m autorec_lib.grading.sandbox SPEC -- KERNEL...``: isolate this process, then exec KERNEL."""
    import resource

    spec, kernel = json.loads(argv[0]), argv[argv.index("--") + 1:]
    if spec["namespaces"]:
        _hide(spec)
    user = spec.get("user")
    if user:
        for path in filter(None, [spec.get("connection_file")]):
            os.chown(path, *user)
    os.chdir(spec["cwd"])
    limits = {resource.RLIMIT_AS: spec["memory"], resource.RLIMIT_FSIZE: spec["file_size"], resource.RLIMIT_CORE: 0}
    if user:
        limits[resource.RLIMIT_NPROC] = spec["processes"]
    for which, value in limits.items():
        hard = resource.getrlimit(which)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)  # never above a limit already set
        try:
            resource.setrlimit(which, (value, value))
        except (ValueError, OSError):
            if sys.platform.startswith("linux"):
                raise  # elsewhere (macOS) some limits are not supported: they stay as they are
    if user:
        _libc().prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        os.setgroups([])
        os.setgid(user[1])
        os.setuid(user[0])
    _libc().prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0)  # after setuid, which clears it: die with the parent
    try:
        os.execv(kernel[0], kernel)
    except OSError as err:
        who = f"user {NOBODY}" if user else "the kernel"
        sys.exit(f"{who} cannot run {kernel[0]} ({err.strerror}; the Python installation must be readable "
                 "and executable by that user)")


if __name__ == "__main__":
    main(sys.argv[1:])
