"""Figures: an ECG window with its quantized reconstruction and BPE tokens; training curves;
confusion matrices. matplotlib (Agg backend) is imported lazily.

Command line: ``heartbert plot RECORD --tokenizer PATH --output tokens.png`` draws one window of a
WFDB record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: str | Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def plot_tokens(tokenizer, ecg, sampling_rate: float, path: str | Path, window: int = 0, lead: int = 0, max_tokens: int = 150) -> Path:
    """Draw one window: the scaled signal, its quantized reconstruction and the BPE token boundaries.

    Args:
        tokenizer: a fitted :class:`~heartbert_hf.HeartBertTokenizer`.
        ecg: 1-D or ``(leads, samples)`` array.
        sampling_rate: Hz of ``ecg``.
        path: the PNG to write.
        window: which window of the record to draw.
        lead: which lead.
        max_tokens: draw the first ``max_tokens`` tokens only, so boundaries stay readable.

    Returns:
        The path written.
    """
    from .ecg_signal import prepare_windows

    windows, index = prepare_windows(
        ecg, sampling_rate, target_rate=tokenizer.target_rate, window_size=tokenizer.window_size,
        min_window=tokenizer.min_window, scaling=tokenizer.scaling,
    )
    if (lead, window) not in index:
        raise ValueError(f"the record has no window {window} on lead {lead} ({len(set(n for _, n in index))} windows).")
    scaled = windows[index.index((lead, window))]
    text = tokenizer.quantizer.to_text(scaled)
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True, verbose=False)
    offsets = enc["offset_mapping"][:max_tokens]
    stop = offsets[-1][1] if offsets else len(scaled)
    t = np.arange(stop) / tokenizer.target_rate
    recon = tokenizer.quantizer.from_text(text[:stop])

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(12, 4))
    ax.plot(t, scaled[:stop], lw=1.0, color="0.6", label="scaled signal")
    ax.step(t, recon, where="post", lw=1.0, color="C0", label=f"{tokenizer.quantizer.n_levels}-level {tokenizer.quantizer.method}")
    for i, (start, end) in enumerate(offsets):
        ax.axvline(start / tokenizer.target_rate, color="C3", lw=0.5, alpha=0.6)
        if end - start >= 3:
            ax.text((start + end) / 2 / tokenizer.target_rate, 1.02, str(end - start), ha="center", fontsize=6, color="C3")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("scaled amplitude")
    ax.set_ylim(-0.02, 1.08)
    ax.set_title(f"window {window}, lead {lead}: {len(offsets)} tokens over {stop} samples ({stop / max(len(offsets), 1):.2f} samples/token)")
    ax.legend(loc="lower right", fontsize=8)
    return _save(plt, fig, path)


def plot_curves(log_history: list[dict], path: str | Path) -> Path:
    """Plot training loss, validation loss and masked-token accuracy against the step.

    Args:
        log_history: ``Trainer.state.log_history``.
        path: the PNG to write.
    """
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
    for key in ("loss", "eval_loss"):
        if key in series:
            ax_loss.plot(*series[key], marker="o" if key == "eval_loss" else None, label=key)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("MLM loss")
    ax_loss.legend()
    if "eval_masked_accuracy" in series:
        ax_acc.plot(*series["eval_masked_accuracy"], marker="o", color="C2")
    ax_acc.set_xlabel("step")
    ax_acc.set_ylabel("masked-token accuracy (validation)")
    return _save(plt, fig, path)


def plot_confusion_matrix(matrix, labels: list[str], path: str | Path, title: str | None = None) -> Path:
    """Draw a confusion matrix (rows: true class, columns: predicted) with counts in the cells.

    Args:
        matrix: ``(n_classes, n_classes)`` counts.
        labels: class names, in matrix order.
        path: the PNG to write.
        title: optional title.
    """
    matrix = np.asarray(matrix)
    if matrix.shape != (len(labels), len(labels)):
        raise ValueError(f"matrix shape {matrix.shape} does not match {len(labels)} labels.")
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(1.0 + 0.8 * len(labels), 0.8 + 0.8 * len(labels)))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color="white" if matrix[i, j] > threshold else "black", fontsize=8)
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

    When ``units`` is mV the strip is drawn as ECG paper at 25 mm/s and 10 mm/mV: large squares
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
        ValueError: ``labels`` / ``reference_labels`` and ``beat_samples`` differ in length, or the
            strip lies outside the signal.
    """
    signal = np.asarray(signal, dtype=np.float64).ravel()
    beat_samples = np.asarray(beat_samples, dtype=np.int64)
    if len(labels) != len(beat_samples) or (reference_labels is not None and len(reference_labels) != len(beat_samples)):
        raise ValueError(f"{len(beat_samples)} beats but {len(labels)} labels" + (f" and {len(reference_labels)} reference labels." if reference_labels is not None else "."))
    n = int(round(seconds * sampling_rate))
    lo = max(int(round(start_s * sampling_rate)), 0)
    if lo >= len(signal) or n <= 0:
        raise ValueError(f"the strip {start_s:g}-{start_s + seconds:g} s lies outside the signal ({len(signal) / sampling_rate:g} s).")
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
    paper = units.lower() == "mv"
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
        ax.text(x, ymax + 0.18 * span, labels[i], ha="center", va="bottom", fontsize=10, fontweight="bold", color=colours.get(labels[i], "purple"), clip_on=True)
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


@dataclass
class PlotArguments:
    record: str = field(metadata={"help": "WFDB record path without extension, e.g. heartbert_hf/sample_data/208."})
    tokenizer: str = field(metadata={"help": "A saved HeartBert tokenizer or model folder (or Hub id)."})
    output: str = field(default="heartbert_tokens.png", metadata={"help": "PNG file to write."})
    window: int = field(default=0, metadata={"help": "Window number within the record."})
    lead: int = field(default=0, metadata={"help": "Lead (channel) number."})
    max_tokens: int = field(default=150, metadata={"help": "Draw the first N tokens of the window."})


def main(argv: list[str] | None = None) -> int:
    """``heartbert plot``: draw a window of a WFDB record with its tokens."""
    import wfdb
    from transformers import AutoTokenizer, HfArgumentParser

    from . import HeartBertTokenizer  # noqa: F401  (registers the heartbert type)

    (args,) = HfArgumentParser(PlotArguments).parse_args_into_dataclasses(args=argv)
    record = wfdb.rdrecord(args.record)
    tokenizer = AutoTokenizer.from_pretrained(args.tokenizer)
    path = plot_tokens(tokenizer, record.p_signal.T, record.fs, args.output, window=args.window, lead=args.lead, max_tokens=args.max_tokens)
    print(f"wrote {path}")
    return 0
