"""HeartBertTokenizer: level text → BPE ids, as a Hugging Face tokenizer; raw ECG through its feature extractor.

The signal → text path (target rate, window, scaling and the fitted quantizer) is a
:class:`HeartBertFeatureExtractor`; the tokenizer holds one, saves its quantizer next to the BPE
(``tokenizer_config.json`` + ``quantizer.json``) with the quantizer's fingerprint, and restores it in
``from_pretrained`` (a ``quantizer.json`` that does not match the fingerprint is refused). Two inputs:

* level text, the published interface: ``tok("ABC…")`` / ``tok(["ABC…", …])``;
* raw ECG: ``tok(ecg=array_or_list_of_arrays, sampling_rate=fs)``, the same as
  ``HeartBertProcessor(feature_extractor, tokenizer)(ecg=..., sampling_rate=...)``.

A window whose tokens exceed ``max_length`` is never cut silently: with ``truncation=True`` it is
split into several sequences (``return_overflowing_tokens`` defaults to ``True``) and
``overflow_to_sample_mapping`` says which input each sequence came from.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Iterable

import numpy as np
from tokenizers import Tokenizer, decoders, processors, trainers
from tokenizers.models import BPE
from transformers import BatchEncoding, TokenizersBackend
from transformers.tokenization_utils_base import PaddingStrategy, TruncationStrategy
from transformers.utils import to_py_obj

from .ecg_signal import MIN_WINDOW, TARGET_RATE, WINDOW_SIZE
from .feature_extraction_heartbert import HeartBertFeatureExtractor
from .quantization import Quantizer, checked_ids, level_alphabet, text_to_ids
from .tokenizer_options import check_lengths, check_options, ecg_encode_kwargs

QUANTIZER_FILE = "quantizer.json"
SPECIAL_TOKENS = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]  # RoBERTa layout: ids 0..4
DEFAULT_VOCAB_SIZE = 16000  # measured: see README "Defaults, and the measurements behind them"
DEFAULT_SCALING = "minmax"
_WINDOW_ENCODE_KWARGS = {
    "truncation",
    "max_length",
    "stride",
    "add_special_tokens",
    "padding",
    "pad_to_multiple_of",
    "padding_side",
    "return_attention_mask",
    "return_overflowing_tokens",
    "verbose",
}
_BACKEND_LOCK = threading.RLock()
"""Serialises every use of a ``tokenizers`` backend: its truncation/padding settings are shared state that
each call sets, so two threads calling one tokenizer would otherwise encode with each other's settings.
One lock for all instances keeps the tokenizer picklable and hashable (``datasets`` map/fingerprints)."""


def _build_backend(vocab: dict | None, merges: list | None, n_levels: int) -> Tokenizer:
    """A BPE over the level alphabet with no normalizer and no pre-tokenizer."""
    if vocab is None:  # untrained: specials + one token per level (a character-level tokenizer)
        vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS + level_alphabet(n_levels))}
    merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m) for m in (merges or [])]
    backend = Tokenizer(BPE(vocab=vocab, merges=merges, unk_token="<unk>", fuse_unk=False))
    return backend


class HeartBertTokenizer(TokenizersBackend):
    """BPE tokenizer over quantized ECG text, with the signal→text parameters it was fitted with.

    Args:
        vocab, merges: the BPE (passed by ``from_pretrained``); without them the tokenizer is
            character-level over the level alphabet.
        quantizer_file: path of a saved ``quantizer.json`` (passed by ``from_pretrained``).
        quantizer: a :class:`Quantizer` (fitted for ECG input).
        n_levels: size of the level alphabet (100).
        target_rate: Hz every ECG is resampled to (360).
        window_size: samples per window at ``target_rate`` (4000).
        min_window: shortest window kept; shorter tails are dropped (360 = 1 s).
        scaling: ``"minmax"`` or ``"robust"`` per-window scaling to [0, 1].
        quantizer_fingerprint: :meth:`Quantizer.fingerprint` of the quantizer the BPE was trained on
            (saved in ``tokenizer_config.json``); a different ``quantizer`` is refused.

    Raises:
        ValueError: the quantizer does not match ``n_levels`` or ``quantizer_fingerprint``.
    """

    vocab_files_names = {"tokenizer_file": "tokenizer.json", "quantizer_file": QUANTIZER_FILE}
    model_input_names = ["input_ids", "attention_mask"]
    model = BPE

    def __init__(
        self,
        vocab: dict | None = None,
        merges: list | None = None,
        quantizer_file: str | None = None,
        quantizer: Quantizer | None = None,
        n_levels: int = 100,
        target_rate: float = TARGET_RATE,
        window_size: int = WINDOW_SIZE,
        min_window: int = MIN_WINDOW,
        scaling: str = DEFAULT_SCALING,
        quantizer_fingerprint: str | None = None,
        bos_token: str = "<s>",
        eos_token: str = "</s>",
        sep_token: str = "</s>",
        cls_token: str = "<s>",
        unk_token: str = "<unk>",
        pad_token: str = "<pad>",
        mask_token: str = "<mask>",
        **kwargs,
    ):
        if quantizer is None and quantizer_file is not None:
            quantizer = self._read_quantizer(quantizer_file)
        self.feature_extractor = HeartBertFeatureExtractor(
            quantizer=quantizer,
            n_levels=n_levels,
            target_rate=target_rate,
            window_size=window_size,
            min_window=min_window,
            scaling=scaling,
        )
        actual = self.feature_extractor.fingerprint
        if quantizer_fingerprint is not None and actual is not None and actual != quantizer_fingerprint:
            where = quantizer_file or "the quantizer given"
            raise ValueError(
                f"{where} (fingerprint {actual}) is not the quantizer this tokenizer's BPE was trained on "
                f"(fingerprint {quantizer_fingerprint}): level characters would mean other values. Save and load "
                "the tokenizer and its quantizer.json together."
            )
        self.quantizer_fingerprint = quantizer_fingerprint or actual
        self.n_levels = int(n_levels)
        if "tokenizer_object" not in kwargs and "tokenizer_file" not in kwargs:
            kwargs["tokenizer_object"] = _build_backend(vocab, merges, self.n_levels)
        kwargs.setdefault("model_max_length", 512)
        super().__init__(
            n_levels=self.n_levels,
            target_rate=self.target_rate,
            window_size=self.window_size,
            min_window=self.min_window,
            scaling=self.scaling,
            quantizer_fingerprint=self.quantizer_fingerprint,
            bos_token=bos_token,
            eos_token=eos_token,
            sep_token=sep_token,
            cls_token=cls_token,
            unk_token=unk_token,
            pad_token=pad_token,
            mask_token=mask_token,
            **kwargs,
        )
        self._tokenizer.decoder = decoders.Fuse()  # every route (new, vocab/merges, tokenizer.json) decodes by joining
        self._tokenizer.post_processor = processors.RobertaProcessing(
            (str(sep_token), self.convert_tokens_to_ids(str(sep_token))),
            (str(cls_token), self.convert_tokens_to_ids(str(cls_token))),
            trim_offsets=False,
            add_prefix_space=False,
        )

    # the signal → text parameters live in the feature extractor
    quantizer = property(lambda self: self.feature_extractor.quantizer, doc="The fitted :class:`Quantizer`.")
    target_rate = property(lambda self: self.feature_extractor.target_rate, doc="Hz every ECG is resampled to.")
    window_size = property(lambda self: self.feature_extractor.window_size, doc="Samples per window at target_rate.")
    min_window = property(lambda self: self.feature_extractor.min_window, doc="Shortest window kept.")
    scaling = property(lambda self: self.feature_extractor.scaling, doc="Per-window scaling to [0, 1].")

    # ------------------------------------------------------------------ persistence
    @staticmethod
    def _read_quantizer(path: str) -> Quantizer:
        try:
            with open(path, encoding="utf-8") as handle:
                state = json.load(handle)
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} is corrupt: not valid JSON ({err}).") from None
        try:
            return Quantizer.from_dict(state)
        except ValueError as err:
            raise ValueError(f"{path} is corrupt: {err}") from None

    @classmethod
    def from_pretrained(cls, pretrained_model_name_or_path, *args, **kwargs) -> HeartBertTokenizer:
        """Load a saved HeartBert tokenizer; a folder without its ``quantizer.json`` is an error."""
        tokenizer = super().from_pretrained(pretrained_model_name_or_path, *args, **kwargs)
        if not getattr(tokenizer, "_quantizer_loaded", False):
            raise ValueError(
                f"{pretrained_model_name_or_path} has no {QUANTIZER_FILE}: a HeartBert tokenizer folder must hold the "
                "quantizer it was fitted with (save it with HeartBertTokenizer.save_pretrained)."
            )
        return tokenizer

    @classmethod
    def _from_pretrained(cls, resolved_vocab_files, *args, **kwargs):
        loaded = resolved_vocab_files.get("quantizer_file") is not None
        tokenizer = super()._from_pretrained(resolved_vocab_files, *args, **kwargs)
        tokenizer._quantizer_loaded = loaded
        return tokenizer

    def _save_pretrained(self, save_directory, file_names, legacy_format=None, filename_prefix=None):
        file_names = super()._save_pretrained(save_directory, file_names, legacy_format, filename_prefix)
        path = os.path.join(str(save_directory), (filename_prefix + "-" if filename_prefix else "") + QUANTIZER_FILE)
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(self.quantizer.to_dict(), handle, indent=1)
        return file_names + (path,)

    # ------------------------------------------------------------------ signal → text
    def ecg_to_text(self, ecg, sampling_rate: float, drop_flat: bool = False) -> tuple[list[str], list[tuple[int, int]]]:
        """One ECG → level-text windows and their ``(lead, window_number)``: :meth:`HeartBertFeatureExtractor.ecg_to_text`."""
        return self.feature_extractor.ecg_to_text(ecg, sampling_rate, drop_flat=drop_flat)

    def _check_text(self, text) -> None:
        texts = [text] if isinstance(text, str) else text
        if not isinstance(texts, (list, tuple)):
            kind = type(text).__name__
            hint = " Pass raw signals as tok(ecg=..., sampling_rate=...)." if hasattr(text, "__array__") or hasattr(text, "shape") else ""
            raise TypeError(f"text must be a str or a list of str, got {kind}.{hint}")
        if not texts:
            raise ValueError("text is an empty batch: pass at least one level string.")
        kinds = {type(t).__name__ for t in texts if not isinstance(t, str)}
        if kinds:
            raise TypeError(
                f"a text batch must hold only level strings, found {sorted(kinds)}. Pass raw signals "
                "separately as tok(ecg=[...], sampling_rate=...); a batch cannot mix arrays and strings."
            )
        # special tokens (<mask>, <s>, ...) may appear inside level text, e.g. for the fill-mask pipeline:
        # they become same-length runs of a level character, so error positions stay right
        pattern = None
        for t in texts:
            try:
                text_to_ids(t, self.n_levels)
            except ValueError:  # maybe only special tokens, e.g. '<' (chr(60)) is no level character
                if pattern is None:
                    specials = sorted({str(s) for s in self.all_special_tokens}, key=len, reverse=True)
                    pattern = re.compile("|".join(map(re.escape, specials)))
                text_to_ids(pattern.sub(lambda m: chr(65) * len(m.group()), t), self.n_levels)

    def _strategies(self, kwargs: dict):
        """HF's padding/truncation resolution for these call arguments (``max_length`` alone truncates)."""
        return self._get_padding_truncation_strategies(
            padding=kwargs.get("padding", False),
            truncation=kwargs.get("truncation"),
            max_length=kwargs.get("max_length"),
            pad_to_multiple_of=kwargs.get("pad_to_multiple_of"),
            verbose=False,
        )[:3]

    def __call__(self, text=None, text_pair=None, *args, ecg=None, sampling_rate=None, drop_flat: bool = False, **kwargs) -> BatchEncoding:
        """Tokenize level text, or raw ECG through ``ecg=`` + ``sampling_rate=``.

        Args:
            text: level text or a batch of it (the published interface). Special tokens such as
                ``<mask>`` may appear inside it (the fill-mask pipeline writes ``"ABC<mask>DEF"``).
            ecg: one ECG or a list of them. One ECG is a 1-D ``(samples,)`` or ``(leads, samples)``
                numpy array of any integer/float dtype, a torch tensor (any device), a pandas
                DataFrame with one column per lead (rows are samples, as read from a CSV) or Series,
                a list of numbers, or a list of lists of numbers (``(leads, samples)``, as
                ``np.asarray`` reads it). A batch is a list/tuple of ECGs.
            sampling_rate: Hz of ``ecg``: one number, or one per ECG. Required with ``ecg``.
            drop_flat: skip constant (dead, lead-off) lead windows of ``ecg`` instead of raising; a
                batch whose windows are all flat gives empty lists.
            **kwargs: as for any HF tokenizer (``padding``, ``truncation``, ``max_length``,
                ``return_tensors`` …). ``return_overflowing_tokens`` defaults to ``True`` when
                truncating (``truncation=True``, or ``max_length`` alone), so long windows become
                several sequences instead of being cut; an explicit ``False`` keeps the first
                ``max_length`` tokens of each window, one sequence per window. No sequence from
                ECG input is longer than ``max_length``.

        Returns:
            A ``BatchEncoding``. For ``ecg`` input it also holds, per sequence,
            ``overflow_to_sample_mapping`` (index of the input ECG), ``lead_index`` and
            ``window_index``.

        Raises:
            TypeError / ValueError: bad input; for a batch the message starts with ``ecg[i]``, the
            item, and names the lead and window where that applies.

        Thread safety: one tokenizer may be called from several threads; calls that use its backend
        are serialised by a lock, so each returns its own sequential result.
        """
        if ecg is None:
            if text is None:
                raise ValueError("nothing to tokenize: pass level text, or ecg=... with sampling_rate=...")
            self._check_text(text)
            if text_pair is not None:
                self._check_text(text_pair)
            check_options(kwargs, pair=text_pair is not None)
            if self._strategies(kwargs)[1] != TruncationStrategy.DO_NOT_TRUNCATE:
                check_lengths(self, kwargs, pair=text_pair is not None)
                kwargs.setdefault("return_overflowing_tokens", True)
            return super().__call__(text, text_pair, *args, **kwargs)
        if text is not None or text_pair is not None:
            raise TypeError("pass either level text or ecg=..., not both.")
        self._ecg_encode_kwargs(kwargs)  # argument errors before the signal work
        return self.encode_windows(self.feature_extractor(ecg, sampling_rate, drop_flat=drop_flat), *args, **kwargs)

    def _ecg_encode_kwargs(self, kwargs: dict) -> dict:
        """Resolve truncation for ECG windows in place (:func:`tokenizer_options.ecg_encode_kwargs`)."""
        return ecg_encode_kwargs(self, kwargs)

    def encode_windows(self, features, *args, **kwargs) -> BatchEncoding:
        """Level-text windows from :class:`HeartBertFeatureExtractor` → ids, keeping where each sequence came from.

        Args:
            features: the feature extractor's output: ``level_text``, ``sample_index``, ``lead_index``,
                ``window_index`` (one entry per window).
            **kwargs: tokenizer arguments, as for ``tok(ecg=...)``.

        Returns:
            A ``BatchEncoding`` with ``overflow_to_sample_mapping`` (the input ECG of each sequence),
            ``lead_index`` and ``window_index``.
        """
        kwargs = self._ecg_encode_kwargs(dict(kwargs))
        texts = list(features["level_text"])
        owner = np.stack([np.asarray(features[k], dtype=np.int64) for k in ("sample_index", "lead_index", "window_index")], axis=1)
        return_tensors = kwargs.pop("return_tensors", None)
        if not texts:  # every window was flat and dropped
            empty = {k: [] for k in ("input_ids", "attention_mask", "overflow_to_sample_mapping", "lead_index", "window_index")}
            return BatchEncoding(empty, tensor_type=return_tensors)
        if args or set(kwargs) - _WINDOW_ENCODE_KWARGS:
            # options the fast path does not handle (offsets, special-token masks, ...): the generic route
            encoding = super().__call__(texts, *args, **kwargs)
            data, encodings = encoding.data, encoding.encodings
            data.setdefault("overflow_to_sample_mapping", list(range(len(texts))))  # no overflow: one per window
        else:
            data, encodings = self._encode_texts_fast(texts, **kwargs), None
        owner = owner[np.asarray(data["overflow_to_sample_mapping"], dtype=np.int64)]
        data["overflow_to_sample_mapping"] = owner[:, 0].tolist()
        data["lead_index"] = owner[:, 1].tolist()
        data["window_index"] = owner[:, 2].tolist()
        return BatchEncoding(data, encoding=encodings, tensor_type=return_tensors)

    def _encode_plus(self, *args, **kwargs) -> BatchEncoding:
        """HF's encoding under the backend lock; the backend is left with no truncation/padding set."""
        with _BACKEND_LOCK:
            try:
                return super()._encode_plus(*args, **kwargs)
            finally:
                self._tokenizer.no_truncation()
                self._tokenizer.no_padding()

    def _encode_texts_fast(
        self,
        texts: list[str],
        truncation=None,
        max_length: int | None = None,
        stride: int = 0,
        add_special_tokens: bool = True,
        padding=False,
        pad_to_multiple_of: int | None = None,
        padding_side: str | None = None,
        return_attention_mask: bool | None = None,
        return_overflowing_tokens: bool = True,
        verbose: bool = True,
    ) -> dict:
        """Window texts → ids with ``encode_batch_fast`` (no character offsets: about 1.5x faster).

        Same ids as ``__call__`` on the texts with the same arguments, which the tests check; returns
        the dict with ``overflow_to_sample_mapping`` = window index.
        """
        padding_strategy, truncation_strategy, max_length = self._strategies(
            {"padding": padding, "truncation": truncation, "max_length": max_length, "pad_to_multiple_of": pad_to_multiple_of}
        )
        backend = self._tokenizer
        with _BACKEND_LOCK:
            try:
                if truncation_strategy != TruncationStrategy.DO_NOT_TRUNCATE:
                    backend.enable_truncation(max_length, stride=stride, strategy=truncation_strategy.value, direction=self.truncation_side)
                else:
                    backend.no_truncation()
                backend.no_padding()
                encodings = backend.encode_batch_fast(texts, add_special_tokens=add_special_tokens)
            finally:
                backend.no_truncation()
        ids, mapping = [], []
        for window, encoding in enumerate(encodings):
            for piece in (encoding, *encoding.overflowing) if return_overflowing_tokens else (encoding,):
                ids.append(piece.ids)
                mapping.append(window)
        data = self.pad(
            {"input_ids": ids},
            padding=padding_strategy,
            max_length=max_length if padding_strategy == PaddingStrategy.MAX_LENGTH else None,
            pad_to_multiple_of=pad_to_multiple_of,
            padding_side=padding_side,
            return_attention_mask=True if return_attention_mask is None else return_attention_mask,
            verbose=verbose,
        ).data
        data["overflow_to_sample_mapping"] = mapping
        return data

    # ------------------------------------------------------------------ ids → text, ids → signal
    def _checked(self, token_ids, name: str) -> np.ndarray:
        return checked_ids(token_ids, len(self), name, owner="this tokenizer's vocabulary", hint=" Decode ids with the tokenizer that produced them.")

    def decode(self, token_ids, skip_special_tokens: bool = False, **kwargs):
        """Token ids → level text: one sequence gives a ``str``, a batch (list of sequences) a list of them.

        As ``transformers``' ``decode`` (``batch_decode`` calls it), with the ids checked first.

        Raises:
            ValueError: an id outside the vocabulary, negative, or not an integer (a float, text,
                ``None``), naming the sequence (in a batch) and the position. Without the check,
                ``tokenizers`` silently dropped ids past the vocabulary and raised a bare
                ``TypeError`` / ``OverflowError`` on floats and negative ids.
        """
        ids = to_py_obj(token_ids)
        if isinstance(ids, dict):  # a BatchEncoding / tokenizer output, as transformers accepts
            ids = ids["input_ids"]
        if isinstance(ids, (list, tuple)) and ids and isinstance(ids[0], (list, tuple)):
            for i, sequence in enumerate(ids):
                self._checked(sequence, f"sequence {i}")
        else:
            self._checked(ids, "token ids")
        return super().decode(ids, skip_special_tokens=skip_special_tokens, **kwargs)

    def decode_signal(self, token_ids, quantizer: Quantizer | None = None) -> np.ndarray:
        """Token ids of one sequence → the quantized signal (reconstruction values in [0, 1]); special tokens skipped.

        Args:
            token_ids: one sequence: a list of int, or a 1-D integer array / tensor.
            quantizer: the quantizer whose levels the level characters stand for (default: this
                tokenizer's; the processor passes its feature extractor's).

        Returns:
            ``(n_samples,)`` float64, one value per level character of the decoded text.

        Raises:
            ValueError: a batch instead of one sequence, or an id outside the vocabulary or not an
                integer, naming the position.
        """
        ids = self._checked(to_py_obj(token_ids), "token ids")
        if ids.ndim != 1:
            raise ValueError(f"decode_signal takes one sequence of token ids, got an array of shape {ids.shape}: call it once per sequence.")
        quantizer = self.quantizer if quantizer is None else quantizer
        text = super().decode(ids.tolist(), skip_special_tokens=True)
        return quantizer.decode(text_to_ids(text, self.n_levels))

    # ------------------------------------------------------------------ training
    @classmethod
    def train_from_texts(
        cls,
        texts: Iterable[str],
        quantizer: Quantizer | None = None,
        vocab_size: int = DEFAULT_VOCAB_SIZE,
        n_levels: int = 100,
        min_frequency: int = 2,
        show_progress: bool = True,
        length: int | None = None,
        **signal_kwargs,
    ) -> HeartBertTokenizer:
        """Train the BPE on level-text windows.

        Args:
            texts: level-text windows (an iterable is read once).
            quantizer: the fitted quantizer the texts came from (needed for ECG input later).
            vocab_size: BPE vocabulary size, specials and the level alphabet included.
            n_levels: size of the level alphabet.
            min_frequency: a merge needs a pair seen at least this often.
            show_progress: show the `tokenizers` progress bar.
            length: number of texts, for the progress bar.
            **signal_kwargs: ``target_rate``, ``window_size``, ``min_window``, ``scaling``.
        """
        if vocab_size < len(SPECIAL_TOKENS) + n_levels:
            raise ValueError(f"vocab_size must be at least {len(SPECIAL_TOKENS) + n_levels} (specials + levels).")
        backend = Tokenizer(BPE(unk_token="<unk>", fuse_unk=False))
        trainer = trainers.BpeTrainer(
            vocab_size=vocab_size,
            min_frequency=min_frequency,
            special_tokens=SPECIAL_TOKENS,
            initial_alphabet=level_alphabet(n_levels),
            limit_alphabet=n_levels,
            show_progress=show_progress,
        )

        def checked(stream):
            for t in stream:
                text_to_ids(t, n_levels)
                yield t

        backend.train_from_iterator(checked(texts), trainer=trainer, length=length)
        return cls(tokenizer_object=backend, quantizer=quantizer, n_levels=n_levels, **signal_kwargs)

    @classmethod
    def train_from_ecg(
        cls,
        signals: Iterable,
        sampling_rate: float | Iterable[float],
        vocab_size: int = DEFAULT_VOCAB_SIZE,
        n_levels: int = 100,
        quantizer_method: str = "lloyd-max",
        samples_per_window: int = 500,
        seed: int = 0,
        show_progress: bool = True,
        **signal_kwargs,
    ) -> HeartBertTokenizer:
        """Fit the quantizer (:meth:`HeartBertFeatureExtractor.fit`), then the BPE, on training ECGs (never on evaluation data).

        Args:
            signals: a re-iterable (list, ``Dataset`` column …) of ECG arrays, read twice.
            sampling_rate: one rate for all, or a re-iterable of one rate per signal.
            vocab_size: BPE vocabulary size.
            n_levels: quantizer levels.
            quantizer_method: ``"lloyd-max"``, ``"quantile"`` or ``"uniform"``.
            samples_per_window: random samples per window kept to fit the quantizer (bounds memory).
            seed: seed of that subsample.
            show_progress: progress bars.
            **signal_kwargs: ``target_rate``, ``window_size``, ``min_window``, ``scaling``.
        """
        extractor = HeartBertFeatureExtractor.fit(
            signals,
            sampling_rate,
            n_levels=n_levels,
            quantizer_method=quantizer_method,
            samples_per_window=samples_per_window,
            seed=seed,
            show_progress=show_progress,
            **signal_kwargs,
        )
        texts = (extractor.quantizer.to_text(w) for w in extractor.iter_windows(signals, sampling_rate, show_progress))
        return cls.train_from_texts(
            texts,
            extractor.quantizer,
            vocab_size=vocab_size,
            n_levels=n_levels,
            show_progress=show_progress,
            length=extractor._n_windows_fitted,
            **signal_kwargs,
        )


HeartBertTokenizer.register_for_auto_class("AutoTokenizer")
