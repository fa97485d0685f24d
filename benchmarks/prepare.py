"""Time `heartbert prepare` end to end on the MIT-BIH records in ../shared/physionet/mitdb.

Each run uses a fresh datasets cache (nothing reused): build the windows config, fit the tokenizer on
the train split (DS1 records), tokenize every split, save to disk. Prints samples/s, where samples =
raw signal samples (all leads) of the records used (paced
records 102/104/107/217 are excluded from the corpus).

    python benchmarks/prepare.py [--mitdb_dir DIR] [--num_proc 1 2] [--vocab_size 1000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import wfdb


def main() -> None:
    repo = Path(__file__).resolve().parents[1]
    default = Path(os.environ.get("HEARTBERT_SHARED_PHYSIONET", repo.parent / "shared" / "physionet")) / "mitdb"
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mitdb_dir", default=str(default))
    parser.add_argument("--num_proc", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--vocab_size", type=int, default=1000)
    parser.add_argument("--tokenizer_max_examples", type=int, default=500)
    args = parser.parse_args()

    from heartbert_hf.data.splits import MITDB_PACED
    from heartbert_hf.prepare import main as prepare_main

    # the corpus leaves out the paced records (de Chazal), so they are not counted
    records = sorted(p.stem for p in Path(args.mitdb_dir).glob("*.hea") if p.stem not in MITDB_PACED)
    samples = sum(h.sig_len * h.n_sig for h in (wfdb.rdheader(str(Path(args.mitdb_dir) / r)) for r in records))
    print(f"{len(records)} records, {samples} samples (all leads)")
    for num_proc in args.num_proc:
        work = Path(tempfile.mkdtemp(prefix="heartbert_bench_"))
        try:
            start = time.perf_counter()
            prepare_main(
                [
                    "--dataset",
                    "corpus",
                    "--mitdb_dir",
                    args.mitdb_dir,
                    "--output_dir",
                    str(work / "out"),
                    "--cache_dir",
                    str(work / "cache"),
                    "--num_proc",
                    str(num_proc),
                    "--vocab_size",
                    str(args.vocab_size),
                    "--tokenizer_max_examples",
                    str(args.tokenizer_max_examples),
                ]
            )
            elapsed = time.perf_counter() - start
            print(f"num_proc={num_proc}: {elapsed:.1f} s, {samples / elapsed:,.0f} samples/s")
        finally:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
