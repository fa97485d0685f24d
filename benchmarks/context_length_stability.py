"""How long must a record be for the record-context classifier's labels to settle? Labels of each
record's first T seconds against its labels over the whole record.

    OMP_NUM_THREADS=1 python benchmarks/context_length_stability.py [--model M] [--records DIR/118 ...] [--seconds 10 30 60 ...]

A record-context classifier (``config.beat_context_spans``) judges each beat against the record's
median beat vector, so the labels of a beat can change with how much of the record is given. For
each record (default: the three 10-min MIT-BIH excerpts shipped with the package), its reference
beats (N/S/V/F/Q symbols whose ±0.8 s lies inside the excerpt) are classified on the first T seconds
and on the whole record (``heartbert_hf.beat_context.record_beat_probabilities``, the path of
``heartbert classify-beats``, RR features from the same beats); the table gives the share of beats
classified in both whose label differs. ``--output`` writes JSON. Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import numpy as np

SAMPLE = Path(__file__).resolve().parents[1] / "heartbert_hf" / "sample_data"
BEAT_SYMBOLS = set("NLRejAaJSVEFf/Q")


def labels(clf, lead: np.ndarray, fs: float, beats: np.ndarray, n: int, cols: list[int]) -> dict[int, int]:
    """``{R peak: class id}`` of the beats whose ±0.8 s lies in ``lead[:n]``, classified on ``lead[:n]`` alone."""
    from heartbert_hf.beat_context import record_beat_probabilities
    from heartbert_hf.rhythm import rr_features

    half = int(round(0.8 * fs))
    peaks = beats[(beats >= half) & (beats < n - half)]
    probs = record_beat_probabilities(clf.model, clf.processor, lead[:n], fs, peaks, rr_features(peaks, fs)[:, cols], clf.max_length)
    return {int(p): int(np.argmax(row)) for p, row in zip(peaks, probs) if np.isfinite(row).all()}


def main(argv: list[str] | None = None) -> int:
    import wfdb

    from heartbert_hf.beat_classifier import load_classifier
    from heartbert_hf.rhythm import RR_FEATURE_NAMES
    from heartbert_hf.runtime import set_torch_threads

    parser = argparse.ArgumentParser(prog="context_length_stability.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="record-context classifier folder (default: the shipped one)")
    parser.add_argument("--records", nargs="+", default=[str(SAMPLE / r) for r in ("101", "118", "208")], help="WFDB records with .atr beats and an MLII lead")
    parser.add_argument("--seconds", nargs="+", type=float, default=[10, 20, 30, 45, 60, 90, 120, 180, 240, 300, 420], help="excerpt lengths")
    parser.add_argument("--output", default=None, help="JSON file for the table")
    args = parser.parse_args(argv)
    set_torch_threads(1)
    t0 = time.time()
    clf = load_classifier(args.model)
    if not getattr(clf.model.config, "beat_context_spans", None):
        raise SystemExit(f"{args.model or 'the shipped model'} is not a record-context classifier.")
    cols = [RR_FEATURE_NAMES.index(n) for n in clf.model.config.rhythm_feature_names]
    table = {}
    for record in map(Path, args.records):
        rec = wfdb.rdrecord(str(record), channel_names=["MLII"])
        ann = wfdb.rdann(str(record), "atr")
        lead, fs = rec.p_signal[:, 0], float(rec.fs)
        beats = np.array([s for s, sym in zip(ann.sample, ann.symbol) if sym in BEAT_SYMBOLS])
        whole = labels(clf, lead, fs, beats, len(lead), cols)
        row = {}
        for seconds in args.seconds:
            part = labels(clf, lead, fs, beats, int(seconds * fs), cols)
            common = [p for p in part if p in whole]
            row[f"{seconds:g}"] = round(100 * float(np.mean([part[p] != whole[p] for p in common])), 1) if common else None
        table[record.name] = row
        print(f"{record.name} ({len(lead) / fs:.0f} s): " + ", ".join(f"{s} s {v} %" for s, v in row.items()), flush=True)
    print(f"(% of beats whose label differs from the whole-record label; wall {time.time() - t0:.0f} s, {platform.machine()} CPU, 1 thread)")
    if args.output:
        Path(args.output).write_text(json.dumps({"model": args.model or "shipped", "percent_changed": table}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
