"""Confinement of one submission: bubblewrap when present, resource limits always.

:func:`launch` starts ``python -I -m lstm_teach.grading.runner`` for one
submission and returns the process; :func:`terminate` kills everything it
started. With Debian's bubblewrap (``bwrap``) the runner sees

* a read-only view of the Python installation, the virtual environment and
  the ``lstm_teach`` package directory, and nothing else of the machine's
  files (no home directory, no repository: ``solutions/`` sits next to the
  package in an editable install and is *not* mounted); a minimal ``/etc``;
* its own working copy of the submission at ``/submission``, the only
  writable place besides a private ``/tmp`` and ``/dev/shm`` (all gone when it
  ends; all sized tmpfs, since tmpfs pages are memory that no rlimit counts);
  the root and ``/dev`` are read-only;
* new user, PID, network, IPC, UTS and cgroup namespaces: no network, no view
  of other processes, uid/gid 65534 with no capabilities and ``no_new_privs``;
* ``--die-with-parent`` and a PID namespace: when the grader kills the
  sandbox (or dies), every process of the submission dies with it.

Resource limits (``setrlimit`` before ``exec``, inherited by every process of
the submission): address space (memory, default 4 GiB), CPU seconds, file
size, open files, and process count. ``RLIMIT_NPROC`` is not enforced for
uid 0, so when the grader runs as root the process count is also capped by a
pids cgroup where one can be created; the report says which limits hold. As
root, a memory cgroup (inside the grader's own) also caps the memory of the
whole submission: its processes together and its tmpfs pages, which no rlimit
counts; and a cpu cgroup caps the CPU it may use at once (``Limits.cpus`` cores,
default 1), so that with ``--jobs`` one submission's threads or processes cannot
starve the others.

Without ``bwrap`` the runner still gets the resource limits, a scratch working
directory and its own session, but it can read and write whatever the
grader's user can: the report and the console say the run is NOT confined.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

GIB = 2**30
SANDBOX_UID = 65534
SANDBOX_HOME = "/tmp"
SUBMISSION_DIR = "/submission"
_CGROUP_ROOTS = ("/sys/fs/cgroup/pids", "/sys/fs/cgroup")


@dataclass
class Limits:
    """Resource limits of one submission (every process it starts inherits them)."""

    memory_bytes: int = 4 * GIB
    cpu_seconds: int = 900
    file_bytes: int = 256 * 2**20
    processes: int = 64
    open_files: int = 256
    #: Size of each of the sandbox's two writable places (``/tmp`` and ``/submission``).
    #: Both are tmpfs, so they live in the machine's memory: without a size, a
    #: submission could fill half of the RAM through ``/tmp`` (or the disk through a
    #: bound folder), whatever its memory limit.
    scratch_bytes: int = 512 * 2**20
    #: Cores the submission may keep busy at once, all its processes together (a cpu
    #: cgroup quota, where one can be made): with ``--jobs N`` on N cores, each job
    #: gets its core whatever the others do.
    cpus: float = 1.0


@dataclass
class Sandbox:
    """What :func:`launch` started: the process and how it was confined."""

    process: subprocess.Popen
    confined: bool
    notes: list[str] = field(default_factory=list)
    cgroup: Path | None = None
    memory_cgroup: Path | None = None
    cpu_cgroup: Path | None = None


def find_bwrap() -> str | None:
    """The bubblewrap executable if it can make a sandbox here, else None.

    ``LSTM_TEACH_NO_BWRAP=1`` asks to do without (tests of the unconfined path).
    """
    if os.environ.get("LSTM_TEACH_NO_BWRAP", "").strip() not in ("", "0"):
        return None
    path = shutil.which("bwrap")
    if path is None:
        return None
    return path if bwrap_works(path)[0] else None


@functools.cache
def bwrap_works(path: str) -> tuple[bool, str]:
    """Whether ``bwrap`` can create the namespaces the sandbox needs (once per process).

    It cannot, for instance, where unprivileged user namespaces are switched off.
    """
    cmd = [path, "--unshare-all", "--die-with-parent", "--uid", str(SANDBOX_UID),
           "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "true"]
    try:
        done = subprocess.run(cmd, capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    return done.returncode == 0, done.stderr.decode("utf-8", "replace").strip()[:200]


@functools.cache
def bwrap_sizes_tmpfs(path: str) -> bool:
    """Whether this bwrap has ``--size`` for ``--tmpfs`` (0.5.0 and later)."""
    try:
        done = subprocess.run([path, "--help"], capture_output=True, timeout=30,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return b"--size" in done.stdout + done.stderr


def unconfined_reason() -> str:
    """Why :func:`find_bwrap` found no usable sandbox (for the console and the report)."""
    if os.environ.get("LSTM_TEACH_NO_BWRAP", "").strip() not in ("", "0"):
        return "LSTM_TEACH_NO_BWRAP is set"
    path = shutil.which("bwrap")
    if path is None:
        return "bubblewrap (bwrap) is not installed"
    return f"bwrap cannot create a sandbox here ({bwrap_works(path)[1] or 'it failed'})"


def _package_dir() -> Path:
    return Path(__file__).resolve().parents[1]


def _readonly_paths() -> list[str]:
    """The directories the runner needs to read: Python, the venv, the package, system libs."""
    paths = {sys.base_prefix, sys.prefix, sys.exec_prefix, str(_package_dir())}
    paths.add(str(Path(sys.executable).resolve().parent.parent))
    for entry in sys.path:
        # site-packages and the standard library live under the prefixes; anything else
        # on sys.path (a test runner's rootdir, the current directory) is not mounted.
        if entry and "site-packages" in entry and os.path.isdir(entry):
            paths.add(os.path.realpath(entry))
    return sorted(p for p in paths if p and os.path.exists(p))


def _minimal_etc() -> tuple[list[str], str, str]:
    args = []
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts",
                 "alternatives", "mime.types"):
        src = f"/etc/{name}"
        if os.path.exists(src):
            args += ["--ro-bind", src, src]
    passwd = f"nobody:x:{SANDBOX_UID}:{SANDBOX_UID}:nobody:{SANDBOX_HOME}:/bin/false\n"
    group = f"nogroup:x:{SANDBOX_UID}:\n"
    return args, passwd, group


def bwrap_command(bwrap: str, workdir: Path,
                  scratch_bytes: int | None = None) -> tuple[list[str], dict]:
    """The bwrap command line, and the data files it reads from inherited pipes.

    With ``scratch_bytes``, ``/tmp`` and ``/submission`` are tmpfs of that size (the
    caller copies the submission in with ``--file``); without, ``workdir`` is bound
    at ``/submission``.
    """
    size = ["--size", str(int(scratch_bytes))] if scratch_bytes else []
    cmd = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
           "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "grading",
           "--proc", "/proc", "--dev", "/dev", *size, "--tmpfs", "/tmp"]
    for top in ("/usr", "/lib", "/lib64", "/lib32", "/bin", "/sbin"):
        if os.path.islink(top):
            cmd += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            cmd += ["--ro-bind", top, top]
    etc_args, passwd, group = _minimal_etc()
    cmd += etc_args
    for path in _readonly_paths():
        if not any(path == top or path.startswith(top + "/") for top in ("/usr", "/lib")):
            cmd += ["--ro-bind", path, path]
    if scratch_bytes:
        cmd += [*size, "--tmpfs", SUBMISSION_DIR]
    else:
        cmd += ["--bind", str(workdir), SUBMISSION_DIR]
    cmd += ["--chdir", SUBMISSION_DIR, "--clearenv"]
    data = {"/etc/passwd": passwd, "/etc/group": group}
    return cmd, data


#: Size of the sandbox's ``/dev/shm`` (POSIX shared memory and semaphores), a tmpfs too.
SHM_BYTES = 64 * 2**20


def sealing_args(scratch_bytes: int | None) -> list[str]:
    """The last setup steps of the bwrap command: a sized /dev/shm, then / and /dev read-only.

    bwrap builds the sandbox's root and its ``/dev`` as tmpfs of no size, and leaves both
    writable: a submission wrote gigabytes of memory there, past the sized ``/tmp`` and
    ``/submission`` (as much as half the RAM where no memory cgroup caps it). They are
    remounted read-only once every mount point and file is in place (so this comes after
    ``--ro-bind-data`` and ``--file``); ``/dev/shm`` gets a small tmpfs of its own.
    """
    shm = ["--size", str(min(SHM_BYTES, scratch_bytes))] if scratch_bytes else []
    return [*shm, "--tmpfs", "/dev/shm", "--remount-ro", "/dev", "--remount-ro", "/"]


def sandbox_env() -> dict[str, str]:
    """The whole environment of the runner: nothing of the grader's leaks in."""
    return {
        "PATH": "/usr/bin:/bin",
        "HOME": SANDBOX_HOME,
        "IPYTHONDIR": f"{SANDBOX_HOME}/.ipython",
        "MPLCONFIGDIR": f"{SANDBOX_HOME}/.matplotlib",
        "MPLBACKEND": "Agg",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "LANG": "C.UTF-8",
    }


def _make_cgroup(limits: Limits) -> Path | None:
    """A pids cgroup with ``pids.max`` set, when this process may create one (root)."""
    for root in _CGROUP_ROOTS:
        base = Path(root)
        if not (base / "cgroup.procs").exists():
            continue
        if root == "/sys/fs/cgroup" and "pids" not in _read(base / "cgroup.controllers"):
            continue
        group = _new_cgroup(base, {"pids.max": str(limits.processes)})
        if group is not None:
            return group
    return None


def _new_cgroup(base: Path, files: dict[str, str]) -> Path | None:
    """A new cgroup under ``base`` with ``files`` written, in order; None if not allowed.

    A group whose limits cannot be written is removed again, so none is left behind.
    """
    group = base / f"lstm-teach-grade-{uuid.uuid4().hex[:12]}"
    try:
        group.mkdir()
        for name, value in files.items():  # in order: v1 needs the period before the quota
            (group / name).write_text(value)
        return group
    except OSError:
        try:
            group.rmdir()
        except OSError:
            pass
        return None


def _own_cgroup(controller: str) -> str | None:
    """This process's cgroup path in the hierarchy of ``controller`` (v1), or v2's, or None."""
    for line in _read(Path("/proc/self/cgroup")).splitlines():
        _, controllers, path = line.split(":", 2)
        if controller in controllers.split(",") or (controllers == "" and controller == ""):
            return path
    return None


def _make_limited_cgroup(controller: str, v1_files: dict[str, str],
                         v2_files: dict[str, str]) -> Path | None:
    """A new cgroup inside the grader's own, in ``controller``'s hierarchy, with limits set.

    cgroup v1 (a hierarchy per controller) gets ``v1_files``, v2 ``v2_files``; returns
    None when neither can be made here (not root, or a read-only cgroup file system).
    """
    candidates = []
    own_v1 = _own_cgroup(controller)
    if own_v1 is not None:
        candidates.append((Path(f"/sys/fs/cgroup/{controller}" + own_v1.rstrip("/")), v1_files))
    own_v2 = _own_cgroup("")
    if own_v2 is not None:
        candidates.append((Path("/sys/fs/cgroup" + own_v2.rstrip("/")), v2_files))
    for base, files in candidates:
        if not (base / "cgroup.procs").exists() or not all((base / f).exists() for f in files):
            continue
        group = _new_cgroup(base, files)
        if group is not None:
            return group
    return None


def _make_memory_cgroup(limits: Limits) -> Path | None:
    """A memory cgroup for the whole submission, inside the grader's own, when allowed (root).

    ``RLIMIT_AS`` caps each process; this caps their sum and the tmpfs pages they
    write, so a submission that forks cannot take the machine's memory.
    """
    total = str(limits.memory_bytes + 2 * limits.scratch_bytes
                + min(SHM_BYTES, limits.scratch_bytes))  # /tmp, /submission, /dev/shm
    return _make_limited_cgroup("memory", {"memory.limit_in_bytes": total},
                                {"memory.max": total})


#: The scheduler's accounting period for the CPU quota, in microseconds (its default).
CPU_PERIOD_US = 100_000


def _make_cpu_cgroup(limits: Limits) -> Path | None:
    """A cpu cgroup whose quota is ``limits.cpus`` cores, when allowed (root).

    ``RLIMIT_CPU`` bounds the total CPU seconds; this bounds the rate, so parallel jobs
    share the machine fairly: a submission that starts many busy threads or processes
    is throttled to its cores instead of taking the others'.
    """
    quota = str(max(1000, int(limits.cpus * CPU_PERIOD_US)))
    return _make_limited_cgroup(
        "cpu", {"cpu.cfs_period_us": str(CPU_PERIOD_US), "cpu.cfs_quota_us": quota},
        {"cpu.max": f"{quota} {CPU_PERIOD_US}"})


def process_limit_enforceable(limits: Limits | None = None) -> bool:
    """Whether a process-count limit holds here: not root (RLIMIT_NPROC), or a pids cgroup."""
    if os.geteuid() != 0:
        return True
    group = _make_cgroup(limits or Limits())
    if group is None:
        return False
    try:
        group.rmdir()
    except OSError:
        pass
    return True


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _user_process_count() -> int:
    """How many processes this user runs now (RLIMIT_NPROC counts them all, not ours alone)."""
    uid, count = os.getuid(), 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


#: Run by a fresh ``python -I -S`` between the grader and the sandbox: join the pids
#: cgroup, set the limits, ignore SIGXFSZ, then exec the sandbox. (A ``preexec_fn`` would
#: do the same inside the grader's fork, which is unsafe while other jobs' threads run.)
_LIMITS_WRAPPER = """
import json, os, resource, signal, sys
spec = json.loads(sys.argv[1])
for procs in spec["cgroups"]:
    try:
        with open(procs, "w") as fh:
            fh.write(str(os.getpid()))
    except OSError:
        pass
for name, value in spec["limits"].items():
    try:
        resource.setrlimit(getattr(resource, name), (value, value))
    except (ValueError, OSError):
        pass
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-big write fails instead of killing
os.execv(sys.argv[2], sys.argv[2:])
"""


def _with_limits(cmd: list[str], limits: Limits, cgroups: list[Path]) -> list[str]:
    """``cmd`` started through the limits wrapper, which joins ``cgroups`` first."""
    # RLIMIT_NPROC caps every process of the user, so allow the ones already running.
    nproc = limits.processes + (_user_process_count() if os.geteuid() != 0 else 0)
    spec = {"cgroups": [str(group / "cgroup.procs") for group in cgroups],
            "limits": {"RLIMIT_AS": limits.memory_bytes, "RLIMIT_CPU": limits.cpu_seconds,
                       "RLIMIT_FSIZE": limits.file_bytes, "RLIMIT_NOFILE": limits.open_files,
                       "RLIMIT_NPROC": nproc, "RLIMIT_CORE": 0}}
    return [sys.executable, "-I", "-S", "-c", _LIMITS_WRAPPER, json.dumps(spec), *cmd]


def launch(workdir: Path, limits: Limits) -> Sandbox:
    """Start the runner for the working copy in ``workdir``; stdin/stdout are the channel.

    Its stderr is a non-blocking pipe that the grader reads only when the runner fails
    to start (:func:`read_stderr`), not a file: bwrap's first process in the sandbox
    holds it, and through ``/proc/1/fd/2`` a submission wrote 256 MiB (its file-size
    limit) to the grader's disk. A full pipe blocks only the writer.
    """
    python_argv = [sys.executable, "-I", "-m", "lstm_teach.grading.runner"]
    bwrap = find_bwrap()
    notes = []
    cgroup = _make_cgroup(limits) if os.geteuid() == 0 else None
    memory_cgroup = _make_memory_cgroup(limits) if os.geteuid() == 0 else None
    cpu_cgroup = _make_cpu_cgroup(limits) if os.geteuid() == 0 else None
    if cpu_cgroup is None:
        notes.append("the submission's CPU use at any moment is not capped: no cpu cgroup "
                     "could be created (the grader is not root, or the cgroup file system "
                     "is read-only), so parallel jobs may not share the machine fairly")
    if memory_cgroup is None:
        notes.append("the memory limit holds for each process, not for the submission as a "
                     "whole: no memory cgroup could be created (the grader is not root, "
                     "or the cgroup file system is read-only)")
    if os.geteuid() == 0 and cgroup is None:
        notes.append("the process-count limit is not enforced: the grader runs as root "
                     "(RLIMIT_NPROC does not apply) and no pids cgroup could be created")
    pass_fds, data_pipes = [], []
    if bwrap:
        scratch = limits.scratch_bytes if bwrap_sizes_tmpfs(bwrap) else None
        if limits.scratch_bytes and scratch is None:
            notes.append("/tmp and the working copy have no size limit: this bwrap has no "
                         "--size option (bubblewrap 0.5 or later has)")
        cmd, data = bwrap_command(bwrap, workdir, scratch)
        for target, text in data.items():
            read_fd, write_fd = os.pipe()
            os.write(write_fd, text.encode())  # small: fits the pipe buffer
            os.close(write_fd)
            cmd += ["--ro-bind-data", str(read_fd), target]
            pass_fds.append(read_fd)
            data_pipes.append(read_fd)
        for path in sorted(workdir.iterdir()) if scratch else ():
            if path.is_file() and not path.is_symlink():  # the working copy, into the tmpfs
                file_fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
                cmd += ["--perms", "0644", "--file", str(file_fd),
                        f"{SUBMISSION_DIR}/{path.name}"]
                pass_fds.append(file_fd)
                data_pipes.append(file_fd)
        cmd += sealing_args(scratch)
        cmd += ["--", *python_argv]
        cwd, env = None, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        env_inside = sandbox_env()
        setenv = []
        for key, value in env_inside.items():
            setenv += ["--setenv", key, value]
        cmd[cmd.index("--clearenv") + 1:cmd.index("--clearenv") + 1] = setenv
    else:
        cmd = python_argv
        cwd = str(workdir)
        env = sandbox_env()
        env["HOME"] = env["IPYTHONDIR"] = env["MPLCONFIGDIR"] = str(workdir / ".home")
        (workdir / ".home").mkdir(exist_ok=True)
        notes.append(f"NOT CONFINED: {unconfined_reason()}, so this submission ran with the "
                     "grader's own permissions (only resource limits applied)")
    process = subprocess.Popen(
        _with_limits(cmd, limits, [g for g in (cgroup, memory_cgroup, cpu_cgroup) if g]),
        cwd=cwd, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, pass_fds=pass_fds, start_new_session=True, bufsize=0)
    os.set_blocking(process.stderr.fileno(), False)
    for fd in data_pipes:
        os.close(fd)
    return Sandbox(process, confined=bool(bwrap), notes=notes, cgroup=cgroup,
                   memory_cgroup=memory_cgroup, cpu_cgroup=cpu_cgroup)


def read_stderr(sandbox: Sandbox, n: int = 300) -> str:
    """The last ``n`` characters the sandbox has written to its stderr so far (never blocks)."""
    chunks = []
    try:
        fd = sandbox.process.stderr.fileno()
        while sum(map(len, chunks)) < 2**20:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    except (OSError, ValueError):  # nothing more for now, or the pipe is closed
        pass
    return b"".join(chunks)[-n:].decode("utf-8", "replace").strip()


def cgroup_holds_processes(sandbox: Sandbox) -> bool:
    """False when the sandbox has a pids cgroup that none of its processes joined."""
    if sandbox.cgroup is None:
        return True
    return bool(_read(sandbox.cgroup / "cgroup.procs").split())


def terminate(sandbox: Sandbox) -> None:
    """Kill every process of the submission, wait for the runner, remove the cgroup."""
    proc = sandbox.process
    for kill in (os.killpg, os.kill):
        try:
            kill(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            stream.close()
        except OSError:
            pass
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL does not fail
        pass
    for group in (sandbox.cgroup, sandbox.memory_cgroup, sandbox.cpu_cgroup):
        if group is not None:
            _kill_cgroup(group)


def _kill_cgroup(group: Path, deadline_s: float = 10.0) -> None:
    """Kill whatever is left in the cgroup, wait until it is empty, then remove it.

    Killing the sandbox's first process takes its PID namespace down, but the kernel
    does that asynchronously: on a loaded machine a fork bomb's processes can still be
    alive a second later. So the cgroup is emptied here, bounded in time, and grading
    only returns once no process of the submission is left.
    """
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        pids = [int(p) for p in _read(group / "cgroup.procs").split() if p.strip().isdigit()]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.02)
    try:
        group.rmdir()
    except OSError:
        pass
