"""The README's first command on the default embedded model, for real: Qwen2.5-Coder-1.5B.

In a workspace with distinctive file names, ``agent-lsp chat --yes`` must really use its tools:
"What files are in this project?" calls list_files and the answer names the files; "What does the
function in X do?" reads X. The model is assembled in the user's cache folder as the product does
(the first run pays for it). Slow on two CPU cores: a few minutes per test.
"""

from __future__ import annotations

from pathlib import Path

from tests.cli.chat_process import chat_env, run_chat
from tests.fakes.local_model import REAL_QWEN

pytestmark = REAL_QWEN

FILES = {
    "zebra_stripes.py": 'def zebra_stripes(n):\n    """Return n alternating stripe colours."""\n'
    '    return ["black" if i % 2 else "white" for i in range(n)]\n',
    "walrus_notes.md": "# Walrus notes\n\nWhere the walruses sleep.\n",
    "quokka_main.py": "from zebra_stripes import zebra_stripes\n\nprint(zebra_stripes(4))\n",
}


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "menagerie"
    root.mkdir()
    for name, text in FILES.items():
        (root / name).write_text(text)
    return root


def test_what_files_are_in_this_project_lists_them(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    done = run_chat("--yes", "--workspace", str(root), "What files are in this project?", timeout=1700, env=chat_env())
    assert done.returncode == 0, done.stderr
    assert "[tool] list_files" in done.stderr, done.stderr
    named = [name for name in FILES if name in done.stdout]
    assert len(named) >= 2, f"the answer names {named}: {done.stdout!r}"
    assert '"name"' not in done.stdout  # no raw tool-call JSON shown as the answer


def test_what_does_the_function_do_reads_the_file(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    done = run_chat(
        "--yes",
        "--workspace",
        str(root),
        "What does the function in zebra_stripes.py do?",
        timeout=1700,
        env=chat_env(),
    )
    assert done.returncode == 0, done.stderr
    reads = [line for line in done.stderr.splitlines() if line.startswith("[tool] read_file")]
    assert any("zebra_stripes.py" in line for line in reads), done.stderr
    assert done.stdout.strip() and '"name"' not in done.stdout
