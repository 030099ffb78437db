"""What holds a ``run_command`` in: rlimits in each of its processes, and a cgroup around them all.

Killing the command's process group misses any process that left it (``setsid -f``, a daemon's
double fork), and nothing bounded how many processes or how much memory a command takes. So:

* Where this process may create a cgroup (v2) below its own (root, or a delegated user slice),
  each command runs in a fresh one, ``agent-lsp-<server pid>-<random>``. Writing ``1`` to its
  ``cgroup.kill`` kills every process in it, escapees included, on timeout, cancel and at the
  end of the command. If the ``pids`` and ``memory`` controllers are enabled there, ``pids.max``
  and ``memory.max`` bound the whole command too.
* Always, rlimits are set in the command's first process and inherited by all it starts:
  RLIMIT_AS (memory per process), RLIMIT_FSIZE (file size), RLIMIT_NPROC (which Linux counts per
  user, so it is set to the user's running tasks plus the allowance) and RLIMIT_CPU (the command's
  time limit times the CPU count: no process can use more while the command runs, so only one that
  outlived it reaches the limit).

The limits and the cgroup must be in place before the command's first instruction, and
``preexec_fn`` is unsafe in a threaded server; so the command starts through ``launcher.py``, a
tiny program that joins the cgroup, sets the rlimits and then ``exec``s ``/bin/sh -c COMMAND``,
exactly what was approved. This module is the server's side: the cgroup's life and the argv.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agent_core.config import CommandLimitsConfig

#: Every command's cgroup is named ``PREFIX<server pid>-<random>``.
PREFIX = "agent-lsp-"
MB = 1024 * 1024
#: The command's first process (run by path: it must not import this package).
LAUNCHER = Path(__file__).with_name("launcher.py")


def launcher_argv(command: str, cgroup: Path | None, limits: CommandLimitsConfig, timeout: float) -> list[str]:
    """The argv that runs ``command`` with ``/bin/sh -c`` inside ``cgroup`` and the rlimits."""
    cpu = math.ceil(timeout) * (os.cpu_count() or 1)
    return [
        sys.executable,
        "-I",
        "-S",
        str(LAUNCHER),
        str(cgroup) if cgroup is not None else "-",
        str(limits.max_memory_mb * MB),
        str(limits.max_file_mb * MB),
        str(cpu),
        str(limits.max_processes),
        command,
    ]


# -- the cgroup, from the server's side ------------------------------------------------------


def own_cgroup_dir() -> Path | None:
    """The folder of this process's cgroup in the cgroup v2 hierarchy, or None without one."""
    try:
        entries = Path("/proc/self/cgroup").read_text().splitlines()
        mounts = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    own = next((line[3:] for line in entries if line.startswith("0::")), None)
    for mount in mounts:
        fields, _, rest = mount.partition(" - ")
        parts = fields.split()
        if own is None or len(parts) < 5 or not rest.startswith("cgroup2 "):
            continue
        root, point = parts[3], parts[4]
        if own == root or own.startswith(root.rstrip("/") + "/"):
            return Path(point) / own[len(root) :].lstrip("/")
    return None


def create_cgroup(limits: CommandLimitsConfig | None = None) -> Path | None:
    """A new, empty cgroup below this process's own for one command, or None where this process
    may not create one (then the process group and the rlimits are all there is)."""
    base = own_cgroup_dir()
    if base is None:
        return None
    _sweep(base)
    path = base / f"{PREFIX}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        path.mkdir()
    except OSError:
        return None
    if limits is not None:
        _write(path / "pids.max", limits.max_processes)
        _write(path / "memory.max", limits.max_memory_mb * MB)
    return path


def kill_cgroup(path: Path) -> None:
    """SIGKILL every process in the cgroup (``cgroup.kill``, Linux 5.14+; before that, each
    listed process until none is left)."""
    try:
        (path / "cgroup.kill").write_text("1")
        return
    except FileNotFoundError:
        pass
    except OSError:
        return
    for _ in range(100):  # processes forking meanwhile show up on the next round
        try:
            pids = [int(pid) for pid in (path / "cgroup.procs").read_text().split()]
        except OSError:
            return
        if not pids:
            return
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)


def remove_cgroup(path: Path) -> None:
    """Remove the cgroup if it is empty; one whose killed processes are still dying is removed
    by the sweep when the next command starts."""
    with contextlib.suppress(OSError):
        path.rmdir()


def _sweep(base: Path) -> None:
    """Remove the empty cgroups this server left behind, and kill and remove those of a server
    that is gone (whatever escaped into them dies with it)."""
    try:
        leftovers = [entry for entry in base.iterdir() if entry.name.startswith(PREFIX)]
    except OSError:
        return
    for entry in leftovers:
        owner = entry.name[len(PREFIX) :].split("-", 1)[0]
        if owner.isdigit() and int(owner) != os.getpid() and _alive(int(owner)):
            continue  # another running server's command
        if owner.isdigit() and int(owner) != os.getpid():
            kill_cgroup(entry)
        remove_cgroup(entry)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write(path: Path, value: int) -> None:
    """Set a cgroup limit if its controller is there (0: no limit)."""
    with contextlib.suppress(OSError):
        path.write_text(str(value) if value else "max")
