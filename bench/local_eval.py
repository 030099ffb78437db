"""The fixed eval of ``bench/local_model.py``: 10 agent tasks in a generated workspace.

The workspace is small and uses distinctive names, so an answer that names them was not guessed.
Each task's check looks at what really happened (the tool calls made, the files on disk after an
edit, the words of the answer), never at how the answer is phrased beyond a key word.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from agent_core.messages import ToolCall

FILES = {
    "README.md": "# Pelican Ledger\n\nA tiny bookkeeping tool for the Pelican bakery.\n",
    "pyproject.toml": '[project]\nname = "pelican-ledger"\nversion = "3.7.1"\n',
    "src/geometry.py": (
        "import math\n\n\ndef circle_area(radius):\n"
        '    """Return the area of a circle with the given radius."""\n'
        "    return math.pi * radius ** 2\n"
    ),
    "src/billing.py": (
        "def parse_invoice(text):\n"
        '    """Split an invoice line \'item;amount\' into the item and the amount as a float."""\n'
        '    item, amount = text.split(";")\n    return item.strip(), float(amount)\n'
    ),
    "src/settings.py": "MAX_RETRIES = 7\nTIMEOUT_SECONDS = 30\n",
    "src/queue_utils.py": (
        "from collections import deque\n\n\nclass BoundedQueue:\n"
        '    """A first-in first-out queue that drops the oldest item when it is full."""\n\n'
        "    def __init__(self, size):\n        self.items = deque(maxlen=size)\n\n"
        "    def push(self, item):\n        self.items.append(item)\n\n"
        "    def pop(self):\n        return self.items.popleft()\n"
    ),
    "src/greeting.py": 'def greet(name):\n    return "Hello, " + name + "!"\n',
    "src/mathx.py": "def square(x):\n    return x * x\n",
    "notes/todo.txt": "- count the croissants\n- pay the flour supplier\n",
}

Check = Callable[[Path, str, list[ToolCall]], tuple[bool, str]]


@dataclass(frozen=True)
class Task:
    name: str
    prompt: str
    check: Check


def make_workspace(root: Path) -> None:
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _used(calls: list[ToolCall], *names: str) -> bool:
    return any(call.name in names for call in calls)


def _read(calls: list[ToolCall], path: str) -> bool:
    return any(call.name == "read_file" and str(call.arguments.get("path", "")).lstrip("./") == path for call in calls)


def _mentions(answer: str, *words: str) -> bool:
    low = answer.lower()
    return all(word.lower() in low for word in words)


def _list_all(root: Path, answer: str, calls: list[ToolCall]) -> tuple[bool, str]:
    named = [name for name in ("README.md", "pyproject.toml", "src", "notes") if name.lower() in answer.lower()]
    ok = _used(calls, "list_files") and len(named) >= 2
    return ok, f"named {named}"


def _list_src(root: Path, answer: str, calls: list[ToolCall]) -> tuple[bool, str]:
    named = [
        name
        for name in ("geometry.py", "billing.py", "settings.py", "queue_utils.py", "greeting.py", "mathx.py")
        if name in answer
    ]
    return _used(calls, "list_files") and len(named) >= 3, f"named {named}"


def _readme(root: Path, answer: str, calls: list[ToolCall]) -> tuple[bool, str]:
    return _read(calls, "README.md") and _mentions(answer, "pelican"), "read README.md, mentions Pelican"


def _geometry(root: Path, answer: str, calls: list[ToolCall]) -> tuple[bool, str]:
    ok = _read(calls, "src/geometry.py") and _mentions(answer, "area") and _mentions(answer, "circle")
    return ok, "read src/geometry.py, mentions area of a circle"


def _find_parse_invoice(root: Path, answer: str, calls: list[ToolCall]) -> tuple[bool, str]:
    return "billing.py" in answer and _used(calls, "search_text", "read_file", "list_files"), "names billing.py"


def _find_constant(root: Path, answer: str, calls: list[ToolCall]) -> tuple[bool, str]:
    return "settings.py" in answer and _used(calls, "search_text", "read_file", "list_files"), "names settings.py"


def _explain_queue(root: Path, answer: str, calls: list[ToolCall]) -> tuple[bool, str]:
    ok = (
        _read(calls, "src/queue_utils.py")
        and _mentions(answer, "queue")
        and (_mentions(answer, "oldest") or _mentions(answer, "full") or _mentions(answer, "first"))
    )
    return ok, "read src/queue_utils.py, explains the dropping queue"


def _version(root: Path, answer: str, calls: list[ToolCall]) -> tuple[bool, str]:
    return _read(calls, "pyproject.toml") and "3.7.1" in answer, "read pyproject.toml, says 3.7.1"


def _edit_greeting(root: Path, answer: str, calls: list[ToolCall]) -> tuple[bool, str]:
    text = (root / "src/greeting.py").read_text()
    return '"Howdy, "' in text and "Hello" not in text and "def greet(name)" in text, "greeting.py says Howdy"


def _add_double(root: Path, answer: str, calls: list[ToolCall]) -> tuple[bool, str]:
    path = root / "src/mathx.py"
    try:
        spec = importlib.util.spec_from_file_location("mathx_eval", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        ok = module.double(21) == 42 and module.square(3) == 9
    except Exception as exc:  # the model's edit may not even import
        return False, f"mathx.py broken: {type(exc).__name__}"
    return ok, "double(21) == 42 and square kept"


TASKS: list[Task] = [
    Task("list", "What files are in this project?", _list_all),
    Task("list a folder", "List the files in the src folder.", _list_src),
    Task("read", "What is in README.md?", _readme),
    Task("explain a function", "What does the function in src/geometry.py do?", _geometry),
    Task("find a function", "Which file defines the function parse_invoice?", _find_parse_invoice),
    Task("find a constant", "Where is MAX_RETRIES defined?", _find_constant),
    Task("explain a file", "Explain what src/queue_utils.py does.", _explain_queue),
    Task("read a value", "What version is set in pyproject.toml?", _version),
    Task("small edit", "In src/greeting.py, change the greeting word Hello to Howdy.", _edit_greeting),
    Task("add a function", "Add a function double(x) that returns x * 2 to src/mathx.py.", _add_double),
]
