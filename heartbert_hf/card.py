"""The model card of a pretraining run: ``templates/model_card.md`` filled with the run's values.

:class:`ModelCardCallback` is a ``TrainerCallback``: it records the evaluations as they happen and,
at the end, :meth:`ModelCardCallback.write` renders ``README.md`` into the output folder from the
data summary (sources, licences, splits, share of samples used), the tokenizer's preprocessing
parameters, the model shape, the training arguments and state, and the final metrics.
Card generation makes no Hub call; pushing is :func:`heartbert_hf.pretrain.push_folder`.
"""

from __future__ import annotations

import string
from pathlib import Path

from transformers import TrainerCallback

TEMPLATE = Path(__file__).resolve().parent / "templates" / "model_card.md"

HUB_DATASETS = {"mitdb": "physionet/mitdb", "sample": "physionet/mitdb", "ptbxl": "physionet/ptb-xl", "edb": "physionet/edb"}


def _fmt_int(n) -> str:
    return f"{int(n):,}"


def _pct(x) -> str:
    return f"{100 * float(x):.2f}%"


def render_card(values: dict, template: str | Path = TEMPLATE) -> str:
    """Fill ``template`` with ``values``; a placeholder without a value is an error (no half-filled cards)."""
    return string.Template(Path(template).read_text(encoding="utf-8")).substitute(values)


class ModelCardCallback(TrainerCallback):
    """Collects a run's facts for its model card and writes the card at the end.

    Args:
        model_args, data_args: the run's :class:`~heartbert_hf.pretrain.ModelArguments` / ``DataArguments``.
        data_summary: from :func:`~heartbert_hf.pretrain.build_datasets` (per split: records, blocks, tokens …).
        tokenizer: the fitted ``HeartBertTokenizer``.
        licences: source → (name, licence, URL).
    """

    def __init__(self, model_args, data_args, data_summary: dict, tokenizer, licences: dict):
        self.model_args, self.data_args, self.summary = model_args, data_args, data_summary
        self.tokenizer, self.licences = tokenizer, licences
        self.evaluations: list[dict] = []
        self.final_metrics: dict = {}
        self.n_params = None
        self.device = "CPU"

    def on_train_begin(self, args, state, control, model=None, **kwargs):
        if model is not None:
            self.n_params = sum(p.numel() for p in model.parameters())
            try:
                import torch

                dev = next(model.parameters()).device
                self.device = torch.cuda.get_device_name(dev) if dev.type == "cuda" else dev.type.upper()
            except Exception:
                pass

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if metrics:
            self.evaluations.append({"step": state.global_step, **metrics})

    def values(self, state, args) -> dict:
        """The template's values for this run."""
        import math

        s, m, d, tok = self.summary, self.model_args, self.data_args, self.tokenizer
        tr, va = s["train"], s["validation"]
        metrics = dict(self.evaluations[-1]) if self.evaluations else {}
        metrics.update(self.final_metrics)
        if "eval_loss" in metrics and "eval_perplexity" not in metrics:
            metrics["eval_perplexity"] = math.exp(min(50.0, metrics["eval_loss"]))
        rows = []
        for key, label in (
            ("eval_loss", "loss"),
            ("eval_perplexity", "perplexity"),
            ("eval_masked_accuracy", "masked-token accuracy"),
            ("eval_masked_tokens", "masked tokens evaluated"),
        ):
            if key in metrics:
                v = metrics[key]
                rows.append(f"| {label} | {v:,}" + " |" if isinstance(v, int) else f"| {label} | {v:.4f} |")
        train_loss = next((h["train_loss"] for h in reversed(state.log_history) if "train_loss" in h), None)
        if train_loss is not None:
            rows.append(f"| final training loss (mean over the run) | {train_loss:.4f} |")
        cfg = getattr(self, "model_config", None)
        world = max(1, args.world_size)
        global_batch = args.per_device_train_batch_size * world * args.gradient_accumulation_steps
        sources = "\n".join(f"- {name} ({lic}), {url}" for name, lic, url in self.licences.values()) or "- (unknown)"
        fe = tok.feature_extractor  # the signal settings and the quantizer (HeartBertFeatureExtractor)
        levels = fe.n_levels
        q = fe.quantizer
        precision = "bf16 autocast (fp32 master weights)" if args.bf16 else ("fp16 autocast" if args.fp16 else "fp32")
        if getattr(args, "torch_compile", False):
            precision += ", torch.compile"
        return dict(
            model_name=(args.hub_model_id or Path(args.output_dir).name).split("/")[-1],
            repo_id=args.hub_model_id or args.output_dir,
            heartbert_version=__import__("heartbert_hf").__version__,
            preset_text=f"with the `{m.preset}` preset" if m.preset else "with custom arguments",
            device_text=f"{world} × {self.device}",
            hub_datasets="\n".join(f"- {HUB_DATASETS[x]}" for x in sorted(set(s["sources"])) if x in HUB_DATASETS) or "- physionet",
            data_sources=sources,
            data_short=", ".join(sorted(set(s["sources"]))).replace("sample", "a 30-minute MIT-BIH sample"),
            licences_short=", ".join(sorted({lic for _, lic, _ in self.licences.values()})) or "see the sources",
            train_records_n=len(tr["records"]),
            train_patients=tr["patients"],
            train_examples=_fmt_int(tr["examples"]),
            train_blocks=_fmt_int(tr["blocks"]),
            train_tokens=_fmt_int(tr["content_tokens"]),
            train_padding=_pct(tr["padding_share"]),
            train_used=_pct(tr["samples_used_share"]),
            val_records_n=len(va["records"]),
            val_patients=va["patients"],
            val_examples=_fmt_int(va["examples"]),
            val_blocks=_fmt_int(va["blocks"]),
            val_tokens=_fmt_int(va["content_tokens"]),
            val_padding=_pct(va["padding_share"]),
            val_used=_pct(va["samples_used_share"]),
            val_records=", ".join(map(str, va["records"][:20])) + (" …" if len(va["records"]) > 20 else ""),
            target_rate=f"{fe.target_rate:g}",
            window_size=fe.window_size,
            window_s=f"{fe.window_size / fe.target_rate:.1f}",
            min_window=fe.min_window,
            min_window_s=f"{fe.min_window / fe.target_rate:g}",
            scaling=fe.scaling,
            quantizer=f"{q.method}, {q.n_levels} levels" if hasattr(q, "method") else repr(q),
            n_levels=levels,
            last_level=64 + levels,
            vocab_size=len(tok),
            max_seq_length=d.max_seq_length,
            mlm_percent=f"{100 * d.mlm_probability:g}",
            num_layers=cfg.num_hidden_layers if cfg else m.num_hidden_layers,
            num_heads=cfg.num_attention_heads if cfg else m.num_attention_heads,
            hidden_size=cfg.hidden_size if cfg else m.hidden_size,
            intermediate_size=cfg.intermediate_size if cfg else m.intermediate_size,
            max_positions=cfg.max_position_embeddings if cfg else d.max_seq_length + 2,
            dropout=cfg.hidden_dropout_prob if cfg else m.hidden_dropout_prob,
            n_params=_fmt_int(self.n_params) if self.n_params else "n/a",
            optim=str(getattr(args.optim, "value", args.optim)),
            learning_rate=f"{args.learning_rate:g}",
            warmup=(f"{args.warmup_steps:g} of the steps" if 0 < args.warmup_steps < 1 else f"{int(args.warmup_steps)} steps"),
            weight_decay=f"{args.weight_decay:g}",
            scheduler=str(getattr(args.lr_scheduler_type, "value", args.lr_scheduler_type)),
            global_batch=global_batch,
            per_device=args.per_device_train_batch_size,
            world_size=world,
            grad_accum=args.gradient_accumulation_steps,
            global_step=_fmt_int(state.global_step),
            epochs=f"{state.epoch or 0:.2f}",
            train_tokens_seen=_fmt_int(state.global_step * global_batch * d.max_seq_length),
            precision=precision,
            seed=args.seed,
            metrics_table="\n".join(rows) or "| (no evaluation ran) | |",
            excluded_text=(
                f" Records excluded on request (`--exclude_records {d.exclude_records}`, e.g. a downstream evaluation's): "
                "never used for pretraining or for fitting the tokenizer."
            )
            if getattr(d, "exclude_records", None)
            else "",
        )

    def write(self, output_dir, state, args, model_config=None) -> Path:
        """Render the card to ``output_dir/README.md``."""
        if model_config is not None:
            self.model_config = model_config
        path = Path(output_dir) / "README.md"
        path.write_text(render_card(self.values(state, args)), encoding="utf-8")
        return path
