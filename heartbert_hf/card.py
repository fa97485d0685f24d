"""HeartBert model cards: one card-data class, bodies from ``templates/``, Hub metadata from huggingface_hub.

:class:`HeartBertCardData` holds everything a card says: the Hub front matter (licence, tags,
datasets, pipeline, ``model-index`` evaluation results, rendered by ``huggingface_hub.ModelCardData``)
and the body, a template in ``templates/`` filled with ``string.Template`` (a placeholder without a
value is an error: no half-filled cards). Every card is one of these:

* pretraining (``templates/model_card.md``): :class:`ModelCardCallback`, a ``TrainerCallback`` of
  ``heartbert pretrain``, collects the run's facts and writes ``README.md`` at the end;
* fine-tuned classifier (``templates/classifier_card.md``): :func:`classifier_card`, written by
  ``heartbert finetune`` and by ``benchmarks/mitdb_scorecard.py --ship`` (with the CV scorecard);
* evaluation: ``heartbert evaluate`` reads a folder's card back (:meth:`HeartBertCardData.load`) and
  sets its ``model-index`` results (:meth:`HeartBertCardData.set_eval_results`).

Card generation makes no Hub call; uploading is :func:`heartbert_hf.hub.push_folder`.
"""

from __future__ import annotations

import json
import string
from dataclasses import dataclass, field
from pathlib import Path

from transformers import TrainerCallback

TEMPLATES = Path(__file__).resolve().parent / "templates"
TEMPLATE = TEMPLATES / "model_card.md"
"""The pretraining card's body."""

HUB_DATASETS = {"mitdb": "physionet/mitdb", "sample": "physionet/mitdb", "ptbxl": "physionet/ptb-xl", "edb": "physionet/edb"}

PHYSIONET = "Goldberger AL et al. PhysioBank, PhysioToolkit, and PhysioNet. Circulation 101(23):e215-e220 (2000)"

DATABASES = {
    "mitdb": (
        "MIT-BIH Arrhythmia Database v1.0.0",
        "ODC-By 1.0",
        "https://physionet.org/content/mitdb/1.0.0/",
        "Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng in Med and Biol 20(3):45-50 (2001)",
    ),
    "sample": (
        "MIT-BIH Arrhythmia Database v1.0.0 (10-min excerpts of records 101, 208, 118 shipped with heartbert_hf)",
        "ODC-By 1.0",
        "https://physionet.org/content/mitdb/1.0.0/",
        "Moody GB, Mark RG. The impact of the MIT-BIH Arrhythmia Database. IEEE Eng in Med and Biol 20(3):45-50 (2001)",
    ),
    "ptbxl": (
        "PTB-XL v1.0.3",
        "CC BY 4.0",
        "https://physionet.org/content/ptb-xl/1.0.3/",
        "Wagner P et al. PTB-XL, a large publicly available electrocardiography dataset. Sci Data 7:154 (2020)",
    ),
    "edb": (
        "European ST-T Database v1.0.0",
        "ODC-By 1.0",
        "https://physionet.org/content/edb/1.0.0/",
        "Taddei A et al. The European ST-T database. Eur Heart J 13:1164-1172 (1992)",
    ),
    "slpdb": (
        "MIT-BIH Polysomnographic Database v1.0.0",
        "ODC-By 1.0",
        "https://physionet.org/content/slpdb/1.0.0/",
        "Ichimaru Y, Moody GB. Development of the polysomnographic database on CD-ROM. Psychiatry Clin Neurosci 53:175-177 (1999)",
    ),
}
"""Source / task database → (name, licence, URL, citation), from each database's PhysioNet page."""

LICENCES = {key: value[:3] for key, value in DATABASES.items()}
"""Source → (name, licence, URL), for the pretraining card."""

HUB_LICENCES = {"ODC-By 1.0": "odc-by", "CC BY 4.0": "cc-by-4.0"}
"""Licence name → the Hub's licence identifier."""

CARD_METRICS = {"accuracy": "accuracy", "macro_f1": "f1", "cohen_kappa": "cohen_kappa", "macro_auroc": "roc_auc", "j_index": "j_index", "jk_index": "jk_index"}
"""Result key → ``model-index`` metric type."""


def _split_values(prefix: str, stats: dict) -> dict:
    """One split's template values (``train_*`` / ``val_*``) from its ``data_summary.json`` entry."""
    return {
        f"{prefix}_records_n": len(stats["records"]),
        f"{prefix}_patients": stats["patients"],
        f"{prefix}_examples": _fmt_int(stats["examples"]),
        f"{prefix}_blocks": _fmt_int(stats["blocks"]),
        f"{prefix}_tokens": _fmt_int(stats["content_tokens"]),
        f"{prefix}_padding": _pct(stats["padding_share"]),
        f"{prefix}_used": _pct(stats["samples_used_share"]),
    }


def _fmt_int(n) -> str:
    return f"{int(n):,}"


def _pct(x) -> str:
    return f"{100 * float(x):.2f}%"


def render_card(values: dict, template: str | Path = TEMPLATE) -> str:
    """Fill ``template`` with ``values``.

    Raises:
        ValueError: placeholders of the template without a value (all named; no half-filled cards).
    """
    filler = string.Template(Path(template).read_text(encoding="utf-8"))
    missing = [name for name in filler.get_identifiers() if name not in values]
    if missing:
        raise ValueError(f"{Path(template).name}: no value for the placeholders {missing}.")
    return filler.substitute(values)


@dataclass
class HeartBertCardData:
    """One HeartBert model card: Hub metadata (front matter) + a body, from a template or kept as text.

    Args:
        model_name: the card's title and ``model-index`` name.
        template: a file name in ``templates/`` filled with ``values`` (``None``: ``body`` is the text).
        values: the template's placeholders.
        body: the Markdown text below the front matter when there is no template (a card read back).
        license, pipeline_tag, tags, datasets, base_model: Hub metadata (``base_model`` must be a Hub id).
        eval_results: ``huggingface_hub.EvalResult`` list, written as ``model-index``.
        extra_metadata: other front-matter keys, kept as they are (a card read back).
    """

    model_name: str
    template: str | None = None
    values: dict = field(default_factory=dict)
    body: str | None = None
    license: str | None = None
    pipeline_tag: str | None = None
    tags: list[str] = field(default_factory=lambda: ["heartbert", "ecg"])
    datasets: list[str] = field(default_factory=list)
    base_model: str | None = None
    eval_results: list = field(default_factory=list)
    extra_metadata: dict = field(default_factory=dict)

    def metadata(self):
        """The front matter as ``huggingface_hub.ModelCardData``."""
        from huggingface_hub import ModelCardData

        return ModelCardData(
            library_name="transformers",
            model_name=self.model_name,
            license=self.license,
            pipeline_tag=self.pipeline_tag,
            tags=list(dict.fromkeys(self.tags)) or None,
            datasets=list(self.datasets) or None,
            base_model=self.base_model,
            eval_results=list(self.eval_results) or None,
            **self.extra_metadata,
        )

    def text(self) -> str:
        """The body: the template filled with ``values``, else ``body``."""
        if self.template is not None:
            return render_card(self.values, TEMPLATES / self.template)
        return self.body or f"# {self.model_name}\n"

    def render(self) -> str:
        """``README.md``: YAML front matter, then the body."""
        return f"---\n{self.metadata().to_yaml()}\n---\n\n{self.text().lstrip()}"

    def save(self, folder: str | Path) -> Path:
        """Write ``folder/README.md``; returns its path."""
        path = Path(folder) / "README.md"
        path.write_text(self.render(), encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> HeartBertCardData:
        """The card of ``folder/README.md`` (any card, front matter or not), body kept as text.

        A folder without a README gets a minimal card saying the model was fine-tuned with
        ``heartbert finetune``, with the ``pipeline_tag`` of its ``config.json`` (:func:`pipeline_tag_of`).
        """
        from huggingface_hub import ModelCard

        path = Path(folder) / "README.md"
        name = Path(folder).resolve().name
        if not path.is_file():
            config_file = Path(folder) / "config.json"
            config = json.loads(config_file.read_text()) if config_file.is_file() else {}
            return cls(model_name=name, body=f"# {name}\n\nA HeartBert model fine-tuned with `heartbert finetune`.\n", pipeline_tag=pipeline_tag_of(config))
        text = path.read_text(encoding="utf-8")
        if not text.startswith("---"):  # no front matter: the whole file is the body (and no hub warning)
            return cls(model_name=name, body=text)
        card = ModelCard(text, ignore_metadata_errors=True)
        data = card.data
        known = {"library_name", "model_name", "license", "pipeline_tag", "tags", "datasets", "base_model", "model-index", "eval_results"}
        return cls(
            model_name=data.model_name or name,
            body=card.text,
            license=data.license,
            pipeline_tag=data.pipeline_tag,
            tags=[*(data.tags or []), "heartbert", "ecg"],
            datasets=list(data.datasets or []) if not isinstance(data.datasets, str) else [data.datasets],
            base_model=data.base_model,
            eval_results=list(data.eval_results or []),
            extra_metadata={k: v for k, v in data.to_dict().items() if k not in known},
        )

    def set_eval_results(self, task: str, split: str, results: dict, dataset: str) -> None:
        """Replace this task/split's ``model-index`` entries with ``results`` (keys of :data:`CARD_METRICS`).

        Their task type is the card's ``pipeline_tag`` (:func:`pipeline_tag_of`; ``text-classification`` when unset)."""
        from huggingface_hub import EvalResult

        keep = [r for r in self.eval_results if not (r.task_name == task and r.dataset_split == split)]
        for key, metric_type in CARD_METRICS.items():
            if results.get(key) is not None:
                keep.append(
                    EvalResult(
                        task_type=self.pipeline_tag or "text-classification",
                        task_name=task,
                        dataset_type=dataset,
                        dataset_name=dataset,
                        dataset_split=split,
                        metric_type=metric_type,
                        metric_name=key,
                        metric_value=round(float(results[key]), 4),
                    )
                )
        self.eval_results = keep


class ModelCardCallback(TrainerCallback):
    """Collects a run's facts for its model card and writes the card at the end.

    Args:
        model_args, data_args: the run's :class:`~heartbert_hf.pretrain.ModelArguments` / ``DataArguments``.
        data_summary: from :func:`~heartbert_hf.pretrain.build_datasets` (per split: records, blocks, tokens …).
        tokenizer: the fitted ``HeartBertTokenizer``.
        licences: source → (name, licence, URL) (see :data:`LICENCES`).
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
        """The body template's values for this run."""
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
            data_sources=sources,
            data_short=", ".join(sorted(set(s["sources"]))).replace("sample", "a 30-minute MIT-BIH sample"),
            licences_short=", ".join(sorted({lic for _, lic, _ in self.licences.values()})) or "see the sources",
            **_split_values("train", tr),
            **_split_values("val", va),
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

    def card_data(self, state, args, folder=None) -> HeartBertCardData:
        """The run's card: Apache-2.0 weights, fill-mask, the PhysioNet sources as datasets; the loss
        curves (``curves.png`` in ``folder``, default the output folder) when the run drew them."""
        values = self.values(state, args)
        curves = Path(folder or args.output_dir) / "curves.png"
        values["curves_text"] = "\n![Training and validation loss by step](curves.png)\n" if curves.is_file() else ""
        sources = sorted(set(self.summary["sources"]))
        return HeartBertCardData(
            model_name=values["model_name"],
            template=TEMPLATE.name,
            values=values,
            license="apache-2.0",
            pipeline_tag="fill-mask",
            tags=["ecg", "electrocardiogram", "fill-mask", "heartbert"],
            datasets=sorted({HUB_DATASETS[x] for x in sources if x in HUB_DATASETS}) or ["physionet"],
        )

    def write(self, output_dir, state, args, model_config=None) -> Path:
        """Render the card to ``output_dir/README.md``."""
        if model_config is not None:
            self.model_config = model_config
        return self.card_data(state, args, output_dir).save(output_dir)


# ---------------------------------------------------------------------------------------------- fine-tuned classifiers
TASK_TEXT = {
    "mitdb-aami": (
        "beat classifier",
        "AAMI EC57 classes N (normal), S (supraventricular ectopic), V (ventricular ectopic), F (fusion) for one beat, "
        "from a ±0.8 s window of lead MLII (any rate; resampled to 360 Hz)",
    )
}
"""Task → (what the model is, what it classifies from what) for the card's first line; other tasks get a generic line."""

LICENCE_NAMES = {
    "ODC-By 1.0": "Open Data Commons Attribution License v1.0 (ODC-By 1.0)",
    "CC BY 4.0": "Creative Commons Attribution 4.0 International (CC BY 4.0)",
}


def cv_scorecard_section(table: str, n_folds: int) -> str:
    """The card section of a shipped mitdb-aami classifier: the DS1 record-wise CV scorecard of its recipe.

    Args:
        table: :func:`heartbert_hf.scorecard.format_table` of the CV run (its notes included).
        n_folds: the CV's number of folds.
    """
    return (
        "## Cross-validated scorecard (DS1, record-wise)\n\n"
        f"The same recipe, run as record-wise {n_folds}-fold cross-validation over DS1, every arm on identical folds and beats "
        "(arms: (a) RR + morphology logistic regression, (b) random-init encoder, (c) pretrained encoder, (d) pretrained "
        "encoder + rhythm, (e) random-init encoder + rhythm, (f) / (g) pretrained / random-init encoder reading each beat in "
        "its record's context + rhythm, where the run had them):\n\n"
        f"{table}\n\n"
        "No DS2 (inter-patient test) figure is reported here: DS2 is held out and measured elsewhere. The model was "
        "fine-tuned on every DS1 record, so it is inductive for DS2 and for any other patient."
    )


def finetune_results_section(report: dict) -> str:
    """The card section of a ``heartbert finetune`` run: its scorecard (single-label) or each arm's metrics.

    Args:
        report: the run's ``results.json`` (:func:`heartbert_hf.finetune.finetune`).
    """
    split = report.get("scored_split")
    if split is None:
        return "## Results\n\nNothing was scored: the data had no validation or test split."
    n = (report.get("n_examples") or {}).get(split)
    lines = ["## Results", "", f"Split `{split}` ({n} examples; records/patients {', '.join(map(str, report['splits'][split]))})."]
    lines += [f"Note: {note}." for note in report.get("notes", [])]
    lines.append("")
    if report.get("scorecard"):
        from .scorecard import format_table

        lines += [
            f"Every arm of the comparison on the same examples; the model saved here is arm `{report['saved_arm']}`.",
            "",
            format_table(report["scorecard"]),
        ]
    else:
        keys = [k for k in CARD_METRICS if any((res.get(split) or {}).get(k) is not None for res in report["arms"].values())]
        lines += ["| arm | " + " | ".join(keys) + " |", "|---" * (len(keys) + 1) + "|"]
        for arm, res in report["arms"].items():
            m = res.get(split) or {}
            lines.append(f"| {arm}{' (saved here)' if arm == report.get('saved_arm') else ''} | " + " | ".join(_metric(m.get(k)) for k in keys) + " |")
    return "\n".join(lines)


def _metric(value) -> str:
    return "n/a" if value is None else f"{float(value):.3f}"


def _training_text(arguments: dict, fitted_probe: bool = False, example: str = "example") -> str:
    """The card's training line: epochs, batch and learning rate, or how a probe was fitted (``heartbert_hf.probe``)."""
    if fitted_probe:
        cap = int(arguments.get("max_train_per_class") or 0)
        rows = f"at most {cap:,} training {example}s per class" if cap else f"every training {example}"
        return (
            "frozen encoder; the linear probe fitted to convergence by "
            + ("class-weighted (square root of inverse class frequency)" if arguments.get("class_weighting", True) else "unweighted")
            + f" multinomial logistic regression (scikit-learn, L-BFGS, C = 1) on the encoder's embeddings of {rows} "
            f"(`heartbert_hf.probe`)"
        )
    epochs = float(arguments.get("num_train_epochs", 0))
    steps = f"{arguments['max_steps']} steps" if arguments.get("max_steps", -1) > 0 else f"{epochs:g} epoch{'' if epochs == 1 else 's'}"
    warmup = float(arguments.get("warmup_steps", 0))
    warmup_text = f"{100 * warmup:g}% of the steps" if 0 < warmup < 1 else f"{int(warmup)} steps"
    return (
        f"{steps} of {arguments.get('per_device_train_batch_size')} sequences, learning rate {arguments.get('learning_rate', 0):g} "
        f"(warm-up {warmup_text}, weight decay {arguments.get('weight_decay', 0):g}), seed {arguments.get('seed')}, "
        + ("class-weighted loss" if arguments.get("class_weighting", True) else "unweighted loss")
    )


def pipeline_tag_of(config: dict) -> str:
    """The Hub ``pipeline_tag`` of a fine-tuned classifier's ``config.json``.

    ``text-classification`` when ``pipeline("text-classification", model=folder)`` runs it on level
    text; ``other`` for a model with rhythm inputs (``rhythm_feature_names``), which that pipeline
    cannot feed (the model refuses the call), so that the Hub neither lists it as text
    classification nor infers that tag from its ``ForSequenceClassification`` architecture.
    """
    return "other" if config.get("rhythm_feature_names") else "text-classification"


def classifier_card(folder: str | Path, *, train_command: str, results_section: str, arguments: dict, base_model: str | None = None) -> HeartBertCardData:
    """The card of a fine-tuned HeartBert classifier folder (``config.json`` with ``heartbert_finetune``).

    Args:
        folder: the saved model folder (its ``config.json`` gives task, labels, head, splits, rhythm features).
        train_command: the command that trained these weights.
        results_section: the card's results (:func:`finetune_results_section` or :func:`cv_scorecard_section`).
        arguments: the run's options (``results.json["arguments"]``: epochs, batch, learning rate, seed).
        base_model: how to name the pretrained encoder (default: the path or Hub id in the config).

    Raises:
        FileNotFoundError: ``folder`` has no ``config.json``.
    """
    from .arms import fits_by_regression
    from .data.splits import MITDB_DS1
    from .tasks import get_task

    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    info = config.get("heartbert_finetune", {})
    task = get_task(info["task"])
    fitted_probe = fits_by_regression(config.get("classifier_head", info.get("head")), task)
    labels = info.get("labels") or list((config.get("id2label") or {}).values())
    kind, task_text = TASK_TEXT.get(
        task.name, ("classifier", f"task `{task.name}`, {'multi-label' if task.multi_label else 'one label'} over {', '.join(labels)}")
    )
    spans = config.get("beat_context_spans")
    if spans and task.name == "mitdb-aami":
        pooled = ", ".join(f"[R{a:+g} s, R{b:+g} s]" for a, b in spans)
        centring = ", minus the record's median beat vector" if config.get("beat_context_centring") == "record-median" else ""
        layers = config.get("beat_context_layers")
        states = (
            f"the hidden states of layers {' and '.join(map(str, layers))} (of {config.get('num_hidden_layers')}), concatenated,"
            if layers
            else "the last hidden state"
        )
        task_text = (
            "AAMI EC57 classes N (normal), S (supraventricular ectopic), V (ventricular ectopic), F (fusion) for every beat of a "
            "record, read in its record's context: lead MLII (any rate; resampled to 360 Hz) tokenized in its 4000-sample windows as "
            f"in pretraining, each beat's vector {states} averaged over the tokens in {pooled}{centring} "
            "(`heartbert_hf.beat_context`)"
        )
    rhythm = config.get("rhythm_feature_names") or []
    if rhythm:
        task_text += f", and the beat's RR features ({', '.join(rhythm)}; see `heartbert_hf.rhythm`)"
    splits = info.get("splits") or {}
    train = list(splits.get("train", []))
    db_name, licence, url, citation = DATABASES[task.database]
    if task.database == "mitdb" and sorted(train) == sorted(MITDB_DS1):
        train_text = f"the {len(train)} MIT-BIH DS1 records (de Chazal et al. 2004): {', '.join(train)}"
    else:
        train_text = f"{len(train)} {db_name} records: {', '.join(train)}"
        if splits.get("validation"):
            chosen = "validation records (not used by the fitted probe)" if fitted_probe else "epoch selected on"
            train_text += f"; {chosen} {', '.join(splits['validation'])}"
    if task.name == "mitdb-aami":
        use_text = (
            "`heartbert classify-beats --record R` labels every beat of a WFDB record: R peaks from the GQRS detector "
            "(`heartbert_hf.rhythm.detect_r_peaks`), or from the record's reference annotations with `--use_reference_beats`"
        )
        limitations = (
            f"* Trained on {len(train)} patients of one 1970s database (two leads, ambulatory Holter): expect lower figures on other "
            "populations, leads and devices. Not a medical device; not for clinical decisions.\n"
            "* Q (unclassifiable/paced) beats are not a class; paced records were excluded."
        )
    else:
        use_text = f"`heartbert evaluate --model {folder.name} --data_dir DIR` scores a split; `AutoModelForSequenceClassification.from_pretrained` loads it"
        limitations = (
            f"* Trained on {len(train)} records of one database ({db_name}): expect lower figures on other populations, leads and "
            "devices.\n* Not a medical device; not for clinical decisions."
        )
    if spans:
        use_text += (
            "; in Python, `heartbert_hf.beat_context` builds a record's inputs (`record_stream`, `beat_token_spans`) and "
            "`model(input_ids=..., attention_mask=..., beat_spans=..., rhythm_features=...)` returns one row of logits per beat "
            "(pass all of a record's beats: the centring is over the beats of the call)"
        )
    elif rhythm:  # the text-classification pipeline passes only the tokenizer's output, so the model refuses it
        use_text += (
            "; in Python, `model(input_ids=..., attention_mask=..., rhythm_features=x)` with x of shape (batch, "
            f'{len(rhythm)}) in raw units (`pipeline("text-classification")` passes no RR features and is refused)'
        )
    size = sum(f.stat().st_size for f in folder.iterdir() if f.is_file() and f.name != "README.md") / 1e6
    values = {
        "model_name": folder.name,
        "kind": kind,
        "task_text": task_text,
        "encoder": f"{config.get('num_hidden_layers')} layers, hidden {config.get('hidden_size')}, vocabulary {config.get('vocab_size')}, "
        f"{config.get('max_position_embeddings', 2) - 2} token positions",
        "head": config.get("classifier_head", info.get("head")),
        "size_mb": f"{size:.1f}",
        "base_model": base_model or f"`{info.get('base_model')}`",
        "train_text": train_text,
        "training_text": _training_text(arguments, fitted_probe, "beat" if task.name == "mitdb-aami" else "example"),
        "train_command": train_command,
        "use_text": use_text,
        "results_section": results_section,
        "limitations": limitations,
        "database_name": db_name,
        "database_url": url,
        "database_licence_long": LICENCE_NAMES.get(licence, licence),
        "database_licence": licence,
        "database_citation": citation,
        "physionet_citation": PHYSIONET,
    }
    tags = ["heartbert", "ecg", *(["heartbeat-classification", "mit-bih", "aami"] if task.name == "mitdb-aami" else [task.database])]
    return HeartBertCardData(
        model_name=folder.name,
        template="classifier_card.md",
        values=values,
        license=HUB_LICENCES.get(licence, "other"),
        pipeline_tag=pipeline_tag_of(config),
        tags=tags,
        datasets=[task.database],
    )
