"""``heartbert embed``: one pooled HeartBert vector per ECG window, to Parquet.

    heartbert embed --model PATH --input 101 208 --output emb.parquet        # WFDB records
    heartbert embed --model PATH --input records_dir/ --output emb.parquet    # every *.hea in a folder
    heartbert embed --model PATH --input saved_dataset/ --output emb.parquet  # Dataset.save_to_disk

Each record (or dataset row) is cut into the tokenizer's windows (per lead); a window whose tokens
exceed ``max_length`` becomes several sequences, and its embedding is the token-weighted mean of
their masked-mean embeddings, i.e. the mean over all of the window's tokens. Rows: ``record_id``,
``example`` (row of a dataset input, else 0), ``lead``, ``lead_name``, ``window``,
``start_sample`` (in the input's own sampling rate), ``n_sequences``, ``embedding`` (float32 list).

``pipeline("feature-extraction")`` is not used: it takes text, not (signal, sampling rate), and
returns token states rather than one vector per window, so it would need a custom pipeline class
for less than this function does.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


@dataclass
class EmbedArguments:
    """Options of ``heartbert embed``."""

    model: str = field(metadata={"help": "HeartBert folder or Hub id (pretrained or fine-tuned) with its tokenizer"})
    input: list[str] = field(metadata={"help": "WFDB record paths (with or without .hea), folders of records, or a Dataset.save_to_disk folder"})
    output: str = field(default="embeddings.parquet", metadata={"help": "Parquet file to write"})
    leads: list[str] | None = field(default=None, metadata={"help": "WFDB lead names to keep (default: all)"})
    split: str | None = field(default=None, metadata={"help": "split of a saved DatasetDict (default: all splits)"})
    max_length: int = field(default=0, metadata={"help": "tokens per sequence (0: the model's positions - 2, at most 512)"})
    batch_size: int = field(default=32, metadata={"help": "sequences per forward pass"})


def _iter_inputs(inputs: list[str], leads: list[str] | None, split: str | None):
    """Yield ``(record_id, example, signal (leads, samples), fs, lead_names)`` for every input."""
    from .data.wfdb_io import list_local_records, read_record

    for item in inputs:
        path = Path(item)
        if path.is_dir() and ((path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file()):
            yield from _iter_dataset(path, split)
        elif path.is_dir():
            names = list_local_records(path)
            if not names:
                raise FileNotFoundError(f"no WFDB records (*.hea) in {path}.")
            for name in names:
                rec = read_record(path / name, leads=leads)
                yield rec.record_id, 0, rec.signal, rec.sampling_rate, rec.lead_names
        else:
            stem = path.with_suffix("") if path.suffix in (".hea", ".dat") else path
            if not stem.with_name(stem.name + ".hea").is_file():
                raise FileNotFoundError(f"input {item} is neither a WFDB record (no {stem}.hea), a folder of records, nor a saved dataset.")
            rec = read_record(stem, leads=leads)
            yield rec.record_id, 0, rec.signal, rec.sampling_rate, rec.lead_names


def _iter_dataset(path: Path, split: str | None):
    import datasets

    loaded = datasets.load_from_disk(str(path))
    parts = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [(None, loaded)]
    for name, ds in parts:
        if split is not None and name is not None and name != split:
            continue
        missing = {"signal", "sampling_rate"} - set(ds.column_names)
        if missing:
            raise ValueError(f"dataset {path} ({name or 'dataset'}) lacks column(s) {sorted(missing)}.")
        for i, row in enumerate(ds):
            record = str(row.get("record_id", f"{name or 'row'}"))
            signal = np.asarray(row["signal"], dtype=np.float64)
            yield record, i, signal, float(row["sampling_rate"]), list(row.get("lead_names") or [])


def embed_windows(model, tokenizer, signal, sampling_rate: float, max_length: int, batch_size: int = 32) -> list[dict]:
    """Embed one ECG: one dict per (lead, window) with ``lead``, ``window``, ``n_sequences``, ``embedding``.

    Args:
        model: a ``HeartBertModel`` (``pooler_output`` is the masked mean).
        tokenizer: its ``HeartBertTokenizer``.
        signal: ``(leads, samples)`` or 1-D.
        sampling_rate: Hz.
        max_length: tokens per sequence.
        batch_size: sequences per forward pass.
    """
    import torch

    enc = tokenizer(ecg=[signal], sampling_rate=sampling_rate, truncation=True, max_length=max_length, padding=True, return_tensors="pt")
    pooled, weights = [], []
    with torch.no_grad():
        for s in range(0, enc["input_ids"].shape[0], batch_size):
            ids, mask = enc["input_ids"][s : s + batch_size], enc["attention_mask"][s : s + batch_size]
            pooled.append(model(input_ids=ids, attention_mask=mask).pooler_output.float().numpy())  # (batch, hidden)
            weights.append(mask.sum(dim=1).numpy())
    pooled, weights = np.concatenate(pooled), np.concatenate(weights).astype(np.float64)
    keys = list(zip(enc["lead_index"].tolist(), enc["window_index"].tolist()))
    rows: dict[tuple[int, int], list[int]] = {}
    for i, key in enumerate(keys):
        rows.setdefault(key, []).append(i)
    out = []
    for (lead, window), idx in sorted(rows.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        w = weights[idx]
        vector = (pooled[idx] * w[:, None]).sum(axis=0) / w.sum()
        out.append({"lead": lead, "window": window, "n_sequences": len(idx), "embedding": vector.astype(np.float32)})
    return out


def embed(args: EmbedArguments) -> "object":
    """Run ``heartbert embed``; returns the written ``pandas.DataFrame``."""
    import pandas as pd
    from tqdm.auto import tqdm
    from transformers import AutoModel

    from . import HeartBertConfig  # noqa: F401  (registers the Auto classes)
    from .finetune import load_heartbert_tokenizer, resolve_max_length

    tokenizer = load_heartbert_tokenizer(args.model)
    model = AutoModel.from_pretrained(args.model).eval()
    max_length = resolve_max_length(args.max_length, model.config)
    step = tokenizer.window_size / tokenizer.target_rate
    records = []
    for record_id, example, signal, fs, lead_names in tqdm(_iter_inputs(args.input, args.leads, args.split), desc="Embedding", unit="ecg"):
        for row in embed_windows(model, tokenizer, signal, fs, max_length, args.batch_size):
            lead = row["lead"]
            records.append(
                {
                    "record_id": record_id,
                    "example": example,
                    "lead": lead,
                    "lead_name": lead_names[lead] if lead < len(lead_names) else str(lead),
                    "window": row["window"],
                    "start_sample": int(round(row["window"] * step * fs)),
                    "n_sequences": row["n_sequences"],
                    "embedding": row["embedding"].tolist(),
                }
            )
    if not records:
        raise ValueError(f"no windows to embed in {args.input}.")
    frame = pd.DataFrame.from_records(records)
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(args.output, index=False)
    return frame


def main(argv: list[str] | None = None) -> int:
    """``heartbert embed``: parse ``argv`` and run (see the module doc).

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).
    """
    from transformers import HfArgumentParser

    parser = HfArgumentParser(EmbedArguments, prog="heartbert embed", description=__doc__.split("\n\n")[0])
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    try:
        frame = embed(args)
    except (ValueError, FileNotFoundError) as err:
        print(f"heartbert embed: error: {err}", file=sys.stderr)
        return 2
    print(f"{len(frame)} window embeddings of size {len(frame['embedding'].iloc[0])} from {frame['record_id'].nunique()} record(s) → {args.output}")
    return 0
