"""What every ``heartbert`` command shares at run time: the CPU thread count, checking the
model/tokenizer path a user typed before ``from_pretrained`` turns a typo into a Hub error, and
loading the tokenizer / processor saved with a model.

numpy-free and torch-free at import; torch is imported only by :func:`set_torch_threads`.
"""

from __future__ import annotations

import os
from pathlib import Path

THREADS_HELP = (
    "CPU threads for torch (0: the measured default: as many as the cores not already busy, at least 1; "
    "an OMP_NUM_THREADS in the environment is respected). See docs/pretraining.md, 'CPU threads'."
)


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


def looks_like_local_path(name: str) -> bool:
    """True when ``name`` can only be a local path, not a Hub id (``org/name``)."""
    return (
        name.startswith((".", "/", "~", "\\"))
        or name.count("/") > 1
        or "\\" in name
        or (len(name) > 1 and name[1] == ":")  # C:\...
        or name.endswith("/")
    )


def check_model_path(name: str, what: str = "model folder") -> None:
    """Fail early, and clearly, when a model/tokenizer argument names a local folder that is not there.

    Without this, ``from_pretrained`` treats a mistyped folder as a Hub id and ends in
    ``Repo id must be in the form 'repo_name' or 'namespace/repo_name'``.

    Args:
        name: the ``--model`` / ``--tokenizer`` value.
        what: how the message calls it.

    Raises:
        FileNotFoundError: ``name`` is a local path that does not exist, or a file instead of a folder.
    """
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir():
            raise FileNotFoundError(f"{what} {name} is a file; pass the folder that holds config.json and the tokenizer files.")
        return
    if looks_like_local_path(name):
        parent = path.parent
        hint = f" ({parent} exists: is the last part misspelt?)" if parent.is_dir() else ""
        raise FileNotFoundError(f"{what} {name} does not exist{hint}. Pass a saved HeartBert folder or a Hub id (org/name).")


def load_heartbert_tokenizer(model: str):
    """The HeartBert tokenizer saved with ``model``; a clear ``ValueError`` when there is none."""
    from .tokenization_heartbert import QUANTIZER_FILE, HeartBertTokenizer

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
        ValueError: no HeartBert tokenizer there (see :func:`load_heartbert_tokenizer`), or a saved
            feature extractor whose quantizer is not the one the tokenizer was trained on.
    """
    from .feature_extraction_heartbert import HeartBertFeatureExtractor
    from .processing_heartbert import HeartBertProcessor

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
