"""Training-step throughput of HeartBert at the ``paper`` shape, against the stock HF recipe.

Measures tokens/s (batch x seq per step, every position counted, as in the stock baseline) of
``HeartBertForMaskedLM`` -- the class Trainer runs in ``heartbert pretrain`` -- with the levers:

* bf16 autocast (fp32 master weights, as Trainer's ``bf16=True``);
* SDPA attention; packed batches carry no attention mask, so SDPA can take its flash kernel;
* the MLM head on masked positions only (built into HeartBertForMaskedLM in training mode);
* sequence packing (every position is a real token: no padding in the batch);
* fused AdamW (``optim="adamw_torch_fused"``) and gradient clipping as Trainer does it;
* torch.compile of the whole model (``torch_compile=True``);
* dropout off (the ``gpu`` preset; the ``paper`` preset keeps the published 0.1).

It also runs the stock baseline (``gpu_baseline.py``, the stock ``RobertaForMaskedLM``) in the
same run, in a subprocess, so that the ratios compare figures from one machine and one run.

    python benchmarks/train_throughput.py [--tiny] [--baseline PATH] [--baseline-only MODES]
        [--modes a,b] [--steps N] [--out results.jsonl]

Prints one JSON line per mode and a table last. ``--tiny`` runs on a CPU in seconds.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the checkout, when the package is not installed


def flops_per_token(h, i, L, V, seq, sparse_head):
    """Dense-model training FLOPs per token, the same formula as the stock baseline."""
    enc = L * (4 * h * h + 2 * h * i)
    head = (h * h + h * V) * (0.15 if sparse_head else 1.0)
    attn = 2 * L * seq * h
    return 6 * (enc + head) + 6 * attn


# name: (dropout, pass_attention_mask, compile, batch)
MODES = {
    "hb_bf16_sdpa_sparse": (0.1, True, False, 64),  # eager, Trainer batch with an all-ones mask
    "hb_bf16_compile_paper": (0.1, True, True, 64),  # the `paper` preset on a GPU (dropout 0.1)
    "hb_bf16_compile_packed_nomask": (0.1, False, True, 64),  # packing: no mask → flash
    "hb_bf16_compile_packed_nodrop": (0.0, False, True, 64),  # the `gpu` preset
    "hb_bf16_compile_packed_nodrop_b128": (0.0, False, True, 128),
    "hb_bf16_compile_nodrop": (0.0, True, True, 64),  # packed batch with its all-ones mask, dropout 0
    "hb_bf16_compile_nodrop_b128": (0.0, True, True, 128),
}


def run_mode(name, tiny, steps, warm, dev):
    from heartbert_hf import HeartBertConfig, HeartBertForMaskedLM

    dropout, pass_mask, compile_, bs = MODES[name]
    V, S = (1000, 64) if tiny else (52000, 512)
    if tiny:
        bs = max(2, bs // 16)
    h, L, heads = (64, 2, 4) if tiny else (768, 6, 12)
    torch.manual_seed(0)
    cfg = HeartBertConfig(
        vocab_size=V,
        max_position_embeddings=S + 2,
        hidden_size=h,
        num_hidden_layers=L,
        num_attention_heads=heads,
        intermediate_size=4 * h,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )
    cfg._attn_implementation = "sdpa"
    model = HeartBertForMaskedLM(cfg).to(dev)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=(dev == "cuda"))
    fwd = torch.compile(model) if compile_ else model
    gen = torch.Generator(device=dev).manual_seed(0)
    # packed batches: random ids, no padding, 15% of positions labelled (what the MLM collator yields)
    ids = torch.randint(8, V, (bs, S), device=dev, generator=gen)
    labels = ids.clone()
    labels[torch.rand(bs, S, device=dev, generator=gen) > 0.15] = -100
    batch = {"input_ids": ids, "labels": labels}
    if pass_mask:
        batch["attention_mask"] = torch.ones_like(ids)
    amp = dev == "cuda" or tiny

    def step():
        with torch.autocast(dev, dtype=torch.bfloat16, enabled=amp):
            loss = fwd(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    t0 = time.time()
    for _ in range(warm):
        step()
    if dev == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    warm_s = time.time() - t0
    t0 = time.time()
    for _ in range(steps):
        loss = step()
    if dev == "cuda":
        torch.cuda.synchronize()
    dt = time.time() - t0
    tok_s = bs * S * steps / dt
    tflops = flops_per_token(h, 4 * h, L, V, S, False) * tok_s / 1e12
    mem = torch.cuda.max_memory_allocated() / 2**30 if dev == "cuda" else 0.0
    row = dict(
        mode=name,
        vocab=V,
        seq=S,
        bs=bs,
        dropout=dropout,
        attention_mask=pass_mask,
        compile=compile_,
        tokens_per_s=round(tok_s),
        step_ms=round(1000 * dt / steps, 1),
        dense_equiv_tflops=round(tflops, 1),
        mfu_vs_790=round(tflops / 790, 3),
        peak_gib=round(mem, 1),
        warmup_s=round(warm_s, 1),
        loss=round(float(loss), 3),
    )
    del step  # frees model, optimizer and compiled graph before the next mode (the closure holds them)
    if dev == "cuda":
        torch.cuda.empty_cache()
    return row


def run_baseline(path, tiny, only):
    cmd = [sys.executable, str(path)] + (["--tiny"] if tiny else []) + ([f"--only={only}"] if only else [])
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    rows = []
    for line in proc.stdout.splitlines():
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "mode" in row:
            row["mode"] = "stock_" + row["mode"]
            rows.append(row)
            print(json.dumps(row), flush=True)
    if proc.returncode:
        print(json.dumps(dict(mode="stock", error=proc.stderr[-500:])), flush=True)
    return rows


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tiny", action="store_true", help="tiny shapes, runs on a CPU in seconds")
    p.add_argument("--modes", default=",".join(MODES), help="comma-separated HeartBert modes")
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--warm", type=int, default=None)
    p.add_argument("--baseline", default=None, help="path of the stock gpu_baseline.py (run in a subprocess first)")
    p.add_argument("--baseline-only", default="hf_fp32_eager,bf16_sdpa,bf16_sdpa_compile_sparsehead")
    p.add_argument("--out", default=None, help="append the JSON rows to this file")
    args = p.parse_args(argv)
    dev = "cuda" if torch.cuda.is_available() else "cpu"
    if dev == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = False
    steps = args.steps or (2 if args.tiny else 20)
    warm = args.warm or (1 if args.tiny else 5)
    import transformers

    head = dict(torch=torch.__version__, transformers=transformers.__version__, device=torch.cuda.get_device_name() if dev == "cuda" else "cpu")
    print(json.dumps(head), flush=True)
    rows = []
    if args.baseline:
        rows += run_baseline(args.baseline, args.tiny, args.baseline_only)
    for name in [m for m in args.modes.split(",") if m]:
        try:
            row = run_mode(name, args.tiny, steps, warm, dev)
        except Exception as err:  # one failing mode must not hide the others
            row = dict(mode=name, error=repr(err)[:400])
        print(json.dumps(row), flush=True)
        rows.append(row)
        if args.out:
            with open(args.out, "a") as f:
                f.write(json.dumps(row) + "\n")
    ok = {r["mode"]: r["tokens_per_s"] for r in rows if "tokens_per_s" in r}
    ref_fp32, ref_bf16 = ok.get("stock_hf_fp32_eager"), ok.get("stock_bf16_sdpa")
    print(f"\ndevice: {head['device']}  torch {head['torch']}  transformers {head['transformers']}")
    print(f"{'mode':40s} {'tokens/s':>10s} {'x fp32':>7s} {'x bf16':>7s}")
    for r in rows:
        if "tokens_per_s" not in r:
            print(f"{r['mode']:40s} error")
            continue
        t = r["tokens_per_s"]
        a = f"{t / ref_fp32:.2f}" if ref_fp32 else "-"
        b = f"{t / ref_bf16:.2f}" if ref_bf16 else "-"
        print(f"{r['mode']:40s} {t:>10,d} {a:>7s} {b:>7s}")
    if args.out:
        with open(args.out, "a") as f:
            f.write(
                json.dumps(
                    dict(
                        summary=head,
                        ratios={
                            m: dict(tokens_per_s=t, x_fp32=t / ref_fp32 if ref_fp32 else None, x_bf16=t / ref_bf16 if ref_bf16 else None) for m, t in ok.items()
                        },
                    )
                )
                + "\n"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
