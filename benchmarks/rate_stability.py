"""Do a beat classifier's labels survive resampling? classify-beats on the same ECG stored at other rates.

    OMP_NUM_THREADS=1 python benchmarks/rate_stability.py [--model M] [--records DIR/208 ...] [--rates 250 500 1000]

Every HeartBert input is resampled to 360 Hz, so a record stored at 500 or 1000 Hz should get the
labels it gets at 360 Hz. For each record (default: the three MIT-BIH excerpts shipped with the
package) and rate, this writes the MLII lead resampled with ``scipy.signal.resample_poly`` (16-bit,
0.005 mV steps, as MIT-BIH) and its reference beats moved to the new rate (``wfdb.wrsamp`` /
``wfdb.wrann``) into a temporary folder, runs ``heartbert classify-beats --use_reference_beats`` on the
original and on each copy (the same beats, so only the signal's rate differs), and counts the beats
whose label changed. Prints one line per record and rate and the pooled share; ``--output`` writes
JSON. Never part of the test run.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np

SAMPLE = Path(__file__).resolve().parents[1] / "heartbert_hf" / "sample_data"


def labels_of(record: Path, model: str | None, out: Path) -> tuple[np.ndarray, list[str]]:
    """``(times in s, labels)`` of every beat classify-beats labels in ``record`` (Q included)."""
    from heartbert_hf.classify_beats import main

    argv = ["--record", str(record), "--output_dir", str(out), "--use_reference_beats", "--torch_threads", "1"]
    if main(argv + (["--model", model] if model else [])) != 0:
        raise RuntimeError(f"classify-beats failed on {record}")
    with (out / f"{record.name}_beats.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    return np.array([float(r["time_s"]) for r in rows]), [r["label"] for r in rows]


def resampled_copy(record: Path, rate: int, folder: Path) -> Path:
    """``record``'s MLII lead and reference beats at ``rate`` Hz, written as a WFDB record in ``folder``."""
    import wfdb
    from scipy.signal import resample_poly

    rec = wfdb.rdrecord(str(record), channel_names=["MLII"])
    ann = wfdb.rdann(str(record), "atr")
    ratio = Fraction(rate, int(rec.fs))
    signal = resample_poly(rec.p_signal[:, 0], ratio.numerator, ratio.denominator)
    name = f"{record.name}_{rate}"
    wfdb.wrsamp(name, fs=rate, units=["mV"], sig_name=["MLII"], p_signal=signal[:, None], fmt=["16"], adc_gain=[200.0], baseline=[0], write_dir=str(folder))
    samples = np.round(ann.sample * rate / rec.fs).astype(np.int64)
    keep = samples < len(signal)
    wfdb.wrann(name, "atr", samples[keep], symbol=list(np.asarray(ann.symbol)[keep]), fs=rate, write_dir=str(folder))
    return folder / name


def main(argv: list[str] | None = None) -> int:
    from heartbert_hf.runtime import set_torch_threads

    parser = argparse.ArgumentParser(prog="rate_stability.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="beat classifier folder (default: the shipped one)")
    parser.add_argument("--records", nargs="+", default=[str(SAMPLE / r) for r in ("101", "118", "208")], help="WFDB records with .atr beats and an MLII lead")
    parser.add_argument("--rates", nargs="+", type=int, default=[250, 500, 1000], help="rates (Hz) to store the copies at")
    parser.add_argument("--output", default=None, help="JSON file for the results")
    args = parser.parse_args(argv)
    set_torch_threads(1)
    t0 = time.time()
    rows, changed, total = [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for record in map(Path, args.records):
            base = labels_of(record, args.model, tmp / "out")
            for rate in args.rates:
                copy = labels_of(resampled_copy(record, rate, tmp), args.model, tmp / "out")
                n = min(len(base[0]), len(copy[0]))  # the same reference beats, in order
                if np.abs(base[0][:n] - copy[0][:n]).max() > 0.005:
                    raise RuntimeError(f"{record.name} at {rate} Hz: the beats do not line up")
                common = [i for i in range(n) if base[1][i] != "Q" and copy[1][i] != "Q"]  # classified in both
                flips = sum(base[1][i] != copy[1][i] for i in common)
                changed, total = changed + flips, total + len(common)
                rows.append({"record": record.name, "rate": rate, "beats": len(common), "changed": flips})
                print(f"{record.name} at {rate} Hz: {flips} of {len(common)} labels changed ({100 * flips / max(len(common), 1):.1f} %)")
    summary = f"pooled: {changed} of {total} labels changed ({100 * changed / max(total, 1):.2f} %); wall {time.time() - t0:.0f} s, {platform.machine()} CPU, 1 thread"
    print(summary)
    if args.output:
        Path(args.output).write_text(json.dumps({"model": args.model or "shipped", "rows": rows, "summary": summary}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
