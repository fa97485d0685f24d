"""Reference beat annotations of a WFDB record, and the end-to-end comparison of labelled beats with them.

* :func:`reference_beats` reads a record's annotation file (its extension in any case: ``101.ATR``
  too) and keeps the beats, as AAMI classes (:func:`heartbert_hf.data.labels.aami_class`; paced and
  unclassifiable beats are Q). A file of non-beat annotations only (the rhythm-only ``.atr`` of the
  MIT-BIH AF Database) gives no beats: :meth:`Reference.no_beats` says so, and no Se/+P is computed.
* :func:`compare_with_reference` matches labelled beats one-to-one to the reference beats within
  150 ms (ANSI/AAMI EC57's window, ``wfdb.processing.compare_annotations``) and counts the confusion
  with per-class Se and +P, end to end: a reference beat the detector missed counts against Se, a
  detected beat with no reference beat against +P. :func:`format_comparison` prints it.

Used by ``heartbert classify-beats`` (:mod:`heartbert_hf.classify_beats`); wfdb is imported lazily.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

MATCH_WINDOW_S = 0.15
"""Beat-matching tolerance against the reference annotations: 150 ms (ANSI/AAMI EC57)."""

BEAT_CLASSES = ("N", "S", "V", "F")
"""AAMI classes a beat classifier may predict; ``Q`` marks beats left unclassified."""

UNCLASSIFIED = "Q"


@dataclass
class Reference:
    """The reference beats of a record, from its annotation file.

    Attributes:
        file: the annotation file read (its extension in the case found on disk).
        samples: ``(n_beats,)`` sorted unique sample numbers of the beats inside the record, in the
            lead's own samples.
        classes: ``(n_beats,)`` their AAMI classes.
        non_beat: symbol → count of the file's non-beat annotations (rhythm ``+``, noise ``~``, ...).
        outside: reference beats past the record's end (or before its start), dropped.
    """

    file: Path
    samples: np.ndarray
    classes: list[str]
    non_beat: dict[str, int] = field(default_factory=dict)
    outside: int = 0

    def no_beats(self) -> str:
        """Why the file gives no beat to compare with (``""`` when it does)."""
        if len(self.samples):
            return ""
        if self.outside:
            return f"all {self.outside} beat annotations of {self.file.name} lie outside the record"
        kinds = ", ".join(f"{n} x {sym!r}" for sym, n in sorted(self.non_beat.items(), key=lambda kv: -kv[1]))
        held = f"only {sum(self.non_beat.values())} non-beat annotations ({kinds}; e.g. rhythm changes, as the .atr of the MIT-BIH AF Database)"
        return f"{self.file.name} holds no beat annotations: " + (held if self.non_beat else "it is empty")


def reference_beats(path: Path, extension: str, frame_rate: float, lead_rate: float, n_samples: int | None = None) -> Reference | None:
    """The reference beats of a record as AAMI classes, or ``None`` without an annotation file.

    Non-beat annotations (rhythm ``+``, noise ``~``, artefact ``|``, ...) are counted, not kept; paced
    and unclassifiable beats are AAMI class Q; two beat labels on one sample keep the first.

    Args:
        path: the record path without extension.
        extension: the annotator, e.g. ``atr`` (found in any case; a leading dot is ignored).
        frame_rate: the record header's ``fs``: annotation sample numbers count its frames, unless
            the file states the lead's rate as its own resolution
            (:func:`heartbert_hf.data.annotation_time.annotation_samples_in_lead`).
        lead_rate: Hz of the lead the beats are placed in (``frame_rate x`` its samples per frame).
        n_samples: the lead's length; beats outside ``[0, n_samples)`` are dropped and counted.

    Raises:
        ValueError: the annotation file cannot be read, or it states a time resolution that is
            neither the frame rate nor the lead's rate (its beats would land at the wrong times).
    """
    from .data.annotation_time import annotation_samples_in_lead
    from .data.labels import aami_class
    from .data.wfdb_io import read_annotation

    try:
        ann = read_annotation(path, extension.lstrip("."))  # the extension in any case
    except FileNotFoundError:
        return None
    found = path.with_name(f"{path.name}.{ann.extension}")
    lead_samples = annotation_samples_in_lead(ann.sample, ann.fs, frame_rate, lead_rate, f"record {path.name}: {found.name}")
    beats: dict[int, str] = {}
    non_beat: dict[str, int] = {}
    for s, sym in zip(lead_samples, ann.symbol):
        if aami_class(sym) is not None:
            beats.setdefault(int(s), aami_class(sym))
        else:
            non_beat[sym] = non_beat.get(sym, 0) + 1
    samples = np.asarray(sorted(beats), dtype=np.int64)
    inside = (samples >= 0) & (samples < (n_samples if n_samples is not None else np.inf))
    classes = [beats[s] for s in samples[inside]]
    return Reference(found, samples[inside], classes, non_beat, int((~inside).sum()))


def compare_with_reference(
    samples: np.ndarray, labels: list[str], ref_samples: np.ndarray, ref_classes: list[str], sampling_rate: float, model_labels: list[str]
) -> dict:
    """End-to-end confusion of the labelled beats against the reference beats.

    Beats are matched one-to-one within :data:`MATCH_WINDOW_S` (``wfdb.processing.compare_annotations``).

    Args:
        samples, labels: the classified beats (labels N/S/V/F or Q).
        ref_samples, ref_classes: the reference beats and their AAMI classes.
        sampling_rate: Hz of the sample numbers.
        model_labels: the classes the model predicts.

    Returns:
        ``rows`` (reference classes + ``"none"``), ``columns`` (predicted classes + ``Q`` +
        ``"missed"``), ``matrix`` (counts), per-class ``se`` / ``ppv`` (``None`` when undefined),
        beat-detection ``detection_se`` / ``detection_ppv``, ``matched_reference`` (the reference
        class matched to each labelled beat, ``""`` when none).
    """
    from wfdb.processing import compare_annotations

    rows = [c for c in BEAT_CLASSES + (UNCLASSIFIED,)] + ["none"]
    columns = list(model_labels) + [UNCLASSIFIED, "missed"]
    matrix = np.zeros((len(rows), len(columns)), dtype=np.int64)
    matched = [""] * len(samples)
    ref_hit = np.zeros(len(ref_samples), dtype=bool)
    if len(ref_samples) and len(samples):
        comp = compare_annotations(np.asarray(ref_samples), np.asarray(samples), int(round(MATCH_WINDOW_S * sampling_rate)))
        for r, t in enumerate(comp.matching_sample_nums):
            if t >= 0:
                matched[t] = ref_classes[r]
                ref_hit[r] = True
    for t, label in enumerate(labels):
        matrix[rows.index(matched[t] or "none"), columns.index(label)] += 1
    for r in np.flatnonzero(~ref_hit):
        matrix[rows.index(ref_classes[r]), columns.index("missed")] += 1
    se, ppv = {}, {}
    for c in model_labels:
        i, j = rows.index(c), columns.index(c)
        se[c] = float(matrix[i, j] / matrix[i].sum()) if matrix[i].sum() else None
        ppv[c] = float(matrix[i, j] / matrix[:, j].sum()) if matrix[:, j].sum() else None
    n_matched = int(ref_hit.sum())
    return {
        "rows": rows,
        "columns": columns,
        "matrix": matrix,
        "se": se,
        "ppv": ppv,
        "detection_se": n_matched / len(ref_samples) if len(ref_samples) else None,
        "detection_ppv": n_matched / len(samples) if len(samples) else None,
        "matched_reference": matched,
    }


def format_comparison(comp: dict, reference_name: str) -> str:
    """The confusion table and per-class Se / +P as text (rows: reference, columns: HeartBert)."""

    def fmt(v):
        return "    - " if v is None else f"{v:6.3f}"

    width = max(7, max(len(c) for c in comp["columns"]) + 1)
    lines = [f"  against {reference_name} (beats matched within {MATCH_WINDOW_S * 1000:.0f} ms; rows: reference, columns: HeartBert)"]
    lines.append("  " + f"{'':>8}" + "".join(f"{c:>{width}}" for c in comp["columns"]))
    for i, row in enumerate(comp["rows"]):
        if comp["matrix"][i].sum() or row in comp["se"]:
            name = "no ref" if row == "none" else row
            lines.append("  " + f"{name:>8}" + "".join(f"{int(v):>{width}}" for v in comp["matrix"][i]))
    lines.append(f"  {'beats':>8}   Se {fmt(comp['detection_se'])}   +P {fmt(comp['detection_ppv'])}   (beat detection)")
    for c in comp["se"]:
        lines.append(f"  {c:>8}   Se {fmt(comp['se'][c])}   +P {fmt(comp['ppv'][c])}")
    return "\n".join(lines)
