"""What every ``heartbert`` command shares at run time: the CPU thread count, the ``--help``
layout, checking the model/tokenizer path a user typed before ``from_pretrained`` turns a typo into
minutes of Hub retries, and loading the tokenizer / processor saved with a model.

numpy-free and torch-free at import; torch is imported only by :func:`set_torch_threads`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import sys
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


def release_process_group() -> None:
    """Destroy torch.distributed's default process group, if this process started one.

    ``TrainingArguments`` starts one under ``torchrun``/``accelerate launch``. A process that exits
    without destroying it can die with SIGABRT ("terminate called without an active exception") while
    the interpreter shuts down: gloo's worker threads still hold tensors then (pytorch/pytorch#190489).
    A rank that finishes first (rank 1 skips the card and plots) made ``torchrun`` fail a finished run
    that way. Call it on the way out of every command that trains with ``Trainer``; a no-op when torch
    was never imported or no group exists.
    """
    torch = sys.modules.get("torch")
    if torch is None or not torch.distributed.is_available() or not torch.distributed.is_initialized():
        return
    torch.distributed.destroy_process_group()


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


# ------------------------------------------------------------------------------------ option parsing
_COUNTS = frozenset(
    {
        "batch_size", "max_length", "max_seq_length", "vocab_size", "steps", "hidden_size", "num_layers", "num_hidden_layers",
        "num_attention_heads", "intermediate_size", "max_tokens", "pack_batch_size", "tokenizer_max_examples", "max_train_records",
        "max_eval_blocks", "preprocessing_num_workers", "num_proc", "lstm_hidden_size", "cv", "val_folds", "max_train_per_class",
        "max_eval_examples", "torch_threads", "per_device_train_batch_size", "per_device_eval_batch_size",
    }
)  # fmt: skip
"""Whole-number options that count something: positive, or 0 where 0 is the option's default (it then means "automatic" / "all")
or where 0 has a documented meaning of its own (:data:`_ZERO_MEANS_NONE`)."""

_ZERO_MEANS_NONE = frozenset({"val_folds"})
"""Counts whose default is not 0 but for which 0 means "none" (``--val_folds 0``: no validation records, train on every DS1 record)."""

_NON_NEGATIVE = frozenset({"window", "lead", "seed", "bootstrap", "plot_start"})
_POSITIVE = frozenset({"learning_rate", "plot_seconds", "num_train_epochs"})
_SHARES = {  # option: (lowest, highest, lowest allowed, highest allowed)
    "mlm_probability": (0.0, 1.0, False, True),
    "validation_fraction": (0.0, 1.0, True, False),
    "hidden_dropout_prob": (0.0, 1.0, True, False),
    "attention_probs_dropout_prob": (0.0, 1.0, True, False),
}
_MIN_TOKENS = 3
"""Shortest sequence a HeartBert model can take: <s>, one ECG token, </s>."""


def check_numbers(obj) -> list[str]:
    """The problems of the numeric options of one parsed arguments dataclass, as ``--name: ...`` lines (empty: all fine).

    Rules by option name, the same in every command: counts (:data:`_COUNTS`) are positive, or 0
    where 0 is the default; sequence lengths (``max_length``, ``max_seq_length``) are 0 (automatic,
    where that is the default) or at least 3; shares such as ``--mlm_probability`` lie in their interval.
    """
    problems = []
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name, None)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue
        if value != value:  # NaN passes every comparison below
            problems.append(f"--{f.name} must be a number, got nan")
            continue
        zero_ok = (f.default == 0 and not isinstance(f.default, bool)) or f.name in _ZERO_MEANS_NONE
        if f.name in _COUNTS:
            if value < 0 or (value == 0 and not zero_ok) or value != int(value):
                problems.append(
                    f"--{f.name} must be a positive whole number{(' (or 0: none)' if f.name in _ZERO_MEANS_NONE else ' (or 0: automatic)') if zero_ok else ''}, got {value}"
                )
            elif f.name in ("max_length", "max_seq_length") and 0 < value < _MIN_TOKENS:
                problems.append(f"--{f.name} must be at least {_MIN_TOKENS} (<s>, one ECG token, </s>), got {value}")
        elif f.name in _NON_NEGATIVE and value < 0:
            problems.append(f"--{f.name} must be 0 or more, got {value}")
        elif f.name in _POSITIVE and not value > 0:
            problems.append(f"--{f.name} must be more than 0, got {value}")
        elif f.name in _SHARES:
            low, high, low_ok, high_ok = _SHARES[f.name]
            if not ((low <= value if low_ok else low < value) and (value <= high if high_ok else value < high)):
                interval = f"{'[' if low_ok else '('}{low:g}, {high:g}{']' if high_ok else ')'}"
                problems.append(f"--{f.name} must lie in {interval}, got {value}")
    return problems


def unknown_option_message(parser: argparse.ArgumentParser, remaining: list[str]) -> str:
    """``unrecognized arguments: --bach_size 8 (did you mean --batch_size?)``: what argparse says, with the closest options."""
    import difflib

    options = set(parser._option_string_actions)  # argparse keeps no public list
    known = sorted(s for s in options if s.startswith("--") and (s == "--" + s[2:].replace("-", "_") or "--" + s[2:].replace("-", "_") not in options))
    hints = []
    for arg in remaining:
        if not arg.startswith("-"):
            continue
        name = arg.split("=", 1)[0]
        close = difflib.get_close_matches(name.replace("-", "_"), known, n=2, cutoff=0.6)
        close = close or difflib.get_close_matches(name, known, n=2, cutoff=0.6)
        if close:
            hints.append(f"{name}: did you mean {' or '.join(close)}?")
    return f"unrecognized arguments: {' '.join(remaining)}" + (f" ({'; '.join(hints)})" if hints else "")


def _check_output_dirs(outputs) -> list[str]:
    """``--output_dir X is a file`` for every parsed ``output_dir`` that names an existing file."""
    problems = []
    for obj in outputs:
        out = getattr(obj, "output_dir", None)
        if out and Path(out).expanduser().exists() and not Path(out).expanduser().is_dir():
            problems.append(f"--output_dir {out} is a file, not a folder; pass a folder path (it is created when missing)")
    return problems


PATH_OPTIONS = frozenset(
    {
        "output_dir", "output", "logging_dir", "record", "input", "data_dir", "data_dirs", "mitdb_dir", "ptbxl_dir", "edb_dir",
        "cache_dir", "model", "model_name_or_path", "tokenizer", "tokenizer_name_or_path", "save_blocks", "prepared_blocks",
        "resume_from_checkpoint", "folder",
    }
)  # fmt: skip
"""Options of the ``heartbert`` commands that take file or folder paths: a leading ``~`` in their
values is the home folder (:func:`expand_user_paths`)."""


def expand_user_paths(argv: list[str]) -> list[str]:
    """``argv`` with ``~`` / ``~user`` expanded (``os.path.expanduser``) in the values of :data:`PATH_OPTIONS`.

    A shell expands ``~`` in ``--output_dir ~/x`` but not in ``--output_dir=~/x`` (nor does a launcher
    or a Python call): without this, ``Path("~/x")`` is a folder literally named ``~`` in the working
    folder. Values of other options (``--lead``, ...) are left as typed.
    """
    out, option = [], None
    for arg in argv:
        if arg.startswith("--"):
            name, eq, value = arg[2:].partition("=")
            option = name.replace("-", "_")
            if eq and option in PATH_OPTIONS and value.startswith("~"):
                arg = f"--{name}={os.path.expanduser(value)}"
        elif arg.startswith("-") and not arg[1:2].isdigit():
            option = None
        elif option in PATH_OPTIONS and arg.startswith("~"):
            arg = os.path.expanduser(arg)
        out.append(arg)
    return out


def expand_user(path: str | os.PathLike | None):
    """``path`` with a leading ``~`` expanded, as text when it was text (``None`` stays ``None``):
    for path options set from Python rather than the command line (see :func:`expand_user_paths`)."""
    if path is None:
        return None
    expanded = os.path.expanduser(os.fspath(path))
    return expanded if isinstance(path, str) else Path(expanded)


def HfArgumentParser(*args, **kwargs):  # noqa: N802 - a drop-in for transformers.HfArgumentParser
    """``transformers.HfArgumentParser`` whose ``parse_args_into_dataclasses`` fails like argparse.

    The transformers parser raises a bare ``ValueError`` traceback (exit 1) on an unknown option
    (``--bach_size``, or ``--output_dir`` on a command that takes ``--output``); this one prints
    the usage and ``error: unrecognized arguments: --bach_size 8 (--bach_size: did you mean
    --batch_size?)`` and exits 2, before any work. It does the same (exit 2, option named) for a
    ``ValueError`` from an arguments dataclass' ``__post_init__``, for a bad number
    (:func:`check_numbers`) and for an ``--output_dir`` that is an existing file. A leading ``~`` in
    a path option's value is the home folder, also in ``--output_dir=~/x`` (:func:`expand_user_paths`).
    """
    from transformers import HfArgumentParser as _Parser

    class CheckedParser(_Parser):
        def parse_args_into_dataclasses(self, args=None, return_remaining_strings=False, **more):
            args = expand_user_paths(list(sys.argv[1:] if args is None else args))
            if not return_remaining_strings:
                _, remaining = self.parse_known_args(args=args)
                if remaining:
                    self.error(unknown_option_message(self, remaining))
            try:
                outputs = super().parse_args_into_dataclasses(args=args, return_remaining_strings=return_remaining_strings, **more)
            except ValueError as err:  # a dataclass' own check of its values
                self.error(str(err))
            parsed = [o for o in outputs if dataclasses.is_dataclass(o)]
            problems = [p for o in parsed for p in check_numbers(o)] + _check_output_dirs(parsed)
            if problems:
                self.error("; ".join(problems))
            return outputs

    return CheckedParser(*args, **kwargs)


# ------------------------------------------------------------------------------------ output folders
WFDB_SUFFIXES = (".hea", ".dat", ".atr", ".edf", ".mat")
"""Files that mark a folder as holding (WFDB / EDF) records: a command never deletes such a folder."""


def _holds_records(folder: Path, limit: int = 100_000) -> Path | None:
    """The first record file (:data:`WFDB_SUFFIXES`) under ``folder``, or ``None`` (looks at most ``limit`` files)."""
    for i, path in enumerate(folder.rglob("*")):
        if i >= limit:
            break
        if path.suffix.lower() in WFDB_SUFFIXES and path.is_file():
            return path
    return None


def check_replaceable_output(output_dir, inputs: dict[str, object], overwrite: bool, overwrite_option: str = "--overwrite_output_dir") -> None:
    """Refuse, before any work, an ``--output_dir`` that the command would have to delete wrongly.

    A command that replaces its output folder (``shutil.rmtree`` then a new one, as ``heartbert
    prepare --overwrite_output_dir`` does) must not delete the user's data: it refuses an output
    folder that is, or holds, one of its input folders (``--data_dir``, ``--cache_dir`` ...), and an
    existing one that holds record files (:data:`WFDB_SUFFIXES`) whatever the inputs.

    Args:
        output_dir: the ``--output_dir`` value.
        inputs: option name (``"--data_dir"``) -> its value (``None``: not given).
        overwrite: whether the user asked to replace an existing ``output_dir``.

    Raises:
        ValueError: ``output_dir`` is a file, equals or contains an input folder, exists without
            ``overwrite``, or exists and holds record files.
    """
    out = Path(output_dir).expanduser()
    if out.exists() and not out.is_dir():
        raise ValueError(f"--output_dir {output_dir} is a file, not a folder; pass a new folder path.")
    target = out.resolve()
    for option, value in inputs.items():
        if not value:
            continue
        source = Path(os.fspath(value)).expanduser().resolve()
        if source == target or target in source.parents:
            where = "is" if source == target else "holds"
            raise ValueError(
                f"--output_dir {output_dir} {where} the {option} folder {value}: writing the output there would delete the input. "
                "Pass a separate --output_dir (e.g. a sibling folder)."
            )
    if out.exists():
        if not overwrite:
            raise ValueError(f"--output_dir {output_dir} exists; pass {overwrite_option} to replace it, or choose a new folder.")
        found = _holds_records(out)
        if found is not None:
            raise ValueError(
                f"--output_dir {output_dir} holds record files ({found.relative_to(out)}); {overwrite_option} replaces the whole folder, "
                "so it is refused here. Pass a separate --output_dir."
            )


def check_output_file(output, option: str = "--output", what: str = "a file", suffix: str = "") -> Path:
    """Refuse, before any work, an output file path that cannot be written: an existing folder, or a path under a file.

    Args:
        output: the ``--output`` value.
        option, what: how the message names the option and the file (``"a Parquet file"``).
        suffix: the file's usual suffix, for the example in the message (``".parquet"``).

    Returns:
        ``output`` as a ``Path``.

    Raises:
        ValueError: ``output`` is an existing folder, or one of its parents is an existing file.
    """
    path = Path(output).expanduser()
    if path.is_dir():
        raise ValueError(f"{option} {output} is a folder; pass the path of {what} to write, e.g. {Path(output) / ('out' + suffix)}.")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ValueError(f"{option} {output}: {parent} is a file, not a folder; pass the path of {what} in a folder.")
            break
    return path
