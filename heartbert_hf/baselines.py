"""The features-only classical baseline of the mitdb-aami scorecard (arm ``features``).

Features per beat, after de Chazal et al. (IEEE TBME 51(7), 2004) and Mondéjar-Guerra et al.
(BSPC 47, 2019), both of which reach their inter-patient results with RR intervals plus a coarse
sampling of the beat:

* the RR features of :func:`heartbert_hf.rhythm.rr_features` (``rr_features`` column);
* morphology: lead MLII from :data:`MORPHOLOGY_WINDOW_S` around the R peak (QRS and T wave),
  minus its median (baseline wander), resampled to :data:`MORPHOLOGY_RATE` Hz
  (``scipy.signal.resample_poly``); amplitudes stay in mV.

Model: ``StandardScaler`` → ``LogisticRegression`` (scikit-learn) weighted by
:func:`balanced_class_weight` (the square root of inverse class frequency), fitted
on the training beats only. It sees exactly the beats the encoder arms see (same splits, same
per-class caps).
"""

from __future__ import annotations

import numpy as np

MORPHOLOGY_WINDOW_S = (-0.25, 0.45)
"""Seconds before / after the R peak kept for the morphology features."""

MORPHOLOGY_RATE = 60
"""Hz the morphology window is resampled to (about 42 values per beat)."""


def morphology_features(signals, sampling_rates, r_peak_indices) -> np.ndarray:
    """Beat morphology vectors, ``(n_beats, n_values)`` float32.

    Args:
        signals: per beat, ``(leads, samples)`` (the first lead is used) with the R peak at
            ``r_peak_indices[i]``.
        sampling_rates: per beat, Hz.
        r_peak_indices: per beat, the R peak's sample index inside its segment.

    Raises:
        ValueError: a segment too short to hold :data:`MORPHOLOGY_WINDOW_S` around its R peak
            (names the beat index).
    """
    from scipy.signal import resample_poly

    out = []
    for i, (sig, fs, r) in enumerate(zip(signals, sampling_rates, r_peak_indices)):
        lead = np.asarray(sig[0], dtype=np.float64)
        lo, hi = int(round(r + MORPHOLOGY_WINDOW_S[0] * fs)), int(round(r + MORPHOLOGY_WINDOW_S[1] * fs))
        if lo < 0 or hi > len(lead):
            raise ValueError(f"beat {i}: its segment ({len(lead)} samples, R at {r}) does not hold {MORPHOLOGY_WINDOW_S} s around the R peak.")
        win = lead[lo:hi]
        win = np.nan_to_num(win - np.nanmedian(win))
        fs_int = int(round(fs))
        out.append(resample_poly(win, MORPHOLOGY_RATE, fs_int) if fs_int != MORPHOLOGY_RATE else win)
    width = min(len(v) for v in out) if out else 0
    return np.stack([v[:width] for v in out]).astype(np.float32) if out else np.zeros((0, 0), np.float32)


def beat_feature_matrix(ds) -> np.ndarray:
    """RR + morphology features of every beat of a mitdb-aami split, ``(n_beats, n_features)``.

    Args:
        ds: a split with ``signal``, ``sampling_rate`` and ``rr_features`` (the R peak sits at the
            centre of each beat window, as :func:`heartbert_hf.tasks.load_task_data` guarantees).
    """
    if "rr_features" not in ds.column_names:
        raise ValueError("the features baseline needs the rr_features column (the mitdb beats builder writes it).")
    signals = ds["signal"]
    centres = [len(s[0]) // 2 for s in signals]
    morph = morphology_features(signals, ds["sampling_rate"], centres)
    return np.hstack([np.asarray(ds["rr_features"], dtype=np.float32), morph])


CLASS_WEIGHT_POWER = 0.5
"""The linear fits (arm (a) here, every ``--linear_probe`` head in :mod:`heartbert_hf.probe`) weigh a
beat of class c by ``(n / (k * n_c)) ** 0.5``: the square root of scikit-learn's ``"balanced"``
weights (inverse class frequency). Fully balanced weights make a linear head over-call the rare
classes across patients (on DS1 CV the record-context classifier called 3.3 beats S for every true
S beat: Se S 0.78, +P S 0.23). Chosen among 1, 0.5 and 0.25 by DS1 record-wise 5-fold CV of the
record-context arm (f) (pooled jκ 0.566, 0.610, 0.594); nested CV, which picks the power by inner 4-fold
CV on each outer training fold, estimates the choice at jκ 0.60-0.62
(``benchmarks/mitdb_context_embeddings.py --class_weight_check``); figures in docs/finetuning.md."""


def balanced_class_weight(y, power: float = CLASS_WEIGHT_POWER) -> dict[int, float]:
    """``{class: (n / (k * n_c)) ** power}`` over the classes present in ``y`` (``power`` 1: scikit-learn's ``"balanced"``).

    Args:
        y: ``(n,)`` class ids.
        power: exponent of the inverse-frequency weights (0: unweighted).

    Raises:
        ValueError: ``power`` negative or not finite (it would weigh the common classes up).
    """
    if not np.isfinite(power) or power < 0:
        raise ValueError(f"the class-weight power must be a finite number >= 0 (0: unweighted, 1: inverse frequency); got {power}.")
    from sklearn.utils.class_weight import compute_class_weight

    y = np.asarray(y).astype(np.int64)
    classes = np.unique(y)
    weights = compute_class_weight("balanced", classes=classes, y=y) ** power
    return {int(c): float(w) for c, w in zip(classes, weights)}


def fit_features_baseline(x: np.ndarray, y: np.ndarray, n_classes: int, seed: int = 42, power: float = CLASS_WEIGHT_POWER):
    """Standardised, class-weighted logistic regression (scikit-learn) on ``(n, features)``, with the
    weights of :func:`balanced_class_weight` (``power``).

    Returns:
        the fitted ``Pipeline``; ``predict_proba`` gives ``(n, n_classes)`` after
        :func:`baseline_probs` (classes absent from training get probability 0).
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(), LogisticRegression(class_weight=balanced_class_weight(y, power), max_iter=2000, random_state=seed))
    model.fit(x, np.asarray(y))
    model.n_task_classes_ = n_classes
    return model


def boosting_classifier(class_weight: dict[int, float], seed: int = 42):
    """The non-linear classical head of the benchmarks: scikit-learn's class-weighted
    ``HistGradientBoostingClassifier`` (200 iterations, seeded, its defaults otherwise), unfitted;
    a ``make_model`` for :func:`record_cv_predictions` via ``functools.partial(boosting_classifier, seed=seed)``
    (it passes the training fold's :func:`balanced_class_weight`)."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(class_weight=class_weight, max_iter=200, random_state=seed)


def record_cv_predictions(
    x: np.ndarray, y: np.ndarray, records: np.ndarray, folds, n_classes: int, seed: int = 42, make_model=None, power: float = CLASS_WEIGHT_POWER
) -> np.ndarray:
    """Held-out class of every row: for each fold, fit on its training records and predict its test records.

    Args:
        x: ``(n, features)``; y: ``(n,)`` class ids; records: ``(n,)`` record id of each row.
        folds: ``[(train_records, test_records), ...]`` (:func:`heartbert_hf.tasks.cv_folds`).
        n_classes: number of classes (those absent from a fold's training rows get probability 0).
        seed: the logistic regression's seed.
        make_model: a factory of another scikit-learn classifier, called with ``class_weight`` (default
            :func:`fit_features_baseline`'s).
        power: exponent of the class weights (:func:`balanced_class_weight`) of every fold's fit.

    Returns:
        ``(n,)`` int64 predicted class ids (rows of no test fold keep 0).
    """
    pred = np.zeros(len(y), dtype=np.int64)
    for train_records, test_records in folds:
        train, test = np.isin(records, train_records), np.isin(records, test_records)
        if make_model is None:
            model = fit_features_baseline(x[train], y[train], n_classes, seed, power)
        else:
            model = make_model(class_weight=balanced_class_weight(y[train], power)).fit(x[train], y[train])
            model.n_task_classes_ = n_classes
        pred[test] = baseline_probs(model, x[test]).argmax(axis=1)
    return pred


def baseline_probs(model, x: np.ndarray) -> np.ndarray:
    """``(n, n_classes)`` class probabilities of a :func:`fit_features_baseline` model (or any fitted
    scikit-learn classifier given ``n_task_classes_``)."""
    p = model.predict_proba(x)
    out = np.zeros((len(x), model.n_task_classes_))
    out[:, model.classes_.astype(int)] = p
    return out
