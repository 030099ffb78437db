"""Session store benchmark: the cost of one save must not grow with the history.

Prints the mean time to save (append, durably) one message to a session that already holds 10
and 10,000 messages, their ratio (it should stay near 1: saving never rewrites history), and the
time to restore (load) a 10,000-message session and to list it. Run from the repository root:

    python3 bench/sessions.py [--saves N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agent_core.config import SessionConfig
from agent_core.messages import Message, ToolCall
from agent_core.sessions import Session, SessionStore

#: A realistic message: a paragraph of prose, or a tool call with a short file read.
PROSE = "The function parses the header, then validates each record in turn. " * 12


def _message(number: int) -> Message:
    if number % 3 == 1:
        call = ToolCall(id=f"call_{number}", name="read_file", arguments={"path": f"src/m{number}.py"})
        return Message(role="assistant", content="", tool_calls=[call])
    if number % 3 == 2:
        return Message(role="tool", content=PROSE, tool_call_id=f"call_{number - 1}", name="read_file")
    return Message(role="user", content=f"{number}: {PROSE}")


def _fill(session: Session, count: int) -> None:
    for number in range(count):
        session.append(_message(number))


def _time_saves(small: Session, big: Session, saves: int) -> tuple[list[float], list[float]]:
    """Alternate saves between the two sessions so disk noise hits both equally."""
    small_times: list[float] = []
    big_times: list[float] = []
    for _ in range(saves):
        for session, times in ((small, small_times), (big, big_times)):
            message = _message(len(session.messages))
            start = time.perf_counter()
            session.append(message)
            times.append(time.perf_counter() - start)
    return small_times, big_times


def _report(label: str, times: list[float]) -> float:
    mean = statistics.fmean(times)
    print(
        f"save one message, {label} already in the session: "
        f"mean {mean * 1e3:.3f} ms, median {statistics.median(times) * 1e3:.3f} ms "
        f"({len(times)} saves)"
    )
    return mean


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--saves", type=int, default=300, help="saves to average over")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="agent-lsp-bench-") as workspace:
        store = SessionStore(Path(workspace), SessionConfig())
        with store.new() as small, store.new() as big:
            _fill(small, 10)
            _fill(big, 10_000)
            # Each save is of one new message; the sessions grow by `saves` during the run.
            small_times, big_times = _time_saves(small, big, args.saves)
            big_id, big_count = big.id, len(big.messages)
            size = big.path.stat().st_size

        start = time.perf_counter()
        with store.open(big_id) as restored:
            load_time = time.perf_counter() - start
            assert len(restored.messages) == big_count
        start = time.perf_counter()
        store.list()
        list_time = time.perf_counter() - start

    small_cost = _report("10", small_times)
    big_cost = _report("10,000", big_times)
    print(f"ratio (10,000 / 10): {big_cost / small_cost:.2f}")
    print(f"restore a {big_count:,}-message session ({size / 1e6:.1f} MB): {load_time * 1e3:.1f} ms")
    print(f"list both sessions (built from the files): {list_time * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
