"""Measurements behind two defaults: the per-window scaling and the BPE vocabulary size.

Record-wise: the quantizer and the BPE are fitted on the first half of the MIT-BIH DS1 records
available, and everything is measured on the other half (never on fitting data).

* Scaling (``minmax`` vs ``robust``): reconstruction SNR of the 100-level quantizer in the
  original millivolts, and level entropy per window, on the held-out records and on the MIT-BIH
  Noise Stress Test excerpts (record 118 with 0-24 dB of added noise).
* Vocabulary: held-out samples per token and tokens per 4000-sample window for vocabularies from
  1k to 52k (one BPE trained at 52k; BPE training is greedy, so its first k merges are the k-vocab
  BPE), the share of the vocabulary actually used on held-out data, and the training compute per
  second of ECG at the published model shape (6 x 768, masked-only LM head, 15 % masking).

    python benchmarks/signal_defaults.py --mitdb ../shared/physionet/mitdb --excerpts ../shared/physionet/excerpts
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import numpy as np

DS1 = ["101", "106", "108", "109", "112", "114", "115", "116", "118", "119", "122", "124", "201", "203", "205", "207", "208", "209", "215", "220", "223", "230"]
VOCABS = [1000, 2000, 4000, 8000, 16000, 32000, 52000]


def snr_db(processor, signal: np.ndarray, scaling: str) -> tuple[float, float]:
    """Quantization SNR (dB, in the signal's own units) and mean level entropy (bits) over windows, with
    ``processor.feature_extractor.quantizer`` (a fitted ``HeartBertProcessor``)."""
    from heartbert_hf.ecg_signal import scale, window_bounds

    quantizer = processor.feature_extractor.quantizer

    err, power, entropies = 0.0, 0.0, []
    for lead in signal:
        for start, stop in window_bounds(lead.size):
            x = lead[start:stop]
            if x.max() == x.min():
                continue
            s = scale(x, scaling)
            ids = quantizer.encode(s)
            if scaling == "minmax":
                lo, hi = x.min(), x.max()
            else:
                lo, hi = np.percentile(x, (0.5, 99.5))
            recon = lo + quantizer.decode(ids) * (hi - lo)
            err += np.sum((recon - x) ** 2)
            power += np.sum((x - x.mean()) ** 2)
            p = np.bincount(ids, minlength=quantizer.n_levels) / ids.size
            entropies.append(-np.sum(p[p > 0] * np.log2(p[p > 0])))
    return 10 * np.log10(power / err), float(np.mean(entropies))


def truncated(processor52k, vocab_size: int):
    """The processor whose BPE has the first ``vocab_size`` entries of a larger greedy BPE training (same feature extractor)."""
    import json

    from tokenizers import Tokenizer

    from heartbert_hf import HeartBertProcessor, HeartBertTokenizer

    tok52k = processor52k.tokenizer
    state = json.loads(tok52k.backend_tokenizer.to_str())
    vocab = state["model"]["vocab"]
    keep = {t: i for t, i in vocab.items() if i < vocab_size}
    merges = state["model"]["merges"][: vocab_size - (len(vocab) - len(state["model"]["merges"]))]
    state["model"]["vocab"], state["model"]["merges"] = keep, merges
    backend = Tokenizer.from_str(json.dumps(state))
    return HeartBertProcessor(processor52k.feature_extractor, HeartBertTokenizer(tokenizer_object=backend, quantizer=processor52k.feature_extractor.quantizer))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mitdb", default="../shared/physionet/mitdb")
    parser.add_argument("--excerpts", default="../shared/physionet/excerpts")
    parser.add_argument("--output", default=None, help="optional CSV of the vocabulary table")
    args = parser.parse_args()

    import wfdb

    from heartbert_hf import HeartBertProcessor, HeartBertTokenizer

    records = [r for r in DS1 if (Path(args.mitdb) / f"{r}.hea").is_file()]
    fit, held = records[: len(records) // 2], records[len(records) // 2 :]
    print(f"fit on {fit}\nmeasure on {held}")
    load = lambda r: wfdb.rdrecord(str(Path(args.mitdb) / r)).p_signal.T  # noqa: E731
    fit_signals, held_signals = [load(r) for r in fit], [load(r) for r in held]

    print("\n## scaling (100-level Lloyd-Max fitted per scaling on the fit records)")
    noisy = []
    for name in ("118e24", "118e12", "118e06", "118e00"):
        path = Path(args.excerpts) / f"{name}.csv"
        if path.is_file():  # one column per lead, no header, 360 Hz
            noisy.append((name, np.loadtxt(path, delimiter=",", ndmin=2).T))
    processors = {}
    for scaling in ("minmax", "robust"):
        tok = HeartBertTokenizer.train_from_ecg(fit_signals, 360, vocab_size=52000 if scaling == "minmax" else 1000, scaling=scaling, show_progress=False)
        processors[scaling] = processor = HeartBertProcessor.from_tokenizer(tok)
        held_snr = [snr_db(processor, s, scaling) for s in held_signals]
        line = f"{scaling:7s} held-out DS1: SNR {np.mean([a for a, _ in held_snr]):.2f} dB, level entropy {np.mean([b for _, b in held_snr]):.2f} bits"
        for name, signal in noisy:
            snr, ent = snr_db(processor, signal, scaling)
            line += f" | {name}: {snr:.2f} dB, {ent:.2f} bits"
        print(line)

    print("\n## vocabulary (min-max scaling; samples/token on held-out records)")
    processor52k = processors["minmax"]
    hidden, layers, mask = 768, 6, 0.15
    encoder_flops = 2 * layers * 12 * hidden * hidden  # per token, forward, no attention term
    rows = []
    print("vocab | samples/token | tokens per 4000-sample window | vocab used (>=1 / >=10 uses) | train GFLOP per ECG-second")
    for v in VOCABS:
        processor = truncated(processor52k, v)
        counts = np.zeros(v, dtype=np.int64)
        n_samples, n_tokens = 0, 0
        for s in held_signals:
            texts, _ = processor.feature_extractor.ecg_to_text(s, 360)
            for enc in processor.tokenizer.backend_tokenizer.encode_batch_fast(texts, add_special_tokens=False):
                counts += np.bincount(enc.ids, minlength=v)[:v]
            n_samples += sum(len(t) for t in texts)
        n_tokens = counts.sum()
        spt = n_samples / n_tokens
        head_flops = mask * 2 * hidden * v + 2 * hidden * hidden
        flops_per_second = 3 * (encoder_flops + head_flops) * 360 / spt  # x3: forward + backward
        used1, used10 = (counts[105:] >= 1).mean(), (counts[105:] >= 10).mean()
        rows.append((v, spt, 4000 / spt, used1, used10, flops_per_second / 1e9))
        print(f"{v:6d} | {spt:.2f} | {4000 / spt:.0f} | {used1:.1%} / {used10:.1%} | {flops_per_second / 1e9:.2f}")
    if args.output:
        with open(args.output, "w", newline="") as handle:
            csv.writer(handle).writerows([("vocab", "samples_per_token", "tokens_per_window", "used_ge1", "used_ge10", "train_gflop_per_ecg_second")] + rows)


if __name__ == "__main__":
    main()
