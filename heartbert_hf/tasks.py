"""Downstream task registry: which builder, which labels, which splits, which metric.

Every task reads its database through the data layer (:func:`heartbert_hf.data.load_physionet`)
and uses its label mappings and splits; nothing here re-derives a split at beat or window level.

==========================  ========================================  ====================================
task                        examples / labels                         splits (all by record / patient)
==========================  ========================================  ====================================
``mitdb-aami``              beats, ±0.8 s around the R peak, lead     train = DS1 minus validation records
                            MLII, + per-beat RR features; AAMI        (record-wise fold of DS1), test = DS2
                            N/S/V/F (Q dropped: 8 beats in DS1        only when present (201/202: see below)
                            without paced records)
``ptbxl-superdiagnostic``   10-s 12-lead records; NORM/MI/STTC/CD/HYP  strat_fold 1-8 / 9 / 10
                            (multi-label; records with none dropped)
``ptbxl-diagnostic``        the 44 diagnostic SCP statements           strat_fold 1-8 / 9 / 10
                            (multi-label, from ``scp_statements.csv``;
                            records with none dropped)
``slpdb-5`` / ``slpdb-3``   30-s ECG epochs; W/S1/S2/S3+S4/R or        by subject (slp01a/b, slp02a/b are one
                            W/NREM/R                                   subject each)
==========================  ========================================  ====================================

Why ±0.8 s: 577 samples at 360 Hz hold the beat plus most of both neighbouring RR intervals at
normal rates (the RR context is what separates S from N), stay above the tokenizer's
``min_window`` (360 samples) and under its ``window_size`` (4000), so each beat is one window,
min-max scaled on its own. The RR features (:mod:`heartbert_hf.rhythm`) carry the rhythm
explicitly; the ``rr_features`` column travels with every beat.

PTB-XL records with no statement in a task's label set (only rhythm / form codes such as
``{'SR': 0.0}``) are dropped from every split of that task, as the PTB-XL benchmark does
(Strodthoff et al., "Deep learning for ECG analysis: benchmarks and insights from PTB-XL", IEEE
JBHI 2021); each split logs a warning with the count and records.
Sleep epochs without a stage (``MT``, unscored) never leave the ``slpdb`` builder.

Records 201 (DS1) and 202 (DS2) of MIT-BIH are one patient. The published de Chazal split keeps
both, and every DS1→DS2 figure in the literature includes 202, so the standard split runs with a
one-line warning (``TaskSpec.published_shared_groups``); ``strict_patients=True``
(``heartbert finetune --strict_patients``) drops 202 from the test split instead. Any other patient
shared between two splits is an error.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .data.splits import MITDB_PUBLISHED_SHARED_PATIENTS

logger = logging.getLogger(__name__)

RHYTHM_COLUMN = "rr_features"
"""Column of per-beat RR-interval features (see :mod:`heartbert_hf.rhythm`)."""

SINGLE = "single_label_classification"
MULTI = "multi_label_classification"


@dataclass(frozen=True)
class TaskSpec:
    """One downstream task.

    Args:
        name: the task name used on the command line.
        database: ``load_physionet`` database name.
        config: builder config name.
        label_column: the builder column the labels come from.
        problem_type: single- or multi-label classification.
        group_column: the column that no two splits may share (record or patient).
        primary_metric: metric used for model selection and the headline number.
        builder_kwargs: config fields passed to the builder.
        report_classes: classes the macro averages run over (default: all).
        published_shared_groups: ``group_column`` values a published split shares between its
            training and test sides (kept, with a warning; any other shared value is an error).
        extra_columns: builder columns carried to the model besides the signal (e.g. ``rr_features``).
    """

    name: str
    database: str
    config: str
    label_column: str
    problem_type: str
    group_column: str
    primary_metric: str
    builder_kwargs: dict = field(default_factory=dict)
    report_classes: tuple[str, ...] | None = None
    published_shared_groups: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()

    @property
    def multi_label(self) -> bool:
        return self.problem_type == MULTI


BEAT_SECONDS = 0.8
"""Half-width of the mitdb-aami beat window (see the module doc)."""

TASKS: dict[str, TaskSpec] = {
    "mitdb-aami": TaskSpec(
        "mitdb-aami",
        "mitdb",
        "beats",
        "label",
        SINGLE,
        "patient_id",
        "macro_f1",
        {"leads": ["MLII"], "beat_seconds": BEAT_SECONDS},
        ("N", "S", "V", "F"),
        published_shared_groups=MITDB_PUBLISHED_SHARED_PATIENTS,
        extra_columns=("rr_features",),
    ),
    "ptbxl-superdiagnostic": TaskSpec(
        "ptbxl-superdiagnostic",
        "ptbxl",
        "diagnostic",
        "superdiagnostic",
        MULTI,
        "patient_id",
        "macro_auroc",
    ),
    "ptbxl-diagnostic": TaskSpec("ptbxl-diagnostic", "ptbxl", "diagnostic", "scp_codes", MULTI, "patient_id", "macro_auroc"),
    "slpdb-5": TaskSpec("slpdb-5", "slpdb", "epochs", "stage5", SINGLE, "patient_id", "macro_f1"),
    "slpdb-3": TaskSpec("slpdb-3", "slpdb", "epochs", "stage3", SINGLE, "patient_id", "macro_f1"),
}


def get_task(name: str) -> TaskSpec:
    """The :class:`TaskSpec` of ``name``; a clear ``ValueError`` for an unknown name."""
    if not isinstance(name, str):
        raise TypeError(f"task must be a string, got {type(name).__name__}.")
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; choose one of {sorted(TASKS)}.")
    return TASKS[name]


def task_labels(task: TaskSpec, data_dir: str | None = None) -> list[str]:
    """The label space of a task, in class-id order.

    Args:
        task: the task.
        data_dir: the database folder (``ptbxl-diagnostic`` reads ``scp_statements.csv`` there).
    """
    from .data.labels import AAMI_CLASSES, SLEEP_STAGES_3, SLEEP_STAGES_5, SUPERCLASSES, load_scp_statements

    if task.name == "mitdb-aami":
        return [c for c in AAMI_CLASSES if c in task.report_classes]
    if task.name == "ptbxl-superdiagnostic":
        return list(SUPERCLASSES)
    if task.name == "ptbxl-diagnostic":
        if data_dir is None or not (Path(data_dir) / "scp_statements.csv").is_file():
            raise ValueError("ptbxl-diagnostic reads its 44 labels from scp_statements.csv: pass --data_dir with a PTB-XL copy.")
        return sorted(load_scp_statements(Path(data_dir) / "scp_statements.csv"))
    return list(SLEEP_STAGES_5 if task.label_column == "stage5" else SLEEP_STAGES_3)


def check_label_space(model_labels: list[str] | None, labels: list[str], where: str) -> None:
    """Raise a ``ValueError`` when a fine-tuned model's labels differ from the task's.

    Args:
        model_labels: labels the model was fine-tuned with (``None``: not fine-tuned yet).
        labels: the task's label space.
        where: the model path, for the message.
    """
    if model_labels is not None and list(model_labels) != list(labels):
        raise ValueError(
            f"mismatched label space: {where} was fine-tuned for labels {list(model_labels)}, but the task has "
            f"{list(labels)}. Evaluate it on its own task, or fine-tune from the pretrained encoder."
        )


def _to_label_column(ds, task: TaskSpec, labels: list[str], split: str = "data"):
    """Add ``labels`` (class id, or multi-hot float list) and drop examples outside the label space.

    Multi-label (PTB-XL): records with no statement in the task's label set (e.g. only rhythm / form
    codes such as ``{'SR': 0.0}``) are dropped, as the PTB-XL benchmark does for each task
    (Strodthoff et al., IEEE JBHI 2021, ``select_data``: ``X[Y.all_scp_len > 0]``); an all-zero
    target would be a negative for every class and change the test set. Single-label: examples whose
    class is outside the task's classes (MIT-BIH Q beats) or that have no label are dropped. Each drop
    is logged with the task, split, count and the first records (a warning for examples with no label,
    info for the documented Q beats).
    """
    source = ds.features[task.label_column]
    n = len(ds)
    if task.multi_label:
        inner = getattr(source, "feature", None)
        names = getattr(inner, "names", None)  # a List(ClassLabel) column stores ids

        def encode(batch):
            out = []
            for row in batch[task.label_column]:
                hot = np.zeros(len(labels), dtype=np.float32)
                for v in row:
                    name = names[v] if names is not None else v
                    if name in labels:
                        hot[labels.index(name)] = 1.0
                out.append(hot.tolist())
            return {"labels": out}

        ds = ds.map(encode, batched=True, desc="labels")
        has_label = [any(row) for row in ds["labels"]]
        if not all(has_label):
            unlabelled = [r for r, ok in zip(ds["record_id"], has_label) if not ok]
            why = f"no label among the task's {len(labels)} classes (dropped as in the PTB-XL benchmark)"
            _log_dropped(task, split, n, unlabelled, why, logging.WARNING)
            ds = ds.select([i for i, ok in enumerate(has_label) if ok])
        return ds
    names = source.names
    keep = [names.index(c) for c in labels]
    values = ds[task.label_column]
    for why, level, outside in (
        ("no label", logging.WARNING, lambda v: v is None or v < 0),
        (f"a class outside {'/'.join(labels)}", logging.INFO, lambda v: v is not None and v >= 0 and v not in keep),
    ):
        dropped = [(r, v) for r, v in zip(ds["record_id"], values) if outside(v)]
        if dropped:
            classes = sorted({names[v] for _, v in dropped if v is not None and v >= 0})
            _log_dropped(task, split, n, [r for r, _ in dropped], why + (f" ({', '.join(classes)})" if classes else ""), level)
    ds = ds.filter(lambda b: [v in keep for v in b[task.label_column]], batched=True, desc="label space")
    return ds.map(lambda b: {"labels": [keep.index(v) for v in b[task.label_column]]}, batched=True, desc="labels")


def _log_dropped(task: TaskSpec, split: str, n: int, records: list[str], why: str, level: int) -> None:
    """One log line: ``<task> <split>: dropped k of n examples with <why>: records a, b, ...`` (at most 5 named)."""
    shown = sorted(set(records))
    listed = ", ".join(shown[:5]) + (f" and {len(shown) - 5} more" if len(shown) > 5 else "")
    logger.log(level, "%s %s: dropped %d of %d examples with %s: records %s.", task.name, split, len(records), n, why, listed)


def _drop_incomplete(ds, task: TaskSpec, split: str = ""):
    """Drop beats cut by the record's start or end (not centred), beats whose segment holds invalid
    (NaN) samples, and examples under 1 s.

    A beat in a stretch of invalid samples (leads off, dropped data: the WFDB invalid code, NaN as
    ``wfdb.rdrecord`` reads it) has no signal to classify: the window arms could not tokenize it and the
    record-context arms would pool it from no tokens. It is left out, as ``classify-beats`` leaves it
    unclassified (Q), with a warning naming the records.
    """
    n = len(ds)
    if "r_peak_index" in ds.column_names:
        half_s = task.builder_kwargs.get("beat_seconds", BEAT_SECONDS)

        def centred(batch):
            keep = []
            for sig, fs, idx in zip(batch["signal"], batch["sampling_rate"], batch["r_peak_index"]):
                half = int(round(half_s * fs))
                keep.append(idx == half and len(sig[0]) == 2 * half + 1)
            return keep

        ds = ds.filter(centred, batched=True, desc="whole beats")
        if len(ds) < n:
            logger.info("%s: dropped %d of %d examples cut by a record boundary.", task.name, n - len(ds), n)

        def finite(batch):
            return {"valid": [bool(np.isfinite(np.asarray(sig, dtype=np.float64)).all()) for sig in batch["signal"]]}

        valid = ds.map(finite, batched=True, remove_columns=ds.column_names, desc="valid samples")["valid"]
        if not all(valid):
            invalid = [r for r, ok in zip(ds["record_id"], valid) if not ok]
            why = f"invalid (NaN) samples in the beat's ±{half_s:g} s segment (leads off or dropped data; not classifiable)"
            _log_dropped(task, split or "data", len(ds), invalid, why, logging.WARNING)
            ds = ds.select([i for i, ok in enumerate(valid) if ok])
        return ds
    ds = ds.filter(lambda b: [len(s[0]) >= fs for s, fs in zip(b["signal"], b["sampling_rate"])], batched=True, desc="whole examples")
    if len(ds) < n:
        logger.info("%s: dropped %d of %d examples cut by a record boundary.", task.name, n - len(ds), n)
    return ds


def load_task_data(
    task: TaskSpec,
    data_dir: str | None = None,
    cache_dir: str | None = None,
    validation_records: list[str] | None = None,
    val_folds: int = 5,
    seed: int = 42,
    strict_patients: bool = False,
    **builder_overrides,
):
    """Load a task as a ``DatasetDict`` with ``signal``, ``sampling_rate``, ``record_id``,
    ``patient_id``, ``labels`` and ``example_id``; splits disjoint by ``task.group_column``.

    Args:
        task: the task.
        data_dir: local database copy (default: download from PhysioNet).
        cache_dir: ``datasets`` cache.
        validation_records: mitdb-aami: the DS1 records held out for model selection (default: fold 0
            of a seeded record-wise ``val_folds``-fold split of the DS1 records present).
        val_folds: K of that split (0: no validation split; every DS1 record trains, e.g. the shipped model).
        seed: its seed.
        strict_patients: mitdb-aami: drop record 202 (the DS1 patient of 201) from the test split,
            so that no patient is on both sides; otherwise the published split runs with a warning.
        **builder_overrides: extra builder config fields (e.g. ``skip_missing=True`` for a partial PTB-XL).
    """
    import datasets

    from .data import load_physionet
    from .data.splits import kfold_records

    if strict_patients:
        if task.database != "mitdb":
            raise ValueError(f"strict_patients applies to the MIT-BIH DS1/DS2 split; {task.name} splits are patient-disjoint already.")
        builder_overrides = {**builder_overrides, "strict_patients": True}
    raw = load_physionet(task.database, task.config, data_dir=data_dir, cache_dir=cache_dir, **{**task.builder_kwargs, **builder_overrides})
    labels = task_labels(task, data_dir)
    if task.database == "mitdb" and "validation" not in raw and "train" in raw:
        records = sorted(set(raw["train"]["record_id"]))
        if validation_records:
            missing = sorted(set(validation_records) - set(records))
            if missing:
                raise ValueError(f"validation records {missing} are not among the training records present {records}.")
            val = sorted(validation_records)
        elif val_folds and len(records) >= 2:
            val = kfold_records(records, min(val_folds, len(records)), 0, seed)[1]
        else:
            val = []
        if val:
            train = raw["train"]
            raw["validation"] = train.filter(lambda b: [r in val for r in b["record_id"]], batched=True, desc="validation")
            raw["train"] = train.filter(lambda b: [r not in val for r in b["record_id"]], batched=True, desc="train")
    out = datasets.DatasetDict()
    for split in ("train", "validation", "test"):
        if split not in raw:
            continue
        ds = _drop_incomplete(raw[split], task, split)
        n = len(ds)
        ds = _to_label_column(ds, task, labels, split)
        if n and not len(ds):  # as a split the data lacks: finetune / evaluate say so
            logger.warning("%s %s: none of its %d examples has a label of the task: the split is left out.", task.name, split, n)
            continue
        keep = ["signal", "sampling_rate", "record_id", "patient_id", "labels", *[c for c in (*task.extra_columns, "r_peak") if c in ds.column_names]]
        ds = ds.select_columns(keep)  # r_peak: where the record-context arms find the beat in its record
        out[split] = ds.add_column("example_id", list(range(len(ds))))
    check_disjoint(out, task.group_column, allowed=() if strict_patients else task.published_shared_groups)
    return out


def check_disjoint(splits, column: str = "patient_id", allowed=()) -> dict[str, list[str]]:
    """Check that no value of ``column`` (record / patient) is in two splits; return split → values.

    Args:
        splits: split name → dataset (or anything with ``ds[column]``).
        column: the grouping column.
        allowed: values a published split is known to share (MIT-BIH patient "201": records 201 in
            DS1 and 202 in DS2); they are kept and logged as one warning line.

    Raises:
        ValueError: any other value in two splits (the evaluation would leak).
    """
    groups = {name: sorted(set(ds[column])) for name, ds in splits.items()}
    names = list(groups)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = set(groups[a]) & set(groups[b])
            known = sorted(shared & set(allowed))
            if shared - set(known):
                raise ValueError(f"splits {a!r} and {b!r} share {column} {sorted(shared - set(known))[:5]}: the evaluation would leak.")
            if known:
                logger.warning(
                    "splits %r and %r share %s %s, as the published split does (MIT-BIH 201 in DS1 and 202 in DS2 are one patient); "
                    "pass --strict_patients to leave 202 out of the test.",
                    a,
                    b,
                    column,
                    known,
                )
    return groups


def cv_folds(records: list[str], n_folds: int, seed: int = 42) -> list[tuple[list[str], list[str]]]:
    """Record-wise K-fold: ``[(train_records, held_out_records)]`` (the data layer's ``kfold_records``)."""
    from .data.splits import kfold_records

    return [kfold_records(records, n_folds, k, seed) for k in range(n_folds)]


def subsample_per_class(ds, max_per_class: int | None, seed: int = 42, multi_label: bool = False):
    """Keep at most ``max_per_class`` examples of each class (single-label; a seeded random subset).

    Rare classes keep all their examples, so the cap also reduces imbalance. Multi-label datasets
    are returned unchanged.
    """
    if not max_per_class or multi_label:
        return ds
    rng = np.random.default_rng(seed)
    labels = np.asarray(ds["labels"])
    keep = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        keep += sorted(rng.choice(idx, max_per_class, replace=False)) if len(idx) > max_per_class else list(idx)
    return ds.select(sorted(int(i) for i in keep))


def subsample(ds, max_examples: int | None, seed: int = 42):
    """A seeded uniform subset of at most ``max_examples`` (keeps the class distribution unbiased)."""
    if not max_examples or len(ds) <= max_examples:
        return ds
    idx = np.random.default_rng(seed).choice(len(ds), max_examples, replace=False)
    return ds.select(sorted(int(i) for i in idx))


def tokenize_split(ds, tokenizer, max_length: int, desc: str = "Tokenizing"):
    """Examples → sequences (``input_ids``, ``attention_mask``, ``labels``, ``example_id``, and
    ``rr_features`` when the split has them: each sequence carries its beat's features)."""
    from .data import tokenize_dataset

    keep = ["labels", "example_id"] + ([RHYTHM_COLUMN] if RHYTHM_COLUMN in ds.column_names else [])
    return tokenize_dataset(ds, tokenizer, max_length=max_length, keep_columns=keep, desc=desc)


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
