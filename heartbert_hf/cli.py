"""`heartbert` console script: one subcommand per entry point.

Each subcommand is a module with ``main(argv=None)``; it is imported only when called, so
``heartbert --help`` stays fast.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS: dict[str, tuple[str, str]] = {
    "quickstart": ("heartbert_hf.quickstart", "fit quantizer + BPE on the shipped sample, train a tiny MLM, save and reload it"),
    "plot": ("heartbert_hf.plots", "draw an ECG window, its quantized reconstruction and BPE token boundaries to PNG"),
    "prepare": ("heartbert_hf.prepare", "build a pretraining corpus or a task dataset (Arrow) from PhysioNet records"),
    "pretrain": ("heartbert_hf.pretrain", "masked-LM pretraining (Trainer; works under accelerate launch)"),
    "finetune": ("heartbert_hf.finetune", "fine-tune on a downstream task with patient-wise splits"),
    "evaluate": ("heartbert_hf.evaluate", "evaluate a fine-tuned model on a task's test split"),
    "embed": ("heartbert_hf.embed", "export one pooled vector per ECG window to Parquet"),
    "classify-beats": (
        "heartbert_hf.classify_beats",
        "label each beat of a WFDB record AAMI N/S/V/F: annotation file, CSV, strip plot, confusion vs reference",
    ),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: heartbert COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in COMMANDS.items()]
    lines += ["", "Run `heartbert COMMAND --help` for the options of one command."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Dispatch ``heartbert COMMAND ...`` to the command's ``main``.

    Args:
        argv: the arguments after the program name (default: ``sys.argv[1:]``).
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0
    if argv[0] in ("-V", "--version"):
        from .version import __version__

        print(f"heartbert_hf {__version__}")
        return 0
    name = argv[0]
    if name not in COMMANDS:
        print(f"heartbert: unknown command {name!r}\n\n{_usage()}", file=sys.stderr)
        return 2
    module = importlib.import_module(COMMANDS[name][0])
    result = module.main(argv[1:])
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
