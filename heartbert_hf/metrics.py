"""Downstream-task metrics with scikit-learn (no Hub downloads, unlike ``evaluate``).

* single-label (beats, sleep stages): accuracy, macro-F1 (over the classes present), per-class
  sensitivity (Se) / positive predictivity (+P) / specificity / F1, Cohen's κ, the confusion
  matrix and, for the AAMI beat classes, the j-index and jκ-index of Mar et al. (IEEE TBME 58(8),
  2011) as computed by Mondéjar-Guerra et al. (2019): ``j = Se_S + Se_V + +P_S + +P_V`` (0..4) and
  ``jκ = κ/2 + j/8`` (0..1), see :func:`confusion_metrics`;
* multi-label (PTB-XL): macro AUROC (the PTB-XL benchmark metric, over classes with both a positive
  and a negative example; the others are listed as undefined, never silently counted) and macro-F1
  at per-class thresholds tuned on the validation split (:func:`tune_thresholds`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def _finite_or_none(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def classification_metrics(
    y_true: Sequence[int],
    y_pred: Sequence[int],
    labels: Sequence[str],
    report_classes: Sequence[str] | None = None,
) -> dict:
    """Single-label metrics (see :func:`confusion_metrics`).

    Args:
        y_true: true class ids, ``(n,)``.
        y_pred: predicted class ids, ``(n,)``.
        labels: class names, index = class id.
        report_classes: classes the macro averages run over (default: all of ``labels``).

    Raises:
        ValueError: shapes differ, no examples, or a report class outside ``labels``.
    """
    from sklearn.metrics import confusion_matrix

    y_true = np.asarray(y_true, dtype=np.int64)
    y_pred = np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(f"y_true and y_pred must be 1-D of the same length, got {y_true.shape} and {y_pred.shape}.")
    if len(y_true) == 0:
        raise ValueError("no examples to score (empty y_true).")
    cm = confusion_matrix(y_true, y_pred, labels=list(range(len(labels))))
    return confusion_metrics(cm, labels, report_classes)


def confusion_metrics(cm: np.ndarray, labels: Sequence[str], report_classes: Sequence[str] | None = None, detail: bool = True) -> dict:
    """Single-label metrics from a confusion matrix (rows true class, columns predicted class).

    * ``macro_f1``: the mean F1 over ``report_classes`` **present in the truth**; a class with no
      true example is left out (listed in ``absent_classes``), never counted as F1 = 0.
    * ``cohen_kappa``: Cohen's κ of the whole matrix (0 when only one class occurs at all).
    * ``j_index`` / ``jk_index`` (when S and V are labels), as defined by Mar et al. (IEEE TBME
      58(8), 2011) and computed by Mondéjar-Guerra et al. (BSPC 47, 2019; their
      ``evaluation_AAMI.py``): ``j = Se_S + Se_V + +P_S + +P_V`` (0..4), ``jκ = κ/2 + j/8`` (0..1),
      with ``+P_V`` following ANSI/AAMI EC57: fusion (F) beats labelled V are not false positives
      of V. ``per_class["V"]["ppv"]`` is the plain +P; ``ppv_aami`` carries the EC57 value.
    * ``degenerate``: κ < 0.05 or a single predicted class: such a classifier has learnt nothing
      usable, and no gain is claimed from or against it.

    Args:
        cm: ``(classes, classes)`` counts.
        labels: class names, index = class id.
        report_classes: classes the macro averages run over (default: all of ``labels``).
        detail: include ``per_class`` and ``confusion_matrix`` (off for bootstrap resamples).

    Returns:
        A JSON-ready dict: ``n``, ``accuracy``, ``macro_f1``, ``macro_f1_classes``,
        ``absent_classes``, ``cohen_kappa``, ``degenerate``, ``predicted_classes``; with ``detail``
        also ``per_class`` (sensitivity, ppv, specificity, f1, support), ``confusion_matrix``,
        ``labels``; ``j_index`` / ``jk_index`` when S and V are labels.

    Raises:
        ValueError: a report class outside ``labels``, or a matrix of the wrong shape / empty.
    """
    cm = np.asarray(cm, dtype=np.float64)
    labels = list(labels)
    if cm.shape != (len(labels), len(labels)):
        raise ValueError(f"confusion matrix must be ({len(labels)}, {len(labels)}) for labels {labels}, got {cm.shape}.")
    report = list(report_classes) if report_classes is not None else labels
    unknown = [c for c in report if c not in labels]
    if unknown:
        raise ValueError(f"report_classes {unknown} are not in the label space {labels}.")
    total = cm.sum()
    if total == 0:
        raise ValueError("no examples to score (empty confusion matrix).")
    tp = np.diag(cm)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        sens = np.where(support > 0, tp / support, 0.0)
        ppv = np.where(predicted > 0, tp / predicted, 0.0)
        f1 = np.where(sens + ppv > 0, 2 * sens * ppv / (sens + ppv), 0.0)
    present = [c for c in report if support[labels.index(c)] > 0]
    absent = [c for c in report if support[labels.index(c)] == 0]
    expected = float((support * predicted).sum()) / total**2
    observed = float(tp.sum()) / total
    kappa = (observed - expected) / (1 - expected) if expected < 1 else 0.0
    n_predicted = int((predicted > 0).sum())
    out = {
        "n": int(total),
        "accuracy": observed,
        "macro_f1": float(np.mean([f1[labels.index(c)] for c in present])) if present else None,
        "macro_f1_classes": present,
        "absent_classes": absent,
        "cohen_kappa": float(kappa) if math.isfinite(kappa) else 0.0,
        "predicted_classes": [labels[i] for i in range(len(labels)) if predicted[i] > 0],
    }
    out["degenerate"] = bool(out["cohen_kappa"] < 0.05 or n_predicted <= 1)
    if "S" in labels and "V" in labels:
        s, v = labels.index("S"), labels.index("V")
        v_fp = predicted[v] - tp[v] - (cm[labels.index("F"), v] if "F" in labels else 0.0)
        ppv_v_aami = tp[v] / (tp[v] + v_fp) if tp[v] + v_fp > 0 else 0.0
        j = sens[s] + sens[v] + ppv[s] + ppv_v_aami
        out["j_index"] = float(j)
        out["jk_index"] = float(out["cohen_kappa"] / 2 + j / 8)
    if detail:
        per_class = {}
        for i, name in enumerate(labels):
            tn = total - support[i] - predicted[i] + tp[i]
            fp = predicted[i] - tp[i]
            per_class[name] = {
                "sensitivity": float(sens[i]),
                "ppv": float(ppv[i]),
                "specificity": float(tn / (tn + fp)) if tn + fp else 0.0,
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
        if "j_index" in out:
            per_class["V"]["ppv_aami"] = float(ppv_v_aami)
        out.update({"per_class": per_class, "confusion_matrix": cm.astype(np.int64).tolist(), "labels": labels})
    return out


def tune_thresholds(y_true: np.ndarray, probs: np.ndarray, grid: Sequence[float] | None = None) -> np.ndarray:
    """Per-class decision thresholds that maximise each class's F1 on (validation) data.

    Args:
        y_true: ``(n, classes)`` 0/1.
        probs: ``(n, classes)`` predicted probabilities.
        grid: candidate thresholds (default 0.05, 0.10, …, 0.95).

    Returns:
        ``(classes,)`` thresholds; a class with no positive example keeps 0.5.
    """
    from sklearn.metrics import f1_score

    y_true, probs = _check_multilabel(y_true, probs)
    grid = np.asarray(grid if grid is not None else np.round(np.arange(0.05, 0.951, 0.05), 2), dtype=np.float64)
    thresholds = np.full(y_true.shape[1], 0.5)
    for c in range(y_true.shape[1]):
        if y_true[:, c].sum() == 0:
            continue
        scores = [f1_score(y_true[:, c], probs[:, c] >= t, zero_division=0) for t in grid]
        thresholds[c] = grid[int(np.argmax(scores))]
    return thresholds


def _check_multilabel(y_true, probs) -> tuple[np.ndarray, np.ndarray]:
    y_true = np.asarray(y_true, dtype=np.int64)
    probs = np.asarray(probs, dtype=np.float64)
    if y_true.ndim != 2 or y_true.shape != probs.shape:
        raise ValueError(f"multi-label y_true and probs must both be (n, classes), got {y_true.shape} and {probs.shape}.")
    if len(y_true) == 0:
        raise ValueError("no examples to score (empty y_true).")
    if not np.isfinite(probs).all():
        raise ValueError("probs contains NaN or inf.")
    return y_true, probs


def multilabel_metrics(y_true: np.ndarray, probs: np.ndarray, labels: Sequence[str], thresholds: Sequence[float] | None = None) -> dict:
    """Multi-label metrics: macro AUROC and macro-F1 at the given thresholds.

    Args:
        y_true: ``(n, classes)`` 0/1.
        probs: ``(n, classes)`` sigmoid probabilities.
        labels: class names.
        thresholds: per-class thresholds (default 0.5 each), e.g. from :func:`tune_thresholds` on
            the validation split.

    Returns:
        A JSON-ready dict: ``macro_auroc`` (``None`` when no class is defined), ``auroc_classes`` /
        ``auroc_undefined`` (classes without both a positive and a negative), ``macro_f1`` (over
        classes with at least one positive or predicted positive), ``per_class``, ``thresholds``,
        ``n``.
    """
    from sklearn.metrics import f1_score, precision_recall_fscore_support, roc_auc_score

    y_true, probs = _check_multilabel(y_true, probs)
    labels = list(labels)
    if y_true.shape[1] != len(labels):
        raise ValueError(f"{y_true.shape[1]} label columns but {len(labels)} label names.")
    thr = np.full(len(labels), 0.5) if thresholds is None else np.asarray(thresholds, dtype=np.float64)
    if thr.shape != (len(labels),):
        raise ValueError(f"need one threshold per class ({len(labels)}), got shape {thr.shape}.")
    pred = (probs >= thr).astype(np.int64)
    aurocs, defined, undefined = {}, [], []
    for c, name in enumerate(labels):
        positives = y_true[:, c].sum()
        if 0 < positives < len(y_true):
            aurocs[name] = float(roc_auc_score(y_true[:, c], probs[:, c]))
            defined.append(name)
        else:
            undefined.append(name)
    ppv, sens, f1, support = precision_recall_fscore_support(y_true, pred, zero_division=0)
    active = [c for c in range(len(labels)) if y_true[:, c].any() or pred[:, c].any()]
    macro_f1 = f1_score(y_true[:, active], pred[:, active], average="macro", zero_division=0) if active else 0.0
    return {
        "n": int(len(y_true)),
        "macro_auroc": _finite_or_none(np.mean(list(aurocs.values()))) if aurocs else None,
        "auroc_classes": defined,
        "auroc_undefined": undefined,
        "macro_f1": float(macro_f1),
        "macro_f1_classes": [labels[c] for c in active],
        "thresholds": {name: float(t) for name, t in zip(labels, thr)},
        "per_class": {
            name: {
                "auroc": aurocs.get(name),
                "sensitivity": float(sens[c]),
                "ppv": float(ppv[c]),
                "f1": float(f1[c]),
                "support": int(support[c]),
            }
            for c, name in enumerate(labels)
        },
        "labels": labels,
    }


def multilabel_confusion(y_true: np.ndarray, pred: np.ndarray) -> np.ndarray:
    """``(classes, 2, 2)`` per-class confusion matrices (``[[TN, FP], [FN, TP]]``)."""
    from sklearn.metrics import multilabel_confusion_matrix

    return multilabel_confusion_matrix(np.asarray(y_true), np.asarray(pred))
