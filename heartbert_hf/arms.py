"""The arms of ``heartbert finetune``: build, train, score and save one classifier per arm, and
record-wise cross-validation over them (the library behind :mod:`heartbert_hf.finetune`).

An **arm** is one way of classifying the same beats / examples on the same splits
(:data:`heartbert_hf.scorecard.ARMS`):

- ``features``: RR + morphology logistic regression (:func:`run_features_arm`, :mod:`heartbert_hf.baselines`);
- ``random``: a randomly initialised HeartBert of the pretrained model's shape;
- ``pretrained``: the pretrained encoder;
- ``pretrained+rhythm``: the pretrained encoder with the per-beat RR features fused into the head,
  normalised with the training beats' mean/std (:func:`rhythm_spec`, saved in the config);
- ``random+rhythm``: the random-init encoder with the same RR features (what pretraining adds under rhythm);
- ``pretrained+context`` / ``random+context``: beats read in their record's context (:mod:`heartbert_hf.context_arms`).

The encoder arms (:data:`NEURAL_ARMS`) train through ``transformers.Trainer`` with a class-weighted
loss (:func:`make_trainer`, :func:`class_weights`), or, for a single-label linear probe, are fitted by
logistic regression on cached embeddings (:func:`fits_by_regression`, :mod:`heartbert_hf.probe`).
Each is scored per example (class probabilities averaged over its sequences) with
:func:`heartbert_hf.tasks.score`; :func:`build_scorecard` compares the arms
(:mod:`heartbert_hf.scorecard`). :func:`run_cv` runs every arm on the same record-wise folds.

``args`` below is the command's parsed options, :class:`heartbert_hf.finetune.FinetuneArguments`
with ``args.training`` (``transformers.TrainingArguments``) set; this module never imports the command.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np

from .context_arms import CONTEXT_ARMS, run_context_cv_arm
from .inference import aggregate, to_probs
from .runtime import load_heartbert_processor
from .tasks import RHYTHM_COLUMN, example_labels, score, tokenize_split

logger = logging.getLogger(__name__)


# ------------------------------------------------------------------ loading
def build_model(
    model: str,
    head: str,
    labels: list[str],
    problem_type: str,
    random_init: bool,
    seed: int,
    lstm_hidden_size: int = 128,
    rhythm: dict | None = None,
    beat_context: dict | None = None,
):
    """A classifier of the requested head over ``model``'s encoder (or a random one of its shape).

    Args:
        model: the pretrained folder / Hub id.
        head: ``sequence``, ``bilstm`` or ``linear-probe``.
        labels: class names.
        problem_type: single- or multi-label.
        random_init: ignore the pretrained weights (the baseline).
        seed: initialisation seed.
        lstm_hidden_size: BiLSTM width.
        rhythm: ``{"names", "mean", "std"}`` of the rhythm features fed to the head (``None``: none;
            without ``mean`` / ``std`` the features are fed raw).
        beat_context: ``{"spans", "layers", "centring"}``: a record-context beat classifier
            (``HeartBertConfig.beat_context_*``; :mod:`heartbert_hf.context_arms`), or ``None``.
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
    config.rhythm_feature_names = list(rhythm["names"]) if rhythm else None
    config.rhythm_feature_mean = [float(v) for v in rhythm["mean"]] if rhythm and rhythm.get("mean") is not None else None
    config.rhythm_feature_std = [float(v) for v in rhythm["std"]] if rhythm and rhythm.get("std") is not None else None
    context = beat_context or {}
    config.beat_context_spans = [list(map(float, span)) for span in context["spans"]] if context else None
    config.beat_context_layers = list(context["layers"]) if context.get("layers") is not None else None
    config.beat_context_centring = context.get("centring")
    config.check_heads()  # unknown head → ValueError listing the choices
    set_seed(seed)
    if random_init:
        net = HeartBertForSequenceClassification(config)
    else:
        from transformers.utils import logging as hf_logging

        verbosity = hf_logging.get_verbosity()
        hf_logging.set_verbosity_error()  # the per-arm LOAD REPORT table: replaced by one line below
        try:  # freezing is re-applied on load
            net, info = HeartBertForSequenceClassification.from_pretrained(model, config=config, output_loading_info=True)
        finally:
            hf_logging.set_verbosity(verbosity)
        fresh = sorted(info["missing_keys"])
        unexpected = [k for k in info["unexpected_keys"] if not k.startswith("lm_head.")]
        if [k for k in fresh if not k.startswith(("classifier.", "lstm."))] or unexpected:
            logger.warning("%s: encoder weights not in the checkpoint %s, unexpected %s", model, fresh, unexpected)
        else:
            logger.info("%s: encoder loaded; the %s head's %d tensors start from scratch", model, head, len(fresh))
    return net.to(torch.float32)


# ------------------------------------------------------------------ data

NEURAL_ARMS = {"random": (True, False), "pretrained": (False, False), "pretrained+rhythm": (False, True), "random+rhythm": (True, True)}
"""Encoder arm → (random init, rhythm input)."""

RHYTHM_ARMS = tuple(arm for arm, (_, uses_rhythm) in NEURAL_ARMS.items() if uses_rhythm)
"""The arms that need per-beat RR features."""

SAVE_ORDER = ("pretrained+context", "pretrained+rhythm", "pretrained", "random+context", "random+rhythm", "random")
"""Which encoder arm a run saves in ``--output_dir`` (the first that ran); the others go to ``arm-<name>``."""


def saved_arm(arms: list[str]) -> str | None:
    """The encoder arm of ``arms`` that ``heartbert finetune`` saves as its model (:data:`SAVE_ORDER`), or ``None``."""
    return next((arm for arm in SAVE_ORDER if arm in arms), None)


def resolve_arms(args, task) -> list[str]:
    """The arms to run, in scorecard order (see ``--arms``); a clear ``ValueError`` for a bad list."""
    from .scorecard import ARMS

    if args.arms:
        arms = [a.strip() for a in args.arms.split(",") if a.strip()]
    elif args.random_init:
        arms = ["random"]
    elif RHYTHM_COLUMN in task.extra_columns:
        arms = list(ARMS) if args.baseline else ["features", "pretrained", "pretrained+rhythm", "pretrained+context"]
        if not args.data_dir:  # the record-context arms re-read the records from a local copy
            arms = [a for a in arms if a not in CONTEXT_ARMS]
    else:
        arms = ["random", "pretrained"] if args.baseline else ["pretrained"]
    unknown = [a for a in arms if a not in ARMS]
    if unknown or not arms:
        raise ValueError(f"unknown --arms {unknown or args.arms!r}; choose from {list(ARMS)}.")
    needs_rr = [a for a in arms if a == "features" or a in RHYTHM_ARMS or a in CONTEXT_ARMS]
    if needs_rr and RHYTHM_COLUMN not in task.extra_columns:
        raise ValueError(f"arms {needs_rr} need per-beat RR features, which only mitdb-aami has; {task.name} runs random and pretrained.")
    if task.multi_label and "features" in arms:
        raise ValueError("the features arm is single-label (mitdb-aami).")
    context = [a for a in arms if a in CONTEXT_ARMS]
    if context and not args.data_dir:
        raise ValueError(f"arms {context} re-read each record in full: pass --data_dir (a local MIT-BIH copy).")
    return [a for a in ARMS if a in arms]


def rhythm_spec(train_examples) -> dict:
    """Names, mean and std of the RR features over the **training** beats (one row per beat), saved
    in the model's config so that the model normalises new beats the same way."""
    from .rhythm import RR_FEATURE_NAMES

    x = np.asarray(train_examples[RHYTHM_COLUMN], dtype=np.float64)  # (n_beats, n_features)
    return {"names": list(RR_FEATURE_NAMES), "mean": x.mean(axis=0).tolist(), "std": x.std(axis=0).tolist()}


def model_columns(rhythm: bool) -> list[str]:
    """The tokenized columns the Trainer feeds the model (``rr_features`` only for a rhythm head)."""
    return ["input_ids", "attention_mask", "labels"] + ([RHYTHM_COLUMN] if rhythm else [])


class RhythmCollator:
    """``DataCollatorWithPadding`` that also stacks ``rr_features`` into ``rhythm_features`` ``(batch, n)`` float32."""

    def __init__(self, tokenizer):
        from transformers import DataCollatorWithPadding

        self.pad = DataCollatorWithPadding(tokenizer)

    def __call__(self, features):
        import torch

        features = [dict(f) for f in features]
        rr = [f.pop(RHYTHM_COLUMN) for f in features] if features and RHYTHM_COLUMN in features[0] else None
        batch = self.pad(features)
        if rr is not None:
            batch["rhythm_features"] = torch.tensor(np.asarray(rr, dtype=np.float32))
        return batch


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


# ------------------------------------------------------------------ training
def make_trainer(model, args, output_dir: str, train, eval_ds, tokenizer, weights, task, labels, select: bool, rhythm: bool = False):
    """A ``Trainer`` with the class-weighted loss and per-example validation metrics, over ``args.training``."""
    import dataclasses

    from transformers import Trainer

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
        uniq, probs = aggregate(eval_ids, to_probs(pred.predictions, task.problem_type))
        y = example_labels(eval_ds, uniq)
        metrics = score(task, labels, y, probs)
        value = metrics.get(task.primary_metric)
        return {task.primary_metric: float(value) if value is not None else 0.0, "accuracy": metrics.get("accuracy", 0.0)}

    do_eval = select and eval_ds is not None
    targs = dataclasses.replace(  # the user's TrainingArguments; the epoch selection and folders are the command's
        args.training,
        output_dir=output_dir,
        eval_strategy="epoch" if do_eval else "no",
        save_strategy="epoch" if do_eval else "no",
        load_best_model_at_end=do_eval,
        metric_for_best_model=task.primary_metric if do_eval else None,
        greater_is_better=True,
        remove_unused_columns=False,
        push_to_hub=False,  # main() pushes the saved folder once, card included
    )
    columns = model_columns(rhythm)
    return WeightedLossTrainer(
        model=model,
        args=targs,
        train_dataset=train.select_columns(columns),
        eval_dataset=eval_ds.select_columns(columns) if do_eval else None,
        data_collator=RhythmCollator(tokenizer),
        processing_class=tokenizer,
        compute_metrics=compute_metrics if do_eval else None,
    )


def predict(trainer, tokenized, task, rhythm: bool = False) -> tuple[np.ndarray, np.ndarray, list]:
    """Per-example ``(example_ids, probs, labels)`` for a tokenized split, through
    :func:`heartbert_hf.inference.predict_proba` (the one prediction path of every command)."""
    from .inference import predict_proba

    features = np.asarray(tokenized[RHYTHM_COLUMN], dtype=np.float32) if rhythm else None
    uniq, probs = predict_proba(trainer.model, tokenized, batch_size=trainer.args.per_device_eval_batch_size, rhythm_features=features)
    return uniq, probs, example_labels(tokenized, uniq)


def evaluate_splits(trainer, tokenized: dict, task, labels: list[str], rhythm: bool = False) -> tuple[dict, dict]:
    """Score validation and test; multi-label thresholds are tuned on validation (else on train, flagged).

    Returns:
        ``(results, predictions)``: metrics per split, and split → ``(example_ids, probs, labels)``.
    """
    from .metrics import tune_thresholds

    results, predictions, thresholds, tuned_on = {}, {}, None, None
    if task.multi_label:
        tuned_on = "validation" if "validation" in tokenized else "train"
        if tuned_on == "train":
            logger.warning("no validation split: multi-label thresholds are tuned on the TRAINING split.")
        _, probs, y = predict(trainer, tokenized[tuned_on], task, rhythm)
        thresholds = tune_thresholds(np.asarray(y), probs)
    for split in ("validation", "test"):
        if split in tokenized:
            predictions[split] = predict(trainer, tokenized[split], task, rhythm)
            results[split] = score(task, labels, predictions[split][2], predictions[split][1], thresholds)
    if thresholds is not None:
        results["thresholds"] = dict(zip(labels, map(float, thresholds)))
        results["thresholds_tuned_on"] = tuned_on
    return results, predictions


def run_arm(
    args,
    tokenizer,
    tokenized: dict,
    task,
    labels,
    head: str,
    arm: str,
    output_dir: str,
    save: bool,
    select: bool = True,
    rhythm: dict | None = None,
) -> tuple[dict, dict]:
    """Train one encoder arm and score it; returns ``(results, predictions)`` (see :func:`evaluate_splits`).

    Args:
        arm: a key of :data:`NEURAL_ARMS`.
        rhythm: the training beats' RR feature spec (:func:`rhythm_spec`; rhythm arms only).
    """
    random_init, uses_rhythm = NEURAL_ARMS[arm]
    model = build_model(args.model, head, labels, task.problem_type, random_init, args.seed, args.lstm_hidden_size, rhythm if uses_rhythm else None)
    weights = class_weights(tokenized["train"], len(labels), task.multi_label) if args.class_weighting else None
    trainer = make_trainer(model, args, output_dir, tokenized["train"], tokenized.get("validation"), tokenizer, weights, task, labels, select, uses_rhythm)
    probe = None
    if fits_by_regression(head, task):
        from .probe import fit_linear_probe, sequence_embeddings

        train = tokenized["train"]
        rr = np.asarray(train[RHYTHM_COLUMN], dtype=np.float32) if uses_rhythm else None
        probe = fit_linear_probe(model, sequence_embeddings(model, train), train["labels"], rr, args.class_weighting, seed=args.seed)
    else:
        trainer.train()
    results, predictions = evaluate_splits(trainer, tokenized, task, labels, uses_rhythm)
    results["probe_fit"] = probe
    results["init"] = "random" if random_init else "pretrained"
    results["rhythm_features"] = list(rhythm["names"]) if uses_rhythm else None
    results["trainable_parameters"] = int(sum(p.numel() for p in model.parameters() if p.requires_grad))
    if save:
        save_finetuned(trainer.model, tokenizer, output_dir, args, task, labels, results, head)
    return results, predictions


def fits_by_regression(head: str, task) -> bool:
    """A single-label linear probe is fitted by logistic regression on cached embeddings (:mod:`heartbert_hf.probe`), not by SGD."""
    return head == "linear-probe" and not task.multi_label


def run_probe_cv_arm(args, tokenized_pool, cache: dict, task, labels, arm: str, train_rows, test_rows, rhythm: dict | None):
    """One fold of a linear-probe arm from cached embeddings.

    The frozen encoder is the same in every fold (the pretrained weights, or the seeded random init),
    so it embeds the pool's sequences once per encoder (``cache``); each fold fits the probe on its
    training rows (:func:`heartbert_hf.probe.fit_linear_probe`) and applies the model's own head to
    its held-out rows (:func:`heartbert_hf.probe.probe_logits`, equal to the forward pass).

    Args:
        args: the finetune options (``model``, ``seed``, ``lstm_hidden_size``, ``class_weighting``).
        tokenized_pool: every sequence of the CV pool (``input_ids``, ``labels``, ``example_id`` and,
            for the rhythm arms, ``rr_features``), one row per sequence.
        cache: encoder name → ``(n_sequences, hidden)`` embeddings of ``tokenized_pool``, filled on
            first use.
        task, labels: the task and its class names.
        arm: a key of :data:`NEURAL_ARMS`.
        train_rows, test_rows: boolean masks over the rows of ``tokenized_pool`` (the fold's records).
        rhythm: the fold's RR feature spec (:func:`rhythm_spec`, from its training beats).

    Returns:
        ``(example_ids, probs (n_examples, n_labels), labels, fit_info)`` of the held-out examples;
        ``fit_info`` is :func:`heartbert_hf.probe.fit_linear_probe`'s report, plus
        ``embed_seconds`` when this call embedded the pool (``{encoder: seconds}``).
    """
    import time

    from .probe import fit_linear_probe, probe_logits, sequence_embeddings

    random_init, uses_rhythm = NEURAL_ARMS[arm]
    model = build_model(args.model, "linear-probe", labels, task.problem_type, random_init, args.seed, args.lstm_hidden_size, rhythm if uses_rhythm else None)
    key = "random" if random_init else "pretrained"
    embedded = {}
    if key not in cache:
        t0 = time.time()
        cache[key] = sequence_embeddings(model, tokenized_pool, desc=f"Embedding DS1 ({key} encoder)")  # (n_sequences, hidden)
        embedded[key] = round(time.time() - t0, 1)
    emb = cache[key]
    seq_labels = np.asarray(tokenized_pool["labels"])
    rr = np.asarray(tokenized_pool[RHYTHM_COLUMN], dtype=np.float32) if uses_rhythm else None
    info = fit_linear_probe(model, emb[train_rows], seq_labels[train_rows], None if rr is None else rr[train_rows], args.class_weighting, seed=args.seed)
    if embedded:
        info["embed_seconds"] = embedded
    if not info["converged"]:
        logger.warning("arm %s: the probe's logistic regression did not converge in %d iterations.", arm, info["n_iter"])
    probs = to_probs(probe_logits(model, emb[test_rows], None if rr is None else rr[test_rows]), task.problem_type)
    example_ids = np.asarray(tokenized_pool["example_id"])[test_rows]
    uniq, probs = aggregate(example_ids, probs)
    return uniq, probs, example_labels({"example_id": example_ids, "labels": seq_labels[test_rows]}, uniq), info


def run_features_arm(train, splits: dict, labels: list[str], seed: int) -> dict:
    """The features-only baseline (:mod:`heartbert_hf.baselines`): fit on ``train``, predict each split.

    Returns:
        split → ``(example_ids, probs, labels)``.
    """
    from .baselines import baseline_probs, beat_feature_matrix, fit_features_baseline

    model = fit_features_baseline(beat_feature_matrix(train), np.asarray(train["labels"]), len(labels), seed)
    return {name: (np.asarray(ds["example_id"]), baseline_probs(model, beat_feature_matrix(ds)), list(ds["labels"])) for name, ds in splits.items()}


def save_finetuned(model, tokenizer, output_dir: str, args, task, labels, results: dict, head: str) -> None:
    """Save the model (with its task, labels, thresholds and sequence length in the config) + the base model's
    processor (:func:`heartbert_hf.runtime.load_heartbert_processor`: tokenizer, quantizer, feature extractor),
    so that ``AutoProcessor.from_pretrained(output_dir)`` works."""
    model.config.heartbert_finetune = {
        "task": task.name,
        "labels": labels,
        "head": head,
        "init": results["init"],
        "rhythm_features": results.get("rhythm_features"),
        "base_model": args.model,
        "max_length": args.max_length,
        "thresholds": results.get("thresholds"),
        "seed": args.seed,
        "splits": getattr(args, "_splits", None),
        "strict_patients": args.strict_patients,
        "skip_missing_records": args.skip_missing_records,
    }
    model.save_pretrained(output_dir)
    # reload: tokenizing set truncation on the backend, and save_pretrained would write that state.
    # The processor writes the tokenizer files, quantizer.json and processor_config.json: AutoProcessor loads the folder
    load_heartbert_processor(args.model).save_pretrained(output_dir)
    for leftover in Path(output_dir).glob("checkpoint-*"):
        import shutil

        shutil.rmtree(leftover, ignore_errors=True)


def build_scorecard(task, labels: list[str], preds: dict, record_of, n_boot: int, seed: int) -> dict | None:
    """The scorecard (:mod:`heartbert_hf.scorecard`) of per-arm ``(example_ids, probs, labels)``; ``None`` for multi-label."""
    from .scorecard import scorecard

    if task.multi_label or not preds:
        return None
    table = {arm: (y, np.asarray(p).argmax(axis=1), [record_of[int(e)] for e in ids]) for arm, (ids, p, y) in preds.items()}
    return scorecard(table, labels, task.report_classes, n_boot, seed)


# ------------------------------------------------------------------ cross-validation
def _in_records(batch, records: set) -> list[bool]:
    """``datasets`` filter: which rows of a batch belong to ``records``."""
    return [r in records for r in batch["record_id"]]


def run_cv(args, tokenizer, data, task, labels, head: str, arms: list[str]) -> dict:
    """Record-wise K-fold CV over the training records (mitdb-aami: DS1), every arm on the same
    folds and beats; per-fold metrics and the scorecard of the pooled held-out predictions."""
    import time

    import datasets

    from .tasks import check_disjoint, cv_folds, subsample, subsample_per_class

    pool = datasets.concatenate_datasets([data[s] for s in ("train", "validation") if s in data])
    pool = pool.remove_columns("example_id").add_column("example_id", list(range(len(pool))))
    record_of = pool["record_id"]
    records = sorted(set(record_of))
    folds = cv_folds(records, args.cv, args.seed)
    tokenized_pool = tokenize_split(pool, tokenizer, args.max_length, "Tokenizing DS1") if any(a in NEURAL_ARMS for a in arms) else None
    report = {"task": task.name, "n_folds": args.cv, "records": records, "arms_run": arms, "folds": [], "arms": {}}
    probe_cache: dict = {}  # encoder → embeddings of tokenized_pool's sequences (linear probe)
    context_cache: dict = {}  # record-context arm → (model, beat vectors of the pool, RR features)
    pool_ids = np.asarray(pool["example_id"])
    pool_example_ids = np.asarray(tokenized_pool["example_id"]) if tokenized_pool is not None else None
    pooled = {arm: ([], [], []) for arm in arms}
    seconds = dict.fromkeys(arms, 0.0)
    for k, (train_recs, test_recs) in enumerate(folds):
        train = subsample_per_class(
            pool.filter(_in_records, fn_kwargs={"records": set(train_recs)}, batched=True), args.max_train_per_class, args.seed, task.multi_label
        )
        test = subsample(pool.filter(_in_records, fn_kwargs={"records": set(test_recs)}, batched=True), args.max_eval_examples, args.seed)
        check_disjoint({"train": train, "test": test}, "record_id")
        fold = {"fold": k, "train_records": train_recs, "test_records": test_recs, "n_train": len(train), "n_test": len(test)}
        tok = None
        if tokenized_pool is not None and fits_by_regression(head, task):
            train_rows = np.isin(pool_example_ids, np.asarray(train["example_id"]))
            test_rows = np.isin(pool_example_ids, np.asarray(test["example_id"]))
        elif tokenized_pool is not None:
            keep_train, keep_test = set(train["example_id"]), set(test["example_id"])
            tok = {
                name: tokenized_pool.filter(lambda b, keep=keep: [e in keep for e in b["example_id"]], batched=True, desc=f"fold {k} {name}")
                for name, keep in (("train", keep_train), ("test", keep_test))
            }
        rhythm = rhythm_spec(train) if any(a in RHYTHM_ARMS for a in arms) else None
        for arm in arms:
            logger.info("fold %d/%d, arm %s", k + 1, args.cv, arm)
            t0 = time.time()
            if arm == "features":
                ids, probs, y = run_features_arm(train, {"test": test}, labels, args.seed)["test"]
                fold[arm] = score(task, labels, y, probs)
            elif arm in CONTEXT_ARMS:
                in_train, in_test = np.isin(pool_ids, np.asarray(train["example_id"])), np.isin(pool_ids, np.asarray(test["example_id"]))
                ids, probs, y, fit = run_context_cv_arm(args, pool, context_cache, labels, arm, in_train, in_test)
                embedded = fit.pop("embed_seconds", {})
                report.update({f"embed_{key}_seconds": sec for key, sec in embedded.items()})
                t0 += sum(embedded.values())
                fold[arm], fold[f"{arm}_probe_fit"] = score(task, labels, y, probs), fit
            elif fits_by_regression(head, task):
                ids, probs, y, fit = run_probe_cv_arm(args, tokenized_pool, probe_cache, task, labels, arm, train_rows, test_rows, rhythm)
                embedded = fit.pop("embed_seconds", {})  # an encoder's one-off embedding is not this arm's training time
                report.update({f"embed_{key}_seconds": sec for key, sec in embedded.items()})
                t0 += sum(embedded.values())
                fold[arm], fold[f"{arm}_probe_fit"] = score(task, labels, y, probs), fit
            else:
                results, preds = run_arm(
                    args, tokenizer, tok, task, labels, head, arm, os.path.join(args.output_dir, f"fold{k}-{arm}"), save=False, select=False, rhythm=rhythm
                )
                ids, probs, y = preds["test"]
                fold[arm] = results["test"]
            pooled[arm][0].extend(int(i) for i in ids)
            pooled[arm][1].append(probs)
            pooled[arm][2].extend(y)
            seconds[arm] += time.time() - t0
        report["folds"].append(fold)
        write_json(Path(args.output_dir) / "cv_progress.json", report)  # partial results survive an interrupted run
    metric = task.primary_metric
    preds = {arm: (np.asarray(pooled[arm][0]), np.concatenate(pooled[arm][1]), pooled[arm][2]) for arm in arms}
    for arm in arms:
        per_fold = [f[arm][metric] for f in report["folds"] if f[arm].get(metric) is not None]
        report["arms"][arm] = {
            "pooled": score(task, labels, preds[arm][2], preds[arm][1]),
            f"{metric}_per_fold": per_fold,
            f"{metric}_mean": float(np.mean(per_fold)) if per_fold else None,
            f"{metric}_std": float(np.std(per_fold)) if per_fold else None,
            "train_and_score_seconds": round(seconds[arm], 1),  # linear probe: without the encoder's one-off embedding (embed_*_seconds)
        }
    report["scorecard"] = build_scorecard(task, labels, preds, record_of, args.bootstrap, args.seed)
    report["predictions"] = (
        {  # per held-out beat, so that runs of different arms on the same folds can be merged
            arm: {
                "example_id": [int(i) for i in ids],
                "record_id": [record_of[int(i)] for i in ids],
                "label": [int(v) for v in y],
                "predicted": [int(v) for v in np.asarray(p).argmax(axis=1)],
            }
            for arm, (ids, p, y) in preds.items()
        }
        if not task.multi_label
        else None
    )
    return report


def write_json(path: Path, obj) -> None:
    """Write ``obj`` as indented JSON (numpy arrays as lists, other objects as ``str``), creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=1, default=lambda o: o.tolist() if hasattr(o, "tolist") else str(o)))
