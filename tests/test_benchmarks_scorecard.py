"""benchmarks/mitdb_scorecard.py's command line: its own options and defaults, and what reaches finetune.

The benchmark itself never runs in the test suite; these tests only parse arguments (no model, no data).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "mitdb_scorecard.py"


@pytest.fixture(scope="module")
def scorecard_script():
    spec = importlib.util.spec_from_file_location("mitdb_scorecard_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_help_shows_the_scripts_own_options_and_defaults(scorecard_script, capsys):
    """Before: --help printed heartbert finetune's help: no --ship/--merge/--encoder_saw_ds1/--base_model_note,
    and finetune's defaults (--cv 0, output heartbert-finetuned) instead of the script's."""
    with pytest.raises(SystemExit) as stop:
        scorecard_script.main(["--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    for option in ("--ship", "--merge", "--encoder_saw_ds1", "--base_model_note", "--model", "--output_dir"):
        assert option in text
    assert "default: outputs/mitdb-scorecard" in text and "default: auto" in text
    assert "--cv 5, --max_train_per_class 400, --max_eval_examples 3000" in text
    assert "Every other option is `heartbert finetune`'s" in text
    assert "heartbert-finetuned" not in text


def test_own_options_are_taken_out_and_finetune_gets_the_rest(scorecard_script):
    args, given = scorecard_script.parse_arguments(
        ["--model", "M", "--merge", "runA", "runB", "--cv", "3", "--max-train-per-class", "0", "--ship", "S", "--encoder_saw_ds1", "yes"]
    )
    assert (args.model, args.merge, args.ship, args.encoder_saw_ds1, args.output_dir) == ("M", ["runA", "runB"], "S", "yes", "outputs/mitdb-scorecard")
    assert given == ["--cv", "3", "--max-train-per-class", "0", "--model", "M", "--output_dir", "outputs/mitdb-scorecard"]
    command = scorecard_script.finetune_command(given)
    assert command[:4] == ["heartbert", "finetune", "--task", "mitdb-aami"]
    # the script's defaults fill in only what was not given (either spelling, or --option=value)
    assert command.count("--cv") == 1 and "--max_train_per_class" not in command and command[command.index("--max_eval_examples") + 1] == "3000"
    assert "--learning_rate" not in scorecard_script.finetune_command(["--learning_rate=1e-3", "--model", "M"])


def test_a_missing_model_or_bad_choice_is_refused(scorecard_script, capsys):
    with pytest.raises(SystemExit):
        scorecard_script.parse_arguments(["--cv", "3"])
    assert "--model" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        scorecard_script.parse_arguments(["--model", "M", "--encoder_saw_ds1", "maybe"])
    assert "invalid choice" in capsys.readouterr().err


def test_ship_drops_the_cv_options_however_they_are_spelt(scorecard_script, tmp_path, monkeypatch):
    """`--cv=3` or `--max-eval-examples 100` survived into the --ship fit, which would then cross-validate
    again instead of training on every DS1 record."""
    import heartbert_hf.finetune

    seen = {}

    def fake_finetune(argv):
        seen["argv"] = argv
        return 1  # stop before writing the shipped folder

    monkeypatch.setattr(heartbert_hf.finetune, "main", fake_finetune)
    report = {"scorecard": {"arms": {"pretrained+rhythm": {"degenerate": False, "macro_f1": 0.4}, "random+rhythm": {"degenerate": False, "macro_f1": 0.5}}}}
    cv = ["heartbert", "finetune", "--task", "mitdb-aami", "--cv=3", "--max-eval-examples", "100", "--arms=pretrained+rhythm,random+rhythm", "--seed", "7"]
    assert scorecard_script.ship(cv, report, "table", [], tmp_path / "ship", tmp_path) == 1
    names = [scorecard_script.option_name(a) for a in seen["argv"] if a.startswith("--")]
    assert "cv" not in names and "max_eval_examples" not in names and names.count("arms") == 1
    assert seen["argv"][seen["argv"].index("--arms") + 1] == "pretrained+rhythm"  # the random-init control is never shipped
    assert seen["argv"][seen["argv"].index("--seed") + 1] == "7"


def test_ship_without_a_pretrained_arm_is_refused_before_the_run(scorecard_script):
    with pytest.raises(SystemExit, match="--ship trains a pretrained-encoder arm, but --arms features,random,random\\+rhythm has none"):
        scorecard_script.main(["--model", "m", "--data_dir", "d", "--ship", "s", "--arms=features,random,random+rhythm"])
