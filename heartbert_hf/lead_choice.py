"""Which lead of a record ``heartbert classify-beats`` classifies, and whether a lead can be classified at all.

Default order: :data:`PREFERRED_LEADS` (MLII, else II), then the other ECG leads (voltage units and
no non-ECG name, :func:`heartbert_hf.data.lead_units.is_ecg_signal`); ``--lead`` (a name or an index)
overrides it. Leads are carried as signal indices, not names: Holter records often name every signal
the same (the Long-Term AF and Sudden Cardiac Death Holter databases: ``ECG``, ``ECG``), so a name
alone does not say which signal is meant.
"""

from __future__ import annotations

import numpy as np

PREFERRED_LEADS = ("MLII", "II")
"""Default leads, in order: the classifier was trained on MIT-BIH's modified lead II (MLII), which the
standard limb lead II of a 12-lead ECG approximates best (names compared without case)."""


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
    preferred = [i for p in PREFERRED_LEADS for i in ecg if lead_names[i].strip().upper() == p]
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
