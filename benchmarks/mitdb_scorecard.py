"""The mitdb-aami scorecard on DS1: record-wise K-fold CV, seven arms on identical folds and beats.

    python benchmarks/mitdb_scorecard.py --model PRETRAINED --data_dir ../shared/physionet/mitdb \
        --output_dir outputs/scorecard [--encoder_saw_ds1 auto|yes|no] [--ship FOLDER] [any `heartbert finetune` option]
    python benchmarks/mitdb_scorecard.py --help     # the script's own options and its defaults for finetune's

Runs ``heartbert finetune --task mitdb-aami --cv 5`` (defaults below, each overridable) with the
arms (a) RR + morphology logistic regression, (b) random-init encoder, (c) pretrained encoder,
(d) pretrained encoder + rhythm, (e) random-init encoder + rhythm (the control for what
pretraining adds once the head has the rhythm), (f) / (g) pretrained / random-init encoder reading
each beat in its record's context, with the normalised RR features (``heartbert_hf.context_arms``); prints the Markdown scorecard (95 % record-bootstrap CIs, paired
differences, gains only where the CI excludes 0 and no arm is degenerate), writes
``scorecard.json`` (table, notes, command, wall time) into ``--output_dir`` and the figure
``docs/figures/mitdb_scorecard_<output_dir name>.png``.

Transductive or inductive: when the encoder's self-supervised pretraining saw DS1 signals (no
labels), DS1 cross-validation is **transductive for the encoder** (it has seen the held-out
records' signals), though DS2 stays inductive. ``--encoder_saw_ds1 auto`` reads the pretraining's
``data_summary.json`` (in the model folder or, for a ``checkpoint-N`` folder, its parent); the
label goes into every table.

``--merge DIR [DIR ...]``: instead of running, merge the ``cv_results.json`` of runs that split the
arms between processes (same folds, caps and seed; the scorecard checks that every arm scored the
same beats) into ``--output_dir``.

``--base_model_note TEXT`` names the pretrained encoder in that card (e.g. where a copied checkpoint came from).

``--ship FOLDER``: afterwards, fine-tune the best pretrained-encoder arm of the CV (pooled macro-F1) with the
same options on **every** DS1 record (``--val_folds 0``) and write it to FOLDER with its tokenizer,
``scorecard.json`` and a model card generated from this run (``heartbert_hf.card.classifier_card`` with the
CV scorecard section).
Never part of the test run (only its argument parsing is: tests/test_benchmarks_scorecard.py).
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

DEFAULTS = {
    "--cv": "5",
    "--max_train_per_class": "400",
    "--max_eval_examples": "3000",
    "--num_train_epochs": "4",
    "--per_device_train_batch_size": "32",
    "--learning_rate": "5e-4",
    "--torch_threads": "1",
}
"""The ``heartbert finetune`` options this script sets unless given (finetune's own defaults differ)."""
DEFAULT_OUTPUT_DIR = "outputs/mitdb-scorecard"


def parser():
    """The script's own options; everything else on the command line goes to ``heartbert finetune``."""
    import argparse

    defaults = ", ".join(f"{option} {value}" for option, value in DEFAULTS.items())
    p = argparse.ArgumentParser(
        prog="python benchmarks/mitdb_scorecard.py",
        description="The mitdb-aami scorecard on DS1: runs `heartbert finetune --task mitdb-aami` with record-wise "
        "K-fold CV, seven arms on identical folds and beats, prints the Markdown scorecard and writes scorecard.json "
        "and docs/figures/mitdb_scorecard_<output_dir name>.png.",
        epilog=f"Every other option is `heartbert finetune`'s (see `heartbert finetune --help`) and is passed on. "
        f"This script's defaults for them, which replace finetune's unless given: {defaults}.",
        allow_abbrev=False,
    )
    p.add_argument("--model", required=True, help="the pretrained HeartBert (folder or Hub id), passed on to heartbert finetune")
    p.add_argument("--output_dir", "--output-dir", default=DEFAULT_OUTPUT_DIR, help="where cv_results.json and scorecard.json go (default: %(default)s)")
    p.add_argument(
        "--encoder_saw_ds1",
        choices=("auto", "yes", "no"),
        default="auto",
        help="whether the encoder's pretraining saw the DS1 signals (transductive CV); auto reads data_summary.json "
        "in the model folder or its parent (default: %(default)s)",
    )
    p.add_argument(
        "--ship",
        metavar="FOLDER",
        help="afterwards, fine-tune the best pretrained-encoder arm on every DS1 record and write it, with its card "
        "and scorecard.json, to FOLDER (default: do not ship)",
    )
    p.add_argument("--base_model_note", metavar="TEXT", help="the sentence naming the pretrained encoder in the shipped card (with --ship)")
    p.add_argument(
        "--merge",
        nargs="+",
        metavar="DIR",
        default=[],
        help="instead of running, merge the cv_results.json of runs that split the arms between processes into --output_dir",
    )
    return p


def parse_arguments(argv: list[str]):
    """``(the script's options, the heartbert finetune arguments as given)``; see :func:`finetune_command`."""
    args, rest = parser().parse_known_args(argv)
    return args, [*rest, "--model", args.model, "--output_dir", args.output_dir]


def finetune_command(given: list[str]) -> list[str]:
    """``heartbert finetune --task mitdb-aami`` with the :data:`DEFAULTS` that ``given`` does not set, then ``given``."""
    options = {option_name(a) for a in given if a.startswith("--")}
    extra = [x for option, value in DEFAULTS.items() if option_name(option) not in options for x in (option, value)]
    return ["heartbert", "finetune", "--task", "mitdb-aami", *extra, *given]


def encoder_saw_ds1(model: str, answer: str) -> tuple[bool | None, str]:
    """Whether the encoder's pretraining included DS1 signals, and a note saying how that is known."""
    from heartbert_hf.data.splits import MITDB_DS1

    if answer in ("yes", "no"):
        return answer == "yes", "as stated on the command line (--encoder_saw_ds1)"
    for folder in (Path(model), Path(model).parent):
        path = folder / "data_summary.json"
        if path.is_file():
            summary = json.loads(path.read_text())
            seen = sorted(set((summary.get("train") or {}).get("records", [])) & set(MITDB_DS1))
            return bool(seen), f"{path}: {len(seen)} DS1 records in the pretraining data"
    return None, "pretraining data unknown (no data_summary.json): treat as transductive"


def option_name(arg: str) -> str:
    """``--max-eval-examples=9`` → ``max_eval_examples``: the name argparse and HfArgumentParser both accept."""
    return arg.split("=", 1)[0].lstrip("-").replace("-", "_")


def option_value(args: list[str], name: str) -> str | None:
    """The last value given for option ``name`` (``--name value`` or ``--name=value``, dashes or underscores), or ``None``."""
    value = None
    for i, a in enumerate(args):
        if a.startswith("--") and option_name(a) == name:
            value = a.split("=", 1)[1] if "=" in a else (args[i + 1] if i + 1 < len(args) else None)
    return value


def options(args: list[str]) -> list[list[str]]:
    """Command-line options as ``[flag]`` or ``[option, value]`` groups."""
    groups = []
    for a in args:
        if a.startswith("--") or not groups:
            groups.append([a])
        else:
            groups[-1].append(a)
    return groups


def merge_runs(runs: list[Path], out: Path) -> None:
    """Write ``out/cv_results.json`` holding every arm of ``runs`` and their joint scorecard."""
    from heartbert_hf.scorecard import scorecard
    from heartbert_hf.tasks import get_task, task_labels

    reports = [json.loads((r / "cv_results.json").read_text()) for r in runs]
    base = dict(reports[0])
    if any(r["records"] != base["records"] or r["n_folds"] != base["n_folds"] for r in reports):
        raise ValueError(f"runs {runs} used different records or folds; only runs of the same CV can be merged.")
    preds, arms = {}, {}
    for r in reports:
        for arm, p in r["predictions"].items():
            preds.setdefault(arm, p)
            arms.setdefault(arm, r["arms"][arm])
    task = get_task(base["task"])
    table = {arm: (p["label"], p["predicted"], p["record_id"]) for arm, p in preds.items()}
    base.update(
        {
            "arms": arms,
            "predictions": preds,
            "arms_run": list(arms),
            "merged_from": [str(r) for r in runs],
            "scorecard": scorecard(table, task_labels(task), task.report_classes, base["arguments"]["bootstrap"], base["arguments"]["seed"]),
        }
    )
    out.mkdir(parents=True, exist_ok=True)
    (out / "cv_results.json").write_text(json.dumps(base))


def main(argv: list[str] | None = None) -> int:
    from heartbert_hf.finetune import main as finetune_main
    from heartbert_hf.scorecard import format_table, plot_scorecard

    args, given = parse_arguments(list(sys.argv[1:] if argv is None else argv))
    saw, ship_dir, base_note, merge, model = args.encoder_saw_ds1, args.ship, args.base_model_note, args.merge, args.model
    command = finetune_command(given)
    arms_given = option_value(given, "arms")
    if ship_dir and arms_given is not None and not {"pretrained", "pretrained+rhythm", "pretrained+context"} & {a.strip() for a in arms_given.split(",")}:
        raise SystemExit(f"--ship trains a pretrained-encoder arm, but --arms {arms_given} has none: add pretrained, pretrained+rhythm or pretrained+context.")
    out = Path(args.output_dir)
    start = time.time()
    if merge:
        merge_runs([Path(m) for m in merge], out)
        command = [f"(merged from {len(merge)} runs: " + ", ".join(json.loads((Path(m) / "cv_results.json").read_text())["command"] for m in merge) + ")"]
        wall = max(json.loads((Path(m) / "cv_results.json").read_text()).get("wall_seconds", 0) for m in merge)
    else:
        code = finetune_main(command[2:])
        if code:
            return code
        wall = time.time() - start
        report = json.loads((out / "cv_results.json").read_text())
        report["command"], report["wall_seconds"] = shlex.join(command), round(wall)
        (out / "cv_results.json").write_text(json.dumps(report))
    report = json.loads((out / "cv_results.json").read_text())
    seen, how = encoder_saw_ds1(model, saw)
    if seen is False:
        mode = "inductive: the encoder's pretraining saw no DS1 record"
    else:
        mode = "TRANSDUCTIVE for the encoder: its self-supervised pretraining saw the DS1 signals (no labels), held-out folds included; DS2 stays inductive"
    notes = [
        f"DS1 record-wise {report['n_folds']}-fold CV ({len(report['records'])} records), pooled held-out beats; encoder arms (b)-(g): {mode} ({how})",
        f"model {model}; head {report['head']}; machine {platform.machine()} {os.cpu_count()}-core CPU, shared/busy; wall time {wall / 60:.0f} min",
        "command: "
        + shlex.join(
            ["python", "benchmarks/mitdb_scorecard.py", *given] + (["--encoder_saw_ds1", saw] if saw != "auto" else []) + (["--merge", *merge] if merge else [])
        ),
        "expanded: " + (shlex.join(command) if not merge else command[0]),
    ]
    table = format_table(report["scorecard"], notes)
    print(table)
    (out / "scorecard.json").write_text(
        json.dumps(
            {"table": table, "notes": notes, "encoder_saw_ds1": seen, "command": command, "wall_seconds": round(wall), "scorecard": report["scorecard"]},
            indent=1,
        )
    )
    figure = Path(__file__).resolve().parents[1] / "docs" / "figures" / f"mitdb_scorecard_{out.name}.png"
    plot_scorecard(report["scorecard"], figure, title=f"mitdb-aami, DS1 {report['n_folds']}-fold CV" + (" (encoder transductive)" if seen is not False else ""))
    print(f"\nJSON: {out / 'scorecard.json'}\nfigure: {figure}")
    if ship_dir:
        run_command = shlex.split(json.loads((Path(merge[0]) / "cv_results.json").read_text())["command"]) if merge else command
        return ship(run_command, report, table, notes, Path(ship_dir), out, base_note)
    return 0


def ship(cv_command: list[str], report: dict, table: str, notes: list[str], folder: Path, out: Path, base_note: str | None = None) -> int:
    """Fine-tune the CV's best encoder arm on every DS1 record and write it, with its card, to ``folder``."""
    import shutil

    from heartbert_hf.arms import NEURAL_ARMS
    from heartbert_hf.card import classifier_card, cv_scorecard_section
    from heartbert_hf.context_arms import CONTEXT_ARMS
    from heartbert_hf.finetune import main as finetune_main

    arms = report["scorecard"]["arms"]
    pretrained = [
        a for a in arms if (a in NEURAL_ARMS and not NEURAL_ARMS[a][0]) or CONTEXT_ARMS.get(a) is False
    ]  # random-init arms are controls, never shipped
    best = max(pretrained, key=lambda a: (not arms[a]["degenerate"], arms[a]["macro_f1"] or 0.0))
    drop = {"cv", "output_dir", "arms", "max_eval_examples", "bootstrap"}
    kept = [x for option in options(cv_command[2:]) if option_name(option[0]) not in drop for x in option]
    train_dir = out / "ship-train"
    train_args = [*kept, "--arms", best, "--val_folds", "0", "--output_dir", str(train_dir)]
    code = finetune_main(train_args)
    if code:
        return code
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for f in train_dir.iterdir():
        if f.is_file() and f.name not in ("results.json", "README.md"):
            shutil.copy2(f, folder / f.name)
    chosen = f"shipped configuration: arm {best} (best pooled macro-F1 of the pretrained-encoder arms in this CV)"
    card = classifier_card(
        folder,
        train_command=shlex.join(["heartbert", "finetune", *train_args[:-2], "--output_dir", "OUT"]),
        results_section=cv_scorecard_section(f"{table}\n- {chosen}", report["n_folds"]),
        arguments=json.loads((train_dir / "results.json").read_text())["arguments"],
        base_model=base_note,
    )
    card.save(folder)
    (folder / "scorecard.json").write_text(json.dumps({"table": table, "notes": [chosen, *notes], "scorecard": report["scorecard"]}, indent=1))
    size = sum(f.stat().st_size for f in folder.iterdir()) / 1e6
    print(f"shipped {best} to {folder} ({size:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
