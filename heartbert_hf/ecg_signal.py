"""ECG signal preparation: input conversion, validation, resampling to 360 Hz, windowing and [0, 1] scaling.

numpy only at import time (scipy is imported lazily inside :func:`resample`; torch and pandas are
never imported, their objects are recognised by duck typing), so this module can travel with the
tokenizer as remote code.

Conventions:
    * a single-lead signal is a 1-D array ``(samples,)``;
    * a multi-lead signal is a 2-D array ``(leads, samples)`` (the WFDB ``p_signal`` array is
      ``(samples, leads)``: pass ``p_signal.T``);
    * a pandas ``DataFrame`` is read as one column per lead (rows are samples), the layout of a CSV
      export; a pandas ``Series`` is one lead; a torch tensor (any device) and a nested list are read
      like the numpy array they convert to.

Invariants (tested in ``tests/test_signal_invariants.py``): adding a constant to a lead or multiplying
it by a positive gain leaves its scaled windows unchanged up to float rounding, at every sampling rate;
resampling keeps timing to within one output sample over the whole record; a constant lead is flat
whatever the sampling rate.
"""

from __future__ import annotations

import numbers
from fractions import Fraction

import numpy as np

TARGET_RATE = 360
"""Sampling rate (Hz) HeartBert works at: the MIT-BIH Arrhythmia rate."""

WINDOW_SIZE = 4000
"""Largest window, in samples at :data:`TARGET_RATE` (about 11.1 s)."""

MIN_WINDOW = 360
"""Shortest window kept (1 s at 360 Hz). A shorter tail is dropped; a shorter signal is an error."""

SCALINGS = ("minmax", "robust")
ROBUST_PERCENTILES = (0.5, 99.5)

FLAT_RTOL = 1e-12
"""A lead segment is flat (constant) when ``max - min <= FLAT_RTOL * max(|max|, |min|)``: its spread is
float rounding of one value, not signal (exact equality for an exactly constant lead)."""

FLAT_MAX_VALUES = 3
"""A lead window whose input samples take at most this many distinct values is flat too: a dead lead
showing +/-1 ADC step of noise (values -1, 0, +1 steps), e.g. a disconnected V3 at 1 µV resolution.
Unit-free (a count, unchanged by gain and offset) and judged on the samples before resampling, so the
same at every sampling rate (fewer samples can only take fewer values). Chosen by measurement over every
(record, lead, window) of the shared PhysioNet set (MIT-BIH DS1 + paced, PTB-XL records500/records100,
CinC 2021 PTB-XL, PTB s0010_re, CinC 2015 a103l/v102s, European ST-T and NST excerpts; 91 records):
full 4000-sample windows take at least 30 distinct values (at least 23 when the records are subsampled
10-fold, to 10-50 Hz); 1-s windows at the recorded rates at least 7 (a segment of MIT-BIH 116 clipped at
the ADC's 0 rail). Only when 1-s windows are subsampled to 62.5-120 Hz do two segments reach 3 values,
both rail-to-rail lead-off artefacts (MIT-BIH 116 MLII at 1002 s, a103l II at 284 s), no ECG."""

MAX_UPSAMPLING = 36
"""Largest ``target_rate / sampling_rate`` accepted (10 Hz for the 360 Hz target). An ECG's QRS energy
lies at 5-40 Hz, so a lower rate carries no ECG; it is almost always a unit slip (kHz given as Hz, e.g.
0.5 for 500 Hz, or the sampling period 1/360 s given as the rate), and upsampling it would allocate
``target_rate / sampling_rate`` times the record for nothing."""

MAX_ABS_VALUE = 1e15
"""Largest ``|sample|`` accepted. No ECG comes near it in any unit (mV, µV, nV or ADC counts of a
32-bit converter); such values are bytes read with the wrong dtype or byte order, and above ~1e300
float64 arithmetic (means, spans) overflows into NaN."""

MAX_POLY_FACTOR = 20_000
"""Largest up/down factor given to ``scipy.signal.resample_poly``; its filter has ``20 * factor + 1``
taps (about 0.08 s to design at 20,000). Rates needing more fall back to FFT resampling."""


# ---------------------------------------------------------------------------------------------- input


def _module_of(obj) -> str:
    return type(obj).__module__.split(".", 1)[0]


def _frame_to_leads(frame, name: str) -> np.ndarray:
    """A pandas DataFrame with one column per lead → ``(leads, samples)`` float64."""
    rows, cols = frame.shape
    if cols > rows:
        raise ValueError(
            f"{name} is a pandas DataFrame of shape {(rows, cols)}: HeartBert reads a DataFrame as one column per "
            f"lead and one row per sample (the layout of a CSV export), so this reads as {cols} leads of {rows} "
            "samples. If its rows are the leads (e.g. df.T of a CSV table), pass the numpy array df.to_numpy()."
        )
    for column, dtype in zip(frame.columns, frame.dtypes):
        if getattr(dtype, "kind", "O") not in "iuf":
            raise TypeError(
                f"{name} is a pandas DataFrame whose column {column!r} has dtype {dtype}: every column must be a "
                "numeric lead. Drop time, label or text columns first (e.g. df[['MLII', 'V1']])."
            )
    leads = frame.to_numpy(dtype=np.float64, na_value=np.nan).T
    ramp = time_column_lead(leads)
    if ramp is not None:
        raise ValueError(f"{name} is a pandas DataFrame whose column {frame.columns[ramp[0]]!r} {ramp_message(*ramp).split(' ', 2)[2]}")
    return leads


def _unmask(signal, name: str):
    """A numpy masked array (or torch ``MaskedTensor``) → its data as float64 with the masked samples set to NaN.

    Readers hand over missing samples this way (``np.ma.masked_invalid``, ``np.genfromtxt(usemask=True)``,
    format-16 -32768 codes masked); the fill value under the mask is no voltage, so it must never reach the
    scaler. NaN then gets the usual error naming lead, sample and time. Other objects are returned as given.
    """
    if isinstance(signal, np.ma.MaskedArray):
        if signal.dtype.kind not in "iuf":
            raise TypeError(f"{name} is a numpy masked array of dtype {signal.dtype}: an ECG must be numeric.")
        return np.ma.filled(signal.astype(np.float64), np.nan)
    if _module_of(signal) == "torch" and hasattr(signal, "get_mask") and hasattr(signal, "get_data"):  # torch.masked.MaskedTensor
        data = np.array(signal.get_data().detach().cpu().float().numpy(), dtype=np.float64)
        data[~signal.get_mask().detach().cpu().numpy().astype(bool)] = np.nan  # torch's mask is True where data is valid
        return data
    return signal


def to_array(signal, name: str = "signal") -> np.ndarray:
    """Convert an ECG given as numpy, torch, pandas or nested lists to a float64 numpy array.

    * numpy: any integer or float dtype (float16/32/64, int8…uint64); bool, complex, string,
      datetime and structured dtypes are refused.
    * torch tensor (CPU or GPU, with or without grad): ``tensor.detach().cpu()``, then as numpy
      (bfloat16 goes through float32, exactly).
    * pandas ``DataFrame``: one column per lead, rows are samples, transposed to ``(leads, samples)``;
      a frame with more columns than rows is refused with its shape, and so is a non-numeric column. pandas ``Series``: one lead.
    * lists/tuples of numbers, or of lists of numbers: ``np.asarray`` of them.
    * numpy masked array (torch ``MaskedTensor``): the masked samples become NaN, so they are refused
      like any missing sample (:func:`bad_sample_message`), never read as the fill value beneath.

    Returns:
        The float64 array, its shape not yet validated (see :func:`as_leads`).

    Raises:
        TypeError: a non-numeric input or dtype.
        ValueError: a DataFrame whose orientation reads wrong, or nested lists of different lengths.
    """
    if isinstance(signal, (str, bytes)):
        raise TypeError(f"{name} must be a numeric array, got {type(signal).__name__}; pass level text as `text`.")
    signal = _unmask(signal, name)
    module = _module_of(signal)
    if module == "torch" and hasattr(signal, "detach"):
        tensor = signal.detach().cpu()
        if str(tensor.dtype) == "torch.bfloat16":  # numpy has no bfloat16
            tensor = tensor.float()
        signal = tensor.numpy()
    elif module == "pandas" and hasattr(signal, "columns") and hasattr(signal, "to_numpy"):
        return _frame_to_leads(signal, name)
    elif module == "pandas" and hasattr(signal, "to_numpy"):
        kind = getattr(signal.dtype, "kind", "O")
        if kind not in "iuf":
            raise TypeError(f"{name} is a pandas Series of dtype {signal.dtype}: a lead must be numeric.")
        signal = signal.to_numpy(dtype=np.float64, na_value=np.nan)
    try:
        x = np.asarray(signal)
    except ValueError as err:  # ragged nested lists
        raise ValueError(
            f"{name} is a nested list whose leads have different lengths ({err}); one ECG needs leads of equal "
            "length, (leads, samples). Pass several ECGs as a list of numpy arrays."
        ) from None
    kind = x.dtype.kind
    if kind == "b":
        raise TypeError(f"{name} has dtype bool: an ECG must be numeric (convert 0/1 values with .astype(float) if you mean them).")
    if kind in "iuf":
        return x.astype(np.float64, copy=False)
    if kind == "O":
        try:
            return x.astype(np.float64)
        except (TypeError, ValueError) as err:
            raise TypeError(f"{name} must be a numeric array-like ({err}).") from None
    raise TypeError(f"{name} must be numeric: its numpy dtype is {x.dtype} (only integer and float dtypes are ECG samples).")


def leads_view(x: np.ndarray, name: str = "signal") -> np.ndarray:
    """``x`` as ``(leads, samples)`` without copying: a 1-D array becomes one lead.

    Args:
        x: a 1-D or 2-D numpy array (or ``np.memmap``).
        name: how the signal is called in error messages.

    Orientation: an array with more rows than columns is refused as ``(samples, leads)``. There is no
    limit on the number of leads (windows are tokenized lead by lead; the model has no lead
    embedding), so 15-lead PTB records, 18-lead ECGs and body-surface maps are read as given. The
    rows-vs-columns rule is all the orientation check needs: a record of at least 1 s has at least
    ``sampling_rate`` (>= 10) samples, so a transposed record is caught unless it has at least as many
    leads as samples. (A former second rule, more than 16 leads refused with the hint to transpose,
    refused real 18-lead ECGs and caught no transposed record this one misses.)

    Raises:
        ValueError: not 1-D/2-D, empty, or more leads than samples (the axes swapped).
    """
    if x.ndim == 1:
        x = x[None, :]
    elif x.ndim != 2:
        raise ValueError(f"{name} must be 1-D (samples,) or 2-D (leads, samples); got a {x.ndim}-D array of shape {x.shape}. Pass a batch as a list of arrays.")
    leads, samples = x.shape
    if samples == 0 or leads == 0:
        raise ValueError(f"{name} is empty (shape {x.shape}).")
    if leads > samples:
        raise ValueError(
            f"{name} has shape {x.shape}: that reads as {leads} leads of {samples} samples, more leads than samples, so its "
            f"axes look swapped. Leads go on the first axis, (leads, samples): a WFDB p_signal array is (samples, leads), so "
            f"pass p_signal.T (here {name}.T, shape {x.shape[::-1]}). Several ECGs go as a list of arrays."
        )
    return x


def first_bad_sample(x: np.ndarray) -> tuple[int, int, float] | None:
    """``(lead, sample, value)`` of the first NaN/inf or ``|value| > MAX_ABS_VALUE`` of ``(leads, samples)``, else ``None``."""
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(x) <= MAX_ABS_VALUE)  # NaN compares False
    if not bad.any():
        return None
    lead, sample = (int(i) for i in np.argwhere(bad)[0])
    return lead, sample, float(x[lead, sample])


def first_ramp_lead(x: np.ndarray, min_samples: int = 16) -> tuple[int, float, float, float] | None:
    """``(lead, first, last, step)`` of the first lead that is an exact linear ramp, else ``None``.

    A ramp (strictly monotonic, every step within 0.1 % of the mean step, at least ``min_samples``
    samples) is a time or sample-number column read as a lead, e.g. the ``'sample #'`` or
    ``time`` column of a CSV export; no ECG lead is one.
    """
    if x.shape[-1] < min_samples:
        return None
    for lead, row in enumerate(np.asarray(x, dtype=np.float64)):
        step = (row[-1] - row[0]) / (len(row) - 1)
        if step == 0 or not np.isfinite(step) or np.any(np.abs(np.diff(row[:min_samples]) - step) > 1e-3 * abs(step)):
            continue  # decided by the first samples for any real lead
        if np.all(np.abs(np.diff(row) - step) <= 1e-3 * abs(step)):
            return lead, float(row[0]), float(row[-1]), float(step)
    return None


def time_column_lead(x: np.ndarray, min_samples: int = 16) -> tuple[int, float, float, float] | None:
    """The ramp of :func:`first_ramp_lead` when it sits beside real leads (a time or sample-number column
    exported with them: refuse it), else ``None``. A signal whose every lead is a ramp (e.g. a synthetic
    ``np.linspace`` test signal) is not refused: it only warns (``UserWarning``)."""
    ramp = first_ramp_lead(x, min_samples)
    if ramp is None:
        return None
    if any(first_ramp_lead(x[i : i + 1], min_samples) is None for i in range(x.shape[0])):
        return ramp
    import warnings

    warnings.warn(f"{ramp_message(*ramp)} It is tokenized anyway, as it is the only kind of lead given.", UserWarning, stacklevel=3)
    return None


def ramp_message(lead: int, first: float, last: float, step: float) -> str:
    """The error for a lead :func:`first_ramp_lead` found."""
    return (
        f"lead {lead} is an exact linear ramp ({first:g} to {last:g} in steps of {step:g}): a time or sample-number column, "
        "not an ECG lead. Drop it (e.g. df.drop(columns=['time']), or x[1:] for an array) or make it the index."
    )


def bad_sample_message(value: float, where: str) -> str:
    """The error for a sample :func:`first_bad_sample` found; ``where`` names the lead and sample (and window)."""
    if not np.isfinite(value):
        return (
            f"contains NaN or inf (first at {where}); clean or interpolate it first (a masked sample of a numpy masked "
            "array and a missing pandas value are read as NaN)."
        )
    return (
        f"has the impossible value {value:g} at {where}: |values| above {MAX_ABS_VALUE:g} are no ECG in any unit "
        "(mV, µV, ADC counts); the samples were probably read with the wrong dtype or byte order. Check how the file was read."
    )


def as_leads(signal, name: str = "signal", check_finite: bool = True) -> np.ndarray:
    """Validate an ECG and return it as float64 ``(leads, samples)``.

    Args:
        signal: a 1-D ``(samples,)`` or 2-D ``(leads, samples)`` array-like of numbers: numpy, torch,
            pandas or nested lists, as :func:`to_array` converts them.
        name: how the signal is called in error messages.
        check_finite: refuse NaN, inf and impossible magnitudes (:data:`MAX_ABS_VALUE`);
            :func:`prepare_windows` checks them itself, naming the window.

    Raises:
        TypeError: the input is not numeric (e.g. a string, a bool array).
        ValueError: wrong number of dimensions, leads on the wrong axis, empty, NaN or inf, a
            value beyond :data:`MAX_ABS_VALUE`, or a lead that is a time / sample-number ramp
            beside real leads (:func:`time_column_lead`).
    """
    x = leads_view(to_array(signal, name), name)
    bad = first_bad_sample(x) if check_finite else None
    if bad is not None:
        lead, sample, value = bad
        raise ValueError(f"{name} {bad_sample_message(value, f'lead {lead}, sample {sample}')}")
    ramp = time_column_lead(x)
    if ramp is not None:
        raise ValueError(f"{name}: {ramp_message(*ramp)}")
    return x


def check_sampling_rate(sampling_rate) -> float:
    """Return ``sampling_rate`` as a positive float or raise a ``ValueError``/``TypeError``.

    Accepts Python and numpy numbers, and 0-d numeric numpy arrays and torch tensors; refuses ``None``, bools, strings,
    complex numbers, arrays of several values, and zero, negative, NaN or infinite rates.
    """
    if sampling_rate is None:
        raise ValueError("sampling_rate is required for ECG arrays (e.g. sampling_rate=360 for MIT-BIH, 500 for PTB-XL).")
    if getattr(sampling_rate, "ndim", None) == 0 and hasattr(sampling_rate, "item"):
        # a 0-d numpy array (np.load("x.npz")["fs"]) or torch tensor (a torch-formatted dataset row), any device
        sampling_rate = sampling_rate.item()
    if isinstance(sampling_rate, bool) or not isinstance(sampling_rate, (numbers.Real, np.integer, np.floating)):
        raise TypeError(f"sampling_rate must be a number, got {type(sampling_rate).__name__}.")
    fs = float(sampling_rate)
    if not np.isfinite(fs) or fs <= 0:
        raise ValueError(f"sampling_rate must be positive and finite, got {sampling_rate}.")
    return fs


# ---------------------------------------------------------------------------------------------- resampling


def check_upsampling(sampling_rate: float, target_rate: float = TARGET_RATE) -> None:
    """Refuse a ``sampling_rate`` more than :data:`MAX_UPSAMPLING` times below ``target_rate`` (see there)."""
    if float(target_rate) / float(sampling_rate) > MAX_UPSAMPLING:
        raise ValueError(
            f"sampling_rate {float(sampling_rate):g} Hz is too low for an ECG (HeartBert needs at least "
            f"{float(target_rate) / MAX_UPSAMPLING:g} Hz; it works at {float(target_rate):g} Hz). Pass the rate in Hz, samples per "
            f"second: e.g. 500 for 500 Hz, not 0.5 (kHz) and not the sampling period 1/{float(target_rate):g} s."
        )


def poly_factors(sampling_rate: float, target_rate: float, n_samples: int) -> tuple[int, int] | None:
    """The ``(up, down)`` factors :func:`resample` uses, or ``None`` when it must use FFT resampling.

    The rates are read as the decimals they are written as (257.3 Hz is 2573/10 exactly), so a
    decimal rate gets its exact ratio (360/257.3 = 3600/2573) when both factors are at most
    :data:`MAX_POLY_FACTOR`. Otherwise the smallest continued-fraction approximation whose
    accumulated drift over ``n_samples`` input samples stays within half an output sample is used
    (e.g. 27/25 for 1000/3 Hz). ``None`` when no approximation within the factor limit is that close
    (among them a rate so far above the target that its approximations round to 0/1).

    Raises:
        ValueError: ``target_rate / sampling_rate`` above :data:`MAX_UPSAMPLING` (a rate below 10 Hz
            for the 360 Hz target), naming the likely unit slip.
    """
    check_upsampling(sampling_rate, target_rate)
    exact = Fraction(repr(float(target_rate))) / Fraction(repr(float(sampling_rate)))
    if max(exact.numerator, exact.denominator) <= MAX_POLY_FACTOR:
        return exact.numerator, exact.denominator
    ratio = target_rate / sampling_rate
    for limit in (10, 100, 1000, 10_000, MAX_POLY_FACTOR):
        approx = exact.limit_denominator(limit)
        if approx.numerator == 0:  # a rate far above the target: no small up factor; resample_poly needs up >= 1
            continue
        if max(approx.numerator, approx.denominator) > MAX_POLY_FACTOR:
            break
        if n_samples * abs(approx.numerator / approx.denominator - ratio) <= 0.5:
            return approx.numerator, approx.denominator
    return None


def resample(signal, sampling_rate: float, target_rate: float = TARGET_RATE) -> np.ndarray:
    """Resample ``(leads, samples)`` (or 1-D) to ``target_rate``, offset- and gain-equivariant, timing-exact.

    Method: each lead's mean is removed, the rest goes through ``scipy.signal.resample_poly``
    (Kaiser-windowed FIR, anti-aliased) with odd-reflection padding at the record ends
    (``padtype="antireflect"``, the extension ``scipy.signal.filtfilt`` uses by default), and the
    mean is added back exactly. So ``resample(a * x + c) == a * resample(x) + c`` up to float
    rounding (no edge transient from zero padding, no filter ripple on the offset), and a constant
    lead stays constant.

    Timing guarantee: output sample ``k`` lies within half an output sample of time ``k / target_rate``
    over the whole record, at any rate. Decimal rates use their exact rational ratio (see
    :func:`poly_factors`); a rate with no close enough ratio of factors up to
    :data:`MAX_POLY_FACTOR` is resampled in the frequency domain (``scipy.signal.resample`` of the
    even-symmetric extension) to ``round(n * target_rate / sampling_rate)`` samples.

    Args:
        signal: the ECG, 1-D or ``(leads, samples)``.
        sampling_rate: its sampling rate in Hz.
        target_rate: the rate to resample to (default 360 Hz).

    Returns:
        The resampled float64 array, same number of dimensions as the input.

    Raises:
        ImportError: resampling is needed and scipy is not installed (360 Hz input needs no scipy).
    """
    fs = check_sampling_rate(sampling_rate)
    target = check_sampling_rate(target_rate)
    x = np.asarray(signal, dtype=np.float64)
    if fs == target:
        return x
    try:
        import scipy.signal as scipy_signal  # lazy: keeps this module numpy-only at import
    except ImportError:
        raise ImportError(f"resampling from {fs:g} Hz to {target:g} Hz needs scipy: pip install scipy (or pass signals already at {target:g} Hz).") from None
    n = x.shape[-1]
    if n < 2:  # constant (or empty): scipy's antireflect padding divides by zero on one sample and kills the process
        return np.repeat(x, resampled_length(n, fs, target) if n else 0, axis=-1)
    mean = x.mean(axis=-1, keepdims=True)
    centred = x - mean
    factors = poly_factors(fs, target, n)
    if factors is not None:
        up, down = factors
        out = scipy_signal.resample_poly(centred, up, down, axis=-1, padtype="antireflect")
    else:
        n_out = max(1, round(n * target / fs))
        mirrored = np.concatenate([centred, centred[..., ::-1]], axis=-1)  # periodic without a jump
        out = scipy_signal.resample(mirrored, 2 * n_out, axis=-1)[..., :n_out]
    return out + mean


def resampled_length(n_samples: int, sampling_rate: float, target_rate: float = TARGET_RATE) -> int:
    """Samples :func:`resample` returns for ``n_samples`` input samples (no scipy needed).

    ``resample_poly`` with factors ``(up, down)`` gives ``ceil(n * up / down)``; the FFT path gives
    ``round(n * target_rate / sampling_rate)`` (at least 1).
    """
    fs, target = check_sampling_rate(sampling_rate), check_sampling_rate(target_rate)
    if fs == target:
        return int(n_samples)
    factors = poly_factors(fs, target, n_samples)
    if factors is None:
        return max(1, round(n_samples * target / fs))
    up, down = factors
    return -(-int(n_samples) * up // down)


# ---------------------------------------------------------------------------------------------- windows


def window_bounds(n_samples: int, window_size: int = WINDOW_SIZE, min_window: int = MIN_WINDOW) -> list[tuple[int, int]]:
    """Cut ``n_samples`` into consecutive ``[start, stop)`` windows.

    The rule for the tail: full windows of ``window_size``; the remainder becomes its own shorter
    window when it holds at least ``min_window`` samples, and is dropped otherwise (so at most
    ``min_window - 1`` samples, under 1 s at the defaults, are lost per record).
    """
    if window_size < 1 or min_window < 1:
        raise ValueError(f"window_size and min_window must be positive, got {window_size} and {min_window}.")
    if n_samples < min_window:
        raise ValueError(f"signal too short: {n_samples} samples at {TARGET_RATE} Hz, fewer than the {min_window} (min_window) needed.")
    bounds = [(s, s + window_size) for s in range(0, n_samples - window_size + 1, window_size)]
    tail_start = bounds[-1][1] if bounds else 0
    if n_samples - tail_start >= min_window:
        bounds.append((tail_start, n_samples))
    return bounds


PREFIX_SAMPLES = 64
"""Samples :func:`flat_leads` looks at before sorting a whole lead window."""


def flat_leads(segment: np.ndarray) -> np.ndarray:
    """``(leads, samples)`` → bool ``(leads,)``: which leads are flat: constant up to float rounding
    (:data:`FLAT_RTOL`), or taking at most :data:`FLAT_MAX_VALUES` distinct values (ADC noise of a dead lead)."""
    shape = segment.shape[:-1]
    segment = segment.reshape(-1, segment.shape[-1])  # (leads, samples), also for one 1-D lead
    lo, hi = segment.min(axis=-1), segment.max(axis=-1)
    flat = (hi - lo) <= FLAT_RTOL * np.maximum(np.abs(lo), np.abs(hi))  # (leads,)
    # a prefix holds no more distinct values than the window: a live lead shows more than FLAT_MAX_VALUES in its
    # first samples, so only the few leads that do not are sorted in full (sorting every window cost ~4x prepare_windows)
    head = np.sort(segment[..., :PREFIX_SAMPLES], axis=-1)
    few = 1 + np.count_nonzero(np.diff(head, axis=-1), axis=-1) <= FLAT_MAX_VALUES
    for lead in np.flatnonzero(few & ~flat):
        ordered = np.sort(segment[lead])
        flat[lead] = 1 + np.count_nonzero(np.diff(ordered)) <= FLAT_MAX_VALUES
    return flat.reshape(shape)


def flat_message(where: str) -> str:
    """The error for a flat window; ``where`` names the lead and window."""
    return (
        f"{where}: flat signal: the lead is constant there, or takes at most {FLAT_MAX_VALUES} distinct values (ADC noise of "
        "a dead or disconnected lead, a lead-off segment), so it holds no ECG to scale to [0, 1]. Drop that lead, or pass "
        "drop_flat=True to skip such windows."
    )


def input_span(start: int, stop: int, step: float, n_in: int) -> tuple[int, int]:
    """Input samples ``[first, last)`` whose times fall within output window ``[start, stop)``.

    ``step`` is ``sampling_rate / target_rate``; at least one sample, clipped to the ``n_in`` input
    samples (the window itself at the target rate). Flatness is judged on these (see :func:`prepare_windows`).
    """
    first = min(n_in - 1, int(np.ceil(start * step - 1e-9)))
    last = min(n_in, max(first + 1, int(np.floor((stop - 1) * step + 1e-9)) + 1))
    return first, last


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

    Flatness (:func:`flat_leads`: constant, or at most :data:`FLAT_MAX_VALUES` distinct values) is
    judged on the input samples each window covers, before resampling (whose filter would turn a
    constant between two live segments into ringing), so a dead lead is flat at every sampling rate,
    exactly as at 360 Hz.

    Args:
        signal: 1-D ``(samples,)`` or ``(leads, samples)``, any input :func:`to_array` accepts.
        sampling_rate: Hz of ``signal``.
        target_rate, window_size, min_window, scaling: see the module functions.
        drop_flat: skip flat (constant or dead-lead noise) lead windows instead of raising; for corpus building,
            where a lead-off segment should not stop the run.

    Returns:
        ``(windows, index)``: the scaled 1-D windows, and for each its ``(lead, window_number)``.

    Raises:
        ValueError: NaN/inf or a value beyond :data:`MAX_ABS_VALUE` (naming lead, sample and
            window), a rate below ``target_rate / MAX_UPSAMPLING``, a flat window without ``drop_flat``
            (naming lead and window), a signal shorter than ``min_window`` after resampling, and the
            shape errors of :func:`as_leads`.
    """
    fs = check_sampling_rate(sampling_rate)
    target = check_sampling_rate(target_rate)
    raw = as_leads(signal, check_finite=False)
    bad = first_bad_sample(raw)
    if bad is not None:
        lead, sample, value = bad
        number = int(sample * target / fs) // window_size
        raise ValueError(f"signal {bad_sample_message(value, f'lead {lead}, sample {sample}, {sample / fs:.3f} s, in window {number}')}")
    x = resample(raw, fs, target)
    bounds = window_bounds(x.shape[-1], window_size, min_window)
    n_in, step = raw.shape[-1], fs / target
    windows, index = [], []
    for number, (start, stop) in enumerate(bounds):
        first, last = input_span(start, stop, step, n_in)
        flat = flat_leads(raw[:, first:last])
        for lead in range(x.shape[0]):
            where = f"lead {lead}, window {number} (samples {start}:{stop} at {target:g} Hz)"
            segment = x[lead, start:stop]
            if flat[lead] or (drop_flat and segment.max() == segment.min()):
                if drop_flat:
                    continue
                raise ValueError(flat_message(where))
            try:
                windows.append(scale(segment, scaling))
            except ValueError as err:
                raise ValueError(f"{where}: {err}") from None
            index.append((lead, number))
    return windows, index
