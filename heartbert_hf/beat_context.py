"""Inputs of a record-context beat classifier: a record's token stream and each beat's token spans.

A record-context beat classifier (``HeartBertConfig.beat_context_spans``) sees beats as the encoder
saw ECG in pretraining: the lead is resampled, cut into the feature extractor's 4000-sample windows,
each window scaled on its own and tokenized, and each window's tokens cut into ``<s> … </s>``
sequences of at most ``max_length`` tokens (:func:`heartbert_hf.inference.chunk_bounds`). Every token
keeps the span of input samples it encodes, so a beat's span in seconds around its R peak maps onto
the tokens that overlap it (:func:`beat_token_spans`).

* :func:`record_stream` — the sequences and token sample spans of one lead. Non-finite samples
  (gaps) split the lead into runs tokenized separately; runs shorter than the feature extractor's
  shortest window and flat windows give no tokens.
* :func:`beat_token_spans` — ``(n_beats, n_spans, 2)`` ``[start, stop)`` token indices.
* :func:`record_beat_vectors` — the encoder over the sequences, batch by batch, pooled per beat
  exactly as the model's ``beat_vectors`` (memory bounded by the batch, not the record).
* :func:`record_beat_logits` — the logits of the beats of one record (centred on the record's beats).

Used by ``heartbert classify-beats`` and ``benchmarks/mitdb_context_embeddings.py`` (which fits and
ships the classifier), so training and use read a record the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np


class RecordStream(NamedTuple):
    """One lead as a model reads it: ``sequences`` (token ids with ``<s>``/``</s>``, in signal order)
    and, per content token of those sequences in the same order, the ``[token_start, token_stop)``
    span in input samples (floats, the lead's own rate)."""

    sequences: list[list[int]]
    token_start: np.ndarray  # (n_tokens,)
    token_stop: np.ndarray  # (n_tokens,)


def finite_runs(signal: np.ndarray) -> list[tuple[int, int]]:
    """``[start, stop)`` of each run of finite samples of a 1-D ``signal``."""
    finite = np.isfinite(np.asarray(signal, dtype=np.float64))
    edges = np.flatnonzero(np.diff(np.concatenate([[False], finite, [False]]).astype(np.int8)))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def one_lead(signal) -> np.ndarray:
    """``signal`` as a 1-D float64 lead: ``(samples,)``, or ``(samples, 1)`` / ``(1, samples)``.

    Raises:
        ValueError: more than one lead (a record-context classifier reads one lead: pick it first).
    """
    x = np.asarray(signal, dtype=np.float64)
    if x.ndim == 2 and 1 in x.shape:
        x = x.reshape(-1)
    if x.ndim != 1:
        raise ValueError(f"the signal has shape {x.shape}; a record-context classifier reads one lead, shape (samples,): pass e.g. signal[:, lead_index].")
    return x


def record_stream(processor, signal: np.ndarray, sampling_rate: float, max_length: int) -> RecordStream:
    """Tokenize one lead into the record's token stream.

    Args:
        processor: a HeartBert processor (``feature_extractor`` and ``tokenizer``) or tokenizer with
            a ``feature_extractor``.
        signal: ``(samples,)`` one lead, any unit (each window is scaled on its own).
        sampling_rate: Hz of ``signal``.
        max_length: tokens per sequence, ``<s>`` and ``</s>`` included.

    Raises:
        ValueError: ``max_length < 3``, a sampling rate that is not a positive finite number
            (``TypeError`` for a non-number), or a signal that is not one lead.
    """
    from .ecg_signal import check_sampling_rate
    from .inference import chunk_bounds

    if max_length < 3:
        raise ValueError(f"max_length must be at least 3 (<s>, one token, </s>), got {max_length}.")
    sampling_rate = float(check_sampling_rate(sampling_rate))
    signal = one_lead(signal)
    tokenizer = getattr(processor, "tokenizer", processor)
    fe = processor.feature_extractor
    backend = tokenizer.backend_tokenizer
    step = sampling_rate / fe.target_rate  # input samples per resampled sample
    min_samples = int(np.ceil(fe.min_window * step))
    sequences, starts, stops = [], [], []
    for a, b in finite_runs(signal):
        if b - a < max(min_samples, 2):
            continue
        texts, index = fe.ecg_to_text(np.asarray(signal[a:b], dtype=np.float64)[None, :], sampling_rate, drop_flat=True)
        for text, (_, window) in zip(texts, index):
            enc = backend.encode(text, add_special_tokens=False)
            offsets = (np.asarray(enc.offsets, dtype=np.float64).reshape(-1, 2) + window * fe.window_size) * step + a  # (n_tokens, 2)
            for lo, hi in chunk_bounds(len(enc.ids), max_length - 2):
                sequences.append([tokenizer.bos_token_id, *enc.ids[lo:hi], tokenizer.eos_token_id])
                starts.append(offsets[lo:hi, 0])
                stops.append(offsets[lo:hi, 1])
    empty = np.zeros(0)
    return RecordStream(sequences, np.concatenate(starts) if starts else empty, np.concatenate(stops) if stops else empty)


def covered(stream: RecordStream, r_peaks: np.ndarray, sampling_rate: float, spans_s, spans: np.ndarray) -> np.ndarray:
    """``(n_beats,)`` bool: every span of the beat lies wholly under contiguous tokens (no gap, flat
    window or dropped end of the signal inside it), so its pooled vector is the one training saw."""
    peaks = np.asarray(r_peaks, dtype=np.float64).reshape(-1)
    n = len(stream.token_start)
    ok = np.ones(len(peaks), dtype=bool)
    if n == 0:
        return ok & False
    breaks = np.concatenate([[0], np.cumsum(stream.token_start[1:] > stream.token_stop[:-1] + 1e-6)])  # gaps before token i
    for k, (a_s, b_s) in enumerate(spans_s):
        first, end = spans[:, k, 0], spans[:, k, 1]
        nonempty = end > first
        first_c, last_c = np.minimum(first, n - 1), np.clip(end - 1, 0, n - 1)
        ok &= nonempty
        ok &= stream.token_start[first_c] <= peaks + a_s * sampling_rate + 1e-6
        ok &= stream.token_stop[last_c] >= peaks + b_s * sampling_rate - 1e-6
        ok &= breaks[last_c] == breaks[first_c]
    return ok


def beat_token_spans(stream: RecordStream, r_peaks: np.ndarray, sampling_rate: float, spans_s) -> np.ndarray:
    """``(n_beats, n_spans, 2)`` int64: for each beat and span ``[a_s, b_s]`` (seconds around the R
    peak), the ``[start, stop)`` indices of the stream tokens overlapping ``[R + a_s, R + b_s]``.

    A span over no token (a gap, a flat window, past the signal's ends) is empty (``start == stop``).
    """
    peaks = np.asarray(r_peaks, dtype=np.float64).reshape(-1)
    out = np.zeros((len(peaks), len(spans_s), 2), dtype=np.int64)
    for k, (a_s, b_s) in enumerate(spans_s):
        first = np.searchsorted(stream.token_stop, peaks + a_s * sampling_rate, side="right")  # first token ending after the span starts
        end = np.searchsorted(stream.token_start, peaks + b_s * sampling_rate, side="left")  # first token starting after it ends
        out[:, k, 0] = first
        out[:, k, 1] = np.maximum(end, first)
    return out


def fitted_max_length(config) -> int:
    """The tokens per sequence a fine-tuned classifier was fitted with (``config.heartbert_finetune``), 0 when unknown."""
    return int((getattr(config, "heartbert_finetune", None) or {}).get("max_length") or 0)


def _batch_size(device, max_length: int) -> int:
    from .inference import CPU_BATCH_TOKENS, GPU_BATCH_SIZE

    return GPU_BATCH_SIZE if device.type == "cuda" else max(1, CPU_BATCH_TOKENS // max_length)


def record_beat_vectors(
    model,
    stream: RecordStream,
    beat_spans: np.ndarray,
    *,
    batch_size: int | None = None,
    precision: str = "fp32",
    progress: Callable[[int], None] | None = None,
    layers: list[int] | None = None,
) -> np.ndarray:
    """Uncentred beat vectors ``(n_beats, n_spans * n_layers * hidden)`` float64 of one record.

    The same numbers as ``model.beat_vectors`` on all of the record's sequences at once (the
    stream's running sum is carried from batch to batch), in memory bounded by one batch.

    Args:
        model: a HeartBert model (its encoder is used).
        stream: from :func:`record_stream`.
        beat_spans: ``(n_beats, n_spans, 2)`` from :func:`beat_token_spans`.
        batch_size: sequences per forward pass (default: as :mod:`heartbert_hf.inference`).
        precision: ``fp32``, ``bf16`` or ``int8`` (CPU), see :mod:`heartbert_hf.inference`.
        progress: called with the number of sequences after each forward pass.
        layers: ``hidden_states`` indices concatenated before pooling (default: the model's
            ``config.beat_context_layers``, else the last hidden state).
    """
    import torch

    from .beat_pooling import content_stream, token_states
    from .inference import _autocast, _encoder, _eval_mode, prepare_model

    encoder = _encoder(model)
    spans = np.asarray(beat_spans, dtype=np.int64)
    n_beats, n_spans = spans.shape[:2]
    if layers is None:
        layers = getattr(model.config, "beat_context_layers", None)
    hidden_size = encoder.config.hidden_size * len(layers or [None])
    ends = np.unique(spans.reshape(-1))  # token indices where the running sum is needed
    at = np.zeros((len(ends), hidden_size))  # running sum of the stream before each index in ends
    running, seen, k = np.zeros(hidden_size), 0, int(np.searchsorted(ends, 1))  # index 0 needs no tokens
    pad = getattr(encoder.config, "pad_token_id", None)
    pad = 1 if pad is None else pad
    with _eval_mode(encoder):
        runner, device = prepare_model(encoder, precision)
        size = batch_size or _batch_size(device, max(map(len, stream.sequences), default=1))
        with torch.inference_mode(), _autocast(precision, device):
            for s in range(0, len(stream.sequences), size):
                batch = stream.sequences[s : s + size]
                width = max(map(len, batch))
                ids = torch.full((len(batch), width), pad, dtype=torch.long)  # (batch, width)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, seq in enumerate(batch):
                    ids[row, : len(seq)] = torch.as_tensor(seq)
                    mask[row, : len(seq)] = 1
                outputs = runner(input_ids=ids.to(device), attention_mask=mask.to(device), return_dict=True, output_hidden_states=bool(layers))
                hidden = token_states(outputs, layers)  # (batch, width, hidden * n_layers)
                part = content_stream(hidden.float(), mask.to(device)).double().cpu().numpy()  # (n_part, hidden)
                cumulative = running + np.cumsum(part, axis=0)  # (n_part, hidden)
                while k < len(ends) and ends[k] <= seen + len(part):
                    at[k] = cumulative[ends[k] - seen - 1]
                    k += 1
                running, seen = cumulative[-1] if len(part) else running, seen + len(part)
                if progress is not None:
                    progress(len(batch))
    if k < len(ends):
        raise ValueError(f"beat spans reach token {int(ends[-1])}, past the {seen} tokens of the stream: compute them with beat_token_spans for this stream.")
    start = at[np.searchsorted(ends, spans[..., 0])]  # (n_beats, n_spans, hidden)
    stop = at[np.searchsorted(ends, spans[..., 1])]
    counts = np.maximum(spans[..., 1] - spans[..., 0], 1)[..., None]
    return ((stop - start) / counts).reshape(n_beats, n_spans * hidden_size)


def record_beat_logits(model, vectors: np.ndarray, rhythm_features: np.ndarray | None = None) -> np.ndarray:
    """Logits ``(n_beats, classes)`` of one record's beats from :func:`record_beat_vectors`
    (``model.classify_beat_vectors``: record centring, rhythm features, head)."""
    import torch

    device = model.classifier.weight.device
    with torch.no_grad():
        x = torch.as_tensor(np.asarray(vectors, dtype=np.float32), device=device)
        rhythm = None if rhythm_features is None else torch.as_tensor(np.asarray(rhythm_features, dtype=np.float32), device=device)
        return model.classify_beat_vectors(x, rhythm).float().cpu().numpy()


def record_beat_probabilities(
    model,
    processor,
    signal: np.ndarray,
    sampling_rate: float,
    r_peaks: np.ndarray,
    rhythm_features: np.ndarray | None,
    max_length: int | None = None,
    *,
    batch_size: int | None = None,
    precision: str = "fp32",
    progress=None,
) -> np.ndarray:
    """Class probabilities ``(n_beats, classes)`` of a record's beats by a record-context beat classifier.

    Args:
        model: a ``HeartBertForSequenceClassification`` with ``config.beat_context_spans``.
        processor: its processor.
        signal: ``(samples,)`` the lead; non-finite samples are gaps (see :func:`record_stream`).
        sampling_rate: Hz of ``signal``.
        r_peaks: ``(n_beats,)`` R-peak sample numbers: all the beats to classify; the record is
            centred on those of them wholly under the tokens (:func:`covered`).
        rhythm_features: ``(n_beats, n_rhythm)`` in the model's ``rhythm_feature_names`` order, or ``None``.
        max_length: tokens per sequence (default: the length the classifier was fitted with,
            ``config.heartbert_finetune["max_length"]``, else its positions - 2, at most 512).
        batch_size, precision: as :func:`record_beat_vectors`.
        progress: a tqdm bar (reset to the number of sequences, updated per batch), or ``None``.

    Returns:
        Softmax probabilities; a NaN row for a beat one of whose spans is not wholly under
        contiguous tokens (:func:`covered`: it reaches a flat window, a gap, or an end of the
        signal, including a last stretch shorter than the feature extractor's shortest window).

    Raises:
        ValueError: ``rhythm_features`` missing, of the wrong shape, or not finite (naming the beat
            by its index in ``r_peaks``); a bad signal or sampling rate (:func:`record_stream`).
    """
    import torch

    peaks = np.asarray(r_peaks, dtype=np.float64).reshape(-1)
    names = list(model.config.rhythm_feature_names or [])
    if names or rhythm_features is not None:
        rhythm_features = np.asarray(rhythm_features if rhythm_features is not None else np.zeros((0, 0)), dtype=np.float64)
        if rhythm_features.shape != (len(peaks), len(names)):
            raise ValueError(
                f"rhythm_features has shape {rhythm_features.shape}; expected one row per R peak and one column per rhythm feature "
                f"of the model: ({len(peaks)}, {len(names)}) for {names}."
            )
        bad = np.argwhere(~np.isfinite(rhythm_features))
        if len(bad):
            row, col = bad[0]
            raise ValueError(
                f"rhythm_features are not finite: beat {row} (R peak at sample {peaks[row]:g}), feature {names[col]!r} is {rhythm_features[row, col]}."
            )
    if max_length is None:
        max_length = fitted_max_length(model.config) or min(int(model.config.max_position_embeddings) - 2, 512)
    probs = np.full((len(peaks), model.config.num_labels), np.nan)
    stream = record_stream(processor, signal, sampling_rate, max_length)
    spans = beat_token_spans(stream, np.nan_to_num(peaks, nan=-1e12), sampling_rate, model.config.beat_context_spans)
    usable = covered(stream, peaks, sampling_rate, model.config.beat_context_spans, spans) & np.isfinite(peaks)  # (n_beats,)
    if not usable.any():
        return probs
    if progress is not None:
        progress.reset(total=len(stream.sequences))
    vectors = record_beat_vectors(
        model, stream, spans[usable], batch_size=batch_size, precision=precision, progress=None if progress is None else progress.update
    )
    logits = record_beat_logits(model, vectors, None if rhythm_features is None else rhythm_features[usable])
    probs[usable] = torch.softmax(torch.as_tensor(logits, dtype=torch.float64), dim=-1).numpy()
    return probs
