"""Fit the ``linear-probe`` head to convergence on its frozen encoder's embeddings.

A linear probe over a frozen encoder is a convex problem, so it is solved as one instead of a few
epochs of SGD through the encoder:

1. the encoder embeds every training sequence once (:func:`sequence_embeddings`: the masked mean of
   the last hidden states, exactly the vector the head sees);
2. the head's input is ``[embedding, normalised rhythm features]`` (the rhythm normalisation saved in
   the config, as in ``forward``);
3. scikit-learn's ``StandardScaler`` + multinomial ``LogisticRegression`` (L-BFGS, L2, ``C``,
   class weights the square root of inverse frequency, :func:`heartbert_hf.baselines.balanced_class_weight`,
   unless disabled) is fitted on those rows, the same classifier as the
   features-only baseline of the mitdb-aami scorecard (:mod:`heartbert_hf.baselines`), so the two
   arms differ only in their inputs;
4. the standardisation is folded into the head's ``nn.Linear``: with scaler mean ``mu`` and scale
   ``s``, ``W' = W / s`` and ``b' = b - W' @ mu``, so the saved model computes the fitted logits
   itself and reloads through the Auto classes like any other.

Each sequence is one row labelled with its example's label (an example cut into several sequences
gives several rows), as the SGD path trains it; predictions average the sequences' probabilities
(:func:`heartbert_hf.inference.predict_proba`).

Single-label only: a multi-label probe keeps the SGD path of ``heartbert finetune``.
"""

from __future__ import annotations

import numpy as np
import torch

PROBE_C = 1.0
"""Inverse L2 strength of the probe's logistic regression (scikit-learn's default, as the baseline)."""

PROBE_MAX_ITER = 2000
"""L-BFGS iterations at most (as the baseline)."""


def _check_probe(model) -> None:
    """Raise ``ValueError`` unless ``model`` is a single-label linear-probe classifier."""
    if getattr(model, "classifier_head", None) != "linear-probe":
        raise ValueError(f"fit_linear_probe needs a HeartBertForSequenceClassification with classifier_head='linear-probe', got {type(model).__name__}.")
    if model.config.problem_type == "multi_label_classification":
        raise ValueError("fit_linear_probe is single-label; a multi-label linear probe trains by SGD (heartbert finetune does this).")


def sequence_embeddings(model, tokenized, batch_size: int | None = None, desc: str | None = "Embedding sequences") -> np.ndarray:
    """The frozen encoder's pooled vector of each sequence: ``(n_sequences, hidden)`` float32.

    Args:
        model: a HeartBert model (its encoder is used).
        tokenized: a mapping / ``datasets.Dataset`` with ``input_ids`` (and ``attention_mask``), one row per sequence.
        batch_size: sequences per forward pass (default: the inference module's choice).
        desc: the progress bar's label (``None``: no bar).
    """
    from tqdm.auto import tqdm

    from .inference import _sequences_of, encode_sequences, select_device

    model.to(select_device())  # the whole model: the head must sit with the encoder for later forward passes
    sequences, _ = _sequences_of(tokenized)
    with tqdm(total=len(sequences), desc=desc, unit="seq", disable=desc is None) as bar:
        return encode_sequences(model, sequences, batch_size=batch_size, progress=bar.update)


def probe_inputs(model, embeddings: np.ndarray, rhythm_features=None) -> torch.Tensor:
    """The head's input ``(n, hidden + n_rhythm)``: embeddings with the normalised rhythm features
    (:meth:`HeartBertForSequenceClassification.normalise_rhythm`; it raises when they are missing or extra)."""
    x = torch.as_tensor(np.asarray(embeddings, dtype=np.float32))
    rhythm = model.normalise_rhythm(None if rhythm_features is None else torch.as_tensor(np.asarray(rhythm_features, dtype=np.float32)), len(x), x.device)
    return x if rhythm is None else torch.cat([x, rhythm], dim=-1)


def probe_logits(model, embeddings: np.ndarray, rhythm_features=None) -> np.ndarray:
    """The probe's logits ``(n, num_labels)`` from cached embeddings; equal to the model's forward on the sequences."""
    with torch.no_grad():
        return model.classifier(probe_inputs(model, embeddings, rhythm_features).to(model.classifier.weight.device)).cpu().numpy()


def fit_linear_probe(
    model,
    embeddings: np.ndarray,
    labels,
    rhythm_features=None,
    class_weighting: bool = True,
    C: float = PROBE_C,
    seed: int = 42,
) -> dict:
    """Fit ``model.classifier`` (a linear-probe head) in place by multinomial logistic regression.

    Args:
        model: a ``HeartBertForSequenceClassification`` with ``classifier_head="linear-probe"``.
        embeddings: ``(n_sequences, hidden)`` from :func:`sequence_embeddings`.
        labels: ``(n_sequences,)`` class ids.
        rhythm_features: ``(n_sequences, n_rhythm)`` raw RR features when the model takes them.
        class_weighting: class weights :func:`heartbert_hf.baselines.balanced_class_weight`, the square root
            of inverse class frequency, as the features baseline (arm (a)) (:data:`~heartbert_hf.baselines.CLASS_WEIGHT_POWER`).
        C: inverse L2 strength.
        seed: ``random_state`` of the solver.

    Returns:
        ``{"n_rows", "classes_seen", "n_iter", "converged"}``.

    Raises:
        ValueError: not a single-label linear probe, rows and labels of different lengths, or fewer
            than 2 classes in ``labels``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from .baselines import balanced_class_weight

    _check_probe(model)
    y = np.asarray(labels).astype(np.int64).reshape(-1)
    x = probe_inputs(model, embeddings, rhythm_features).numpy().astype(np.float64)  # (n, hidden + n_rhythm)
    if len(x) != len(y):
        raise ValueError(f"{len(x)} embedding rows but {len(y)} labels.")
    seen = np.unique(y)
    if len(seen) < 2:
        raise ValueError(f"the probe needs at least 2 classes among its training rows; got only class {seen.tolist()}.")
    scaler = StandardScaler().fit(x)
    weights = balanced_class_weight(y) if class_weighting else None
    lr = LogisticRegression(C=C, class_weight=weights, max_iter=PROBE_MAX_ITER, random_state=seed)
    lr.fit(scaler.transform(x), y)
    coef = lr.coef_ if len(seen) > 2 else np.vstack([-lr.coef_[0] / 2, lr.coef_[0] / 2])  # (classes_seen, features)
    bias = lr.intercept_ if len(seen) > 2 else np.array([-lr.intercept_[0] / 2, lr.intercept_[0] / 2])
    weight = coef / scaler.scale_  # fold the standardisation in
    bias = bias - weight @ scaler.mean_
    n_labels = model.classifier.out_features
    full_w = np.zeros((n_labels, x.shape[1]))
    full_b = np.full(n_labels, bias.min() - 50.0)  # classes absent from training: probability ~0
    full_w[seen] = weight
    full_b[seen] = bias
    with torch.no_grad():
        model.classifier.weight.copy_(torch.as_tensor(full_w, dtype=model.classifier.weight.dtype))
        model.classifier.bias.copy_(torch.as_tensor(full_b, dtype=model.classifier.bias.dtype))
    n_iter = int(np.max(lr.n_iter_))
    return {"n_rows": int(len(y)), "classes_seen": [int(c) for c in seen], "n_iter": n_iter, "converged": n_iter < PROBE_MAX_ITER}
