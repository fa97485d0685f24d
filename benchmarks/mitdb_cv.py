"""Record-wise K-fold cross-validation of mitdb-aami on the DS1 records: pretrained vs random init.

    python benchmarks/mitdb_cv.py --model outputs/ft-cv-pretrain-h64 --data_dir ../shared/physionet/mitdb \
        --output_dir outputs/mitdb-cv [any other `heartbert finetune` option]

Runs ``heartbert finetune --task mitdb-aami --cv 5`` (both arms: the pretrained encoder and a
randomly initialised HeartBert of the same shape, same folds, same beat subsets), then prints a
Markdown table and draws the pooled confusion matrices of both arms to
``docs/figures/mitdb_cv_confusion_<output_dir name>_{pretrained,random}.png``. Never part of the test run.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

DEFAULTS = ["--cv", "5", "--max_train_per_class", "300", "--epochs", "4", "--batch_size", "32", "--learning_rate", "5e-4", "--torch_threads", "1"]


def table(report: dict) -> str:
    """A Markdown table of the pooled and per-fold metrics of each arm."""
    rows = ["| init | pooled macro-F1 | fold macro-F1 (mean ± sd) | accuracy | κ | j-index | Se S | PPV S | Se V | PPV V | seconds |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for arm, res in report["arms"].items():
        p = res["pooled"]
        s, v = p["per_class"]["S"], p["per_class"]["V"]
        rows.append(
            f"| {arm} | {p['macro_f1']:.3f} | {res['macro_f1_mean']:.3f} ± {res['macro_f1_std']:.3f} | {p['accuracy']:.3f} | {p['cohen_kappa']:.3f} | "
            f"{p['j_index']:.3f} | {s['sensitivity']:.3f} | {s['ppv']:.3f} | {v['sensitivity']:.3f} | {v['ppv']:.3f} | {res['train_and_score_seconds']:.0f} |"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    from heartbert_hf.finetune import main as finetune_main
    from heartbert_hf.plots import plot_confusion_matrix

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--output_dir" not in argv:
        argv += ["--output_dir", "outputs/mitdb-cv"]
    given = {a for a in argv if a.startswith("--")}
    extra = [x for i in range(0, len(DEFAULTS), 2) if DEFAULTS[i] not in given for x in DEFAULTS[i : i + 2]]
    start = time.time()
    code = finetune_main(["--task", "mitdb-aami", *extra, *argv])
    if code:
        return code
    out = Path(argv[argv.index("--output_dir") + 1])
    report = json.loads((out / "cv_results.json").read_text())
    print(table(report))
    print(f"\n{report['n_folds']} folds over {len(report['records'])} records; wall time {time.time() - start:.0f} s")
    figures = Path(__file__).resolve().parents[1] / "docs" / "figures"
    for arm, res in report["arms"].items():
        p = res["pooled"]
        plot_confusion_matrix(p["confusion_matrix"], p["labels"], figures / f"mitdb_cv_confusion_{out.name}_{arm}.png",
                              title=f"{report['n_folds']}-fold CV, {arm} init")
    return 0


if __name__ == "__main__":
    sys.exit(main())
