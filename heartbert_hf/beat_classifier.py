"""Loading a fine-tuned HeartBert beat classifier and classifying beat windows with it: the model
side of ``heartbert classify-beats`` (:mod:`heartbert_hf.classify_beats`), also used by the
benchmarks that measure the shipped classifier.

The shipped classifier is :data:`DEFAULT_MODEL`, arm (f) of the ``mitdb-aami`` scorecard, trained
on the 22 MIT-BIH DS1 records (``benchmarks/mitdb_scorecard.py --ship``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .beat_reference import BEAT_CLASSES
from .runtime import check_model_path

DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "heartbert-aami-ds1"
"""The DS1-trained beat classifier shipped with the package (``--model`` default)."""


@dataclass
class BeatClassifier:
    """A loaded beat classifier: model, processor (feature extractor + tokenizer) and the settings of its input."""

    model: object
    processor: object
    labels: list[str]
    max_length: int
    rhythm_columns: list[int] | None  # columns of rhythm.rr_features the model takes, in its order


def load_classifier(model: str | None, max_length: int = 0) -> BeatClassifier:
    """Load a fine-tuned HeartBert beat classifier and its processor (:func:`runtime.load_heartbert_processor`).

    Args:
        model: folder or Hub id; ``None`` for the shipped :data:`DEFAULT_MODEL`.
        max_length: tokens per sequence (0: the model's positions - 2, at most 512).

    Raises:
        FileNotFoundError: ``model`` is neither a folder here nor a Hub repo (:func:`heartbert_hf.runtime.check_model_path`).
        ValueError: no model / tokenizer there, or its labels are not AAMI beat classes.
    """
    from transformers import AutoModelForSequenceClassification

    from .beat_context import fitted_max_length
    from .rhythm import RR_FEATURE_NAMES
    from .runtime import load_heartbert_processor

    if model is None:
        if not DEFAULT_MODEL.is_dir():
            raise ValueError(
                f"the shipped beat classifier {DEFAULT_MODEL} is not installed; pass --model FOLDER (a model fine-tuned with `heartbert finetune --task mitdb-aami`)."
            )
        model = str(DEFAULT_MODEL)
    model = check_model_path(model, "model folder")
    try:
        net = AutoModelForSequenceClassification.from_pretrained(model)
        processor = load_heartbert_processor(model)
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot load a HeartBert beat classifier from {model}: {err}") from None
    labels = [net.config.id2label[i] for i in range(net.config.num_labels)]
    if not set(labels) <= set(BEAT_CLASSES):
        raise ValueError(f"{model} predicts {labels}, not AAMI beat classes {list(BEAT_CLASSES)}: use a model fine-tuned on mitdb-aami.")
    names = list(getattr(net.config, "rhythm_feature_names", None) or [])
    unknown = [n for n in names if n not in RR_FEATURE_NAMES]
    if unknown:
        raise ValueError(f"{model} takes rhythm features {unknown} that heartbert_hf.rhythm does not compute ({RR_FEATURE_NAMES}).")
    limit = int(net.config.max_position_embeddings) - 2
    if max_length > limit:
        raise ValueError(f"max_length {max_length} exceeds the model's {limit} token positions.")
    fitted = fitted_max_length(net.config)
    if getattr(net.config, "beat_context_spans", None) and fitted:
        if max_length and max_length != fitted:  # shorter sequences give every token other neighbours: other vectors
            raise ValueError(
                f"{model} is a record-context classifier fitted on sequences of {fitted} tokens; --max_length {max_length} would change "
                f"every beat's vector (measured: V Se 0.88 at 256, 0.32 at 16 on sample 208). Leave --max_length out (it uses {fitted})."
            )
        max_length = fitted
    return BeatClassifier(
        model=net.eval(),
        processor=processor,
        labels=labels,
        max_length=int(max_length) if max_length else min(limit, 512),
        rhythm_columns=[RR_FEATURE_NAMES.index(n) for n in names] or None,
    )


def classify_segments(
    clf: BeatClassifier, segments: list[np.ndarray], sampling_rate: float, rhythm: np.ndarray | None, batch_size: int | None = None, precision: str = "fp32"
) -> np.ndarray:
    """Class probabilities of beat segments, through :func:`heartbert_hf.inference.predict_proba`.

    Args:
        clf: the loaded classifier.
        segments: one 1-D array per beat (the lead around its R peak), any length the tokenizer accepts.
        sampling_rate: Hz of the segments.
        rhythm: ``(n_beats, n_features)`` RR features in ``rhythm.RR_FEATURE_NAMES`` order, or ``None``.
        batch_size: sequences per forward pass (``None``: the inference module's default).
        precision: ``fp32``, ``bf16`` or ``int8`` (CPU), see :mod:`heartbert_hf.inference`.

    Returns:
        ``(n_beats, n_classes)`` probabilities: the mean over a beat's sequences; a NaN row for a
        flat (constant) segment, which has no sequence.
    """
    from .inference import predict_proba

    probs = np.full((len(segments), len(clf.labels)), np.nan)
    if not segments:
        return probs
    enc = clf.processor(ecg=segments, sampling_rate=sampling_rate, truncation=True, max_length=clf.max_length, drop_flat=True)
    owner = np.asarray(enc["overflow_to_sample_mapping"], dtype=np.int64)  # (n_sequences,) beat index
    if not len(owner):
        return probs
    features = None if clf.rhythm_columns is None else rhythm[owner][:, clf.rhythm_columns]  # (n_sequences, n_features)
    beats, beat_probs = predict_proba(clf.model, enc, owner, batch_size=batch_size, precision=precision, rhythm_features=features)
    probs[beats] = beat_probs
    return probs
