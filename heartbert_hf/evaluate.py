"""``heartbert evaluate``: score a fine-tuned HeartBert on a task split; JSON + confusion matrix + model card.

    heartbert evaluate --model FINETUNED_DIR --data_dir DIR [--task TASK] [--split test]

* The task, labels, multi-label thresholds (tuned on validation at fine-tuning time), sequence
  length and validation records come from the fine-tuned model's ``config.json``
  (``heartbert_finetune``); ``--task`` must match its label space.
* Writes ``eval_<task>_<split>.json`` and ``confusion_<task>_<split>.png`` to ``--output_dir``
  (default: the model folder) and adds the metrics to the model card's ``model-index``
  (``README.md`` front matter in the model folder; nothing is sent to the Hub).
* The multi-label "confusion matrix" counts, for each true class (row), the examples predicted as
  each class (column) at the tuned thresholds.
"""

from __future__ import annotations

import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .runtime import THREADS_HELP, HelpFormatter

logger = logging.getLogger(__name__)


@dataclass
class EvaluateArguments:
    """Options of ``heartbert evaluate``."""

    model: str = field(metadata={"help": "a folder written by `heartbert finetune`"})
    task: str | None = field(default=None, metadata={"help": "task (default: the one the model was fine-tuned on)"})
    data_dir: str | None = field(default=None, metadata={"help": "local database copy (default: download)"})
    cache_dir: str | None = field(default=None, metadata={"help": "datasets cache directory"})
    split: str = field(default="test", metadata={"help": "split to score: test (DS2 / fold 10 / test subjects) or validation"})
    output_dir: str | None = field(default=None, metadata={"help": "where the JSON and PNG go (default: the model folder)"})
    max_eval_examples: int = field(default=0, metadata={"help": "uniform random cap on scored examples (0: all)"})
    batch_size: int = field(default=0, metadata={"help": "sequences per forward pass (0: the inference module's measured default, a token budget on CPU)"})
    update_card: bool = field(default=True, metadata={"help": "add the results to README.md model-index (--no_update_card to skip)"})
    seed: int = field(default=42, metadata={"help": "seed of the example subset"})
    torch_threads: int = field(default=0, metadata={"help": THREADS_HELP})


def finetune_info(model_dir: str) -> dict:
    """The ``heartbert_finetune`` block of a fine-tuned model's config (a clear error if absent)."""
    from .configuration_heartbert import HeartBertConfig

    config = HeartBertConfig.from_pretrained(model_dir)
    info = getattr(config, "heartbert_finetune", None)
    if not isinstance(info, dict):
        raise ValueError(f"{model_dir} is not a fine-tuned HeartBert (no heartbert_finetune in config.json): run `heartbert finetune` first.")
    return info


def predict_examples(model, tokenized, batch_size: int | None = None) -> tuple[np.ndarray, np.ndarray, list]:
    """Per-example ``(example_ids, probs, labels)``: sequence probabilities averaged per example.

    Runs through :func:`heartbert_hf.inference.predict_proba` (batched by length, GPU when present);
    a rhythm model gets each sequence's ``rr_features``.

    Raises:
        ValueError: the model takes rhythm features and the data has no ``rr_features`` column.
    """
    from .inference import predict_proba
    from .tasks import RHYTHM_COLUMN, example_labels

    rhythm = None
    if getattr(model.config, "rhythm_feature_names", None):
        if RHYTHM_COLUMN not in tokenized.column_names:
            raise ValueError(f"the model takes rhythm features {model.config.rhythm_feature_names}, but the data has no {RHYTHM_COLUMN} column.")
        rhythm = np.asarray(tokenized[RHYTHM_COLUMN], dtype=np.float32)
    uniq, probs = predict_proba(model, tokenized, batch_size=batch_size, rhythm_features=rhythm)
    return uniq, probs, example_labels(tokenized, uniq)


def label_confusion(y_true, probs: np.ndarray, multi_label: bool, thresholds=None) -> np.ndarray:
    """``(classes, classes)`` counts: rows true class, columns predicted class."""
    n = probs.shape[1]
    if not multi_label:
        from sklearn.metrics import confusion_matrix

        return confusion_matrix(np.asarray(y_true), probs.argmax(axis=1), labels=list(range(n)))
    thr = np.full(n, 0.5) if thresholds is None else np.asarray(thresholds)
    pred = (probs >= thr).astype(np.int64)
    return np.asarray(y_true, dtype=np.int64).T @ pred


def update_model_card(model_dir: str, task: str, split: str, results: dict, dataset_name: str) -> Path:
    """Add (or replace) this task/split's metrics in the ``model-index`` of ``model_dir/README.md``
    (:class:`heartbert_hf.card.HeartBertCardData`; the card's text is kept, a folder without one gets one)."""
    from .card import HeartBertCardData

    card = HeartBertCardData.load(model_dir)
    card.set_eval_results(task, split, results, dataset_name)
    return card.save(model_dir)


def evaluate(args: EvaluateArguments) -> dict:
    """Run ``heartbert evaluate`` from parsed arguments; returns the results dict written to JSON."""
    from .modeling_heartbert import HeartBertForSequenceClassification
    from .plotting import plot_confusion_matrix
    from .runtime import check_model_path, load_heartbert_tokenizer, set_torch_threads
    from .tasks import check_label_space, get_task, load_task_data, subsample, task_labels, tokenize_split

    set_torch_threads(args.torch_threads)
    args.model = check_model_path(args.model)  # a Hub id's cached copy when the Hub cannot be asked
    info = finetune_info(args.model)
    task = get_task(args.task or info["task"])
    labels = task_labels(task, args.data_dir)
    check_label_space(info.get("labels"), labels, args.model)
    tokenizer = load_heartbert_tokenizer(args.model)
    model = HeartBertForSequenceClassification.from_pretrained(args.model)
    saved_splits = info.get("splits") or {}
    val_records = saved_splits.get("validation") if task.database == "mitdb" else None
    # a model trained on every DS1 record (--val_folds 0) has no validation records: none are carved out of its training ones
    val_folds = 0 if task.database == "mitdb" and saved_splits.get("train") and not val_records else 5
    extra = {"skip_missing": True} if info.get("skip_missing_records") and task.database == "ptbxl" else {}
    data = load_task_data(
        task,
        args.data_dir,
        args.cache_dir,
        validation_records=val_records,
        val_folds=val_folds,
        seed=info.get("seed", 42),
        strict_patients=bool(info.get("strict_patients")),
        **extra,
    )
    if args.split not in data:
        if args.split == "validation" and val_folds == 0:
            raise ValueError(
                f"{args.model} was trained on every training record ({', '.join(saved_splits['train'])}; --val_folds 0): it has no "
                "validation records, and scoring its training records would flatter it. Score the test split (MIT-BIH DS2) with --split test."
            )
        hint = " MIT-BIH DS2 (the test records) is not in this data_dir." if task.database == "mitdb" else ""
        raise ValueError(f"split {args.split!r} is not in the {task.name} data (have {list(data)}).{hint} Use --split validation to score the selection split.")
    ds = subsample(data[args.split], args.max_eval_examples, args.seed)
    max_length = int(info.get("max_length") or 0) or model.config.max_position_embeddings - 2
    if getattr(model.config, "beat_context_spans", None):  # a record-context beat classifier reads the records whole
        from .context_arms import predict_split, rows_of
        from .runtime import load_heartbert_processor

        full = data[args.split]  # each record centred on all its beats, then the subsample's rows
        uniq, y = np.asarray(ds["example_id"]), list(ds["labels"])
        probs = predict_split(model.eval(), load_heartbert_processor(args.model), full, args.data_dir, max_length, args.batch_size or None)[rows_of(full, ds)]
    else:
        tokenized = tokenize_split(ds, tokenizer, max_length, f"Tokenizing {args.split}")
        uniq, probs, y = predict_examples(model, tokenized, args.batch_size or None)
    thresholds = [info["thresholds"][c] for c in labels] if task.multi_label and info.get("thresholds") else None
    from .tasks import score

    results = score(task, labels, y, probs, thresholds)
    if not task.multi_label:
        from .scorecard import scorecard

        record_of = dict(zip(ds["example_id"], ds["record_id"]))
        recs = [record_of[int(e)] for e in uniq]
        ci = scorecard({"model": (y, probs.argmax(axis=1), recs)}, labels, task.report_classes)["arms"]["model"]["ci"]
        results["ci"] = ci  # 95 % record-level bootstrap intervals
    results.update({"task": task.name, "split": args.split, "model": str(args.model), "records": sorted(set(ds["record_id"]))})
    out_dir = Path(args.output_dir or args.model)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = f"{task.name}_{args.split}"
    (out_dir / f"eval_{stem}.json").write_text(json.dumps(results, indent=1))
    matrix = label_confusion(y, probs, task.multi_label, thresholds)
    plot_confusion_matrix(matrix, labels, out_dir / f"confusion_{stem}.png", title=f"{task.name} — {args.split}")
    if args.update_card:
        update_model_card(args.model, task.name, args.split, results, task.database)
    return results


def main(argv: list[str] | None = None) -> int:
    """``heartbert evaluate``: parse ``argv`` and run (see the module doc).

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).
    """
    from .runtime import HfArgumentParser

    parser = HfArgumentParser(EvaluateArguments, prog="heartbert evaluate", description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter)
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    try:
        results = evaluate(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"heartbert evaluate: error: {err}", file=sys.stderr)
        return 2
    keys = [k for k in ("accuracy", "macro_f1", "cohen_kappa", "macro_auroc", "j_index") if results.get(k) is not None]
    print(", ".join(f"{k} {results[k]:.4f}" for k in keys))
    if results.get("absent_classes"):
        print(f"note: classes absent from the {args.split} split, left out of the macro averages: {results['absent_classes']}")
    return 0
