"""What every ``heartbert`` command shares at run time: the CPU thread count, the ``--help``
layout, checking the model/tokenizer path a user typed before ``from_pretrained`` turns a typo into
minutes of Hub retries, and loading the tokenizer / processor saved with a model.

numpy-free and torch-free at import; torch is imported only by :func:`set_torch_threads`.
"""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

THREADS_HELP = (
    "CPU threads for torch (0: the measured default: as many as the cores not already busy, at least 1; "
    "an OMP_NUM_THREADS in the environment is respected). See docs/pretraining.md, 'CPU threads'."
)


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` that states each option's default once.

    ``HfArgumentParser``'s default formatter appends ``(default: X)`` to every option, also to one
    whose help already says its default in words, and ``(default: None)`` to required options and to
    options whose absence means "decide from the data". This one appends ``(default: X)`` only when
    the help says no ``(default ...)`` itself, the option is not required, and X is not ``None``.
    Pass it as ``HfArgumentParser(..., formatter_class=HelpFormatter)``.
    """

    def _get_help_string(self, action):
        text = action.help or ""
        if action.required or action.default is None or re.search(r"\(default\b", text, re.IGNORECASE):
            return text
        return super()._get_help_string(action)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask, else ``os.cpu_count()``)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def default_torch_threads(torch_default: int | None = None) -> int:
    """The thread count a command uses when ``--torch_threads 0``.

    Rule (chosen by ``benchmarks/threads.py``, figures in docs/pretraining.md): torch's own default
    uses every core, and when another process already keeps a core busy, its threads wait on each
    other (the quick start ran 4-7x slower on 2 cores with one busy process). So take the cores
    not already busy: ``usable CPUs - round(1-minute load average)``, shared among the processes of
    one ``torchrun``/``accelerate launch`` (``LOCAL_WORLD_SIZE``), at least 1 and at most torch's
    default. The load average is read before the command starts working, so it counts the other
    processes only.

    Args:
        torch_default: torch's default thread count (``torch.get_num_threads()`` before any change).
    """
    cpus = usable_cpus()
    try:
        busy = round(os.getloadavg()[0])
    except (AttributeError, OSError):  # no load average (Windows): be conservative on small machines
        busy = 1 if cpus <= 2 else 0
    # processes started together by torchrun / accelerate launch share the free cores
    local_processes = max(1, int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1))
    free = max(1, (cpus - busy) // local_processes)
    return min(free, torch_default) if torch_default else free


def set_torch_threads(requested: int = 0) -> int:
    """Set torch's intra-op thread count for this process and return it.

    Args:
        requested: a thread count; ``0`` picks :func:`default_torch_threads`, unless
            ``OMP_NUM_THREADS`` is set in the environment, which then wins (torch already read it).

    Raises:
        ValueError: a negative count.
    """
    if requested < 0:
        raise ValueError(f"--torch_threads must be 0 (automatic) or a positive count, got {requested}.")
    import torch

    if requested == 0:
        if os.environ.get("OMP_NUM_THREADS"):
            return torch.get_num_threads()
        requested = default_torch_threads(torch.get_num_threads())
    if torch.get_num_threads() != requested:
        torch.set_num_threads(requested)
    return requested


HUB_PROBE_TIMEOUT_S = 10.0
"""Seconds one request may take when :func:`check_model_path` asks the Hub whether a repo exists."""


def looks_like_local_path(name: str) -> bool:
    """True when ``name`` can only be a local path, not a Hub id (``name`` or ``owner/name``).

    Local: it starts with ``.``, ``/``, ``~`` or ``\\``, holds a backslash or a drive letter, ends
    with ``/``, has more than one ``/``, is not a valid Hub id (``huggingface_hub``'s
    ``validate_repo_id``), or its first part is a folder here: ``heartbert-runs/quickstrat`` next to a
    ``heartbert-runs/`` folder is a mistyped folder, not the repo ``quickstrat`` of a Hub user
    ``heartbert-runs``.
    """
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    if (
        name.startswith((".", "/", "~", "\\"))
        or name.count("/") > 1
        or "\\" in name
        or (len(name) > 1 and name[1] == ":")  # C:\...
        or name.endswith("/")
        or ("/" in name and Path(name.split("/", 1)[0]).is_dir())
    ):
        return True
    try:
        validate_repo_id(name)
    except HFValidationError:
        return True
    return False


def _hub_offline() -> bool:
    """``HF_HUB_OFFLINE`` / ``TRANSFORMERS_OFFLINE`` set now or when ``huggingface_hub`` was imported."""
    from huggingface_hub import constants

    now = (os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or "").strip().upper()
    return constants.is_offline_mode() or now in {"1", "ON", "YES", "TRUE"}


def _cached_snapshot(repo_id: str) -> str | None:
    """The folder of ``repo_id``'s snapshot in the local Hub cache, or ``None`` when it is not cached."""
    from huggingface_hub import snapshot_download

    try:
        return snapshot_download(repo_id, local_files_only=True)
    except (OSError, ValueError):  # LocalEntryNotFoundError is an OSError
        return None


def check_model_path(name: str, what: str = "model folder") -> str:
    """Fail at once, and clearly, when a model/tokenizer argument is neither a folder here nor a Hub repo.

    Without this, ``from_pretrained`` treats a mistyped folder as a Hub id: offline it retries the
    Hub for minutes (``huggingface_hub`` backs off 5 times per file), then blames the Hub or a
    missing file. Rule: an existing path must be a folder; a name that can only be a local path
    (:func:`looks_like_local_path`) must exist; any other name is a Hub id, and the Hub is asked
    once (:data:`HUB_PROBE_TIMEOUT_S`, no retries) whether the repo exists, unless ``HF_HUB_OFFLINE``
    is set, in which case only the local Hub cache is looked at.

    Args:
        name: the ``--model`` / ``--tokenizer`` value (``str`` or ``Path``).
        what: how the message calls it.

    Returns:
        What to pass to ``from_pretrained``: ``name``, or the cached snapshot folder of a Hub id
        when the Hub cannot be asked (offline, unreachable), so that loading does not retry the Hub.

    Raises:
        FileNotFoundError: a local path that does not exist (with the close names in its folder), a
            file instead of a folder, or a Hub id with no such repo on the Hub, or with no cached
            copy while offline or while the Hub is unreachable.
    """
    name = os.fspath(name)  # a Path is welcome too
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise FileNotFoundError(f"{what} {name} is a file; pass the folder that holds config.json and the tokenizer files.")
        return name
    if looks_like_local_path(name):
        raise FileNotFoundError(f"{what} {name} does not exist{_missing_folder_hint(path)}. Pass a saved HeartBert folder or a Hub id (owner/name).")
    return _check_hub_repo(name, what)


def _missing_folder_hint(path: Path) -> str:
    """`` (PARENT exists: ...)`` with the names in it closest to ``path``'s last part, or ``""``."""
    import difflib

    parent = path.parent
    if not parent.is_dir() or parent == path:
        return ""
    try:
        names = sorted(p.name for p in parent.iterdir() if p.is_dir())
    except OSError:
        names = []
    close = difflib.get_close_matches(path.name, names, n=3)
    question = f"did you mean {' or '.join(str(parent / c) for c in close)}?" if close else "is the last part misspelt?"
    return f" ({parent} exists: {question})"


def _check_hub_repo(repo_id: str, what: str) -> str:
    """``repo_id`` when the Hub has it, its cached snapshot folder when the Hub cannot be asked; else a clear error."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    local = f"{what} {repo_id} is not a local folder (none here: {Path(repo_id).resolve()})"
    if _hub_offline():
        cached = _cached_snapshot(repo_id)
        if cached is None:
            raise FileNotFoundError(f"{local}, and HF_HUB_OFFLINE is set and the Hub cache holds no repo {repo_id}. Check the folder name.")
        return cached
    try:
        HfApi().repo_info(repo_id, timeout=HUB_PROBE_TIMEOUT_S)
    except GatedRepoError:  # it exists; from_pretrained says what access it needs
        return repo_id
    except RepositoryNotFoundError:
        raise FileNotFoundError(f"{local}, and the Hub has no repo {repo_id} (or it is private: log in with `hf auth login`). Check the folder name.") from None
    except Exception as err:  # no network, DNS, proxy, timeout, server error: do not let from_pretrained retry for minutes
        cached = _cached_snapshot(repo_id)
        if cached is None:
            reason = " ".join(str(err).split())[:200] or type(err).__name__
            raise FileNotFoundError(f"{local}, and the Hub is unreachable ({reason}) with no cached copy of repo {repo_id}. Check the folder name.") from None
        return cached
    return repo_id


def load_heartbert_tokenizer(model: str):
    """The HeartBert tokenizer saved with ``model`` (a folder or Hub id).

    Raises:
        FileNotFoundError: neither a folder here nor a Hub repo (:func:`check_model_path`).
        ValueError: no HeartBert tokenizer there.
    """
    from .tokenization_heartbert import QUANTIZER_FILE, HeartBertTokenizer

    model = check_model_path(model, "tokenizer folder")
    path = Path(model)
    if path.is_dir() and not (path / QUANTIZER_FILE).is_file():
        raise ValueError(
            f"{model} has no HeartBert tokenizer ({QUANTIZER_FILE} + tokenizer.json): a model must be used with the tokenizer "
            "it was pretrained with. Save it into the model folder with tokenizer.save_pretrained(folder)."
        )
    try:
        return HeartBertTokenizer.from_pretrained(model)
    except (OSError, ValueError) as err:
        raise ValueError(f"{model} has no usable HeartBert tokenizer: {err}") from None


def load_heartbert_processor(model: str):
    """The :class:`HeartBertProcessor` (feature extractor + tokenizer) saved with ``model``.

    A folder written by ``processor.save_pretrained`` (every folder ``heartbert pretrain``,
    ``finetune``, ``prepare`` and ``quickstart`` save) holds the feature extractor in
    ``processor_config.json`` (or ``preprocessor_config.json``); an older folder written by
    ``tokenizer.save_pretrained`` only has the same settings and quantizer in
    ``tokenizer_config.json`` + ``quantizer.json``, and the processor uses the feature extractor the
    tokenizer carries.

    Raises:
        FileNotFoundError: ``model`` is neither a folder here nor a Hub repo (:func:`check_model_path`).
        ValueError: no HeartBert tokenizer there (see :func:`load_heartbert_tokenizer`), or a saved
            feature extractor whose quantizer is not the one the tokenizer was trained on.
    """
    from .feature_extraction_heartbert import HeartBertFeatureExtractor
    from .processing_heartbert import HeartBertProcessor

    model = check_model_path(model, "tokenizer folder")
    tokenizer = load_heartbert_tokenizer(model)
    path = Path(model)
    saved = path.is_dir() and any((path / name).is_file() for name in ("processor_config.json", "preprocessor_config.json"))
    if not saved and path.is_dir():
        return HeartBertProcessor.from_tokenizer(tokenizer)
    try:
        feature_extractor = HeartBertFeatureExtractor.from_pretrained(model)
    except OSError:  # a Hub repo with the tokenizer only
        return HeartBertProcessor.from_tokenizer(tokenizer)
    return HeartBertProcessor(feature_extractor, tokenizer)


def resolve_max_length(requested: int, config) -> int:
    """``requested`` or the model's positions - 2 (capped at 512); never beyond the model's limit."""
    limit = int(config.max_position_embeddings) - 2
    if requested and requested > limit:
        raise ValueError(f"max_length {requested} exceeds the model's {limit} token positions.")
    return int(requested) if requested else min(limit, 512)
