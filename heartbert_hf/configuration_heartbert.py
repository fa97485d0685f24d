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

CENTRINGS = ("record-median",)
"""Values of ``HeartBertConfig.beat_context_centring`` besides ``None``."""


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
    * ``beat_context_spans``: ``None`` (the model classifies sequences), or ``[[start_s, stop_s], ...]``
      seconds around the R peak (negative = before it): the model is a **record-context beat
      classifier** (``"linear-probe"`` head only). It reads a record's token stream and classifies
      beats: each beat's vector is the mean hidden state (``beat_context_layers``, default the last) of the tokens overlapping each span,
      the spans concatenated (:mod:`heartbert_hf.beat_pooling`; inputs built by
      :mod:`heartbert_hf.beat_context`).
    * ``beat_context_centring``: ``None`` or ``"record-median"`` (subtract the median beat vector of
      the record, i.e. of the beats in the call).
    * ``beat_context_layers``: ``None`` (the last hidden state) or the ``hidden_states`` indices whose
      token states are concatenated before pooling (0 = embeddings, ``num_hidden_layers`` = last).

    ``heartbert_version`` records the package version that saved the config.

    Raises:
        ValueError: unknown ``classifier_head``, ``lstm_hidden_size < 1``, a regression
            ``problem_type``, mean/std lengths that do not match ``rhythm_feature_names``, or beat-context
            spans that are not ``[start, stop]`` pairs with ``start < stop``, given to another head than
            ``"linear-probe"``, an unknown ``beat_context_centring`` (or one without spans), or
            ``beat_context_layers`` outside ``0..num_hidden_layers``, repeated, or without spans.
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
    beat_context_spans: list[list[float | int]] | None = None
    beat_context_centring: str | None = None
    beat_context_layers: list[int] | None = None
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
        self.check_beat_context()

    def check_beat_context(self) -> None:
        """Check ``beat_context_spans`` / ``beat_context_centring`` (see the class docstring)."""
        spans = self.beat_context_spans
        if spans is not None:
            if not spans or any(len(span) != 2 or not span[0] < span[1] for span in spans):
                raise ValueError(f"beat_context_spans {spans}: give one or more [start_s, stop_s] pairs with start_s < stop_s (seconds around the R peak).")
            if self.classifier_head != "linear-probe":
                raise ValueError(f"beat_context_spans needs classifier_head='linear-probe', got {self.classifier_head!r}.")
        centring = self.beat_context_centring
        if centring is not None and centring not in CENTRINGS:
            raise ValueError(f"unknown beat_context_centring {centring!r}; choose one of {list(CENTRINGS)} or None.")
        if centring is not None and spans is None:
            raise ValueError("beat_context_centring is set but beat_context_spans is not: centring applies to beat vectors.")
        layers = self.beat_context_layers
        if layers is not None:
            if spans is None:
                raise ValueError("beat_context_layers is set but beat_context_spans is not: layers apply to beat vectors.")
            if not layers or any(not 0 <= layer <= self.num_hidden_layers for layer in layers) or len(set(layers)) != len(layers):
                raise ValueError(
                    f"beat_context_layers {layers}: give distinct hidden_states indices from 0 (embeddings) to {self.num_hidden_layers} (the last layer)."
                )

    @property
    def num_rhythm_features(self) -> int:
        """Number of rhythm-feature inputs (0 when ``rhythm_feature_names`` is ``None``)."""
        return len(self.rhythm_feature_names or ())

    @property
    def pooled_size(self) -> int:
        """Width of the vector the classifier sees before rhythm features: ``hidden_size`` per beat-context
        span and layer (``hidden_size`` without spans)."""
        return self.hidden_size * len(self.beat_context_spans or [None]) * len(self.beat_context_layers or [None])

    def to_dict(self) -> dict:
        output = super().to_dict()
        output["heartbert_version"] = __version__
        output["auto_map"] = {**AUTO_MAP, **(output.get("auto_map") or {})}
        return output


HeartBertConfig.register_for_auto_class()
