"""read_file, list_files, search_text: editor text first, caps, .gitignore, clear errors."""

from __future__ import annotations

from pathlib import Path

from agent_core.config import AgentConfig
from tests.fakes.doubles import RecordingHost
from tests.tools.helpers import Tools


async def test_read_file_numbers_lines_and_prefers_the_editor_buffer(tmp_path: Path) -> None:
    path = tmp_path / "app.py"
    path.write_text("on disk\n")
    host = RecordingHost(buffers={path.resolve(): "unsaved one\nunsaved two"})
    outcome = await Tools(tmp_path, host=host).run("read_file", path="app.py")
    assert not outcome.is_error
    assert outcome.output == "     1\tunsaved one\n     2\tunsaved two"


async def test_read_file_line_range_and_errors(tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    tools = Tools(tmp_path)
    ranged = await tools.run("read_file", path="f.txt", start_line=3, end_line=4)
    assert ranged.output == "     3\tline 3\n     4\tline 4"
    past = await tools.run("read_file", path="f.txt", start_line=50)
    assert past.is_error and "past the end" in past.output and "10 lines" in past.output
    backwards = await tools.run("read_file", path="f.txt", start_line=5, end_line=2)
    assert backwards.is_error and "before start_line" in backwards.output
    bad = await tools.run("read_file", path="f.txt", start_line=0)
    assert bad.is_error and "start_line" in bad.output
    missing = await tools.run("read_file", path="nope.txt")
    assert missing.is_error and "File not found: nope.txt" in missing.output
    folder = await tools.run("read_file", path=".")
    assert folder.is_error and "list_files" in folder.output


async def test_read_file_caps_large_files_with_a_note_to_read_on(tmp_path: Path) -> None:
    (tmp_path / "big.txt").write_text("".join(f"{'x' * 90} {i}\n" for i in range(1, 5001)))
    tools = Tools(tmp_path, AgentConfig(output_cap=5000))
    outcome = await tools.run("read_file", path="big.txt")
    assert len(outcome.output) < 5200
    last_shown = int(outcome.output.splitlines()[-2].split("\t")[0])
    assert f"showing lines 1-{last_shown} of 5000; read on with start_line={last_shown + 1}" in outcome.output
    more = await tools.run("read_file", path="big.txt", start_line=last_shown + 1, end_line=last_shown + 1)
    assert more.output.endswith(f"x {last_shown + 1}")


async def test_read_file_refuses_binary_and_reports_empty(tmp_path: Path) -> None:
    (tmp_path / "img.png").write_bytes(b"\x89PNG\0\0\0binary")
    (tmp_path / "empty.txt").write_text("")
    tools = Tools(tmp_path)
    binary = await tools.run("read_file", path="img.png")
    assert binary.is_error and "binary" in binary.output
    empty = await tools.run("read_file", path="empty.txt")
    assert not empty.is_error and "empty" in empty.output


def make_tree(root: Path) -> None:
    for path in [
        "src/app.py",
        "src/util/helpers.py",
        "build/out.js",
        "debug.log",
        "keep.log",
        "README.md",
        ".git/config",
        ".agent-lsp/sessions/s1.jsonl",
        "docs/.gitignore",
        "docs/guide.md",
        "docs/draft.md",
    ]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(f"content of {path}\nTODO: check {path}\n")
    (root / ".gitignore").write_text("build/\n*.log\n!keep.log\n")
    (root / "docs/.gitignore").write_text("draft.md\n")


async def test_list_files_direct_and_recursive_respecting_gitignore(tmp_path: Path) -> None:
    make_tree(tmp_path)
    tools = Tools(tmp_path)
    direct = await tools.run("list_files")
    assert direct.output.splitlines() == [".gitignore", "README.md", "docs/", "keep.log", "src/"]
    recursive = await tools.run("list_files", path=".", recursive=True)
    listed = recursive.output.splitlines()
    assert "src/util/helpers.py" in listed and "docs/guide.md" in listed and "keep.log" in listed
    for hidden in [
        "build/",
        "build/out.js",
        "debug.log",
        "docs/draft.md",
        ".git/",
        ".git/config",
        ".agent-lsp/sessions/",
    ]:
        assert hidden not in listed
    sub = await tools.run("list_files", path="src")
    assert sub.output.splitlines() == ["src/app.py", "src/util/"]


async def test_list_files_errors(tmp_path: Path) -> None:
    make_tree(tmp_path)
    tools = Tools(tmp_path)
    assert "Folder not found: nowhere" in (await tools.run("list_files", path="nowhere")).output
    assert "use read_file" in (await tools.run("list_files", path="README.md")).output
    assert "Refused" in (await tools.run("list_files", path=".git")).output


async def test_search_text_finds_lines_respecting_gitignore(tmp_path: Path) -> None:
    make_tree(tmp_path)
    tools = Tools(tmp_path)
    outcome = await tools.run("search_text", pattern=r"TODO: check \w+")
    lines = outcome.output.splitlines()
    assert "src/app.py:2:TODO: check src/app.py" in lines
    assert "keep.log:2:TODO: check keep.log" in lines
    assert not any(line.startswith(("build/", "debug.log", ".git/", ".agent-lsp/", "docs/draft.md")) for line in lines)
    only_py = await tools.run("search_text", pattern="TODO", include="*.py", ignore_case=True)
    assert {line.split(":")[0] for line in only_py.output.splitlines()} == {"src/app.py", "src/util/helpers.py"}
    in_file = await tools.run("search_text", pattern="content", path="README.md")
    assert in_file.output == "README.md:1:content of README.md"


async def test_search_text_bounds_results_and_reports_bad_regex(tmp_path: Path) -> None:
    (tmp_path / "many.txt").write_text("hit\n" * 50)
    tools = Tools(tmp_path)
    bounded = await tools.run("search_text", pattern="hit", max_results=5)
    assert bounded.output.count("many.txt:") == 5 and "stopped after 5 matches" in bounded.output
    bad = await tools.run("search_text", pattern="(unclosed")
    assert bad.is_error and "Invalid regular expression" in bad.output
    none = await tools.run("search_text", pattern="absent")
    assert not none.is_error and none.output.startswith("No matches")


async def test_line_numbers_count_newlines_only(tmp_path: Path) -> None:
    # A form feed and a Unicode line separator are not line breaks for editors or grep.
    (tmp_path / "odd.txt").write_bytes("one\x0cstill one\r\ntwo\u2028two\nthree".encode())
    tools = Tools(tmp_path)
    read = await tools.run("read_file", path="odd.txt")
    assert read.output == "     1\tone\x0cstill one\n     2\ttwo\u2028two\n     3\tthree"
    found = await tools.run("search_text", pattern="three")
    assert found.output == "odd.txt:3:three"
