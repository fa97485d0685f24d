"""Does pretraining help the rhythm arm once beats are embedded in their record's context? DS1 record-wise CV.

    OMP_NUM_THREADS=1 python benchmarks/mitdb_context_embeddings.py --model PRETRAINED \
        --data_dir ../shared/physionet/mitdb [--output results.json]

The scorecard's encoder arms embed each beat from its own ±0.8 s window, min-max scaled on its own;
there, the random-init encoder with RR features does as well as the pretrained one ((d) vs (e)).
This benchmark embeds beats the way the encoder was pretrained instead: each DS1 record's MLII lead
is tokenized in its 4000-sample windows (the feature extractor's own windowing and scaling), the
encoder runs over them (sequences of at most ``--max_length`` tokens), and a beat's vector is the
mean of the last hidden states of the tokens whose samples overlap [R − 0.25 s, R + 0.45 s]. Each
record's median vector is subtracted (unsupervised, per record, like the RR features' record mean:
transductive per record, no labels). Arms, all with the scorecard's classifier (standardised,
class-balanced logistic regression, ``heartbert_hf.baselines.fit_features_baseline``) on the same
record-wise folds (``heartbert_hf.tasks.cv_folds``, seed 42):

* ``features``: the scorecard's arm (a), the 9 RR features plus the MLII beat at 60 Hz
  (``heartbert_hf.baselines.morphology_features``), the issue's linear classical bar;
* ``rr``: the 5 per-record normalised RR features only (the strongest linear classical row);
* ``context-random+rr``: a randomly initialised encoder of the same shape (seed 42), plus the RR features;
* ``context-pretrained+rr``: the pretrained encoder, plus the RR features.

and with a non-linear head, scikit-learn's class-balanced ``HistGradientBoostingClassifier``
(200 iterations, seeded, its defaults otherwise; the head of ``benchmarks/mitdb_classical_variants.py``'s
``gb:`` rows), on the 5 normalised RR features plus the record-centred 60-Hz morphology:

* ``gb:rr+morphology``: those features alone (the strongest classical model here, jκ ≈ 0.6);
* ``gb:context-random+rr`` / ``gb:context-pretrained+rr``: the context vectors of the random-init /
  pretrained encoder plus the 5 RR features (the issue's arm (d) and its control, with this head);
* ``gb:context-random+rr+morphology`` / ``gb:context-pretrained+rr+morphology``: those plus the
  morphology, i.e. the classical model with the context vectors added.

Beats: every reference beat of an AAMI N/S/V/F class of the 22 DS1 records whose window lies inside
the record (RR features from all reference beats, Q included, as the ``beats`` builder does), so the
beat count can differ slightly from the scorecard's. Prints the table with record-bootstrap 95 % CIs
and the paired differences; ``--output`` writes JSON. Never part of the test run.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time

import numpy as np

CLASSES = ["N", "S", "V", "F"]
NORMALISED_RR = ("pre_rr_norm", "post_rr_norm", "local_rr_norm", "pre_over_post", "pre_over_local")
"""The per-record normalised RR features (of ``heartbert_hf.rhythm.RR_FEATURE_NAMES``) every ``rr`` row uses."""
POOL_S = (0.25, 0.45)
"""Seconds before and after the R peak whose tokens are pooled into the beat's vector."""


def record_beats(path: str):
    """``(lead_mV, fs, r_peaks, labels, rr, morphology)`` of one record: MLII, N/S/V/F beats only.

    ``rr`` is ``(n_beats, 9)`` (``heartbert_hf.rhythm.RR_FEATURE_NAMES``), ``morphology``
    ``(n_beats, ~42)`` mV (``heartbert_hf.baselines.morphology_features``, the same span as the pooling).
    """
    import wfdb

    from heartbert_hf.baselines import morphology_features
    from heartbert_hf.data.labels import aami_class
    from heartbert_hf.rhythm import rr_features

    rec = wfdb.rdrecord(path, channel_names=["MLII"])
    ann = wfdb.rdann(path, "atr")
    beats = [(int(s), aami_class(sym)) for s, sym in zip(ann.sample, ann.symbol) if aami_class(sym) is not None]
    samples = np.array([s for s, _ in beats])
    rr = rr_features(samples, rec.fs)  # (n_beats, 9) over every beat, Q included
    lead = rec.p_signal[:, 0]
    lo, hi = int(POOL_S[0] * rec.fs), int(POOL_S[1] * rec.fs)
    keep = np.array([c in CLASSES and s - lo >= 0 and s + hi < lead.size for s, c in beats])
    labels = np.array([CLASSES.index(c) for (_, c), k in zip(beats, keep) if k])
    peaks = samples[keep]
    morphology = morphology_features([lead[None, :]] * len(peaks), [rec.fs] * len(peaks), peaks)
    return lead, rec.fs, peaks, labels, rr[keep], morphology


def context_vectors(model, processor, lead: np.ndarray, fs: float, r_peaks: np.ndarray, max_length: int) -> np.ndarray:
    """``(n_beats, hidden)``: mean last hidden state of the tokens overlapping each beat's pooling span."""
    import torch

    from heartbert_hf.inference import chunk_bounds

    tok, fe = processor.tokenizer, processor.feature_extractor
    texts, index = fe.ecg_to_text(lead[None, :], fs)
    step = fs / fe.target_rate  # input samples per 360-Hz sample
    seqs, starts, stops = [], [], []
    for text, (_, window) in zip(texts, index):
        enc = tok.backend_tokenizer.encode(text, add_special_tokens=False)
        offsets = (np.array(enc.offsets) + window * fe.window_size) * step  # (n_tokens, 2) in input samples
        for a, b in chunk_bounds(len(enc.ids), max_length - 2):
            seqs.append([tok.bos_token_id, *enc.ids[a:b], tok.eos_token_id])
            starts.append(offsets[a:b, 0])
            stops.append(offsets[a:b, 1])
    states = []
    with torch.inference_mode():
        for i in range(0, len(seqs), 16):
            batch = seqs[i : i + 16]
            width = max(map(len, batch))
            ids = torch.full((len(batch), width), tok.pad_token_id)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for j, s in enumerate(batch):
                ids[j, : len(s)], mask[j, : len(s)] = torch.tensor(s), 1
            hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state  # (batch, width, hidden)
            states += [hidden[j, 1 : len(s) - 1].numpy() for j, s in enumerate(batch)]
    h = np.concatenate(states)  # (n_tokens, hidden), in signal order
    start, stop = np.concatenate(starts), np.concatenate(stops)
    cumulative = np.vstack([np.zeros((1, h.shape[1])), np.cumsum(h, axis=0)])
    lo, hi = POOL_S[0] * fs, POOL_S[1] * fs
    a = np.searchsorted(stop, r_peaks - lo, side="right")  # first token ending after the span starts
    b = np.searchsorted(start, r_peaks + hi, side="left")  # first token starting after the span ends
    return (cumulative[b] - cumulative[a]) / np.maximum(b - a, 1)[:, None]


def main(argv: list[str] | None = None) -> int:
    import torch
    from tqdm.auto import tqdm

    from heartbert_hf import HeartBertConfig, HeartBertModel
    from heartbert_hf.baselines import boosting_classifier, record_cv_predictions
    from heartbert_hf.data.splits import MITDB_DS1
    from heartbert_hf.rhythm import RR_FEATURE_NAMES
    from heartbert_hf.runtime import load_heartbert_processor, set_torch_threads
    from heartbert_hf.scorecard import format_table, scorecard
    from heartbert_hf.tasks import cv_folds

    parser = argparse.ArgumentParser(prog="mitdb_context_embeddings.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="pretrained HeartBert folder (its tokenizer and processor included)")
    parser.add_argument("--data_dir", required=True, help="MIT-BIH Arrhythmia Database folder (the 22 DS1 records are used)")
    parser.add_argument("--max_length", type=int, default=256, help="tokens per sequence, <s> and </s> included (at most the model's positions)")
    parser.add_argument("--seed", type=int, default=42, help="fold, random-init and solver seed")
    parser.add_argument("--output", default=None, help="JSON file for the scorecard")
    args = parser.parse_args(argv)
    set_torch_threads(1)
    t0 = time.time()
    processor = load_heartbert_processor(args.model)
    encoders = {"context-pretrained+rr": HeartBertModel.from_pretrained(args.model).eval()}
    torch.manual_seed(args.seed)
    encoders["context-random+rr"] = HeartBertModel(HeartBertConfig.from_pretrained(args.model)).eval()
    rows = {"records": [], "labels": [], "rr": [], "morphology": [], "centred_morphology": [], **{name: [] for name in encoders}}
    for record in tqdm(MITDB_DS1, desc="Embedding DS1 records"):
        lead, fs, peaks, labels, rr, morphology = record_beats(f"{args.data_dir}/{record}")
        rows["records"] += [record] * len(labels)
        rows["labels"].append(labels)
        rows["rr"].append(rr)
        rows["morphology"].append(morphology)
        rows["centred_morphology"].append(morphology - np.median(morphology, axis=0))  # per-record centring
        for name, model in encoders.items():
            vectors = context_vectors(model, processor, lead, fs, peaks, args.max_length)
            rows[name].append(vectors - np.median(vectors, axis=0))  # per-record centring
    records, y = np.array(rows["records"]), np.concatenate(rows["labels"])
    rr9 = np.concatenate(rows["rr"])
    rr = rr9[:, [RR_FEATURE_NAMES.index(n) for n in NORMALISED_RR]]
    morphology = np.concatenate(rows["centred_morphology"])
    context = {name: np.concatenate(rows[name]) for name in encoders}
    linear = {
        "features": np.hstack([rr9, np.concatenate(rows["morphology"])]),
        "rr": rr,
        **{name: np.hstack([context[name], rr]) for name in encoders},
    }
    boosted = {
        "gb:rr+morphology": np.hstack([rr, morphology]),
        **{f"gb:{name}": np.hstack([context[name], rr]) for name in encoders},
        **{f"gb:{name}+morphology": np.hstack([context[name], rr, morphology]) for name in encoders},
    }
    folds = cv_folds(sorted(set(records)), 5, args.seed)

    gradient_boosting = functools.partial(boosting_classifier, args.seed)

    predictions = {name: (y, record_cv_predictions(x, y, records, folds, len(CLASSES), args.seed), records) for name, x in linear.items()}
    for name, x in tqdm(boosted.items(), desc="Gradient boosting, record-wise CV"):
        predictions[name] = (y, record_cv_predictions(x, y, records, folds, len(CLASSES), args.seed, make_model=gradient_boosting), records)
    comparisons = (
        ("context-pretrained+rr", "context-random+rr", "pretraining under rhythm, context embeddings, linear head"),
        ("context-pretrained+rr", "rr", "context embeddings vs the RR features alone, linear head"),
        ("gb:context-pretrained+rr", "gb:context-random+rr", "pretraining under rhythm, context embeddings, gradient boosting"),
        ("gb:context-pretrained+rr+morphology", "gb:context-random+rr+morphology", "pretraining under rhythm and morphology, gradient boosting"),
        ("gb:context-pretrained+rr+morphology", "gb:rr+morphology", "context embeddings vs the classical features alone, gradient boosting"),
        ("gb:context-pretrained+rr+morphology", "features", "the best pretrained row vs the scorecard's arm (a)"),
    )
    card = scorecard(predictions, CLASSES, seed=args.seed, comparisons=comparisons)
    notes = [
        f"DS1 record-wise 5-fold CV ({len(set(records))} records, {len(y)} beats), seed {args.seed}; encoder {args.model}; "
        f"beat vectors pooled from the record's 4000-sample windows over [R-{POOL_S[0]} s, R+{POOL_S[1]} s], minus the record's median",
        f"wall time {time.time() - t0:.0f} s",
    ]
    table = format_table(card, notes)
    print(table)
    if args.output:
        with open(args.output, "w") as f:
            json.dump(
                {"table": table, "scorecard": card, "command": ["python", "benchmarks/mitdb_context_embeddings.py", *(argv or sys.argv[1:])]},
                f,
                indent=1,
                default=float,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
