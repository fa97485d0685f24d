"""Task heads on the HeartBert encoder, besides RoBERTa's ``<s>`` classifier.

* :class:`HeartBertBiLSTMForSequenceClassification` — the published HeartBERT head: a
  bidirectional LSTM over the token states, masked-mean pooled, then a linear layer. The lower half
  of the encoder (embeddings + the first ``num_hidden_layers // 2`` layers) is frozen.
* :class:`HeartBertLinearProbe` — the encoder frozen (and kept in eval mode, so dropout never
  changes its features); one linear layer on the pooled (masked-mean) embedding.

Both keep the encoder under the ``roberta.`` prefix, so a pretrained HeartBert MLM checkpoint
loads into them with ``from_pretrained``. Both return ``SequenceClassifierOutput`` and compute the
loss from ``config.problem_type`` like ``HeartBertForSequenceClassification``.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import RobertaModel, RobertaPreTrainedModel
from transformers.modeling_outputs import SequenceClassifierOutput

from .configuration_heartbert import HeartBertConfig
from .modeling_heartbert import HeartBertForSequenceClassification, mean_pool

HEADS = ("sequence", "bilstm", "linear-probe")
"""Head names accepted by ``heartbert finetune`` (``--head`` and ``--linear_probe``)."""


def classification_loss(logits: torch.Tensor, labels: torch.Tensor, problem_type: str | None, weight: torch.Tensor | None = None) -> torch.Tensor:
    """Cross-entropy (single-label) or BCE-with-logits (multi-label).

    Args:
        logits: ``(batch, classes)``.
        labels: ``(batch,)`` class ids, or ``(batch, classes)`` multi-hot floats.
        problem_type: ``"multi_label_classification"`` or single-label.
        weight: per-class weights (CE ``weight``; BCE ``pos_weight``), or ``None``.
    """
    if problem_type == "multi_label_classification":
        return nn.functional.binary_cross_entropy_with_logits(logits.float(), labels.float(), pos_weight=weight)
    return nn.functional.cross_entropy(logits.float(), labels.long().view(-1), weight=weight)


class _EncoderHead(RobertaPreTrainedModel):
    config_class = HeartBertConfig
    base_model_prefix = "roberta"
    accepts_loss_kwargs = False

    def _output(self, logits, labels, outputs, return_dict) -> SequenceClassifierOutput:
        loss = classification_loss(logits, labels, self.config.problem_type) if labels is not None else None
        return SequenceClassifierOutput(loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions)


class HeartBertLinearProbe(_EncoderHead):
    """Frozen HeartBert encoder + a linear classifier on the masked-mean embedding.

    Args:
        config: a :class:`HeartBertConfig` with ``num_labels`` / ``problem_type`` set.
    """

    def __init__(self, config: HeartBertConfig):
        super().__init__(config)
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.post_init()
        self.apply_freezing()

    def apply_freezing(self) -> None:
        """Freeze the whole encoder (call again after ``from_pretrained``, which may rebuild parameters)."""
        freeze_module(self.roberta)

    def train(self, mode: bool = True):
        super().train(mode)
        self.roberta.eval()  # frozen features: no dropout noise
        return self

    def forward(self, input_ids=None, attention_mask=None, labels=None, return_dict=None, **kwargs) -> SequenceClassifierOutput:
        with torch.no_grad():
            outputs = self.roberta(input_ids, attention_mask=attention_mask, return_dict=True, **kwargs)
            pooled = mean_pool(outputs.last_hidden_state, attention_mask)  # (batch, hidden)
        logits = self.classifier(pooled)  # (batch, classes)
        return self._output(logits, labels, outputs, return_dict)


class HeartBertBiLSTMForSequenceClassification(_EncoderHead):
    """HeartBert encoder (lower half frozen) → BiLSTM over token states → masked mean → linear.

    Args:
        config: a :class:`HeartBertConfig`; ``config.lstm_hidden_size`` (default 128) sets the LSTM
            width per direction.
    """

    def __init__(self, config: HeartBertConfig):
        super().__init__(config)
        hidden = int(getattr(config, "lstm_hidden_size", 128) or 128)
        self.roberta = RobertaModel(config, add_pooling_layer=False)
        self.lstm = nn.LSTM(config.hidden_size, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)
        self.classifier = nn.Linear(2 * hidden, config.num_labels)
        self.post_init()
        self.apply_freezing()

    def apply_freezing(self) -> None:
        """Freeze the lower half of the encoder (call again after ``from_pretrained``)."""
        freeze_lower_half(self.roberta)

    def forward(self, input_ids=None, attention_mask=None, labels=None, return_dict=None, **kwargs) -> SequenceClassifierOutput:
        outputs = self.roberta(input_ids, attention_mask=attention_mask, return_dict=True, **kwargs)
        states, _ = self.lstm(outputs.last_hidden_state)  # (batch, seq, 2*lstm_hidden)
        pooled = mean_pool(states, attention_mask)  # (batch, 2*lstm_hidden)
        logits = self.classifier(self.dropout(pooled))  # (batch, classes)
        return self._output(logits, labels, outputs, return_dict)


def freeze_module(module: nn.Module) -> None:
    """Set ``requires_grad = False`` on every parameter of ``module``."""
    for p in module.parameters():
        p.requires_grad_(False)


def freeze_lower_half(encoder: RobertaModel) -> int:
    """Freeze the embeddings and the first ``num_hidden_layers // 2`` layers; return that number."""
    n = len(encoder.encoder.layer) // 2
    freeze_module(encoder.embeddings)
    for layer in encoder.encoder.layer[:n]:
        freeze_module(layer)
    return n


MODEL_CLASSES = {
    "HeartBertForSequenceClassification": HeartBertForSequenceClassification,
    "HeartBertBiLSTMForSequenceClassification": HeartBertBiLSTMForSequenceClassification,
    "HeartBertLinearProbe": HeartBertLinearProbe,
}
"""Architecture name (``config.architectures[0]``) → class, for loading fine-tuned folders."""

HEAD_CLASSES = {
    "sequence": HeartBertForSequenceClassification,
    "bilstm": HeartBertBiLSTMForSequenceClassification,
    "linear-probe": HeartBertLinearProbe,
}


def head_class(head: str):
    """The model class of a head name (``sequence``, ``bilstm``, ``linear-probe``)."""
    if head not in HEAD_CLASSES:
        raise ValueError(f"unknown head {head!r}; choose one of {list(HEAD_CLASSES)}.")
    return HEAD_CLASSES[head]


def load_finetuned(path: str):
    """Load a fine-tuned HeartBert classifier of any head from ``path`` (by ``config.architectures``)."""
    config = HeartBertConfig.from_pretrained(path)
    arch = (config.architectures or ["HeartBertForSequenceClassification"])[0]
    if arch not in MODEL_CLASSES:
        raise ValueError(f"{path} holds a {arch}, not a fine-tuned HeartBert classifier ({sorted(MODEL_CLASSES)}).")
    return MODEL_CLASSES[arch].from_pretrained(path)
