"""Which signals of a WFDB record are ECG leads, by their physical units, and the names of unnamed signals.

A WFDB record often carries other waveforms next to the ECG: the PhysioNet/CinC 2015 alarm records
(ECG II, V + PLETH in ``NU``, ABP in ``mmHg``), MIMIC waveform records, polysomnography. The header's
units tell them apart: an ECG lead is a voltage (``mV``, ``uV``, ``V``, ...). A signal whose units
field is absent is in millivolts (the WFDB default, header(5)). ``heartbert embed`` and
``heartbert classify-beats`` leave the other signals out by default (``--leads`` / ``--lead``
include one explicitly).

A signal line's description (its name) is optional too (header(5)); ``wfdb`` reads it as ``None``.
Such a signal is named by its index, ``"0"``, ``"1"``, ... (as ``heartbert embed`` names the rows of
an ECG given without lead names), so that ``leads=["1"]`` / ``--lead 1`` select it.
"""

from __future__ import annotations

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


def signal_names(names) -> list[str]:
    """The signal names of a WFDB header, each unnamed signal (``None`` or blank) named by its index as text."""
    return [str(i) if name is None or not str(name).strip() else str(name) for i, name in enumerate(names)]


def non_ecg_signals(names: list[str], units: list[str | None]) -> list[str]:
    """``"NAME [units]"`` for each signal whose units are not a voltage (see :func:`is_voltage`)."""
    return [f"{name} [{unit}]" for name, unit in zip(names, units) if not is_voltage(unit)]
