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
   optional per-class cap on training examples (``--max_train_per_class``). A single-label
   **linear probe** is instead fitted to convergence by class-weighted logistic regression (square root of inverse class frequency) on the
   frozen encoder's embeddings, computed once (:mod:`heartbert_hf.probe`; the same classifier as the
   ``features`` arm); in ``--cv`` each encoder embeds the pool once for all folds;
5. predicts per example by averaging the class probabilities of its sequences, selects the epoch on
   the validation split (mitdb-aami: held-out DS1 records), tunes multi-label thresholds there,
   and scores the test split when the data has one;
6. runs the **arms** of the comparison on identical splits and beats (``--arms``; default for
   mitdb-aami: all seven of the scorecard, the record-context ones only with a local ``--data_dir``;
   for other tasks ``pretrained,random``):
   ``features`` (RR + morphology logistic regression, :mod:`heartbert_hf.baselines`), ``random``
   (a randomly initialised HeartBert of the same shape), ``pretrained``, ``pretrained+rhythm``
   (the per-beat RR features fused into the head, normalised with the training beats' mean/std,
   which are saved in the config), ``random+rhythm`` (its random-init control), and
   ``pretrained+context`` / ``random+context``: each beat read in its record's context (the record
   re-read from ``--data_dir`` and embedded in its 4000-sample windows as in pretraining), with the
   normalised RR features, head fitted by logistic regression (:mod:`heartbert_hf.context_arms`);
7. writes the scorecard (:mod:`heartbert_hf.scorecard`): metrics with record-level bootstrap 95 %
   CIs, paired differences, and a gain only where both arms are non-degenerate and the CI of the
   difference excludes 0.

The model saved in ``--output_dir`` is the first encoder arm of ``pretrained+context``, ``pretrained+rhythm``,
``pretrained``, ``random+context``, ``random+rhythm``, ``random`` that ran (``arms.SAVE_ORDER``); the others go to ``output_dir/arm-<name>``. Each saved folder
holds the model and the base model's processor (tokenizer, ``quantizer.json``,
``processor_config.json``), so ``AutoProcessor`` and the Auto model classes load it.

``--cv K`` (mitdb-aami): record-wise K-fold cross-validation over the DS1 records present, fixed
epochs, each fold scored on its held-out records, every arm on the same folds and beats; the
scorecard pools the folds' predictions. Writes ``cv_results.json``.

This module is the command (options, defaults, the run, the console report, the card); building,
training, scoring and saving each arm, and the cross-validation, live in :mod:`heartbert_hf.arms`.

MIT-BIH: the published DS1→DS2 split shares one patient (records 201 and 202); it runs with a
warning, ``--strict_patients`` leaves 202 out of the test split.

Arguments: :class:`FinetuneArguments` plus ``transformers.TrainingArguments`` (``--num_train_epochs``,
``--per_device_train_batch_size``, ``--learning_rate``, ``--seed``, ``--output_dir``, ``--bf16`` …), as
in ``heartbert pretrain``; :data:`TRAINING_DEFAULTS` are the defaults where the user gives none. The
epoch selection (``eval_strategy``/``save_strategy`` per epoch, best checkpoint reloaded) and the
per-arm output folders are set by the command. ``--push_to_hub --hub_model_id user/name`` uploads
the saved model folder (model, processor, README card) once at the end.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .arms import (
    NEURAL_ARMS,
    RHYTHM_ARMS,
    build_scorecard,
    fits_by_regression,
    resolve_arms,
    rhythm_spec,
    run_arm,
    run_cv,
    run_features_arm,
    save_finetuned,
    saved_arm,
    write_json,
)
from .context_arms import CONTEXT_ARMS, run_context_arm
from .runtime import THREADS_HELP, HelpFormatter, check_model_path, load_heartbert_tokenizer, resolve_max_length, set_torch_threads
from .tasks import score, tokenize_split

logger = logging.getLogger(__name__)

RESULTS_FILE = "results.json"

TRAINING_DEFAULTS = {
    "output_dir": "heartbert-runs/finetuned",
    "num_train_epochs": 3.0,
    "per_device_train_batch_size": 32,
    "learning_rate": 5e-5,
    "warmup_steps": 0.1,
    "weight_decay": 0.01,
    "logging_steps": 50,
    "save_total_limit": 1,
    "report_to": "none",
    "seed": 42,
    "disable_tqdm": False,
}
"""``TrainingArguments`` defaults of ``heartbert finetune`` (each overridable on the command line):
3 epochs of 32 sequences, peak learning rate 5e-5 with linear decay after a 10 % warm-up, weight
decay 0.01, no experiment tracker. Not listed: ``--per_device_eval_batch_size`` defaults to twice the
training batch, ``--use_cpu`` to "no CUDA device present"."""


@dataclass
class FinetuneArguments:
    """Options of ``heartbert finetune``."""

    task: str = field(metadata={"help": "mitdb-aami | ptbxl-superdiagnostic | ptbxl-diagnostic | slpdb-5 | slpdb-3"})
    model: str = field(metadata={"help": "pretrained HeartBert folder or Hub id (must hold its HeartBert tokenizer)"})
    data_dir: str | None = field(default=None, metadata={"help": "local database copy (default: download from PhysioNet)"})
    cache_dir: str | None = field(default=None, metadata={"help": "datasets cache directory"})
    head: str = field(
        default="sequence",
        metadata={"help": "sequence (RoBERTa <s> classifier) | bilstm (BiLSTM over token states, lower half of the encoder frozen) | linear-probe"},
    )
    linear_probe: bool = field(
        default=False,
        metadata={
            "help": "freeze the encoder; fit a linear layer on the pooled embedding (single-label: logistic regression on cached embeddings; same as --head linear-probe)"
        },
    )
    arms: str = field(
        default="",
        metadata={
            "help": "comma list of features,random,pretrained,pretrained+rhythm,random+rhythm,pretrained+context,random+context (default: all seven for mitdb-aami, the context ones only with --data_dir; pretrained,random otherwise)"
        },
    )
    random_init: bool = field(default=False, metadata={"help": "train from a randomly initialised HeartBert of the model's shape (the baseline) only"})
    baseline: bool = field(
        default=True,
        metadata={"help": "also run the random-init baselines (mitdb-aami: random and random+rhythm) with the same splits (--no_baseline to skip)"},
    )
    strict_patients: bool = field(default=False, metadata={"help": "mitdb-aami: leave record 202 (same patient as DS1 record 201) out of the DS2 test split"})
    bootstrap: int = field(default=1000, metadata={"help": "record-level bootstrap resamples for the scorecard's 95%% CIs"})
    cv: int = field(default=0, metadata={"help": "mitdb-aami: record-wise K-fold cross-validation over the DS1 records present (0: off)"})
    validation_records: list[str] | None = field(
        default=None, metadata={"help": "mitdb-aami: DS1 records for model selection (default: a seeded record-wise fold)"}
    )
    val_folds: int = field(
        default=5, metadata={"help": "mitdb-aami: the validation records are 1 of this many record-wise folds of DS1 (0: none, train on every DS1 record)"}
    )
    max_length: int = field(default=0, metadata={"help": "tokens per sequence (0: the model's positions - 2, at most 512)"})
    max_train_per_class: int = field(default=0, metadata={"help": "cap on training examples per class (single-label; 0: no cap)"})
    max_eval_examples: int = field(default=0, metadata={"help": "uniform random cap on evaluated examples per split (0: all)"})
    lstm_hidden_size: int = field(default=128, metadata={"help": "BiLSTM width per direction (--head bilstm)"})
    class_weighting: bool = field(default=True, metadata={"help": "class-weighted loss (--no_class_weighting to turn off)"})
    skip_missing_records: bool = field(default=False, metadata={"help": "ptbxl: skip metadata rows whose record files are absent (a partial copy)"})
    torch_threads: int = field(default=0, metadata={"help": THREADS_HELP})

    def __post_init__(self):
        self.training = None  # the run's TrainingArguments, set by :func:`parse_args` or :func:`finetune`

    @property
    def seed(self) -> int:
        """``--seed`` (a ``TrainingArguments`` option): seed of splits, subsets, initialisation and shuffling."""
        return self.training.seed

    @property
    def output_dir(self) -> str:
        """``--output_dir`` (a ``TrainingArguments`` option): where the model, tokenizer and results go."""
        return self.training.output_dir


# ------------------------------------------------------------------ entry point
def finetune(args: FinetuneArguments, training_args=None) -> dict:
    """Run ``heartbert finetune`` from parsed arguments; returns the report written to ``results.json``.

    Args:
        args: the command's options.
        training_args: ``transformers.TrainingArguments`` (default: ``args.training`` when set, else
            :data:`TRAINING_DEFAULTS`).
    """
    from .configuration_heartbert import HeartBertConfig
    from .tasks import check_label_space, get_task, load_task_data, subsample, subsample_per_class, task_labels

    if training_args is not None or args.training is None:
        args.training = training_args if training_args is not None else default_training_args()
    task = get_task(args.task)
    set_torch_threads(args.torch_threads)
    args.model = check_model_path(args.model)  # a Hub id's cached copy when the Hub cannot be asked
    if args.head not in ("sequence", "bilstm", "linear-probe"):
        raise ValueError(f"unknown --head {args.head!r}; choose sequence, bilstm or linear-probe.")
    head = "linear-probe" if args.linear_probe else args.head
    if args.cv and task.name != "mitdb-aami":
        raise ValueError("--cv is implemented for mitdb-aami (record-wise over DS1); other tasks have fixed splits.")
    arms = resolve_arms(args, task)
    tokenizer = load_heartbert_tokenizer(args.model)
    config = HeartBertConfig.from_pretrained(args.model)
    labels = task_labels(task, args.data_dir)
    done = getattr(config, "heartbert_finetune", None)
    check_label_space(done.get("labels") if isinstance(done, dict) else None, labels, args.model)
    args.max_length = resolve_max_length(args.max_length, config)
    extra = {"skip_missing": True} if args.skip_missing_records and task.database == "ptbxl" else {}
    data = load_task_data(
        task, args.data_dir, args.cache_dir, args.validation_records, args.val_folds, args.seed, strict_patients=args.strict_patients, **extra
    )
    if "train" not in data:
        raise ValueError(f"{task.name}: the data at {args.data_dir} has no training split ({list(data)}).")
    splits = {name: sorted(set(ds[task.group_column])) for name, ds in data.items()}
    args._splits = {name: sorted(set(ds["record_id"])) for name, ds in data.items()}
    os.makedirs(args.output_dir, exist_ok=True)
    if args.cv:
        report = run_cv(args, tokenizer, data, task, labels, head, arms)
        report.update({"model": args.model, "head": head, "arguments": all_arguments(args)})
        write_json(Path(args.output_dir) / "cv_results.json", report)
        return report
    notes = []
    if "test" not in data:
        where = "the DS2 records are not in --data_dir" if task.database == "mitdb" else "the data has no test split"
        if "validation" in data:
            notes.append(f"no test split ({where}): every figure is on the validation split, which also selected the epoch, so it is optimistic")
        else:
            how = "the probe is fitted on" if fits_by_regression(head, task) else "the model trains for --num_train_epochs on"
            notes.append(f"no test split ({where}) and no validation split: nothing is scored; {how} every training record")
        logger.warning("heartbert finetune: %s.", notes[-1])
    unsampled = dict(data)  # the record-context arms centre each record on all its beats
    data["train"] = subsample_per_class(data["train"], args.max_train_per_class, args.seed, task.multi_label)
    for split in ("validation", "test"):
        if split in data:
            data[split] = subsample(data[split], args.max_eval_examples, args.seed)
    scored = "test" if "test" in data else "validation" if "validation" in data else None
    tokenized = (
        {name: tokenize_split(ds, tokenizer, args.max_length, f"Tokenizing {name}") for name, ds in data.items()} if any(a in NEURAL_ARMS for a in arms) else {}
    )
    report = {
        "task": task.name,
        "model": args.model,
        "head": head,
        "labels": labels,
        "splits": splits,
        "n_examples": {k: len(v) for k, v in data.items()},
        "arms_run": arms,
        "scored_split": scored,
        "notes": notes,
        "arms": {},
    }
    report["class_imbalance"] = "class-weighted loss" if args.class_weighting else "none"
    rhythm = rhythm_spec(data["train"]) if any(a in RHYTHM_ARMS for a in arms) else None
    saved = saved_arm(arms)
    report["saved_arm"] = saved
    preds = {}
    for arm in arms:
        out = args.output_dir if arm == saved else os.path.join(args.output_dir, f"arm-{arm}")
        if arm == "features":
            evals = {s: data[s] for s in ("validation", "test") if s in data}
            arm_preds = run_features_arm(data["train"], evals, labels, args.seed)
            report["arms"][arm] = {s: score(task, labels, p[2], p[1]) for s, p in arm_preds.items()}
        elif arm in CONTEXT_ARMS:
            save = functools.partial(save_finetuned, tokenizer=tokenizer, args=args, task=task, labels=labels, head="linear-probe")
            report["arms"][arm], arm_preds = run_context_arm(args, data, labels, arm, out, save, unsampled)
        else:
            report["arms"][arm], arm_preds = run_arm(args, tokenizer, tokenized, task, labels, head, arm, out, save=True, rhythm=rhythm)
        if scored:
            preds[arm] = arm_preds[scored]
    if scored:
        record_of = data[scored]["record_id"]
        report["scorecard"] = build_scorecard(
            task, labels, preds, {int(e): r for e, r in zip(data[scored]["example_id"], record_of)}, args.bootstrap, args.seed
        )
    report["arguments"] = all_arguments(args)
    write_json(Path(args.output_dir) / RESULTS_FILE, report)
    return report


def all_arguments(args: FinetuneArguments) -> dict:
    """Every option of the run, by its command-line name (``TrainingArguments`` included, tokens redacted)."""
    return {**args.training.to_dict(), **asdict(args)}


def headline(results: dict, metric: str) -> float | None:
    """The primary metric of the split results are reported on (test when present, else validation)."""
    for split in ("test", "validation"):
        if split in results and results[split].get(metric) is not None:
            return float(results[split][metric])
    return None


def print_report(report: dict, args: FinetuneArguments) -> None:
    """The console summary: the scorecard table (single-label) or each arm's headline metric."""
    from .scorecard import format_table

    metric = get_metric_name(args.task)
    for note in report.get("notes", []):
        print(f"note: {note}")
    card = report.get("scorecard")
    if card:
        where = f"{args.cv}-fold record-wise CV, pooled held-out beats" if args.cv else f"split {report['scored_split']!r}"
        print(f"scorecard ({where}):")
        print(format_table(card))
    elif args.cv:
        for arm, res in report["arms"].items():
            print(f"{arm}: pooled {metric} {res['pooled'][metric]}")
    else:
        for arm, res in report["arms"].items():
            print(f"{arm}: {metric} = {headline(res, metric)}")


def _training_defaults() -> dict:
    import torch

    return {**TRAINING_DEFAULTS, "use_cpu": not torch.cuda.is_available()}


def default_training_args():
    """``TrainingArguments`` of a run given no training option (:data:`TRAINING_DEFAULTS`)."""
    from transformers import TrainingArguments

    defaults = _training_defaults()
    return TrainingArguments(**defaults, per_device_eval_batch_size=2 * defaults["per_device_train_batch_size"])


def parse_args(argv: list[str] | None = None):
    """Parse ``argv`` into ``(FinetuneArguments, TrainingArguments)``, :data:`TRAINING_DEFAULTS` where not given.

    Raises:
        SystemExit: an unknown option (e.g. ``--epochs``: the message names ``--num_train_epochs``) or a
            bad value, or ``--push_to_hub`` with ``--cv``, without ``--hub_model_id`` or with
            ``HF_HUB_OFFLINE=1`` (all checked before any work).
    """
    from transformers import TrainingArguments

    from .runtime import HfArgumentParser, unknown_option_message

    argv = list(sys.argv[1:] if argv is None else argv)
    parser = HfArgumentParser(
        (FinetuneArguments, TrainingArguments), prog="heartbert finetune", description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter
    )
    parser.set_defaults(**_training_defaults())
    parser.epilog = (
        "Training options are transformers.TrainingArguments: --num_train_epochs, --per_device_train_batch_size, --learning_rate, --seed, --output_dir …"
    )
    _, remaining = parser.parse_known_args(argv)
    if any(a.startswith("-") for a in remaining):  # name the TrainingArguments spelling of the usual ones
        parser.error(f"{unknown_option_message(parser, remaining)}. {parser.epilog}")
    args, training_args = parser.parse_args_into_dataclasses(args=argv)  # unknown options, bad numbers: usage error, exit 2
    given = {a.split("=")[0].lstrip("-").replace("-", "_") for a in argv if a.startswith("--")}  # HfArgumentParser takes both spellings
    if "per_device_eval_batch_size" not in given:
        training_args.per_device_eval_batch_size = 2 * training_args.per_device_train_batch_size
    args.training = training_args
    if training_args.push_to_hub:
        if args.cv:
            raise SystemExit("--push_to_hub with --cv: cross-validation saves no model; fine-tune without --cv to push one.")
        from .hub import check_push_possible

        check_push_possible(training_args.hub_model_id)
    return args, training_args


def write_card(report: dict, args: FinetuneArguments, command: str) -> Path | None:
    """``README.md`` of the saved model (:func:`heartbert_hf.card.classifier_card`); ``None`` when no model was saved."""
    from .card import classifier_card, finetune_results_section

    if args.cv or not report.get("saved_arm"):
        return None
    card = classifier_card(args.output_dir, train_command=command, results_section=finetune_results_section(report), arguments=report["arguments"])
    return card.save(args.output_dir)


def main(argv: list[str] | None = None) -> int:
    """``heartbert finetune``: parse ``argv`` and run (see the module doc).

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).
    """
    import shlex

    from .runtime import release_process_group

    argv = list(sys.argv[1:] if argv is None else argv)
    args, training_args = parse_args(argv)
    try:
        report = finetune(args, training_args)
    except (ValueError, FileNotFoundError) as err:
        print(f"heartbert finetune: error: {err}", file=sys.stderr)
        return 2
    finally:
        release_process_group()
    print_report(report, args)
    card = write_card(report, args, shlex.join(["heartbert", "finetune", *argv]))
    print(f"results: {args.output_dir}" + (" (README.md card)" if card else ""))
    if training_args.push_to_hub:
        from .hub import push_folder

        if card is None:
            print("heartbert finetune: error: --push_to_hub, but no model was saved (only the features arm ran).", file=sys.stderr)
            return 2

        url = push_folder(
            args.output_dir,
            training_args.hub_model_id,
            token=training_args.hub_token,
            private=training_args.hub_private_repo,
            commit_message=f"HeartBert fine-tuned on {args.task}: arm {report['saved_arm']}",
        )
        print(f"pushed to {training_args.hub_model_id}: {url}")
    return 0


def get_metric_name(task: str) -> str:
    """The primary metric of a task."""
    from .tasks import get_task

    return get_task(task).primary_metric
