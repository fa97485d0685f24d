"""Pooling token states into beat vectors, for classifying beats in their record's context.

A record-context beat classifier (``HeartBertConfig.beat_context_spans``) reads a record the way the
encoder was pretrained: the lead's 4000-sample windows, tokenized and cut into sequences
(:mod:`heartbert_hf.beat_context` builds them). The content tokens of those sequences, in signal
order, form the record's *token stream*; a beat's vector is the mean hidden state (last layer unless ``beat_context_layers`` says) of the
stream tokens overlapping each of its spans around the R peak, the spans concatenated. With
``beat_context_layers`` the token states of several layers are concatenated first. With
``beat_context_centring="record-median"`` each beat vector has the record's median beat vector
subtracted (unsupervised, per record, as the RR features are normalised by the record's mean RR).

Torch only, so the model's remote code needs nothing else.
"""

from __future__ import annotations

import torch


def token_states(outputs, layers: list[int] | None) -> torch.Tensor:
    """``(batch, seq, hidden * n_layers)``: the last hidden state (``layers`` ``None``) or the given
    ``hidden_states`` of an encoder output concatenated (it must have been run with ``output_hidden_states=True``)."""
    if not layers:
        return outputs.last_hidden_state
    return torch.cat([outputs.hidden_states[i] for i in layers], dim=-1)


def content_stream(hidden: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """The content-token states of right-padded sequences, in order: ``(n_tokens, hidden)``.

    Args:
        hidden: ``(batch, seq, hidden)`` last hidden states of ``<s> content </s>`` sequences.
        attention_mask: ``(batch, seq)`` 0/1, right padding only, or ``None`` (no padding).

    Returns:
        The states of every sequence's positions ``1 .. length - 2`` (``<s>``, ``</s>`` and padding
        left out), row after row.

    Raises:
        ValueError: left padding or gaps in ``attention_mask``.
    """
    batch, seq = hidden.shape[:2]
    positions = torch.arange(seq, device=hidden.device)
    if attention_mask is None:
        lengths = torch.full((batch,), seq, device=hidden.device)
    else:
        lengths = attention_mask.sum(dim=1)  # (batch,)
        if not bool((attention_mask.bool() == (positions[None, :] < lengths[:, None])).all()):
            raise ValueError("beat pooling needs right-padded sequences without gaps: use tokenizer.padding_side = 'right'.")
    content = (positions[None, :] >= 1) & (positions[None, :] < lengths[:, None] - 1)  # (batch, seq)
    return hidden[content]  # (n_tokens, hidden)


def pool_spans(stream: torch.Tensor, beat_spans: torch.Tensor) -> torch.Tensor:
    """Mean of ``stream`` over each beat's token spans, spans concatenated.

    Args:
        stream: ``(n_tokens, hidden)`` token states in signal order (:func:`content_stream`).
        beat_spans: ``(n_beats, n_spans, 2)`` integer ``[start, stop)`` indices into ``stream``. An
            empty span (``start == stop``) pools to zeros.

    Returns:
        ``(n_beats, n_spans * hidden)`` in ``stream``'s dtype.

    Raises:
        ValueError: ``beat_spans`` not of shape ``(n_beats, n_spans, 2)``, fractional, or a span
            outside ``[0, n_tokens]`` or with ``stop < start`` (naming the beat and span).
    """
    spans = torch.as_tensor(beat_spans, device=stream.device)
    if spans.dim() != 3 or spans.shape[-1] != 2:
        raise ValueError(f"beat_spans has shape {tuple(spans.shape)}; expected (n_beats, n_spans, 2) token [start, stop) pairs.")
    if spans.is_floating_point() and not bool((spans == spans.round()).all()):
        raise ValueError("beat_spans hold fractional values: they are token indices (integers), from heartbert_hf.beat_context.beat_token_spans.")
    spans = spans.long()
    if len(spans) == 0:  # no beat: no vector
        return stream.new_zeros((0, spans.shape[1] * stream.shape[1]))
    start, stop = spans[..., 0], spans[..., 1]  # (n_beats, n_spans)
    bad = (start < 0) | (stop < start) | (stop > len(stream))
    if bool(bad.any()):
        beat, span = bad.nonzero()[0].tolist()
        raise ValueError(
            f"beat_spans[{beat}, {span}] = [{start[beat, span].item()}, {stop[beat, span].item()}) is not a span of the "
            f"{len(stream)} content tokens given: compute spans with heartbert_hf.beat_context for these sequences."
        )
    total = torch.cat([stream.new_zeros((1, stream.shape[1])), stream.double().cumsum(dim=0)])  # (n_tokens + 1, hidden)
    sums = total[stop] - total[start]  # (n_beats, n_spans, hidden)
    means = sums / (stop - start).clamp(min=1).unsqueeze(-1)
    return means.reshape(len(spans), -1).to(stream.dtype)  # (n_beats, n_spans * hidden)


def record_median(vectors: torch.Tensor) -> torch.Tensor:
    """Per-feature median of ``vectors`` ``(n_beats, d)`` → ``(d,)``, the mean of the two middle
    values for an even count (numpy's convention; ``torch.median`` takes the lower one).

    Raises:
        ValueError: no beats.
    """
    if len(vectors) == 0:
        raise ValueError("record-median centring needs at least one beat.")
    ordered = vectors.sort(dim=0).values
    n = len(ordered)
    return (ordered[(n - 1) // 2] + ordered[n // 2]) / 2
