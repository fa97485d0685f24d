"""``heartbert plot``: draw one window of a WFDB record, its quantized reconstruction and its BPE tokens, to PNG.

    heartbert plot --record RECORD --tokenizer PATH --output tokens.png

``RECORD`` with or without ``.hea`` (or an EDF file, ``*.edf``), e.g.
``heartbert plot --record heartbert_hf/sample_data/208 --tokenizer heartbert-runs/quickstart --window 2 --lead 1 --ecg_grid``.
The figure functions themselves are in :mod:`heartbert_hf.plotting`.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from .runtime import THREADS_HELP, HelpFormatter


@dataclass
class PlotArguments:
    record: str = field(metadata={"help": "WFDB record path, with or without .hea, e.g. heartbert_hf/sample_data/208."})
    tokenizer: str = field(metadata={"help": "A saved HeartBert processor, tokenizer or model folder (or Hub id)."})
    output: str = field(
        default="heartbert_tokens.png",
        metadata={"help": "PNG file to write (.png added when it has no suffix); an existing folder gets RECORD_windowW_leadL.png inside it."},
    )
    window: int = field(default=0, metadata={"help": "Window number within the record (windows of 4000 samples at 360 Hz, about 11.1 s)."})
    lead: int = field(default=0, metadata={"help": "Lead (channel) number."})
    max_tokens: int = field(default=150, metadata={"help": "Draw the first N tokens of the window."})
    ecg_grid: bool = field(default=False, metadata={"help": "Draw ECG paper: 0.04 s / 0.1 mV small boxes, 0.2 s / 0.5 mV big boxes."})
    torch_threads: int = field(default=0, metadata={"help": THREADS_HELP})


def _record_stem(record: str) -> Path:
    """The record path without a WFDB extension; a clear error when its header is missing."""
    import difflib

    from .data.record_case import header_file

    path = Path(record)
    if path.suffix.lower() == ".edf" and path.is_file():  # read_record reads EDF and EDF+ files
        return path
    if path.suffix.lower() in (".hea", ".dat", ".atr"):  # any case: 101.HEA from FAT media
        path = path.with_suffix("")
    header = path.with_name(path.name + ".hea")
    if header_file(path) is None:
        folder = path.parent
        if not folder.is_dir():
            raise FileNotFoundError(f"no WFDB record {record}: the folder {folder} does not exist.")
        names = sorted(p.stem for p in folder.iterdir() if p.suffix.lower() == ".hea")
        close = difflib.get_close_matches(path.name, names, n=3)
        hint = (
            f" Did you mean {', '.join(str(folder / c) for c in close)}?"
            if close
            else (f" Records there: {', '.join(names[:10])}." if names else " It holds no *.hea file.")
        )
        raise FileNotFoundError(f"no WFDB record {record}: {header} does not exist.{hint}")
    return path


def main(argv: list[str] | None = None) -> int:
    """``heartbert plot``: draw a window of a WFDB record with its tokens.

    Returns:
        0 on success, 2 with a one-line error (missing record or tokenizer, no such window/lead).
    """
    from .data.wfdb_io import read_record
    from .plotting import plot_tokens
    from .runtime import HfArgumentParser, check_model_path, check_output_file, load_heartbert_processor, set_torch_threads

    parser = HfArgumentParser(
        PlotArguments,
        prog="heartbert plot",
        description="Draw one window of a WFDB record, its quantized reconstruction and its BPE tokens, to PNG.",
        formatter_class=HelpFormatter,
    )
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    try:
        set_torch_threads(args.torch_threads)
        stem = _record_stem(args.record)
        tokenizer = check_model_path(args.tokenizer, "tokenizer folder")
        record = read_record(stem)
        output = Path(args.output).expanduser()
        if output.is_dir():  # like `cp FILE DIR/`: a generated name inside the folder
            output = output / f"{record.record_id}_window{args.window}_lead{args.lead}.png"
        check_output_file(output, "--output", "a PNG file", ".png")
        processor = load_heartbert_processor(tokenizer)
        lead_name = record.lead_names[args.lead] if 0 <= args.lead < len(record.lead_names) else None
        try:
            path = plot_tokens(
                processor,
                record.signal,
                record.sampling_rate,
                output,
                window=args.window,
                lead=args.lead,
                max_tokens=args.max_tokens,
                record=record.record_id,
                lead_name=lead_name,
                units=(record.units[args.lead] if lead_name and record.units else "mV"),
                ecg_grid=args.ecg_grid,
            )
        except ValueError as err:  # the window's errors name the lead and window; add the record
            raise ValueError(f"record {record.record_id}: {err}") from None
    except (FileNotFoundError, ValueError, OSError) as err:
        print(f"heartbert plot: error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0
