"""HeartBertConfig: a RoBERTa config whose defaults are HeartBert's published shape."""

from __future__ import annotations

from huggingface_hub.dataclasses import strict
from transformers import RobertaConfig

from .version import __version__

AUTO_MAP = {
    "AutoConfig": "configuration_heartbert.HeartBertConfig",
    "AutoModel": "modeling_heartbert.HeartBertModel",
    "AutoModelForMaskedLM": "modeling_heartbert.HeartBertForMaskedLM",
    "AutoModelForSequenceClassification": "modeling_heartbert.HeartBertForSequenceClassification",
    "AutoTokenizer": ["tokenization_heartbert.HeartBertTokenizer", None],
}
"""Every Auto class a saved HeartBert answers to, for loading with ``trust_remote_code=True``."""


@strict
class HeartBertConfig(RobertaConfig):
    """Configuration of HeartBert models: RoBERTa with HeartBert's published defaults.

    Defaults: 6 layers, 12 heads, hidden 768, intermediate 3072, 514 positions (512 tokens),
    one token type, vocabulary 52,000 (the published BPE; set it to ``len(tokenizer)``).

    ``heartbert_version`` records the package version that saved the config.
    """

    model_type = "heartbert"

    vocab_size: int = 52000
    num_hidden_layers: int = 6
    max_position_embeddings: int = 514
    type_vocab_size: int = 1
    layer_norm_eps: float = 1e-5
    heartbert_version: str | None = None

    def to_dict(self) -> dict:
        output = super().to_dict()
        output["heartbert_version"] = __version__
        output["auto_map"] = {**AUTO_MAP, **(output.get("auto_map") or {})}
        return output


HeartBertConfig.register_for_auto_class()
