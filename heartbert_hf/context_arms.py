"""The record-context arms of ``heartbert finetune --task mitdb-aami``: beats classified in their record's context.

The other encoder arms embed each beat from its own ±0.8 s window, scaled on its own. These arms
read each record the way the encoder was pretrained (:mod:`heartbert_hf.beat_context`): its MLII lead
in the feature extractor's 4000-sample windows; a beat's vector is the mean hidden state (middle and
last layer, :func:`context_layers`) of the tokens over :data:`CONTEXT_SPANS_S` around its R peak,
minus the record's median beat vector, and
the head is a linear layer on that vector and the 5 per-record normalised RR features
(:data:`CONTEXT_RHYTHM`), fitted by class-weighted logistic regression (:mod:`heartbert_hf.probe`,
the same classifier as the ``features`` arm) whatever ``--head`` says. Arms:

* ``pretrained+context`` (f): the pretrained encoder;
* ``random+context`` (g): a randomly initialised encoder of the same shape (seeded): the control
  for what pretraining adds.

The records are read again from ``--data_dir`` (the beats dataset holds ±0.8 s windows only), with
the beats builder's reader (:func:`heartbert_hf.data.wfdb_io.read_record`), so R peaks line up with
the dataset's ``r_peak`` column. The median is over every N/S/V/F beat of the record in its split,
also when ``--max_train_per_class`` / ``--max_eval_examples`` subsample the rows that are fitted or scored.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .rhythm import RR_FEATURE_NAMES
from .tasks import SINGLE

logger = logging.getLogger(__name__)

CONTEXT_ARMS = {"pretrained+context": False, "random+context": True}
"""Record-context arm → random initialisation."""

CONTEXT_SPANS_S = [[-0.25, 0.45]]
"""Pooling span(s) of a beat's vector, seconds around its R peak (chosen by record-wise CV on DS1:
``benchmarks/mitdb_context_embeddings.py``)."""

CONTEXT_RHYTHM = ("pre_rr_norm", "post_rr_norm", "local_rr_norm", "pre_over_post", "pre_over_local")
"""The RR features the head takes: the per-record normalised ones of :data:`heartbert_hf.rhythm.RR_FEATURE_NAMES`
(the raw seconds hurt across patients: see docs/finetuning.md)."""

LEAD = "MLII"


def context_layers(num_hidden_layers: int) -> list[int]:
    """The ``hidden_states`` a beat vector pools: the middle layer's and the last (``[2, 4]`` for 4 layers,
    ``[3, 6]`` at the published shape). Measured on DS1 record-wise CV with the project's 4-layer encoder:
    with the RR features, jκ 0.566 against 0.504 for the last layer alone, paired difference +0.063
    [+0.021, +0.119] (macro-F1 +0.021 [−0.008, +0.056]); see docs/finetuning.md."""
    return [num_hidden_layers // 2, num_hidden_layers] if num_hidden_layers > 1 else [num_hidden_layers]


def context_model(model: str, labels: list[str], random_init: bool, seed: int, spans_s=None, layers=None):
    """A record-context beat classifier over ``model``'s encoder (or a seeded random one of its shape).

    Returns:
        ``HeartBertForSequenceClassification`` with a ``linear-probe`` head, ``beat_context_spans`` =
        ``spans_s`` (default :data:`CONTEXT_SPANS_S`), ``beat_context_layers`` = ``layers`` (default
        :func:`context_layers`), record-median centring and :data:`CONTEXT_RHYTHM` inputs, in eval mode.
    """
    from .arms import build_model
    from .configuration_heartbert import HeartBertConfig

    if layers is None:
        layers = context_layers(HeartBertConfig.from_pretrained(model).num_hidden_layers)
    beat_context = {"spans": spans_s or CONTEXT_SPANS_S, "layers": layers, "centring": "record-median"}
    rhythm = {"names": CONTEXT_RHYTHM}  # fed raw: the fitted probe standardises them
    return build_model(model, "linear-probe", labels, SINGLE, random_init, seed, rhythm=rhythm, beat_context=beat_context).eval()


def split_rhythm(ds, names=CONTEXT_RHYTHM) -> np.ndarray:
    """``(n_rows, len(names))`` the ``names`` columns (default :data:`CONTEXT_RHYTHM`) of a beats split's ``rr_features``.

    Raises:
        ValueError: the split has no ``rr_features`` column, or a name is not in :data:`heartbert_hf.rhythm.RR_FEATURE_NAMES`.
    """
    from .tasks import RHYTHM_COLUMN

    if RHYTHM_COLUMN not in ds.column_names:
        raise ValueError(f"the model takes rhythm features {list(names)}, but the data has no {RHYTHM_COLUMN} column.")
    unknown = [n for n in names if n not in RR_FEATURE_NAMES]
    if unknown:
        raise ValueError(f"rhythm features {unknown} are not computed by heartbert_hf.rhythm ({list(RR_FEATURE_NAMES)}).")
    return np.asarray(ds[RHYTHM_COLUMN], dtype=np.float64)[:, [RR_FEATURE_NAMES.index(n) for n in names]]


def rows_of(full, subset) -> list[int]:
    """Positions in ``full`` of the rows of ``subset`` (a subsample of it), matched by ``example_id``."""
    position = {int(e): i for i, e in enumerate(full["example_id"])}
    return [position[int(e)] for e in subset["example_id"]]


def predict_split(model, processor, ds, data_dir: str | None, max_length: int, batch_size: int | None = None) -> np.ndarray:
    """Class probabilities ``(n_rows, classes)`` of a beats split by a saved record-context classifier
    (``heartbert evaluate``): its own spans, centring and RR features."""
    from .inference import to_probs
    from .probe import probe_logits

    names = model.config.rhythm_feature_names
    rr = split_rhythm(ds, names) if names else None
    vectors = split_vectors(model, processor, ds, data_dir, max_length, batch_size=batch_size)
    return to_probs(probe_logits(model, vectors, rr), "single_label_classification")


def split_vectors(
    model, processor, ds, data_dir: str | None, max_length: int, desc: str = "Embedding records in context", batch_size: int | None = None
) -> np.ndarray:
    """Centred beat vectors ``(n_rows, n_spans * hidden)`` of a beats split, in row order.

    Args:
        model: a record-context classifier (:func:`context_model`).
        processor: the encoder's processor (:func:`heartbert_hf.runtime.load_heartbert_processor`).
        ds: rows with ``record_id`` and ``r_peak`` (the beats builder's columns).
        data_dir: the local MIT-BIH copy the split was built from.
        max_length: tokens per sequence.
        desc: the progress bar's label.
        batch_size: sequences per forward pass (default: :mod:`heartbert_hf.inference`'s).

    Raises:
        ValueError: no ``--data_dir`` (the records are re-read from it), a split without ``r_peak``,
            or a beat whose spans the record's token stream does not cover (:func:`heartbert_hf.beat_context.covered`).
    """
    from tqdm.auto import tqdm

    from .beat_context import beat_token_spans, covered, record_beat_vectors, record_stream
    from .data.wfdb_io import read_record

    if not data_dir:
        raise ValueError("the record-context arms (pretrained+context, random+context) re-read each record: pass --data_dir (a local MIT-BIH copy).")
    if "r_peak" not in ds.column_names:
        raise ValueError("the record-context arms need the beats' r_peak column (the mitdb beats builder's).")
    data_dir = str(Path(data_dir).expanduser())  # as the builders read it
    records, peaks = np.asarray(ds["record_id"]), np.asarray(ds["r_peak"], dtype=np.int64)
    out = None
    for record in tqdm(list(dict.fromkeys(records)), desc=desc, unit="record"):
        rows = np.flatnonzero(records == record)
        rec = read_record(f"{data_dir}/{record}", leads=[LEAD])
        stream = record_stream(processor, rec.signal[0], rec.sampling_rate, max_length)
        spans = beat_token_spans(stream, peaks[rows], rec.sampling_rate, model.config.beat_context_spans)
        seen = covered(stream, peaks[rows], rec.sampling_rate, model.config.beat_context_spans, spans)
        if not seen.all():  # the task data leaves out cut beats and invalid samples; a flat stretch remains
            missing = peaks[rows][~seen]
            raise ValueError(
                f"record {record}: {len(missing)} beat(s) (R peaks at samples {', '.join(map(str, missing[:5]))}"
                f"{' ...' if len(missing) > 5 else ''}) lie where lead {LEAD} gives no tokens (a flat or too-short stretch): "
                "the record-context classifier cannot see them. Leave the record out, or classify it with "
                "`heartbert classify-beats`, which marks such beats Q."
            )
        vectors = record_beat_vectors(model, stream, spans, batch_size=batch_size)  # (n_rows_of_record, d)
        if out is None:
            out = np.zeros((len(ds), vectors.shape[1]))
        out[rows] = vectors - np.median(vectors, axis=0)
    return out if out is not None else np.zeros((0, model.config.pooled_size))


def fit_and_predict(model, train_x, train_y, train_rr, evals: dict, class_weighting: bool, seed: int) -> tuple[dict, dict]:
    """Fit the head on centred training vectors, then class probabilities of each eval split.

    Args:
        evals: split → ``(vectors, rr)``.

    Returns:
        ``(fit_info, split → (n_rows, classes) probabilities)``.
    """
    from .inference import to_probs
    from .probe import fit_linear_probe, probe_logits

    info = fit_linear_probe(model, train_x, train_y, train_rr, class_weighting, seed=seed)
    return info, {name: to_probs(probe_logits(model, x, rr), "single_label_classification") for name, (x, rr) in evals.items()}


def run_context_arm(args, data: dict, labels: list[str], arm: str, output_dir: str | None, save_with=None, unsampled: dict | None = None) -> tuple[dict, dict]:
    """One record-context arm on fixed splits: fit on ``data["train"]``, score validation / test.

    Args:
        args: the finetune options (``model``, ``data_dir``, ``max_length``, ``seed``, ``class_weighting``).
        data: split → beats dataset (possibly subsampled: ``--max_train_per_class``, ``--max_eval_examples``).
        unsampled: split → every beat of the split (default ``data``): the records are embedded and
            centred on all their beats, then the rows of ``data`` are taken.
        labels: class names.
        arm: a key of :data:`CONTEXT_ARMS`.
        output_dir: where to save the fitted model (``None``: not saved).
        save_with: called as ``save_with(model, output_dir=..., results=...)`` to save it
            (``heartbert_hf.arms.save_finetuned`` with the rest bound).

    Returns:
        ``(results, predictions)`` as :func:`heartbert_hf.arms.run_arm`.
    """
    from .runtime import load_heartbert_processor
    from .tasks import get_task, score

    task = get_task("mitdb-aami")
    model = context_model(args.model, labels, CONTEXT_ARMS[arm], args.seed)
    processor = load_heartbert_processor(args.model)
    vectors = {}
    for name, ds in data.items():
        full = (unsampled or data)[name]
        vectors[name] = split_vectors(model, processor, full, args.data_dir, args.max_length, f"{arm}: embedding {name} records")[rows_of(full, ds)]
    evals = {name: (vectors[name], split_rhythm(data[name])) for name in ("validation", "test") if name in data}
    train = data["train"]
    info, probs = fit_and_predict(model, vectors["train"], train["labels"], split_rhythm(train), evals, args.class_weighting, args.seed)
    results, predictions = {}, {}
    for name, p in probs.items():
        y = list(data[name]["labels"])
        predictions[name] = (np.asarray(data[name]["example_id"]), p, y)
        results[name] = score(task, labels, y, p)
    results.update(probe_fit=info, init="random" if CONTEXT_ARMS[arm] else "pretrained", rhythm_features=list(CONTEXT_RHYTHM))
    results["beat_context_spans"] = model.config.beat_context_spans
    if output_dir is not None and save_with is not None:
        save_with(model, output_dir=output_dir, results=results)
    return results, predictions


def run_context_cv_arm(args, pool, cache: dict, labels: list[str], arm: str, train_rows: np.ndarray, test_rows: np.ndarray):
    """One fold of a record-context arm: the pool is embedded once per encoder (``cache``), the head
    fitted on the fold's training rows and applied to its held-out rows.

    Args:
        pool: every beat of the CV pool (``record_id``, ``r_peak``, ``rr_features``, ``labels``, ``example_id``).
        cache: arm → ``(model, centred vectors of pool, rr of pool)``, filled on first use.
        train_rows, test_rows: boolean masks over the pool's rows.

    Returns:
        ``(example_ids, probs, labels, fit_info)`` of the held-out rows (``fit_info`` with
        ``embed_seconds`` when this call embedded the pool).
    """
    import time

    from .runtime import load_heartbert_processor

    embedded = {}
    if arm not in cache:
        t0 = time.time()
        model = context_model(args.model, labels, CONTEXT_ARMS[arm], args.seed)
        vectors = split_vectors(model, load_heartbert_processor(args.model), pool, args.data_dir, args.max_length, f"{arm}: embedding DS1 records")
        cache[arm] = (model, vectors, split_rhythm(pool))
        embedded[arm] = round(time.time() - t0, 1)
    model, vectors, rr = cache[arm]
    y = np.asarray(pool["labels"])
    info, probs = fit_and_predict(
        model, vectors[train_rows], y[train_rows], rr[train_rows], {"test": (vectors[test_rows], rr[test_rows])}, args.class_weighting, args.seed
    )
    if embedded:
        info["embed_seconds"] = embedded
    return np.asarray(pool["example_id"])[test_rows], probs["test"], list(y[test_rows]), info
