"""The pretraining corpus as a library: PhysioNet sources → raw signals → patient-wise split →
packed token blocks, with the counts a model card reports (share of samples used, padding).

Used by ``heartbert pretrain``; importable on its own. ``datasets`` and the PhysioNet readers are
imported inside the functions that need them.

    from heartbert_hf.data.corpus import load_corpus, split_by_patient, tokenize_and_pack
    dsd = load_corpus("mitdb,ptbxl", data_dirs={"mitdb": "/data/mitdb", "ptbxl": "/data/ptb-xl"}, exclude="DS1")
    train, validation = split_by_patient(dsd, validation_fraction=0.1, seed=42)
"""

from __future__ import annotations

import json
from pathlib import Path

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data"  # heartbert_hf/sample_data
"""The shipped MIT-BIH excerpts (records 101, 208, 118): the ``sample`` source."""


def parse_data_dirs(text: str | None) -> dict[str, str]:
    """``'mitdb=/path,ptbxl=/path'`` → ``{"mitdb": "/path", "ptbxl": "/path"}``."""
    out = {}
    for part in filter(None, (text or "").split(",")):
        if "=" not in part:
            raise ValueError(f"--data_dirs expects name=path pairs, got {part!r}.")
        name, path = part.split("=", 1)
        out[name.strip()] = path.strip()
    return out


def load_corpus(
    sources: str = "sample",
    data_dirs: dict[str, str] | str | None = None,
    source_options: dict | str | None = None,
    cache_dir: str | None = None,
    num_proc: int | None = None,
    exclude: str | set[str] | None = None,
):
    """The raw corpus (``DatasetDict`` of signals); ``test`` splits are dropped.

    Args:
        sources: ``"sample"`` (the shipped excerpts) or a comma list of ``mitdb``, ``ptbxl``, ``edb``.
        data_dirs: local copies (``{"mitdb": path}`` or ``"mitdb=path,..."``); a source without one is downloaded.
        source_options: extra builder options per source (a dict or its JSON).
        cache_dir: ``datasets`` cache folder.
        num_proc: processes per builder.
        exclude: records/patients never used (e.g. ``"DS1"``, see :func:`excluded_records`).

    Raises:
        ValueError: bad ``data_dirs``/``source_options``, or nothing left after ``exclude``.
    """
    import datasets

    from .loading import load_physionet
    from .processing import build_pretraining_corpus

    names = [s.strip() for s in sources.split(",") if s.strip()]
    if names == ["sample"]:
        dsd = load_physionet("mitdb", "windows", data_dir=str(SAMPLE_DIR), cache_dir=cache_dir)
        dsd = datasets.DatasetDict({k: v.add_column("source", ["sample"] * len(v)) for k, v in dsd.items()})
    else:
        dirs = parse_data_dirs(data_dirs) if isinstance(data_dirs, str) or data_dirs is None else dict(data_dirs)
        options = {s: ({"data_dir": dirs[s]} if s in dirs else {}) for s in names}
        if "mitdb" in options:
            options["mitdb"]["include_paced"] = True  # unlabelled ECG is fine for pretraining
        if isinstance(source_options, str):
            try:
                source_options = json.loads(source_options)
            except json.JSONDecodeError as err:
                raise ValueError(f"--source_options is not valid JSON: {err}") from None
        for name, values in (source_options or {}).items():
            if name not in options:
                raise ValueError(f"--source_options names {name!r}, which is not among --sources {names}.")
            options[name].update(values)
        dsd = build_pretraining_corpus(options, cache_dir=cache_dir, num_proc=num_proc)
    # downstream test records never enter pretraining, nor any record the user excludes
    dsd = datasets.DatasetDict({k: v for k, v in dsd.items() if k != "test"})
    excluded = exclude if isinstance(exclude, set) else excluded_records(exclude)
    if excluded:
        dsd = datasets.DatasetDict(
            {k: v.filter(lambda r, p: r not in excluded and p not in excluded, input_columns=["record_id", "patient_id"]) for k, v in dsd.items()}
        )
        if len(dsd["train"]) == 0:
            raise ValueError(f"--exclude_records left no training data (excluded {len(excluded)} records).")
    return dsd


def excluded_records(text: str | None) -> set[str]:
    """``'DS1'`` (MIT-BIH DS1), ``'DS2'`` or record ids, comma-separated → a set of record ids."""
    from .splits import MITDB_DS1, MITDB_DS2

    named = {"ds1": MITDB_DS1, "ds2": MITDB_DS2}
    out: set[str] = set()
    for part in (text or "").split(","):
        part = part.strip()
        if part:
            out.update(named.get(part.lower(), [part]))
    return out


def split_by_patient(dsd, validation_records: str | None = None, validation_fraction: float = 0.1, seed: int = 42):
    """``(train, validation)`` with no patient (MIT-BIH: record) in both.

    Args:
        dsd: the corpus; its own ``validation`` split is used when ``validation_records`` is not given.
        validation_records: comma list of record/patient ids to hold out.
        validation_fraction: else, this share of the patients (seeded).
        seed: seed of that draw.

    Raises:
        ValueError: unknown ``validation_records``, or too few patients to hold any out.
    """
    import random

    import datasets

    train = dsd["train"]
    if "validation" in dsd and not validation_records:
        return train, dsd["validation"]
    full = datasets.concatenate_datasets([dsd[k] for k in dsd]) if len(dsd) > 1 else train
    groups = full["patient_id"] if "patient_id" in full.column_names else full["record_id"]
    unique = sorted(set(groups))
    if validation_records:
        held = {r.strip() for r in validation_records.split(",") if r.strip()}
        unknown = held - set(unique) - set(full["record_id"])
        if unknown:
            raise ValueError(f"validation_records {sorted(unknown)} are not in the corpus (have {unique[:10]}...).")
        is_val = [g in held or r in held for g, r in zip(groups, full["record_id"])]
    else:
        order = unique[:]
        random.Random(seed).shuffle(order)
        n_val = max(1, round(validation_fraction * len(order)))
        if n_val >= len(order):
            raise ValueError("too few patients/records to hold out a validation split; pass more data or validation_records.")
        held = set(order[:n_val])
        is_val = [g in held for g in groups]
    val_idx = [i for i, v in enumerate(is_val) if v]
    train_idx = [i for i, v in enumerate(is_val) if not v]
    return full.select(train_idx), full.select(val_idx)


def count_input_samples(dataset, target_rate: float) -> int:
    """Samples (all leads) the split holds after resampling to ``target_rate``: the denominator of the share used."""
    import numpy as np

    total = 0.0
    for batch in dataset.select_columns(["signal", "sampling_rate"]).iter(batch_size=64):
        for sig, fs in zip(batch["signal"], batch["sampling_rate"]):
            arr = np.asarray(sig)
            leads, n = (1, arr.shape[0]) if arr.ndim == 1 else arr.shape
            total += leads * round(n * target_rate / float(fs))
    return int(total)


def samples_per_token_table(tokenizer):
    """Token id → number of ECG samples it stands for (0 for special tokens)."""
    import numpy as np

    table = np.zeros(len(tokenizer), dtype=np.int64)
    special = set(tokenizer.all_special_ids)
    for tok, idx in tokenizer.get_vocab().items():
        if idx not in special and idx < len(table):
            table[idx] = len(tok)
    return table


def block_stats(packed, table, max_seq_length: int) -> dict:
    import numpy as np

    ids = np.asarray(packed["input_ids"], dtype=np.int64)
    mask = np.asarray(packed["attention_mask"], dtype=np.int64)
    return dict(
        blocks=int(ids.shape[0]),
        tokens=int(mask.sum()),
        pad_tokens=int((1 - mask).sum()),
        content_tokens=int(sum(packed["n_content_tokens"])),
        samples_in_blocks=int(table[ids].sum()),
        padding_share=float((1 - mask).sum() / max(1, ids.size)),
    )


def tokenize_and_pack(raw, tokenizer, max_seq_length: int, num_proc: int | None = None, pack_batch_size: int = 1000, uid_offset: int = 0, name: str = "train"):
    """Raw signals → full ``max_seq_length`` blocks (every token kept); returns ``(packed, n_chunks)``.

    ``n_chunks`` is the number of token sequences before packing. Blocks carry a ``uid`` column
    (``uid_offset`` + row) for :class:`~heartbert_hf.packing.PackedMLMCollator`.
    """
    from ..packing import pack_dataset
    from .processing import tokenize_dataset

    tok_ds = tokenize_dataset(raw, tokenizer, max_length=max_seq_length, keep_columns=["record_id"], num_proc=num_proc, desc=f"Tokenizing {name}")
    packed = pack_dataset(tok_ds, max_seq_length, tokenizer, batch_size=pack_batch_size, num_proc=num_proc, uid_offset=uid_offset, desc=f"Packing {name}")
    return packed, len(tok_ds)


def split_summary(raw, packed, n_chunks: int, tokenizer, max_seq_length: int) -> dict:
    """What the model card reports for one split: blocks, tokens, padding, records, patients, share of samples used."""
    stats = block_stats(packed, samples_per_token_table(tokenizer), max_seq_length)
    stats["input_samples"] = count_input_samples(raw, tokenizer.feature_extractor.target_rate)
    stats["samples_used_share"] = stats["samples_in_blocks"] / max(1, stats["input_samples"])
    stats["records"] = sorted(set(raw["record_id"]))
    stats["patients"] = len(set(raw["patient_id"])) if "patient_id" in raw.column_names else len(stats["records"])
    stats["examples"] = len(raw)
    stats["chunks"] = n_chunks
    return stats


BLOCK_FILES = {"train": "train_blocks.npy", "validation": "validation_blocks.npy"}
"""Files of a blocks folder (see :func:`save_blocks`), next to ``tokenizer/`` and ``data_summary.json``."""


def save_blocks(folder: str | Path, train, validation, tokenizer, summary: dict) -> Path:
    """Write packed blocks as ``.npy`` (int32 ``(blocks, max_seq_length)`` token ids), the processor (tokenizer +
    feature extractor, in ``tokenizer/``) and the summary.

    A machine with only torch + transformers (no ``datasets``, ``wfdb`` or ``scipy``) can then
    pretrain from the folder: ``heartbert pretrain --prepared_blocks FOLDER``. The attention mask
    is ``ids != pad``: ``<pad>`` only ever fills the tail of a block.

    Args:
        folder: where to write.
        train, validation: packed splits (``input_ids`` column), e.g. from :func:`tokenize_and_pack`.
        tokenizer: the tokenizer that made them.
        summary: the data summary for the model card (``{"sources", "train", "validation"}``).
    """
    import numpy as np

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, split in (("train", train), ("validation", validation)):
        ids = np.asarray(split["input_ids"], dtype=np.int32)  # (blocks, max_seq_length)
        np.save(folder / BLOCK_FILES[name], ids)
    from ..processing_heartbert import HeartBertProcessor

    HeartBertProcessor.from_tokenizer(tokenizer).save_pretrained(str(folder / "tokenizer"))  # + processor_config.json
    (folder / "data_summary.json").write_text(json.dumps(summary, indent=1))
    return folder


class BlockDataset:
    """A ``torch`` map-style dataset over a ``(blocks, max_seq_length)`` id array (memory-mapped).

    Items are ``{"input_ids", "attention_mask", "uid"}`` as :class:`~heartbert_hf.packing.PackedMLMCollator` expects.

    Args:
        ids: the block array.
        pad_id: the ``<pad>`` id (mask = ``ids != pad_id``).
        uid_offset: added to the row index to give the block's ``uid``.
        limit: use the first ``limit`` blocks only.
    """

    def __init__(self, ids, pad_id: int, uid_offset: int = 0, limit: int | None = None):
        self.ids, self.pad_id, self.uid_offset = ids, int(pad_id), int(uid_offset)
        self.n = len(ids) if limit is None else min(int(limit), len(ids))

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        if not 0 <= i < self.n:
            raise IndexError(i)
        row = self.ids[i].tolist()
        return {"input_ids": row, "attention_mask": [int(t != self.pad_id) for t in row], "uid": self.uid_offset + i}


def load_blocks(folder: str | Path, pad_id: int, max_eval_blocks: int | None = None):
    """``(train, validation, summary, max_seq_length)`` from a :func:`save_blocks` folder; needs numpy only.

    Raises:
        FileNotFoundError: a file of the folder is missing.
    """
    import numpy as np

    folder = Path(folder)
    missing = [name for name in (*BLOCK_FILES.values(), "data_summary.json", "tokenizer") if not (folder / name).exists()]
    if missing:
        raise FileNotFoundError(f"{folder} is not a blocks folder (missing {missing}); write one with --save_blocks on a machine with datasets.")
    train = np.load(folder / BLOCK_FILES["train"], mmap_mode="r")
    validation = np.load(folder / BLOCK_FILES["validation"], mmap_mode="r")
    summary = json.loads((folder / "data_summary.json").read_text())
    summary["validation"]["blocks_evaluated"] = len(validation) if max_eval_blocks is None else min(max_eval_blocks, len(validation))
    return (BlockDataset(train, pad_id), BlockDataset(validation, pad_id, uid_offset=-(10**9), limit=max_eval_blocks), summary, int(train.shape[1]))
