"""``heartbert embed``: one pooled HeartBert vector per ECG window, to Parquet.

    heartbert embed --model PATH --input 101 208 --output emb.parquet        # WFDB records
    heartbert embed --model PATH --input records_dir/ --output emb.parquet    # every *.hea / *.edf in a folder
    heartbert embed --model PATH --input saved_dataset/ --output emb.parquet  # Dataset.save_to_disk

Each record (or dataset row) goes through :func:`heartbert_hf.inference.iter_embeddings` (the one
inference path: GPU when there is one, batched, read block by block so memory stays bounded on long
records): it is cut into the feature extractor's windows (per lead); a window whose tokens exceed
``max_length`` becomes several near-equal sequences, and its embedding is the token-weighted mean of
their masked-mean embeddings, i.e. the mean over all of the window's tokens. Rows: ``record_id``,
``example`` (row of a dataset input, else 0), ``lead``, ``lead_name``, ``window``,
``start_sample`` (in the input's own sampling rate), ``n_sequences``, ``embedding`` (float32 list).

Without ``--leads``, only a record's ECG leads are embedded: its signals in voltage units (mV, uV, V;
no units: mV, the WFDB default) whose names are no standard non-ECG name (EEG, EOG, EMG, Resp, 10-20
EEG derivations such as C4-A1). The others (PLETH in NU, ABP in mmHg, EEG in uV, ...) are listed at
the end, and ``--leads`` names them to embed them anyway (:mod:`heartbert_hf.data.lead_units`). A
record with no ECG lead is a bad record. ``--leads`` takes names or signal indices from 0; a name that
several signals share (Holter records naming every signal ``ECG``) selects all of them, and their rows'
``lead_name`` carries the index: ``ECG (signal 0)``, ``ECG (signal 1)``. ``--input`` also takes EDF
and EDF+ files (``*.edf``; the ECG leads are chosen from the EDF header, and only they are read), and
WFDB records whose file names are in another case (``101.HEA``, :mod:`heartbert_hf.data.record_case`).

Bad input does not stop a batch: with ``--on_error skip`` (the default for folders, saved datasets
and lists of records) a record that cannot be read or tokenized (too short, NaN samples, a corrupt
file) is skipped, every good record is written, and the run ends with the list of what was skipped
and why. Constant (lead-off) windows are left out (``--drop_flat``, default on) and listed too.
``--on_error raise`` (the default for a single record) stops at the first bad record.

``pipeline("feature-extraction")`` is not used: it takes text, not (signal, sampling rate), and
returns token states rather than one vector per window, so it would need a custom pipeline class
for less than this function does.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .runtime import THREADS_HELP, HelpFormatter

logger = logging.getLogger(__name__)

ON_ERROR = ("auto", "skip", "raise")


@dataclass
class EmbedArguments:
    """Options of ``heartbert embed``."""

    model: str = field(metadata={"help": "HeartBert folder or Hub id (pretrained or fine-tuned) with its tokenizer"})
    input: list[str] = field(metadata={"help": "WFDB record paths (with or without .hea), folders of records, or a Dataset.save_to_disk folder"})
    output: str = field(default="embeddings.parquet", metadata={"help": "Parquet file to write"})
    leads: list[str] | None = field(
        default=None, metadata={"help": "WFDB lead names or signal indices to keep (default: the ECG leads, by units and name; the others are listed)"}
    )
    split: str | None = field(default=None, metadata={"help": "split of a saved DatasetDict (default: all splits)"})
    max_length: int = field(default=0, metadata={"help": "tokens per sequence (0: the model's positions - 2, at most 512)"})
    batch_size: int = field(default=0, metadata={"help": "sequences per forward pass (0: automatic, 512 tokens a pass on CPU, 64 sequences on a GPU)"})
    precision: str = field(default="fp32", metadata={"help": "fp32, bf16 (autocast) or int8 (dynamic quantization, CPU only); see docs/inference.md"})
    on_error: str = field(
        default="auto",
        metadata={
            "help": "a record that cannot be read or tokenized: 'skip' it (listed at the end) or 'raise'; "
            "'auto': skip for folders, datasets and several records, raise for one record"
        },
    )
    drop_flat: bool = field(default=True, metadata={"help": "leave out constant (lead-off) windows and list them; --drop_flat False makes them errors"})
    torch_threads: int = field(default=0, metadata={"help": THREADS_HELP})


@dataclass
class Source:
    """One ECG to embed: where it comes from, how to load it, and how many windows it should give."""

    record_id: str
    example: int
    load: Callable[[], tuple[np.ndarray, float, list[str]]]
    n_windows: int | None = None
    left_out: list[str] = field(default_factory=list)  # "NAME [units]" of non-ECG signals left out, known once loaded

    @property
    def name(self) -> str:
        return self.record_id if self.example == 0 else f"{self.record_id} (row {self.example})"


@dataclass
class EmbedReport:
    """What a run skipped: whole records (``(name, reason)``) and flat windows (``(name, lead, window, start in s)``)."""

    skipped: list[tuple[str, str]] = field(default_factory=list)
    flat_windows: list[tuple[str, str, int, float]] = field(default_factory=list)
    n_sources: int = 0
    non_ecg: list[tuple[str, list[str]]] = field(default_factory=list)  # (name, ["PLETH [NU]", ...]) left out

    def lines(self) -> list[str]:
        """The end-of-run summary, one line per item."""
        out = []
        if self.non_ecg:
            out.append(f"left out the non-ECG signals (units not a voltage, or a non-ECG name) of {len(self.non_ecg)} record(s); --leads NAME ... embeds them:")
            out += [f"  {name}: {', '.join(signals)}" for name, signals in self.non_ecg]
        if self.skipped:
            out.append(f"skipped {len(self.skipped)} of {self.n_sources} record(s):")
            out += [f"  {name}: {reason}" for name, reason in self.skipped]
        if self.flat_windows:
            out.append(f"left out {len(self.flat_windows)} constant (lead-off) window(s) (--drop_flat):")
            out += [f"  {name}: lead {lead}, window {window} (from {start:.1f} s)" for name, lead, window, start in self.flat_windows]
        return out


def _expected_windows(n_samples: int, n_leads: int, fs: float, features) -> int:
    """Windows (all leads) a signal of ``n_samples`` at ``fs`` gives: the feature extractor's windowing after resampling."""
    from .ecg_signal import resampled_length, window_bounds

    n = resampled_length(n_samples, fs, features.target_rate)
    try:
        return n_leads * len(window_bounds(n, features.window_size, features.min_window))
    except ValueError:  # too short: reported when it is embedded
        return 0


def _record_path(item: str) -> Path:
    from .data.wfdb_io import record_path

    return record_path(item)  # 101.hea, 101.DAT -> 101


def iter_sources(inputs: list[str], leads: list[str] | None, split: str | None, features=None) -> list[Source]:
    """Every ECG the ``--input`` values name, not yet read.

    Raises:
        FileNotFoundError: an input is neither a record, a folder of records nor a saved dataset
            (a typo, not a bad record: never skipped).

    ``features`` (the feature extractor) lets each WFDB source count its windows from the header.
    """
    from .data.edf_io import edf_signals
    from .data.lead_units import is_ecg_signal, lead_label, non_ecg_signals, signal_names
    from .data.record_case import header_file
    from .data.record_files import list_local_records
    from .data.wfdb_io import _lead_indices, read_header, read_record

    def select(record_name: str, names: list[str], units: list[str | None]) -> tuple[list[int], list[str]]:
        """``(signal indices to embed, "NAME [units]" left out)``: the ``--leads`` (a name several signals share
        selects them all), else the ECG leads (:func:`heartbert_hf.data.lead_units.is_ecg_signal`)."""
        if leads is not None:
            wanted = [i for lead in leads for i in ([j for j, n in enumerate(names) if n == lead] if names.count(lead) > 1 else [lead])]
            return _lead_indices(record_name, names, wanted), []
        units = list(units or []) + [None] * (len(names) - len(units or []))
        keep, left_out = [i for i, (n, u) in enumerate(zip(names, units)) if is_ecg_signal(n, u)], non_ecg_signals(names, units)
        if not keep:
            raise ValueError(f"none of its signals is an ECG lead by its units and name ({', '.join(left_out)}); pass --leads NAME to embed one anyway.")
        return keep, left_out

    def wfdb_source(stem: Path) -> Source:
        source = Source(stem.stem if stem.suffix.lower() == ".edf" else stem.name, 0, None)
        names = units = None  # from the header; a multi-segment master (or an unreadable EDF header): once read
        if stem.suffix.lower() == ".edf":
            try:  # the ECG leads are chosen from the header, and only they are read (a PSG's EEG may run at another rate)
                names, units = edf_signals(stem)
            except Exception:  # an unreadable header is reported when the file is read
                names = units = None
        else:
            try:
                header = read_header(stem)  # 101.HEA in any case
                if header.sig_name:
                    names, units = signal_names(header.sig_name), list(header.units or [])
                n_leads = len(select(source.name, names, units)[0]) if names else int(header.n_sig)
                if features is not None:
                    source.n_windows = _expected_windows(int(header.sig_len or 0), n_leads, float(header.fs), features)
            except Exception:  # an unreadable header (or a bad --leads) is reported when the record is read
                source.n_windows = None

        def load():
            if names is None:  # read every signal, then choose
                rec = read_record(stem)
                keep, source.left_out = select(source.name, rec.lead_names, rec.units)
                signal, all_names = rec.signal[keep], rec.lead_names
            else:
                keep, source.left_out = select(source.name, names, units)
                rec = read_record(stem, leads=keep)
                signal, all_names = rec.signal, names
            return signal, rec.sampling_rate, [lead_label(all_names, i) for i in keep]  # "ECG (signal 1)" where names repeat

        source.load = load
        return source

    sources: list[Source] = []
    for item in inputs:
        path = Path(item).expanduser()
        if path.is_dir() and ((path / "dataset_info.json").is_file() or (path / "dataset_dict.json").is_file()):
            sources += _dataset_sources(path, split)
        elif path.is_dir():
            names = list_local_records(path)
            if not names:
                raise FileNotFoundError(f"no records (WFDB *.hea headers or *.edf files) in {path}.")
            sources += [wfdb_source(path / name) for name in names]
        elif path.suffix.lower() == ".edf" and path.is_file():
            sources.append(wfdb_source(path))
        else:
            stem = _record_path(str(path))
            if header_file(stem) is None:
                raise FileNotFoundError(f"input {item} is neither a WFDB record (no {stem}.hea), a folder of records, nor a saved dataset.")
            sources.append(wfdb_source(stem))
    return sources


def _dataset_sources(path: Path, split: str | None) -> list[Source]:
    import datasets

    loaded = datasets.load_from_disk(str(path))
    parts = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [(None, loaded)]
    sources = []
    for name, ds in parts:
        if split is not None and name is not None and name != split:
            continue
        missing = {"signal", "sampling_rate"} - set(ds.column_names)
        if missing and "input_ids" in ds.column_names:  # a `heartbert prepare` output: token ids only, cut at its own tokenizer's max_length
            raise ValueError(
                f"dataset {path} ({name or 'dataset'}) is tokenized (input_ids, no signal): embed reads raw ECG and tokenizes it with the model's "
                "own tokenizer. Pass the WFDB records themselves, or a dataset prepared with `heartbert prepare --no_tokenize`."
            )
        if missing:
            raise ValueError(f"dataset {path} ({name or 'dataset'}) lacks column(s) {sorted(missing)}; embed needs the raw ECG (signal, sampling_rate).")
        ids = ds["record_id"] if "record_id" in ds.column_names else [name or "row"] * len(ds)
        for i in range(len(ds)):

            def load(ds=ds, i=i):
                row = ds[i]
                return np.asarray(row["signal"], dtype=np.float64), float(row["sampling_rate"]), list(row.get("lead_names") or [])

            sources.append(Source(str(ids[i]), i, load))
    return sources


def embed_windows(
    model,
    processor,
    signal,
    sampling_rate: float,
    max_length: int,
    batch_size: int | None = None,
    drop_flat: bool = False,
    progress: Callable[[int], None] | None = None,
    precision: str = "fp32",
) -> list[dict]:
    """Embed one ECG through :func:`heartbert_hf.inference.iter_embeddings`.

    Args:
        model: a HeartBert model (its encoder is used; the embedding is the masked mean).
        processor: its ``HeartBertProcessor`` (a ``HeartBertTokenizer`` works too).
        signal: ``(leads, samples)`` or 1-D.
        sampling_rate: Hz.
        max_length: tokens per sequence, special tokens included.
        batch_size: sequences per forward pass (``None`` or 0: the inference module's default).
        drop_flat: leave out constant (lead-off) windows instead of raising.
        progress: called with the number of windows finished after each forward pass.
        precision: ``"fp32"``, ``"bf16"`` or ``"int8"`` (runs on CPU, even where there is a GPU).

    Returns:
        One dict per (lead, window), in the order (window, lead): ``lead``, ``window``,
        ``n_sequences``, ``embedding`` (``(hidden,)`` float32).

    Raises:
        ValueError: the signal is too short, holds NaN, or (without ``drop_flat``) a window is flat;
            the message names the lead and window with its input samples (the caller names the record).
    """
    from .inference import iter_embeddings

    rows = []
    for part in iter_embeddings(
        model,
        processor,
        signal,
        sampling_rate,
        batch_size=batch_size or None,
        precision=precision,
        max_length=max_length,
        drop_flat=drop_flat,
        name=None,
        progress=progress,
        device="cpu" if precision == "int8" else None,
    ):
        rows += [
            {"lead": int(lead), "window": int(window), "n_sequences": int(n), "embedding": vector}
            for vector, lead, window, n in zip(part.embeddings, part.lead_index, part.window_index, part.n_sequences)
        ]
    return rows


def _settle(bar, expected: int | None, done: int) -> None:
    """Take the windows a source did not give (skipped, flat) off the bar's total."""
    if bar.total is not None and expected is not None and expected > done:
        bar.total -= expected - done
        bar.refresh()


def _on_error(args: EmbedArguments) -> str:
    if args.on_error not in ON_ERROR:
        raise ValueError(f"--on_error must be one of {ON_ERROR}, got {args.on_error!r}.")
    if args.on_error != "auto":
        return args.on_error
    single = len(args.input) == 1 and not Path(args.input[0]).expanduser().is_dir()
    return "raise" if single else "skip"


def load_model(model_path: str):
    """``(HeartBertProcessor, HeartBertModel)`` from a folder or Hub id, with errors that say what to pass."""
    from transformers import AutoModel

    from . import HeartBertConfig  # noqa: F401  (registers the Auto classes)
    from .runtime import check_model_path, load_heartbert_processor

    model_path = check_model_path(model_path)  # a Hub id's cached copy when the Hub cannot be asked
    processor = load_heartbert_processor(model_path)
    try:
        model = AutoModel.from_pretrained(model_path).eval()
    except OSError as err:
        raise FileNotFoundError(f"no HeartBert model in {model_path}: {err}") from None
    return processor, model


def embed(args: EmbedArguments, report: EmbedReport | None = None):
    """Run ``heartbert embed``; returns the written ``pandas.DataFrame``.

    Args:
        args: the options.
        report: filled with what was skipped (a new one when ``None``; see :class:`EmbedReport`).

    Raises:
        FileNotFoundError: a missing model or input.
        ValueError: a bad record with ``on_error="raise"`` (the message names the record, lead and
            window), or no record could be embedded.
    """
    import pandas as pd
    from tqdm.auto import tqdm
    from transformers.utils import logging as hf_logging

    from .inference import PRECISIONS
    from .runtime import check_output_file, resolve_max_length, set_torch_threads

    report = report if report is not None else EmbedReport()
    on_error = _on_error(args)
    if args.precision not in PRECISIONS:
        raise ValueError(f"--precision must be one of {PRECISIONS}, got {args.precision!r}.")
    if args.batch_size < 0:
        raise ValueError(f"--batch_size must be 0 (automatic) or a positive count, got {args.batch_size}.")
    output = check_output_file(args.output, "--output", "a Parquet file", ".parquet")  # ~ expanded; before minutes of embedding, not after
    set_torch_threads(args.torch_threads)
    hf_logging.disable_progress_bar()  # the weight-loading bar: one per run, no information
    processor, model = load_model(args.model)
    features = processor.feature_extractor
    max_length = resolve_max_length(args.max_length, model.config)
    step = features.window_size / features.target_rate
    sources = iter_sources(args.input, args.leads, args.split, features)
    report.n_sources = len(sources)
    total = sum(s.n_windows for s in sources) if all(s.n_windows is not None for s in sources) else None
    records = []
    with tqdm(total=total, desc="Embedding", unit="window") as bar:
        for source in sources:
            bar.set_postfix_str(source.name, refresh=False)
            try:
                try:
                    signal, fs, lead_names = source.load()
                except (ValueError, TypeError, FileNotFoundError):
                    raise
                except Exception as err:  # any reader failure on a malformed file is that record's problem, not the job's
                    raise ValueError(f"cannot read the record ({type(err).__name__}: {err})") from err
                rows = embed_windows(
                    model, processor, signal, fs, max_length, args.batch_size, drop_flat=args.drop_flat, progress=bar.update, precision=args.precision
                )
            except (ValueError, TypeError, FileNotFoundError) as err:
                message = f"record {source.name}: {err}"
                if on_error == "raise":
                    raise ValueError(message) from err
                logger.debug("skipping %s", message)
                report.skipped.append((source.name, str(err)))
                _settle(bar, source.n_windows, 0)
                continue
            _settle(bar, source.n_windows, len(rows))
            if source.left_out:
                report.non_ecg.append((source.name, source.left_out))

            def names(lead: int, lead_names=lead_names) -> str:
                return lead_names[lead] if lead < len(lead_names) else str(lead)

            if args.drop_flat:
                n_leads = 1 if np.ndim(signal) == 1 else len(signal)
                present = {(r["lead"], r["window"]) for r in rows}
                n_windows = _expected_windows(np.shape(signal)[-1], 1, fs, features)
                report.flat_windows += [
                    (source.name, names(lead), w, w * step) for w in range(n_windows) for lead in range(n_leads) if (lead, w) not in present
                ]
            for row in rows:
                lead = row["lead"]
                records.append(
                    {
                        "record_id": source.record_id,
                        "example": source.example,
                        "lead": lead,
                        "lead_name": names(lead),
                        "window": row["window"],
                        "start_sample": int(round(row["window"] * step * fs)),
                        "n_sequences": row["n_sequences"],
                        "embedding": row["embedding"].tolist(),
                    }
                )
    if not records:
        detail = "; ".join(f"{name}: {reason}" for name, reason in report.skipped[:5])
        raise ValueError(f"no windows to embed in {args.input}" + (f" (skipped: {detail})." if detail else "."))
    frame = pd.DataFrame.from_records(records)
    output.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(output, index=False)
    return frame


def main(argv: list[str] | None = None) -> int:
    """``heartbert embed``: parse ``argv`` and run (see the module doc).

    Args:
        argv: command-line arguments (default ``sys.argv[1:]``).

    Returns:
        0 when embeddings were written (skipped records are listed on stderr), 2 on an error.
    """
    from .runtime import HfArgumentParser

    parser = HfArgumentParser(EmbedArguments, prog="heartbert embed", description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter)
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    report = EmbedReport()
    t0 = time.perf_counter()
    try:
        frame = embed(args, report)
    except (ValueError, FileNotFoundError) as err:
        for line in report.lines():
            print(line, file=sys.stderr)
        print(f"heartbert embed: error: {err}", file=sys.stderr)
        return 2
    print(
        f"{len(frame)} window embeddings of size {len(frame['embedding'].iloc[0])} from {frame['record_id'].nunique()} record(s) "
        f"→ {args.output} ({time.perf_counter() - t0:.1f} s)"
    )
    for line in report.lines():
        print(line, file=sys.stderr)
    return 0
