"""Which lead of a record ``heartbert classify-beats`` classifies, and whether a lead can be classified at all.

Default order: :data:`PREFERRED_LEADS` (MLII, else II), then the other ECG leads (voltage units and
no non-ECG name, :func:`heartbert_hf.data.lead_units.is_ecg_signal`); ``--lead`` (a name or an index)
overrides it. Leads are carried as signal indices, not names: Holter records often name every signal
the same (the Long-Term AF and Sudden Cardiac Death Holter databases: ``ECG``, ``ECG``), so a name
alone does not say which signal is meant.
"""

from __future__ import annotations

import re

import numpy as np

PREFERRED_LEADS = ("MLII", "II")
"""Default leads, in order: the classifier was trained on MIT-BIH's modified lead II (MLII), which the
standard limb lead II of a 12-lead ECG approximates best (names compared by :func:`lead_key`)."""

_LEAD_PREFIX = re.compile(r"^(?:ECG|EKG|LEAD)(?=[\s_:.-]|II$|MLII$|ML2$)[\s_:.-]*")
_LEAD_SPELLINGS = {"ML2": "MLII", "DII": "II"}


def lead_key(name: str) -> str:
    """A lead name in the form :data:`PREFERRED_LEADS` are compared in: upper case, an ``ECG`` / ``EKG`` /
    ``Lead`` prefix and separators (spaces, ``-``, ``_``) removed, ``ML2`` read as ``MLII`` and ``DII``
    (Einthoven's D-notation) as ``II``. So ``"ECG II"``, ``"Lead II"``, ``"EKG-II"``, ``"ii"`` give
    ``"II"``, and ``"ML II"``, ``"ML2"``, ``"ECG MLII"`` give ``"MLII"``; ``"ECG2"`` / ``"ECG 2"``
    (Holter channel numbers, not leads) stay ``"2"``.
    """
    key = _LEAD_PREFIX.sub("", name.strip().upper())
    key = re.sub(r"[\s_-]+", "", key)
    return _LEAD_SPELLINGS.get(key, key)


def lead_order(lead_names: list[str], requested: str | None, record_id: str, units: list[str] | None = None) -> list[int]:
    """The signal indices of the leads to try, in order: ``requested`` alone; else the ECG leads
    (:func:`heartbert_hf.data.lead_units.is_ecg_signal`), :data:`PREFERRED_LEADS` first.

    ``requested`` is a signal name, else a signal index from 0 (digits that name no signal). A name
    several signals share is refused rather than read as the first of them.

    Raises:
        ValueError: ``requested`` is no lead of the record or names several signals (the message gives
            their indices for ``--lead``), or no signal is an ECG lead (an error naming each signal
            with its units and saying to pass ``--lead``).
    """
    from .data.lead_units import is_ecg_signal, non_ecg_signals

    if requested is not None:
        matches = [i for i, name in enumerate(lead_names) if name == requested]
        if len(matches) > 1:
            raise ValueError(
                f"record {record_id} names {len(matches)} signals {requested!r} (signals {', '.join(map(str, matches))}): "
                f"pass the signal index, e.g. --lead {matches[1]}."
            )
        if matches:
            return matches
        if requested.strip().isdigit() and int(requested) < len(lead_names):
            return [int(requested)]
        raise ValueError(f"record {record_id} has no lead {requested!r}; its leads are {lead_names} (--lead takes a name or an index from 0).")
    units = list(units or [None] * len(lead_names))
    ecg = [i for i, (name, unit) in enumerate(zip(lead_names, units)) if is_ecg_signal(name, unit)]
    if not ecg:
        raise ValueError(
            f"record {record_id} has no ECG lead: none of its signals is in voltage units with an ECG name "
            f"({', '.join(non_ecg_signals(lead_names, units))}); pass --lead NAME (or its index) to classify one of them anyway."
        )
    preferred = [i for p in PREFERRED_LEADS for i in ecg if lead_key(lead_names[i]) == p]
    return preferred + [i for i in ecg if i not in preferred]


def choose_lead(lead_names: list[str], requested: str | None, record_id: str, units: list[str] | None = None) -> int:
    """The signal index of ``requested``, else of the first of :data:`PREFERRED_LEADS` present, else of the first ECG lead (see :func:`lead_order`)."""
    return lead_order(lead_names, requested, record_id, units)[0]


def lead_problem(signal: np.ndarray) -> str:
    """Why a lead cannot be classified at all (``""``: it can): no valid sample, or constant
    (:func:`heartbert_hf.ecg_signal.flat_leads` over its valid samples: a disconnected lead)."""
    from .ecg_signal import flat_leads

    valid = signal[np.isfinite(signal)]
    if not valid.size:
        return "holds no valid samples"
    if flat_leads(valid[None])[0]:
        return f"is flat (constant {valid[0]:g}: disconnected?)"
    return ""


NEGATIVE_QRS_POLARITY = -0.3
"""A lead named MLII or II whose median QRS polarity (:func:`qrs_polarity`) is below this gets a note.
Measured with the reference beats: upright on 21 of the 22 MIT-BIH DS1 MLII leads (medians +0.06 to
+0.90; 207 is -0.98) and on 26 of the 27 PTB-XL lead IIs of the shared subset (detected beats; one at
-0.80); every one of those leads, negated, falls to -0.06 or below, most under -0.3."""


def qrs_polarity(signal: np.ndarray, sampling_rate: float, r_peaks: np.ndarray) -> float:
    """Median over beats of ``(A+ - A-) / (A+ + A-)``: +1 for an all-positive QRS, -1 for an all-negative one.

    ``A+`` / ``A-`` are the largest deflections above / below the baseline (the median of the lead over
    ±0.5 s) within ±80 ms of each R peak; beats without ±0.5 s of valid lead around them are skipped.

    Args:
        signal: ``(samples,)`` the lead (any units; NaN where invalid).
        sampling_rate: Hz.
        r_peaks: ``(n_beats,)`` sample numbers.

    Returns:
        the median polarity in [-1, 1], or NaN when no beat can be measured.
    """
    qrs, around = int(round(0.08 * sampling_rate)), int(round(0.5 * sampling_rate))
    values = []
    for peak in np.asarray(r_peaks, dtype=np.int64):
        if peak - around < 0 or peak + around > len(signal):
            continue
        segment = signal[peak - around : peak + around]
        if not np.isfinite(segment).all():
            continue
        window = signal[peak - qrs : peak + qrs + 1] - np.median(segment)
        up, down = max(window.max(), 0.0), max(-window.min(), 0.0)
        if up + down > 0:
            values.append((up - down) / (up + down))
    return float(np.median(values)) if values else float("nan")


def inverted_lead_note(lead_name: str, signal: np.ndarray, sampling_rate: float, r_peaks: np.ndarray) -> str:
    """A note when a lead named MLII or II (:func:`lead_key`) has mostly negative QRS complexes
    (:func:`qrs_polarity` below :data:`NEGATIVE_QRS_POLARITY`), else ``""``: reversed electrodes, or an
    unusual axis; the classifier was trained on upright MLII and its labels change when the lead is
    inverted (MIT-BIH 119's MLII negated: 18 % of the labels of its first 300 s changed)."""
    if lead_key(lead_name) not in PREFERRED_LEADS:
        return ""
    polarity = qrs_polarity(signal, sampling_rate, r_peaks)
    if not polarity < NEGATIVE_QRS_POLARITY:
        return ""
    return (
        f"lead {lead_name}'s QRS complexes are mostly negative (median polarity {polarity:+.2f}; an upright {lead_key(lead_name)} is "
        "positive): reversed electrodes or an unusual heart axis; the classifier was trained on upright MLII, so treat these "
        "labels as unreliable (if the lead is inverted, negate it and classify again)"
    )
