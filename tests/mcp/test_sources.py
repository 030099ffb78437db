"""MCP config: both dialects with their variables, the merge of the sources, and every bad input
reported as one line naming the file and the field while the rest still loads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent_core.config import AgentConfig
from agent_core.mcp.sources import Configured, from_acp, read_all, strip_jsonc

SECRETS = frozenset({"OPENAI_API_KEY", "ANTHROPIC_API_KEY"})
ENV = {"HOME": "/home/me", "DB_URL": "postgres://db", "OPENAI_API_KEY": "sk-secret", "TOKEN": "t0k"}


def write(workspace: Path, name: str, data: Any) -> None:
    path = workspace / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(data if isinstance(data, str) else json.dumps(data))


def read(workspace: Path, **settings: Any) -> Configured:
    return read_all(workspace, AgentConfig.model_validate(settings), ENV, SECRETS)


def test_vscode_dialect_with_variables_comments_and_trailing_commas(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".vscode/mcp.json",
        """{
      // VS Code writes JSON with comments
      "servers": {
        "db": {"type": "stdio", "command": "${workspaceFolder}/bin/db", "args": ["--url", "${env:DB_URL}"],
               "env": {"HOME_DIR": "${userHome}", "PORT": 5432}, "cwd": "${workspaceFolder}/srv",},
        /* an HTTP one */
        "web": {"type": "http", "url": "http://127.0.0.1:9/mcp", "headers": {"Authorization": "Bearer ${env:TOKEN}"}},
      },
    }""",
    )
    configured = read(tmp_path)
    assert configured.problems == []
    db, web = configured.servers
    assert (db.name, db.source, db.transport) == ("db", ".vscode/mcp.json", "stdio")
    assert db.command == f"{tmp_path}/bin/db" and db.args == ("--url", "postgres://db")
    assert db.env == {"HOME_DIR": "/home/me", "PORT": "5432"} and db.cwd == f"{tmp_path}/srv"
    assert db.raw["command"] == "${workspaceFolder}/bin/db"  # the trust question shows it as written
    assert (web.transport, web.url, web.headers) == ("http", "http://127.0.0.1:9/mcp", {"Authorization": "Bearer t0k"})


def test_mcp_json_dialect_with_claude_variables(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".mcp.json",
        {
            "mcpServers": {
                "files": {
                    "command": "npx",
                    "args": ["-y", "server-files", "${workspaceFolder}", "${DB_URL}", "${MISSING:-fallback}"],
                },
                "remote": {"url": "http://127.0.0.1:9/mcp"},
            }
        },
    )
    files, remote = read(tmp_path).servers
    assert files.args == ("-y", "server-files", str(tmp_path), "postgres://db", "fallback")
    assert files.source == ".mcp.json" and files.from_workspace
    assert remote.transport == "http"


def test_inputs_are_not_supported_and_the_notice_names_the_skipped_server(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".vscode/mcp.json",
        {
            "inputs": [{"type": "promptString", "id": "key", "description": "API key", "password": True}],
            "servers": {
                "github": {"command": "gh-mcp", "env": {"GITHUB_TOKEN": "${input:key}"}},
                "plain": {"command": "plain-mcp"},
            },
        },
    )
    configured = read(tmp_path)
    assert [s.name for s in configured.servers] == ["plain"]
    [problem] = configured.problems
    assert ".vscode/mcp.json" in problem and "'github' skipped" in problem and "${input:key}" in problem
    assert "input prompts are not supported" in problem


def test_bad_json_is_one_problem_naming_the_file_and_the_other_file_still_loads(tmp_path: Path) -> None:
    write(tmp_path, ".mcp.json", '{"mcpServers": {"a": {"command": "x"}')
    write(tmp_path, ".vscode/mcp.json", {"servers": {"b": {"command": "y"}}})
    configured = read(tmp_path)
    assert [s.name for s in configured.servers] == ["b"]
    [problem] = configured.problems
    assert problem.startswith(".mcp.json: not valid JSON") and "line 1" in problem


def test_unknown_fields_are_named_and_the_server_still_loads(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".mcp.json",
        {"mcpServers": {"a": {"command": "x", "colour": "red", "autoApprove": ["rm"]}}, "extra": 1},
    )
    configured = read(tmp_path)
    assert [s.name for s in configured.servers] == ["a"]
    assert ".mcp.json: extra: unknown field; ignored (servers go in 'mcpServers')" in configured.problems
    assert ".mcp.json: mcpServers.a.colour: unknown field; ignored" in configured.problems
    approve = next(p for p in configured.problems if "autoApprove" in p)
    assert "approvals come only from your own settings" in approve


def test_bad_entries_are_skipped_one_by_one(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".mcp.json",
        {
            "mcpServers": {
                "no_command": {"args": ["x"]},
                "bad_args": {"command": "x", "args": "not a list"},
                "old_sse": {"type": "sse", "url": "http://127.0.0.1:9/sse"},
                "odd": "not an object",
                "fine": {"command": "ok"},
            }
        },
    )
    configured = read(tmp_path)
    assert [s.name for s in configured.servers] == ["fine"]
    text = "\n".join(configured.problems)
    assert "'no_command' skipped: it has no command" in text
    assert "'bad_args' skipped: args: expected a list of strings" in text
    assert "'old_sse' skipped: type sse" in text
    assert "'odd' skipped: expected an object" in text


def test_precedence_settings_over_vscode_over_mcp_json_and_disabled_by_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".mcp.json",
        {
            "mcpServers": {
                "shared": {"command": "from-mcp-json"},
                "off": {"command": "x"},
                "own": {"command": "y", "disabled": True},
            }
        },
    )
    write(tmp_path, ".vscode/mcp.json", {"servers": {"shared": {"command": "from-vscode"}, "vs": {"command": "v"}}})
    configured = read(tmp_path, mcpServers={"shared": {"command": "from-settings"}}, mcp={"disabled": ["off"]})
    by_name = {s.name: s for s in configured.servers}
    assert by_name["shared"].command == "from-settings" and by_name["shared"].source == "settings"
    assert set(by_name) == {"shared", "vs"}
    assert ("off", ".mcp.json") in configured.disabled and ("own", ".mcp.json") in configured.disabled
    assert any("'shared' is also configured in settings, which wins" in p for p in configured.problems)


def test_workspace_files_can_be_turned_off(tmp_path: Path) -> None:
    write(tmp_path, ".mcp.json", {"mcpServers": {"a": {"command": "x"}}})
    assert read(tmp_path, mcp={"workspaceFiles": False}).servers == []


def test_a_workspace_file_may_not_hand_a_provider_key_to_its_server(tmp_path: Path) -> None:
    write(
        tmp_path,
        ".mcp.json",
        {
            "mcpServers": {
                "by_variable": {"command": "x", "args": ["--key", "${env:OPENAI_API_KEY}"]},
                "by_claude_variable": {
                    "url": "http://127.0.0.1:9/mcp",
                    "headers": {"Authorization": "${OPENAI_API_KEY}"},
                },
                "by_env": {"command": "x", "env": {"ANTHROPIC_API_KEY": "literal"}},
            }
        },
    )
    configured = read(
        tmp_path, mcpServers={"mine": {"command": "x", "env": {"OPENAI_API_KEY": "${env:OPENAI_API_KEY}"}}}
    )
    assert [s.name for s in configured.servers] == ["mine"]  # the user's own settings may
    assert configured.servers[0].env == {"OPENAI_API_KEY": "sk-secret"}
    refused = [p for p in configured.problems if "provider API key" in p]
    assert len(refused) == 3 and all("may not do that" in p for p in refused)


def test_settings_entries_are_checked_by_the_settings_parser() -> None:
    from lsp_server.settings import parse_settings

    parsed = parse_settings({"mcpServers": {"a": {"comand": "x"}, "b": {"url": "http://127.0.0.1:9/mcp"}}})
    assert "mcpServers.a.comand: unknown setting; ignored" in parsed.problems
    assert any(p.startswith("mcpServers.a:") and "needs a command" in p for p in parsed.problems)
    assert list(parsed.config.mcp_servers) == ["b"]


def test_acp_session_list(tmp_path: Path) -> None:
    specs, problems = from_acp(
        [
            {
                "name": "fs",
                "command": "/bin/fs",
                "args": ["--root", "${workspaceFolder}"],
                "env": [{"name": "OPENAI_API_KEY", "value": "sk-user"}],
            },
            {"type": "http", "name": "web", "url": "http://127.0.0.1:9/mcp", "headers": [{"name": "X", "value": "1"}]},
            {"command": "nameless"},
        ],
        tmp_path,
        {},
    )
    fs, web = specs
    assert fs.source == "client" and fs.args == ("--root", str(tmp_path))
    assert fs.env == {"OPENAI_API_KEY": "sk-user"}  # the user's own editor config may pass a key
    assert web.headers == {"X": "1"}
    assert problems == ["client: server #3 skipped: it has no name"]


def test_client_list_wins_over_every_other_source(tmp_path: Path) -> None:
    write(tmp_path, ".mcp.json", {"mcpServers": {"fs": {"command": "repo-fs"}}})
    specs, _ = from_acp([{"name": "fs", "command": "/bin/fs"}], tmp_path, {})
    configured = read_all(
        tmp_path, AgentConfig.model_validate({"mcpServers": {"fs": {"command": "settings-fs"}}}), ENV, SECRETS, specs
    )
    [fs] = configured.servers
    assert (fs.source, fs.command) == ("client", "/bin/fs")


def test_strip_jsonc_keeps_strings_and_lines() -> None:
    text = '{"a": "http://x//y", /* c */ "b": [1, 2,], // end\n "c": "/*not*/"}'
    assert json.loads(strip_jsonc(text)) == {"a": "http://x//y", "b": [1, 2], "c": "/*not*/"}
    assert strip_jsonc("// x\n{}").count("\n") == 1
