"""The first process of every ``run_command``: join its cgroup, set its rlimits, become the shell.

Run as ``python -I -S launcher.py CGROUP AS FSIZE CPU PROCESSES COMMAND`` (``-`` for no cgroup,
``0`` for no limit; sizes in bytes, CPU in seconds, PROCESSES the tasks the command may add to the
user's running ones). Limits and cgroup must be in place before the command's first instruction,
and ``preexec_fn`` is unsafe in a threaded server, hence a program of its own. It imports only
what it needs from the standard library and is tiny, so it adds little to a command's start; it
then ``exec``s ``/bin/sh -c COMMAND``, exactly the command that was approved. See confinement.py.
"""

import os
import resource
import sys


def main(cgroup: str, address_space: str, file_size: str, cpu: str, processes: str, command: str) -> None:
    if cgroup != "-":
        try:
            with open(os.path.join(cgroup, "cgroup.procs"), "w") as procs:
                procs.write(str(os.getpid()))
        except OSError:
            pass  # no cgroup after all: the process group and the rlimits remain
    for kind, value in (
        (resource.RLIMIT_AS, address_space),
        (resource.RLIMIT_FSIZE, file_size),
        (resource.RLIMIT_CPU, cpu),
    ):
        limit(kind, int(value))
    if int(processes):
        running = user_tasks()
        if running is not None:
            limit(resource.RLIMIT_NPROC, running + int(processes))
    os.execv("/bin/sh", ["/bin/sh", "-c", command])


def limit(kind: int, value: int) -> None:
    """Lower the soft and hard limit to ``value`` (0: leave it; never above the hard limit)."""
    if not value:
        return
    hard = resource.getrlimit(kind)[1]
    if hard != resource.RLIM_INFINITY:
        value = min(value, hard)
    try:
        resource.setrlimit(kind, (value, value))
    except (ValueError, OSError):
        pass  # a limit this system does not enforce


def user_tasks() -> int | None:
    """How many tasks this user runs (RLIMIT_NPROC counts threads, per user), from ``/proc``;
    None where there is no ``/proc`` (macOS): RLIMIT_NPROC is then left alone."""
    uid = os.getuid()
    total = 0
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return None
    for pid in pids:
        try:
            if os.stat("/proc/" + pid).st_uid != uid:
                continue
            with open("/proc/" + pid + "/status") as status:
                for line in status:
                    if line.startswith("Threads:"):
                        total += int(line.split()[1])
                        break
        except (OSError, ValueError):
            continue
    return total


if __name__ == "__main__":
    main(*sys.argv[1:])
