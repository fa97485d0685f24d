"""Rhythm around each beat: R-peak detection, per-beat RR features, beat-centred segments.

Across patients, telling supraventricular ectopic (S) beats from normal (N) ones depends mostly on
rhythm (a premature beat has a short RR interval before it and a long one after it), which a
beat-centred window scaled on its own barely carries. The RR features here travel with each beat
into the classification head and into the features-only baseline.

* :func:`rr_features`: the per-beat RR feature matrix (:data:`RR_FEATURE_NAMES`) from R-peak sample
  positions, as used by de Chazal et al. (IEEE TBME 51(7), 2004: pre-, post-, local and average RR)
  with the per-record normalisation of Mondéjar-Guerra et al. (BSPC 47, 2019), which makes them
  comparable across patients with different heart rates.
* :func:`detect_r_peaks`: R peaks of an unannotated lead with wfdb's GQRS detector, moved onto the
  local extremum (the MIT-BIH reference annotations sit on the R-wave peak).
* :func:`beat_segments`: fixed-width windows centred on the R peaks.

numpy only at module level; ``wfdb`` is imported by :func:`detect_r_peaks` when it runs.
"""

from __future__ import annotations

import numpy as np

from .ecg_signal import TARGET_RATE, check_sampling_rate

GQRS_MIN_RATE = 60.0
"""Lowest rate (Hz) GQRS runs at: below about 57 Hz its 70 ms QRS step rounds to 0 samples and
``wfdb`` raises a bare ``Exception``. :func:`detect_r_peaks` detects on a 360 Hz copy of a slower lead."""

RR_FEATURE_NAMES: tuple[str, ...] = (
    "pre_rr",
    "post_rr",
    "local_rr",
    "record_rr",
    "pre_rr_norm",
    "post_rr_norm",
    "local_rr_norm",
    "pre_over_post",
    "pre_over_local",
)
"""Columns of :func:`rr_features`, in order.

* ``pre_rr``: the RR interval ending at this beat (s);
* ``post_rr``: the RR interval starting at this beat (s);
* ``local_rr``: mean of the last :data:`LOCAL_BEATS` pre-RR intervals up to and including this
  beat's (s; fewer at the start of a record);
* ``record_rr``: mean RR interval of the whole record (s);
* ``pre_rr_norm``, ``post_rr_norm``, ``local_rr_norm``: the first three divided by ``record_rr``
  (per-record normalisation: 1.0 is this patient's average rhythm);
* ``pre_over_post``: ``pre_rr / post_rr`` (< 1 for a premature beat followed by a pause);
* ``pre_over_local``: ``pre_rr / local_rr`` (prematurity against the recent rhythm).
"""

LOCAL_BEATS = 10
"""Number of RR intervals in the local mean (about the last 10 beats)."""

DETECTION_AMPLITUDE_MV = 1.0
"""Median 1-s peak-to-peak amplitude (mV) a lead is scaled up to before GQRS runs on it.

GQRS starts from fixed amplitude assumptions (a typical QRS of 750 µV) and misses complexes of
low-amplitude leads. Measured here: on ``s0010_re`` (PTB Diagnostic ECG Database, lead ii, 1000 Hz,
median 1-s peak-to-peak 0.68 mV) it found 21 beats in 38 s where there are 52 (XQRS: 52), and on
the CinC 2021 copy of PTB-XL ``HR19293`` (lead II, 0.44 mV) 10 of 13. A lead below this value is
multiplied up to it for detection only (R-peak positions do not depend on the scale; nothing else
sees the scaled copy). 1.0 leaves every DS1 MLII lead (medians 1.17 to 4.5 mV) as it is; 1.5 would
scale some of them and added 99 false detections on record 201."""

DETECTION_MIN_AMPLITUDE_MV = 0.5
"""Median 1-s peak-to-peak amplitude (mV) under which a lead is *not* scaled up: so weak a lead is more
likely noise, or a lead the beats barely show on, than a small ECG. Scaling those without a floor made
GQRS report 1,181 "beats" (+P 0.47) on V1 of the shipped 101 excerpt (median 0.15 mV; bare GQRS: 140
at +P 0.96, which trips classify-beats' low-rate warning) and 86-107 beats/min on Gaussian noise of
0.005-0.05 mV (bare GQRS: none)."""


def _peak_samples(r_peaks) -> np.ndarray:
    """``r_peaks`` as a 1-D float64 array of finite sample positions, or a ``ValueError`` naming the first bad one."""
    peaks = np.asarray(r_peaks, dtype=np.float64).reshape(-1)
    bad = np.flatnonzero(~np.isfinite(peaks))
    if bad.size:
        raise ValueError(f"R peak {bad[0]} is {peaks[bad[0]]} (not a sample number): pass finite sample indices, e.g. drop the missing beats first.")
    return peaks


GAP_FLAT_S = 1.0
"""A stretch of exactly constant samples at least this long (s) is a gap in the recording (lead off,
a dropped-out stretch), as is any invalid (NaN) sample: :func:`broken_intervals`."""


def broken_intervals(signal: np.ndarray, r_peaks: np.ndarray, sampling_rate: float) -> np.ndarray:
    """Which RR intervals span a gap in the recording: ``(n_beats - 1,)`` bool.

    Interval ``i`` (from peak ``i`` to ``i + 1``) is broken when the lead between them holds an
    invalid (non-finite) sample or a constant stretch of at least :data:`GAP_FLAT_S`. Such an
    interval measures the gap, not the heart: :func:`rr_features` leaves it out.

    Args:
        signal: ``(n_samples,)`` the lead the peaks were found on (NaN where invalid).
        r_peaks: ``(n_beats,)`` increasing R-peak sample indices.
        sampling_rate: Hz.
    """
    x = np.asarray(signal, dtype=np.float64).reshape(-1)
    peaks = np.clip(np.round(_peak_samples(r_peaks)).astype(np.int64), 0, max(len(x) - 1, 0))
    invalid = np.concatenate([[0], np.cumsum(~np.isfinite(x))])  # invalid samples before index i
    same = np.concatenate([[False], np.diff(x) == 0])  # sample equal to the one before it
    run = np.zeros(len(x), dtype=np.int64)  # length of the constant run ending at each sample
    starts = np.flatnonzero(~same)
    if len(x):
        lengths = np.diff(np.append(starts, len(x)))
        run = np.arange(len(x)) - np.repeat(starts, lengths) + 1
    long_flat = np.concatenate([[0], np.cumsum(run >= max(2, int(round(GAP_FLAT_S * float(sampling_rate)))))])
    a, b = peaks[:-1], peaks[1:] + 1
    return ((invalid[b] - invalid[a]) > 0) | ((long_flat[b] - long_flat[a]) > 0)


def rr_features(r_peaks: np.ndarray, sampling_rate: float, broken: np.ndarray | None = None) -> np.ndarray:
    """Per-beat RR features of one record (see :data:`RR_FEATURE_NAMES` for the columns).

    Edges: the first beat has no previous RR interval, so its ``pre_rr`` is its ``post_rr``; the
    last beat has no next one, so its ``post_rr`` is its ``pre_rr``. ``local_rr`` of beat ``i``
    averages the pre-RR intervals of beats ``max(0, i - 9) .. i`` (with the first beat's copied
    value), so it is defined from the first beat on. Features are computed over the beats given:
    pass every beat of the record (all annotated beats, whatever their class), not a subset.

    Gaps: intervals marked in ``broken`` (:func:`broken_intervals`) are left out. The beats on
    either side of one are treated as a record's last and first beat (the local mean restarts
    after it), and ``record_rr`` is the mean of the other intervals; a beat with no unbroken
    interval on either side gets ``record_rr`` for its own intervals (ratios 1).

    Args:
        r_peaks: ``(n_beats,)`` R-peak sample indices of one record, strictly increasing, n ≥ 2.
        sampling_rate: samples per second of those indices (Hz).
        broken: ``(n_beats - 1,)`` bool, intervals that span a gap; ``None``: none.

    Returns:
        ``(n_beats, len(RR_FEATURE_NAMES))`` float32.

    Raises:
        ValueError: fewer than 2 beats, a NaN/inf peak, peaks not strictly increasing, a rate that
            is not a positive finite number (``TypeError`` for a non-number), ``broken`` of the
            wrong length, or every interval broken.
    """
    sampling_rate = check_sampling_rate(sampling_rate)
    peaks = _peak_samples(r_peaks)
    if peaks.size < 2:
        raise ValueError(f"RR features need at least 2 R peaks, got {peaks.size}: the record is too short or has no detected beats.")
    rr = np.diff(peaks) / float(sampling_rate)  # (n_beats - 1,) seconds
    if (rr <= 0).any():
        bad = int(np.flatnonzero(rr <= 0)[0])
        raise ValueError(f"R peaks must be strictly increasing; peak {bad + 1} (sample {peaks[bad + 1]:.0f}) is not after peak {bad}.")
    broken = np.zeros(len(rr), dtype=bool) if broken is None else np.asarray(broken, dtype=bool).reshape(-1)
    if len(broken) != len(rr):
        raise ValueError(f"broken has {len(broken)} values for the {len(rr)} RR intervals of {len(peaks)} beats.")
    if broken.all():
        raise ValueError("every RR interval spans a gap in the recording (invalid or flat stretches between all beats): no rhythm to measure.")
    mean_rr = rr[~broken].mean()
    out = np.empty((len(peaks), len(RR_FEATURE_NAMES)), dtype=np.float64)
    starts = np.concatenate([[0], np.flatnonzero(broken) + 1])  # first beat of each unbroken run
    stops = np.concatenate([np.flatnonzero(broken) + 1, [len(peaks)]])
    for a, b in zip(starts, stops):
        run = rr[a : b - 1] if b - a > 1 else np.array([mean_rr])  # the run's intervals (a lone beat: the record's mean)
        pre = np.concatenate([run[:1], run])[: b - a]  # (run beats,)
        post = np.concatenate([run, run[-1:]])[: b - a] if b - a > 1 else run[:1]
        csum = np.concatenate([[0.0], np.cumsum(pre)])
        idx = np.arange(len(pre))
        lo = np.maximum(0, idx - LOCAL_BEATS + 1)
        local = (csum[idx + 1] - csum[lo]) / (idx + 1 - lo)
        record = np.full_like(pre, mean_rr)
        out[a:b] = np.stack([pre, post, local, record, pre / record, post / record, local / record, pre / post, pre / local], axis=1)
    return out.astype(np.float32)


def detect_r_peaks(signal: np.ndarray, sampling_rate: float, search_radius_s: float = 0.05) -> np.ndarray:
    """R-peak sample indices of one ECG lead, with wfdb's GQRS detector.

    GQRS (``wfdb.processing.gqrs_detect``, the Python port of PhysioNet's ``gqrs``; thresholds in
    mV, so pass the lead in mV) finds QRS complexes. It was chosen over ``wfdb.processing.XQRS``
    by measurement: on the shipped excerpt of record 208 (many V beats) XQRS found 86.5 % of the
    reference beats, GQRS 99.7 %, at 100 % +P both, and GQRS ran twice as fast. Each detection is then moved to the largest deviation from the local baseline within
    ``±search_radius_s`` (``wfdb.processing.correct_peaks`` with ``peak_dir="compare"``), so that
    positive and negative R waves both land on their extremum, as the MIT-BIH reference annotations
    do. Invalid samples (NaN) are set to 0 mV before detection. The lead is mirror-padded so that
    beats at its ends are found (:data:`DETECTION_PAD_S`), and a low-amplitude lead is scaled up for
    detection (:data:`DETECTION_AMPLITUDE_MV`, :func:`detection_gain`). A lead slower than
    :data:`GQRS_MIN_RATE` is detected on its 360 Hz resampling and the peaks mapped back. Accuracy against the MIT-BIH
    reference annotations is measured in ``docs/finetuning.md``.

    Args:
        signal: ``(samples,)`` one lead in mV.
        sampling_rate: Hz.
        search_radius_s: how far (s) a detection may move onto the local extremum.

    Returns:
        ``(n_peaks,)`` int64 sample indices, strictly increasing (may be empty for a flat lead).

    Raises:
        ValueError: a signal that is not 1-D, shorter than 2 s, or a rate that is not a positive
            finite number (``TypeError`` for a non-number); a rate below 10 Hz (see ``ecg_signal.MAX_UPSAMPLING``).
        ImportError: wfdb is not installed.
    """
    sig = np.asarray(signal, dtype=np.float64)
    if sig.ndim != 1:
        raise ValueError(f"detect_r_peaks takes one lead (a 1-D array), got shape {sig.shape}; pass signal[lead].")
    sampling_rate = check_sampling_rate(sampling_rate)
    if sig.size < 2 * sampling_rate:
        raise ValueError(f"the lead has {sig.size} samples ({sig.size / sampling_rate:.2f} s); R-peak detection needs at least 2 s.")
    try:
        from wfdb import processing
    except ImportError as err:  # pragma: no cover - wfdb is a core dependency
        raise ImportError("detect_r_peaks needs wfdb: pip install wfdb") from err
    sig = np.nan_to_num(sig, nan=0.0, posinf=0.0, neginf=0.0)
    if np.ptp(sig) == 0:
        return np.zeros(0, dtype=np.int64)
    if sampling_rate < GQRS_MIN_RATE:  # detect on a 360 Hz copy, then map the peaks back to this lead's samples
        from .ecg_signal import resample

        fast = detect_r_peaks(resample(sig, sampling_rate, TARGET_RATE), TARGET_RATE, search_radius_s)
        return np.unique(np.clip(np.round(fast * sampling_rate / TARGET_RATE).astype(np.int64), 0, sig.size - 1))
    pad = min(sig.size - 1, int(round(DETECTION_PAD_S * sampling_rate)))  # GQRS needs samples after a beat to report it
    padded = np.pad(sig, (pad, pad), mode="reflect") * detection_gain(sig, sampling_rate)
    peaks = np.asarray(processing.gqrs_detect(sig=padded, fs=float(sampling_rate)), dtype=np.int64) - pad
    peaks = peaks[(peaks >= 0) & (peaks < sig.size)]
    if peaks.size == 0:
        return peaks
    radius = max(1, int(round(search_radius_s * sampling_rate)))
    peaks = processing.correct_peaks(sig, peaks, search_radius=radius, smooth_window_size=max(3, int(round(0.15 * sampling_rate))), peak_dir="compare")
    peaks = np.asarray(peaks, dtype=np.int64)
    peaks = peaks[(peaks >= 0) & (peaks < sig.size)]
    return np.unique(peaks)


DETECTION_PAD_S = 2.0
"""Seconds of mirror padding (``np.pad`` mode ``reflect``) on both ends of a lead before GQRS runs;
detections inside the padding are dropped. GQRS confirms a QRS only once later samples arrive and
needs a run-in, so on the bare lead it never reports the last beat and can miss a first beat within
about 0.3 s of the start: measured here on the 27 10-s CinC 2021 copies of PTB-XL records in
``../shared`` (lead II), it found 337 of the 367 beats XQRS finds unpadded (the last beat of every
record) and 366 padded."""


def detection_gain(signal: np.ndarray, sampling_rate: float) -> float:
    """Factor that brings a lead's median 1-s peak-to-peak amplitude up to :data:`DETECTION_AMPLITUDE_MV`.

    Args:
        signal: ``(samples,)`` one lead in mV, finite.
        sampling_rate: Hz.

    Returns:
        ``DETECTION_AMPLITUDE_MV / median`` when the median of the peak-to-peak amplitudes of the
        lead's whole 1-s blocks lies in [:data:`DETECTION_MIN_AMPLITUDE_MV`, :data:`DETECTION_AMPLITUDE_MV`);
        else 1.0 (also for a lead shorter than 2 s). The gain is therefore at most 2.
    """
    block = max(1, int(round(sampling_rate)))
    n_blocks = signal.size // block
    if n_blocks < 2:
        return 1.0
    median = float(np.median(np.ptp(signal[: n_blocks * block].reshape(n_blocks, block), axis=1)))
    return DETECTION_AMPLITUDE_MV / median if DETECTION_MIN_AMPLITUDE_MV <= median < DETECTION_AMPLITUDE_MV else 1.0


def beat_segments(signal: np.ndarray, sampling_rate: float, r_peaks: np.ndarray, half_width_s: float) -> np.ndarray:
    """Windows of ``±half_width_s`` centred on each R peak.

    A window that runs past the start or end of the record is padded with the record's first or
    last sample (``np.pad`` mode ``edge``), so every beat gets a window of the same width with the R
    peak at index ``half``.

    Args:
        signal: ``(leads, samples)`` (or ``(samples,)`` for one lead).
        sampling_rate: Hz.
        r_peaks: ``(n_beats,)`` sample indices inside the record.
        half_width_s: half-width in seconds; ``half = round(half_width_s * sampling_rate)``.

    Returns:
        ``(n_beats, leads, 2 * half + 1)`` float32.

    Raises:
        ValueError: an R peak outside the record or not finite, a non-positive half-width, or a
            rate that is not a positive finite number.
    """
    sig = np.asarray(signal, dtype=np.float32)
    if sig.ndim == 1:
        sig = sig[None, :]
    if sig.ndim != 2:
        raise ValueError(f"signal must be (leads, samples), got shape {sig.shape}.")
    sampling_rate = check_sampling_rate(sampling_rate)
    half = int(round(half_width_s * sampling_rate))
    if half <= 0:
        raise ValueError(f"half_width_s * sampling_rate must be at least 1 sample, got {half_width_s} s at {sampling_rate} Hz.")
    peaks = _peak_samples(r_peaks).astype(np.int64)
    n = sig.shape[1]
    if peaks.size and (peaks.min() < 0 or peaks.max() >= n):
        raise ValueError(f"R peaks must lie inside the record's {n} samples; got {peaks.min()}..{peaks.max()}.")
    padded = np.pad(sig, ((0, 0), (half, half)), mode="edge")
    offsets = np.arange(2 * half + 1)
    idx = peaks[:, None] + offsets[None, :]  # (n_beats, width) in padded coordinates
    return np.ascontiguousarray(padded[:, idx].transpose(1, 0, 2))


def compare_peaks(ref_peaks: np.ndarray, test_peaks: np.ndarray, sampling_rate: float, tolerance_s: float = 0.15) -> dict:
    """Sensitivity and positive predictivity of detected R peaks against reference beats.

    Matching is ``wfdb.processing.compare_annotations`` (one-to-one, within ``±tolerance_s``;
    150 ms is the ANSI/AAMI EC57 beat-matching window).

    Args:
        ref_peaks: ``(n_ref,)`` reference beat samples (e.g. the ``atr`` beats of a record).
        test_peaks: ``(n_test,)`` detected samples.
        sampling_rate: Hz.
        tolerance_s: matching window half-width in seconds.

    Returns:
        ``{"n_ref", "n_test", "tp", "fn", "fp", "sensitivity", "ppv"}``.
    """
    from wfdb import processing

    ref = np.asarray(ref_peaks, dtype=np.int64)
    test = np.asarray(test_peaks, dtype=np.int64)
    cmp = processing.compare_annotations(ref, test, int(round(tolerance_s * sampling_rate)))
    tp = int(cmp.tp)
    return {
        "n_ref": int(ref.size),
        "n_test": int(test.size),
        "tp": tp,
        "fn": int(ref.size - tp),
        "fp": int(test.size - tp),
        "sensitivity": tp / ref.size if ref.size else float("nan"),
        "ppv": tp / test.size if test.size else float("nan"),
    }
