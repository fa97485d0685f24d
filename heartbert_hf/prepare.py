"""``heartbert prepare``: build a pretraining corpus or a task dataset to disk (Arrow), tokenized.

Examples::

    heartbert prepare --dataset corpus --mitdb_dir data/mitdb --ptbxl_dir data/ptb-xl --output_dir out/corpus
    heartbert prepare --dataset mitdb --config beats --data_dir data/mitdb --tokenizer out/corpus/tokenizer --output_dir out/beats

The output folder holds the ``DatasetDict`` (``save_to_disk``), the processor used (``tokenizer/``:
the tokenizer with its quantizer, and the feature extractor; ``AutoProcessor`` or ``AutoTokenizer``
load it) and a dataset card. It is written under a temporary name and renamed when complete, so an
interrupted run never leaves a folder that looks finished; the ``datasets`` caches are also written
atomically, so a second run picks up what is cached and completes.

Bad records do not stop the build (``--on_error skip``, the default): a record of a local folder
whose files are missing, truncated or corrupt, that lacks the annotation file its config reads
(``.atr`` for mitdb beats, ``.st`` for slpdb), or that is shorter than 1 s, is left out before the
build; a record the builder refuses (e.g. fewer than 2 beats inside the signal, or the only records
of a split giving no example) is left out and the build retried; an example that cannot be
tokenized (NaN samples, ...) is left out of the tokenized data,
and the run ends with the list of what was skipped and why (also written to ``skipped.json`` in
the output folder). Constant (lead-off) windows are left out with ``--drop_flat`` (the default).
``--on_error raise`` stops at the first bad record instead.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from .data.processing import EcgTokenizeFunction  # datasets: prepare needs it anyway
from .runtime import THREADS_HELP, HelpFormatter

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
    on_error: str = field(default="skip", metadata={"help": "A bad record (unreadable, too short, NaN): 'skip' it and list it at the end, or 'raise'."})
    torch_threads: int = field(default=0, metadata={"help": THREADS_HELP})


@dataclass
class TokenizeArguments:
    """How to tokenize."""

    tokenize: bool = field(default=True, metadata={"help": "Tokenize (signal → input_ids); --no_tokenize keeps raw signals."})
    tokenizer: str | None = field(default=None, metadata={"help": "A saved HeartBert tokenizer (path or Hub id). Default: fit one on the train split."})
    vocab_size: int = field(default=1000, metadata={"help": "BPE vocabulary size when fitting a tokenizer."})
    tokenizer_max_examples: int | None = field(default=2000, metadata={"help": "Fit the tokenizer on at most this many train examples."})
    max_length: int = field(default=512, metadata={"help": "Tokens per sequence; longer windows become several sequences."})
    batch_size: int = field(default=16, metadata={"help": "Examples per map batch."})
    drop_flat: bool = field(
        default=True, metadata={"help": "Leave out constant (lead-off) windows; --drop_flat False makes them errors (skipped or raised per --on_error)."}
    )


@dataclass
class HubArguments:
    """Publishing."""

    push_to_hub: str | None = field(default=None, metadata={"help": "Push Parquet + card to this Hub dataset repo (org/name)."})
    private: bool = field(default=False, metadata={"help": "Create the Hub repo as private."})


WFDB_FOLDER_SOURCES = ("mitdb", "edb", "slpdb")
"""Databases whose ``data_dir`` is a folder of WFDB records (PTB-XL is listed by its CSV; see ``--skip_missing``)."""

ON_ERROR = ("skip", "raise")


def screen_records(
    folder: str | Path, records: list[str] | None = None, read: bool = False, annotations: tuple[str, ...] = ()
) -> tuple[list[str], list[tuple[str, str]]]:
    """Split a local folder's WFDB records into usable ones and ``(record, reason)`` for the others.

    Args:
        folder: the ``data_dir``.
        records: the records to check (default: every record of the folder).
        read: read every sample (checksums, unreadable data) and the annotation files instead of
            checking only the header, the file sizes
            (:func:`~heartbert_hf.data.wfdb_io.check_record_files`) and that the annotation files exist.
        annotations: extensions of the annotation files each record needs (``("atr",)`` for mitdb
            beats, :func:`~heartbert_hf.data.loading.required_annotations`).

    Returns:
        ``(good, bad)``. A record shorter than 1 s is bad: it gives no window.
    """
    from .data.record_files import list_local_records
    from .data.wfdb_io import annotation_file, check_record_files, read_annotation, read_record

    good, bad = [], []
    for name in list(records) if records else list_local_records(folder, edf=False):
        path = Path(folder) / name
        try:
            if read:
                rec = read_record(path)
                n, fs = rec.signal.shape[1], rec.sampling_rate
            else:
                header = check_record_files(path)
                n, fs = int(header.sig_len or 0), float(header.fs)
            if n < fs:
                raise ValueError(f"{n} samples at {fs:g} Hz is shorter than 1 s: it gives no window.")
            for ext in annotations:
                if read:
                    read_annotation(path, ext)
                elif annotation_file(path, ext) is None:  # in any case: 101.ATR counts, as read_annotation reads it
                    raise FileNotFoundError(f"annotation file {path.with_name(f'{name}.{ext}')} is missing (this config reads the .{ext} annotations).")
        except (ValueError, FileNotFoundError) as err:
            bad.append((name, str(err)))
            continue
        good.append(name)
    return good, bad


def _plan(args: DataArguments) -> dict[str, dict]:
    """Database → ``load_physionet`` keyword arguments for what the arguments describe."""
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
        return sources
    kwargs = {"config": args.config, "data_dir": args.data_dir}
    if args.records:
        kwargs["records"] = args.records
    if args.dataset == "ptbxl":
        kwargs.update(sampling_rate=args.sampling_rate, skip_missing=args.skip_missing)
    return {args.dataset: kwargs}


def _leave_out_bad_records(plan: dict[str, dict], skipped: list[tuple[str, str]], read: bool) -> bool:
    """Screen the local WFDB folders of ``plan``; restrict each to its good records. True if any was bad."""
    from .data.loading import required_annotations

    found = False
    for name, kwargs in plan.items():
        if name not in WFDB_FOLDER_SOURCES or not kwargs.get("data_dir"):
            continue
        options = {k: v for k, v in kwargs.items() if k != "data_dir"}
        annotations = required_annotations(name, **options)
        good, bad = screen_records(kwargs["data_dir"], kwargs.get("records"), read=read, annotations=annotations)
        if bad:
            found = True
            skipped += [(f"{name} record {record}", reason) for record, reason in bad]
            if not good:
                raise ValueError(f"no usable record in {kwargs['data_dir']} ({name}): " + "; ".join(f"{r}: {why}" for r, why in bad[:5]))
            kwargs["records"] = good
    return found


def load_source(args: DataArguments, skipped: list[tuple[str, str]] | None = None):
    """The raw ``DatasetDict`` the arguments describe (a corpus or one builder).

    Args:
        args: the data arguments.
        skipped: receives ``(what, reason)`` for each record left out (``on_error="skip"``).
    """
    from .data import build_pretraining_corpus, load_physionet

    if args.on_error not in ON_ERROR:
        raise ValueError(f"--on_error must be one of {ON_ERROR}, got {args.on_error!r}.")
    skipped = [] if skipped is None else skipped
    plan = _plan(args)
    skip = args.on_error == "skip"
    if skip:
        _leave_out_bad_records(plan, skipped, read=False)

    def build():
        if args.dataset == "corpus":
            return build_pretraining_corpus(plan, seed=args.seed, cache_dir=args.cache_dir, num_proc=args.num_proc)
        kwargs = dict(plan[args.dataset])
        return load_physionet(args.dataset, kwargs.pop("config"), cache_dir=args.cache_dir, num_proc=args.num_proc, **kwargs)

    screened = False
    while True:
        try:
            return build()
        except (ValueError, FileNotFoundError) as err:
            if not skip:
                raise
            # a builder's refusal names its records (too few beats, no example in a split): leave those out
            if _leave_out_named_records(plan, err, skipped):
                continue
            # a fault the header check cannot see (corrupt samples): read every record once, then retry
            if screened or not _leave_out_bad_records(plan, skipped, read=True):
                raise
            screened = True


def _leave_out_named_records(plan: dict[str, dict], err: Exception, skipped: list[tuple[str, str]]) -> bool:
    """Drop the records a :class:`~heartbert_hf.data.builder_base.RecordError` names from ``plan``. True if any was dropped."""
    from .data.builder_base import RecordError
    from .data.record_files import list_local_records

    if not isinstance(err, RecordError) or err.db not in plan or err.db not in WFDB_FOLDER_SOURCES:
        return False
    kwargs = plan[err.db]
    if not kwargs.get("data_dir"):
        return False
    records = list(kwargs.get("records") or list_local_records(kwargs["data_dir"], edf=False))
    named = [r for r in err.records if r in records]
    if not named:
        return False
    skipped += [(f"{err.db} record {r}", str(err)) for r in named]
    kwargs["records"] = [r for r in records if r not in named]
    if not kwargs["records"]:
        raise ValueError(f"no usable record in {kwargs['data_dir']} ({err.db}): {err}") from err
    return True


class SkippingTokenizeFunction(EcgTokenizeFunction):
    """:class:`~heartbert_hf.data.EcgTokenizeFunction` that turns a bad example into an ``error`` row.

    A batch is tokenized at once; when that fails, example by example, and an example that
    fails gives one row with empty ``input_ids`` and the message in ``error`` (the other rows
    have ``error == ""``). :func:`tokenize_skipping` then removes those rows and reports them.

    Args:
        processor, max_length, keep_columns: as for ``EcgTokenizeFunction``.
        drop_flat: leave out constant (lead-off) windows (``EcgTokenizeFunction``'s behaviour)
            instead of failing the example.
    """

    def __init__(self, processor, max_length: int = 512, keep_columns: list[str] | None = None, drop_flat: bool = True):
        super().__init__(processor, max_length, keep_columns)
        self.drop_flat = bool(drop_flat)

    def _encode(self, batch: dict[str, list], keep: list[str]) -> dict[str, list]:
        if self.drop_flat:
            out = super().__call__(batch)
        else:  # the same rows, but a constant window is an error
            import numpy as np

            enc = self.processor(
                ecg=[np.asarray(signal, dtype=np.float64) for signal in batch["signal"]],
                sampling_rate=[float(fs) for fs in batch["sampling_rate"]],
                drop_flat=False,
                truncation=True,
                max_length=self.max_length,
            )
            out = {c: [batch[c][example] for example in enc["overflow_to_sample_mapping"]] for c in keep}
            for key in ("input_ids", "attention_mask", "lead_index", "window_index"):
                out[key] = list(enc[key])
        out["error"] = [""] * len(out["input_ids"])
        return out

    def __call__(self, batch: dict[str, list]) -> dict[str, list]:
        keep = [c for c in batch if c != "signal"] if self.keep_columns is None else [c for c in self.keep_columns if c in batch]
        try:
            return self._encode(batch, keep)
        except (ValueError, TypeError):
            pass
        out = {c: [] for c in keep + ["input_ids", "attention_mask", "lead_index", "window_index", "error"]}
        for i in range(len(batch["signal"])):
            one = {c: batch[c][i : i + 1] for c in batch}
            try:
                part = self._encode(one, keep)
            except (ValueError, TypeError) as err:
                part = {c: one[c] for c in keep}
                part.update(input_ids=[[]], attention_mask=[[]], lead_index=[-1], window_index=[-1], error=[str(err)])
            for c in out:
                out[c] += part[c]
        return out


def _describe(row: dict) -> str:
    where = [f"record {row['record_id']}"] if "record_id" in row else []
    if "start" in row:
        where.append(f"from sample {row['start']}")
    return " ".join(where) or "an example"


def tokenize_skipping(
    dsd, processor, max_length: int, drop_flat: bool, on_error: str, skipped: list[tuple[str, str]], num_proc: int | None = None, batch_size: int = 16
):
    """Tokenize every split with ``processor`` (a ``HeartBertProcessor`` or tokenizer); examples that fail are removed and listed in ``skipped`` (or raised)."""
    import datasets

    fn = SkippingTokenizeFunction(processor, max_length, drop_flat=drop_flat)
    out = datasets.DatasetDict()
    for split, ds in dsd.items():
        tok = ds.map(fn, batched=True, batch_size=batch_size, remove_columns=ds.column_names, num_proc=num_proc, desc=f"Tokenizing {split}")
        bad = tok.filter(lambda e: e != "", input_columns=["error"], desc="Collecting errors") if len(tok) else tok
        for row in bad:
            message = f"{split}: {_describe(row)}: {row['error']}"
            if on_error == "raise":
                raise ValueError(message)
            skipped.append((f"{split} {_describe(row)}", row["error"]))
        if len(bad):
            tok = tok.filter(lambda e: e == "", input_columns=["error"], desc="Removing failed examples")
        out[split] = tok.remove_columns("error")
    return out


def card_text(args: DataArguments, dsd, tokenizer_name: str | None) -> str:
    """A short dataset card for the prepared output."""
    rows = "\n".join(f"| {split} | {len(ds)} |" for split, ds in dsd.items())
    source = (
        "combined MIT-BIH / PTB-XL / European ST-T pretraining corpus" if args.dataset == "corpus" else f"{args.dataset} ({args.config or 'default'} config)"
    )
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
        api: a ``huggingface_hub.HfApi`` (default: a new one; honours ``HF_ENDPOINT``); the upload is
            :func:`heartbert_hf.hub.push_folder`'s.
        staging_dir: where to write the Parquet folder (default: a temporary folder).

    Returns:
        The staging folder path.
    """
    import tempfile

    from huggingface_hub import constants

    from .hub import push_folder

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
    push_folder(folder, repo_id, repo_type="dataset", commit_message="heartbert prepare", private=private, api=api, ignore_patterns=())
    return str(folder)


def _usable_for_fitting(train, skipped: list[tuple[str, str]], on_error: str):
    """``train`` without the examples the feature extractor's signal path refuses (NaN, too short), which are listed."""
    import numpy as np

    from .ecg_signal import prepare_windows

    def check(signal, fs):
        try:
            prepare_windows(np.asarray(signal, dtype=np.float64), float(fs), drop_flat=True)
        except (ValueError, TypeError) as err:
            return str(err)
        return ""

    errors = [check(sig, fs) for sig, fs in zip(train["signal"], train["sampling_rate"])]
    bad = [i for i, e in enumerate(errors) if e]
    for i in bad:
        message = f"train {_describe(train[i])}: {errors[i]}"
        if on_error == "raise":
            raise ValueError(message)
        skipped.append((f"train {_describe(train[i])}", errors[i]))
    return train.select([i for i, e in enumerate(errors) if not e])


def prepare(data_args: DataArguments, tok_args: TokenizeArguments, hub_args: HubArguments, skipped: list[tuple[str, str]] | None = None):
    """Run the whole preparation; returns the prepared ``DatasetDict``.

    Args:
        data_args, tok_args, hub_args: the options.
        skipped: receives ``(what, reason)`` for every record or example left out.
    """
    from .runtime import check_replaceable_output, set_torch_threads

    set_torch_threads(data_args.torch_threads)
    skipped = [] if skipped is None else skipped
    out = Path(data_args.output_dir).expanduser()  # also when set from Python, not the command line (runtime.expand_user_paths)
    inputs = {f"--{name}": getattr(data_args, name) for name in ("data_dir", "mitdb_dir", "ptbxl_dir", "edb_dir", "cache_dir")}
    check_replaceable_output(out, {**inputs, "--tokenizer": tok_args.tokenizer if tok_args.tokenize else None}, data_args.overwrite_output_dir)
    dsd = load_source(data_args, skipped)
    processor, tok_name = None, None
    if tok_args.tokenize:
        from .data import train_tokenizer
        from .processing_heartbert import HeartBertProcessor

        if tok_args.tokenizer:
            from .runtime import check_model_path, load_heartbert_processor

            tok_path = check_model_path(tok_args.tokenizer, "tokenizer folder")  # a Hub id's cached copy when the Hub cannot be asked
            processor, tok_name = load_heartbert_processor(tok_path), tok_args.tokenizer
        else:
            if "train" not in dsd:
                raise ValueError(f"no train split to fit the tokenizer on (splits: {list(dsd)}); pass --tokenizer.")
            logger.info("fitting the tokenizer on the train split (%d examples)", len(dsd["train"]))
            fit = dict(vocab_size=tok_args.vocab_size, max_examples=tok_args.tokenizer_max_examples, seed=data_args.seed)
            try:
                tokenizer = train_tokenizer(dsd["train"], **fit)
            except ValueError:
                # an example the signal path refuses: find it, leave it out (or raise naming it), fit again
                usable = _usable_for_fitting(dsd["train"], skipped, data_args.on_error)
                if len(usable) == len(dsd["train"]):
                    raise
                tokenizer = train_tokenizer(usable, **fit)
            processor = HeartBertProcessor.from_tokenizer(tokenizer)
            tok_name = f"fitted on the train split (vocab {tok_args.vocab_size})"
        dsd = tokenize_skipping(
            dsd, processor, tok_args.max_length, tok_args.drop_flat, data_args.on_error, skipped, num_proc=data_args.num_proc, batch_size=tok_args.batch_size
        )
    tmp = out.with_name(f"{out.name}.incomplete-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        dsd.save_to_disk(str(tmp))
        if processor is not None:  # tokenizer files + quantizer.json + processor_config.json: AutoProcessor/AutoTokenizer load it
            processor.save_pretrained(str(tmp / "tokenizer"))
        card = card_text(data_args, dsd, tok_name)
        (tmp / "README.md").write_text(card)
        if skipped:
            (tmp / "skipped.json").write_text(json.dumps([{"what": what, "reason": why} for what, why in skipped], indent=1))
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
    from .runtime import HfArgumentParser

    parser = HfArgumentParser(
        (DataArguments, TokenizeArguments, HubArguments), prog="heartbert prepare", description=__doc__.split("\n")[0], formatter_class=HelpFormatter
    )
    data_args, tok_args, hub_args = parser.parse_args_into_dataclasses(args=list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    skipped: list[tuple[str, str]] = []
    try:
        dsd = prepare(data_args, tok_args, hub_args, skipped)
    except (ValueError, FileNotFoundError) as err:
        print(f"heartbert prepare: error: {err}", file=sys.stderr)
        return 2
    for split, ds in dsd.items():
        print(f"{split}: {len(ds)} rows")
    print(f"saved to {data_args.output_dir}")
    if skipped:
        print(f"skipped {len(skipped)} record(s)/example(s) (also in {Path(data_args.output_dir) / 'skipped.json'}):", file=sys.stderr)
        for what, why in skipped:
            print(f"  {what}: {why}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
