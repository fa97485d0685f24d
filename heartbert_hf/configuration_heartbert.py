"""HeartBertConfig: a RoBERTa config whose defaults are HeartBert's published shape, plus the
classification head and its rhythm-feature inputs."""

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

HEADS = ("sequence", "bilstm", "linear-probe")
"""Classification heads (``HeartBertConfig.classifier_head``); see ``HeartBertForSequenceClassification``."""

PROBLEM_TYPES = ("single_label_classification", "multi_label_classification")


@strict
class HeartBertConfig(RobertaConfig):
    """Configuration of HeartBert models: RoBERTa with HeartBert's published defaults.

    Defaults: 6 layers, 12 heads, hidden 768, intermediate 3072, 514 positions (512 tokens),
    one token type, vocabulary 52,000 (the published BPE; set it to ``len(tokenizer)``).

    Classification (``HeartBertForSequenceClassification``):

    * ``classifier_head``: one of :data:`HEADS`.
      ``"sequence"`` RoBERTa's ``<s>`` head (dense → tanh → out_proj);
      ``"bilstm"`` the published HeartBERT head: a BiLSTM over the token states, masked mean, linear,
      with the lower half of the encoder frozen;
      ``"linear-probe"`` the whole encoder frozen, a linear layer on the masked-mean embedding.
    * ``lstm_hidden_size``: BiLSTM width per direction (``"bilstm"`` only).
    * ``problem_type``: ``"single_label_classification"`` (default when unset) or
      ``"multi_label_classification"`` (BCE with logits on multi-hot labels). Regression is refused.
    * ``rhythm_feature_names``: names of extra numeric inputs per sequence (e.g. RR intervals), or
      ``None``. When set, the model requires ``rhythm_features`` of shape ``(batch, n)`` and
      normalises them with ``rhythm_feature_mean`` / ``rhythm_feature_std`` (one value per name;
      both default to 0 / 1; a std of 0 counts as 1) before concatenating them with the pooled vector.

    ``heartbert_version`` records the package version that saved the config.

    Raises:
        ValueError: unknown ``classifier_head``, ``lstm_hidden_size < 1``, a regression
            ``problem_type``, or mean/std lengths that do not match ``rhythm_feature_names``.
    """

    model_type = "heartbert"

    vocab_size: int = 52000
    num_hidden_layers: int = 6
    max_position_embeddings: int = 514
    type_vocab_size: int = 1
    layer_norm_eps: float = 1e-5
    classifier_head: str = "sequence"
    lstm_hidden_size: int = 128
    rhythm_feature_names: list[str] | None = None
    rhythm_feature_mean: list[float | int] | None = None
    rhythm_feature_std: list[float | int] | None = None
    heartbert_version: str | None = None

    def __post_init__(self, **kwargs):
        super().__post_init__(**kwargs)
        self.check_heads()

    def check_heads(self) -> None:
        """Check the classification fields (run at construction and by the model's ``__init__``).

        Raises:
            ValueError: see the class docstring.
        """
        if self.classifier_head not in HEADS:
            raise ValueError(f"unknown classifier_head {self.classifier_head!r}; choose one of {list(HEADS)}.")
        if self.lstm_hidden_size < 1:
            raise ValueError(f"lstm_hidden_size must be >= 1, got {self.lstm_hidden_size}.")
        if self.problem_type is not None and self.problem_type not in PROBLEM_TYPES:
            raise ValueError(f"problem_type {self.problem_type!r} is not supported by HeartBert classifiers; use one of {list(PROBLEM_TYPES)}.")
        names = self.rhythm_feature_names
        for key in ("rhythm_feature_mean", "rhythm_feature_std"):
            values = getattr(self, key)
            if values is None:
                continue
            if names is None:
                raise ValueError(f"{key} is set but rhythm_feature_names is not: name the features it normalises.")
            if len(values) != len(names):
                raise ValueError(f"{key} has {len(values)} values for {len(names)} rhythm features {names}: give one per feature.")
        if names is not None and len(set(names)) != len(names):
            raise ValueError(f"rhythm_feature_names repeats a name: {names}.")

    @property
    def num_rhythm_features(self) -> int:
        """Number of rhythm-feature inputs (0 when ``rhythm_feature_names`` is ``None``)."""
        return len(self.rhythm_feature_names or ())

    def to_dict(self) -> dict:
        output = super().to_dict()
        output["heartbert_version"] = __version__
        output["auto_map"] = {**AUTO_MAP, **(output.get("auto_map") or {})}
        return output


HeartBertConfig.register_for_auto_class()
