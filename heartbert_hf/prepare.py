"""``heartbert prepare``: build a pretraining corpus or a task dataset to disk (Arrow), tokenized.

Examples::

    heartbert prepare --dataset corpus --mitdb_dir data/mitdb --ptbxl_dir data/ptb-xl --output_dir out/corpus
    heartbert prepare --dataset mitdb --config beats --data_dir data/mitdb --tokenizer out/corpus/tokenizer --output_dir out/beats

The output folder holds the ``DatasetDict`` (``save_to_disk``), the tokenizer used (``tokenizer/``)
and a dataset card. It is written under a temporary name and renamed when complete, so an
interrupted run never leaves a folder that looks finished; the ``datasets`` caches are also written
atomically, so a second run picks up what is cached and completes.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

DATASETS = ("corpus", "mitdb", "ptbxl", "edb", "slpdb")


@dataclass
class DataArguments:
    """What to build."""

    output_dir: str = field(metadata={"help": "Folder to write the prepared DatasetDict (Arrow) to."})
    dataset: str = field(default="corpus", metadata={"help": f"One of {DATASETS}: 'corpus' = combined shuffled pretraining corpus."})
    config: str | None = field(default=None, metadata={"help": "Builder config (mitdb: windows|beats; ptbxl: diagnostic; edb: windows; slpdb: epochs)."})
    data_dir: str | None = field(default=None, metadata={"help": "Local copy of the database (single dataset). Default: download from PhysioNet."})
    mitdb_dir: str | None = field(default=None, metadata={"help": "corpus: local MIT-BIH folder."})
    ptbxl_dir: str | None = field(default=None, metadata={"help": "corpus: local PTB-XL folder."})
    edb_dir: str | None = field(default=None, metadata={"help": "corpus: local European ST-T folder."})
    records: list[str] | None = field(default=None, metadata={"help": "Restrict a single dataset to these record names."})
    sampling_rate: int = field(default=500, metadata={"help": "PTB-XL record set: 100 or 500 (Hz)."})
    skip_missing: bool = field(default=True, metadata={"help": "PTB-XL: skip metadata rows whose record files are absent."})
    cache_dir: str | None = field(default=None, metadata={"help": "datasets cache root."})
    num_proc: int | None = field(default=None, metadata={"help": "Processes for example generation and tokenization."})
    seed: int = field(default=42, metadata={"help": "Shuffle / split / tokenizer-subsample seed."})
    overwrite_output_dir: bool = field(default=False, metadata={"help": "Replace an existing output_dir."})


@dataclass
class TokenizeArguments:
    """How to tokenize."""

    tokenize: bool = field(default=True, metadata={"help": "Tokenize (signal → input_ids); --no_tokenize keeps raw signals."})
    tokenizer: str | None = field(default=None, metadata={"help": "A saved HeartBert tokenizer (path or Hub id). Default: fit one on the train split."})
    vocab_size: int = field(default=1000, metadata={"help": "BPE vocabulary size when fitting a tokenizer."})
    tokenizer_max_examples: int | None = field(default=2000, metadata={"help": "Fit the tokenizer on at most this many train examples."})
    max_length: int = field(default=512, metadata={"help": "Tokens per sequence; longer windows become several sequences."})
    batch_size: int = field(default=16, metadata={"help": "Examples per map batch."})


@dataclass
class HubArguments:
    """Publishing."""

    push_to_hub: str | None = field(default=None, metadata={"help": "Push Parquet + card to this Hub dataset repo (org/name)."})
    private: bool = field(default=False, metadata={"help": "Create the Hub repo as private."})


def load_source(args: DataArguments):
    """The raw ``DatasetDict`` the arguments describe (a corpus or one builder)."""
    from .data import build_pretraining_corpus, load_physionet

    if args.dataset not in DATASETS:
        raise ValueError(f"unknown --dataset {args.dataset!r}; choose one of {DATASETS}.")
    if args.dataset == "corpus":
        sources = {}
        if args.mitdb_dir:
            sources["mitdb"] = {"data_dir": args.mitdb_dir}
        if args.ptbxl_dir:
            sources["ptbxl"] = {"data_dir": args.ptbxl_dir, "sampling_rate": args.sampling_rate, "skip_missing": args.skip_missing}
        if args.edb_dir:
            sources["edb"] = {"data_dir": args.edb_dir}
        if not sources:
            raise ValueError("--dataset corpus needs at least one of --mitdb_dir, --ptbxl_dir, --edb_dir.")
        return build_pretraining_corpus(sources, seed=args.seed, cache_dir=args.cache_dir, num_proc=args.num_proc)
    kwargs = {}
    if args.records:
        kwargs["records"] = args.records
    if args.dataset == "ptbxl":
        kwargs.update(sampling_rate=args.sampling_rate, skip_missing=args.skip_missing)
    return load_physionet(args.dataset, args.config, data_dir=args.data_dir, cache_dir=args.cache_dir, num_proc=args.num_proc, **kwargs)


def card_text(args: DataArguments, dsd, tokenizer_name: str | None) -> str:
    """A short dataset card for the prepared output."""
    rows = "\n".join(f"| {split} | {len(ds)} |" for split, ds in dsd.items())
    source = "combined MIT-BIH / PTB-XL / European ST-T pretraining corpus" if args.dataset == "corpus" else f"{args.dataset} ({args.config or 'default'} config)"
    return (
        "---\nlicense: other\ntags:\n- ecg\n- physionet\n- heartbert\n---\n"
        f"# HeartBert prepared data: {source}\n\n"
        "Built with `heartbert prepare` from PhysioNet records (cite the source databases: MIT-BIH ODC-By 1.0, "
        "PTB-XL CC BY 4.0, European ST-T ODC-By 1.0, slpdb ODC-By 1.0).\n\n"
        f"Tokenizer: {tokenizer_name or 'none (raw signals)'}. Splits are by record/patient.\n\n"
        f"| split | rows |\n|---|---|\n{rows}\n\nColumns: {', '.join(next(iter(dsd.values())).column_names)}\n"
    )


def push_prepared(dsd, card: str, repo_id: str, private: bool = False, api=None, staging_dir: str | None = None) -> str:
    """Write Parquet shards + card into a folder and upload it as a Hub dataset repo.

    ``load_dataset(repo_id)`` then reads it with no code.

    Args:
        dsd: the prepared ``DatasetDict``.
        card: the README text.
        repo_id: ``org/name``.
        private: create the repo private.
        api: a ``huggingface_hub.HfApi`` (default: a new one; honours ``HF_ENDPOINT``).
        staging_dir: where to write the Parquet folder (default: a temporary folder).

    Returns:
        The staging folder path.
    """
    import tempfile

    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        raise RuntimeError(
            f"cannot push to the Hub repo {repo_id!r}: HF_HUB_OFFLINE=1 is set. The prepared data is on disk; "
            "unset HF_HUB_OFFLINE and rerun with --push_to_hub."
        )
    if "/" not in repo_id:
        raise ValueError(f"--push_to_hub needs 'org/name', got {repo_id!r}.")
    folder = Path(staging_dir or tempfile.mkdtemp(prefix="heartbert_push_"))
    (folder / "data").mkdir(parents=True, exist_ok=True)
    configs = []
    for split, ds in dsd.items():
        ds.to_parquet(str(folder / "data" / f"{split}-00000-of-00001.parquet"))
        configs.append(f"  - split: {split}\n    path: data/{split}-*")
    front, body = card.split("---\n", 2)[1:] if card.startswith("---\n") else ("", card)
    yaml = front + "configs:\n- config_name: default\n  data_files:\n" + "\n".join(configs) + "\n"
    (folder / "README.md").write_text(f"---\n{yaml}---\n{body}")
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi()
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset", commit_message="heartbert prepare")
    return str(folder)


def prepare(data_args: DataArguments, tok_args: TokenizeArguments, hub_args: HubArguments):
    """Run the whole preparation; returns the prepared ``DatasetDict``."""
    out = Path(data_args.output_dir)
    if out.exists() and not data_args.overwrite_output_dir:
        raise FileExistsError(f"output_dir {out} exists; pass --overwrite_output_dir to replace it.")
    dsd = load_source(data_args)
    tokenizer, tok_name = None, None
    if tok_args.tokenize:
        from .data import tokenize_dataset, train_tokenizer

        if tok_args.tokenizer:
            from .tokenization_heartbert import HeartBertTokenizer

            tokenizer, tok_name = HeartBertTokenizer.from_pretrained(tok_args.tokenizer), tok_args.tokenizer
        else:
            if "train" not in dsd:
                raise ValueError(f"no train split to fit the tokenizer on (splits: {list(dsd)}); pass --tokenizer.")
            logger.info("fitting the tokenizer on the train split (%d examples)", len(dsd["train"]))
            tokenizer = train_tokenizer(dsd["train"], vocab_size=tok_args.vocab_size, max_examples=tok_args.tokenizer_max_examples, seed=data_args.seed)
            tok_name = f"fitted on the train split (vocab {tok_args.vocab_size})"
        dsd = tokenize_dataset(dsd, tokenizer, tok_args.max_length, num_proc=data_args.num_proc, batch_size=tok_args.batch_size)
    tmp = out.with_name(f"{out.name}.incomplete-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        dsd.save_to_disk(str(tmp))
        if tokenizer is not None:
            tokenizer.save_pretrained(str(tmp / "tokenizer"))
        card = card_text(data_args, dsd, tok_name)
        (tmp / "README.md").write_text(card)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if hub_args.push_to_hub:
        push_prepared(dsd, card, hub_args.push_to_hub, private=hub_args.private)
    return dsd


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``heartbert prepare``.

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).
    """
    from transformers import HfArgumentParser

    parser = HfArgumentParser((DataArguments, TokenizeArguments, HubArguments), prog="heartbert prepare", description=__doc__.split("\n")[0])
    data_args, tok_args, hub_args = parser.parse_args_into_dataclasses(args=list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    dsd = prepare(data_args, tok_args, hub_args)
    for split, ds in dsd.items():
        print(f"{split}: {len(ds)} rows")
    print(f"saved to {data_args.output_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
