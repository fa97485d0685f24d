"""Classical baselines on DS1, record-wise CV: how strong is arm (a), and what carries it?

    OMP_NUM_THREADS=1 python benchmarks/mitdb_classical_variants.py --data_dir ../shared/physionet/mitdb [--cv 5 --seed 42] [--class_weight_power 0.5]

The scorecard's arm (a) (:mod:`heartbert_hf.baselines`: the 9 RR features of
:mod:`heartbert_hf.rhythm` plus the MLII beat resampled to 60 Hz, in mV; standardised,
class-weighted logistic regression) against variants of its inputs, with the same classifier, the
same record-wise folds (``heartbert_hf.tasks.cv_folds``, as ``heartbert finetune --cv``) and every
DS1 beat. Every fit weighs class c by ``(n / (k * n_c)) ** --class_weight_power``
(:func:`heartbert_hf.baselines.balanced_class_weight`; default the project's
``CLASS_WEIGHT_POWER``, 0.5; 1 is scikit-learn's ``"balanced"``), so a baseline can be given the
same weighting choice as HeartBert's heads:

* ``rr9``: the 9 RR features only;
* ``rr-normalised``: the 5 per-record normalised RR features only (``pre/post/local_rr_norm``,
  ``pre_over_post``, ``pre_over_local``);
* ``rr9+centred-morphology``: arm (a) with each record's median beat subtracted from its beats'
  morphology (unsupervised per-record normalisation, like the RR features' record mean: no labels,
  but each held-out record's own beats set its median, i.e. transductive per record);
* ``gb:`` rows: the same inputs with a **non-linear** classifier instead, scikit-learn's
  class-weighted ``HistGradientBoostingClassifier`` (200 iterations, its defaults otherwise, seeded).
  The issue's arm (a) is linear; these rows say how far a classical model on the field's features
  gets when it may be non-linear, which is the bar HeartBert has to clear to be worth using.

The ``features`` row can differ from the scorecard's arm (a) in the third decimal: the scorecard's
pool concatenates DS1's train and validation splits, so its rows come in another order, and the
L-BFGS solution moves by a few beats.

Prints the scorecard table (record-bootstrap 95 % CIs) and writes ``--output`` (JSON). Never part
of the test run.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time

import numpy as np


def record_centred(x: np.ndarray, records: np.ndarray) -> np.ndarray:
    """``x`` minus each record's per-column median (``(n_beats, d)``)."""
    out = x.copy()
    for r in np.unique(records):
        rows = records == r
        out[rows] -= np.median(x[rows], axis=0)
    return out


def main(argv: list[str] | None = None) -> int:
    from heartbert_hf.baselines import CLASS_WEIGHT_POWER, beat_feature_matrix, boosting_classifier, record_cv_predictions
    from heartbert_hf.rhythm import RR_FEATURE_NAMES
    from heartbert_hf.scorecard import format_table, scorecard
    from heartbert_hf.tasks import cv_folds, get_task, load_task_data

    parser = argparse.ArgumentParser(prog="mitdb_classical_variants.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--data_dir", required=True, help="MIT-BIH Arrhythmia Database folder (the 22 DS1 records are used)")
    parser.add_argument("--cv", type=int, default=5, help="record-wise folds")
    parser.add_argument("--seed", type=int, default=42, help="fold and solver seed (as heartbert finetune)")
    parser.add_argument(
        "--class_weight_power",
        type=float,
        default=CLASS_WEIGHT_POWER,
        help="class weights (n / (k n_c)) ** POWER (default %(default)s; 1: inverse frequency, 0: none)",
    )
    parser.add_argument("--output", default=None, help="JSON file for the scorecard")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)

    t0 = time.time()
    task = get_task("mitdb-aami")
    ds1 = load_task_data(task, data_dir=args.data_dir, val_folds=0)["train"]
    x = beat_feature_matrix(ds1)  # (n_beats, 9 RR + morphology)
    y = np.asarray(ds1["labels"])
    records = np.asarray(ds1["record_id"])
    n_rr = len(RR_FEATURE_NAMES)
    normalised = [RR_FEATURE_NAMES.index(n) for n in ("pre_rr_norm", "post_rr_norm", "local_rr_norm", "pre_over_post", "pre_over_local")]
    variants = {
        "features": x,
        "rr9": x[:, :n_rr],
        "rr-normalised": x[:, normalised],
        "rr9+centred-morphology": np.hstack([x[:, :n_rr], record_centred(x[:, n_rr:], records)]),
    }
    variants["gb:features"] = variants["features"]
    variants["gb:rr-normalised"] = variants["rr-normalised"]
    variants["gb:rr-normalised+centred-morphology"] = np.hstack([x[:, normalised], record_centred(x[:, n_rr:], records)])
    labels = ["N", "S", "V", "F"]
    folds = cv_folds(sorted(set(records)), args.cv, args.seed)

    gradient_boosting = functools.partial(boosting_classifier, seed=args.seed)

    predictions = {
        name: (
            y,
            record_cv_predictions(
                feats, y, records, folds, len(labels), args.seed, gradient_boosting if name.startswith("gb:") else None, args.class_weight_power
            ),
            records,
        )
        for name, feats in variants.items()
    }
    card = scorecard(predictions, labels, task.report_classes, seed=args.seed)
    notes = [
        f"DS1 record-wise {args.cv}-fold CV ({len(set(records))} records, {len(y)} beats, every beat), seed {args.seed}; "
        f"classifier: standardised logistic regression (heartbert_hf.baselines); gb: rows: HistGradientBoostingClassifier(max_iter=200); "
        f"class weights (n / (k n_c)) ** {args.class_weight_power:g}",
        f"wall time {time.time() - t0:.0f} s",
    ]
    table = format_table(card, notes)
    print(table)
    if args.output:
        with open(args.output, "w") as f:
            json.dump(
                {"table": table, "scorecard": card, "command": ["python", "benchmarks/mitdb_classical_variants.py", *(argv or [])]}, f, indent=1, default=float
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
