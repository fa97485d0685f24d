"""HeartBert models: the RoBERTa encoder, the masked-LM and every classification head, under the
``heartbert`` model type.

* :class:`HeartBertModel` — the encoder; ``pooler_output`` is the attention-masked **mean** of the
  last hidden states, one vector per sequence (the documented ECG-window embedding; RoBERTa's tanh
  pooler is never pretrained by MLM, so it is not used).
* :class:`HeartBertForMaskedLM` — MLM pretraining. ``from_pretrained`` (so ``AutoModelForMaskedLM``
  and ``pipeline("fill-mask")``) refuses a fine-tuned classifier checkpoint, which has no LM head
  (transformers would start it at random and fill-mask would return noise); ``from_encoder`` starts
  continued pretraining from any checkpoint's encoder, warning when the LM head is new. In
  training mode with ``labels`` the LM head runs on the masked positions only (a large saving at
  52k vocabulary); ``logits`` then has shape ``(n_masked, vocab)``. In eval mode ``logits`` is the usual ``(batch, seq, vocab)``. The loss is
  the summed cross-entropy over masked tokens divided by ``num_items_in_batch`` (passed by Trainer)
  or by the batch's own masked-token count, so every masked token weighs the same whatever the
  layout of processes × micro-batches × gradient-accumulation steps.
* :class:`HeartBertForSequenceClassification` — every classification head, chosen by
  ``config.classifier_head`` (``"sequence"``, ``"bilstm"``, ``"linear-probe"``), single- or
  multi-label by ``config.problem_type``, with optional rhythm-feature inputs
  (``config.rhythm_feature_names``) fused with the pooled vector.

All keep the encoder under ``roberta.``, so a pretrained MLM checkpoint loads into every class.
Every class refuses token sequences longer than the model's positions with a ``ValueError`` that
says what to pass to the tokenizer, and turns torch's bare ``index out of range in self`` for ids
outside the embedding tables (token ids from another tokenizer, ``-100`` label padding, a second
token type, explicit positions past the table) into an :class:`IdsOutOfRangeError` that names
the values, the batch rows and the limit.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import RobertaModel, RobertaPreTrainedModel
from transformers.modeling_outputs import MaskedLMOutput, SequenceClassifierOutput
from transformers.models.roberta.modeling_roberta import RobertaLMHead

from .beat_pooling import content_stream, pool_spans, record_median, token_states
from .configuration_heartbert import HEADS, HeartBertConfig
from .modeling_checks import IdsOutOfRangeError, check_lm_head_loaded, check_sequence_length, describe_bad_indices

__all__ = [
    "HEADS",
    "HeartBertForMaskedLM",
    "HeartBertForSequenceClassification",
    "HeartBertModel",
    "IdsOutOfRangeError",
    "check_lm_head_loaded",
    "classification_loss",
    "mean_pool",
]


def mean_pool(hidden_states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``hidden_states`` over the positions where ``attention_mask`` is 1.

    Args:
        hidden_states: ``(batch, seq, hidden)``.
        attention_mask: ``(batch, seq)`` of 0/1, or ``None`` (all positions count).

    Returns:
        ``(batch, hidden)``.
    """
    if attention_mask is None:
        return hidden_states.mean(dim=1)
    mask = attention_mask.to(hidden_states.dtype).unsqueeze(-1)  # (batch, seq, 1)
    return (hidden_states * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def classification_loss(logits: torch.Tensor, labels: torch.Tensor, problem_type: str | None, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy (single-label) or BCE-with-logits (multi-label), a mean over the batch.

    Args:
        logits: ``(batch, classes)``.
        labels: ``(batch,)`` class ids, or ``(batch, classes)`` multi-hot floats.
        problem_type: ``"multi_label_classification"``, else single-label.
        weight: ``(classes,)`` per-class weights (CE ``weight``; BCE ``pos_weight``), or ``None``.

    Returns:
        A scalar loss (float32).
    """
    if problem_type == "multi_label_classification":
        return nn.functional.binary_cross_entropy_with_logits(logits.float(), labels.float(), pos_weight=weight)
    return nn.functional.cross_entropy(logits.float(), labels.long().view(-1), weight=weight)


class HeartBertModel(RobertaModel):
    """The HeartBert encoder.

    ``forward(input_ids (batch, seq), attention_mask (batch, seq))`` returns ``last_hidden_state``
    ``(batch, seq, hidden)`` and ``pooler_output``, the masked mean ``(batch, hidden)``.

    Args:
        config: a :class:`HeartBertConfig`.
        add_pooling_layer: kept for API compatibility; HeartBert always mean-pools instead.

    Raises:
        ValueError: (forward) sequences longer than :func:`token_limit` tokens.
        IdsOutOfRangeError: (forward, CPU) ``input_ids`` outside ``0..vocab_size-1`` (negative
            ones too), ``token_type_ids`` outside ``0..type_vocab_size-1``, or ``position_ids``
            outside ``0..max_position_embeddings-1``, naming the values and batch rows (see
            :func:`describe_bad_indices`). On CUDA the lookup fails in the kernel (a device-side
            assert) and that error passes unchanged: checking the ids first would cost a GPU sync
            every batch. :func:`heartbert_hf.inference.encode_sequences` checks ids before the model.
    """

    config_class = HeartBertConfig
    accepts_loss_kwargs = False
    # heads of MLM / classifier checkpoints, dropped when loading just the encoder
    _keys_to_ignore_on_load_unexpected = [r"lm_head\.", r"classifier\.", r"lstm\."]

    def __init__(self, config: HeartBertConfig, add_pooling_layer: bool = False):
        super().__init__(config, add_pooling_layer=False)

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        if kwargs.get("position_ids") is None:
            check_sequence_length(self.config, input_ids, kwargs.get("inputs_embeds"))
        try:
            outputs = super().forward(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        except (IndexError, RuntimeError) as error:
            # torch's lookups raise IndexError (embedding) / RuntimeError (gather of the token-type buffer)
            # on CPU; diagnose only then, so the normal path pays nothing and no GPU sync is added
            tensors = (input_ids, kwargs.get("token_type_ids"), kwargs.get("position_ids"))
            if any(t is not None and t.device.type != "cpu" for t in tensors):
                raise
            problem = describe_bad_indices(self, *tensors)
            if problem is None:
                raise
            raise IdsOutOfRangeError(problem) from error
        # (batch, seq, hidden) → (batch, hidden)
        outputs.pooler_output = mean_pool(outputs.last_hidden_state, attention_mask)
        return outputs


class HeartBertForMaskedLM(RobertaPreTrainedModel):
    """HeartBert with the RoBERTa LM head, for masked-LM pretraining.

    ``forward(input_ids (batch, seq), attention_mask=None, labels=None (batch, seq; -100 = not
    masked), num_items_in_batch=None)``. With ``labels`` the loss is
    ``sum of CE over masked tokens / num_items_in_batch``; ``num_items_in_batch`` is the number of
    masked tokens in the whole optimizer step (all micro-batches, all processes: Trainer counts and
    passes it, ``accepts_loss_kwargs = True``); without it, the batch's own count (a plain mean).
    Trainer with ``average_tokens_across_devices=True`` (the default) then multiplies the loss by the
    number of processes to undo DDP's gradient averaging, so each masked token weighs the same.
    """

    config_class = HeartBertConfig
    accepts_loss_kwargs = True
    _tied_weights_keys = {
        "lm_head.decoder.weight": "roberta.embeddings.word_embeddings.weight",
        "lm_head.decoder.bias": "lm_head.bias",
    }
    _keys_to_ignore_on_load_unexpected = [r"classifier\.", r"lstm\."]

    def __init__(self, config: HeartBertConfig):
        super().__init__(config)
        self.roberta = HeartBertModel(config)
        self.lm_head = RobertaLMHead(config)
        self.post_init()

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs):
        """``PreTrainedModel.from_pretrained``, refusing checkpoints without a masked-LM head.

        Also the path of ``AutoModelForMaskedLM`` and ``pipeline("fill-mask")``, with the package or
        as remote code.

        Raises:
            ValueError: the checkpoint is a fine-tuned classifier (``config.architectures``), so
                ``lm_head`` would be random (see :func:`check_lm_head_loaded`; use
                :meth:`from_encoder` to continue pretraining from its encoder).

        Warns:
            UserWarning: an encoder-only checkpoint (``HeartBertModel``): ``lm_head`` starts random.
        """
        return cls._load_checked(pretrained_model_name_or_path, args, kwargs, encoder_start=False)

    @classmethod
    def from_encoder(cls, pretrained_model_name_or_path, *args, **kwargs):
        """Start (continued) masked-LM pretraining from any HeartBert checkpoint.

        The encoder (``roberta.``) is always loaded; the ``lm_head`` too when the checkpoint has one
        (an MLM checkpoint loads exactly as with :meth:`from_pretrained`). From a fine-tuned
        classifier or a ``HeartBertModel`` save the ``lm_head`` starts from random weights, with a
        ``UserWarning`` saying so. Arguments are those of ``from_pretrained``.
        """
        return cls._load_checked(pretrained_model_name_or_path, args, kwargs, encoder_start=True)

    @classmethod
    def _load_checked(cls, source, args, kwargs, encoder_start: bool):
        wants_info = kwargs.pop("output_loading_info", False)
        model, info = super().from_pretrained(source, *args, output_loading_info=True, **kwargs)
        check_lm_head_loaded(model.config, info["missing_keys"], source, encoder_start=encoder_start)
        return (model, info) if wants_info else model

    def get_output_embeddings(self):
        return self.lm_head.decoder

    def set_output_embeddings(self, new_embeddings):
        self.lm_head.decoder = new_embeddings

    def forward(self, input_ids=None, attention_mask=None, labels=None, num_items_in_batch=None, **kwargs) -> MaskedLMOutput:
        kwargs.pop("return_dict", None)
        outputs = self.roberta(input_ids, attention_mask=attention_mask, return_dict=True, **kwargs)
        hidden = outputs.last_hidden_state  # (batch, seq, hidden)
        if labels is None:
            return MaskedLMOutput(logits=self.lm_head(hidden), hidden_states=outputs.hidden_states, attentions=outputs.attentions)
        labels = labels.to(hidden.device)
        masked = labels != -100  # (batch, seq)
        if self.training:
            logits = self.lm_head(hidden[masked])  # (n_masked, vocab): the LM head on masked tokens only
            masked_logits = logits
        else:
            logits = self.lm_head(hidden)  # (batch, seq, vocab)
            masked_logits = logits[masked]  # (n_masked, vocab)
        summed = nn.functional.cross_entropy(masked_logits.float(), labels[masked], reduction="sum")
        if num_items_in_batch is None:
            num_items_in_batch = masked.sum()
        if torch.is_tensor(num_items_in_batch):
            num_items_in_batch = num_items_in_batch.to(summed.device)
        # nothing masked anywhere: the sum is an exact 0 that still has a graph through every LM-head parameter
        loss = summed / (num_items_in_batch.clamp(min=1) if torch.is_tensor(num_items_in_batch) else max(num_items_in_batch, 1))
        return MaskedLMOutput(loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions)


class HeartBertClassificationHead(nn.Module):
    """The ``"sequence"`` head: RoBERTa's ``<s>`` classifier, with room for rhythm features.

    ``forward(first (batch, hidden), rhythm (batch, n_rhythm) or None)``: dropout on the ``<s>``
    state, concatenation with the normalised rhythm features, dense → tanh → dropout → out_proj.
    With no rhythm features it is ``RobertaClassificationHead`` (same weight names).
    """

    def __init__(self, config: HeartBertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size + config.num_rhythm_features, config.hidden_size)
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(p)
        self.out_proj = nn.Linear(config.hidden_size, config.num_labels)

    def forward(self, first: torch.Tensor, rhythm: torch.Tensor | None = None) -> torch.Tensor:
        x = self.dropout(first)  # (batch, hidden)
        if rhythm is not None:
            x = torch.cat([x, rhythm.to(x.dtype)], dim=-1)  # (batch, hidden + n_rhythm)
        x = torch.tanh(self.dense(x))  # (batch, hidden)
        return self.out_proj(self.dropout(x))  # (batch, classes)


def set_trainable(module: nn.Module, trainable: bool) -> None:
    """Set ``requires_grad`` on every parameter of ``module``."""
    for p in module.parameters():
        p.requires_grad_(trainable)


class HeartBertForSequenceClassification(RobertaPreTrainedModel):
    """HeartBert with the classification head named by ``config.classifier_head``.

    Heads (weights under ``classifier.``, plus ``lstm.`` for the BiLSTM; the encoder under
    ``roberta.``, so a pretrained HeartBert MLM checkpoint loads with ``from_pretrained``):

    * ``"sequence"`` — RoBERTa's ``<s>`` head: dense → tanh → dropout → out_proj. Nothing frozen.
    * ``"bilstm"`` — the published HeartBERT head: a bidirectional LSTM
      (``config.lstm_hidden_size`` per direction) over the token states (padding excluded), their
      masked mean, dropout, one linear layer. The embeddings and the first
      ``num_hidden_layers // 2`` encoder layers are frozen. Needs right-padded input.
    * ``"linear-probe"`` — the whole encoder frozen and kept in eval mode (dropout never changes
      its features); one linear layer on the masked-mean embedding.

    Labels: ``config.problem_type`` ``"single_label_classification"`` (class ids ``(batch,)``,
    cross-entropy) or ``"multi_label_classification"`` (float multi-hot ``(batch, classes)``, BCE
    with logits).

    Rhythm features: when ``config.rhythm_feature_names`` is set, ``forward`` requires
    ``rhythm_features`` ``(batch, n_rhythm)``, normalises them inside the model as
    ``(x - rhythm_feature_mean) / rhythm_feature_std`` (a std of 0 counts as 1) and concatenates
    them with the pooled vector (``<s>`` state, BiLSTM mean or encoder mean) before the classifier.
    The spec and normalisation travel in ``config.json``. The ``text-classification`` pipeline
    passes only the tokenizer's output, so a rhythm model is called directly (it names the missing
    features otherwise).

    Record-context beat classifier (``config.beat_context_spans`` set, ``"linear-probe"`` head):
    ``forward`` takes the sequences of one record's token stream and ``beat_spans``
    ``(n_beats, n_spans, 2)`` (token ``[start, stop)`` per beat and span, from
    :func:`heartbert_hf.beat_context.beat_token_spans`) and returns logits ``(n_beats, classes)``:
    :meth:`beat_vectors` pools the stream per beat, :meth:`classify_beat_vectors` centres them on
    the record's median beat and applies the head. Call it with all of a record's beats: the
    centring is over the beats of the call (a long record can be pooled in pieces with
    :meth:`beat_vectors` and classified at once), so leave out beats whose spans are not wholly under
    the tokens (:func:`heartbert_hf.beat_context.covered`), as ``record_beat_probabilities`` does.

    Freezing is applied at construction and after ``from_pretrained``; :meth:`apply_freezing`
    re-applies it.

    Raises:
        ValueError: invalid head fields in the config (see :class:`HeartBertConfig`); at forward,
            over-long sequences, missing / extra / mis-shaped / non-finite ``rhythm_features``, or
            left-padded input to the BiLSTM head.
    """

    config_class = HeartBertConfig
    accepts_loss_kwargs = False  # the loss is a per-batch mean (finetune computes its own weighted one)
    _keys_to_ignore_on_load_unexpected = [r"lm_head\."]  # starting from a pretrained MLM checkpoint

    def __init__(self, config: HeartBertConfig):
        super().__init__(config)
        config.check_heads()
        self.num_labels = config.num_labels
        self.classifier_head = config.classifier_head
        self.roberta = HeartBertModel(config)
        n_rhythm = config.num_rhythm_features
        if self.classifier_head == "sequence":
            self.classifier = HeartBertClassificationHead(config)
        elif self.classifier_head == "bilstm":
            self.lstm = nn.LSTM(config.hidden_size, config.lstm_hidden_size, batch_first=True, bidirectional=True)
            self.dropout = nn.Dropout(config.hidden_dropout_prob)
            self.classifier = nn.Linear(2 * config.lstm_hidden_size + n_rhythm, config.num_labels)
        else:  # linear-probe
            self.classifier = nn.Linear(config.pooled_size + n_rhythm, config.num_labels)
        self.post_init()
        self.apply_freezing()

    # ------------------------------------------------------------------ freezing
    def apply_freezing(self) -> None:
        """Set which encoder parameters train, for the configured head.

        ``"sequence"``: all; ``"bilstm"``: all but the embeddings and the first
        ``num_hidden_layers // 2`` layers; ``"linear-probe"``: none. Head parameters always train.
        """
        set_trainable(self, True)
        if self.classifier_head == "linear-probe":
            set_trainable(self.roberta, False)
            self.roberta.eval()
        elif self.classifier_head == "bilstm":
            set_trainable(self.roberta.embeddings, False)
            for layer in self.roberta.encoder.layer[: len(self.roberta.encoder.layer) // 2]:
                set_trainable(layer, False)

    @classmethod
    def from_pretrained(cls, *args, **kwargs):
        loaded = super().from_pretrained(*args, **kwargs)
        (loaded[0] if isinstance(loaded, tuple) else loaded).apply_freezing()
        return loaded

    def train(self, mode: bool = True):
        super().train(mode)
        if self.classifier_head == "linear-probe":
            self.roberta.eval()  # frozen features: no dropout noise
        return self

    # ------------------------------------------------------------------ rhythm features
    def normalise_rhythm(self, rhythm_features: torch.Tensor | None, batch: int, device: torch.device) -> torch.Tensor | None:
        """Check and normalise ``rhythm_features`` ``(batch, n_rhythm)`` → float32 ``(batch, n_rhythm)``.

        Raises:
            ValueError: features missing (naming the expected ones), given to a model without
                rhythm inputs, of the wrong shape, or not finite (naming the row and feature).
        """
        names = self.config.rhythm_feature_names
        if not names:
            if rhythm_features is not None:
                raise ValueError("rhythm_features were given, but this model has no rhythm inputs (config.rhythm_feature_names is None).")
            return None
        if rhythm_features is None:
            raise ValueError(
                f"this HeartBert classifier takes {len(names)} rhythm features {names}: pass rhythm_features, a float tensor "
                f"of shape (batch, {len(names)}) in that order, raw (the model normalises them). The text-classification "
                "pipeline passes only the tokenizer's output: call the model directly for a rhythm model."
            )
        x = torch.as_tensor(rhythm_features, device=device).float()
        if x.shape != (batch, len(names)):
            raise ValueError(f"rhythm_features has shape {tuple(x.shape)}; expected (batch={batch}, {len(names)}) for {names}.")
        finite = torch.isfinite(x)
        if not bool(finite.all()):
            row, col = (~finite).nonzero()[0].tolist()
            raise ValueError(f"rhythm_features are not finite: item {row} of the batch, feature {names[col]!r} is {x[row, col].item()}.")
        mean = torch.tensor(self.config.rhythm_feature_mean or [0.0] * len(names), dtype=torch.float32, device=device)
        std = torch.tensor(self.config.rhythm_feature_std or [1.0] * len(names), dtype=torch.float32, device=device)
        std = torch.where(std == 0, torch.ones_like(std), std)
        return (x - mean) / std  # (batch, n_rhythm)

    # ------------------------------------------------------------------ record-context beats
    def beat_vectors(self, input_ids=None, attention_mask=None, beat_spans=None, **kwargs) -> torch.Tensor:
        """Uncentred beat vectors ``(n_beats, config.pooled_size)`` of a record-context classifier.

        Args:
            input_ids: ``(batch, seq)`` right-padded ``<s> content </s>`` sequences of the record's token stream, in order.
            attention_mask: ``(batch, seq)`` 0/1.
            beat_spans: ``(n_beats, n_spans, 2)`` ``[start, stop)`` indices into the content tokens of these sequences.

        Raises:
            ValueError: not a record-context classifier, ``beat_spans`` missing or of the wrong span
                count, or spans outside the tokens given.
        """
        spans = self.config.beat_context_spans
        if not spans:
            raise ValueError("this classifier classifies sequences (config.beat_context_spans is None); beat_spans are for record-context beat classifiers.")
        if beat_spans is None:
            raise ValueError(
                f"this record-context beat classifier needs beat_spans (n_beats, {len(spans)}, 2) over one record's token stream: build its inputs "
                "with heartbert_hf.beat_context (record_stream, beat_token_spans), or call record_beat_probabilities. The text-classification "
                "pipeline passes only the tokenizer's output and cannot feed it."
            )
        beat_spans = torch.as_tensor(beat_spans)
        if beat_spans.dim() != 3 or beat_spans.shape[1] != len(spans):
            raise ValueError(
                f"beat_spans has shape {tuple(beat_spans.shape)}; this model pools {len(spans)} span(s) per beat {spans}: expected (n_beats, {len(spans)}, 2)."
            )
        kwargs.pop("return_dict", None)
        layers = self.config.beat_context_layers
        with torch.no_grad():
            outputs = self.roberta(input_ids, attention_mask=attention_mask, return_dict=True, output_hidden_states=bool(layers), **kwargs)
        hidden = token_states(outputs, layers)  # (batch, seq, hidden * n_layers)
        return pool_spans(content_stream(hidden, attention_mask), beat_spans)  # (n_beats, n_spans * n_layers * hidden)

    def classify_beat_vectors(self, vectors: torch.Tensor, rhythm_features=None, centre: torch.Tensor | None = None) -> torch.Tensor:
        """Logits ``(n_beats, classes)`` from :meth:`beat_vectors` of one record.

        Args:
            vectors: ``(n_beats, n_spans * hidden)`` uncentred beat vectors.
            rhythm_features: ``(n_beats, n_rhythm)`` raw RR features when the model takes them.
            centre: ``(n_spans * hidden,)`` to subtract instead of the median of ``vectors``
                (``record-median`` centring only).
        """
        x = vectors.float()
        if self.config.beat_context_centring == "record-median" and len(x):
            x = x - (record_median(x) if centre is None else centre.to(x))  # (n_beats, n_spans * hidden)
        rhythm = self.normalise_rhythm(rhythm_features, len(x), x.device)
        if rhythm is not None:
            x = torch.cat([x, rhythm], dim=-1)  # (n_beats, n_spans * hidden + n_rhythm)
        return self.classifier(x.to(self.classifier.weight.dtype))  # (n_beats, classes)

    # ------------------------------------------------------------------ forward
    def forward(self, input_ids=None, attention_mask=None, labels=None, rhythm_features=None, beat_spans=None, **kwargs) -> SequenceClassifierOutput:
        """Logits ``(batch, num_labels)`` (``(n_beats, num_labels)`` for a record-context beat
        classifier), and the loss when ``labels`` is given.

        Args:
            input_ids: ``(batch, seq)`` token ids (at most :func:`token_limit` tokens).
            attention_mask: ``(batch, seq)`` 0/1.
            labels: ``(batch,)`` class ids, or ``(batch, num_labels)`` multi-hot floats (multi-label);
                ``(n_beats,)`` for a record-context beat classifier.
            rhythm_features: ``(batch, n_rhythm)`` raw values of ``config.rhythm_feature_names``
                (``(n_beats, n_rhythm)`` for a record-context beat classifier).
            beat_spans: ``(n_beats, n_spans, 2)``, record-context beat classifiers only (see :meth:`beat_vectors`).
        """
        kwargs.pop("return_dict", None)
        ref = input_ids if input_ids is not None else kwargs.get("inputs_embeds")
        if ref is None:
            raise ValueError("pass input_ids (batch, seq) or inputs_embeds (batch, seq, hidden).")
        if self.config.beat_context_spans or beat_spans is not None:
            logits = self.classify_beat_vectors(self.beat_vectors(input_ids, attention_mask, beat_spans, **kwargs), rhythm_features)
            loss = None if labels is None else classification_loss(logits, labels.to(logits.device), "single_label_classification")
            return SequenceClassifierOutput(loss=loss, logits=logits)
        rhythm = self.normalise_rhythm(rhythm_features, ref.shape[0], ref.device)
        if self.classifier_head == "linear-probe":
            with torch.no_grad():
                outputs = self.roberta(input_ids, attention_mask=attention_mask, return_dict=True, **kwargs)
            pooled = outputs.pooler_output  # (batch, hidden), masked mean
        else:
            outputs = self.roberta(input_ids, attention_mask=attention_mask, return_dict=True, **kwargs)
        if self.classifier_head == "sequence":
            logits = self.classifier(outputs.last_hidden_state[:, 0], rhythm)  # (batch, classes)
        else:
            if self.classifier_head == "bilstm":
                pooled = self.dropout(self.bilstm_pool(outputs.last_hidden_state, attention_mask))  # (batch, 2*lstm_hidden)
            if rhythm is not None:
                pooled = torch.cat([pooled, rhythm.to(pooled.dtype)], dim=-1)  # (batch, pooled + n_rhythm)
            logits = self.classifier(pooled)  # (batch, classes)
        loss = None
        if labels is not None:
            if self.config.problem_type is None:  # as RoBERTa does: decided (and recorded) by the first labels seen
                multi = labels.dim() == 2 and labels.is_floating_point()
                self.config.problem_type = "multi_label_classification" if multi else "single_label_classification"
            loss = classification_loss(logits, labels.to(logits.device), self.config.problem_type)
        return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions)

    def bilstm_pool(self, states: torch.Tensor, attention_mask: torch.Tensor | None) -> torch.Tensor:
        """BiLSTM over the real tokens of ``states`` ``(batch, seq, hidden)`` → their mean ``(batch, 2*lstm_hidden)``.

        Padding is packed away, so a sequence gives the same result alone or in a padded batch.
        """
        if attention_mask is None:
            out, _ = self.lstm(states)  # (batch, seq, 2*lstm_hidden)
            return out.mean(dim=1)
        lengths = attention_mask.sum(dim=1)  # (batch,)
        positions = torch.arange(attention_mask.shape[1], device=attention_mask.device)
        if not bool((attention_mask.bool() == (positions[None, :] < lengths[:, None])).all()):
            raise ValueError("the BiLSTM head needs right-padded input without gaps: use tokenizer.padding_side = 'right'.")
        packed = nn.utils.rnn.pack_padded_sequence(states, lengths.clamp(min=1).cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=states.shape[1])  # (batch, seq, 2*lstm_hidden)
        return mean_pool(out, attention_mask)


HeartBertModel.register_for_auto_class("AutoModel")
HeartBertForMaskedLM.register_for_auto_class("AutoModelForMaskedLM")
HeartBertForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")
