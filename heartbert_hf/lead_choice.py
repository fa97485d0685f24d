"""Which lead of a record ``heartbert classify-beats`` classifies, and whether a lead can be classified at all.

Default order: :data:`PREFERRED_LEADS` (MLII, else II), then the other ECG leads (voltage units,
:func:`heartbert_hf.data.lead_units.is_voltage`); ``--lead`` (a name or an index) overrides it.
"""

from __future__ import annotations

import numpy as np

PREFERRED_LEADS = ("MLII", "II")
"""Default leads, in order: the classifier was trained on MIT-BIH's modified lead II (MLII), which the
standard limb lead II of a 12-lead ECG approximates best (names compared without case)."""


def lead_order(lead_names: list[str], requested: str | None, record_id: str, units: list[str] | None = None) -> list[str]:
    """The leads to try, in order: ``requested`` (a name, else an index) alone; else the ECG leads
    (voltage units, :func:`heartbert_hf.data.lead_units.is_voltage`), :data:`PREFERRED_LEADS` first.

    Raises:
        ValueError: ``requested`` is no lead of the record, or no lead is in voltage units (an error
            naming each signal with its units and saying to pass ``--lead``).
    """
    from .data.lead_units import is_voltage, non_ecg_signals

    if requested is not None:
        if requested in lead_names:
            return [requested]
        if requested.isdigit() and int(requested) < len(lead_names):
            return [lead_names[int(requested)]]
        raise ValueError(f"record {record_id} has no lead {requested!r}; its leads are {lead_names} (--lead takes a name or an index from 0).")
    units = list(units or [None] * len(lead_names))
    ecg = [name for name, unit in zip(lead_names, units) if is_voltage(unit)]
    if not ecg:
        raise ValueError(
            f"record {record_id} has no ECG lead: none of its signals is in voltage units ({', '.join(non_ecg_signals(lead_names, units))}); "
            "pass --lead NAME to classify one of them anyway."
        )
    by_name = {name.strip().upper(): name for name in reversed(ecg)}
    preferred = [by_name[p] for p in PREFERRED_LEADS if p in by_name]
    return preferred + [name for name in ecg if name not in preferred]


def choose_lead(lead_names: list[str], requested: str | None, record_id: str, units: list[str] | None = None) -> str:
    """``requested``, else the first of :data:`PREFERRED_LEADS` present, else the first ECG lead (see :func:`lead_order`)."""
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
