"""How often does a beat classifier call ectopy on PTB-XL ECGs in sinus rhythm with no ectopic beat?

    OMP_NUM_THREADS=1 python benchmarks/ptbxl_sinus_specificity.py --ptbxl_dir ../shared/physionet/ptb-xl \
        [--model MODEL] [--output results.json]

PTB-XL (Wagner et al. 2020, PhysioNet, CC BY 4.0) has no beat annotations, so the beat-level
confusion of ``heartbert classify-beats`` cannot be measured there. Its record-level SCP-ECG
statements still say which 10-s ECGs hold no ectopic beat: a sinus rhythm statement (SR, SBRAD,
STACH, SARRH) and no other rhythm statement, no PVC and no PAC. On those, every beat should be N,
and each S / V / F label is a false positive. This script runs ``classify-beats`` (the shipped
classifier unless ``--model``; beats from the R-peak detector, lead II) on every such record of
``ptbxl_database.csv`` (or the shared ``ptbxl_database_subset.csv``) whose 500-Hz files are present,
and prints the labels per record and in total: the share of classified beats labelled S, V or F,
with a record-level bootstrap 95 % CI. Records with a PVC or PAC statement are listed separately
(there some V / S labels are expected). Q beats (the first and last beat of a strip, whose RR
features are incomplete) are not classified and not counted. Never part of the test run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SINUS = ("SR", "SBRAD", "STACH", "SARRH")
"""PTB-XL rhythm statements of sinus rhythm (``scp_statements.csv``)."""
ECTOPIC_BEATS = ("PVC", "PAC")
"""PTB-XL form statements of premature beats."""
CLASSES = ("N", "S", "V", "F")


def select_records(ptbxl_dir: Path) -> tuple[list[str], list[str]]:
    """``(sinus_without_ectopy, with_ectopic_beats)``: 500-Hz record paths (``filename_hr``) present on disk.

    Raises:
        FileNotFoundError: no ``ptbxl_database.csv`` / ``ptbxl_database_subset.csv`` or no ``scp_statements.csv``.
    """
    import pandas as pd

    from heartbert_hf.data.labels import parse_scp_codes

    tables = [ptbxl_dir / n for n in ("ptbxl_database.csv", "ptbxl_database_subset.csv") if (ptbxl_dir / n).exists()]
    if not tables or not (ptbxl_dir / "scp_statements.csv").exists():
        raise FileNotFoundError(f"{ptbxl_dir}: needs ptbxl_database.csv (or ptbxl_database_subset.csv) and scp_statements.csv.")
    statements = pd.read_csv(ptbxl_dir / "scp_statements.csv", index_col=0)
    rhythms = set(statements.index[statements["rhythm"] == 1])
    sinus, ectopic = [], []
    for row in pd.read_csv(tables[0]).itertuples():
        if not (ptbxl_dir / f"{row.filename_hr}.hea").exists():
            continue
        codes = set(parse_scp_codes(row.scp_codes))
        if codes & set(ECTOPIC_BEATS):
            ectopic.append(row.filename_hr)
        elif codes & set(SINUS) and not (codes & rhythms) - set(SINUS):
            sinus.append(row.filename_hr)
    return sinus, ectopic


def main(argv: list[str] | None = None) -> int:
    from heartbert_hf.beat_classifier import load_classifier
    from heartbert_hf.classify_beats import ClassifyBeatsArguments, classify_record
    from heartbert_hf.runtime import set_torch_threads

    parser = argparse.ArgumentParser(prog="ptbxl_sinus_specificity.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ptbxl_dir", required=True, help="PTB-XL folder (ptbxl_database.csv, scp_statements.csv, records500/)")
    parser.add_argument("--model", default=None, help="beat classifier folder or Hub id (default: the shipped heartbert-aami-ds1)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed")
    parser.add_argument("--output", default=None, help="JSON file for the counts")
    args = parser.parse_args(argv)
    set_torch_threads(1)
    t0 = time.time()
    ptbxl = Path(args.ptbxl_dir)
    sinus, ectopic = select_records(ptbxl)
    if not sinus:
        raise SystemExit(f"{ptbxl}: no 500-Hz record in sinus rhythm without ectopy found.")
    clf = load_classifier(args.model)
    counts = {}
    with tempfile.TemporaryDirectory() as out:
        options = ClassifyBeatsArguments(record=str(ptbxl), model=args.model, output_dir=out)
        for name in sinus + ectopic:
            result = classify_record(ptbxl / name, clf, options)
            counts[name] = {c: result.labels.count(c) for c in (*CLASSES, "Q")}
    lines = ["| record | group | N | S | V | F | Q (not classified) |", "|---|---|---|---|---|---|---|"]
    for name, c in counts.items():
        group = "sinus, no ectopy" if name in sinus else "PVC / PAC statement"
        lines.append(f"| {Path(name).name} | {group} | " + " | ".join(str(c[k]) for k in (*CLASSES, "Q")) + " |")
    table = np.array([[counts[n][c] for c in CLASSES] for n in sinus])  # (records, 4)
    rng = np.random.default_rng(args.seed)
    picks = rng.integers(0, len(sinus), size=(1000, len(sinus)))
    resampled = table[picks].sum(axis=1)  # (1000, 4)
    share = resampled[:, 1:].sum(axis=1) / np.maximum(resampled.sum(axis=1), 1)
    total = table.sum(axis=0)
    false_positive = float(total[1:].sum() / max(total.sum(), 1))
    ci = [float(x) for x in np.percentile(share, [2.5, 97.5])]
    summary = (
        f"{len(sinus)} sinus-rhythm records without ectopy, {int(total.sum())} classified beats: "
        + ", ".join(f"{c} {int(n)}" for c, n in zip(CLASSES, total))
        + f"; labelled S, V or F: {false_positive:.1%} (95% CI {ci[0]:.1%} to {ci[1]:.1%}, record bootstrap); "
        f"model {args.model or 'shipped heartbert-aami-ds1'}; wall time {time.time() - t0:.0f} s"
    )
    print("\n".join(lines) + "\n\n" + summary)
    if args.output:
        with open(args.output, "w") as f:
            json.dump(
                {
                    "counts": counts,
                    "sinus_records": sinus,
                    "ectopic_records": ectopic,
                    "false_positive_share": false_positive,
                    "ci95": ci,
                    "summary": summary,
                    "command": ["python", "benchmarks/ptbxl_sinus_specificity.py", *(argv if argv is not None else sys.argv[1:])],
                },
                f,
                indent=1,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
