"""``heartbert quickstart``: a real end-to-end run on the shipped MIT-BIH sample, on CPU, in about a minute.

1. fits the Lloyd-Max quantizer and the BPE on the training records (101, 208) only;
2. builds a small HeartBert and runs a few masked-LM steps, reporting the validation loss on the
   held-out record (118) before and after;
3. saves model + processor (feature extractor: the signal settings and quantizer; tokenizer: the BPE),
   reloads them with ``AutoProcessor`` / ``AutoModel`` in this process and checks the reloaded pair
   gives the same embeddings;
4. draws a token view of one window, and prints how to continue.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .runtime import THREADS_HELP, HelpFormatter

SAMPLE_DIR = Path(__file__).resolve().parent / "sample_data"
TRAIN_RECORDS = ("101", "208")
VALIDATION_RECORDS = ("118",)


@dataclass
class QuickstartArguments:
    output_dir: str = field(
        default="heartbert-runs/quickstart", metadata={"help": "Folder to save the model, tokenizer and figure in (relative to the current folder)."}
    )
    vocab_size: int = field(default=1000, metadata={"help": "BPE vocabulary size (small for the 3-record sample)."})
    steps: int = field(default=60, metadata={"help": "Masked-LM optimisation steps."})
    batch_size: int = field(default=16, metadata={"help": "Sequences per step."})
    max_length: int = field(default=128, metadata={"help": "Tokens per sequence (windows are chunked to this)."})
    hidden_size: int = field(default=64, metadata={"help": "Model width."})
    num_layers: int = field(default=2, metadata={"help": "Transformer layers."})
    learning_rate: float = field(default=1e-3, metadata={"help": "AdamW learning rate."})
    seed: int = field(default=0, metadata={"help": "Random seed."})
    torch_threads: int = field(default=0, metadata={"help": THREADS_HELP})


def _load(records: tuple[str, ...]) -> list[np.ndarray]:
    import wfdb

    return [wfdb.rdrecord(str(SAMPLE_DIR / r)).p_signal.T for r in records]


def _sequences(processor, signals, max_length: int) -> list[list[int]]:
    enc = processor(ecg=signals, sampling_rate=360, truncation=True, max_length=max_length)
    return enc["input_ids"]


def main(argv: list[str] | None = None) -> int:
    """Run the quick start (see the module docstring)."""
    import torch
    from tqdm.auto import tqdm
    from transformers import AutoModel, AutoProcessor, DataCollatorForLanguageModeling
    from transformers.utils import logging as hf_logging

    from . import HeartBertConfig, HeartBertForMaskedLM, HeartBertProcessor, HeartBertTokenizer
    from .plotting import plot_tokens
    from .runtime import HfArgumentParser, set_torch_threads

    parser = HfArgumentParser(QuickstartArguments, prog="heartbert quickstart", description=__doc__.split("\n\n")[0], formatter_class=HelpFormatter)
    (args,) = parser.parse_args_into_dataclasses(args=argv)
    threads = set_torch_threads(args.torch_threads)
    hf_logging.disable_progress_bar()  # weight loading/saving bars: instant here, and noise in a log
    torch.manual_seed(args.seed)
    out = Path(args.output_dir)
    t0 = time.perf_counter()

    train, valid = _load(TRAIN_RECORDS), _load(VALIDATION_RECORDS)
    n_train = sum(s.size for s in train)
    print(
        f"[1/4] fitting quantizer + BPE (vocab {args.vocab_size}) on records {', '.join(TRAIN_RECORDS)} ({n_train:,} samples); record {VALIDATION_RECORDS[0]} is held out"
    )
    tokenizer = HeartBertTokenizer.train_from_ecg(train, 360, vocab_size=args.vocab_size, show_progress=False)  # seconds: no bar
    tokenizer.model_max_length = args.max_length  # the small model's positions: truncation=True then fits it
    processor = HeartBertProcessor.from_tokenizer(tokenizer)  # raw ECG -> level text (feature extractor) -> ids (tokenizer)
    q = processor.feature_extractor.quantizer
    print(f"      {q}; {len(tokenizer)} tokens")

    train_ids = _sequences(processor, train, args.max_length)
    valid_ids = _sequences(processor, valid, args.max_length)
    n_tokens = sum(len(s) for s in train_ids)
    print(f"      {len(train_ids)} training sequences ({n_tokens:,} tokens, {n_train / n_tokens:.2f} samples/token), {len(valid_ids)} validation")

    config = HeartBertConfig(
        vocab_size=len(tokenizer),
        hidden_size=args.hidden_size,
        num_hidden_layers=args.num_layers,
        num_attention_heads=max(1, args.hidden_size // 32),
        intermediate_size=4 * args.hidden_size,
        max_position_embeddings=args.max_length + 2,
    )
    model = HeartBertForMaskedLM(config)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, return_tensors="pt")
    rng = np.random.default_rng(args.seed)

    def batch(ids, rows):
        return collator([{"input_ids": ids[i]} for i in rows])

    def validation_loss() -> float:
        model.eval()
        torch.manual_seed(args.seed)  # the same masks before and after training
        losses = []
        with torch.no_grad():
            for start in range(0, min(len(valid_ids), 128), args.batch_size):
                b = batch(valid_ids, range(start, min(start + args.batch_size, len(valid_ids))))
                losses.append(model(**b).loss.item())
        model.train()
        return float(np.mean(losses))

    print(
        f"[2/4] masked-LM training: {sum(p.numel() for p in model.parameters()):,} parameters, {args.steps} steps of {args.batch_size} x {args.max_length} tokens, {threads} torch thread(s)"
    )
    before = validation_loss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.learning_rate, weight_decay=0.01)
    model.train()
    bar = tqdm(range(args.steps), desc="MLM steps", mininterval=2.0)  # a few lines in a log, not one per step
    t_train = time.perf_counter()
    for _ in bar:
        b = batch(train_ids, rng.choice(len(train_ids), args.batch_size, replace=False))
        loss = model(**b).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        bar.set_postfix(loss=f"{loss.item():.3f}", refresh=False)
    bar.close()
    train_seconds = time.perf_counter() - t_train
    after = validation_loss()
    print(
        f"      validation MLM loss on record {VALIDATION_RECORDS[0]}: {before:.3f} -> {after:.3f} (uniform guess: {np.log(len(tokenizer)):.3f}); "
        f"{args.steps} steps in {train_seconds:.1f} s"
    )

    print(f"[3/4] saving to {out}/ and reloading with AutoProcessor / AutoModel")
    model.save_pretrained(out)
    processor.save_pretrained(out)
    reloaded = AutoProcessor.from_pretrained(out)
    encoder = AutoModel.from_pretrained(out)
    encoder.eval()
    model.eval()
    enc = reloaded(ecg=valid[0][:, :4000], sampling_rate=360, truncation=True, max_length=args.max_length, padding=True, return_tensors="pt")
    with torch.no_grad():
        embeddings = encoder(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).pooler_output
        reference = model.roberta(input_ids=enc["input_ids"], attention_mask=enc["attention_mask"]).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    same = torch.allclose(embeddings, (reference * mask).sum(1) / mask.sum(1), atol=1e-5)
    if not same:
        raise RuntimeError("the reloaded model does not reproduce the trained one")
    print(f"      reloaded {type(reloaded).__name__} + {type(encoder).__name__}: embeddings {tuple(embeddings.shape)} match the trained model")

    figure = plot_tokens(reloaded, valid[0], 360, out / "tokens.png", record=VALIDATION_RECORDS[0], lead_name="MLII")
    print(f"[4/4] token view of record {VALIDATION_RECORDS[0]}, window 0: {figure}")
    print(f"done in {time.perf_counter() - t0:.0f} s.\n")
    print("Next:")
    print(
        f"  python -c \"import heartbert_hf; from transformers import AutoProcessor; proc = AutoProcessor.from_pretrained('{out}'); print(proc(ecg=[[0.0, 0.1] * 400], sampling_rate=360))\""
    )
    print("  heartbert pretrain --help        # full pretraining on PhysioNet (accelerate launch -m heartbert_hf.pretrain ...)")
    print("  heartbert finetune --help        # heartbeat / diagnosis / sleep-stage tasks, patient-wise")
    return 0
