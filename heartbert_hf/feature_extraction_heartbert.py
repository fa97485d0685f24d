"""HeartBertFeatureExtractor: raw ECG → level text, one string per (lead, window), with its lead/window index.

It owns the signal → text parameters (target rate, window, scaling) and the fitted quantizer, and saves
them in ``preprocessor_config.json`` (the quantizer state inline, under ``"quantizer"``). The tokenizer
(``tokenization_heartbert.py``) turns the text into BPE ids; ``HeartBertProcessor`` chains the two.

Travels as remote code: relative imports only; numpy and transformers at module level (scipy is
imported by ``ecg_signal.resample`` when a signal is not at the target rate).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Iterator

import numpy as np
from transformers.feature_extraction_utils import BatchFeature, FeatureExtractionMixin

from .ecg_signal import (
    MIN_WINDOW,
    TARGET_RATE,
    WINDOW_SIZE,
    check_sampling_rate,
    prepare_windows,
)
from .quantization import Quantizer

SIGNAL_KEYS = ("target_rate", "window_size", "min_window", "scaling")
"""The windowing parameters a feature extractor (and a tokenizer) is configured with."""


def _array_object(obj) -> bool:
    return hasattr(obj, "__array__") or hasattr(obj, "__array_interface__") or hasattr(obj, "shape")


def _object_array_of_ecgs(ecg) -> bool:
    """A 1-D numpy object array (or pandas object Series) whose items are arrays or lists: one ECG per item.

    That is how ``datasets`` in numpy format hands over a batch of ECGs of different lengths (and
    ``df["signal"]`` of a table holding one array per row)."""
    if getattr(ecg, "ndim", None) != 1 or getattr(ecg, "dtype", None) != np.dtype(object) or len(ecg) == 0:
        return False
    return all(isinstance(item, (list, tuple)) or (_array_object(item) and np.ndim(item) >= 1) for item in ecg)


def _sized_iterable(obj) -> bool:
    """A container of items that is neither a string, a mapping, a list/tuple nor an array object (e.g. a ``datasets`` Column)."""
    if isinstance(obj, (str, bytes, dict, list, tuple)) or _array_object(obj):
        return False
    return hasattr(obj, "__len__") and hasattr(obj, "__iter__")


def split_ecg_batch(ecg) -> tuple[list, bool]:
    """``ecg=`` → (list of ECGs, whether it was given as a batch).

    One ECG: an array object (numpy, torch tensor, pandas DataFrame/Series, anything with
    ``__array__``), a list of numbers (one lead) or a list of lists of numbers (``(leads, samples)``,
    as ``np.asarray`` reads it). A batch: a list or tuple of such ECGs; a 1-D numpy object array (or
    pandas object Series) whose items are arrays (``datasets`` numpy format with ECGs of different
    lengths); any other sized iterable that is no array object, such as a ``datasets`` ``Column``
    (``ds["signal"]``), each item one ECG. A numeric array object is never iterated as a batch, so a
    ``(leads, samples)`` tensor stays one ECG.

    Raises:
        TypeError: a string, a batch mixing strings (or single numbers) and arrays, or an object that is no ECG.
        ValueError: an empty batch.
    """
    if isinstance(ecg, (str, bytes)):
        raise TypeError("ecg must be an array or a list of arrays; pass level text as the first argument.")
    if _object_array_of_ecgs(ecg):
        return list(ecg), True
    if _sized_iterable(ecg):
        items = list(ecg)
        if not items:
            raise ValueError(f"ecg is an empty batch ({type(ecg).__name__} of length 0).")
        if any(isinstance(item, (str, bytes)) for item in items):
            raise TypeError("a batch cannot mix arrays and strings: pass level text as `text`, signals as `ecg`.")
        if all(isinstance(item, (numbers.Number, np.number)) for item in items):
            return [items], False  # one lead given as a sequence of numbers (e.g. array.array, a Column of floats)
        return items, True  # a Column / sequence of rows: every item is one ECG, even a 1-D list
    if isinstance(ecg, (list, tuple)):
        if not ecg:
            raise ValueError("ecg is an empty batch.")
        if any(isinstance(item, (str, bytes)) for item in ecg):
            raise TypeError("a batch cannot mix arrays and strings: pass level text as `text`, signals as `ecg`.")
        number = (numbers.Number, np.number, type(None))  # None: a missing sample (JSON null), read as NaN
        scalar = [isinstance(item, number) or (isinstance(item, np.ndarray) and item.ndim == 0) for item in ecg]
        if all(scalar):
            return [ecg], False  # one lead given as a list of numbers
        if any(scalar):
            i = scalar.index(True)
            raise TypeError(
                f"ecg mixes single numbers and arrays (item {i} is {ecg[i]!r}, item {scalar.index(False)} is a "
                f"{type(ecg[scalar.index(False)]).__name__}): pass one ECG as a list of numbers (one lead) or of lists "
                "(leads, samples), or a batch as a list of ECGs."
            )
        if all(isinstance(item, (list, tuple)) and (not item or isinstance(item[0], number)) for item in ecg):
            return [ecg], False  # one (leads, samples) ECG given as nested lists
        return list(ecg), True
    if _array_object(ecg):
        return [ecg], False  # numpy, torch, pandas ...: one ECG, never iterated as a batch
    raise TypeError(f"ecg must be one ECG (numpy array, torch tensor, pandas DataFrame/Series, list of numbers) or a list of them, got {type(ecg).__name__}.")


def per_ecg_rates(sampling_rate, n_ecgs: int) -> list:
    """``sampling_rate=`` → one rate per ECG (each still to be checked by ``check_sampling_rate``).

    One rate (a number, a 0-d numpy array or torch tensor) is repeated; a list/tuple, a 1-D numpy array
    or torch tensor, or another sized iterable (a ``datasets`` Column) gives one rate per ECG.

    Raises:
        ValueError: a number of rates that differs from the number of ECGs.
    """
    ndim = getattr(sampling_rate, "ndim", None)
    if isinstance(sampling_rate, (list, tuple)) or ndim == 1 or (ndim is None and _sized_iterable(sampling_rate)):
        rates = sampling_rate.tolist() if ndim == 1 and hasattr(sampling_rate, "tolist") else list(sampling_rate)
    else:
        rates = [sampling_rate] * n_ecgs
    if len(rates) != n_ecgs:
        raise ValueError(f"got {len(rates)} sampling rates for {n_ecgs} ECGs: pass one rate for all, or one per ECG.")
    return rates


class HeartBertFeatureExtractor(FeatureExtractionMixin):
    """Raw ECG → level text: resample to ``target_rate``, window, scale to [0, 1], quantize to ``chr(65 + level)``.

    Args:
        quantizer: a :class:`Quantizer` or its ``to_dict()`` state (fitted for ECG input); default an
            unfitted ``n_levels`` quantizer.
        n_levels: size of the level alphabet (100).
        target_rate: Hz every ECG is resampled to (360, the MIT-BIH rate).
        window_size: samples per window at ``target_rate`` (4000).
        min_window: shortest window kept; shorter tails are dropped (360 = 1 s).
        scaling: ``"minmax"`` (published) or ``"robust"`` per-window scaling to [0, 1].
    """

    model_input_names = ["level_text"]

    def __init__(
        self,
        quantizer: Quantizer | dict | None = None,
        n_levels: int = 100,
        target_rate: float = TARGET_RATE,
        window_size: int = WINDOW_SIZE,
        min_window: int = MIN_WINDOW,
        scaling: str = "minmax",
        **kwargs,
    ):
        if isinstance(quantizer, dict):
            quantizer = Quantizer.from_dict(quantizer)
        self.quantizer = quantizer if quantizer is not None else Quantizer(n_levels=n_levels)
        if self.quantizer.n_levels != int(n_levels):
            raise ValueError(f"the quantizer has {self.quantizer.n_levels} levels but n_levels={n_levels}.")
        self.n_levels = int(n_levels)
        self.target_rate = float(check_sampling_rate(target_rate))
        self.window_size = int(window_size)
        self.min_window = int(min_window)
        self.scaling = scaling
        kwargs.pop("quantizer_fingerprint", None)  # derived, written by to_dict
        super().__init__(**kwargs)

    @property
    def fingerprint(self) -> str | None:
        """The quantizer's fingerprint (:meth:`Quantizer.fingerprint`); ``None`` while unfitted."""
        return self.quantizer.fingerprint()

    def to_dict(self) -> dict:
        out = {k: v for k, v in super().to_dict().items() if not k.startswith("_")}
        out["quantizer"] = self.quantizer.to_dict()
        out["quantizer_fingerprint"] = self.fingerprint
        return out

    # ------------------------------------------------------------------ signal → text
    def windows(self, ecg, sampling_rate, drop_flat: bool = False) -> tuple[list[np.ndarray], list[tuple[int, int]]]:
        """One ECG → its scaled windows and their ``(lead, window_number)`` (:func:`ecg_signal.prepare_windows`)."""
        return prepare_windows(
            ecg,
            sampling_rate,
            target_rate=self.target_rate,
            window_size=self.window_size,
            min_window=self.min_window,
            scaling=self.scaling,
            drop_flat=drop_flat,
        )

    def ecg_to_text(self, ecg, sampling_rate, drop_flat: bool = False) -> tuple[list[str], list[tuple[int, int]]]:
        """One ECG → level-text windows.

        Args:
            ecg: 1-D ``(samples,)`` or ``(leads, samples)``: numpy, torch, pandas or nested lists.
            sampling_rate: Hz of ``ecg``.
            drop_flat: skip constant (dead, lead-off) windows instead of raising.

        Returns:
            ``(texts, index)``: one text per (lead, window), and ``(lead, window_number)`` for each.
        """
        self.quantizer._require_fitted()
        windows, index = self.windows(ecg, sampling_rate, drop_flat)
        return [self.quantizer.to_text(w) for w in windows], index

    def __call__(self, ecg, sampling_rate=None, drop_flat: bool = False, **kwargs) -> BatchFeature:
        """One ECG or a batch → level text per (ECG, lead, window).

        Args:
            ecg: one ECG or a list of them (see :func:`split_ecg_batch`).
            sampling_rate: Hz: one number (or 0-d array / tensor), or one per ECG (list, 1-D array or tensor,
                ``datasets`` Column). Required.
            drop_flat: skip constant (dead, lead-off) windows instead of raising.

        Returns:
            A ``BatchFeature`` with, per window, ``level_text`` (str), ``sample_index`` (which input
            ECG), ``lead_index`` and ``window_index``.

        Raises:
            TypeError / ValueError: bad input; for a batch of several ECGs the message starts with ``ecg[i]``, and
            names the lead and window where that applies.
        """
        if kwargs:
            raise TypeError(f"unexpected arguments {sorted(kwargs)} for the feature extractor.")
        self.quantizer._require_fitted()
        signals, batched = split_ecg_batch(ecg)
        rates = per_ecg_rates(sampling_rate, len(signals))
        out = {"level_text": [], "sample_index": [], "lead_index": [], "window_index": []}
        for i, (signal, fs) in enumerate(zip(signals, rates)):
            try:
                check_sampling_rate(fs)
                texts, index = self.ecg_to_text(signal, fs, drop_flat=drop_flat)
            except (TypeError, ValueError) as err:
                if not batched or len(signals) == 1:  # one ECG: the message needs no item number
                    raise
                raise type(err)(f"ecg[{i}] (item {i} of the batch of {len(signals)}): {err}") from None
            out["level_text"] += texts
            out["sample_index"] += [i] * len(texts)
            out["lead_index"] += [lead for lead, _ in index]
            out["window_index"] += [number for _, number in index]
        return BatchFeature(out)

    # ------------------------------------------------------------------ fitting
    @staticmethod
    def _rates(sampling_rate, what: str = "sampling_rate"):
        if isinstance(sampling_rate, Iterable) and not isinstance(sampling_rate, (str, bytes)):
            if iter(sampling_rate) is sampling_rate:
                raise TypeError(f"{what} is read twice: pass a number or a list.")
            return sampling_rate
        return None

    def iter_windows(self, signals: Iterable, sampling_rate, show_progress: bool = False) -> Iterator[np.ndarray]:
        """Scaled windows of every signal, flat ones skipped (what fitting reads).

        Raises:
            ValueError / TypeError: one rate per signal that does not match the signals in number, and every
            error of :meth:`windows`, prefixed with ``signal i``.
        """
        from tqdm.auto import tqdm

        rates = self._rates(sampling_rate)
        if rates is not None and hasattr(rates, "__len__") and hasattr(signals, "__len__") and len(rates) != len(signals):
            raise ValueError(f"got {len(rates)} sampling rates for {len(signals)} signals: pass one rate for all, or one per signal.")
        rate_iter = iter(rates) if rates is not None else None
        missing = object()
        for i, signal in enumerate(tqdm(signals, desc="ECG windows", disable=not show_progress, leave=False)):
            fs = next(rate_iter, missing) if rate_iter is not None else sampling_rate
            if fs is missing:  # a generator would otherwise end in "RuntimeError: generator raised StopIteration"
                raise ValueError(f"sampling_rate ran out of rates at signal {i}: pass one rate for all, or one per signal.")
            try:
                yield from self.windows(signal, fs, drop_flat=True)[0]
            except (TypeError, ValueError) as err:
                raise type(err)(f"signal {i}: {err}") from None

    @classmethod
    def fit(
        cls,
        signals: Iterable,
        sampling_rate,
        n_levels: int = 100,
        quantizer_method: str = "lloyd-max",
        samples_per_window: int = 500,
        seed: int = 0,
        show_progress: bool = True,
        **signal_kwargs,
    ) -> HeartBertFeatureExtractor:
        """Fit the quantizer on training ECGs (never on evaluation data).

        Args:
            signals: a re-iterable (list, ``Dataset`` column …) of ECGs.
            sampling_rate: one rate for all, or a re-iterable of one rate per signal.
            n_levels: quantizer levels.
            quantizer_method: ``"lloyd-max"``, ``"quantile"`` or ``"uniform"``.
            samples_per_window: random samples per window kept to fit (bounds memory).
            seed: seed of that subsample and of the quantizer.
            show_progress: progress bar.
            **signal_kwargs: ``target_rate``, ``window_size``, ``min_window``, ``scaling``.

        Raises:
            TypeError: an iterator (it cannot be read twice).
            ValueError: no usable (non-flat, long enough) window.
        """
        if iter(signals) is signals:
            raise TypeError("signals is read twice (quantizer, then BPE): pass a list or a Dataset column, not an iterator.")
        cls._rates(sampling_rate)
        extractor = cls(n_levels=n_levels, **{k: v for k, v in signal_kwargs.items() if k in SIGNAL_KEYS})
        rng = np.random.default_rng(seed)
        sample = [
            w if len(w) <= samples_per_window else rng.choice(w, samples_per_window, replace=False)
            for w in extractor.iter_windows(signals, sampling_rate, show_progress)
        ]
        if not sample:
            raise ValueError("no usable (non-flat, long enough) window in the training signals.")
        extractor.quantizer = Quantizer(n_levels=n_levels, method=quantizer_method, seed=seed).fit(np.concatenate(sample))
        extractor._n_windows_fitted = len(sample)
        return extractor


HeartBertFeatureExtractor.register_for_auto_class("AutoFeatureExtractor")
