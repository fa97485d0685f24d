"""Raw ECG → the content token ids of each (lead, window), block by block, so memory does not grow with the record.

The first half of :mod:`heartbert_hf.inference`'s embedding path (numpy only; no torch): a record is
cut into blocks of whole windows at the feature extractor's rate (signal slice → resampled block),
each block goes through the preprocessor (level text → token ids), and errors name the lead and
window by their place in the whole record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np

DEFAULT_WINDOWS_PER_BLOCK = 64
"""Windows (per lead) read, tokenized and embedded at a time: 64 x 4000 samples = 711 s at 360 Hz."""

_MARGIN_SECONDS = 2.0  # input kept on each side of a block when resampling (the filter's support is far shorter)

MAX_BLOCK_WINDOWS = 1024
"""Largest block (windows per lead) a sampling rate may need for exact block joins; a rate needing
more is resampled whole (see :func:`iter_window_tokens`)."""


def _setting(preprocessor, name: str):
    for obj in (preprocessor, getattr(preprocessor, "feature_extractor", None), getattr(preprocessor, "tokenizer", None)):
        value = getattr(obj, name, None) if obj is not None else None
        if value is not None:
            return value
    raise TypeError(f"{type(preprocessor).__name__} has no {name}: pass a HeartBertTokenizer or HeartBertProcessor.")


def _named(name: str | None, message: str) -> str:
    """``"name: message"``, or the bare message when ``name`` is empty (the caller names the record itself)."""
    return f"{name}: {message}" if name else message


def _lazy_leads(ecg, name: str) -> np.ndarray:
    """``(leads, samples)`` view of ``ecg`` without copying a numpy array (or ``np.memmap``); others via ``as_leads``
    (among them ndarray subclasses such as masked arrays, whose masked samples become NaN there)."""
    from .ecg_signal import as_leads, leads_view
    from .feature_extraction_heartbert import split_ecg_batch

    if not isinstance(ecg, np.ndarray) or ecg.dtype == np.dtype(object):  # lists, Columns, object arrays: maybe a batch
        items, batched = split_ecg_batch(ecg)
        if batched and len(items) == 1:
            ecg = items[0]
        elif batched:  # as the tokenizer reads it: a list of arrays is several ECGs, not the leads of one
            raise TypeError(
                f"{name} is a list of {len(items)} ECGs; this takes one ECG, 1-D (samples,) or (leads, samples): call it once "
                "per ECG, or pass one ECG's leads as a 2-D array (np.stack(leads))."
            )
    if (
        not isinstance(ecg, np.ndarray)
        or isinstance(ecg, np.ma.MaskedArray)
        or ecg.ndim not in (1, 2)
        or not np.issubdtype(ecg.dtype, np.number)
        or np.iscomplexobj(ecg)
    ):
        return as_leads(ecg, name)
    return leads_view(ecg, name)


class _Block(NamedTuple):
    signal: np.ndarray  # (leads, samples) at the target rate
    first_window: int  # window number of the block's first window in the record
    input_start: int  # first input sample the block covers
    input_flat: np.ndarray | None = None  # (leads, windows in the block) constant in the input samples; None at the target rate


def _input_flat(x: np.ndarray, fs: float, target: float, out_start: int, out_len: int, window_size: int) -> np.ndarray:
    """``(leads, windows)``: which windows of output samples ``[out_start, out_start + out_len)`` are constant in the input.

    Judged on the input samples, as ``ecg_signal.prepare_windows`` does: resampling a block turns a
    dead segment next to live ones into filter ringing, which the processor would not see as flat.
    """
    from .ecg_signal import flat_leads, input_span

    columns = []
    for w0 in range(0, out_len, window_size):
        a, b = input_span(out_start + w0, out_start + min(w0 + window_size, out_len), fs / target, x.shape[1])
        columns.append(flat_leads(np.asarray(x[:, a:b], dtype=np.float64)))
    return np.stack(columns, axis=1)


def _check_finite(x: np.ndarray, a: int, b: int, window_of, name: str) -> None:
    """Raise naming the lead and window (``window_of(input_sample)``) of the first NaN/inf or impossible value in input
    samples ``[a, b)``, or a lead that is a time / sample-number ramp beside real leads there."""
    from .ecg_signal import bad_sample_message, first_bad_sample, ramp_message, time_column_lead

    block = np.asarray(x[:, a:b], dtype=np.float64)
    bad = first_bad_sample(block)
    if bad is not None:
        lead, sample, value = bad[0], a + bad[1], bad[2]
        raise ValueError(_named(name, f"lead {lead}, window {window_of(sample)} {bad_sample_message(value, f'input sample {sample}')}"))
    ramp = time_column_lead(block)
    if ramp is not None:
        raise ValueError(_named(name, ramp_message(*ramp)))


def _iter_blocks(x: np.ndarray, fs: float, target: float, window_size: int, min_window: int, windows_per_block: int, name: str) -> Iterator[_Block]:
    """Cut a ``(leads, samples)`` record into blocks of whole windows at the target rate.

    At the target rate a block is a plain slice. Otherwise each block starts on an input sample
    that falls on an output sample (so blocks hold whole windows: ``windows_per_block`` is rounded
    up to a multiple of ``up / gcd(window_size * down, up)``, 9 for 128, 200, 250, 256, 500 and
    1000 Hz), and it is resampled with ``_MARGIN_SECONDS`` of input on each side, cut off again.
    That is the whole-record signal up to the resampler's rounding and passband ripple (measured:
    at most 3.4e-6 mV on record 208 at 500 Hz; the level text agrees in over 99.9 % of samples).
    A rate that ``ecg_signal.resample`` does not handle with short polyphase blocks (no small
    ``up / down``) is resampled whole, once: only then does memory grow with the record.
    """
    from .ecg_signal import poly_factors, resample

    n_in = x.shape[1]
    up = down = 1
    if fs != target:
        factors = poly_factors(fs, target, n_in)
        step = None if factors is None else factors[0] // int(np.gcd(window_size * factors[1], factors[0]))
        if step is None or step > MAX_BLOCK_WINDOWS or poly_factors(fs, target, 1) != factors:  # blocks must use the record's ratio
            _check_finite(x, 0, n_in, lambda sample: int(sample * target / fs) // window_size, name)
            whole = resample(np.asarray(x, dtype=np.float64), fs, target)
            for first in range(0, whole.shape[1], windows_per_block * window_size):
                if whole.shape[1] - first < min_window and first > 0:
                    break
                block = whole[:, first : first + windows_per_block * window_size]
                flat = _input_flat(x, fs, target, first, block.shape[1], window_size)
                yield _Block(block, first // window_size, int(round(first * fs / target)), flat)
            return
        up, down = factors
        windows_per_block = -(-windows_per_block // step) * step
    block_out = windows_per_block * window_size
    margin = 0 if up == down else -(-int(_MARGIN_SECONDS * fs) // down) * down  # whole periods of the polyphase filter
    n_out = -(-n_in * up // down)
    for first in range(0, n_out, block_out):
        remaining = n_out - first
        if remaining < min_window and first > 0:
            break  # the record's tail, shorter than min_window: dropped, as window_bounds does
        a, b = first * down // up, min(n_in, (first + block_out) * down // up)
        _check_finite(x, a, b, lambda sample, first=first, a=a: (first + (sample - a) * up // down) // window_size, name)
        if up == down:
            block, flat = np.asarray(x[:, a:b], dtype=np.float64), None
        else:
            lo, hi = max(0, a - margin), min(n_in, b + margin)
            resampled = resample(np.asarray(x[:, lo:hi], dtype=np.float64), fs, target)
            skip = (a - lo) * up // down
            block = resampled[:, skip : skip + min(block_out, remaining)]
            flat = _input_flat(x, fs, target, first, block.shape[1], window_size)
        yield _Block(block, first // window_size, a, flat)


class WindowTokens(NamedTuple):
    """The content token ids (no special tokens) of one (lead, window)."""

    lead: int
    window: int
    ids: list


_PREFIX = re.compile(r"^lead \d+, window \d+ \([^)]*\): ")


def _tokenize_block(
    preprocessor, block: _Block, target: float, window_size: int, min_window: int, fs: float, drop_flat: bool, name: str | None
) -> list[WindowTokens]:
    from .ecg_signal import flat_message

    kwargs = {"sampling_rate": target, "add_special_tokens": False, "drop_flat": drop_flat}
    try:
        enc = preprocessor(ecg=block.signal, **kwargs)
    except ValueError as err:  # find the window, and name it by its place in the record
        if block.signal.shape[1] < min_window:  # the whole record is shorter than one window: no window to name
            raise ValueError(_named(name, str(err))) from None
        for w0 in range(0, block.signal.shape[1], window_size):
            for lead in range(block.signal.shape[0]):
                try:
                    preprocessor(ecg=block.signal[lead, w0 : w0 + window_size], **kwargs)
                except ValueError as inner:
                    window = block.first_window + w0 // window_size
                    start = block.input_start + int(round(w0 * fs / target))
                    stop = start + int(round(window_size * fs / target))
                    raise ValueError(
                        _named(name, f"lead {lead}, window {window} (input samples {start}:{stop} at {fs:g} Hz): {_PREFIX.sub('', str(inner))}")
                    ) from None
        raise ValueError(_named(name, str(err))) from None
    tokens = [WindowTokens(int(lead), int(window), list(ids)) for ids, lead, window in zip(enc["input_ids"], enc["lead_index"], enc["window_index"])]
    if block.input_flat is not None:  # a window constant in the input but not after resampling (ringing)
        flat = [t for t in tokens if block.input_flat[t.lead, t.window]]
        if flat and not drop_flat:
            lead, w0 = flat[0].lead, flat[0].window * window_size
            start = block.input_start + int(round(w0 * fs / target))
            stop = start + int(round(window_size * fs / target))
            where = f"lead {lead}, window {block.first_window + flat[0].window} (input samples {start}:{stop} at {fs:g} Hz)"
            raise ValueError(_named(name, flat_message(where)))
        tokens = [t for t in tokens if not block.input_flat[t.lead, t.window]]
    return [WindowTokens(t.lead, block.first_window + t.window, t.ids) for t in tokens]


def iter_window_tokens(
    preprocessor, ecg, sampling_rate: float, *, windows_per_block: int = DEFAULT_WINDOWS_PER_BLOCK, drop_flat: bool = False, name: str | None = "ecg"
) -> Iterator[list[WindowTokens]]:
    """Stream one ECG as lists of :class:`WindowTokens`, one list per block of ``windows_per_block`` windows.

    Windows are numbered from the record's start, in the order ``(window, lead)``; the token ids are
    those ``preprocessor(ecg=..., add_special_tokens=False)`` gives for the whole record.

    Args:
        preprocessor: a fitted ``HeartBertProcessor`` (or a ``HeartBertTokenizer``, whose ``ecg=`` call delegates to its feature extractor).
        ecg: 1-D ``(samples,)`` or ``(leads, samples)``; a numpy array or ``np.memmap`` is read one
            block at a time (never converted whole).
        sampling_rate: Hz of ``ecg``.
        windows_per_block: windows per lead held in memory at a time.
        drop_flat: skip constant (lead-off) windows instead of raising.
        name: how the record is called in error messages (e.g. its record id); ``None`` or ``""``
            leaves it out (for a caller that prefixes its own, such as ``heartbert embed``).

    Raises:
        ValueError: NaN/inf, a flat window (without ``drop_flat``), a signal shorter than the
            shortest window; the message names the record, lead and window (with its input samples).
    """
    from .ecg_signal import check_sampling_rate

    fs = check_sampling_rate(sampling_rate)
    if windows_per_block < 1:
        raise ValueError(f"windows_per_block must be at least 1, got {windows_per_block}.")
    x = _lazy_leads(ecg, name or "ecg")
    target = float(_setting(preprocessor, "target_rate"))
    window_size = int(_setting(preprocessor, "window_size"))
    min_window = int(_setting(preprocessor, "min_window"))
    for block in _iter_blocks(x, fs, target, window_size, min_window, windows_per_block, name):
        yield _tokenize_block(preprocessor, block, target, window_size, min_window, fs, drop_flat, name)
