"""Input and checkpoint checks of the HeartBert models (:mod:`heartbert_hf.modeling_heartbert`).

* :func:`token_limit` / :func:`check_sequence_length`: sequences longer than the position table are
  refused before they reach it, saying what to pass to the tokenizer;
* :class:`IdsOutOfRangeError` / :func:`describe_bad_indices`: torch's bare ``index out of range in
  self`` for ids outside an embedding table, named (values, batch rows, limit);
* :func:`check_lm_head_loaded`: a masked-LM load without an ``lm_head`` is refused (a fine-tuned
  classifier) or flagged (an encoder-only save).

Torch and transformers only, so a saved model's remote code needs nothing else.
"""

from __future__ import annotations

import warnings

import torch
from transformers import RobertaModel

from .configuration_heartbert import HeartBertConfig


def token_limit(config: HeartBertConfig) -> int:
    """Longest token sequence (special tokens included) the model's position table holds.

    RoBERTa numbers positions from ``pad_token_id + 1``, so it is
    ``max_position_embeddings - pad_token_id - 1`` (512 for the published 514 positions).
    """
    return int(config.max_position_embeddings) - int(config.pad_token_id if config.pad_token_id is not None else 0) - 1


def check_sequence_length(config: HeartBertConfig, input_ids: torch.Tensor | None, inputs_embeds: torch.Tensor | None) -> None:
    """Refuse sequences longer than the position table before they reach it.

    Raises:
        ValueError: naming the sequence length (and the longest batch row), the model's limit and
            the tokenizer arguments to pass (without it, the embedding lookup ends in ``index N is out of bounds``).
    """
    limit = token_limit(config)
    where = ""
    if input_ids is not None:
        length = input_ids.shape[-1]
        if length > limit and config.pad_token_id is not None:
            # positions count non-padding tokens only: a batch padded past the limit is still fine
            real = (input_ids != config.pad_token_id).sum(dim=-1).reshape(-1)  # (batch,)
            row = int(real.argmax())
            length = int(real[row])
            where = f" (the longest is batch row {row})" if real.numel() > 1 else ""
    elif inputs_embeds is not None:
        length = inputs_embeds.shape[-2]
    else:
        return  # RobertaModel raises its own error for a call without inputs
    if length > limit:
        raise ValueError(
            f"input has sequences of {length} tokens{where}, but this HeartBert has {limit} token positions "
            f"(max_position_embeddings {config.max_position_embeddings}). Tokenize with truncation=True, max_length={limit}: "
            f"on ECG input, processor(ecg=..., sampling_rate=..., truncation=True, max_length={limit}) returns the rest of "
            f"each window as further (overflow) sequences, so nothing is lost."
        )


class IdsOutOfRangeError(ValueError, IndexError):
    """Ids outside an embedding table of the model: token ids, token types or positions.

    A ``ValueError`` like the package's other input errors, and an ``IndexError`` like torch's
    ``index out of range in self`` that it replaces, so existing ``except IndexError`` still works.
    """


def out_of_range_rows(ids: torch.Tensor, size: int, shown: int = 3) -> str | None:
    """Where ``ids`` ``(batch, seq)`` (or ``(seq,)``) leave ``0..size-1``, as text; ``None`` if nowhere.

    Names up to ``shown`` batch rows, each with its distinct bad values (at most five) and the first
    position holding one, e.g. ``"row 1: 400, 512 (first at position 2)"``.
    """
    ids = ids.detach().cpu().reshape(-1, ids.shape[-1]) if ids.dim() else ids.detach().cpu().reshape(1, 1)  # (rows, seq)
    bad = (ids < 0) | (ids >= size)  # (rows, seq)
    rows = bad.any(dim=-1).nonzero().flatten().tolist()
    if not rows:
        return None
    parts = []
    for row in rows[:shown]:
        values = torch.unique(ids[row][bad[row]]).tolist()
        listed = ", ".join(str(v) for v in values[:5]) + (f" and {len(values) - 5} more values" if len(values) > 5 else "")
        parts.append(f"row {row}: {listed} (first at position {int(bad[row].nonzero()[0])})")
    if len(rows) > shown:
        parts.append(f"and {len(rows) - shown} more rows")
    return "; ".join(parts)


def describe_bad_indices(model: RobertaModel, input_ids, token_type_ids, position_ids) -> str | None:
    """Why the embedding lookup of ``model`` failed, as an actionable message; ``None`` if not for bad ids.

    Called only after the lookup raised (on CPU, torch checks the indices itself), so the normal
    path pays nothing and no GPU synchronisation is added. Checks, in order: ``input_ids`` inside
    the vocabulary (``0..vocab_size-1``), ``token_type_ids`` inside
    ``0..type_vocab_size-1``, explicit ``position_ids`` inside ``0..max_position_embeddings-1``.
    """
    embeddings = model.embeddings
    source = f"AutoTokenizer.from_pretrained({model.config.name_or_path!r})" if model.config.name_or_path else "the tokenizer saved with this model"
    if input_ids is not None and not input_ids.is_floating_point():
        vocab = embeddings.word_embeddings.num_embeddings
        where = out_of_range_rows(input_ids, vocab)
        if where:
            return (
                f"input_ids hold token ids outside this model's vocabulary 0..{vocab - 1} (vocab_size {vocab}): {where}. "
                "They come from another tokenizer (RoBERTa, BERT, or a HeartBert tokenizer with a bigger vocabulary) "
                f"or are not token ids at all (-100 marks ignored labels, never an input): tokenize with this model's own tokenizer, {source}."
            )
    if token_type_ids is not None:
        types = embeddings.token_type_embeddings.num_embeddings
        where = out_of_range_rows(token_type_ids, types)
        if where:
            return (
                f"token_type_ids hold types outside 0..{types - 1} (type_vocab_size {types}): {where}. Leave token_type_ids out: "
                "HeartBert input is one segment, and a BERT-style tokenizer's second-segment ids do not apply."
            )
    if position_ids is not None:
        positions = embeddings.position_embeddings.num_embeddings
        where = out_of_range_rows(position_ids, positions)
        if where:
            return (
                f"position_ids hold positions outside 0..{positions - 1} (max_position_embeddings {positions}): {where}. "
                f"Leave position_ids out (RoBERTa numbers them from pad_token_id + 1) and pass at most {token_limit(model.config)} "
                "tokens per sequence (truncation=True, max_length=...)."
            )
    return None


def check_lm_head_loaded(config: HeartBertConfig, missing_keys, source, encoder_start: bool = False) -> None:
    """Refuse or flag a masked-LM load whose ``lm_head`` was not in the checkpoint.

    transformers 5.x initialises missing weights at random and only logs a load report, so
    ``pipeline("fill-mask")`` on a fine-tuned classifier would return noise (top-1 near
    ``1 / vocab_size``, different on every load). What was saved is read from
    ``config.architectures`` (``save_pretrained`` writes the class name there).

    Args:
        config: the loaded model's config.
        missing_keys: checkpoint keys the model had to initialise (``output_loading_info``).
        source: the folder or Hub id, for the messages.
        encoder_start: the caller wants the encoder only (continued pretraining,
            :meth:`HeartBertForMaskedLM.from_encoder`): a classifier checkpoint is fine.

    Raises:
        ValueError: the checkpoint is a fine-tuned classifier (an architecture other than an encoder
            ``...Model`` or a ``...ForMaskedLM``) and ``encoder_start`` is false.

    Warns:
        UserWarning: the ``lm_head`` starts from random weights (an encoder-only save such as
            ``HeartBertModel.save_pretrained``, or a classifier loaded with ``encoder_start``).
    """
    fresh = sorted(k for k in missing_keys if k.startswith("lm_head."))
    if not fresh:
        return
    saved = list(getattr(config, "architectures", None) or [])
    head = [a for a in saved if not (a.endswith("ForMaskedLM") or a.endswith("Model"))]
    if head and not encoder_start:
        raise ValueError(
            f"{source} is a fine-tuned classifier (config.architectures {saved}) and has no masked-LM head (no lm_head weights): "
            "loaded as HeartBertForMaskedLM its lm_head would be random and fill-mask / masked-LM predictions noise. For fill-mask or masked-LM scoring use a pretrained HeartBertForMaskedLM checkpoint (the output of "
            "`heartbert pretrain`); load this folder with AutoModelForSequenceClassification (its predictions) or AutoModel (its "
            "encoder). To continue masked-LM pretraining from its encoder, use HeartBertForMaskedLM.from_encoder(folder)."
        )
    what = f"saved as {saved}" if saved else "no config.architectures"
    warnings.warn(
        f"{source} has no masked-LM head ({what}): the lm_head ({len(fresh)} tensors) starts from random weights. "
        "Fine for (continued) masked-LM pretraining; its fill-mask predictions are noise until it is trained.",
        UserWarning,
        stacklevel=4,  # the caller of from_pretrained / from_encoder
    )
