"""The PhysioNet builder registry and :func:`load_physionet`.

``load_physionet(name, config, data_dir=...)`` builds one database (``mitdb``, ``ptbxl``, ``edb``,
``slpdb``) into a ``DatasetDict`` (or streams it). The builders live in
``heartbert_hf.dataset_scripts`` (the repository's ``dataset_scripts/`` folder, installed as a
subpackage).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

BUILDERS: dict[str, tuple[str, str]] = {
    "mitdb": ("mitdb", "MitBihBuilder"),
    "ptbxl": ("ptbxl", "PtbXlBuilder"),
    "edb": ("edb", "EuropeanStTBuilder"),
    "slpdb": ("slpdb", "SlpdbBuilder"),
}
"""Database name → (module in ``dataset_scripts``, builder class)."""

ALIASES = {"ptb-xl": "ptbxl", "mit-bih": "mitdb", "european-st-t": "edb"}


def _checkout_scripts() -> Path | None:
    """``dataset_scripts/`` of the source checkout this ``heartbert_hf`` was imported from, if any."""
    root = Path(__file__).resolve().parents[2]
    folder = root / "dataset_scripts"
    return folder if (root / "pyproject.toml").is_file() and (folder / "__init__.py").is_file() else None


def _import_script(module: str):
    """The builder module: from the source checkout beside the imported package, else the installed one.

    A checkout wins so that ``PYTHONPATH=<checkout>`` (a second checkout or git worktree next to an
    editable install of another) builds with that checkout's builders, not the installed ones.
    """
    name = f"heartbert_hf.dataset_scripts.{module}"
    folder = _checkout_scripts()
    if name in sys.modules or folder is None:
        try:
            return importlib.import_module(name)
        except ModuleNotFoundError as err:
            if err.name not in (name, "heartbert_hf.dataset_scripts"):
                raise
            raise ModuleNotFoundError(f"builder module {name} is not installed; reinstall heartbert_hf.") from err
    package = "heartbert_hf.dataset_scripts"
    if package not in sys.modules:  # later imports of heartbert_hf.dataset_scripts.* then find the checkout's too
        spec = importlib.util.spec_from_file_location(package, folder / "__init__.py", submodule_search_locations=[str(folder)])
        sys.modules[package] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[package])
    path = folder / f"{module}.py"
    if not path.is_file():
        raise ModuleNotFoundError(f"builder module {name}: {path} does not exist.")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod


def get_builder_class(name: str):
    """The ``GeneratorBasedBuilder`` subclass of a database.

    Args:
        name: ``mitdb``, ``ptbxl``, ``edb`` or ``slpdb`` (aliases: ``ptb-xl``, ``mit-bih``, ``european-st-t``).
    """
    if not isinstance(name, str):
        raise TypeError(f"database name must be a string, got {type(name).__name__}.")
    key = ALIASES.get(name.lower(), name.lower())
    if key not in BUILDERS:
        raise ValueError(f"unknown PhysioNet database {name!r}; choose one of {sorted(BUILDERS)}.")
    module, cls = BUILDERS[key]
    return getattr(_import_script(module), cls)


def required_annotations(name: str, config: str | None = None, **config_kwargs) -> tuple[str, ...]:
    """The annotation files (extensions) each record of ``name``/``config`` must have, e.g. ``("atr",)`` for mitdb beats.

    Args:
        name: the database (see :func:`get_builder_class`).
        config: config name (default: the database's default).
        **config_kwargs: config fields (``annotation_extension`` for slpdb); others are ignored.
    """
    import dataclasses

    builder_cls = get_builder_class(name)
    config_cls = builder_cls.BUILDER_CONFIG_CLASS
    fields = {f.name for f in dataclasses.fields(config_cls)}
    options = {k: v for k, v in config_kwargs.items() if k in fields and k not in ("name", "data_dir", "records")}
    return tuple(builder_cls.annotation_extensions(config_cls(name=config or builder_cls.DEFAULT_CONFIG_NAME, **options)))


def get_builder(name: str, config: str | None = None, data_dir: str | None = None, cache_dir: str | None = None, **config_kwargs):
    """Instantiate a database's builder (without preparing it).

    Args:
        name: the database (see :func:`get_builder_class`).
        config: config name (default: the database's default).
        data_dir: local copy of the database (default: download from PhysioNet).
        cache_dir: ``datasets`` cache root.
        **config_kwargs: config fields (``records``, ``leads``, ``n_folds``, ``sampling_rate`` …).
    """
    builder_cls = get_builder_class(name)
    names = [c.name for c in builder_cls.BUILDER_CONFIGS]
    if config is not None and config not in names:
        raise ValueError(f"unknown config {config!r} for {name}; choose one of {names}.")
    if data_dir is not None:
        data_dir = str(Path(data_dir).expanduser().resolve())
        if not Path(data_dir).is_dir():
            raise FileNotFoundError(f"data_dir {data_dir} does not exist.")
    return builder_cls(config_name=config, data_dir=data_dir, cache_dir=cache_dir, **config_kwargs)


def load_physionet(
    name: str,
    config: str | None = None,
    data_dir: str | None = None,
    cache_dir: str | None = None,
    num_proc: int | None = None,
    streaming: bool = False,
    download_mode: str | None = None,
    **config_kwargs,
):
    """Build a PhysioNet database as a ``DatasetDict`` (Arrow cache) or stream it.

    Args:
        name: ``mitdb``, ``ptbxl``, ``edb`` or ``slpdb``.
        config: ``mitdb``: ``windows`` | ``beats``; ``ptbxl``: ``diagnostic``; ``edb``: ``windows``;
            ``slpdb``: ``epochs`` (default: the first).
        data_dir: a local copy (the folder with the ``.hea`` files / PTB-XL CSVs); default: download.
            The prepared dataset is reused only while the files under it keep their names, sizes and
            modification times; otherwise it is rebuilt (:func:`.builder_base.source_fingerprint`).
        cache_dir: ``datasets`` cache root (default ``~/.cache/huggingface/datasets``).
        num_proc: processes to generate examples (records are sharded across them).
        streaming: return an ``IterableDatasetDict`` read straight from ``data_dir`` (no Arrow).
        download_mode: e.g. ``"force_redownload"`` (see ``datasets.DownloadMode``).
        **config_kwargs: config fields, e.g. ``records=["101"]``, ``leads=["MLII"]``, ``n_folds=5``,
            ``fold=0``, ``sampling_rate=100`` (PTB-XL), ``base_url=...``.

    Returns:
        ``datasets.DatasetDict`` with the database's splits (``IterableDatasetDict`` if streaming).
    """
    builder = get_builder(name, config, data_dir=data_dir, cache_dir=cache_dir, **config_kwargs)
    if streaming:
        if data_dir is None:
            raise ValueError(
                "streaming reads WFDB files directly and needs data_dir=...; to stream a downloaded database, "
                "load it once and use ds['train'].to_iterable_dataset()."
            )
        return builder.as_streaming_dataset()
    from datasets.exceptions import DatasetGenerationError

    try:
        builder.download_and_prepare(num_proc=num_proc, download_mode=download_mode)
    except DatasetGenerationError as err:
        # surface the reader's own message (bad file, bad lead name) instead of the generic wrapper
        cause = err.__cause__ or err.__context__
        if isinstance(cause, (ValueError, FileNotFoundError, TypeError)):
            raise cause from err
        raise
    return builder.as_dataset()
