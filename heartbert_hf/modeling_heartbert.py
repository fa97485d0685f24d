"""HeartBert models: the RoBERTa encoder and heads, under the ``heartbert`` model type.

* :class:`HeartBertModel` — the encoder; ``pooler_output`` is the attention-masked **mean** of
  the last hidden states, one vector per sequence (the documented ECG-window embedding; RoBERTa's
  tanh pooler is never pretrained by MLM, so it is not used).
* :class:`HeartBertForMaskedLM` — MLM pretraining. In training mode with ``labels`` the LM head
  runs on the masked positions only (a large saving at 52k vocabulary); ``logits`` then has shape
  ``(n_masked, vocab)``. In eval mode ``logits`` is the usual ``(batch, seq, vocab)``.
* :class:`HeartBertForSequenceClassification` — single-label (``CrossEntropyLoss``) or
  multi-label (``problem_type="multi_label_classification"``, ``BCEWithLogitsLoss``).

All set ``accepts_loss_kwargs = False``: the loss is a plain mean over tokens, so Trainer must not
rescale it by the number of processes.
"""

from __future__ import annotations

import torch
from torch import nn
from transformers import RobertaForMaskedLM, RobertaForSequenceClassification, RobertaModel
from transformers.modeling_outputs import MaskedLMOutput

from .configuration_heartbert import HeartBertConfig


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


class HeartBertModel(RobertaModel):
    """The HeartBert encoder. ``outputs.pooler_output`` is the masked mean embedding ``(batch, hidden)``.

    Args:
        config: a :class:`HeartBertConfig`.
        add_pooling_layer: kept for API compatibility; HeartBert always mean-pools instead.
    """

    config_class = HeartBertConfig
    accepts_loss_kwargs = False
    _keys_to_ignore_on_load_unexpected = [r"lm_head\.", r"classifier\."]  # heads of MLM / classifier checkpoints

    def __init__(self, config: HeartBertConfig, add_pooling_layer: bool = False):
        super().__init__(config, add_pooling_layer=False)

    def forward(self, input_ids=None, attention_mask=None, **kwargs):
        outputs = super().forward(input_ids=input_ids, attention_mask=attention_mask, **kwargs)
        # (batch, seq, hidden) → (batch, hidden)
        outputs.pooler_output = mean_pool(outputs.last_hidden_state, attention_mask)
        return outputs


class HeartBertForMaskedLM(RobertaForMaskedLM):
    """HeartBert with the RoBERTa LM head, for masked-LM pretraining."""

    config_class = HeartBertConfig
    accepts_loss_kwargs = False

    def forward(self, input_ids=None, attention_mask=None, labels=None, **kwargs) -> MaskedLMOutput:
        if labels is None or not self.training:
            return super().forward(input_ids=input_ids, attention_mask=attention_mask, labels=labels, **kwargs)
        kwargs.pop("return_dict", None)
        outputs = self.roberta(input_ids, attention_mask=attention_mask, return_dict=True, **kwargs)
        hidden = outputs.last_hidden_state  # (batch, seq, hidden)
        labels = labels.to(hidden.device)
        masked = labels != -100  # (batch, seq)
        logits = self.lm_head(hidden[masked])  # (n_masked, vocab)
        if masked.any():
            loss = nn.functional.cross_entropy(logits.float(), labels[masked])
        else:  # nothing masked in this batch: a zero loss that still has a graph
            loss = hidden.sum() * 0.0
        return MaskedLMOutput(loss=loss, logits=logits, hidden_states=outputs.hidden_states, attentions=outputs.attentions)


class HeartBertForSequenceClassification(RobertaForSequenceClassification):
    """HeartBert with RoBERTa's classification head on the ``<s>`` token.

    Multi-label: build it with ``problem_type="multi_label_classification"`` and pass float
    multi-hot ``labels`` of shape ``(batch, num_labels)``.
    """

    config_class = HeartBertConfig
    accepts_loss_kwargs = False


HeartBertModel.register_for_auto_class("AutoModel")
HeartBertForMaskedLM.register_for_auto_class("AutoModelForMaskedLM")
HeartBertForSequenceClassification.register_for_auto_class("AutoModelForSequenceClassification")
