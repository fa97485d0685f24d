"""Checks of the HF tokenizer options HeartBertTokenizer takes (truncation, max_length, stride, padding), and the
options that apply to level text only; the resolution of truncation for ECG windows.

Split from ``tokenization_heartbert.py`` (one concern: argument checking). Travels as remote code with it:
relative imports only, transformers at module level.
"""

from __future__ import annotations

import numbers

from transformers.tokenization_utils_base import TruncationStrategy

TEXT_ONLY_KWARGS = ("is_split_into_words", "text_target", "text_pair_target", "text_pair")
"""Arguments of a text tokenizer that have no meaning for ``ecg=`` input (refused there, not ignored)."""


def ecg_encode_kwargs(tokenizer, kwargs: dict) -> dict:
    """Resolve truncation for ECG windows in place: ``max_length`` always bounds the sequences.

    Raises:
        TypeError: a text-only argument (:data:`TEXT_ONLY_KWARGS`) given with ``ecg``.
        ValueError: the option errors of :func:`check_options` and :func:`check_lengths`.
    """
    text_only = sorted(k for k in TEXT_ONLY_KWARGS if kwargs.get(k) not in (None, False))
    if text_only:
        raise TypeError(
            f"{', '.join(text_only)} {'applies' if len(text_only) == 1 else 'apply'} to level text only, not to ecg=...: each ECG window is one sequence that HeartBert "
            "writes itself (is_split_into_words would read a window's text as pre-split words and lose which lead and window "
            "each sequence came from). Leave them out, or tokenize level text instead."
        )
    check_options(kwargs)
    if kwargs.get("max_length") is not None and kwargs.get("truncation") in (False, "do_not_truncate"):
        raise ValueError(
            f"max_length={kwargs['max_length']} with truncation=False: an ECG window is usually longer than that and "
            "would come back longer than max_length. Pass truncation=True (long windows are split into several "
            "sequences) or leave max_length out."
        )
    if kwargs.get("max_length") is not None and kwargs.get("truncation") is None:
        kwargs["truncation"] = True  # max_length bounds every ECG sequence, padding or not
    if tokenizer._strategies(kwargs)[1] != TruncationStrategy.DO_NOT_TRUNCATE:
        check_lengths(tokenizer, kwargs)
        kwargs.setdefault("return_overflowing_tokens", True)
    return kwargs


def check_options(kwargs: dict, pair: bool = False) -> None:
    """Check ``truncation``, ``pad_to_multiple_of`` and ``stride`` in place, as transformers' own tokenizers take them.

    Measured on a RoBERTa tokenizer of transformers 5.24 (the backend ``tokenizers`` 0.23):

    * ``pad_to_multiple_of=0`` pads without rounding, like ``None`` (the ECG path divided by it:
      ``ZeroDivisionError``); it is set to ``None`` here. A negative or non-integer value raised
      ``OverflowError`` / ``TypeError`` from inside transformers for text too.
    * ``truncation="only_second"`` cuts the second sequence of a text pair; on one sequence the
      backend raised ``Exception: Truncation error: Second sequence not provided`` (RoBERTa's too).
      ECG windows and single level texts are one sequence each: ``True`` / ``"longest_first"`` and
      ``"only_first"`` (the same thing there) are the strategies that apply.
    * a negative ``stride`` overflowed in Rust (``OverflowError``).

    Raises:
        ValueError: naming the option, the value given and the values allowed.
    """
    multiple = kwargs.get("pad_to_multiple_of")
    if multiple is not None:
        if isinstance(multiple, bool) or not isinstance(multiple, numbers.Integral) or multiple < 0:
            raise ValueError(f"pad_to_multiple_of={multiple!r}: pass a positive integer (e.g. 8), or None / 0 to pad without rounding.")
        if multiple == 0:
            kwargs["pad_to_multiple_of"] = None
    if kwargs.get("truncation") == TruncationStrategy.ONLY_SECOND and not pair:
        raise ValueError(
            "truncation='only_second' truncates the second sequence of a text pair, and this input is one sequence "
            "(an ECG window, or one level text). Pass truncation=True (the same as 'longest_first' or 'only_first' "
            "for one sequence), or False / 'do_not_truncate'."
        )
    stride = kwargs.get("stride", 0)
    if isinstance(stride, bool) or not isinstance(stride, numbers.Integral) or stride < 0:
        raise ValueError(
            f"stride={stride!r}: pass a non-negative integer, the number of tokens each overflow sequence repeats from "
            "the end of the one before (0: none), smaller than max_length minus the 2 special tokens."
        )


def check_lengths(tokenizer, kwargs: dict, pair: bool = False) -> None:
    """Refuse a truncating ``max_length`` with no room for content after the special tokens, and a ``stride``
    of at least the content tokens per sequence (``max_length`` minus the special tokens).

    The backend does not truncate at all below that (``max_length`` 0 or 1 gave whole windows of
    thousands of tokens; 2 gave empty ``<s></s>`` sequences), and a negative one overflows in Rust.
    ``stride == max_length - 2`` made the backend panic (``pyo3_runtime.PanicException``, which
    ``except Exception`` does not catch) on both the ECG and the level-text route.

    Raises:
        ValueError: naming ``max_length`` (and ``stride``, with the largest stride allowed).
    """
    max_length = kwargs.get("max_length")
    add_special = kwargs.get("add_special_tokens", True)
    specials = tokenizer.num_special_tokens_to_add(pair=pair) if add_special else 0
    if max_length is not None and (isinstance(max_length, bool) or not isinstance(max_length, numbers.Integral) or max_length <= specials):
        raise ValueError(
            f"max_length={max_length!r}: truncating needs an integer max_length of at least {specials + 1} (each sequence "
            f"holds {specials} special tokens plus content), e.g. the model's 512."
        )
    stride = kwargs.get("stride", 0) or 0
    effective = tokenizer._strategies(kwargs)[2]  # max_length, or the model_max_length truncation=True falls back to
    specials = tokenizer.num_special_tokens_to_add(pair=pair)  # also with add_special_tokens=False, as transformers' own check counts
    if stride and effective is not None and stride >= effective - specials:
        # transformers checks stride >= max_length - specials only for pairs' longest_first, and then off by one;
        # the Rust backend panics (pyo3 PanicException, a BaseException, with backtraces) at stride == max_length - specials
        raise ValueError(
            f"stride={stride} with max_length={effective}: each overflow sequence repeats stride tokens of the one before and "
            f"holds max_length - {specials} special tokens = {effective - specials} content tokens, so stride must be smaller: "
            f"the largest allowed stride is {effective - specials - 1}. Pass a smaller stride or a larger max_length."
        )
