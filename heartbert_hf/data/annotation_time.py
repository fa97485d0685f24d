"""Where a WFDB annotation file's sample numbers fall in a record's leads.

WFDB annotation sample numbers count frames of the header's ``fs`` (WFDB ``annot(5)``), unless the
file states its own time resolution (``wfdb.wrann(fs=...)``, WFDB's high-resolution mode), which
then must be the leads' rate. In a multi-frequency record a lead runs at ``fs x samples per frame``
(:class:`~.wfdb_io.WfdbRecord`), so frame numbers are scaled by ``lead_rate / frame_rate``; a
high-resolution file already counts the lead's samples and is not scaled again. A file at any other
resolution is refused: its sample numbers belong to another version of the record (one resampled
after the annotations were written, say), and read as this record's samples they would place every
beat at the wrong time.

Used by the dataset builders (:func:`heartbert_hf.data.builder_base.read_annotations_in_signal`)
and by ``heartbert classify-beats`` (:func:`heartbert_hf.beat_reference.reference_beats`).
numpy only.
"""

from __future__ import annotations

import math

import numpy as np


def annotation_rate(file_rate: float | None, frame_rate: float, lead_rate: float, where: str) -> float:
    """The rate (Hz) an annotation file's sample numbers count at: the header's frame rate, or the lead's.

    Args:
        file_rate: the file's own time resolution (``wfdb.rdann(...).fs``), ``None``/0/NaN when it states none.
        frame_rate: the record header's ``fs``.
        lead_rate: the lead's rate (``frame_rate x samples per frame``).
        where: the file, for the message, e.g. ``"record 208: 208.atr"``.

    Raises:
        ValueError: the file states a resolution that is neither ``frame_rate`` nor ``lead_rate``.
    """
    if file_rate is None or not math.isfinite(float(file_rate)) or float(file_rate) <= 0:
        return float(frame_rate)
    file_rate = float(file_rate)
    if math.isclose(file_rate, lead_rate, rel_tol=1e-6):
        return float(lead_rate)
    if math.isclose(file_rate, frame_rate, rel_tol=1e-6):
        return float(frame_rate)
    raise ValueError(
        f"{where} counts samples at {file_rate:g} Hz, but the record's frame rate is {frame_rate:g} Hz "
        f"(lead at {lead_rate:g} Hz): is it the annotation file of another version of the record (one resampled since)? "
        f"Write it at {frame_rate:g} Hz (wfdb.wrann(..., fs={frame_rate:g}))."
    )


def annotation_samples_in_lead(samples, file_rate: float | None, frame_rate: float, lead_rate: float, where: str) -> np.ndarray:
    """``(n,)`` int64 lead sample numbers of an annotation file's ``samples`` (see :func:`annotation_rate`).

    Raises:
        ValueError: as :func:`annotation_rate`.
    """
    unit = annotation_rate(file_rate, frame_rate, lead_rate, where)
    samples = np.asarray(samples, dtype=np.int64)
    if math.isclose(unit, lead_rate, rel_tol=1e-9):
        return samples
    return np.round(samples * (float(lead_rate) / unit)).astype(np.int64)
