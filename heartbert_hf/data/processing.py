"""HeartBert preprocessing for ``datasets``: the batched ``map`` function (ECG → level text → ids,
through a ``HeartBertProcessor``), fitting the tokenizer on a training split, and the combined
pretraining corpus."""

from __future__ import annotations

import logging
from typing import Any

import datasets
import numpy as np

logger = logging.getLogger(__name__)

CORPUS_COLUMNS = ["signal", "sampling_rate", "lead_names", "record_id", "patient_id", "start"]
"""Columns every builder yields; the pretraining corpus keeps these plus ``source``."""

CORPUS_SOURCES = {"mitdb": "windows", "ptbxl": "diagnostic", "edb": "windows"}
"""Database → the config that feeds the pretraining corpus."""


def as_processor(preprocessor):
    """``preprocessor`` if it is a processor (feature extractor + tokenizer), else the
    ``HeartBertProcessor`` of a ``HeartBertTokenizer`` (with the feature extractor it carries)."""
    if hasattr(preprocessor, "feature_extractor") and hasattr(preprocessor, "tokenizer"):
        return preprocessor
    from ..processing_heartbert import HeartBertProcessor

    return HeartBertProcessor.from_tokenizer(preprocessor)


class EcgTokenizeFunction:
    """Batched ``Dataset.map`` function: each example's ``signal`` → HeartBert token sequences.

    One example becomes several rows: one per (lead, window) of the feature extractor's windowing, and a
    window longer than ``max_length`` tokens is split into several sequences (no tokens dropped).
    The other columns are repeated onto every row they produced. Constant (flat, lead-off) windows
    are skipped. The object pickles (``num_proc``) and hashes deterministically (map cache).
    Any error an example raises (NaN from invalid WFDB samples, too short, (samples, leads) layout, a
    missing sampling rate ...) is the processor's ``ValueError`` / ``TypeError`` prefixed with the
    example's dataset row (when ``map`` passes ``with_indices=True``, as :func:`tokenize_dataset` does),
    ``record_id`` and ``start``.

    Args:
        processor: a fitted ``HeartBertProcessor``; a ``HeartBertTokenizer`` is paired with the
            feature extractor it carries (:func:`as_processor`).
        max_length: tokens per sequence, special tokens included.
        keep_columns: columns copied to the output (``None``: all but ``signal``).
    """

    def __init__(self, processor, max_length: int = 512, keep_columns: list[str] | None = None):
        if max_length < 3:
            raise ValueError(f"max_length must be at least 3 (two special tokens + one token), got {max_length}.")
        self.processor = as_processor(processor)
        self.max_length = int(max_length)
        self.keep_columns = keep_columns

    def __call__(self, batch: dict[str, list], indices: list[int] | None = None) -> dict[str, list]:
        """Tokenize one ``map`` batch; ``indices`` (``with_indices=True``) are the examples' dataset rows, for errors.

        Raises:
            ValueError / TypeError: the processor's error for the first example that fails, prefixed with its
            row and its ``record_id`` and ``start`` (see :meth:`_name_failure`).
        """
        if "signal" not in batch or "sampling_rate" not in batch:
            raise ValueError(f"the dataset needs 'signal' and 'sampling_rate' columns, found {sorted(batch)}.")
        keep = [c for c in batch if c != "signal"] if self.keep_columns is None else [c for c in self.keep_columns if c in batch]
        if not batch["signal"]:
            return {c: [] for c in keep + ["input_ids", "attention_mask", "lead_index", "window_index"]}
        try:
            enc = self._tokenize_examples(list(batch["signal"]), list(batch["sampling_rate"]))
        except (TypeError, ValueError) as err:
            failure = self._name_failure(batch, indices, err)
            raise failure from failure.__cause__
        out = {c: [batch[c][example] for example in enc["overflow_to_sample_mapping"]] for c in keep}
        for key in ("input_ids", "attention_mask", "lead_index", "window_index"):
            out[key] = list(enc[key])
        return out

    def _tokenize_examples(self, signals: list, rates: list):
        def rate(fs):  # a column of numbers (or numeric strings, as read from a CSV); anything else reaches the processor's check
            try:
                return float(fs)
            except (TypeError, ValueError):
                return fs

        from ..ecg_signal import to_array  # arrays, not lists: a batch of 1-D lists would read as the leads of one ECG

        return self.processor(
            ecg=[to_array(signal) for signal in signals],  # to_array: masked samples become NaN
            sampling_rate=[rate(fs) for fs in rates],
            drop_flat=True,
            truncation=True,
            max_length=self.max_length,
        )

    def _name_failure(self, batch: dict[str, list], indices: list[int] | None, err: Exception) -> Exception:
        """The error of the first example of ``batch`` that fails on its own, naming its row, ``record_id`` and ``start``
        (WFDB invalid samples get a hint); ``err`` itself, naming the batch's rows, if none fails alone."""
        n = len(batch["signal"])
        rows = list(indices) if indices is not None else None
        for i in range(n):
            try:
                self._tokenize_examples([batch["signal"][i]], [batch["sampling_rate"][i]])
            except (TypeError, ValueError) as inner:
                where = f"row {rows[i]}" if rows is not None else f"item {i} of the batch"
                names = ", ".join(f"{c} {batch[c][i]!r}" for c in ("record_id", "start") if c in batch)
                message = f"example at {where}{' with ' + names if names else ''}: {inner}"
                try:
                    nan = not np.isfinite(np.asarray(batch["signal"][i], dtype=np.float64)).all()
                except (TypeError, ValueError):
                    nan = False
                if nan and isinstance(inner, ValueError):
                    message += (
                        " (WFDB invalid samples are read as NaN, as wfdb.rdrecord does: drop or interpolate those windows "
                        "before tokenizing, e.g. ds.filter on np.isfinite(signal).all())."
                    )
                return _renamed(inner, message)
        where = f"rows {rows[0]}..{rows[-1]}" if rows else f"a batch of {n} examples"
        return _renamed(err, f"examples at {where}: {err}")


def _renamed(error: Exception, message: str) -> Exception:
    """``error``'s class with ``message``, chained to ``error``; a plain ``TypeError`` / ``ValueError`` when
    that class takes other constructor arguments (``UnicodeDecodeError``, ``RecordError``)."""
    try:
        out = type(error)(message)
    except Exception:
        out = (TypeError if isinstance(error, TypeError) else ValueError)(message)
    out.__cause__ = error
    return out


def tokenize_dataset(
    dataset,
    processor,
    max_length: int = 512,
    keep_columns: list[str] | None = None,
    num_proc: int | None = None,
    batch_size: int = 16,
    load_from_cache_file: bool | None = None,
    desc: str = "Tokenizing ECG",
):
    """Tokenize a ``Dataset``/``DatasetDict`` of signals with :class:`EcgTokenizeFunction`.

    Cached by fingerprint (the processor and arguments are part of it); safe with ``num_proc``.
    Under ``accelerate``, call it inside ``accelerator.main_process_first()`` so one process
    builds the cache and the others read it.

    Args:
        dataset: rows with ``signal`` ``(leads, samples)`` and ``sampling_rate``.
        processor: a fitted ``HeartBertProcessor`` (or a ``HeartBertTokenizer``, see :func:`as_processor`).
        max_length: tokens per sequence.
        keep_columns: columns copied to the output (``None``: all but ``signal``).
        num_proc: worker processes.
        batch_size: examples per ``map`` batch.
        load_from_cache_file: reuse a cached result (default: ``datasets``' setting).
        desc: progress bar label.

    Raises:
        ValueError / TypeError: an example that cannot be tokenized, named by its row, ``record_id`` and ``start``.
    """
    fn = EcgTokenizeFunction(processor, max_length, keep_columns)
    columns = dataset.column_names
    remove = columns if isinstance(columns, list) else next(iter(columns.values()))
    return dataset.map(
        fn,
        batched=True,
        with_indices=True,  # errors name the failing example's row
        batch_size=batch_size,
        remove_columns=remove,
        num_proc=num_proc,
        load_from_cache_file=load_from_cache_file,
        desc=desc,
    )


class _Column:
    """A re-iterable view of one column (read twice by ``train_from_ecg``), as numpy arrays."""

    def __init__(self, dataset, column: str, as_array: bool = True):
        self.dataset, self.column, self.as_array = dataset, column, as_array

    def __len__(self) -> int:
        return len(self.dataset)

    def __iter__(self):
        for batch in self.dataset.select_columns([self.column]).iter(batch_size=32):
            for value in batch[self.column]:
                yield np.asarray(value, dtype=np.float64) if self.as_array else float(value)


def train_tokenizer(
    train_dataset,
    vocab_size: int = 1000,
    max_examples: int | None = None,
    seed: int = 42,
    show_progress: bool = True,
    **kwargs: Any,
):
    """Fit the quantizer and BPE on a training split only.

    Args:
        train_dataset: a ``Dataset`` (a training split) with ``signal`` and ``sampling_rate``.
        vocab_size: BPE vocabulary size.
        max_examples: fit on at most this many examples (a seeded random subset).
        seed: seed of that subset and of the quantizer's subsample.
        show_progress: progress bars.
        **kwargs: passed to ``HeartBertTokenizer.train_from_ecg``.
    """
    from ..tokenization_heartbert import HeartBertTokenizer

    if isinstance(train_dataset, (datasets.DatasetDict, dict)):
        raise TypeError("train_tokenizer takes one split (e.g. ds['train']), never the whole DatasetDict: fit on training data only.")
    if max_examples is not None and len(train_dataset) > max_examples:
        train_dataset = train_dataset.shuffle(seed=seed).select(range(max_examples))
    return HeartBertTokenizer.train_from_ecg(
        _Column(train_dataset, "signal"),
        _Column(train_dataset, "sampling_rate", as_array=False),
        vocab_size=vocab_size,
        seed=seed,
        show_progress=show_progress,
        **kwargs,
    )


def build_pretraining_corpus(
    sources: dict[str, dict[str, Any]],
    seed: int = 42,
    cache_dir: str | None = None,
    num_proc: int | None = None,
) -> datasets.DatasetDict:
    """One shuffled corpus across databases, with the database in a ``source`` column.

    Args:
        sources: database → ``load_physionet`` keyword arguments, e.g.
            ``{"mitdb": {"data_dir": ...}, "ptbxl": {"data_dir": ..., "skip_missing": True}}``;
            the config defaults to :data:`CORPUS_SOURCES`.
        seed: shuffle seed.
        cache_dir: ``datasets`` cache root.
        num_proc: processes per builder.

    Returns:
        A ``DatasetDict`` with each split any source has (``train`` always shuffled), columns
        :data:`CORPUS_COLUMNS` + ``source``.
    """
    from .loading import load_physionet

    if not sources:
        raise ValueError(f"no sources given; choose among {sorted(CORPUS_SOURCES)}.")
    unknown = sorted(set(sources) - set(CORPUS_SOURCES))
    if unknown:
        raise ValueError(f"unknown corpus source(s) {unknown}; choose among {sorted(CORPUS_SOURCES)}.")
    features = None
    parts: dict[str, list] = {}
    for name, kwargs in sources.items():
        kwargs = dict(kwargs)
        kwargs.setdefault("config", CORPUS_SOURCES[name])
        kwargs.setdefault("cache_dir", cache_dir)
        kwargs.setdefault("num_proc", num_proc)
        dsd = load_physionet(name, **kwargs)
        for split, ds in dsd.items():
            ds = ds.select_columns(CORPUS_COLUMNS)
            if features is None:
                features = ds.features
            ds = ds.cast(features) if ds.features != features else ds
            ds = ds.add_column("source", [name] * len(ds))
            parts.setdefault(split, []).append(ds)
    out = datasets.DatasetDict()
    for split, dsets in parts.items():
        merged = datasets.concatenate_datasets(dsets)
        out[split] = merged.shuffle(seed=seed) if split == "train" else merged
    return out
