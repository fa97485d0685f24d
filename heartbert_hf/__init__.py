"""HeartBert: ECG signals as text, and a RoBERTa-style masked language model over them.

Importing the package registers the ``heartbert`` model type with the Auto classes:
``AutoConfig``, ``AutoModel``, ``AutoModelForMaskedLM``, ``AutoModelForSequenceClassification``
(every head in ``HEADS``, chosen by ``HeartBertConfig.classifier_head``), ``AutoTokenizer``,
``AutoFeatureExtractor`` (raw ECG -> level text) and ``AutoProcessor`` (feature extractor + tokenizer).
"""

from transformers import (
    AutoConfig,
    AutoFeatureExtractor,
    AutoModel,
    AutoModelForMaskedLM,
    AutoModelForSequenceClassification,
    AutoProcessor,
    AutoTokenizer,
)

from .configuration_heartbert import HeartBertConfig
from .feature_extraction_heartbert import HeartBertFeatureExtractor
from .modeling_heartbert import (
    HEADS,
    HeartBertForMaskedLM,
    HeartBertForSequenceClassification,
    HeartBertModel,
    IdsOutOfRangeError,
    mean_pool,
)
from .processing_heartbert import HeartBertProcessor
from .quantization import Quantizer, ids_to_text, text_to_ids
from .tokenization_heartbert import HeartBertTokenizer
from .version import __version__

AutoConfig.register("heartbert", HeartBertConfig, exist_ok=True)
AutoModel.register(HeartBertConfig, HeartBertModel, exist_ok=True)
AutoModelForMaskedLM.register(HeartBertConfig, HeartBertForMaskedLM, exist_ok=True)
AutoModelForSequenceClassification.register(HeartBertConfig, HeartBertForSequenceClassification, exist_ok=True)
AutoTokenizer.register(HeartBertConfig, tokenizer_class=HeartBertTokenizer, exist_ok=True)
AutoFeatureExtractor.register(HeartBertConfig, HeartBertFeatureExtractor, exist_ok=True)
AutoProcessor.register(HeartBertConfig, HeartBertProcessor, exist_ok=True)


def __getattr__(name: str):
    # the data layer imports `datasets`/`wfdb`: load it on first use only
    if name == "load_physionet":
        from .data import load_physionet

        return load_physionet
    raise AttributeError(f"module 'heartbert_hf' has no attribute {name!r}")


__all__ = [
    "HEADS",
    "HeartBertConfig",
    "HeartBertFeatureExtractor",
    "HeartBertForMaskedLM",
    "HeartBertForSequenceClassification",
    "HeartBertModel",
    "IdsOutOfRangeError",
    "HeartBertProcessor",
    "HeartBertTokenizer",
    "Quantizer",
    "__version__",
    "ids_to_text",
    "load_physionet",
    "mean_pool",
    "text_to_ids",
]
