"""``heartbert pretrain``: masked-LM pretraining of HeartBert with the HF Trainer.

Runs as ``heartbert pretrain ...``, ``python -m heartbert_hf.pretrain ...`` or under
``accelerate launch -m heartbert_hf.pretrain ...`` (any number of processes / GPUs).

    heartbert pretrain --preset quickstart
    heartbert pretrain --preset gpu --sources mitdb,ptbxl,edb --data_dirs mitdb=/data/mitdb,ptbxl=/data/ptb-xl
    heartbert pretrain my_run.yaml            # a JSON/YAML file of the same arguments
    heartbert pretrain --preset quickstart --resume_from_checkpoint last

Arguments come from three dataclasses (:class:`ModelArguments`, :class:`DataArguments`,
``transformers.TrainingArguments``). Values are taken, lowest priority first, from the preset
(a JSON file in ``heartbert_hf/presets/``, see :func:`load_preset`), then the config file, then the
command line. Without ``--output_dir`` a run writes to ``heartbert-runs/pretrain-<preset>`` (or
``heartbert-runs/pretrain``) under the current folder.

Pipeline (:mod:`heartbert_hf.data.corpus`): PhysioNet records (``heartbert_hf.data``) → split by patient/record into train and
validation → quantizer + BPE fitted on train only (or loaded) → tokenized with the data layer's
``map`` → packed into full ``max_seq_length`` blocks (every token reaches the model) → Trainer +
MLM collator (15%) → validation loss / perplexity / masked-token accuracy, TensorBoard, curves
PNG, model card (:mod:`heartbert_hf.card`), optional push to the Hub (:mod:`heartbert_hf.hub`).
"""

from __future__ import annotations

import json
import logging
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .runtime import THREADS_HELP, HelpFormatter

logger = logging.getLogger("heartbert_hf.pretrain")

DEFAULT_OUTPUT_DIR = "heartbert-runs/pretrain"
"""Where a run without ``--output_dir`` (and without a preset) writes; presets use ``heartbert-runs/pretrain-<preset>``."""

PRESET_DIR = Path(__file__).resolve().parent / "presets"
"""Preset files shipped with the package: ``<name>.json`` = ``{"description", "arguments", "gpu_only"}``."""


def preset_names() -> list[str]:
    """The presets shipped in :data:`PRESET_DIR`."""
    return sorted(p.stem for p in PRESET_DIR.glob("*.json"))


def load_preset(name: str, gpu: bool | None = None) -> dict:
    """A preset's argument defaults, by name.

    Args:
        name: a file name in :data:`PRESET_DIR` without ``.json``.
        gpu: whether a bf16-capable GPU is present (default: detect). Without one, the keys the
            preset lists under ``gpu_only`` (``torch.compile``, the fused optimizer, loader workers:
            measured to pay on the GPU only) are dropped.

    Raises:
        SystemExit: an unknown name (the message lists the presets).
    """
    path = PRESET_DIR / f"{name}.json"
    if not path.is_file():
        raise SystemExit(f"unknown preset {name!r}; choose among {preset_names()}.")
    data = json.loads(path.read_text())
    values = dict(data["arguments"])
    if data.get("gpu_only") and not (_cuda_bf16() if gpu is None else gpu):
        for key in data["gpu_only"]:
            values.pop(key, None)
    return values


@dataclass
class ModelArguments:
    """The model: a new HeartBert of the given shape, or a checkpoint to continue from."""

    preset: str | None = field(
        default=None, metadata={"help": "Argument defaults from a shipped preset file: quickstart, paper or gpu (heartbert_hf/presets/)."}
    )
    model_name_or_path: str | None = field(
        default=None,
        metadata={
            "help": "Start from this HeartBert checkpoint instead of a new model; from a fine-tuned classifier or a HeartBertModel save the LM head starts new (with a warning)."
        },
    )
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
        metadata={"help": 'JSON of extra builder options per source, e.g. \'{"ptbxl": {"skip_missing": true, "sampling_rate": 100}}\'.'},
    )
    cache_dir: str | None = field(default=None, metadata={"help": "datasets cache folder."})
    validation_records: str | None = field(
        default=None, metadata={"help": "Comma list of record/patient ids held out for validation (default: validation_fraction of them)."}
    )
    validation_fraction: float = field(default=0.1, metadata={"help": "Share of patients held out when no validation split/list is given."})
    exclude_records: str | None = field(
        default=None,
        metadata={
            "help": "Records/patients never used for pretraining (nor for fitting the tokenizer): the records of a downstream "
            "evaluation, e.g. 'DS1' (the 22 MIT-BIH DS1 records, for cross-validation on DS1) or a comma list of ids."
        },
    )
    max_seq_length: int = field(default=512, metadata={"help": "Tokens per packed block (special tokens included); positions = this + 2."})
    mlm_probability: float = field(default=0.15, metadata={"help": "Share of tokens masked."})
    max_train_records: int | None = field(default=None, metadata={"help": "Use at most this many training examples (debugging)."})
    preprocessing_num_workers: int | None = field(default=None, metadata={"help": "Processes for the tokenizing map."})
    pack_batch_size: int = field(default=1000, metadata={"help": "Rows packed together (at most one padded block per this many rows)."})
    max_eval_blocks: int | None = field(default=None, metadata={"help": "Evaluate on the first N validation blocks only (faster evaluations)."})
    save_blocks: str | None = field(
        default=None, metadata={"help": "Also write the packed token blocks + tokenizer to this folder (for --prepared_blocks on another machine)."}
    )
    prepared_blocks: str | None = field(
        default=None,
        metadata={
            "help": "Pretrain from a --save_blocks folder instead of PhysioNet records: needs only torch + transformers "
            "(no datasets, wfdb or scipy); --sources and the split options are then ignored."
        },
    )


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
    from transformers import TrainingArguments

    from .runtime import HfArgumentParser

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
    preset_values = load_preset(preset) if preset is not None else {}
    parser = HfArgumentParser((ModelArguments, DataArguments, TrainingArguments), prog="heartbert pretrain", formatter_class=HelpFormatter)
    full = _to_argv(preset_values) + _to_argv(file_values) + argv
    given = {a.split("=")[0] for a in full if a.startswith("--")}
    if "--output_dir" not in given:
        full += ["--output_dir", DEFAULT_OUTPUT_DIR]
    model_args, data_args, training_args = parser.parse_args_into_dataclasses(args=full)
    data_args.max_seq_length_given = "--max_seq_length" in given  # typed (or preset): a model too short for it is refused, not capped
    if model_args.auto_bf16 and not given & {"--bf16", "--fp16"} and not training_args.use_cpu and _cuda_bf16():
        training_args.bf16 = True
    if "--dataloader_pin_memory" not in given and (training_args.use_cpu or not _cuda_available()):
        training_args.dataloader_pin_memory = False  # pinning needs an accelerator; torch warns once per loader otherwise
    return model_args, data_args, training_args


# ---------------------------------------------------------------------------------------------- data
def check_continued_model(model_args, data_args, max_seq_length_given: bool) -> str | None:
    """Check, before any data work, that ``--model_name_or_path`` can take this run's tokens; returns a note or ``None``.

    * ``--max_seq_length`` must fit the model's positions (``max_position_embeddings - 2``): a
      value typed by the user is refused; the default (512) is lowered to the model's limit, with
      a note.
    * A model must be used with the tokenizer it was pretrained with: a ``--tokenizer_name_or_path``
      that differs from the tokenizer saved in the model folder (vocabulary or quantizer) is refused,
      and so is a tokenizer with more tokens than the model's embedding rows.

    Raises:
        ValueError: naming the option and what to pass instead.
    """
    if not model_args.model_name_or_path:
        return None
    from . import HeartBertConfig
    from .runtime import load_heartbert_tokenizer

    config = HeartBertConfig.from_pretrained(model_args.model_name_or_path)
    note = None
    limit = int(config.max_position_embeddings) - 2
    if data_args.max_seq_length > limit:
        if max_seq_length_given:
            raise ValueError(
                f"--max_seq_length {data_args.max_seq_length} exceeds the {limit} token positions of --model_name_or_path "
                f"{model_args.model_name_or_path}; pass --max_seq_length {limit} or less."
            )
        note = f"--max_seq_length {data_args.max_seq_length} -> {limit}: the positions of {model_args.model_name_or_path}"
        data_args.max_seq_length = limit
    if model_args.tokenizer_name_or_path:
        foreign = load_heartbert_tokenizer(model_args.tokenizer_name_or_path)
        try:
            own = load_heartbert_tokenizer(model_args.model_name_or_path)
        except ValueError:  # a model folder without a tokenizer: the ids must at least fit its embedding rows
            own = None
        if own is not None and (own.get_vocab() != foreign.get_vocab() or own.quantizer_fingerprint != foreign.quantizer_fingerprint):
            what = "vocabulary" if own.get_vocab() != foreign.get_vocab() else "quantizer"
            raise ValueError(
                f"--tokenizer_name_or_path {model_args.tokenizer_name_or_path} differs from the tokenizer saved with --model_name_or_path "
                f"{model_args.model_name_or_path} ({what}: {len(foreign)} vs {len(own)} tokens): a model must be used with the tokenizer it "
                "was pretrained with. Leave out --tokenizer_name_or_path, or pretrain a new model from scratch with that tokenizer."
            )
        if len(foreign) > int(config.vocab_size):
            raise ValueError(
                f"--tokenizer_name_or_path {model_args.tokenizer_name_or_path} has {len(foreign)} tokens, more than the {config.vocab_size} "
                f"embedding rows of --model_name_or_path {model_args.model_name_or_path}: use the tokenizer the model was pretrained with."
            )
    return note


def fit_or_load_tokenizer(model_args, data_args, training_args, train_raw):
    """Load ``tokenizer_name_or_path`` or ``output_dir/tokenizer``; else fit on the training split and save it there (with its processor)."""
    from .processing_heartbert import HeartBertProcessor
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
            HeartBertProcessor.from_tokenizer(tok).save_pretrained(str(saved))  # + processor_config.json: AutoProcessor loads it
        tok = HeartBertTokenizer.from_pretrained(path or str(saved))
    tok.model_max_length = data_args.max_seq_length
    return tok


def load_prepared(model_args, data_args):
    """(tokenizer, train, validation, summary) from a ``--save_blocks`` folder: numpy + the tokenizer, no ``datasets``."""
    from .data.corpus import load_blocks
    from .tokenization_heartbert import HeartBertTokenizer

    folder = Path(data_args.prepared_blocks)
    tokenizer = HeartBertTokenizer.from_pretrained(model_args.tokenizer_name_or_path or str(folder / "tokenizer"))
    train_ds, val_ds, summary, width = load_blocks(folder, tokenizer.pad_token_id, data_args.max_eval_blocks)
    if width != data_args.max_seq_length:
        logger.info("blocks in %s are %d tokens long: max_seq_length %d -> %d", folder, width, data_args.max_seq_length, width)
        data_args.max_seq_length = width
    tokenizer.model_max_length = width
    return tokenizer, train_ds, val_ds, summary


def build_datasets(model_args, data_args, training_args):
    """Raw corpus → (tokenizer, packed train, packed validation, data summary for the card), with :mod:`heartbert_hf.data.corpus`."""
    from .data.corpus import load_corpus, split_by_patient, split_summary, tokenize_and_pack

    with training_args.main_process_first(desc="building the corpus"):
        dsd = load_corpus(
            data_args.sources,
            data_args.data_dirs,
            data_args.source_options,
            cache_dir=data_args.cache_dir,
            num_proc=data_args.preprocessing_num_workers,
            exclude=data_args.exclude_records,
        )
    train_raw, val_raw = split_by_patient(dsd, data_args.validation_records, data_args.validation_fraction, training_args.seed)
    if data_args.max_train_records is not None:
        train_raw = train_raw.select(range(min(data_args.max_train_records, len(train_raw))))
    tokenizer = fit_or_load_tokenizer(model_args, data_args, training_args, train_raw)
    summary = {"sources": sorted(set(train_raw["source"])) if "source" in train_raw.column_names else [data_args.sources]}
    packed = {}
    with training_args.main_process_first(desc="tokenizing and packing"):
        for name, raw, offset in (("train", train_raw, 0), ("validation", val_raw, -(10**9))):
            packed[name], n_chunks = tokenize_and_pack(
                raw,
                tokenizer,
                data_args.max_seq_length,
                num_proc=data_args.preprocessing_num_workers,
                pack_batch_size=data_args.pack_batch_size,
                uid_offset=offset,
                name=name,
            )
            summary[name] = split_summary(raw, packed[name], n_chunks, tokenizer, data_args.max_seq_length)
    train_ds = packed["train"].remove_columns(["n_content_tokens", "n_pad"])
    val_ds = packed["validation"].remove_columns(["n_content_tokens", "n_pad"])
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
    preds, labels = eval_pred.predictions, eval_pred.label_ids
    mask = labels != -100
    return {"masked_accuracy": float((preds[mask] == labels[mask]).mean()) if mask.any() else 0.0, "masked_tokens": int(mask.sum())}


# ---------------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None, callbacks: list | None = None) -> int:
    """Run pretraining (see the module docstring). ``callbacks`` are added to the Trainer (tests)."""
    from .runtime import release_process_group

    try:
        return _pretrain(argv, callbacks)
    finally:
        release_process_group()


def _pretrain(argv: list[str] | None, callbacks: list | None) -> int:
    import torch
    from transformers import Trainer, TrainerCallback
    from transformers.trainer_utils import get_last_checkpoint

    from . import HeartBertConfig, HeartBertForMaskedLM
    from .card import LICENCES, ModelCardCallback
    from .packing import PackedMLMCollator

    model_args, data_args, training_args = parse_args(argv)
    from .runtime import set_torch_threads

    set_torch_threads(model_args.torch_threads)
    logging.basicConfig(format="%(asctime)s %(levelname)s %(name)s: %(message)s", level=logging.INFO if training_args.should_log else logging.WARNING)
    push, training_args.push_to_hub = training_args.push_to_hub, False  # we push ourselves, card included
    if push:
        from .hub import check_push_possible

        check_push_possible(training_args.hub_model_id)
    resume = training_args.resume_from_checkpoint
    if resume in ("last", "True", "true", True):
        resume = get_last_checkpoint(training_args.output_dir)
        if resume is None:
            raise SystemExit(f"--resume_from_checkpoint last: no checkpoint-* folder in {training_args.output_dir}.")
    elif resume and not Path(resume).is_dir():
        raise SystemExit(f"--resume_from_checkpoint {resume}: no such folder.")
    from .runtime import check_model_path

    try:  # a mistyped folder fails here in seconds, not after minutes of Hub retries in from_pretrained
        for name, what in (("model_name_or_path", "model folder"), ("tokenizer_name_or_path", "tokenizer folder")):
            if getattr(model_args, name):
                setattr(model_args, name, check_model_path(getattr(model_args, name), f"--{name} {what}"))
    except FileNotFoundError as err:
        print(f"heartbert pretrain: error: {err}", file=sys.stderr)
        return 2

    try:
        note = check_continued_model(model_args, data_args, getattr(data_args, "max_seq_length_given", True))
        if note and training_args.should_log:
            print(f"[heartbert pretrain] {note}", flush=True)
        if data_args.prepared_blocks:
            tokenizer, train_ds, val_ds, summary = load_prepared(model_args, data_args)
        else:
            tokenizer, train_ds, val_ds, summary = build_datasets(model_args, data_args, training_args)
            if data_args.save_blocks and training_args.should_save:
                from .data.corpus import save_blocks

                save_blocks(data_args.save_blocks, train_ds, val_ds, tokenizer, summary)
    except (ValueError, FileNotFoundError) as err:
        print(f"heartbert pretrain: error: {err}", file=sys.stderr)
        return 2
    if training_args.should_log:
        t = summary["train"]
        print(
            f"[heartbert pretrain] train: {len(summary['train']['records'])} records, {t['blocks']} blocks of {data_args.max_seq_length}, "
            f"{t['content_tokens']:,} tokens, padding {100 * t['padding_share']:.2f}%, "
            f"samples reaching the model {100 * t['samples_used_share']:.2f}% of {t['input_samples']:,}; "
            f"validation: {summary['validation']['records']} ({summary['validation']['blocks']} blocks)",
            flush=True,
        )

    if model_args.model_name_or_path:
        model = HeartBertForMaskedLM.from_encoder(model_args.model_name_or_path, attn_implementation=model_args.attn_implementation)
    else:
        config = HeartBertConfig(
            vocab_size=len(tokenizer),
            hidden_size=model_args.hidden_size,
            num_hidden_layers=model_args.num_hidden_layers,
            num_attention_heads=model_args.num_attention_heads,
            intermediate_size=model_args.intermediate_size,
            hidden_dropout_prob=model_args.hidden_dropout_prob,
            attention_probs_dropout_prob=model_args.attention_probs_dropout_prob,
            max_position_embeddings=data_args.max_seq_length + 2,
            pad_token_id=tokenizer.pad_token_id,
            bos_token_id=tokenizer.bos_token_id,
            eos_token_id=tokenizer.eos_token_id,
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
    card_cb = ModelCardCallback(
        model_args=model_args,
        data_args=data_args,
        data_summary=summary,
        tokenizer=tokenizer,
        licences={s: LICENCES[s] for s in summary["sources"] if s in LICENCES},
    )
    trainer = Trainer(
        model=model,
        args=training_args,
        train_dataset=train_ds,
        eval_dataset=val_ds,
        data_collator=collator,
        processing_class=tokenizer,
        compute_metrics=compute_metrics,
        preprocess_logits_for_metrics=preprocess_logits_for_metrics,
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
        from .processing_heartbert import HeartBertProcessor

        HeartBertProcessor.from_tokenizer(tokenizer).save_pretrained(str(out))  # + processor_config.json: AutoProcessor loads the folder
        from .plotting import plot_curves

        try:
            plot_curves(trainer.state.log_history, out / "curves.png", vocab_size=len(tokenizer))
        except Exception as err:  # a missing plotting backend must not lose the run
            logger.warning("could not draw the curves: %s", err)
        card_cb.write(out, trainer.state, training_args, model_config=trainer.model.config)
        (out / "data_summary.json").write_text(json.dumps(summary, indent=1))
        logs = ", TensorBoard logs in runs/" if "tensorboard" in (training_args.report_to or []) else ""
        print(f"[heartbert pretrain] saved to {out.resolve()} (README.md card, curves.png{logs})", flush=True)
        if push:
            from .hub import push_folder

            url = push_folder(
                out,
                training_args.hub_model_id,
                token=training_args.hub_token,
                private=training_args.hub_private_repo,
                commit_message=f"HeartBert pretraining: {trainer.state.global_step} steps",
            )
            print(f"[heartbert pretrain] pushed to {training_args.hub_model_id}: {url}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
