"""``heartbert pretrain``: masked-LM pretraining of HeartBert with the HF Trainer.

Runs as ``heartbert pretrain ...``, ``python -m heartbert_hf.pretrain ...`` or under
``accelerate launch -m heartbert_hf.pretrain ...`` (any number of processes / GPUs).

    heartbert pretrain --preset quickstart
    heartbert pretrain --preset gpu --sources mitdb,ptbxl,edb --data_dirs mitdb=/data/mitdb,ptbxl=/data/ptb-xl
    heartbert pretrain my_run.yaml            # a JSON/YAML file of the same arguments
    heartbert pretrain --preset quickstart --resume_from_checkpoint last

Arguments come from three dataclasses (:class:`ModelArguments`, :class:`DataArguments`,
``transformers.TrainingArguments``). Values are taken, lowest priority first, from the preset,
then the config file, then the command line.

Pipeline: PhysioNet records (``heartbert_hf.data``) → split by patient/record into train and
validation → quantizer + BPE fitted on train only (or loaded) → tokenized with the data layer's
``map`` → packed into full ``max_seq_length`` blocks (every token reaches the model) → Trainer +
MLM collator (15%) → validation loss / perplexity / masked-token accuracy, TensorBoard, curves
PNG, model card, optional push to the Hub.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .runtime import THREADS_HELP

logger = logging.getLogger("heartbert_hf.pretrain")

DEFAULT_OUTPUT_DIR = "heartbert-runs/pretrain"
"""Where a run without ``--output_dir`` (and without a preset) writes; presets use ``heartbert-runs/pretrain-<preset>``."""

SAMPLE_DIR = Path(__file__).resolve().parent / "sample_data"

PRESETS: dict[str, dict] = {
    # CPU, the shipped 3-record sample, a few minutes: a tiny model that learns something
    "quickstart": dict(
        sources="sample", validation_records="118", vocab_size=1000, max_seq_length=128,
        hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=256,
        output_dir="heartbert-runs/pretrain-quickstart", max_steps=200, per_device_train_batch_size=16,
        per_device_eval_batch_size=32, max_eval_blocks=512, learning_rate=1e-3, warmup_steps=20, weight_decay=0.01,
        eval_strategy="steps", eval_steps=50, logging_steps=10, save_steps=50, save_total_limit=2,
        report_to="tensorboard", seed=42, dataloader_drop_last=False,
    ),
    # the published recipe's shape: 6 layers, 12 heads, hidden 768, vocab 52k, 514 positions, MLM 15%
    "paper": dict(
        vocab_size=52000, max_seq_length=512, hidden_size=768, num_hidden_layers=6, num_attention_heads=12,
        intermediate_size=3072, hidden_dropout_prob=0.1, attention_probs_dropout_prob=0.1,
        output_dir="heartbert-runs/pretrain-paper", num_train_epochs=10, per_device_train_batch_size=64,
        per_device_eval_batch_size=64, learning_rate=5e-4, warmup_steps=0.06, weight_decay=0.01,
        eval_strategy="steps", eval_steps=1000, logging_steps=50, save_steps=1000, save_total_limit=3,
        report_to="tensorboard", seed=42,
    ),
    # the paper shape, tuned for one GPU by measurement (benchmarks/train_throughput.py, docs/pretraining.md):
    # bf16 + torch.compile + fused AdamW + dropout 0 + batch 128: 1.09M tokens/s on an H200
    "gpu": dict(
        vocab_size=52000, max_seq_length=512, hidden_size=768, num_hidden_layers=6, num_attention_heads=12,
        intermediate_size=3072, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
        output_dir="heartbert-runs/pretrain-gpu", num_train_epochs=10, per_device_train_batch_size=128,
        per_device_eval_batch_size=128, learning_rate=6e-4, warmup_steps=0.06, weight_decay=0.01,
        optim="adamw_torch_fused", torch_compile=True, dataloader_num_workers=4,
        eval_strategy="steps", eval_steps=1000, logging_steps=50, save_steps=1000, save_total_limit=3,
        report_to="tensorboard", seed=42,
    ),
}
"""Preset name → argument defaults. ``bf16`` is switched on automatically where a GPU supports it."""

LICENCES = {
    "mitdb": ("MIT-BIH Arrhythmia Database v1.0.0", "ODC-By 1.0", "https://physionet.org/content/mitdb/1.0.0/"),
    "sample": ("MIT-BIH Arrhythmia Database v1.0.0 (10-min excerpts of records 101, 208, 118 shipped with heartbert_hf)",
               "ODC-By 1.0", "https://physionet.org/content/mitdb/1.0.0/"),
    "ptbxl": ("PTB-XL v1.0.3", "CC BY 4.0", "https://physionet.org/content/ptb-xl/1.0.3/"),
    "edb": ("European ST-T Database v1.0.0", "ODC-By 1.0", "https://physionet.org/content/edb/1.0.0/"),
}
"""Source → (name, licence, URL), for the model card."""


@dataclass
class ModelArguments:
    """The model: a new HeartBert of the given shape, or a checkpoint to continue from."""

    preset: str | None = field(default=None, metadata={"help": f"Argument defaults: one of {sorted(PRESETS)}."})
    model_name_or_path: str | None = field(default=None, metadata={"help": "Start from this HeartBert checkpoint instead of a new model."})
    tokenizer_name_or_path: str | None = field(
        default=None, metadata={"help": "Use this fitted HeartBert tokenizer; default: fit one on the training split (or reuse output_dir/tokenizer)."}
    )
    vocab_size: int = field(default=16000, metadata={"help": "BPE vocabulary size when fitting a tokenizer (16,000: the measured default, see README)."})
    hidden_size: int = field(default=768, metadata={"help": "Model width."})
    num_hidden_layers: int = field(default=6, metadata={"help": "Transformer layers."})
    num_attention_heads: int = field(default=12, metadata={"help": "Attention heads."})
    intermediate_size: int = field(default=3072, metadata={"help": "Feed-forward width."})
    hidden_dropout_prob: float = field(default=0.1, metadata={"help": "Dropout on hidden states."})
    attention_probs_dropout_prob: float = field(default=0.1, metadata={"help": "Dropout on attention probabilities."})
    attn_implementation: str = field(default="sdpa", metadata={"help": "'sdpa' (default) or 'eager'."})
    auto_bf16: bool = field(default=True, metadata={"help": "Train in bf16 when a GPU supports it (unless --fp16/--bf16 is given)."})
    torch_threads: int = field(default=0, metadata={"help": THREADS_HELP})


@dataclass
class DataArguments:
    """Where the ECGs come from and how they become training blocks."""

    sources: str = field(default="sample", metadata={"help": "'sample' (the shipped MIT-BIH excerpts) or a comma list of mitdb, ptbxl, edb."})
    data_dirs: str | None = field(
        default=None, metadata={"help": "Local copies, 'mitdb=/path,ptbxl=/path'; a source without one is downloaded from PhysioNet."}
    )
    source_options: str | None = field(
        default=None,
        metadata={"help": "JSON of extra builder options per source, e.g. '{\"ptbxl\": {\"skip_missing\": true, \"sampling_rate\": 100}}'."},
    )
    cache_dir: str | None = field(default=None, metadata={"help": "datasets cache folder."})
    validation_records: str | None = field(
        default=None, metadata={"help": "Comma list of record/patient ids held out for validation (default: validation_fraction of them)."}
    )
    validation_fraction: float = field(default=0.1, metadata={"help": "Share of patients held out when no validation split/list is given."})
    exclude_records: str | None = field(
        default=None,
        metadata={"help": "Records/patients never used for pretraining (nor for fitting the tokenizer): the records of a downstream "
                  "evaluation, e.g. 'DS1' (the 22 MIT-BIH DS1 records, for cross-validation on DS1) or a comma list of ids."},
    )
    max_seq_length: int = field(default=512, metadata={"help": "Tokens per packed block (special tokens included); positions = this + 2."})
    mlm_probability: float = field(default=0.15, metadata={"help": "Share of tokens masked."})
    max_train_records: int | None = field(default=None, metadata={"help": "Use at most this many training examples (debugging)."})
    preprocessing_num_workers: int | None = field(default=None, metadata={"help": "Processes for the tokenizing map."})
    pack_batch_size: int = field(default=1000, metadata={"help": "Rows packed together (at most one padded block per this many rows)."})
    max_eval_blocks: int | None = field(default=None, metadata={"help": "Evaluate on the first N validation blocks only (faster evaluations)."})


# ---------------------------------------------------------------------------------------------- arguments
def _read_config_file(path: str) -> dict:
    text = Path(path).read_text()
    if path.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError:  # pragma: no cover
            raise SystemExit(f"{path}: reading YAML needs pyyaml (pip install pyyaml), or pass a .json file.") from None
        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict):
        raise SystemExit(f"{path}: a config file must hold a mapping of argument names to values.")
    return data


def _to_argv(values: dict) -> list[str]:
    argv = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            argv += [f"--{key}", *map(str, value)]
        else:
            argv += [f"--{key}", str(value)]
    return argv


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def _cuda_bf16() -> bool:
    import torch

    return torch.cuda.is_available() and torch.cuda.is_bf16_supported()


def parse_args(argv: list[str] | None = None):
    """Parse ``argv`` into ``(ModelArguments, DataArguments, TrainingArguments)``.

    Priority, lowest first: preset, config file (a single ``.json``/``.yaml`` path as the first
    argument), command line.
    """
    from transformers import HfArgumentParser, TrainingArguments

    argv = list(sys.argv[1:] if argv is None else argv)
    file_values: dict = {}
    if argv and argv[0].endswith((".json", ".yaml", ".yml")) and not argv[0].startswith("-"):
        file_values = _read_config_file(argv.pop(0))
    preset = file_values.get("preset")
    for i, a in enumerate(argv):
        if a == "--preset" and i + 1 < len(argv):
            preset = argv[i + 1]
        elif a.startswith("--preset="):
            preset = a.split("=", 1)[1]
    preset_values: dict = {}
    if preset is not None:
        if preset not in PRESETS:
            raise SystemExit(f"unknown preset {preset!r}; choose among {sorted(PRESETS)}.")
        preset_values = dict(PRESETS[preset])
        if preset != "quickstart" and not _cuda_bf16():
            preset_values.pop("torch_compile", None)  # compile is measured to pay on the GPU only
            preset_values.pop("optim", None)
            preset_values.pop("dataloader_num_workers", None)
    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments), prog="heartbert pretrain")
    full = _to_argv(preset_values) + _to_argv(file_values) + argv
    given = {a.split("=")[0] for a in full if a.startswith("--")}
    if "--output_dir" not in given:
        full += ["--output_dir", DEFAULT_OUTPUT_DIR]
    model_args, data_args, training_args = parser.parse_args_into_dataclasses(args=full)
    if model_args.auto_bf16 and not given & {"--bf16", "--fp16"} and not training_args.use_cpu and _cuda_bf16():
        training_args.bf16 = True
    if "--dataloader_pin_memory" not in given and (training_args.use_cpu or not _cuda_available()):
        training_args.dataloader_pin_memory = False  # pinning needs an accelerator; torch warns once per loader otherwise
    return model_args, data_args, training_args


# ---------------------------------------------------------------------------------------------- data
def _parse_dirs(text: str | None) -> dict[str, str]:
    out = {}
    for part in filter(None, (text or "").split(",")):
        if "=" not in part:
            raise SystemExit(f"--data_dirs expects name=path pairs, got {part!r}.")
        name, path = part.split("=", 1)
        out[name.strip()] = path.strip()
    return out


def load_corpus(data_args: DataArguments):
    """The raw corpus (``DatasetDict`` of signals) for ``data_args.sources``; ``test`` splits are dropped."""
    import datasets

    from .data import load_physionet
    from .data.processing import build_pretraining_corpus

    sources = [s.strip() for s in data_args.sources.split(",") if s.strip()]
    if sources == ["sample"]:
        dsd = load_physionet("mitdb", "windows", data_dir=str(SAMPLE_DIR), cache_dir=data_args.cache_dir)
        dsd = datasets.DatasetDict({k: v.add_column("source", ["sample"] * len(v)) for k, v in dsd.items()})
    else:
        dirs = _parse_dirs(data_args.data_dirs)
        options = {s: ({"data_dir": dirs[s]} if s in dirs else {}) for s in sources}
        if "mitdb" in options:
            options["mitdb"]["include_paced"] = True  # unlabelled ECG is fine for pretraining
        try:
            extra = json.loads(data_args.source_options) if data_args.source_options else {}
        except json.JSONDecodeError as err:
            raise SystemExit(f"--source_options is not valid JSON: {err}") from None
        for name, values in extra.items():
            if name not in options:
                raise SystemExit(f"--source_options names {name!r}, which is not among --sources {sources}.")
            options[name].update(values)
        dsd = build_pretraining_corpus(options, cache_dir=data_args.cache_dir, num_proc=data_args.preprocessing_num_workers)
    # downstream test records never enter pretraining, nor any record the user excludes
    dsd = datasets.DatasetDict({k: v for k, v in dsd.items() if k != "test"})
    excluded = excluded_records(data_args.exclude_records)
    if excluded:
        dsd = datasets.DatasetDict(
            {k: v.filter(lambda r, p: r not in excluded and p not in excluded, input_columns=["record_id", "patient_id"]) for k, v in dsd.items()}
        )
        if len(dsd["train"]) == 0:
            raise SystemExit(f"--exclude_records left no training data (excluded {len(excluded)} records).")
    return dsd


def excluded_records(text: str | None) -> set[str]:
    """``'DS1'`` (MIT-BIH DS1), ``'DS2'`` or record ids, comma-separated → a set of record ids."""
    from .data.splits import MITDB_DS1, MITDB_DS2

    named = {"ds1": MITDB_DS1, "ds2": MITDB_DS2}
    out: set[str] = set()
    for part in (text or "").split(","):
        part = part.strip()
        if part:
            out.update(named.get(part.lower(), [part]))
    return out


def split_by_patient(dsd, data_args: DataArguments, seed: int):
    """``(train, validation)`` with no patient (MIT-BIH: record) in both."""
    import random

    import datasets

    train = dsd["train"]
    if "validation" in dsd and not data_args.validation_records:
        return train, dsd["validation"]
    full = datasets.concatenate_datasets([dsd[k] for k in dsd]) if len(dsd) > 1 else train
    groups = full["patient_id"] if "patient_id" in full.column_names else full["record_id"]
    unique = sorted(set(groups))
    if data_args.validation_records:
        held = {r.strip() for r in data_args.validation_records.split(",") if r.strip()}
        unknown = held - set(unique) - set(full["record_id"])
        if unknown:
            raise SystemExit(f"validation_records {sorted(unknown)} are not in the corpus (have {unique[:10]}...).")
        is_val = [g in held or r in held for g, r in zip(groups, full["record_id"])]
    else:
        order = unique[:]
        random.Random(seed).shuffle(order)
        n_val = max(1, round(data_args.validation_fraction * len(order)))
        if n_val >= len(order):
            raise SystemExit("too few patients/records to hold out a validation split; pass more data or validation_records.")
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


def fit_or_load_tokenizer(model_args, data_args, training_args, train_raw):
    """Load ``tokenizer_name_or_path`` or ``output_dir/tokenizer``; else fit on the training split and save it there."""
    from .tokenization_heartbert import HeartBertTokenizer

    path = model_args.tokenizer_name_or_path or model_args.model_name_or_path
    saved = Path(training_args.output_dir) / "tokenizer"
    if path is None and (saved / "quantizer.json").is_file():
        path = str(saved)
    with training_args.main_process_first(desc="fitting the quantizer + BPE on the training split"):
        if path is None and not (saved / "quantizer.json").is_file():
            from .data.processing import train_tokenizer

            logger.info("fitting the quantizer + BPE (vocab %d) on %d training examples", model_args.vocab_size, len(train_raw))
            tok = train_tokenizer(train_raw, vocab_size=model_args.vocab_size, seed=training_args.seed, show_progress=False)
            tok.save_pretrained(str(saved))
        tok = HeartBertTokenizer.from_pretrained(path or str(saved))
    tok.model_max_length = data_args.max_seq_length
    return tok


def build_datasets(model_args, data_args, training_args):
    """Raw corpus → (tokenizer, packed train, packed validation, data summary for the card)."""
    from .data.processing import tokenize_dataset
    from .packing import pack_dataset

    with training_args.main_process_first(desc="building the corpus"):
        dsd = load_corpus(data_args)
    train_raw, val_raw = split_by_patient(dsd, data_args, training_args.seed)
    if data_args.max_train_records is not None:
        train_raw = train_raw.select(range(min(data_args.max_train_records, len(train_raw))))
    tokenizer = fit_or_load_tokenizer(model_args, data_args, training_args, train_raw)
    keep = ["record_id"]
    with training_args.main_process_first(desc="tokenizing and packing"):
        splits = {}
        for name, raw, offset in (("train", train_raw, 0), ("validation", val_raw, -(10**9))):
            tok_ds = tokenize_dataset(raw, tokenizer, max_length=data_args.max_seq_length, keep_columns=keep,
                                      num_proc=data_args.preprocessing_num_workers, desc=f"Tokenizing {name}")
            splits[name] = pack_dataset(tok_ds, data_args.max_seq_length, tokenizer, batch_size=data_args.pack_batch_size,
                                        num_proc=data_args.preprocessing_num_workers, uid_offset=offset, desc=f"Packing {name}")
            splits[name + "_chunks"] = len(tok_ds)
    table = samples_per_token_table(tokenizer)
    summary = {"sources": sorted(set(train_raw["source"])) if "source" in train_raw.column_names else [data_args.sources]}
    for name, raw in (("train", train_raw), ("validation", val_raw)):
        stats = block_stats(splits[name], table, data_args.max_seq_length)
        stats["input_samples"] = count_input_samples(raw, tokenizer.target_rate)
        stats["samples_used_share"] = stats["samples_in_blocks"] / max(1, stats["input_samples"])
        stats["records"] = sorted(set(raw["record_id"]))
        stats["patients"] = len(set(raw["patient_id"])) if "patient_id" in raw.column_names else len(stats["records"])
        stats["examples"] = len(raw)
        stats["chunks"] = splits[name + "_chunks"]
        summary[name] = stats
    train_ds = splits["train"].remove_columns(["n_content_tokens", "n_pad"])
    val_ds = splits["validation"].remove_columns(["n_content_tokens", "n_pad"])
    if data_args.max_eval_blocks is not None and len(val_ds) > data_args.max_eval_blocks:
        val_ds = val_ds.select(range(data_args.max_eval_blocks))
    summary["validation"]["blocks_evaluated"] = len(val_ds)
    return tokenizer, train_ds, val_ds, summary


# ---------------------------------------------------------------------------------------------- metrics
def preprocess_logits_for_metrics(logits, labels):
    """Keep only the argmax: evaluation then stores (batch, seq) ids instead of (batch, seq, vocab) logits."""
    if isinstance(logits, tuple):
        logits = logits[0]
    return logits.argmax(dim=-1)


def compute_metrics(eval_pred) -> dict:
    """Masked-token accuracy over the positions with a label."""
    import numpy as np

    preds, labels = eval_pred.predictions, eval_pred.label_ids
    mask = labels != -100
    return {"masked_accuracy": float((preds[mask] == labels[mask]).mean()) if mask.any() else 0.0,
            "masked_tokens": int(mask.sum())}


# ---------------------------------------------------------------------------------------------- hub
def check_push_possible(training_args) -> None:
    """Fail before training, with a clear message, when a push cannot happen."""
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise SystemExit(
            "--push_to_hub was given but HF_HUB_OFFLINE=1 is set: nothing can be uploaded. Unset HF_HUB_OFFLINE "
            "(and log in with `hf auth login`), or drop --push_to_hub and upload the output folder later."
        )


def push_folder(folder: str | Path, repo_id: str, token: str | None = None, private: bool | None = None,
                commit_message: str = "HeartBert pretraining run", endpoint: str | None = None) -> str:
    """Upload a saved model folder (model, tokenizer + quantizer, remote code, README card) to the Hub.

    Returns the commit URL. Checkpoints and TensorBoard logs are not uploaded.
    """
    from huggingface_hub import HfApi

    api = HfApi(endpoint=endpoint, token=token)
    api.create_repo(repo_id, private=private, exist_ok=True, repo_type="model")
    info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="model", commit_message=commit_message,
                             ignore_patterns=["checkpoint-*", "checkpoint-*/**", "runs/**", "tokenizer/**", "*.pt", "*.pth"])
    return str(getattr(info, "commit_url", info))


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None, callbacks: list | None = None) -> int:
    """Run pretraining (see the module docstring). ``callbacks`` are added to the Trainer (tests)."""
    import torch
    from transformers import Trainer, TrainerCallback
    from transformers.trainer_utils import get_last_checkpoint

    from . import HeartBertConfig, HeartBertForMaskedLM
    from .card import ModelCardCallback
    from .packing import PackedMLMCollator

    model_args, data_args, training_args = parse_args(argv)
    from .runtime import set_torch_threads

    set_torch_threads(model_args.torch_threads)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO if training_args.should_log else logging.WARNING)
    push, training_args.push_to_hub = training_args.push_to_hub, False  # we push ourselves, card included
    if push:
        check_push_possible(training_args)
        if not training_args.hub_model_id:
            raise SystemExit("--push_to_hub needs --hub_model_id user/name.")
    resume = training_args.resume_from_checkpoint
    if resume in ("last", "True", "true", True):
        resume = get_last_checkpoint(training_args.output_dir)
        if resume is None:
            raise SystemExit(f"--resume_from_checkpoint last: no checkpoint-* folder in {training_args.output_dir}.")
    elif resume and not Path(resume).is_dir():
        raise SystemExit(f"--resume_from_checkpoint {resume}: no such folder.")

    tokenizer, train_ds, val_ds, summary = build_datasets(model_args, data_args, training_args)
    if training_args.should_log:
        t = summary["train"]
        print(f"[heartbert pretrain] train: {len(summary['train']['records'])} records, {t['blocks']} blocks of {data_args.max_seq_length}, "
              f"{t['content_tokens']:,} tokens, padding {100 * t['padding_share']:.2f}%, "
              f"samples reaching the model {100 * t['samples_used_share']:.2f}% of {t['input_samples']:,}; "
              f"validation: {summary['validation']['records']} ({summary['validation']['blocks']} blocks)", flush=True)

    if model_args.model_name_or_path:
        model = HeartBertForMaskedLM.from_pretrained(model_args.model_name_or_path, attn_implementation=model_args.attn_implementation)
    else:
        config = HeartBertConfig(
            vocab_size=len(tokenizer), hidden_size=model_args.hidden_size, num_hidden_layers=model_args.num_hidden_layers,
            num_attention_heads=model_args.num_attention_heads, intermediate_size=model_args.intermediate_size,
            hidden_dropout_prob=model_args.hidden_dropout_prob, attention_probs_dropout_prob=model_args.attention_probs_dropout_prob,
            max_position_embeddings=data_args.max_seq_length + 2, pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        )
        config._attn_implementation = model_args.attn_implementation
        torch.manual_seed(training_args.seed)
        model = HeartBertForMaskedLM(config)

    collator = PackedMLMCollator(tokenizer=tokenizer, mlm_probability=data_args.mlm_probability, mask_seed=training_args.seed)

    class EpochMasking(TrainerCallback):
        """Dynamic masking: a new mask for each block at each epoch (same in every process)."""

        def on_epoch_begin(self, args, state, control, **kw):
            collator.epoch = int(state.epoch or 0)

    training_args.remove_unused_columns = False  # the collator needs `uid`
    card_cb = ModelCardCallback(model_args=model_args, data_args=data_args, data_summary=summary, tokenizer=tokenizer,
                                licences={s: LICENCES[s] for s in summary["sources"] if s in LICENCES})
    trainer = Trainer(
        model=model, args=training_args, train_dataset=train_ds, eval_dataset=val_ds, data_collator=collator,
        processing_class=tokenizer, compute_metrics=compute_metrics, preprocess_logits_for_metrics=preprocess_logits_for_metrics,
        callbacks=[EpochMasking(), card_cb, *(callbacks or [])],
    )
    trainer.train(resume_from_checkpoint=resume)
    metrics = trainer.evaluate()
    if "eval_loss" in metrics:
        metrics["eval_perplexity"] = math.exp(min(50.0, metrics["eval_loss"]))
    trainer.log_metrics("eval", metrics)
    trainer.save_metrics("eval", metrics)
    card_cb.final_metrics = metrics
    trainer.save_model()  # model + tokenizer (+ quantizer) + remote-code files
    trainer.save_state()
    if trainer.is_world_process_zero():
        out = Path(training_args.output_dir)
        from .plots import plot_curves

        try:
            plot_curves(trainer.state.log_history, out / "curves.png", vocab_size=len(tokenizer))
        except Exception as err:  # a missing plotting backend must not lose the run
            logger.warning("could not draw the curves: %s", err)
        card_cb.write(out, trainer.state, training_args, model_config=trainer.model.config)
        (out / "data_summary.json").write_text(json.dumps(summary, indent=1))
        print(f"[heartbert pretrain] saved to {out.resolve()} (README.md card, curves.png, TensorBoard logs)", flush=True)
        if push:
            url = push_folder(out, training_args.hub_model_id, token=training_args.hub_token,
                              private=training_args.hub_private_repo, commit_message=f"HeartBert pretraining: {trainer.state.global_step} steps")
            print(f"[heartbert pretrain] pushed to {training_args.hub_model_id}: {url}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
