"""One inference path for HeartBert: device-aware, batched, bounded memory on long records.

Two entry points share one batched forward pass:

* :func:`embed_ecg` / :func:`iter_embeddings` — raw ECG → one vector per (lead, window): the
  token-count-weighted mean of the masked-mean embeddings of the window's sequences, which is the
  mean over all of the window's tokens (special tokens included, as ``heartbert embed`` always did).
  The record is read in blocks of ``windows_per_block`` windows (signal slice → resampled block →
  level text → token ids, in :mod:`heartbert_hf.window_tokens`; → sequences → batches, here), so
  memory does not grow with the record's length:
  a 24-hour Holter costs what one block costs, plus the output (``n_windows x hidden`` float32).
* :func:`predict_proba` — token-id sequences (a tokenized split, an encoding, or lists of ids) →
  per-example probabilities: softmax or sigmoid by ``config.problem_type``, averaged over each
  example's sequences.

Both sort sequences by length before batching (little padding), run under
``torch.inference_mode``, use the GPU when there is one (:func:`select_device`), and take a
``precision``: ``"fp32"``, ``"bf16"`` (autocast, CPU or GPU) or ``"int8"`` (dynamic quantization of
every ``nn.Linear`` with ``torch.ao.quantization.quantize_dynamic``, CPU only).

Long windows: a 4000-sample window is 900-2,000 tokens, more than a model's positions. The
tokenizer's overflow splits ``N`` tokens as ``L + L + rest`` (``L = max_length - 2``), so the last
sequence is often mostly padding. With ``balanced_chunks=True`` the window is split into
``ceil(N / L)`` sequences of near-equal length (sizes differ by at most one), each wrapped in
``<s> … </s>`` as the tokenizer does (:func:`chunk_bounds`). Measured speed-ups and the memory
budget are in ``docs/inference.md``.
"""

from __future__ import annotations

import contextlib
import copy
import warnings
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .modeling_heartbert import mean_pool
from .quantization import checked_ids
from .window_tokens import DEFAULT_WINDOWS_PER_BLOCK, MAX_BLOCK_WINDOWS, WindowTokens, iter_window_tokens

__all__ = [
    "CPU_BATCH_TOKENS",
    "DEFAULT_WINDOWS_PER_BLOCK",
    "GPU_BATCH_SIZE",
    "MAX_BLOCK_WINDOWS",
    "PRECISIONS",
    "WindowEmbeddings",
    "WindowTokens",
    "aggregate",
    "chunk_bounds",
    "embed_ecg",
    "encode_sequences",
    "iter_embeddings",
    "iter_window_tokens",
    "predict_proba",
    "prepare_model",
    "quantize_int8",
    "select_device",
    "sequence_logits",
    "to_probs",
    "window_sequences",
]

PRECISIONS = ("fp32", "bf16", "int8")
"""Accepted ``precision`` values."""

CPU_BATCH_TOKENS = 512
"""Default token budget of one forward pass on CPU (``batch_size=None``): at most this many padded
positions, at least one sequence. Measured at the published shape on 1 thread (AMD EPYC, int8): 127,
131, 143 and 174 ms per ~480-token sequence in batches of 1, 2, 4 and 8 (fp32: 455, 450, 477,
508 ms); on a CPU, bigger batches only spill the caches."""

GPU_BATCH_SIZE = 64
"""Default sequences per forward pass on a GPU (``batch_size=None``)."""


# ------------------------------------------------------------------ device and precision
def select_device(device: str | torch.device | None = None) -> torch.device:
    """The device to run on: ``device`` if given, else CUDA when torch sees a GPU, else CPU.

    Raises:
        ValueError: a CUDA device was requested but torch sees none.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {str(device)!r} was requested but torch sees no CUDA GPU; pass device='cpu' (or None to choose).")
    return device


def _check_precision(precision: str, device: torch.device) -> None:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose one of {PRECISIONS}.")
    if precision == "int8" and device.type != "cpu":
        raise ValueError(f"precision='int8' (dynamic quantization) runs on CPU only, not {device}; use precision='bf16' on a GPU.")


_INT8_COPIES: weakref.WeakKeyDictionary[nn.Module, tuple[int, nn.Module]] = weakref.WeakKeyDictionary()


def quantize_int8(model: nn.Module) -> nn.Module:
    """A CPU copy of ``model`` with every ``nn.Linear`` dynamically quantized to int8.

    Weights are quantized once (per tensor); activations are quantized on the fly per batch
    (``torch.ao.quantization.quantize_dynamic``). The copy is cached per model and rebuilt when a
    parameter of ``model`` was modified in place (an optimizer step) since it was made. The
    original model is left unchanged.
    """
    version = sum(p._version for p in model.parameters())
    cached = _INT8_COPIES.get(model)
    if cached is not None and cached[0] == version:
        return cached[1]
    with warnings.catch_warnings():  # torch.ao.quantization is deprecated in favour of torchao; it still works in torch 2.13
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        source = model if all(p.device.type == "cpu" for p in model.parameters()) else copy.deepcopy(model).cpu()
        quantized = torch.ao.quantization.quantize_dynamic(source, {nn.Linear}, dtype=torch.qint8)  # a copy
    quantized.eval()
    _INT8_COPIES[model] = (version, quantized)
    return quantized


def _autocast(precision: str, device: torch.device):
    if precision == "bf16":
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)
    return contextlib.nullcontext()


def prepare_model(model: nn.Module, precision: str = "fp32", device: str | torch.device | None = None) -> tuple[nn.Module, torch.device]:
    """``(model_to_run, device)``: ``model`` moved to ``device``, or its int8 copy (see :func:`quantize_int8`).

    Raises:
        ValueError: an unknown precision, int8 on a GPU, or a CUDA device torch does not see.
    """
    device = select_device(device)
    _check_precision(precision, device)
    if precision == "int8":
        return quantize_int8(model), device
    if any(p.device != device for p in model.parameters()):  # all of it: a part left elsewhere (e.g. a head) would fail later
        model.to(device)
    return model, device


def _encoder(model: nn.Module) -> nn.Module:
    """The encoder of any HeartBert model (itself for ``HeartBertModel``, ``.roberta`` for MLM and heads)."""
    return getattr(model, getattr(model, "base_model_prefix", ""), None) or model


# ------------------------------------------------------------------ chunking
def chunk_bounds(n_tokens: int, max_tokens: int, balanced: bool = True) -> list[tuple[int, int]]:
    """Cut ``n_tokens`` content tokens into ``[start, stop)`` chunks of at most ``max_tokens``.

    ``balanced=False`` is the tokenizer's overflow (``L, L, …, rest``); ``balanced=True`` uses the
    same number of chunks, ``ceil(n_tokens / max_tokens)``, with sizes that differ by at most one.
    Either way every token is in exactly one chunk, in order.

    Raises:
        ValueError: ``max_tokens < 1``.
    """
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be at least 1, got {max_tokens} (max_length leaves no room beside <s> and </s>).")
    if n_tokens <= 0:
        return []
    if not balanced:
        return [(s, min(s + max_tokens, n_tokens)) for s in range(0, n_tokens, max_tokens)]
    n_chunks = -(-n_tokens // max_tokens)
    base, extra = divmod(n_tokens, n_chunks)
    bounds, start = [], 0
    for i in range(n_chunks):
        stop = start + base + (1 if i < extra else 0)
        bounds.append((start, stop))
        start = stop
    return bounds


def window_sequences(content_ids: Sequence[int], max_length: int, bos_id: int, eos_id: int, balanced: bool = True) -> list[list[int]]:
    """One window's content ids (no special tokens) → sequences ``<s> chunk </s>`` of at most ``max_length`` ids."""
    ids = list(content_ids)
    return [[bos_id, *ids[a:b], eos_id] for a, b in chunk_bounds(len(ids), max_length - 2, balanced)]


# ------------------------------------------------------------------ the batched forward pass
def _batch_order(lengths: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Sequence indices grouped into batches of similar length (longest first)."""
    order = np.argsort(-lengths, kind="stable")
    return [order[s : s + batch_size] for s in range(0, len(order), batch_size)]


def _checked_ids(i: int, sequence, vocab_size: int | None) -> np.ndarray:
    """Sequence ``i`` as a 1-D integer array inside the vocabulary (:func:`quantization.checked_ids`).

    Raises:
        ValueError: naming sequence ``i`` and the position: an id outside the vocabulary (torch's bare
            "index out of range in self" otherwise) or not an integer (floats were silently truncated,
            5.5 → 5), or a sequence that is not flat.
    """
    ids = checked_ids(
        sequence,
        vocab_size,
        f"sequence {i}",
        owner="this model's vocabulary",
        hint=" The ids come from another tokenizer than the one the model was trained with.",
    )
    if ids.ndim != 1:
        raise ValueError(f"sequence {i} is not a flat list of token ids (an array of shape {ids.shape}): pass one list of ids per sequence.")
    return ids


def _run_batches(
    model,
    sequences: Sequence[Sequence[int]],
    forward,
    *,
    batch_size: int | None,
    device: torch.device,
    precision: str,
    pad_id: int,
    extra: np.ndarray | None = None,
    on_batch: Callable[[np.ndarray], None] | None = None,
) -> np.ndarray:
    """Run ``forward(model, ids, mask, extra_batch) -> (batch, d)`` over length-sorted batches; rows in input order.

    ``on_batch`` is called after each forward pass with the indices (into ``sequences``) it ran.
    """
    lengths = np.fromiter((len(s) for s in sequences), dtype=np.int64, count=len(sequences))
    if len(lengths) and lengths.min() == 0:
        raise ValueError(f"sequence {int(np.argmin(lengths))} is empty; every sequence needs at least one token.")
    if batch_size is None:
        batch_size = GPU_BATCH_SIZE if device.type == "cuda" else max(1, CPU_BATCH_TOKENS // int(lengths.max(initial=1)))
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    vocab_size = getattr(getattr(model, "config", None), "vocab_size", None)
    out = None
    with torch.inference_mode(), _autocast(precision, device):
        for idx in _batch_order(lengths, batch_size):
            width = int(lengths[idx].max())
            ids = torch.full((len(idx), width), pad_id, dtype=torch.long)  # (batch, width)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for row, i in enumerate(idx):
                ids[row, : lengths[i]] = torch.as_tensor(_checked_ids(int(i), sequences[i], vocab_size), dtype=torch.long)
                mask[row, : lengths[i]] = 1
            padded = bool((lengths[idx] < width).any())
            batch_extra = None if extra is None else torch.as_tensor(extra[idx], dtype=torch.float32).to(device)
            result = forward(model, ids.to(device), mask.to(device) if padded else None, batch_extra)  # (batch, d)
            result = result.float().cpu().numpy()
            if out is None:
                out = np.empty((len(lengths), result.shape[1]), dtype=np.float32)
            out[idx] = result
            if on_batch is not None:
                on_batch(idx)
    return out if out is not None else np.empty((0, 0), dtype=np.float32)


def _pooled(encoder, ids, mask, _extra):
    hidden = encoder(input_ids=ids, attention_mask=mask, return_dict=True).last_hidden_state  # (batch, seq, hidden)
    return mean_pool(hidden.float(), mask)  # (batch, hidden)


def _logits(model, ids, mask, extra):
    kwargs = {} if extra is None else {"rhythm_features": extra}
    return model(input_ids=ids, attention_mask=mask, return_dict=True, **kwargs).logits  # (batch, classes)


@contextlib.contextmanager
def _eval_mode(model: nn.Module):
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def encode_sequences(
    model: nn.Module,
    sequences: Sequence[Sequence[int]],
    *,
    batch_size: int | None = None,
    precision: str = "fp32",
    device: str | torch.device | None = None,
    pad_token_id: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> np.ndarray:
    """Masked-mean embedding of each token-id sequence: ``(n_sequences, hidden)`` float32.

    Args:
        model: any HeartBert model; its encoder is used (an MLM or classifier head is skipped).
        sequences: token ids with their special tokens, any lengths up to the model's positions.
        batch_size, precision, device: see the module doc.
        pad_token_id: id used for padding (default ``config.pad_token_id``, else 1).
        progress: called after each forward pass with the number of sequences it ran (e.g. a
            progress bar's ``update``).
    """
    encoder = _encoder(model)
    pad = pad_token_id if pad_token_id is not None else (getattr(encoder.config, "pad_token_id", None) or 1)
    with _eval_mode(encoder):
        runner, device = prepare_model(encoder, precision, device)
        on_batch = None if progress is None else (lambda idx: progress(len(idx)))
        return _run_batches(runner, sequences, _pooled, batch_size=batch_size, device=device, precision=precision, pad_id=pad, on_batch=on_batch)


def sequence_logits(
    model: nn.Module,
    sequences: Sequence[Sequence[int]],
    *,
    batch_size: int | None = None,
    precision: str = "fp32",
    device: str | torch.device | None = None,
    rhythm_features=None,
) -> np.ndarray:
    """Classifier logits of each sequence: ``(n_sequences, num_labels)`` float32.

    Args:
        model: a HeartBert classifier (any head); called with ``input_ids``, ``attention_mask``
            and, when given, ``rhythm_features``.
        sequences: token ids with their special tokens.
        rhythm_features: ``(n_sequences, n_features)`` numbers passed to the model row by row
            (the rhythm input of heads that take one), or ``None``.
    """
    extra = None
    if rhythm_features is not None:
        extra = np.asarray(rhythm_features, dtype=np.float32)
        if extra.ndim != 2 or len(extra) != len(sequences):
            raise ValueError(f"rhythm_features must be (n_sequences, n_features) = ({len(sequences)}, k); got shape {extra.shape}.")
    pad = getattr(model.config, "pad_token_id", None)
    with _eval_mode(model):
        runner, device = prepare_model(model, precision, device)
        return _run_batches(
            runner, sequences, _logits, batch_size=batch_size, device=device, precision=precision, pad_id=1 if pad is None else pad, extra=extra
        )


# ------------------------------------------------------------------ classification
def to_probs(logits: np.ndarray, problem_type: str | None) -> np.ndarray:
    """Sigmoid (``problem_type == "multi_label_classification"``) or softmax of ``(n, classes)`` logits, float64.

    Raises:
        ValueError: ``problem_type == "regression"`` (no probabilities).
    """
    if problem_type == "regression":
        raise ValueError("a regression model has no class probabilities; use sequence_logits.")
    logits = np.asarray(logits, dtype=np.float64)
    if problem_type == "multi_label_classification":
        return 1.0 / (1.0 + np.exp(-logits))
    z = np.exp(logits - logits.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


def aggregate(example_ids, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean of ``values`` rows per example: ``(sorted unique example ids, (n_examples, d))``."""
    ids = np.asarray(example_ids)
    values = np.asarray(values, dtype=np.float64)
    if len(ids) != len(values):
        raise ValueError(f"{len(ids)} example ids for {len(values)} rows.")
    uniq, inverse = np.unique(ids, return_inverse=True)
    sums = np.zeros((len(uniq), values.shape[1]))
    np.add.at(sums, inverse, values)
    return uniq, sums / np.bincount(inverse)[:, None]


def _sequences_of(inputs) -> tuple[list, np.ndarray | None]:
    """``(sequences, example_ids or None)`` from id lists, a mapping / BatchEncoding / Dataset."""
    if isinstance(inputs, Mapping) or hasattr(inputs, "column_names"):
        names = set(inputs.keys()) if isinstance(inputs, Mapping) else set(inputs.column_names)
        if "input_ids" not in names:
            raise ValueError(f"inputs have no 'input_ids' (found {sorted(names)}).")
        ids = inputs["input_ids"]
        owner_key = next((k for k in ("example_id", "overflow_to_sample_mapping") if k in names), None)
        owners = None if owner_key is None else np.asarray(list(inputs[owner_key]))
        if "attention_mask" in names:  # padded rows: keep the attended positions only
            masks = inputs["attention_mask"]
            sequences = [np.asarray(row)[np.asarray(m, dtype=bool)] for row, m in zip(ids, masks)]
        else:
            sequences = list(ids)
        return sequences, owners
    if isinstance(inputs, torch.Tensor):
        raise TypeError("a bare input_ids tensor is ambiguous about padding; pass {'input_ids': ..., 'attention_mask': ...} or a list of id lists.")
    return list(inputs), None


def predict_proba(
    model: nn.Module,
    inputs,
    example_ids=None,
    *,
    batch_size: int | None = None,
    precision: str = "fp32",
    device: str | torch.device | None = None,
    rhythm_features=None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-example class probabilities, averaged over each example's sequences.

    Args:
        model: a fine-tuned HeartBert classifier (any head); ``config.problem_type`` chooses
            sigmoid (multi-label) or softmax.
        inputs: a list of token-id sequences, or a mapping / ``BatchEncoding`` / ``datasets.Dataset``
            with ``input_ids`` (padded rows need ``attention_mask``) and optionally
            ``example_id`` or ``overflow_to_sample_mapping``.
        example_ids: the example of each sequence; default: the ``example_id`` /
            ``overflow_to_sample_mapping`` of ``inputs``, else one example per sequence.
        rhythm_features: ``(n_sequences, n_features)``, passed to the model (see :func:`sequence_logits`).

    Returns:
        ``(example_ids, probs)``: the sorted unique example ids and ``(n_examples, num_labels)``
        float64 probabilities (the plain mean of the sequences' probabilities, as fine-tuning scores them).
    """
    sequences, owners = _sequences_of(inputs)
    if example_ids is not None:
        owners = np.asarray(list(example_ids))
    if owners is None:
        owners = np.arange(len(sequences))
    if len(owners) != len(sequences):
        raise ValueError(f"{len(owners)} example ids for {len(sequences)} sequences.")
    if not sequences:
        return np.asarray([], dtype=np.int64), np.empty((0, int(model.config.num_labels)))
    logits = sequence_logits(model, sequences, batch_size=batch_size, precision=precision, device=device, rhythm_features=rhythm_features)
    return aggregate(owners, to_probs(logits, model.config.problem_type))


# ------------------------------------------------------------------ ECG → window embeddings
class WindowEmbeddings(NamedTuple):
    """One embedding per (lead, window), in the order ``(window, lead)``."""

    embeddings: np.ndarray  # (n_windows, hidden) float32
    lead_index: np.ndarray  # (n_windows,) int64
    window_index: np.ndarray  # (n_windows,) int64, counted from the record's start
    n_sequences: np.ndarray  # (n_windows,) int64, sequences the window was split into


def _max_length(model: nn.Module, max_length: int | None) -> int:
    limit = int(_encoder(model).config.max_position_embeddings) - 2
    if max_length is None:
        return min(limit, 512)
    if not 3 <= max_length <= limit:
        raise ValueError(f"max_length must be between 3 and the model's {limit} token positions, got {max_length}.")
    return int(max_length)


def _window_counter(owner: np.ndarray, n_windows: int, progress: Callable[[int], None]) -> Callable[[np.ndarray], None]:
    """An ``on_batch`` for :func:`_run_batches` that calls ``progress(windows finished by this batch)``."""
    remaining = np.bincount(owner, minlength=n_windows)  # sequences still to run, per window

    def on_batch(idx: np.ndarray) -> None:
        before = remaining > 0
        remaining[:] -= np.bincount(owner[idx], minlength=n_windows)
        progress(int((before & (remaining == 0)).sum()))

    return on_batch


def iter_embeddings(
    model: nn.Module,
    preprocessor,
    ecg,
    sampling_rate: float,
    *,
    batch_size: int | None = None,
    precision: str = "fp32",
    balanced_chunks: bool = True,
    max_length: int | None = None,
    device: str | torch.device | None = None,
    windows_per_block: int = DEFAULT_WINDOWS_PER_BLOCK,
    drop_flat: bool = False,
    name: str | None = "ecg",
    progress: Callable[[int], None] | None = None,
) -> Iterator[WindowEmbeddings]:
    """Stream the window embeddings of one ECG, one :class:`WindowEmbeddings` per block.

    Memory is bounded by one block (``windows_per_block`` windows per lead) and one batch
    (``batch_size`` sequences of ``max_length`` tokens), whatever the record's length.

    Args:
        model: any HeartBert model (its encoder is used).
        preprocessor: its fitted ``HeartBertProcessor`` (or ``HeartBertTokenizer``).
        ecg, sampling_rate, windows_per_block, drop_flat, name: see :func:`iter_window_tokens`.
        batch_size: sequences per forward pass (``None``: :data:`CPU_BATCH_TOKENS` tokens on CPU,
            :data:`GPU_BATCH_SIZE` sequences on a GPU).
        precision: ``"fp32"``, ``"bf16"`` or ``"int8"`` (CPU).
        balanced_chunks: split long windows into near-equal sequences (else ``L, L, rest``).
        max_length: tokens per sequence, specials included (default: the model's positions - 2, at most 512).
        device: ``None`` chooses CUDA when present.
        progress: called after each forward pass with the number of windows it finished (a window
            is finished when the last of its sequences has run), e.g. a progress bar's ``update``;
            over the whole ECG the calls add up to the number of windows embedded.
    """
    tokenizer = getattr(preprocessor, "tokenizer", preprocessor)
    bos, eos = tokenizer.cls_token_id, tokenizer.sep_token_id
    length = _max_length(model, max_length)
    encoder = _encoder(model)
    pad = tokenizer.pad_token_id
    with _eval_mode(encoder):
        runner, device = prepare_model(encoder, precision, device)
        for windows in iter_window_tokens(preprocessor, ecg, sampling_rate, windows_per_block=windows_per_block, drop_flat=drop_flat, name=name):
            sequences, owner = [], []
            for i, window in enumerate(windows):
                pieces = window_sequences(window.ids, length, bos, eos, balanced_chunks)
                sequences += pieces
                owner += [i] * len(pieces)
            if not sequences:
                continue
            owner = np.asarray(owner)
            on_batch = None if progress is None else _window_counter(owner, len(windows), progress)
            pooled = _run_batches(runner, sequences, _pooled, batch_size=batch_size, device=device, precision=precision, pad_id=pad, on_batch=on_batch)
            weights = np.fromiter((len(s) for s in sequences), dtype=np.float64, count=len(sequences))
            sums = np.zeros((len(windows), pooled.shape[1]))
            np.add.at(sums, owner, pooled * weights[:, None])
            totals = np.bincount(owner, weights=weights, minlength=len(windows))
            yield WindowEmbeddings(
                (sums / totals[:, None]).astype(np.float32),
                np.asarray([w.lead for w in windows], dtype=np.int64),
                np.asarray([w.window for w in windows], dtype=np.int64),
                np.bincount(owner, minlength=len(windows)).astype(np.int64),
            )


def embed_ecg(model: nn.Module, preprocessor, ecg, sampling_rate: float, **kwargs) -> WindowEmbeddings:
    """All window embeddings of one ECG (see :func:`iter_embeddings` for the arguments).

    Returns:
        :class:`WindowEmbeddings`: ``embeddings`` ``(n_windows, hidden)`` float32, and per row its
        ``lead_index``, ``window_index`` and ``n_sequences``. Memory: one block and one batch at a
        time plus the output (``n_windows x hidden x 4`` bytes).
    """
    parts = list(iter_embeddings(model, preprocessor, ecg, sampling_rate, **kwargs))
    if not parts:
        hidden = int(_encoder(model).config.hidden_size)
        empty = np.empty(0, dtype=np.int64)
        return WindowEmbeddings(np.empty((0, hidden), dtype=np.float32), empty, empty.copy(), empty.copy())
    return WindowEmbeddings(*(np.concatenate(field) for field in zip(*parts)))
