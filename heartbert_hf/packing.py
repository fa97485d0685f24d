"""Sequence packing for masked-LM pretraining, and masking that does not depend on the process layout.

:class:`PackFunction` is a batched ``Dataset.map`` function: it joins the token sequences of
consecutive rows into one stream (the pieces of one chunked window are joined directly, different
windows are separated by ``</s>``) and cuts the stream into blocks of exactly ``block_size``
tokens, ``<s> … </s>``. Every content token lands in exactly one block; only the last block of
each map batch can be short, and it is padded. So no signal is dropped and padding is at most one
block per ``batch_size`` input rows.

:class:`PackedMLMCollator` is ``DataCollatorForLanguageModeling`` with one change: the random
mask of a block is drawn from a generator seeded by ``(seed, block uid, epoch)``. A block is then
masked the same way whatever process or batch it lands in, so 1- and 2-process runs see the same
masked positions, and evaluation blocks are masked the same way at every evaluation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from transformers import DataCollatorForLanguageModeling


class PackFunction:
    """Batched ``map`` function: rows of ``input_ids`` (each ``<s> … </s>``) → full-length blocks.

    Args:
        block_size: tokens per block, the two special tokens included.
        bos_id, eos_id, pad_id: ids of ``<s>``, ``</s>`` and ``<pad>``.
        continuation_columns: columns whose equality between consecutive rows means "the same
            window, cut by the tokenizer's max length": those rows are joined with no separator.
    """

    def __init__(
        self, block_size: int, bos_id: int, eos_id: int, pad_id: int, continuation_columns: tuple[str, ...] = ("record_id", "lead_index", "window_index")
    ):
        if block_size < 3:
            raise ValueError(f"block_size must be at least 3, got {block_size}.")
        self.block_size, self.bos_id, self.eos_id, self.pad_id = int(block_size), int(bos_id), int(eos_id), int(pad_id)
        self.continuation_columns = tuple(continuation_columns)

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        keys = [c for c in self.continuation_columns if c in batch]
        stream: list[int] = []
        n_content = 0
        previous = None
        for i, ids in enumerate(batch["input_ids"]):
            content = list(ids)
            if content and content[0] == self.bos_id:
                content = content[1:]
            if content and content[-1] == self.eos_id:
                content = content[:-1]
            key = tuple(batch[c][i] for c in keys) if keys else None
            if stream and (key is None or key != previous):
                stream.append(self.eos_id)  # a window boundary
            stream += content
            n_content += len(content)
            previous = key
        body = self.block_size - 2
        out = {"input_ids": [], "attention_mask": [], "n_content_tokens": [], "n_pad": []}
        for start in range(0, len(stream), body):
            piece = stream[start : start + body]
            block = [self.bos_id] + piece + [self.eos_id]
            pad = self.block_size - len(block)
            out["input_ids"].append(block + [self.pad_id] * pad)
            out["attention_mask"].append([1] * len(block) + [0] * pad)
            out["n_content_tokens"].append(sum(1 for t in piece if t != self.eos_id))
            out["n_pad"].append(pad)
        assert sum(out["n_content_tokens"]) == n_content  # every token is in exactly one block
        return out


def pack_dataset(dataset, block_size: int, tokenizer, batch_size: int = 1000, num_proc: int | None = None, uid_offset: int = 0, desc: str = "Packing"):
    """Pack a tokenized ``Dataset`` into full blocks and add a ``uid`` column (row index + ``uid_offset``)."""
    fn = PackFunction(block_size, tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id)
    packed = dataset.map(fn, batched=True, batch_size=batch_size, remove_columns=dataset.column_names, num_proc=num_proc, desc=desc)
    return packed.map(lambda b, idx: {"uid": [uid_offset + i for i in idx]}, batched=True, with_indices=True, desc="Numbering blocks")


@dataclass
class PackedMLMCollator(DataCollatorForLanguageModeling):
    """MLM collator whose masks depend only on ``(seed, uid, epoch)`` of each block.

    Rows carry a ``uid`` column (dropped here). Negative uids (evaluation blocks) ignore the epoch,
    so evaluation always masks the same positions. Set ``epoch`` from a callback for dynamic
    masking across epochs. ``mask_replace_prob`` / ``random_replace_prob`` are the usual 80/10/10.
    """

    mask_seed: int = 0
    epoch: int = 0

    def torch_call(self, examples):
        uids = [int(e.pop("uid")) for e in examples] if examples and "uid" in examples[0] else None
        if uids is None:
            return super().torch_call(examples)
        for e in examples:
            for extra in ("n_content_tokens", "n_pad"):
                e.pop(extra, None)
        self._uids = uids
        try:
            return super().torch_call(examples)
        finally:
            self._uids = None

    def _row_generators(self, n_rows):
        uids = getattr(self, "_uids", None)
        if uids is None or len(uids) != n_rows:
            return None
        gens = []
        for uid in uids:
            epoch = 0 if uid < 0 else self.epoch
            gens.append(torch.Generator().manual_seed(int(np.uint64(hash((self.mask_seed, uid, epoch)) & 0x7FFFFFFFFFFF))))
        return gens

    def torch_mask_tokens(self, inputs, special_tokens_mask=None, offset_mapping=None):
        gens = self._row_generators(inputs.shape[0])
        if gens is None:
            return super().torch_mask_tokens(inputs, special_tokens_mask)
        labels = inputs.clone()
        if special_tokens_mask is None:
            special = torch.tensor([self.tokenizer.get_special_tokens_mask(v, already_has_special_tokens=True) for v in labels.tolist()], dtype=torch.bool)
        else:
            special = special_tokens_mask.bool()
        # per row, from the row's own generator: three uniform draws and one random token per position
        seq = inputs.shape[1]
        draws, tokens = [], []
        for g in gens:
            draws.append(torch.rand((3, seq), generator=g))
            tokens.append(torch.randint(len(self.tokenizer), (seq,), generator=g, dtype=inputs.dtype))
        draws = torch.stack(draws, dim=1)  # (3, batch, seq)
        tokens = torch.stack(tokens)  # (batch, seq)
        masked = (draws[0] < self.mlm_probability) & ~special
        labels[~masked] = -100
        mask_prob = self.mask_replace_prob
        random_prob = self.random_replace_prob / (1 - mask_prob) if mask_prob < 1 else 0.0
        to_mask = masked & (draws[1] < mask_prob)
        inputs[to_mask] = self.tokenizer.convert_tokens_to_ids(self.tokenizer.mask_token)
        to_random = masked & ~to_mask & (draws[2] < random_prob)
        inputs[to_random] = tokens[to_random]
        return inputs, labels
