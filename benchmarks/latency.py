"""Latency of one 10-s single-lead ECG → embedding at the published shape, against the stock RobertaModel.

    python benchmarks/latency.py [--tokenizer DIR | --save_tokenizer DIR] [--rounds 7] [--threads 2]

Model: a random-init ``HeartBertModel`` of the published shape (6 layers x 768 hidden, 12 heads,
3072 intermediate, 514 positions, vocabulary 16,000; weights do not change the cost), and the stock
``transformers.RobertaModel`` of the same shape holding the same weights (so their fp32 outputs agree).
Input: the first 10 s of lead 0 of the shipped MIT-BIH record 118 (3,600 samples at 360 Hz).
Processor (``HeartBertProcessor``: feature extractor + tokenizer): ``--tokenizer DIR`` (a folder saved by
``processor.save_pretrained`` or ``tokenizer.save_pretrained``), else a 16k BPE trained here on the MIT-BIH
DS1 records other than 118 from ``$HEARTBERT_SHARED_PHYSIONET/mitdb`` (about 5 minutes on a busy 2-core
machine; ``--save_tokenizer`` keeps it, with its processor), else on the shipped records 101 and 208.

Rows, each timed once per round, rounds interleaved (so a busy machine slows every row alike),
median and minimum over rounds:

Wall ms is what a user waits; CPU ms (process time, all threads) is the work, which other jobs on the
machine disturb less: on one thread it is the idle-machine latency.

* ``heartbert e2e``: :func:`heartbert_hf.inference.embed_ecg`, ECG array → window embedding
  (processor included);
* ``heartbert model`` / ``roberta model``: the model alone on the same token ids, as HeartBert runs
  them (length-sorted batch, no mask when nothing is padded) and as the stock recipe does (one
  padded batch with its attention mask);
* precisions ``fp32``, ``bf16`` (autocast), ``int8`` (dynamic quantization of every Linear), and
  ``bf16w`` (a bf16 copy of the weights, no autocast) as a lever under study;
* chunking ``naive`` (the processor's overflow: L + L + rest) or ``balanced`` (near-equal sequences).

A second case takes 1,234 content tokens (the issue's example: 3 sequences of 512 positions naive,
3 x 413 balanced) and times the two models alone. Cosine similarity is to the fp32 naive embedding.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout, when the package is not installed

DS1 = "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230".split()
HELD_OUT = "118"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def load_processor(args):
    """``(HeartBertProcessor, where it came from)``: ``--tokenizer DIR``, else fitted here (see the module doc)."""
    import wfdb

    from heartbert_hf import HeartBertProcessor, HeartBertTokenizer
    from heartbert_hf.runtime import load_heartbert_processor

    if args.tokenizer:
        return load_heartbert_processor(args.tokenizer), f"loaded from {args.tokenizer}"
    shared = Path(os.environ.get("HEARTBERT_SHARED_PHYSIONET", HERE.parent.parent / "shared" / "physionet")) / "mitdb"
    if (shared / "101.hea").is_file():
        names = [r for r in DS1 if r != HELD_OUT and (shared / f"{r}.hea").is_file()]
        signals = [wfdb.rdrecord(str(shared / r)).p_signal.T for r in names]
        source = f"trained here on {len(names)} MIT-BIH DS1 records (118 held out)"
    else:
        sample = HERE.parent / "heartbert_hf" / "sample_data"
        signals = [wfdb.rdrecord(str(sample / r)).p_signal.T for r in ("101", "208")]
        source = "trained here on the shipped records 101 and 208 (no shared PhysioNet folder)"
    t = time.perf_counter()
    processor = HeartBertProcessor.from_tokenizer(HeartBertTokenizer.train_from_ecg(signals, 360, vocab_size=args.vocab_size, show_progress=False))
    source += f" in {time.perf_counter() - t:.0f} s"
    if args.save_tokenizer:
        processor.save_pretrained(args.save_tokenizer)
    return processor, source


def build_models(vocab_size: int):
    from transformers import RobertaConfig, RobertaModel

    from heartbert_hf import HeartBertConfig, HeartBertModel

    shape = dict(
        vocab_size=vocab_size,
        hidden_size=768,
        num_hidden_layers=6,
        num_attention_heads=12,
        intermediate_size=3072,
        max_position_embeddings=514,
        type_vocab_size=1,
        layer_norm_eps=1e-5,
    )
    torch.manual_seed(0)
    heartbert = HeartBertModel(HeartBertConfig(**shape)).eval()
    roberta = RobertaModel(RobertaConfig(**shape), add_pooling_layer=False).eval()
    missing, unexpected = roberta.load_state_dict(heartbert.state_dict(), strict=False)
    if missing or unexpected:
        raise RuntimeError(f"weights did not transfer: missing {missing}, unexpected {unexpected}")
    return heartbert, roberta


def stock_embedding(model, sequences, precision: str) -> np.ndarray:
    """The stock recipe: one padded batch + attention mask, masked mean, token-weighted over sequences."""
    width = max(len(s) for s in sequences)
    ids = torch.tensor([list(s) + [1] * (width - len(s)) for s in sequences])
    mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in sequences])
    autocast = torch.autocast("cpu", dtype=torch.bfloat16) if precision == "bf16" else torch.autocast("cpu", enabled=False)
    with torch.inference_mode(), autocast:
        hidden = model(input_ids=ids, attention_mask=mask).last_hidden_state.float()  # (n, width, hidden)
    m = mask.unsqueeze(-1).float()
    pooled = (hidden * m).sum(1) / m.sum(1)  # (n, hidden)
    w = m.sum(1)  # (n, 1)
    return ((pooled * w).sum(0) / w.sum()).numpy()


def heartbert_embedding(model, sequences, precision: str) -> np.ndarray:
    from heartbert_hf import inference as inf

    pooled = inf._run_batches(model, sequences, inf._pooled, batch_size=None, device=torch.device("cpu"), precision=precision, pad_id=1)
    w = np.asarray([len(s) for s in sequences], dtype=np.float64)
    return (pooled * w[:, None]).sum(0) / w.sum()


def variants(model):
    """precision → (model to run, autocast precision): fp32, bf16 autocast, int8 dynamic, bf16 weights."""
    import copy

    from heartbert_hf.inference import quantize_int8

    return {"fp32": (model, "fp32"), "bf16": (model, "bf16"), "int8": (quantize_int8(model), "fp32"), "bf16w": (copy.deepcopy(model).bfloat16(), "fp32")}


def timed(fn, rows: dict, key) -> None:
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    if rows.get(key) is None:
        rows[key] = {"ms": [], "cpu_ms": [], "out": out}
    row = rows[key]
    row["ms"].append(1e3 * (time.perf_counter() - start))
    row["cpu_ms"].append(1e3 * (time.process_time() - cpu))


def run_case(cases: dict, rounds: int) -> dict:
    """Time every case once per round, in a new random order each round, after one warm-up call each."""
    import random

    rows: dict = {key: None for key in cases}  # keeps the table in the cases' order
    for fn in cases.values():
        fn()
    for number in range(rounds):
        keys = list(cases)
        random.Random(number).shuffle(keys)
        for key in keys:
            timed(cases[key], rows, key)
    return rows


def print_table(title: str, rows: dict, reference: np.ndarray, n_tokens: int) -> None:
    print(f"\n{title} ({n_tokens} content tokens)")
    print(f"| {'path':16} | {'precision':9} | {'chunks':8} | {'median ms':>9} | {'min ms':>7} | {'CPU ms':>7} | {'cos to fp32':>11} |")
    print(f"|{'-' * 18}|{'-' * 11}|{'-' * 10}|{'-' * 11}|{'-' * 9}|{'-' * 9}|{'-' * 13}|")
    for (path, precision, chunks), row in rows.items():
        out = np.asarray(row["out"], dtype=np.float64).reshape(-1)
        cos = float(out @ reference / (np.linalg.norm(out) * np.linalg.norm(reference)))
        print(
            f"| {path:16} | {precision:9} | {chunks:8} | {statistics.median(row['ms']):9.1f} | {min(row['ms']):7.1f} | {statistics.median(row['cpu_ms']):7.1f} | {cos:11.6f} |"
        )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokenizer", help="a saved HeartBert processor or tokenizer folder (default: fit a 16k BPE here)")
    parser.add_argument("--save_tokenizer", help="where to save the processor (tokenizer + feature extractor) fitted here")
    parser.add_argument("--vocab_size", type=int, default=16000)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--long_tokens", type=int, default=1234, help="content tokens of the second case (0: skip it)")
    parser.add_argument("--precisions", default="fp32,bf16,int8", help="comma-separated; bf16w (a bf16 copy of the weights) is also known")
    args = parser.parse_args(argv)

    import warnings

    import wfdb

    from heartbert_hf import inference as inf

    warnings.filterwarnings("ignore")
    torch.set_num_threads(args.threads)
    load_before = os.getloadavg()
    processor, source = load_processor(args)
    tok = processor.tokenizer
    heartbert, roberta = build_models(len(tok))
    ecg = wfdb.rdrecord(str(HERE.parent / "heartbert_hf" / "sample_data" / HELD_OUT)).p_signal.T[0, :3600]
    ids = [w.ids for block in inf.iter_window_tokens(processor, ecg, 360) for w in block][0]
    precisions = args.precisions.split(",")
    hb, rb = variants(heartbert), variants(roberta)

    def sequences(content, balanced):
        return inf.window_sequences(content, 512, tok.cls_token_id, tok.sep_token_id, balanced)

    reference = heartbert_embedding(heartbert, sequences(ids, False), "fp32")
    check = stock_embedding(roberta, sequences(ids, False), "fp32")
    gap = float(np.abs(reference - check).max())
    cases = {}
    for precision in precisions:
        for chunks, balanced in (("naive", False), ("balanced", True)):
            seqs = sequences(ids, balanced)
            e2e_model, e2e_precision = (heartbert, precision) if precision in inf.PRECISIONS else hb[precision]
            cases[("heartbert e2e", precision, chunks)] = lambda m=e2e_model, p=e2e_precision, b=balanced: (
                inf.embed_ecg(m, processor, ecg, 360, precision=p, balanced_chunks=b).embeddings
            )
            model, autocast = hb[precision]
            cases[("heartbert model", precision, chunks)] = lambda m=model, a=autocast, s=seqs: heartbert_embedding(m, s, a)
            model, autocast = rb[precision]
            cases[("roberta model", precision, chunks)] = lambda m=model, a=autocast, s=seqs: stock_embedding(m, s, a)
    cases[("processor only", "-", "-")] = lambda: np.asarray(processor(ecg=ecg, sampling_rate=360, add_special_tokens=False)["input_ids"][0], dtype=np.float64)
    rows = run_case(cases, args.rounds)
    processor_ms = statistics.median(rows.pop(("processor only", "-", "-"))["ms"])

    print(f"# HeartBert inference latency, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(
        f"machine: {cpu_model()}, {os.cpu_count()} logical CPUs, torch {torch.__version__} with {torch.get_num_threads()} threads; "
        f"load average {load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after (other jobs were running: figures are medians of interleaved rounds)"
    )
    print(f"processor: {source}; vocabulary {len(tok)}; processor alone (ECG -> token ids) {processor_ms:.1f} ms")
    print(f"model: random-init published shape; HeartBertModel vs RobertaModel fp32 max |diff| {gap:.2e}; {args.rounds} rounds")
    print_table("10-s single-lead ECG (record 118, lead 0, first 3,600 samples)", rows, reference, len(ids))

    if args.long_tokens:
        long_ecg = wfdb.rdrecord(str(HERE.parent / "heartbert_hf" / "sample_data" / HELD_OUT)).p_signal.T[0, :36000]
        long_ids = [i for block in inf.iter_window_tokens(processor, long_ecg, 360) for w in block for i in w.ids]
        long_ids = long_ids[: args.long_tokens]
        long_ref = heartbert_embedding(heartbert, sequences(long_ids, False), "fp32")
        cases = {}
        for precision in precisions:
            for chunks, balanced in (("naive", False), ("balanced", True)):
                seqs = sequences(long_ids, balanced)
                model, autocast = hb[precision]
                cases[("heartbert model", precision, chunks)] = lambda m=model, a=autocast, s=seqs: heartbert_embedding(m, s, a)
                model, autocast = rb[precision]
                cases[("roberta model", precision, chunks)] = lambda m=model, a=autocast, s=seqs: stock_embedding(m, s, a)
        print_table("the issue's 3-sequence case", run_case(cases, args.rounds), long_ref, len(long_ids))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
