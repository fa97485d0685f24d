"""ECG signal preparation: validation, resampling to 360 Hz, windowing and [0, 1] scaling.

numpy only at import time (scipy is imported lazily inside :func:`resample`), so this module can
travel with the tokenizer as remote code.

Conventions:
    * a single-lead signal is a 1-D array ``(samples,)``;
    * a multi-lead signal is a 2-D array ``(leads, samples)`` (the WFDB ``p_signal`` array is
      ``(samples, leads)``: pass ``p_signal.T``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

TARGET_RATE = 360
"""Sampling rate (Hz) HeartBert works at: the MIT-BIH Arrhythmia rate."""

WINDOW_SIZE = 4000
"""Largest window, in samples at :data:`TARGET_RATE` (about 11.1 s)."""

MIN_WINDOW = 360
"""Shortest window kept (1 s at 360 Hz). A shorter tail is dropped; a shorter signal is an error."""

MAX_LEADS = 16
SCALINGS = ("minmax", "robust")
ROBUST_PERCENTILES = (0.5, 99.5)


def as_leads(signal, name: str = "signal") -> np.ndarray:
    """Validate an ECG array and return it as float64 ``(leads, samples)``.

    Args:
        signal: a 1-D ``(samples,)`` or 2-D ``(leads, samples)`` array-like of numbers.
        name: how the signal is called in error messages.

    Raises:
        TypeError: the input is not numeric (e.g. a string).
        ValueError: wrong number of dimensions, leads on the wrong axis, empty, NaN or inf.
    """
    if isinstance(signal, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {type(signal).__name__}; pass level text as `text`.")
    try:
        x = np.asarray(signal, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"{name} must be a numeric array-like ({err}).") from None
    if x.ndim == 1:
        x = x[None, :]
    elif x.ndim != 2:
        raise ValueError(
            f"{name} must be 1-D (samples,) or 2-D (leads, samples); got a {x.ndim}-D array of shape {x.shape}. "
            "Pass a batch as a list of arrays."
        )
    leads, samples = x.shape
    if samples == 0 or leads == 0:
        raise ValueError(f"{name} is empty (shape {x.shape}).")
    if leads > MAX_LEADS or leads > samples:
        raise ValueError(
            f"{name} has shape {x.shape}: that reads as {leads} leads of {samples} samples. Leads go on the "
            "first axis, (leads, samples); a WFDB p_signal array is (samples, leads), so pass p_signal.T."
        )
    if not np.isfinite(x).all():
        bad = np.argwhere(~np.isfinite(x))[0]
        raise ValueError(f"{name} contains NaN or inf (first at lead {bad[0]}, sample {bad[1]}); clean or interpolate it first.")
    return x


def check_sampling_rate(sampling_rate) -> float:
    """Return ``sampling_rate`` as a positive float or raise a ``ValueError``/``TypeError``."""
    if sampling_rate is None:
        raise ValueError("sampling_rate is required for ECG arrays (e.g. sampling_rate=360 for MIT-BIH, 500 for PTB-XL).")
    if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, (int, float, np.integer, np.floating)):
        raise TypeError(f"sampling_rate must be a number, got {type(sampling_rate).__name__}.")
    fs = float(sampling_rate)
    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"sampling_rate must be positive and finite, got {sampling_rate}.")
    return fs


def resample(signal: np.ndarray, sampling_rate: float, target_rate: float = TARGET_RATE) -> np.ndarray:
    """Resample ``(leads, samples)`` (or 1-D) to ``target_rate`` with an anti-aliased polyphase filter.

    Args:
        signal: the ECG, 1-D or ``(leads, samples)``.
        sampling_rate: its sampling rate in Hz.
        target_rate: the rate to resample to (default 360 Hz).

    Returns:
        The resampled array, same number of dimensions as the input.
    """
    fs = check_sampling_rate(sampling_rate)
    target = check_sampling_rate(target_rate)
    x = np.asarray(signal, dtype=np.float64)
    if fs == target:
        return x
    from scipy.signal import resample_poly  # lazy: keeps this module numpy-only at import

    ratio = Fraction(target / fs).limit_denominator(1000)
    return resample_poly(x, ratio.numerator, ratio.denominator, axis=-1)


def window_bounds(n_samples: int, window_size: int = WINDOW_SIZE, min_window: int = MIN_WINDOW) -> list[tuple[int, int]]:
    """Cut ``n_samples`` into consecutive ``[start, stop)`` windows.

    The rule for the tail: full windows of ``window_size``; the remainder becomes its own shorter
    window when it holds at least ``min_window`` samples, and is dropped otherwise (so at most
    ``min_window - 1`` samples, under 1 s at the defaults, are lost per record).
    """
    if window_size < 1 or min_window < 1:
        raise ValueError(f"window_size and min_window must be positive, got {window_size} and {min_window}.")
    if n_samples < min_window:
        raise ValueError(
            f"signal too short: {n_samples} samples at {TARGET_RATE} Hz, fewer than the {min_window} (min_window) needed."
        )
    bounds = [(s, s + window_size) for s in range(0, n_samples - window_size + 1, window_size)]
    tail_start = bounds[-1][1] if bounds else 0
    if n_samples - tail_start >= min_window:
        bounds.append((tail_start, n_samples))
    return bounds


def scale(window: np.ndarray, method: str = "minmax", percentiles: tuple[float, float] = ROBUST_PERCENTILES) -> np.ndarray:
    """Scale each lead of a window to [0, 1].

    Args:
        window: ``(leads, samples)`` or 1-D.
        method: ``"minmax"`` (the published scaling) or ``"robust"`` (min/max replaced by the given
            percentiles, values clipped into [0, 1]).
        percentiles: the (low, high) percentiles of ``"robust"``.

    Raises:
        ValueError: an unknown method, or a flat lead (max == min), which has no scale.
    """
    x = np.asarray(window, dtype=np.float64)
    if method == "minmax":
        lo, hi = x.min(axis=-1, keepdims=True), x.max(axis=-1, keepdims=True)
    elif method == "robust":
        lo, hi = np.percentile(x, percentiles, axis=-1, keepdims=True)
    else:
        raise ValueError(f"unknown scaling {method!r}; choose one of {SCALINGS}.")
    span = hi - lo
    if np.any(span <= 0):
        raise ValueError("flat signal: a window has max == min (a constant lead, e.g. a lead-off segment), so it cannot be scaled to [0, 1].")
    out = (x - lo) / span
    if method == "robust":
        np.clip(out, 0.0, 1.0, out=out)
    return out


def prepare_windows(
    signal,
    sampling_rate,
    *,
    target_rate: float = TARGET_RATE,
    window_size: int = WINDOW_SIZE,
    min_window: int = MIN_WINDOW,
    scaling: str = "minmax",
    drop_flat: bool = False,
) -> tuple[list[np.ndarray], list[tuple[int, int]]]:
    """Validate, resample, window and scale one ECG.

    Args:
        signal: 1-D ``(samples,)`` or ``(leads, samples)``.
        sampling_rate: Hz of ``signal``.
        target_rate, window_size, min_window, scaling: see the module functions.
        drop_flat: skip flat (constant) lead windows instead of raising; for corpus building,
            where a lead-off segment should not stop the run.

    Returns:
        ``(windows, index)``: the scaled 1-D windows, and for each its ``(lead, window_number)``.
    """
    fs = check_sampling_rate(sampling_rate)
    x = resample(as_leads(signal), fs, target_rate)
    bounds = window_bounds(x.shape[-1], window_size, min_window)
    windows, index = [], []
    for number, (start, stop) in enumerate(bounds):
        for lead in range(x.shape[0]):
            segment = x[lead, start:stop]
            if drop_flat and segment.max() == segment.min():
                continue
            try:
                windows.append(scale(segment, scaling))
            except ValueError as err:
                raise ValueError(f"lead {lead}, window {number} (samples {start}:{stop} at {target_rate:g} Hz): {err}") from None
            index.append((lead, number))
    return windows, index
