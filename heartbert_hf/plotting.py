"""Figures (a library; the ``heartbert plot`` command is ``plots.py``): an ECG window with its quantized
reconstruction and BPE tokens; training curves; confusion matrices; beat-label strips.

matplotlib is imported lazily, with the Agg backend, when a figure is drawn, so importing this module
costs nothing. Every function writes one PNG and returns its path.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

TOKEN_COLOUR = "tab:purple"  # apart from the ECG paper's red grid


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: str | Path) -> Path:
    """Write ``fig`` to ``path`` (``.png`` added when it has no suffix, as matplotlib does) and return the path written.

    Raises:
        ValueError: ``path`` is an existing folder.
    """
    path = Path(path)
    if path.is_dir():
        plt.close(fig)
        raise ValueError(f"{path} is a folder; pass the path of the image file to write, e.g. {path / 'figure.png'}.")
    if not path.suffix:
        path = path.with_suffix(".png")  # what savefig would write; the caller prints the real path
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return path


def _raw_window(features, ecg, sampling_rate: float, window: int, lead: int) -> tuple[np.ndarray, np.ndarray, int]:
    """``(raw, scaled, start)``: the window at the feature extractor's rate in input units, the same scaled to [0, 1], and its first sample.

    Only the drawn lead and window must be valid: invalid (NaN) samples elsewhere in the record are
    bridged by linear interpolation before resampling, so they cannot reach the window.

    Raises:
        ValueError: no such window or lead (the message gives the valid ranges), or invalid samples in the window.
    """
    from .ecg_signal import as_leads, input_span, resample, resampled_length, scale, window_bounds

    x = as_leads(ecg, check_finite=False)
    n = resampled_length(x.shape[-1], sampling_rate, features.target_rate)
    bounds = window_bounds(n, features.window_size, features.min_window)
    if not 0 <= lead < x.shape[0] or not 0 <= window < len(bounds):
        raise ValueError(
            f"no window {window} on lead {lead}: this record has windows 0..{len(bounds) - 1} "
            f"({features.window_size / features.target_rate:.1f} s each) and leads 0..{x.shape[0] - 1}."
        )
    start, stop = bounds[window]
    row = np.array(x[lead], dtype=np.float64)
    bad = ~np.isfinite(row)
    if bad.any():
        first, last = input_span(start, stop, sampling_rate / features.target_rate, len(row))
        inside = np.flatnonzero(bad[first:last])
        if inside.size:
            raise ValueError(f"lead {lead}, window {window}: invalid (NaN or inf) input sample {first + int(inside[0])}; choose another window or lead.")
        good = np.flatnonzero(~bad)
        row[bad] = np.interp(np.flatnonzero(bad), good, row[good])
    y = resample(as_leads(row), sampling_rate, features.target_rate)[0]
    try:
        scaled = scale(y[start:stop], features.scaling)  # as the feature extractor's prepare_windows does
    except ValueError as err:
        raise ValueError(f"lead {lead}, window {window}: {err}") from None
    return y[start:stop], scaled, start


def _scale_bounds(raw: np.ndarray, scaling: str) -> tuple[float, float]:
    """The (low, high) input values that the window's scaling maps to 0 and 1 (see ``ecg_signal.scale``)."""
    from .ecg_signal import ROBUST_PERCENTILES

    if scaling == "robust":
        lo, hi = np.percentile(raw, ROBUST_PERCENTILES)
    else:
        lo, hi = raw.min(), raw.max()
    return float(lo), float(hi)


PAPER_MAX_LINES = 1000
"""Most small-square lines per axis drawn as ECG paper (matplotlib's ``Locator.MAXTICKS``): a longer strip
(over 40 s) or a taller one (over 100 mV, e.g. an uncalibrated lead labelled mV) gets plain grid lines
instead of thousands of lines and one warning per line."""


def _paper_fits(seconds: float, millivolts: float) -> bool:
    """Whether a strip of ``seconds`` x ``millivolts`` fits ECG paper's 0.04 s / 0.1 mV squares (see :data:`PAPER_MAX_LINES`)."""
    return bool(np.isfinite([seconds, millivolts]).all()) and seconds / 0.04 <= PAPER_MAX_LINES and millivolts / 0.1 <= PAPER_MAX_LINES


def _ecg_grid(ax, seconds: float, millivolts: float) -> None:
    """ECG paper at 25 mm/s and 10 mm/mV: minor lines every 0.04 s / 0.1 mV, major every 0.2 s / 0.5 mV
    (plain grid lines when the strip does not fit, see :data:`PAPER_MAX_LINES`)."""
    from matplotlib.ticker import MultipleLocator

    if not _paper_fits(seconds, millivolts):
        ax.grid(which="major", color="#e8a0a0", lw=0.8)
        return

    ax.xaxis.set_major_locator(MultipleLocator(0.2))
    ax.xaxis.set_minor_locator(MultipleLocator(0.04))
    ax.yaxis.set_major_locator(MultipleLocator(0.5))
    ax.yaxis.set_minor_locator(MultipleLocator(0.1))
    ax.grid(which="major", color="#e8a0a0", lw=0.8)
    ax.grid(which="minor", color="#f6d5d5", lw=0.4)
    ax.set_axisbelow(True)


def plot_tokens(
    processor,
    ecg,
    sampling_rate: float,
    path: str | Path,
    window: int = 0,
    lead: int = 0,
    max_tokens: int = 150,
    record: str | None = None,
    lead_name: str | None = None,
    units: str = "mV",
    ecg_grid: bool = False,
) -> Path:
    """Draw one window: the ECG, its quantized reconstruction and the BPE token boundaries.

    The amplitude axis is in the input's units (mV for WFDB records); the right-hand axis gives the
    scaled [0, 1] values the quantizer sees. The raw trace is drawn over the step reconstruction;
    red lines mark where each BPE token starts and the number over a token is how many samples
    (at the feature extractor's rate, 360 Hz) it covers.

    Args:
        processor: a fitted :class:`~heartbert_hf.HeartBertProcessor` (its feature extractor windows,
            scales and quantizes; its tokenizer cuts the level text into BPE tokens). A
            :class:`~heartbert_hf.HeartBertTokenizer` works too: it carries its feature extractor.
        ecg: 1-D or ``(leads, samples)`` array, in ``units``.
        sampling_rate: Hz of ``ecg``.
        path: the PNG to write.
        window: which window of the record to draw.
        lead: which lead (row of ``ecg``).
        max_tokens: draw the first ``max_tokens`` tokens only, so boundaries stay readable.
        record: record name for the title.
        lead_name: lead name for the title (e.g. ``"MLII"``).
        units: amplitude unit of ``ecg``.
        ecg_grid: draw ECG paper (0.04 s / 0.1 mV small boxes, 0.2 s / 0.5 mV big boxes).

    Returns:
        The path written.

    Raises:
        ValueError: no such window or lead (the message gives the valid ranges), or a flat window.
    """
    from matplotlib.lines import Line2D

    features = processor.feature_extractor
    tokenizer = getattr(processor, "tokenizer", processor)
    raw, scaled, start = _raw_window(features, ecg, sampling_rate, window, lead)
    q = features.quantizer
    text = q.to_text(scaled)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets = enc["offset_mapping"][:max_tokens]
    stop = offsets[-1][1] if offsets else len(scaled)
    rate = features.target_rate
    t = (start + np.arange(stop)) / rate
    lo, hi = _scale_bounds(raw, features.scaling)
    span = hi - lo
    recon = lo + span * q.from_text(text[:stop])

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(12, 4.5))
    ax.step(t, recon, where="post", lw=1.6, color="C0", alpha=0.75, zorder=2)
    ax.plot(t, raw[:stop], lw=0.9, color="black", zorder=3)
    top = float(max(raw[:stop].max(), recon.max()))
    bottom = float(min(raw[:stop].min(), recon.min()))
    pad = 0.05 * (top - bottom or 1.0)
    if ecg_grid:
        _ecg_grid(ax, stop / rate, (top - bottom) * 1.25)
    label_y = top + pad
    for s, e in offsets:
        ax.axvline((start + s) / rate, color=TOKEN_COLOUR, lw=0.5, alpha=0.6, zorder=1)
        if e - s >= 3:
            ax.text((start + (s + e) / 2) / rate, label_y, str(e - s), ha="center", va="bottom", fontsize=6, color=TOKEN_COLOUR)
    ax.set_ylim(bottom - pad, top + 4 * pad)
    ax.set_xlim(t[0], t[-1] + 1 / rate)
    ax.set_xlabel("time in the record (s)")
    ax.set_ylabel(f"amplitude ({units})")
    scaled_axis = ax.secondary_yaxis("right", functions=(lambda v: (v - lo) / span, lambda u: lo + u * span))
    scaled_axis.set_ylabel("scaled value seen by the quantizer [0, 1]")
    handles = [
        Line2D([], [], color="black", lw=0.9, label=f"ECG ({units}, resampled to {rate:g} Hz)"),
        Line2D([], [], color="C0", lw=1.6, alpha=0.75, label=f"{q.n_levels}-level {q.method} reconstruction"),
        Line2D([], [], color=TOKEN_COLOUR, lw=0.8, label="BPE token start; number above = samples in the token (when >= 3)"),
    ]
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3, fontsize=8, frameon=False)
    name = f"record {record}" if record else "ECG"
    lead_text = f"lead {lead_name} ({lead})" if lead_name else f"lead {lead}"
    ax.set_title(
        f"{name}, {lead_text}, window {window} ({start / rate:.1f}-{(start + len(raw)) / rate:.1f} s): first {len(offsets)} tokens "
        f"over {stop} samples ({stop / max(len(offsets), 1):.2f} samples/token)",
        fontsize=10,
    )
    return _save(plt, fig, path)


def plot_curves(log_history: list[dict], path: str | Path, vocab_size: int | None = None) -> Path:
    """Plot training loss, validation loss and masked-token accuracy against the step.

    Args:
        log_history: ``Trainer.state.log_history``.
        path: the PNG to write.
        vocab_size: when given, the loss of a uniform guess over the vocabulary, ``ln(vocab_size)``,
            is drawn as a reference line (a model below it has learnt something), and chance
            accuracy ``1 / vocab_size`` likewise.
    """
    import math

    plt = _pyplot()
    series: dict[str, tuple[list, list]] = {}
    for row in log_history:
        for key in ("loss", "eval_loss", "eval_masked_accuracy"):
            if key in row and "step" in row:
                series.setdefault(key, ([], []))
                series[key][0].append(row["step"])
                series[key][1].append(row[key])
    if not series:
        raise ValueError("log_history holds no loss or eval_loss entries to plot.")
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for key, label in (("loss", "training loss"), ("eval_loss", "validation loss")):
        if key in series:
            ax_loss.plot(*series[key], marker="o" if key == "eval_loss" else None, label=label)
    if vocab_size:
        ax_loss.axhline(math.log(vocab_size), color="0.4", ls="--", lw=1, label=f"uniform guess: ln {vocab_size:,} = {math.log(vocab_size):.2f}")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("MLM loss (cross-entropy, nats)")
    ax_loss.legend()
    if "eval_masked_accuracy" in series:
        ax_acc.plot(*series["eval_masked_accuracy"], marker="o", color="C2", label="validation")
        if vocab_size:
            ax_acc.axhline(1 / vocab_size, color="0.4", ls="--", lw=1, label=f"uniform guess: 1/{vocab_size:,}")
        ax_acc.legend()
    ax_acc.set_xlabel("step")
    ax_acc.set_ylabel("masked-token accuracy (validation)")
    return _save(plt, fig, path)


def plot_confusion_matrix(matrix, labels: list[str], path: str | Path, title: str | None = None) -> Path:
    """Draw a confusion matrix (rows: true class, columns: predicted): each cell gives the count and
    the row-normalised share (the share of that true class predicted as the column's class; the
    diagonal is the class's sensitivity, Se). Colours follow the row-normalised share, so a rare
    class is as visible as a common one.

    Args:
        matrix: ``(n_classes, n_classes)`` counts.
        labels: class names, in matrix order.
        path: the PNG to write.
        title: optional title.
    """
    matrix = np.asarray(matrix)
    if matrix.shape != (len(labels), len(labels)):
        raise ValueError(f"matrix shape {matrix.shape} does not match {len(labels)} labels.")
    totals = matrix.sum(axis=1, keepdims=True)
    shares = np.divide(matrix, totals, out=np.zeros(matrix.shape, dtype=float), where=totals > 0)
    plt = _pyplot()
    size = 1.4 + 1.0 * len(labels)
    fig, ax = plt.subplots(figsize=(size + 1.2, size))
    image = ax.imshow(shares, cmap="Blues", vmin=0.0, vmax=1.0)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04, label="share of the true class (row)")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), [f"{name} (n={int(n)})" for name, n in zip(labels, totals[:, 0])])
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            share = "-" if not totals[i, 0] else ("<1%" if 0 < shares[i, j] < 0.005 else f"{100 * shares[i, j]:.0f}%")
            text = f"{matrix[i, j]}\n{share}"
            ax.text(j, i, text, ha="center", va="center", color="white" if shares[i, j] > 0.5 else "black", fontsize=8)
    if title:
        ax.set_title(title)
    return _save(plt, fig, path)


def plot_beat_labels(
    signal,
    sampling_rate: float,
    beat_samples,
    labels: list[str],
    path: str | Path,
    start_s: float = 0.0,
    seconds: float = 10.0,
    title: str | None = None,
    units: str = "mV",
    reference_labels: list[str] | None = None,
) -> Path:
    """Draw a strip of one ECG lead with each beat's class above its R peak, on ECG-paper grid lines.

    When ``units`` is mV (and the strip fits, see :data:`PAPER_MAX_LINES`) the strip is drawn as ECG paper at 25 mm/s and 10 mm/mV: large squares
    0.2 s x 0.5 mV, small squares 0.04 s x 0.1 mV, both the same length on the page (time labelled
    every second). Labels are coloured by AAMI class (N black, S blue, V red, F orange, Q grey);
    where ``reference_labels`` differs, the reference class is written under the label. A strip
    that would run past the end of the signal is moved earlier, so it keeps its length.

    Args:
        signal: ``(n_samples,)`` the lead in physical units (NaN: invalid samples, left as gaps).
        sampling_rate: Hz of ``signal``.
        beat_samples: ``(n_beats,)`` R-peak sample numbers.
        labels: one class per beat.
        path: the PNG to write.
        start_s: strip start in seconds from the record start.
        seconds: strip length in seconds.
        title: e.g. the record and lead.
        units: physical unit of ``signal`` (axis label).
        reference_labels: optional reference class per beat (``""``: no reference beat).

    Returns:
        The path written.

    Raises:
        ValueError: ``labels`` / ``reference_labels`` and ``beat_samples`` differ in length, the
            strip starts after the signal's end, holds fewer than 2 samples, or its start or length is not finite.
    """
    signal = np.asarray(signal, dtype=np.float64).ravel()
    beat_samples = np.asarray(beat_samples, dtype=np.int64)
    if len(labels) != len(beat_samples) or (reference_labels is not None and len(reference_labels) != len(beat_samples)):
        raise ValueError(
            f"{len(beat_samples)} beats but {len(labels)} labels" + (f" and {len(reference_labels)} reference labels." if reference_labels is not None else ".")
        )
    if not (np.isfinite(start_s) and np.isfinite(seconds)):
        raise ValueError(f"the strip's start and length must be numbers of seconds, got start {start_s} and length {seconds}.")
    n = int(round(seconds * sampling_rate))
    lo = max(int(round(start_s * sampling_rate)), 0)
    if n < 2:
        raise ValueError(f"a strip of {seconds:g} s holds {max(n, 0)} sample(s) at {sampling_rate:g} Hz: pass a longer one.")
    if lo >= len(signal):
        raise ValueError(f"the strip {start_s:g}-{start_s + seconds:g} s starts after the end of the signal ({len(signal) / sampling_rate:g} s).")
    lo = max(0, min(lo, len(signal) - n))  # a strip that would run past the end starts earlier
    hi = min(lo + n, len(signal))
    t = np.arange(lo, hi) / sampling_rate
    y = signal[lo:hi]
    finite = y[np.isfinite(y)]
    ymin, ymax = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    span = max(ymax - ymin, 1e-6)
    bottom, top = ymin - 0.1 * span, ymax + 0.45 * span  # room above the trace for the labels
    colours = {"N": "black", "S": "tab:blue", "V": "tab:red", "F": "tab:orange", "Q": "0.5"}
    plt = _pyplot()
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    width = max(6.0, 1.2 * (t[-1] - t[0]) + 2.0)
    paper = units.lower() == "mv" and _paper_fits(t[-1] - t[0], top - bottom)
    # ECG paper at 25 mm/s and 10 mm/mV: 0.2 s and 0.5 mV are the same length (a large square)
    height = min(max(2.5, (width - 1.5) * (top - bottom) * 0.4 / max(t[-1] - t[0], 1e-6) + 1.3), 8.0) if paper else 3.6
    fig, ax = plt.subplots(figsize=(width, height))
    if paper:
        ax.xaxis.set_major_locator(MultipleLocator(0.2))
        ax.xaxis.set_minor_locator(MultipleLocator(0.04))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0f}" if abs(v - round(v)) < 1e-6 else ""))
        ax.yaxis.set_major_locator(MultipleLocator(0.5))
        ax.yaxis.set_minor_locator(MultipleLocator(0.1))
        ax.grid(which="minor", color="#f7d0d0", lw=0.3)
        ax.tick_params(axis="x", which="major", length=0)
    ax.grid(which="major", color="#e88", lw=0.7)
    ax.set_axisbelow(True)
    ax.plot(t, y, color="black", lw=0.8)
    in_strip = np.flatnonzero((beat_samples >= lo) & (beat_samples < hi))
    for i in in_strip:
        x = beat_samples[i] / sampling_rate
        ax.text(
            x, ymax + 0.18 * span, labels[i], ha="center", va="bottom", fontsize=10, fontweight="bold", color=colours.get(labels[i], "purple"), clip_on=True
        )
        if reference_labels is not None and reference_labels[i] != labels[i]:
            ref = reference_labels[i] or "-"
            ax.text(x, ymax + 0.06 * span, f"ref {ref}", ha="center", va="bottom", fontsize=7, color="0.35", style="italic", clip_on=True)
    ax.set_xlim(t[0], t[-1])
    ax.set_ylim(bottom, top)
    ax.set_xlabel("time (s from record start)" + ("; grid 0.2 s x 0.5 mV" if paper else ""))
    ax.set_ylabel(f"amplitude ({units})")
    shown = [labels[i] for i in in_strip]
    counts = ", ".join(f"{c} {shown.count(c)}" for c in colours if shown.count(c))
    ax.set_title(f"{title or 'beat labels'} — {t[0]:.1f}-{t[-1]:.1f} s" + (f" ({counts})" if counts else ""), fontsize=10)
    return _save(plt, fig, path)
