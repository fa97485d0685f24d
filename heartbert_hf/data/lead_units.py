"""Which signals of a WFDB record are ECG leads, by their physical units and names, and how to name a signal.

A WFDB record often carries other waveforms next to the ECG: the PhysioNet/CinC 2015 alarm records
(ECG II, V + PLETH in ``NU``, ABP in ``mmHg``), MIMIC waveform records, polysomnography. The header's
units tell most of them apart: an ECG lead is a voltage (``mV``, ``uV``, ``V``, ...). A signal whose
units field is absent is in millivolts (the WFDB default, header(5)). Polysomnography records
(MIT-BIH Polysomnographic Database, Sleep-EDF, SHHS, MESA) store EEG, EOG and EMG in voltage units
too, so a signal is also no ECG lead when its name is a standard non-ECG one (:func:`is_non_ecg_name`:
``EEG (C4-A1)``, ``EOG(L)``, ``EMG``, ``Resp``, or 10-20 EEG electrodes such as ``C4-A1``, ``Fpz-Cz``,
``O2-A1``). ``heartbert embed`` and ``heartbert classify-beats`` leave the other signals out by
default (``--leads`` / ``--lead`` include one explicitly).

A signal line's description (its name) is optional too (header(5)); ``wfdb`` reads it as ``None``.
Such a signal is named by its index, ``"0"``, ``"1"``, ... (as ``heartbert embed`` names the rows of
an ECG given without lead names), so that ``leads=["1"]`` / ``--lead 1`` select it.
"""

from __future__ import annotations

import re

MILLIVOLTS_PER_UNIT = {
    "mv": 1.0,
    "millivolt": 1.0,
    "millivolts": 1.0,
    "uv": 1e-3,
    "µv": 1e-3,
    "μv": 1e-3,
    "microvolt": 1e-3,
    "microvolts": 1e-3,
    "nv": 1e-6,
    "v": 1e3,
    "volt": 1e3,
    "volts": 1e3,
}
"""Voltage units of WFDB signals (compared without case or surrounding spaces) → millivolts per unit."""

DEFAULT_UNITS = "mV"
"""The units of a WFDB signal whose header gives none (header(5))."""


def millivolts_per_unit(unit: str | None) -> float | None:
    """mV per ``unit`` (``None`` or ``""``: the WFDB default, mV); ``None`` when ``unit`` is not a voltage."""
    key = (unit or DEFAULT_UNITS).strip().lower() or DEFAULT_UNITS.lower()
    return MILLIVOLTS_PER_UNIT.get(key)


def is_voltage(unit: str | None) -> bool:
    """Whether a WFDB signal in ``unit`` can be an ECG lead (a voltage; no units: mV, the WFDB default)."""
    return millivolts_per_unit(unit) is not None


NON_ECG_WORDS = (
    "EEG", "iEEG", "SEEG", "ECoG", "EOG", "EMG", "ERG", "ENG", "EDA", "GSR", "Resp", "Respiration", "Thor", "Abdo", "Flow", "Airflow", "Nasal", "Snore", "SpO2", "SaO2", "Pleth", "PPG", "Chin", "Leg", "LLeg", "RLeg", "Tib", "Position", "Temp",
    "Light", "Marker", "Event",
)  # fmt: skip
"""First words (compared without case, followed by no letter) of signal names that are no ECG lead, whatever their
units: EEG / EOG / EMG and the other polysomnography channels (names as in the MIT-BIH Polysomnographic
Database, Sleep-EDF, SHHS and MESA: ``EEG (C4-A1)``, ``EEG Fpz-Cz``, ``EOG(L)``, ``EMG submental``, ``Resp (sum)``,
``THOR RES``). Not ``Abdomen``: the abdominal leads of fetal ECG records (``Abdomen_1``) are ECG."""

_NON_ECG_WORD = re.compile(r"^\s*(?:" + "|".join(NON_ECG_WORDS) + r")(?![a-z])", re.IGNORECASE)
_ELECTRODE = re.compile(r"^(?:(?:Fp|AF|FC|FT|CP|TP|PO|F|C|T|P|O|A|M)(?:z|\d{1,2})|LOC|ROC|E[12])$", re.IGNORECASE)
"""An EEG / EOG electrode of the international 10-20 / 10-10 system (``Fp1``, ``Fpz``, ``C4``, ``O2``, ``T7``, the
references ``A1`` / ``M2``) or an EOG electrode as polysomnography montages name it (``LOC``, ``ROC``, ``E1``, ``E2``)."""

_CHEST_LEAD = re.compile(r"^C[1-6]$", re.IGNORECASE)
"""``C1``..``C6``: the chest leads V1..V6 in IEC naming, so a bare ``C4`` is an ECG lead; ``C4-A1`` is EEG."""


def is_non_ecg_name(name: str | None) -> bool:
    """Whether a signal name says the signal is no ECG lead whatever its units: it starts with a word of
    :data:`NON_ECG_WORDS` (``EEG (C4-A1)``, ``EOG(L)``, ``Resp (sum)``), or it is an EEG derivation of
    10-20 electrodes (``C4-A1``, ``Fpz-Cz``, ``O2-A1``, ``F3:M2``) or a single electrode other than ``C1``..``C6``."""
    text = str(name or "").strip()
    if not text:
        return False
    if _NON_ECG_WORD.match(text):
        return True
    parts = [p for p in re.split(r"\s*[-–:/]\s*|\s+", text) if p]
    if not parts or not all(_ELECTRODE.match(p) for p in parts):
        return False
    return len(parts) > 1 or not _CHEST_LEAD.match(parts[0])


def is_ecg_signal(name: str | None, unit: str | None) -> bool:
    """Whether a signal can be an ECG lead: in voltage units (:func:`is_voltage`) and not named as another signal (:func:`is_non_ecg_name`)."""
    return is_voltage(unit) and not is_non_ecg_name(name)


def signal_names(names) -> list[str]:
    """The signal names of a WFDB header, each unnamed signal (``None`` or blank) named by its index as text."""
    return [str(i) if name is None or not str(name).strip() else str(name) for i, name in enumerate(names)]


def non_ecg_signals(names: list[str], units: list[str | None]) -> list[str]:
    """``"NAME [units]"`` for each signal that is no ECG lead (see :func:`is_ecg_signal`), with its index when names repeat."""
    units = list(units or [None] * len(names))
    return [f"{lead_label(names, i)} [{unit or DEFAULT_UNITS}]" for i, unit in enumerate(units[: len(names)]) if not is_ecg_signal(names[i], unit)]


def lead_label(names: list[str], index: int) -> str:
    """How messages name signal ``index``: its name, with its index when another signal has the same name
    (``"ECG (signal 1)"``: Holter records such as the Long-Term AF Database name every signal ``ECG``)."""
    name = names[index]
    return f"{name} (signal {index})" if names.count(name) > 1 else name
