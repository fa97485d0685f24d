"""PhysioNet data for HeartBert: ``datasets`` builders, label mappings, splits and ``map`` functions.

``load_physionet(name, config, data_dir=...)`` builds one database (``mitdb``, ``ptbxl``, ``edb``,
``slpdb``) into a ``DatasetDict`` (or streams it). The builders live in
``heartbert_hf.dataset_scripts`` (the repository's ``dataset_scripts/`` folder, installed as a
subpackage).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "BUILDERS": "loading",
    "get_builder": "loading",
    "get_builder_class": "loading",
    "load_physionet": "loading",
    "CORPUS_COLUMNS": "processing",
    "EcgTokenizeFunction": "processing",
    "build_pretraining_corpus": "processing",
    "tokenize_dataset": "processing",
    "train_tokenizer": "processing",
}
"""Public name → the submodule that defines it. Loaded on first use, so ``heartbert_hf.data.corpus``
(block files for pretraining) imports without ``datasets`` or ``wfdb``."""


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = sorted(_EXPORTS)
