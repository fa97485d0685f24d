"""Benchmark: WFDB record → HeartBert token ids, end to end, against the published approach.

End to end means: read the record (wfdb), resample (a no-op at 360 Hz; a 500 Hz copy is timed
separately), window, scale, quantize, BPE-encode (``processor(ecg=..., sampling_rate=...)``, a
``HeartBertProcessor``), both leads.
The published approach (equal-probability breakpoints + a per-sample Python scan, timed on its
quantize-to-text step only, which flatters it) runs in the same process on the same record.

    python benchmarks/preprocess.py --records ../shared/physionet/mitdb/101 ../shared/physionet/mitdb/106
    python benchmarks/preprocess.py                    # the shipped sample (3 x 10 min)
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "heartbert_hf" / "sample_data"
PUBLISHED = REPO.parent / "shared" / "bench" / "published_preprocess.py"


def published_rate(record: str, path: Path, seconds: float) -> float:
    """samples/s of the published quantize-to-text step on lead 0 of ``record`` (its own script's functions)."""
    import wfdb

    source = path.read_text().split("rec = wfdb.rdrecord")[0]  # the functions, not the script part
    spec = importlib.util.spec_from_loader("published_preprocess", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, str(path), "exec"), module.__dict__)
    rec = wfdb.rdrecord(record)
    x = rec.p_signal[: int(seconds * rec.fs), 0]
    x = (x - x.min()) / (x.max() - x.min())
    t0 = time.perf_counter()
    bps = module.breakpoints(x)
    lines = [module.to_text(x[i : i + 4000], bps) for i in range(0, len(x) - 3999, 4000)]
    dt = time.perf_counter() - t0
    return sum(len(line) for line in lines) / dt


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", nargs="*", default=[str(SAMPLE / r) for r in ("101", "208", "118")], help="WFDB record paths (no extension)")
    parser.add_argument("--fit-records", nargs="*", default=None, help="records to fit the quantizer/BPE on (default: the first record)")
    parser.add_argument("--vocab-size", type=int, default=None, help="BPE vocabulary (default: the package default)")
    parser.add_argument("--repeats", type=int, default=3, help="timed passes; the best is reported")
    parser.add_argument("--published", default=str(PUBLISHED), help="path of published_preprocess.py")
    parser.add_argument("--published-seconds", type=float, default=300, help="seconds of signal for the published approach")
    args = parser.parse_args()

    import wfdb
    from scipy.signal import resample_poly

    from heartbert_hf import HeartBertProcessor, HeartBertTokenizer
    from heartbert_hf.tokenization_heartbert import DEFAULT_VOCAB_SIZE

    fit = [wfdb.rdrecord(r).p_signal.T for r in (args.fit_records or args.records[:1])]
    tok = HeartBertTokenizer.train_from_ecg(fit, 360, vocab_size=args.vocab_size or DEFAULT_VOCAB_SIZE, show_progress=False)
    processor = HeartBertProcessor.from_tokenizer(tok)
    extractor = processor.feature_extractor
    print(f"processor: vocab {len(processor.tokenizer)}, {extractor.quantizer}, scaling {extractor.scaling}")

    best = 0.0
    for _ in range(args.repeats):
        n, tokens = 0, 0
        t0 = time.perf_counter()
        for record in args.records:
            rec = wfdb.rdrecord(record)
            enc = processor(ecg=rec.p_signal.T, sampling_rate=rec.fs)
            n += rec.p_signal.size
            tokens += sum(len(ids) for ids in enc["input_ids"])
        best = max(best, n / (time.perf_counter() - t0))
    print(
        f"HeartBert end to end (read+window+scale+quantize+BPE), {len(args.records)} records, {n:,} samples: {best / 1e6:.2f} M samples/s ({n / tokens:.2f} samples/token)"
    )

    signal500 = resample_poly(wfdb.rdrecord(args.records[0]).p_signal.T, 25, 18, axis=-1)
    t0 = time.perf_counter()
    processor(ecg=signal500, sampling_rate=500)
    rate500 = signal500.size / (time.perf_counter() - t0)
    print(f"HeartBert from a 500 Hz array (resample to 360 + the rest): {rate500 / 1e6:.2f} M input samples/s")

    if Path(args.published).is_file():
        theirs = published_rate(args.records[0], Path(args.published), args.published_seconds)
        print(f"published approach (quantize-to-text step only, lead 0): {theirs / 1e6:.3f} M samples/s")
        print(f"ratio HeartBert end to end / published quantize step: {best / theirs:.1f}x")
    else:
        print(f"published approach not found at {args.published}: no ratio")


if __name__ == "__main__":
    main()
