"""``heartbert finetune``: fine-tune HeartBert on a downstream task with record/patient-wise splits.

    heartbert finetune --task mitdb-aami --model PATH_OR_HUB_ID --data_dir DIR --output_dir OUT

What it does, in order:

1. loads the tokenizer saved with ``--model`` (a folder without a HeartBert tokenizer is an error;
   the tokenizer is never refitted here, so evaluation data never shapes it);
2. loads the task through the data layer (splits by record / patient, checked disjoint);
3. tokenizes each example into one or more sequences (a window longer than ``max_length`` tokens is
   split, never truncated); every sequence carries its example's label;
4. trains the head (``--head sequence|bilstm``, or ``--linear_probe``) with a **class-weighted
   loss** (single-label: cross-entropy weighted by inverse class frequency of the training
   sequences; multi-label: BCE ``pos_weight`` = negatives/positives, clipped to [1, 100]), plus an
   optional per-class cap on training examples (``--max_train_per_class``);
5. predicts per example by averaging the class probabilities of its sequences, selects the epoch on
   the validation split (mitdb-aami: held-out DS1 records), tunes multi-label thresholds there,
   and scores the test split when the data has one;
6. runs the same recipe from a randomly initialised HeartBert of the same shape (``--baseline``,
   on by default) and reports the difference.

``--cv K`` (mitdb-aami): record-wise K-fold cross-validation over the DS1 records present, fixed
epochs, each fold scored on its held-out records; writes ``cv_results.json``.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

RESULTS_FILE = "results.json"


@dataclass
class FinetuneArguments:
    """Options of ``heartbert finetune``."""

    task: str = field(metadata={"help": "mitdb-aami | ptbxl-superdiagnostic | ptbxl-diagnostic | slpdb-5 | slpdb-3"})
    model: str = field(metadata={"help": "pretrained HeartBert folder or Hub id (must hold its HeartBert tokenizer)"})
    output_dir: str = field(default="heartbert-finetuned", metadata={"help": "where the model, tokenizer and results go"})
    data_dir: str | None = field(default=None, metadata={"help": "local database copy (default: download from PhysioNet)"})
    cache_dir: str | None = field(default=None, metadata={"help": "datasets cache directory"})
    head: str = field(default="sequence", metadata={"help": "sequence (RoBERTa <s> classifier) | bilstm (BiLSTM over token states, lower half of the encoder frozen)"})
    linear_probe: bool = field(default=False, metadata={"help": "freeze the encoder; train a linear layer on the pooled embedding"})
    random_init: bool = field(default=False, metadata={"help": "train from a randomly initialised HeartBert of the model's shape (the baseline) only"})
    baseline: bool = field(default=True, metadata={"help": "also run the random-init baseline with the same splits and report the gain (--no_baseline to skip)"})
    cv: int = field(default=0, metadata={"help": "mitdb-aami: record-wise K-fold cross-validation over the DS1 records present (0: off)"})
    validation_records: list[str] | None = field(default=None, metadata={"help": "mitdb-aami: DS1 records for model selection (default: a seeded record-wise fold)"})
    val_folds: int = field(default=5, metadata={"help": "mitdb-aami: the validation records are 1 of this many record-wise folds of DS1"})
    max_length: int = field(default=0, metadata={"help": "tokens per sequence (0: the model's positions - 2, at most 512)"})
    max_train_per_class: int = field(default=0, metadata={"help": "cap on training examples per class (single-label; 0: no cap)"})
    max_eval_examples: int = field(default=0, metadata={"help": "uniform random cap on evaluated examples per split (0: all)"})
    epochs: float = field(default=3.0, metadata={"help": "training epochs"})
    batch_size: int = field(default=32, metadata={"help": "sequences per batch"})
    learning_rate: float = field(default=5e-5, metadata={"help": "peak learning rate (linear decay, 10%% warm-up)"})
    lstm_hidden_size: int = field(default=128, metadata={"help": "BiLSTM width per direction (--head bilstm)"})
    class_weighting: bool = field(default=True, metadata={"help": "class-weighted loss (--no_class_weighting to turn off)"})
    seed: int = field(default=42, metadata={"help": "seed of splits, subsets, initialisation and shuffling"})
    skip_missing_records: bool = field(default=False, metadata={"help": "ptbxl: skip metadata rows whose record files are absent (a partial copy)"})
    torch_threads: int = field(default=0, metadata={"help": "torch CPU threads (0: torch's default; 1 is often fastest on a shared, loaded machine)"})


# ------------------------------------------------------------------ loading
def load_heartbert_tokenizer(model: str):
    """The HeartBert tokenizer saved with ``model``; a clear ``ValueError`` when there is none."""
    from .tokenization_heartbert import QUANTIZER_FILE, HeartBertTokenizer

    path = Path(model)
    if path.is_dir() and not (path / QUANTIZER_FILE).is_file():
        raise ValueError(
            f"{model} has no HeartBert tokenizer ({QUANTIZER_FILE} + tokenizer.json): fine-tuning must use the tokenizer "
            "the model was pretrained with. Save it into the model folder with tokenizer.save_pretrained(folder)."
        )
    try:
        return HeartBertTokenizer.from_pretrained(model)
    except (OSError, ValueError) as err:
        raise ValueError(f"{model} has no usable HeartBert tokenizer: {err}") from None


def resolve_max_length(requested: int, config) -> int:
    """``requested`` or the model's positions - 2 (capped at 512); never beyond the model's limit."""
    limit = int(config.max_position_embeddings) - 2
    if requested and requested > limit:
        raise ValueError(f"max_length {requested} exceeds the model's {limit} token positions.")
    return int(requested) if requested else min(limit, 512)


def build_model(model: str, head: str, labels: list[str], problem_type: str, random_init: bool, seed: int, lstm_hidden_size: int = 128):
    """A classifier of the requested head over ``model``'s encoder (or a random one of its shape).

    Args:
        model: the pretrained folder / Hub id.
        head: ``sequence``, ``bilstm`` or ``linear-probe``.
        labels: class names.
        problem_type: single- or multi-label.
        random_init: ignore the pretrained weights (the baseline).
        seed: initialisation seed.
        lstm_hidden_size: BiLSTM width.
    """
    import torch
    from transformers import set_seed

    from .configuration_heartbert import HeartBertConfig
    from .modeling_heartbert import HeartBertForSequenceClassification

    config = HeartBertConfig.from_pretrained(model)
    config.num_labels = len(labels)
    config.id2label = dict(enumerate(labels))
    config.label2id = {name: i for i, name in enumerate(labels)}
    config.problem_type = problem_type
    config.classifier_head = head
    config.lstm_hidden_size = lstm_hidden_size
    config.architectures = None
    config.check_heads()  # unknown head → ValueError listing the choices
    set_seed(seed)
    if random_init:
        net = HeartBertForSequenceClassification(config)
    else:
        net = HeartBertForSequenceClassification.from_pretrained(model, config=config)  # freezing re-applied on load
    return net.to(torch.float32)


# ------------------------------------------------------------------ data
def tokenize_split(ds, tokenizer, max_length: int, desc: str = "Tokenizing"):
    """Examples → sequences (``input_ids``, ``attention_mask``, ``labels``, ``example_id``)."""
    from .data import tokenize_dataset

    return tokenize_dataset(ds, tokenizer, max_length=max_length, keep_columns=["labels", "example_id"], desc=desc)


def class_weights(tokenized, n_labels: int, multi_label: bool):
    """Inverse-frequency class weights (single-label) or BCE ``pos_weight`` (multi-label)."""
    import torch

    y = np.asarray(tokenized["labels"])
    if multi_label:
        pos = y.sum(axis=0)
        neg = len(y) - pos
        w = np.where(pos > 0, neg / np.maximum(pos, 1), 1.0).clip(1.0, 100.0)
    else:
        counts = np.bincount(y.astype(np.int64), minlength=n_labels).astype(np.float64)
        w = np.where(counts > 0, counts.sum() / (n_labels * np.maximum(counts, 1)), 0.0)
    return torch.tensor(w, dtype=torch.float32)


def aggregate(example_ids, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average sequence probabilities per example: ``(unique_example_ids, (n_examples, classes))``."""
    ids = np.asarray(example_ids)
    uniq, inverse = np.unique(ids, return_inverse=True)
    sums = np.zeros((len(uniq), probs.shape[1]))
    np.add.at(sums, inverse, probs)
    return uniq, sums / np.bincount(inverse)[:, None]


def to_probs(logits: np.ndarray, multi_label: bool) -> np.ndarray:
    """Softmax (single-label) or sigmoid (multi-label) of ``(n, classes)`` logits."""
    logits = np.asarray(logits, dtype=np.float64)
    if multi_label:
        return 1.0 / (1.0 + np.exp(-logits))
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def score(task, labels: list[str], y_true, probs: np.ndarray, thresholds=None) -> dict:
    """Task metrics for per-example probabilities (see :mod:`heartbert_hf.metrics`)."""
    from .metrics import classification_metrics, multilabel_metrics

    if task.multi_label:
        return multilabel_metrics(np.asarray(y_true), probs, labels, thresholds)
    return classification_metrics(np.asarray(y_true), probs.argmax(axis=1), labels, task.report_classes)


def example_labels(tokenized, uniq_ids: np.ndarray):
    """The label of each example id in ``uniq_ids`` (taken from its first sequence)."""
    first = {}
    for eid, lab in zip(tokenized["example_id"], tokenized["labels"]):
        first.setdefault(eid, lab)
    return [first[int(e)] for e in uniq_ids]


# ------------------------------------------------------------------ training
def make_trainer(model, args: FinetuneArguments, output_dir: str, train, eval_ds, tokenizer, weights, task, labels, select: bool):
    """A ``Trainer`` with the class-weighted loss and per-example validation metrics."""
    import torch
    from transformers import DataCollatorWithPadding, Trainer, TrainingArguments

    from .modeling_heartbert import classification_loss

    class WeightedLossTrainer(Trainer):
        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            labels_ = inputs.pop("labels")
            outputs = model(**inputs)
            w = weights.to(outputs.logits.device) if weights is not None else None
            loss = classification_loss(outputs.logits, labels_, model.config.problem_type, w)
            return (loss, outputs) if return_outputs else loss

    eval_ids = eval_ds["example_id"] if eval_ds is not None else None

    def compute_metrics(pred):
        uniq, probs = aggregate(eval_ids, to_probs(pred.predictions, task.multi_label))
        y = example_labels(eval_ds, uniq)
        metrics = score(task, labels, y, probs)
        value = metrics.get(task.primary_metric)
        return {task.primary_metric: float(value) if value is not None else 0.0, "accuracy": metrics.get("accuracy", 0.0)}

    do_eval = select and eval_ds is not None
    targs = TrainingArguments(
        output_dir=output_dir,
        num_train_epochs=args.epochs,
        per_device_train_batch_size=args.batch_size,
        per_device_eval_batch_size=args.batch_size * 2,
        learning_rate=args.learning_rate,
        warmup_steps=0.1,
        weight_decay=0.01,
        eval_strategy="epoch" if do_eval else "no",
        save_strategy="epoch" if do_eval else "no",
        save_total_limit=1,
        load_best_model_at_end=do_eval,
        metric_for_best_model=task.primary_metric if do_eval else None,
        greater_is_better=True,
        logging_steps=50,
        report_to="none",
        use_cpu=not torch.cuda.is_available(),
        seed=args.seed,
        dataloader_num_workers=0,
        remove_unused_columns=True,
        disable_tqdm=False,
    )
    columns = ["input_ids", "attention_mask", "labels"]
    return WeightedLossTrainer(
        model=model,
        args=targs,
        train_dataset=train.select_columns(columns),
        eval_dataset=eval_ds.select_columns(columns) if do_eval else None,
        data_collator=DataCollatorWithPadding(tokenizer),
        processing_class=tokenizer,
        compute_metrics=compute_metrics if do_eval else None,
    )


def predict(trainer, tokenized, task) -> tuple[np.ndarray, np.ndarray, list]:
    """Per-example ``(example_ids, probs, labels)`` for a tokenized split."""
    saved, trainer.compute_metrics = trainer.compute_metrics, None  # it knows the validation split only
    try:
        out = trainer.predict(tokenized.select_columns(["input_ids", "attention_mask", "labels"]))
    finally:
        trainer.compute_metrics = saved
    uniq, probs = aggregate(tokenized["example_id"], to_probs(out.predictions, task.multi_label))
    return uniq, probs, example_labels(tokenized, uniq)


def evaluate_splits(trainer, tokenized: dict, task, labels: list[str]) -> dict:
    """Score validation and test; multi-label thresholds are tuned on validation (else on train, flagged)."""
    from .metrics import tune_thresholds

    results, thresholds, tuned_on = {}, None, None
    if task.multi_label:
        tuned_on = "validation" if "validation" in tokenized else "train"
        if tuned_on == "train":
            logger.warning("no validation split: multi-label thresholds are tuned on the TRAINING split.")
        _, probs, y = predict(trainer, tokenized[tuned_on], task)
        thresholds = tune_thresholds(np.asarray(y), probs)
    for split in ("validation", "test"):
        if split in tokenized:
            _, probs, y = predict(trainer, tokenized[split], task)
            results[split] = score(task, labels, y, probs, thresholds)
    if thresholds is not None:
        results["thresholds"] = dict(zip(labels, map(float, thresholds)))
        results["thresholds_tuned_on"] = tuned_on
    return results


def run_arm(args: FinetuneArguments, tokenizer, tokenized: dict, task, labels, head: str, random_init: bool, output_dir: str, save: bool, select: bool = True) -> tuple[dict, object]:
    """Train one model (pretrained or random init) and score it; returns ``(results, trainer)``."""
    model = build_model(args.model, head, labels, task.problem_type, random_init, args.seed, args.lstm_hidden_size)
    weights = class_weights(tokenized["train"], len(labels), task.multi_label) if args.class_weighting else None
    trainer = make_trainer(model, args, output_dir, tokenized["train"], tokenized.get("validation"), tokenizer, weights, task, labels, select)
    trainer.train()
    results = evaluate_splits(trainer, tokenized, task, labels)
    results["init"] = "random" if random_init else "pretrained"
    results["trainable_parameters"] = int(sum(p.numel() for p in model.parameters() if p.requires_grad))
    if save:
        save_finetuned(trainer.model, tokenizer, output_dir, args, task, labels, results)
    return results, trainer


def save_finetuned(model, tokenizer, output_dir: str, args: FinetuneArguments, task, labels, results: dict) -> None:
    """Save the model (with its task, labels, thresholds and sequence length in the config) + tokenizer."""
    model.config.heartbert_finetune = {
        "task": task.name,
        "labels": labels,
        "head": "linear-probe" if args.linear_probe else args.head,
        "init": results["init"],
        "base_model": args.model,
        "max_length": args.max_length,
        "thresholds": results.get("thresholds"),
        "seed": args.seed,
        "splits": getattr(args, "_splits", None),
        "skip_missing_records": args.skip_missing_records,
    }
    model.save_pretrained(output_dir)
    # reload: tokenizing set truncation on the backend, and save_pretrained would write that state
    load_heartbert_tokenizer(args.model).save_pretrained(output_dir)
    for leftover in Path(output_dir).glob("checkpoint-*"):
        import shutil

        shutil.rmtree(leftover, ignore_errors=True)


def headline(results: dict, metric: str) -> float | None:
    """The primary metric of the split results are reported on (test when present, else validation)."""
    for split in ("test", "validation"):
        if split in results and results[split].get(metric) is not None:
            return float(results[split][metric])
    return None


# ------------------------------------------------------------------ cross-validation
def run_cv(args: FinetuneArguments, tokenizer, data, task, labels, head: str) -> dict:
    """Record-wise K-fold CV over the training records (mitdb-aami: DS1); pooled + per-fold metrics."""
    import datasets

    from .tasks import check_disjoint, cv_folds, subsample, subsample_per_class

    pool = datasets.concatenate_datasets([data[s] for s in ("train", "validation") if s in data])
    pool = pool.remove_columns("example_id").add_column("example_id", list(range(len(pool))))
    records = sorted(set(pool["record_id"]))
    folds = cv_folds(records, args.cv, args.seed)
    arms = [("pretrained", False)] * (not args.random_init) + [("random", True)] * (args.baseline or args.random_init)
    report = {"task": task.name, "n_folds": args.cv, "records": records, "folds": [], "arms": {}}
    pooled = {name: ([], []) for name, _ in arms}
    seconds = {name: 0.0 for name, _ in arms}
    import time
    for k, (train_recs, test_recs) in enumerate(folds):
        train = subsample_per_class(pool.filter(lambda b: [r in train_recs for r in b["record_id"]], batched=True), args.max_train_per_class, args.seed, task.multi_label)
        test = subsample(pool.filter(lambda b: [r in test_recs for r in b["record_id"]], batched=True), args.max_eval_examples, args.seed)
        check_disjoint({"train": train, "test": test}, "record_id")
        tok = {"train": tokenize_split(train, tokenizer, args.max_length, f"fold {k} train"), "test": tokenize_split(test, tokenizer, args.max_length, f"fold {k} test")}
        fold = {"fold": k, "train_records": train_recs, "test_records": test_recs, "n_train": len(train), "n_test": len(test)}
        for name, random_init in arms:
            logger.info("fold %d/%d, %s", k + 1, args.cv, name)
            t0 = time.time()
            results, trainer = run_arm(args, tokenizer, tok, task, labels, head, random_init, os.path.join(args.output_dir, f"fold{k}-{name}"), save=False, select=False)
            _, probs, y = predict(trainer, tok["test"], task)
            pooled[name][0].extend(y)
            pooled[name][1].append(probs)
            fold[name] = results["test"]
            seconds[name] += time.time() - t0
        report["folds"].append(fold)
    for name, _ in arms:
        per_fold = [f[name][task.primary_metric] for f in report["folds"]]
        report["arms"][name] = {
            "pooled": score(task, labels, pooled[name][0], np.concatenate(pooled[name][1])),
            f"{task.primary_metric}_per_fold": per_fold,
            f"{task.primary_metric}_mean": float(np.mean(per_fold)),
            f"{task.primary_metric}_std": float(np.std(per_fold)),
            "train_and_score_seconds": round(seconds[name], 1),
        }
    if len(arms) == 2:
        report["pretraining_gain"] = {
            f"pooled_{task.primary_metric}": report["arms"]["pretrained"]["pooled"][task.primary_metric] - report["arms"]["random"]["pooled"][task.primary_metric],
            f"mean_{task.primary_metric}": report["arms"]["pretrained"][f"{task.primary_metric}_mean"] - report["arms"]["random"][f"{task.primary_metric}_mean"],
        }
    return report


# ------------------------------------------------------------------ entry point
def finetune(args: FinetuneArguments) -> dict:
    """Run ``heartbert finetune`` from parsed arguments; returns the report written to ``results.json``."""
    from .configuration_heartbert import HeartBertConfig
    from .tasks import check_label_space, get_task, load_task_data, subsample, subsample_per_class, task_labels

    task = get_task(args.task)
    if args.torch_threads:
        import torch

        torch.set_num_threads(args.torch_threads)
    if args.head not in ("sequence", "bilstm"):
        raise ValueError(f"unknown --head {args.head!r}; choose sequence or bilstm (or --linear_probe).")
    head = "linear-probe" if args.linear_probe else args.head
    if args.cv and task.name != "mitdb-aami":
        raise ValueError("--cv is implemented for mitdb-aami (record-wise over DS1); other tasks have fixed splits.")
    tokenizer = load_heartbert_tokenizer(args.model)
    config = HeartBertConfig.from_pretrained(args.model)
    labels = task_labels(task, args.data_dir)
    done = getattr(config, "heartbert_finetune", None)
    check_label_space(done.get("labels") if isinstance(done, dict) else None, labels, args.model)
    args.max_length = resolve_max_length(args.max_length, config)
    extra = {"skip_missing": True} if args.skip_missing_records and task.database == "ptbxl" else {}
    data = load_task_data(task, args.data_dir, args.cache_dir, args.validation_records, args.val_folds, args.seed, **extra)
    if "train" not in data:
        raise ValueError(f"{task.name}: the data at {args.data_dir} has no training split ({list(data)}).")
    splits = {name: sorted(set(ds[task.group_column])) for name, ds in data.items()}
    args._splits = {name: sorted(set(ds["record_id"])) for name, ds in data.items()}
    os.makedirs(args.output_dir, exist_ok=True)
    if args.cv:
        report = run_cv(args, tokenizer, data, task, labels, head)
        report.update({"model": args.model, "head": head, "arguments": asdict(args)})
        _write_json(Path(args.output_dir) / "cv_results.json", report)
        return report
    data["train"] = subsample_per_class(data["train"], args.max_train_per_class, args.seed, task.multi_label)
    for split in ("validation", "test"):
        if split in data:
            data[split] = subsample(data[split], args.max_eval_examples, args.seed)
    tokenized = {name: tokenize_split(ds, tokenizer, args.max_length, f"Tokenizing {name}") for name, ds in data.items()}
    report = {"task": task.name, "model": args.model, "head": head, "labels": labels, "splits": splits, "n_examples": {k: len(v) for k, v in data.items()}}
    report["class_imbalance"] = "class-weighted loss" if args.class_weighting else "none"
    if not args.random_init:
        report["pretrained"], _ = run_arm(args, tokenizer, tokenized, task, labels, head, False, args.output_dir, save=True)
    if args.random_init or args.baseline:
        out = args.output_dir if args.random_init else os.path.join(args.output_dir, "baseline-random-init")
        report["random_init"], _ = run_arm(args, tokenizer, tokenized, task, labels, head, True, out, save=True)
    if "pretrained" in report and "random_init" in report:
        a, b = headline(report["pretrained"], task.primary_metric), headline(report["random_init"], task.primary_metric)
        report["pretraining_gain"] = {task.primary_metric: (a - b) if a is not None and b is not None else None}
    report["arguments"] = asdict(args)
    _write_json(Path(args.output_dir) / RESULTS_FILE, report)
    return report


def _write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))


def main(argv: list[str] | None = None) -> int:
    """``heartbert finetune``: parse ``argv`` and run (see the module doc).

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).
    """
    from transformers import HfArgumentParser

    parser = HfArgumentParser(FinetuneArguments, prog="heartbert finetune", description=__doc__.split("\n\n")[0])
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    try:
        report = finetune(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"heartbert finetune: error: {err}", file=sys.stderr)
        return 2
    metric = get_metric_name(args.task)
    if args.cv:
        for arm, res in report["arms"].items():
            print(f"{arm}: pooled {metric} {res['pooled'][metric]:.4f}, per-fold mean {res[metric + '_mean']:.4f} ± {res[metric + '_std']:.4f}")
    else:
        for arm in ("pretrained", "random_init"):
            if arm in report:
                print(f"{arm}: {metric} = {headline(report[arm], metric)}")
    print(f"results: {args.output_dir}")
    return 0


def get_metric_name(task: str) -> str:
    """The primary metric of a task."""
    from .tasks import get_task

    return get_task(task).primary_metric
