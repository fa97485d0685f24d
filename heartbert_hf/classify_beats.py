"""``heartbert classify-beats``: label every heartbeat of a WFDB record as AAMI N/S/V/F.

    heartbert classify-beats --record /data/mitdb/208                       # one record
    heartbert classify-beats --record /data/holter/ --output_dir labels/    # every record in a folder
    heartbert classify-beats --record 208 --use_reference_beats --lead V1

For each record: read one lead (``--lead``, a name or index; default MLII, else II, else the first ECG
lead, i.e. in voltage units; a default lead that is flat or gives no beats is passed over for the
next, with a note) at the record's own sampling rate; find the beats (the reference annotation file's beats with
``--use_reference_beats``, else the R-peak detector of :mod:`heartbert_hf.rhythm`); classify them
with their RR features when the model takes them:

* a **record-context** classifier (``config.beat_context_spans``; the shipped one) reads the whole
  lead in its 4000-sample windows and classifies every beat from the tokens around its R peak,
  centred on the record's median beat (:mod:`heartbert_hf.beat_context`);
* a window classifier cuts ±0.8 s around each R peak (the ``mitdb-aami`` training window,
  :data:`heartbert_hf.tasks.BEAT_SECONDS`), and tokenizes and classifies each beat (a beat
  tokenized into several sequences gets the mean of their class probabilities);

either way a beat whose ±0.8 s runs past the record or holds invalid samples is Q. Then write

* ``<record>.<extension>``: a WFDB annotation file (``wfdb.wrann``; read it with
  ``wfdb.rdann(output_dir/record, extension)``), one annotation per beat at the R peak, in the
  record's own sample numbers (its header's frame rate, as every WFDB annotation file), with symbol
  N, S, V or F (the AAMI class) or Q for a beat that could not be classified (window cut by the
  record's start/end, invalid or flat samples);
* ``<record>_beats.csv``: ``sample, time_s, label, p_<class>...`` per model class, the RR features,
  ``reference`` (AAMI class of the matched reference beat) and ``note`` (why a beat is Q);
* ``<record>_strip.png``: a strip of the lead in its physical units with each beat's label above it.

When the record has reference annotations (``--reference_extension``, default ``atr``, in any case), the detected
beats are matched one-to-one to the reference beats within 150 ms (ANSI/AAMI EC57's window;
``wfdb.processing.compare_annotations``), the reference symbols are mapped to AAMI classes
(:func:`heartbert_hf.data.labels.aami_class`), and the confusion is printed with per-class Se and +P
(both in :mod:`heartbert_hf.beat_reference`).
Both are end to end: a reference beat the detector missed counts against Se, a detected beat with no
reference beat counts against +P. A reference of non-beat annotations only (rhythm changes) is said
to hold no beats, and not compared with.

A folder is processed record by record: a bad record (missing or truncated file, unknown lead, no
beats) is reported in one line naming it and the run goes on (``--on_error skip``, the default) or
stops with the traceback (``--on_error raise``); the bad records are listed at the end. Exit code 0:
every record done; 1: some failed; 2: none done (or bad arguments / model).
"""

from __future__ import annotations

import csv
import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .beat_classifier import BeatClassifier, classify_segments, load_classifier
from .beat_reference import BEAT_CLASSES, UNCLASSIFIED, Reference, compare_with_reference, format_comparison, reference_beats
from .data.record_case import header_file
from .data.wfdb_io import read_header, record_path
from .lead_choice import inverted_lead_note, lead_order, lead_problem
from .runtime import THREADS_HELP, HelpFormatter, set_torch_threads

MIN_PLAUSIBLE_RATE = 30.0
"""Beats per minute under which the summary warns that the detector is probably missing beats."""

MAX_REFERENCE_Q_FRACTION = 0.1
"""Share of AAMI Q (paced, unclassifiable) reference beats above which the summary warns that the
labels mean little: the classifier never saw a paced beat (AAMI EC57 and de Chazal et al. 2004 leave
the paced records 102, 104, 107, 217 out). Measured with the shipped record-context classifier on those
four records (reference beats): 7,942 of their 8,028 AAMI Q beats labelled N, so a paced rhythm reads as
normal, and their few true V beats are missed (107: none of 59 labelled V; 46 N, 13 S). The beat-window classifier it
replaced labelled most paced beats V instead (107: 1,904 of 2,078)."""

MIN_CONTEXT_BEATS = 3
"""A record-context classifier leaves a record's beats unclassified (Q) when fewer than this many can be
classified: each beat is judged against the record's median beat, and with one or two beats that median
is the beat itself, so its centred vector is zero and only the RR features are left (measured with the
classifier's earlier, inverse-frequency-weighted head: a V beat of sample 208, alone in a 2.2-s excerpt,
came out N at p 0.90)."""

SHORT_CONTEXT_S = 240.0
"""A record shorter than this (s) gets a warning that a record-context classifier's labels are unstable:
the record's median beat, which every beat is judged against, still moves. Measured with
``benchmarks/context_length_stability.py`` on the three 10-min sample excerpts: the labels of the first
10-120 s differ from the whole record's on up to 80 % (101 at 10 s), 6 % (118 at 45 s) and 46 % (208 at
10 s) of beats; from 240 s on, on at most 4.1 %."""

BEATS_PER_CALL = 256
"""Beats tokenized and classified at a time: memory stays bounded on a 24-hour record."""

MIN_PLOT_SECONDS = 0.5
"""Shortest ``--plot_seconds``: a strip of less than about one beat shows no label."""


@dataclass
class ClassifyBeatsArguments:
    """Options of ``heartbert classify-beats``."""

    record: str = field(
        metadata={"help": "WFDB record (with or without .hea), an EDF file, or a folder of records (its RECORDS file, else every *.hea, *.edf)"}
    )
    model: str | None = field(
        default=None, metadata={"help": "fine-tuned HeartBert beat classifier folder or Hub id with its tokenizer (default: the shipped heartbert-aami-ds1)"}
    )
    output_dir: str = field(default="heartbert-runs/beats", metadata={"help": "where the annotation files, CSVs and strip plots go"})
    lead: str | None = field(
        default=None, metadata={"help": "lead (signal) name or index to classify on (default: MLII, else II, else the first lead in voltage units)"}
    )
    use_reference_beats: bool = field(default=False, metadata={"help": "take the beat positions from the reference annotations instead of the R-peak detector"})
    reference_extension: str = field(default="atr", metadata={"help": "annotator of the reference annotations (compared against when the file exists)"})
    extension: str = field(
        default="hbt", metadata={"help": "annotator (file extension) of the annotation file written: letters only (a WFDB rule), not the --reference_extension"}
    )
    plot_seconds: float = field(default=10.0, metadata={"help": "length of the strip plot in seconds"})
    plot_start: float | None = field(default=None, metadata={"help": "start of the strip plot in seconds (default: the stretch with the most non-N beats)"})
    batch_size: int = field(
        default=0, metadata={"help": "sequences per forward pass (0: heartbert_hf.inference's default, a token budget on CPU, 64 on a GPU)"}
    )
    precision: str = field(default="fp32", metadata={"help": "fp32 | bf16 | int8 (dynamic quantization, CPU only); a GPU is used when torch sees one"})
    max_length: int = field(default=0, metadata={"help": "tokens per sequence (0: the model's positions - 2, at most 512)"})
    on_error: str = field(default="skip", metadata={"help": "skip: report a bad record in one line and go on; raise: stop with its traceback"})
    torch_threads: int = field(default=0, metadata={"help": THREADS_HELP})


@dataclass
class RecordResult:
    """What :func:`classify_record` found and wrote for one record."""

    record_id: str
    lead: str
    sampling_rate: float
    beat_source: str
    samples: np.ndarray  # (n_beats,) R-peak sample numbers of the lead (its own rate)
    labels: list[str]  # (n_beats,) N/S/V/F or Q
    probs: np.ndarray  # (n_beats, n_classes); NaN rows for unclassified beats
    files: list[Path]
    duration_s: float
    comparison: dict | None = None
    outside_reference: int = 0  # reference beats past the record's end (or before its start), ignored
    reference_q: tuple[int, int] = (0, 0)  # (AAMI Q reference beats, all reference beats) inside the record
    reference_file: str = ""  # name of the reference annotation file read ("" when none)
    notes: list[str] = field(default_factory=list)  # what the summary should say: a lead passed over, a reference without beats


def check_extensions(extension: str, reference_extension: str) -> None:
    """Refuse an ``--extension`` ``wfdb.wrann`` cannot write, or one that would write over the reference annotations.

    Checked before any record is read, so a bad value costs no classification run.

    Raises:
        ValueError: ``extension`` is empty or holds anything but ASCII letters (``wfdb.wrann`` writes
            letters only), or equals ``reference_extension`` in any case (``ATR`` is the same file
            as ``atr`` on a case-insensitive file system).
    """
    example = "hbt" if reference_extension != "hbt" else "hbx"
    if not (extension.isascii() and extension.isalpha()):
        raise ValueError(f"--extension {extension!r}: a WFDB annotator must be letters only (wfdb.wrann's rule), e.g. {example}.")
    if extension.lower() == reference_extension.lower():
        raise ValueError(
            f"--extension {extension!r} is the reference annotations' extension (--reference_extension): the labels would "
            f"overwrite or pose as the reference; choose another, e.g. {example}."
        )


# ------------------------------------------------------------------ beats
def unclassifiable(signal: np.ndarray, samples: np.ndarray, sampling_rate: float, half_seconds: float) -> list[str]:
    """Why each beat cannot be classified (``""``: it can).

    A beat whose ``±half_seconds`` window runs past the record's start or end is not classified:
    the model was trained on whole windows only (``mitdb-aami`` drops cut beats), and
    :func:`heartbert_hf.rhythm.beat_segments` would pad it with repeated edge samples. Nor is a
    beat whose window holds invalid (NaN) samples.

    Args:
        signal: the lead, ``(n_samples,)``, NaN where samples are invalid.
        samples: ``(n_beats,)`` R-peak sample numbers.
        sampling_rate: Hz.
        half_seconds: half-width of the window.
    """
    half = int(round(half_seconds * sampling_rate))
    invalid = np.concatenate([[0], np.cumsum(~np.isfinite(signal))])  # invalid samples before index i
    notes = []
    for s in np.asarray(samples, dtype=np.int64):
        lo, hi = s - half, s + half + 1
        if lo < 0 or hi > len(signal):
            notes.append("window cut by the record boundary")
        elif invalid[hi] - invalid[lo]:
            notes.append("invalid samples in the window")
        else:
            notes.append("")
    return notes


def find_beats(signal: np.ndarray, sampling_rate: float, reference, use_reference: bool, record_id: str, extension: str) -> tuple[np.ndarray, str]:
    """R-peak sample numbers: the reference beats (a :class:`~heartbert_hf.beat_reference.Reference`), or
    :func:`heartbert_hf.rhythm.detect_r_peaks` on ``signal``.

    Raises:
        ValueError: ``use_reference`` without reference annotations, or with a file of no beat annotations.
    """
    from .rhythm import detect_r_peaks

    if use_reference:
        if reference is None:
            raise ValueError(f"record {record_id} has no reference annotations ({record_id}.{extension}); drop --use_reference_beats to detect the beats.")
        if not len(reference.samples) and not reference.outside:
            raise ValueError(f"record {record_id}: {reference.no_beats()}; drop --use_reference_beats to find the beats with the R-peak detector.")
        return reference.samples, f"reference annotations ({reference.file.name[len(record_id) + 1 :]})"
    if not np.isfinite(signal).any():
        raise ValueError(f"record {record_id}: the lead holds no valid samples.")
    return np.asarray(detect_r_peaks(signal, sampling_rate), dtype=np.int64), "R-peak detector"


def read_lead(path: Path, args: ClassifyBeatsArguments) -> tuple[str, object, int, np.ndarray, np.ndarray | None, list[str]]:
    """Read the lead to classify: ``(lead, record, row of the lead in record.signal, signal in mV for detection, detected R peaks or None, notes)``.

    ``lead`` names the lead for messages, with its signal index when another signal has the same name
    (:func:`heartbert_hf.data.lead_units.lead_label`). Without ``--lead``, a default lead
    (:func:`lead_order`) that is flat, holds no valid sample or gives no R peak is passed over for the
    next ECG lead, with a note. Raises ``ValueError`` when no lead is usable (each one tried named with
    its problem, and --lead suggested), or the ``--lead`` one is not."""
    from .data.lead_units import lead_label, millivolts_per_unit, signal_names
    from .data.wfdb_io import read_record

    record_id = path.stem if path.suffix.lower() == ".edf" else path.name
    try:
        header = read_header(path)
        names, units = signal_names(header.sig_name or []), list(header.units or [])
    except Exception:  # read_record below raises the clear error
        names, units = [], []
    whole = None
    if not names:  # a multi-segment master header names no leads: read them all, then choose
        whole = read_record(path)
        names, units = whole.lead_names, whole.units
    tried = []
    for index in lead_order(names, args.lead, record_id, units):
        lead = lead_label(names, index)
        rec, row = (whole, index) if whole is not None else (read_record(path, leads=[index]), 0)
        signal = np.asarray(rec.signal[row], dtype=np.float64)
        mv = signal * (millivolts_per_unit(rec.units[row] if rec.units else None) or 1.0)  # GQRS thresholds are in mV
        problem, peaks = lead_problem(signal), None
        if not problem and not args.use_reference_beats:
            peaks = find_beats(mv, float(rec.sampling_rate), None, False, record_id, args.reference_extension)[0]
            problem = "" if len(peaks) else "gives no beats (R-peak detector)"
        if not problem:
            notes = [f"lead {t}; classified on lead {lead} instead (--lead chooses the lead)" for t in tried]
            return lead, rec, row, mv, peaks, notes
        if args.lead is not None:
            raise ValueError(f"record {record_id}, lead {lead} {problem}; its leads are {names}: pass another --lead.")
        tried.append(f"{lead} {problem}")
    raise ValueError(f"record {record_id}: no lead to classify: lead " + "; lead ".join(tried) + f" (its leads: {names}); pass --lead to choose one.")


# ------------------------------------------------------------------ one record
def _record_path(item: str | Path) -> Path:
    path = Path(item)
    if path.suffix.lower() == ".edf" and path.is_file():  # read through wfdb's EDF reader (data/edf_io.py)
        return path
    stem = record_path(path)  # data/101.hea, data/101.dat -> data/101, as read_record takes it
    if header_file(stem) is None:
        raise FileNotFoundError(f"record {item}: no WFDB header {stem}.hea (pass a record path without extension, or a folder of records).")
    return stem


def output_name(record_id: str) -> str:
    """The name of a record's output files: ``record_id`` with every run of characters a WFDB record name
    cannot hold (``wfdb.wrann`` takes letters, digits, ``-`` and ``_``) replaced by ``_``
    (``"patient 01"`` -> ``"patient_01"``, ``"rec.2024"`` -> ``"rec_2024"``)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", record_id) or "record"


def check_output_names(paths: list[Path]) -> None:
    """Refuse, before any work, records whose outputs would have the same :func:`output_name` (one would overwrite the other)."""
    seen: dict[str, Path] = {}
    for path in paths:
        name = output_name(path.stem if path.suffix.lower() == ".edf" else path.name)
        if name in seen:
            raise ValueError(
                f"records {seen[name]} and {path} would both write their outputs as {name} ({name}_beats.csv, ...): "
                "rename one, or classify them into separate --output_dir folders."
            )
        seen[name] = path


def list_records(item: str) -> list[Path]:
    """The record paths of ``--record``: one record, or every record of a folder (``~`` is the home folder)."""
    from .data.record_files import list_local_records

    path = Path(item).expanduser()
    if path.is_dir():
        names = list_local_records(path)
        if not names:
            raise FileNotFoundError(f"no records (WFDB *.hea headers or *.edf files) in folder {path}.")
        return [path / name for name in names]
    return [_record_path(path)]


def strip_start(samples: np.ndarray, labels: list[str], sampling_rate: float, seconds: float) -> float:
    """Start (s) of the ``seconds``-long strip holding the most non-N beats (0 when all are N)."""
    times = np.asarray(samples, dtype=np.float64) / sampling_rate
    ectopic = np.asarray([lab != "N" for lab in labels], dtype=bool)
    if not ectopic.any():
        return 0.0
    starts = np.maximum(times[ectopic] - 0.5, 0.0)
    counts = [int(((times[ectopic] >= s) & (times[ectopic] < s + seconds)).sum()) for s in starts]
    return float(starts[int(np.argmax(counts))])


def classify_record(path: Path, clf: BeatClassifier, args: ClassifyBeatsArguments, progress=None) -> RecordResult:
    """Find, classify and write the beats of one record (see the module doc).

    Raises:
        FileNotFoundError, ValueError: a missing/corrupt record, an unknown lead, no beats found;
            the message names the record.
    """
    import wfdb

    from .plotting import plot_beat_labels
    from .rhythm import RR_FEATURE_NAMES, beat_segments, broken_intervals, rr_features
    from .tasks import BEAT_SECONDS

    check_extensions(args.extension, args.reference_extension)
    record_id = path.stem if path.suffix.lower() == ".edf" else path.name
    lead, rec, i, detect_on, detected, notes_out = read_lead(path, args)
    signal = np.asarray(rec.signal[i], dtype=np.float64)
    fs = float(rec.sampling_rate)
    try:
        frame_rate = float(read_header(path).fs)
    except Exception:
        frame_rate = fs
    per_frame = fs / (frame_rate or fs)  # a lead with k samples per frame runs at k x the header's fs
    reference = reference_beats(path.with_name(record_id), args.reference_extension, frame_rate or fs, fs, len(signal))
    unit = rec.units[i] if rec.units else "mV"
    if detected is None:
        samples, source = find_beats(detect_on, fs, reference, args.use_reference_beats, record_id, args.reference_extension)
    else:
        samples, source = detected, "R-peak detector"
    if reference is not None and reference.no_beats():
        notes_out.append(f"{reference.no_beats()}: no Se/+P comparison")
    if len(samples) == 0:  # only the reference can give none: read_lead found beats on the lead
        raise ValueError(f"record {record_id}, lead {lead}: no beats found ({source}): {reference.no_beats()}.")
    inverted = inverted_lead_note(rec.lead_names[i], signal, fs, samples)
    if inverted:
        notes_out.append(inverted)
    rhythm = rr_features(samples, fs, broken_intervals(signal, samples, fs))  # (n_beats, n_features); gaps left out
    notes = unclassifiable(signal, samples, fs, BEAT_SECONDS)
    half = int(round(BEAT_SECONDS * fs))
    ok = np.asarray([note == "" for note in notes], dtype=bool)
    probs = np.full((len(samples), len(clf.labels)), np.nan)
    ok_idx = np.flatnonzero(ok)
    context = bool(getattr(clf.model.config, "beat_context_spans", None))
    if context and 0 < len(ok_idx) < MIN_CONTEXT_BEATS:  # no typical beat to compare with
        for i in ok_idx:
            notes[i] = f"fewer than {MIN_CONTEXT_BEATS} classifiable beats in the record to compare with (record-context classifier)"
        ok_idx = ok_idx[:0]
    elif context and len(signal) / fs < SHORT_CONTEXT_S:
        notes_out.append(
            f"the record is {len(signal) / fs:.0f} s long; the record-context classifier judges each beat against the record's "
            f"median beat, which is unstable under {SHORT_CONTEXT_S:.0f} s (measured on MIT-BIH excerpts: up to 80 % of the labels of the "
            "first 10 s differ from the whole record's): treat these labels as candidates to review"
        )
    if context and len(ok_idx):  # the record read as a whole
        from .beat_context import record_beat_probabilities

        features = None if clf.rhythm_columns is None else rhythm[ok_idx][:, clf.rhythm_columns]
        probs[ok_idx] = record_beat_probabilities(
            clf.model,
            clf.processor,
            signal,
            fs,
            samples[ok_idx],
            features,
            clf.max_length,
            batch_size=args.batch_size or None,
            precision=args.precision,
            progress=progress,
        )
        ok_idx = ok_idx[:0]
    elif progress is not None:
        progress.reset(total=len(ok_idx))
    for start in range(0, len(ok_idx), BEATS_PER_CALL):
        idx = ok_idx[start : start + BEATS_PER_CALL]
        lo, hi = samples[idx[0]] - half, samples[idx[-1]] + half + 1  # the stretch these whole windows span
        segments = list(beat_segments(signal[lo:hi], fs, samples[idx] - lo, BEAT_SECONDS)[:, 0])  # (beats, width)
        probs[idx] = classify_segments(clf, segments, fs, rhythm[idx], args.batch_size or None, args.precision)
        if progress is not None:
            progress.update(len(idx))
    flat = ok & np.isnan(probs).any(axis=1) & np.array([n == "" for n in notes], dtype=bool)
    for i in np.flatnonzero(flat):
        notes[i] = (
            "its span is not wholly under the lead's tokens (a flat window, a gap, or a last stretch under 1 s)"
            if context
            else "flat window (constant, or dead-lead ADC noise)"
        )
    labels = [clf.labels[int(np.argmax(p))] if np.isfinite(p).all() else UNCLASSIFIED for p in probs]

    out = Path(args.output_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    name = output_name(record_id)
    if name != record_id:
        notes_out.append(f"{record_id!r} is no WFDB record name (letters, digits, - and _ only): the outputs are named {name}")
    ann_file = out / f"{name}.{args.extension}"
    ann_samples = np.round(samples / per_frame).astype(np.int64)  # (n_beats,) in the record's annotation (frame) units
    wfdb.wrann(name, args.extension, ann_samples, symbol=labels, fs=fs / per_frame, write_dir=str(out))

    comparison = None
    if reference is not None and len(reference.samples):
        comparison = compare_with_reference(samples, labels, reference.samples, reference.classes, fs, clf.labels)
    csv_file = out / f"{name}_beats.csv"
    with csv_file.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["sample", "time_s", "label", *[f"p_{c}" for c in clf.labels], *RR_FEATURE_NAMES, "reference", "note"])
        matched = comparison["matched_reference"] if comparison else [""] * len(samples)
        for i, s in enumerate(samples):
            p = ["" if not np.isfinite(v) else f"{v:.4f}" for v in probs[i]]
            rr = [f"{v:.4f}" for v in rhythm[i]]
            writer.writerow([int(ann_samples[i]), f"{s / fs:.3f}", labels[i], *p, *rr, matched[i], notes[i]])

    start = args.plot_start if args.plot_start is not None else strip_start(samples, labels, fs, args.plot_seconds)
    duration = len(signal) / fs
    if start >= duration:  # an --plot_start past the end of a shorter record of a folder: its last strip
        start = max(duration - args.plot_seconds, 0.0)
        notes_out.append(
            f"--plot_start {args.plot_start:g} s is past the end of the record ({duration:.1f} s): the strip shows its last {duration - start:.1f} s"
        )
    files = [ann_file, csv_file]
    try:  # the labels are written: a strip that cannot be drawn is a note, not a failed record
        files.append(
            plot_beat_labels(
                signal,
                fs,
                samples,
                labels,
                out / f"{name}_strip.png",
                start_s=start,
                seconds=args.plot_seconds,
                title=f"record {record_id}, lead {lead}: HeartBert beat labels",
                units=unit,
                reference_labels=comparison["matched_reference"] if comparison else None,
            )
        )
    except ValueError as err:
        notes_out.append(f"no strip plot: {err}")
    ref = reference or Reference(Path(""), np.zeros(0, dtype=np.int64), [])
    reference_q = (ref.classes.count(UNCLASSIFIED), len(ref.classes))
    return RecordResult(
        record_id, lead, fs, source, samples, labels, probs, files, len(signal) / fs, comparison, ref.outside, reference_q, ref.file.name, notes_out
    )


def summarize(result: RecordResult, reference_extension: str) -> str:
    """A few lines on one record: beats per class, files written, and the confusion when there is a reference."""
    counts = {c: result.labels.count(c) for c in (*BEAT_CLASSES, UNCLASSIFIED) if result.labels.count(c)}
    reference_name = result.reference_file or f"{result.record_id}.{reference_extension}"
    rate = 60.0 * len(result.labels) / result.duration_s
    lines = [
        f"record {result.record_id} (lead {result.lead}, {result.sampling_rate:g} Hz, {result.duration_s:.0f} s): "
        f"{len(result.labels)} beats ({rate:.0f}/min) from the {result.beat_source} → "
        + ", ".join(f"{c} {n}" for c, n in counts.items())
        + (" (Q: not classified, see the CSV's note)" if UNCLASSIFIED in counts else ""),
        "  wrote " + ", ".join(str(f) for f in result.files),
    ]
    if rate < MIN_PLAUSIBLE_RATE:
        lines.insert(
            1,
            f"  warning: {rate:.0f} beats/min is implausibly few; the detector may be missing beats on lead {result.lead}: try another --lead, or --use_reference_beats",
        )
    if result.outside_reference:
        lines.insert(
            1,
            f"  warning: {result.outside_reference} reference beat(s) in {reference_name} lie outside the record's "
            f"{result.duration_s:.0f} s and were ignored: is the annotation file from a longer version of the record?",
        )
    for note in result.notes:
        lines.insert(1, f"  note: {note}")
    n_q, n_ref = result.reference_q
    if n_ref and n_q > MAX_REFERENCE_Q_FRACTION * n_ref:
        lines.insert(
            1,
            f"  warning: {n_q} of {n_ref} reference beats in {reference_name} ({100 * n_q / n_ref:.0f} %) are AAMI Q "
            "(paced or unclassifiable); the classifier was trained without them, so its N/S/V/F labels on this record mean little "
            "(the shipped classifier labels paced beats mostly N, and misses V beats among them)",
        )
    if result.comparison is not None:
        lines.append(format_comparison(result.comparison, reference_name))
    return "\n".join(lines)


# ------------------------------------------------------------------ command
def run(args: ClassifyBeatsArguments) -> tuple[list[RecordResult], list[tuple[str, str]]]:
    """Classify every record of ``args.record``; returns ``(results, failures)`` with failures as
    ``(record, one-line reason)``. ``--on_error raise`` re-raises the first failure instead."""
    from tqdm.auto import tqdm

    from .inference import PRECISIONS

    if args.on_error not in ("skip", "raise"):
        raise ValueError(f"--on_error must be skip or raise, got {args.on_error!r}.")
    if args.precision not in PRECISIONS:
        raise ValueError(f"--precision must be one of {PRECISIONS}, got {args.precision!r}.")
    if not (math.isfinite(args.plot_seconds) and args.plot_seconds >= MIN_PLOT_SECONDS):
        raise ValueError(f"--plot_seconds must be a length in seconds of at least {MIN_PLOT_SECONDS:g}, got {args.plot_seconds}.")
    if args.plot_start is not None and not (math.isfinite(args.plot_start) and args.plot_start >= 0):
        raise ValueError(f"--plot_start must be a time in seconds from the record start, 0 or more, got {args.plot_start}.")
    check_extensions(args.extension, args.reference_extension)
    set_torch_threads(args.torch_threads)
    paths = list_records(args.record)
    check_output_names(paths)
    clf = load_classifier(args.model, args.max_length)
    results, failures = [], []
    # progress bars only on a terminal (disable=None), so logs and pipes get clean lines
    for path in tqdm(paths, desc="Records", unit="record", disable=True if len(paths) < 2 else None):
        try:
            with tqdm(desc=f"record {path.name}", unit="beat", leave=False, disable=None) as beats_bar:
                result = classify_record(path, clf, args, beats_bar)
        except Exception as err:
            if args.on_error == "raise":
                raise
            reason = " ".join(str(err).split()) or type(err).__name__
            failures.append((str(path), reason))
            named = reason if reason.startswith(f"record {path.name}") else f"record {path.name}: {reason}"
            tqdm.write(f"heartbert classify-beats: skipped {named}", file=sys.stderr)
            continue
        results.append(result)
        tqdm.write(summarize(result, args.reference_extension))
    return results, failures


def main(argv: list[str] | None = None) -> int:
    """``heartbert classify-beats``: parse ``argv`` and run (see the module doc).

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).

    Returns:
        0 when every record was classified, 1 when some failed, 2 when none was (or on bad arguments).
    """
    from .runtime import HfArgumentParser

    parser = HfArgumentParser(ClassifyBeatsArguments, prog="heartbert classify-beats", description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter)
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    try:
        results, failures = run(args)
    except (ValueError, FileNotFoundError, OSError) as err:
        if args.on_error == "raise":
            raise
        print(f"heartbert classify-beats: error: {' '.join(str(err).split())}", file=sys.stderr)
        return 2
    if failures:
        print(f"\n{len(failures)} of {len(failures) + len(results)} record(s) failed:", file=sys.stderr)
        for record, reason in failures:
            print(f"  {record}: {reason}", file=sys.stderr)
    if not results:
        return 2
    print(f"{sum(len(r.labels) for r in results)} beats in {len(results)} record(s) → {Path(args.output_dir).expanduser()}")
    return 1 if failures else 0
