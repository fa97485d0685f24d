"""HeartBertProcessor: HeartBertFeatureExtractor (raw ECG → level text) + HeartBertTokenizer (text → ids).

``processor(ecg=..., sampling_rate=...)`` gives what ``tokenizer(ecg=..., sampling_rate=...)`` gives
(overflow mapping, lead and window indices, the same errors), with the signal → text step owned by the
feature extractor. ``save_pretrained`` writes the tokenizer files, ``quantizer.json`` and
``processor_config.json`` (the feature extractor inline); ``from_pretrained`` / ``AutoProcessor``
restore both. A feature extractor whose quantizer is not the one the tokenizer's BPE was trained on is
refused (their fingerprints differ).

Travels as remote code: relative imports only; numpy and transformers at module level.
"""

from __future__ import annotations

import numpy as np
from transformers import BatchEncoding
from transformers.processing_utils import ProcessorMixin


class HeartBertProcessor(ProcessorMixin):
    """Feature extractor + tokenizer for HeartBert.

    Args:
        feature_extractor: a fitted :class:`HeartBertFeatureExtractor`.
        tokenizer: a :class:`HeartBertTokenizer`.

    Raises:
        ValueError: the feature extractor's quantizer differs from the one the tokenizer was trained on.
    """

    def __init__(self, feature_extractor, tokenizer):
        super().__init__(feature_extractor, tokenizer)
        expected = getattr(tokenizer, "quantizer_fingerprint", None)
        actual = getattr(feature_extractor, "fingerprint", None)
        if expected is not None and actual != expected:
            raise ValueError(
                f"the feature extractor's quantizer (fingerprint {actual}) is not the one this tokenizer's BPE was trained "
                f"on (fingerprint {expected}): its level text would mean other values. Pair the tokenizer with "
                "tokenizer.feature_extractor, or with the feature extractor saved next to it."
            )

    @classmethod
    def from_tokenizer(cls, tokenizer) -> HeartBertProcessor:
        """The processor of a HeartBert tokenizer, with the feature extractor it carries."""
        return cls(tokenizer.feature_extractor, tokenizer)

    @property
    def model_input_names(self) -> list[str]:
        return list(self.tokenizer.model_input_names)

    def __call__(self, ecg=None, sampling_rate=None, text=None, drop_flat: bool = False, **kwargs) -> BatchEncoding:
        """Tokenize raw ECG (``ecg=`` + ``sampling_rate=``) or level text (``text=``).

        Args:
            ecg: one ECG or a list of them: numpy (any numeric dtype), torch tensor, pandas
                DataFrame (one column per lead) or Series, or nested lists; 1-D ``(samples,)`` or
                ``(leads, samples)``.
            sampling_rate: Hz: one number, or one per ECG. Required with ``ecg``.
            text: level text (the published interface) instead of ``ecg``.
            drop_flat: skip constant (dead, lead-off) windows instead of raising.
            **kwargs: tokenizer arguments (``truncation``, ``max_length``, ``padding``,
                ``return_tensors`` …); ``return_overflowing_tokens`` defaults to ``True`` when truncating.

        Returns:
            A ``BatchEncoding``; for ``ecg`` it holds ``overflow_to_sample_mapping`` (input ECG),
            ``lead_index`` and ``window_index`` per sequence.

        Raises:
            TypeError / ValueError: both or neither of ``ecg`` and ``text``, and every error of
            the feature extractor (``ecg[i]`` names a batch item) and the tokenizer.
        """
        if (ecg is None) == (text is None):
            raise TypeError("pass either ecg=... (with sampling_rate=...) or text=..., exactly one of them.")
        if text is not None:
            return self.tokenizer(text, **kwargs)
        self.tokenizer._ecg_encode_kwargs(kwargs)  # argument errors before the signal work
        features = self.feature_extractor(ecg, sampling_rate, drop_flat=drop_flat)
        return self.tokenizer.encode_windows(features, **kwargs)

    def batch_decode(self, *args, **kwargs):
        """Token ids → level text (``tokenizer.batch_decode``); a bad id is a ``ValueError`` naming the sequence and position."""
        return self.tokenizer.batch_decode(*args, **kwargs)

    def decode(self, *args, **kwargs):
        """Token ids → level text (``tokenizer.decode``); a bad id is a ``ValueError`` naming the sequence and position."""
        return self.tokenizer.decode(*args, **kwargs)

    def decode_signal(self, token_ids) -> np.ndarray:
        """Token ids of one sequence → the quantized window (reconstruction values in [0, 1]); special tokens skipped.

        Returns ``(n_samples,)`` float64 on this processor's quantizer.

        Raises:
            ValueError: a batch instead of one sequence, or an id outside the vocabulary or not an
                integer, naming the position (``tokenizer.decode_signal``).
        """
        return self.tokenizer.decode_signal(token_ids, quantizer=self.feature_extractor.quantizer)


HeartBertProcessor.register_for_auto_class("AutoProcessor")
