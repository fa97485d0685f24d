"""Record-context beat vectors on DS1, record-wise CV: the tuning bench of heartbert_hf.context_arms.

    OMP_NUM_THREADS=1 python benchmarks/mitdb_context_embeddings.py --model PRETRAINED \
        --data_dir ../shared/physionet/mitdb [--spans '[[-0.25, 0.45]]'] [--output results.json]

The scorecard's window arms embed each beat from its own ±0.8 s window, min-max scaled on its own;
there, the random-init encoder with RR features does as well as the pretrained one ((d) vs (e)).
The record-context classifier (``heartbert_hf.context_arms``, the scorecard's arms (f) / (g), and
the shipped classifier) embeds beats the way the encoder was pretrained instead: each record's MLII
lead is tokenized in its 4000-sample windows (``heartbert_hf.beat_context``), the encoder runs over
them (sequences of at most ``--max_length`` tokens), and a beat's vector is the mean of the last
hidden states (``--layers``, default the middle and last layer, ``heartbert_hf.context_arms.context_layers``)
of the tokens overlapping each span of ``--spans`` around the R peak (default
``heartbert_hf.context_arms.CONTEXT_SPANS_S``). Each record's median vector is subtracted
(unsupervised, per record, like the RR features' record mean: no labels). This script compares, on
the same record-wise folds (``heartbert_hf.tasks.cv_folds``, seed 42), with a standardised,
class-weighted logistic regression (``heartbert_hf.baselines.fit_features_baseline``):

* ``features``: the scorecard's arm (a), the 9 RR features plus the MLII beat at 60 Hz
  (``heartbert_hf.baselines.morphology_features``), the issue's linear classical bar;
* ``rr``: the 5 per-record normalised RR features only (the strongest linear classical row);
* ``context-pretrained`` / ``context-random``: the context vectors alone of the pretrained /
  randomly initialised (seed 42) encoder: what pretraining gives without rhythm;
* ``context-pretrained+rr`` / ``context-random+rr``: the record-context classifier itself
  (``heartbert_hf.context_arms.context_model``, fitted by ``heartbert_hf.probe.fit_linear_probe``,
  applied by ``model.classify_beat_vectors`` on each held-out record);

and with a non-linear head, scikit-learn's class-weighted ``HistGradientBoostingClassifier``
(``heartbert_hf.baselines.boosting_classifier``), on the 5 normalised RR features plus the
record-centred 60-Hz morphology:

* ``gb:rr+morphology``: those features alone (the strongest classical model here);
* ``gb:context-random+rr`` / ``gb:context-pretrained+rr``: the context vectors plus the 5 RR features;
* ``gb:context-random+rr+morphology`` / ``gb:context-pretrained+rr+morphology``: those plus the
  morphology, i.e. the classical model with the context vectors added.

Beats: every reference beat of an AAMI N/S/V/F class of the 22 DS1 records whose window lies inside
the record (RR features from all reference beats, Q included, as the ``beats`` builder does), so the
beat count can differ slightly from the scorecard's. Prints the table with record-bootstrap 95 % CIs
and the paired differences; ``--output`` writes JSON. Never part of the test run.

``--class_weight_check`` adds how solid the record-context classifier's figures are (pooled metrics,
written to the JSON's ``class_weight_check``): (1) its linear head (context vectors + RR, standardised
logistic regression as ``heartbert_hf.probe``) with class weights ``(n / (k n_c)) ** power`` for each of
``--powers`` on the seed's folds; (2) nested CV of that choice: on each outer training fold an inner
record-wise 4-fold CV picks the power by pooled jκ, and the outer test records are scored with it;
(3) other record-wise fold partitions (``--fold_seeds``): the head at the project's power, and the
classical gradient boosting (``gb:rr+morphology``) at powers 1 and the project's. It adds about 16 min
on one CPU thread (2,120 s in all on the 2-core machine).
"""

from __future__ import annotations

import argparse
import functools
import json
import platform
import sys
import time

import numpy as np

from heartbert_hf.context_arms import CONTEXT_RHYTHM, CONTEXT_SPANS_S

CLASSES = ["N", "S", "V", "F"]
NORMALISED_RR = CONTEXT_RHYTHM
"""The per-record normalised RR features (of ``heartbert_hf.rhythm.RR_FEATURE_NAMES``) every ``rr`` row uses."""
SPANS_S = CONTEXT_SPANS_S
"""Pooling spans (seconds around the R peak) of a beat's vector, the ``--spans`` default."""
POOL_S = (0.25, 0.45)
"""Seconds before and after the R peak that every beat must have inside the record (the default span)."""


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


def context_vectors(model, stream, fs: float, r_peaks: np.ndarray, spans_s, layers=None) -> np.ndarray:
    """``(n_beats, n_spans * n_layers * hidden)``: uncentred beat vectors (``heartbert_hf.beat_context``, the shipped classifier's own path)."""
    from heartbert_hf.beat_context import beat_token_spans, record_beat_vectors

    return record_beat_vectors(model, stream, beat_token_spans(stream, r_peaks, fs, spans_s), layers=layers)


def model_cv_predictions(model, vectors: dict, rr: dict, labels: dict, folds, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Held-out predictions of the classifier itself: per fold, ``heartbert_hf.probe.fit_linear_probe`` on the
    training records' centred vectors, then ``model.classify_beat_vectors`` on each test record (centred on its own beats).

    Returns ``(y, predicted)`` in fold order, with the record of each row."""
    from heartbert_hf.beat_context import record_beat_logits
    from heartbert_hf.probe import fit_linear_probe

    ys, preds, recs = [], [], []
    for train, test in folds:
        fit_linear_probe(
            model,
            np.concatenate([vectors[r] - np.median(vectors[r], axis=0) for r in train]),
            np.concatenate([labels[r] for r in train]),
            rhythm_features=np.concatenate([rr[r] for r in train]),
            seed=seed,
        )
        for r in test:
            ys.append(labels[r])
            preds.append(record_beat_logits(model, vectors[r], rr[r]).argmax(axis=1))
            recs += [r] * len(labels[r])
    return np.concatenate(ys), np.concatenate(preds), np.array(recs)


def pooled(y: np.ndarray, pred: np.ndarray) -> dict:
    """Pooled macro-F1, κ, j-index and jκ of ``(n,)`` true and predicted class ids (``heartbert_hf.metrics``)."""
    from heartbert_hf.metrics import classification_metrics

    m = classification_metrics(y, pred, CLASSES)
    return {k: round(float(m[k]), 3) for k in ("macro_f1", "cohen_kappa", "j_index", "jk_index")}


def class_weight_check(head_x, classical_x, y, records, args, powers, fold_seeds) -> dict:
    """The ``--class_weight_check`` figures (see the module docstring); prints each as it is done."""
    from heartbert_hf.baselines import CLASS_WEIGHT_POWER, boosting_classifier, record_cv_predictions
    from heartbert_hf.tasks import cv_folds

    def head(folds, power, rows=slice(None)):
        return record_cv_predictions(head_x[rows], y[rows], records[rows], folds, len(CLASSES), args.seed, power=power)

    out = {"sweep": {}, "nested": {}, "fold_seeds": {}}
    folds = cv_folds(sorted(set(records)), 5, args.seed)
    for power in powers:
        out["sweep"][str(power)] = pooled(y, head(folds, power))
        print(f"class weights ** {power}: {out['sweep'][str(power)]}", flush=True)
    nested, chosen = np.zeros(len(y), dtype=np.int64), []
    for train, test in folds:
        rows = np.isin(records, train)
        inner = cv_folds(list(train), 4, args.seed)
        score = {p: pooled(y[rows], head(inner, p, rows))["jk_index"] for p in powers}
        chosen.append(max(powers, key=lambda p: score[p]))
        held_out = np.isin(records, test)
        nested[held_out] = head([(train, test)], chosen[-1])[held_out]
        print(f"nested: inner jκ {score}, chose {chosen[-1]}", flush=True)
    test_rows = np.isin(records, [r for _, test in folds for r in test])
    out["nested"] = {"chosen": chosen, **pooled(y[test_rows], nested[test_rows])}
    print(f"nested CV: {out['nested']}", flush=True)
    boosting = functools.partial(boosting_classifier, seed=args.seed)
    for seed in fold_seeds:
        folds = cv_folds(sorted(set(records)), 5, seed)
        row = {"head": pooled(y, head(folds, CLASS_WEIGHT_POWER))}
        for power in sorted({1.0, CLASS_WEIGHT_POWER}):
            row[f"gb:rr+morphology ** {power:g}"] = pooled(y, record_cv_predictions(classical_x, y, records, folds, len(CLASSES), args.seed, boosting, power))
        out["fold_seeds"][str(seed)] = row
        print(f"fold seed {seed}: {row}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    import shlex

    import torch
    from tqdm.auto import tqdm

    from heartbert_hf import HeartBertConfig, HeartBertModel
    from heartbert_hf.baselines import boosting_classifier, record_cv_predictions
    from heartbert_hf.beat_context import record_stream
    from heartbert_hf.context_arms import context_layers, context_model
    from heartbert_hf.data.splits import MITDB_DS1
    from heartbert_hf.rhythm import RR_FEATURE_NAMES
    from heartbert_hf.runtime import load_heartbert_processor, set_torch_threads
    from heartbert_hf.scorecard import format_table, scorecard
    from heartbert_hf.tasks import cv_folds

    parser = argparse.ArgumentParser(prog="mitdb_context_embeddings.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="pretrained HeartBert folder (its tokenizer and processor included)")
    parser.add_argument("--data_dir", required=True, help="MIT-BIH Arrhythmia Database folder (the 22 DS1 records are used)")
    parser.add_argument("--max_length", type=int, default=256, help="tokens per sequence, <s> and </s> included (at most the model's positions)")
    parser.add_argument("--spans", default=json.dumps(SPANS_S), help="JSON list of [start_s, stop_s] pooling spans around the R peak")
    parser.add_argument("--layers", default=None, help="JSON list of hidden_states indices pooled (default: the middle and the last layer)")
    parser.add_argument("--seed", type=int, default=42, help="fold, random-init and solver seed")
    parser.add_argument("--output", default=None, help="JSON file for the scorecard")
    parser.add_argument("--class_weight_check", action="store_true", help="also run the class-weight sweep, its nested CV and other fold partitions (slow)")
    parser.add_argument("--powers", default="[1, 0.5, 0.25]", help="JSON list of class-weight powers for --class_weight_check")
    parser.add_argument("--fold_seeds", default="[1, 2, 3]", help="JSON list of fold seeds for the other partitions of --class_weight_check")
    args = parser.parse_args(argv)
    spans_s = json.loads(args.spans)
    layers = json.loads(args.layers) if args.layers else context_layers(HeartBertConfig.from_pretrained(args.model).num_hidden_layers)
    set_torch_threads(1)
    t0 = time.time()
    processor = load_heartbert_processor(args.model)
    encoders = {"context-pretrained": HeartBertModel.from_pretrained(args.model).eval()}
    torch.manual_seed(args.seed)
    encoders["context-random"] = HeartBertModel(HeartBertConfig.from_pretrained(args.model)).eval()
    labels, rr9, morph, vectors = {}, {}, {}, {name: {} for name in encoders}
    for record in tqdm(MITDB_DS1, desc="Embedding DS1 records"):
        lead, fs, peaks, labels[record], rr9[record], morph[record] = record_beats(f"{args.data_dir}/{record}")
        stream = record_stream(processor, lead, fs, args.max_length)
        for name, model in encoders.items():
            vectors[name][record] = context_vectors(model, stream, fs, peaks, spans_s, layers)
    records = np.concatenate([[r] * len(labels[r]) for r in MITDB_DS1])
    y = np.concatenate([labels[r] for r in MITDB_DS1])
    cols = [RR_FEATURE_NAMES.index(n) for n in NORMALISED_RR]
    rr = {r: rr9[r][:, cols] for r in MITDB_DS1}
    rr_all = np.concatenate([rr[r] for r in MITDB_DS1])
    morphology = np.concatenate([morph[r] - np.median(morph[r], axis=0) for r in MITDB_DS1])  # per-record centring
    context = {name: np.concatenate([v[r] - np.median(v[r], axis=0) for r in MITDB_DS1]) for name, v in vectors.items()}
    linear = {
        "features": np.hstack([np.concatenate([rr9[r] for r in MITDB_DS1]), np.concatenate([morph[r] for r in MITDB_DS1])]),
        "rr": rr_all,
        **context,
    }
    boosted = {
        "gb:rr+morphology": np.hstack([rr_all, morphology]),
        **{f"gb:{name}+rr": np.hstack([context[name], rr_all]) for name in encoders},
        **{f"gb:{name}+rr+morphology": np.hstack([context[name], rr_all, morphology]) for name in encoders},
    }
    folds = cv_folds(list(MITDB_DS1), 5, args.seed)
    gradient_boosting = functools.partial(boosting_classifier, seed=args.seed)

    predictions = {name: (y, record_cv_predictions(x, y, records, folds, len(CLASSES), args.seed), records) for name, x in linear.items()}
    classifiers = {
        "context-pretrained+rr": context_model(args.model, CLASSES, False, args.seed, spans_s, layers),
        "context-random+rr": context_model(args.model, CLASSES, True, args.seed, spans_s, layers),
    }
    for name, model in classifiers.items():  # the shipped classifier's own fitting and forward, fold by fold
        predictions[name] = model_cv_predictions(model, vectors[name.removesuffix("+rr")], rr, labels, folds, args.seed)
    for name, x in tqdm(boosted.items(), desc="Gradient boosting, record-wise CV"):
        predictions[name] = (y, record_cv_predictions(x, y, records, folds, len(CLASSES), args.seed, make_model=gradient_boosting), records)
    comparisons = (
        ("context-pretrained", "context-random", "pretraining, context vectors without rhythm"),
        ("context-pretrained+rr", "context-random+rr", "pretraining under rhythm, the record-context classifier ((f) vs (g))"),
        ("context-pretrained+rr", "features", "the record-context classifier vs the scorecard's arm (a) ((f) vs (a))"),
        ("context-pretrained+rr", "rr", "the record-context classifier vs the RR features alone, linear head"),
        (
            "context-pretrained+rr",
            "gb:rr+morphology",
            "the record-context classifier vs the strongest classical model (gradient boosting, RR + centred morphology)",
        ),
        ("gb:context-pretrained+rr", "gb:context-random+rr", "pretraining under rhythm, gradient boosting"),
        ("gb:context-pretrained+rr+morphology", "gb:context-random+rr+morphology", "pretraining under rhythm and morphology, gradient boosting"),
        ("gb:context-pretrained+rr+morphology", "gb:rr+morphology", "context embeddings vs the classical features alone, gradient boosting"),
    )
    card = scorecard(predictions, CLASSES, seed=args.seed, comparisons=comparisons)
    pooled = ", ".join(f"[R{a:+g} s, R{b:+g} s]" for a, b in spans_s)
    notes = [
        f"DS1 record-wise 5-fold CV ({len(MITDB_DS1)} records, {len(y)} beats), seed {args.seed}; encoder {args.model}; "
        f"beat vectors pooled from the record's 4000-sample windows over {pooled} (hidden_states {layers}), minus the record's median; "
        "context-*+rr rows: the record-context classifier itself (heartbert_hf.probe.fit_linear_probe, model.classify_beat_vectors)",
        f"wall time {time.time() - t0:.0f} s; machine {platform.machine()} CPU, 1 torch thread",
    ]
    check = None
    if args.class_weight_check:
        head_x = np.hstack([context["context-pretrained"], rr_all])
        check = class_weight_check(head_x, boosted["gb:rr+morphology"], y, records, args, json.loads(args.powers), json.loads(args.fold_seeds))
        notes.append(f"class-weight check (pooled): {json.dumps(check)}; total wall time {time.time() - t0:.0f} s")
    table = format_table(card, notes)
    print(table)
    command = shlex.join(["python", "benchmarks/mitdb_context_embeddings.py", *(argv if argv is not None else sys.argv[1:])])
    if args.output:
        with open(args.output, "w") as f:
            json.dump({"table": table, "scorecard": card, "class_weight_check": check, "command": command}, f, indent=1, default=float)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
