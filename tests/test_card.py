"""Model cards (one card-data class, templates) and the Hub helper (stand-in API, never the internet)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")


def _front_matter(path: Path) -> dict:
    from huggingface_hub import ModelCard

    return ModelCard(path.read_text()).data.to_dict()


# ------------------------------------------------------------------------------------------ cards
def test_pretraining_card_has_the_runs_facts(tmp_path, tiny_tokenizer, tiny_config):
    from transformers import TrainerState, TrainingArguments

    from heartbert_hf.card import LICENCES, ModelCardCallback
    from heartbert_hf.pretrain import DataArguments, ModelArguments

    split = {"patients": 2, "examples": 2, "blocks": 30, "content_tokens": 3800, "padding_share": 0.01, "samples_used_share": 0.995}
    summary = {"sources": ["sample"], "train": {**split, "records": ["101", "208"]}, "validation": {**split, "records": ["118"], "patients": 1}}
    callback = ModelCardCallback(ModelArguments(preset="quickstart"), DataArguments(), summary, tiny_tokenizer, {"sample": LICENCES["sample"]})
    callback.final_metrics = {"eval_loss": 4.5, "eval_masked_accuracy": 0.25}
    args = TrainingArguments(output_dir=str(tmp_path / "my-run"), per_device_train_batch_size=4, use_cpu=True, report_to="none", seed=7)
    state = TrainerState(global_step=12, epoch=1.0, log_history=[{"train_loss": 5.25}])
    path = callback.write(tmp_path, state, args, model_config=tiny_config)
    assert "curves.png" not in path.read_text()  # no figure drawn, none linked
    (tmp_path / "curves.png").write_bytes(b"png")
    path = callback.write(tmp_path, state, args, model_config=tiny_config)
    assert "![Training and validation loss by step](curves.png)" in path.read_text()

    meta = _front_matter(path)
    assert meta["license"] == "apache-2.0" and meta["pipeline_tag"] == "fill-mask" and meta["library_name"] == "transformers"
    assert meta["datasets"] == ["physionet/mitdb"] and {"heartbert", "ecg", "electrocardiogram"} <= set(meta["tags"])
    text = path.read_text()
    assert "# my-run" in text and "Validation records: 118." in text and "| train | 2 / 2 |" in text
    assert "| loss | 4.5000 |" in text and "| perplexity | 90.0171 |" in text and "| final training loss (mean over the run) | 5.2500 |" in text
    assert "12 optimizer steps" in text and "| seed | 7 |" in text and f"hidden {tiny_config.hidden_size}" in text
    assert "ODC-By 1.0" in text and "Goldberger et al." in text and "Not a medical device" in text
    assert "$" not in text.split("```")[0]  # every placeholder filled


def test_a_template_placeholder_without_a_value_is_an_error(tmp_path):
    from heartbert_hf.card import HeartBertCardData

    with pytest.raises(ValueError, match=r"classifier_card.md: no value for the placeholders \['kind', 'task_text',"):
        HeartBertCardData(model_name="x", template="classifier_card.md", values={"model_name": "x"}).render()


def _classifier_folder(tmp_path, tiny_config, task: str, train: list[str], validation: list[str]) -> Path:
    from heartbert_hf.rhythm import RR_FEATURE_NAMES

    folder = tmp_path / "my-classifier"
    folder.mkdir()
    labels = ["N", "S", "V", "F"] if task == "mitdb-aami" else ["NORM", "MI", "STTC", "CD", "HYP"]
    config = tiny_config.to_dict() | {
        "classifier_head": "linear-probe",
        "problem_type": "single_label_classification" if task == "mitdb-aami" else "multi_label_classification",
        "id2label": dict(enumerate(labels)),
        "rhythm_feature_names": list(RR_FEATURE_NAMES) if task == "mitdb-aami" else None,
        "heartbert_finetune": {
            "task": task,
            "labels": labels,
            "head": "linear-probe",
            "base_model": "org/heartbert-base",
            "splits": {"train": train, "validation": validation},
        },
    }
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "model.safetensors").write_bytes(b"0" * 2_000_000)
    return folder


ARGUMENTS = {
    "num_train_epochs": 3.0,
    "max_steps": -1,
    "per_device_train_batch_size": 16,
    "learning_rate": 5e-3,
    "warmup_steps": 0.1,
    "weight_decay": 0.01,
    "seed": 42,
}


def test_shipped_style_classifier_card(tmp_path, tiny_config):
    from heartbert_hf.card import classifier_card, cv_scorecard_section
    from heartbert_hf.data.splits import MITDB_DS1

    folder = _classifier_folder(tmp_path, tiny_config, "mitdb-aami", list(MITDB_DS1), [])
    card = classifier_card(
        folder,
        train_command="heartbert finetune --task mitdb-aami --num_train_epochs 3 --output_dir OUT",
        results_section=cv_scorecard_section("| arm | macro-F1 |\n|---|---|\n| (d) pretrained encoder + rhythm | 0.349 |", 5),
        arguments=ARGUMENTS,
        base_model="step 1,800 of the project's HeartBert",
    )
    path = card.save(folder)
    meta = _front_matter(path)
    # a rhythm model: pipeline("text-classification") refuses it, so the card does not declare that pipeline
    assert meta["license"] == "odc-by" and meta["pipeline_tag"] == "other" and meta["datasets"] == ["mitdb"]
    assert {"heartbert", "ecg", "aami"} <= set(meta["tags"])
    text = path.read_text()
    # what classify-beats does: the detector unless --use_reference_beats (was: "the annotations when present")
    assert (
        "R peaks from the GQRS detector (`heartbert_hf.rhythm.detect_r_peaks`), or from the record's reference annotations with `--use_reference_beats`" in text
    )
    assert "annotations when present" not in text
    assert "rhythm_features=x)` with x of shape (batch, 9)" in text and "passes no RR features and is refused" in text
    assert "# my-classifier" in text and "A HeartBert beat classifier: AAMI EC57 classes N (normal)" in text
    assert "pre_rr" in text and "head `linear-probe`; 2.0 MB" in text and f"hidden {tiny_config.hidden_size}" in text
    assert "the 22 MIT-BIH DS1 records (de Chazal et al. 2004): 101," in text
    assert (  # a single-label linear probe is fitted by logistic regression, not trained for epochs (heartbert_hf.probe)
        "frozen encoder; the linear probe fitted to convergence by class-weighted (square root of inverse class frequency) multinomial logistic regression"
        in text
        and "on the encoder's embeddings of every training beat" in text
        and "epochs of" not in text
        and "`heartbert finetune --task mitdb-aami --num_train_epochs 3" in text
    )
    assert (
        "record-wise 5-fold cross-validation over DS1" in text
        and "## Cross-validated scorecard (DS1, record-wise)" in text
        and "| (d) pretrained encoder + rhythm | 0.349 |" in text
    )
    assert "inductive for DS2" in text and "step 1,800 of the project's HeartBert" in text
    assert "(ODC-By 1.0)" in text and "Moody GB, Mark RG" in text and "Goldberger AL" in text and "Not a medical device" in text
    assert "$" not in text


@pytest.mark.parametrize("rhythm", [False, True], ids=["morphology-only", "rhythm"])
def test_the_card_declares_only_a_pipeline_that_runs_the_model(rhythm, tmp_path, tiny_tokenizer, tiny_config, sample_signals):
    """The shipped rhythm classifier's card declared pipeline_tag text-classification, a pipeline that refuses it."""
    import torch
    from transformers import pipeline
    from transformers.pipelines import SUPPORTED_TASKS

    from heartbert_hf import HeartBertConfig, HeartBertForSequenceClassification, HeartBertProcessor
    from heartbert_hf.card import HeartBertCardData, classifier_card
    from heartbert_hf.data.splits import MITDB_DS1
    from heartbert_hf.evaluate import update_model_card
    from heartbert_hf.rhythm import RR_FEATURE_NAMES

    labels = ["N", "S", "V", "F"]
    fields = {"num_labels": 4, "id2label": dict(enumerate(labels)), "label2id": {c: i for i, c in enumerate(labels)}}
    if rhythm:
        fields["rhythm_feature_names"] = list(RR_FEATURE_NAMES)
    folder = tmp_path / "classifier"
    torch.manual_seed(0)
    HeartBertForSequenceClassification(HeartBertConfig(**{**tiny_config.to_dict(), **fields})).save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    config = json.loads((folder / "config.json").read_text())
    config["heartbert_finetune"] = {"task": "mitdb-aami", "labels": labels, "head": "sequence", "splits": {"train": list(MITDB_DS1)}}
    (folder / "config.json").write_text(json.dumps(config))
    classifier_card(folder, train_command="heartbert finetune --task mitdb-aami", results_section="", arguments=ARGUMENTS).save(folder)
    tag = _front_matter(folder / "README.md")["pipeline_tag"]

    ids = HeartBertProcessor.from_tokenizer(tiny_tokenizer)(ecg=[sample_signals[0][0][:576]], sampling_rate=360, truncation=True, max_length=100)["input_ids"][
        0
    ]
    text = tiny_tokenizer.decode(ids, skip_special_tokens=True)
    classify = pipeline("text-classification", model=str(folder), top_k=None)
    if rhythm:
        assert tag == "other"
        with pytest.raises(ValueError, match="call the model directly for a rhythm model"):
            classify(text)
    else:
        assert tag == "text-classification" and tag in SUPPORTED_TASKS
        assert sorted(d["label"] for d in pipeline(tag, model=str(folder), top_k=None)([text])[0]) == sorted(labels)
    update_model_card(str(folder), "mitdb-aami", "test", {"macro_f1": 0.5}, "mitdb")  # model-index says the same task
    assert {r.task_type for r in HeartBertCardData.load(folder).eval_results} == {tag}


def test_finetune_card_of_another_task_and_its_evaluation_results(tmp_path, tiny_config):
    from heartbert_hf.card import HeartBertCardData, classifier_card, finetune_results_section
    from heartbert_hf.evaluate import update_model_card

    folder = _classifier_folder(tmp_path, tiny_config, "ptbxl-superdiagnostic", ["1", "2", "3"], ["4"])
    report = {
        "scored_split": "validation",
        "n_examples": {"validation": 9},
        "splits": {"validation": ["4"]},
        "notes": ["no test split (the data has no test split): every figure is on the validation split"],
        "saved_arm": "pretrained",
        "arms": {"random": {"validation": {"macro_auroc": 0.51, "macro_f1": 0.2}}, "pretrained": {"validation": {"macro_auroc": 0.62, "macro_f1": None}}},
    }
    classifier_card(
        folder, train_command="heartbert finetune --task ptbxl-superdiagnostic", results_section=finetune_results_section(report), arguments=ARGUMENTS
    ).save(folder)
    text = (folder / "README.md").read_text()
    assert _front_matter(folder / "README.md")["license"] == "cc-by-4.0"
    assert "task `ptbxl-superdiagnostic`, multi-label over NORM, MI, STTC, CD, HYP" in text
    assert "3 PTB-XL v1.0.3 records: 1, 2, 3; epoch selected on 4" in text and "Wagner P et al." in text and "(CC BY 4.0)" in text
    assert "3 epochs of 16 sequences, learning rate 0.005 (warm-up 10% of the steps, weight decay 0.01), seed 42" in text  # multi-label: SGD
    assert "| arm | f1 |" not in text and "| arm | macro_f1 | macro_auroc |" in text
    assert "| pretrained (saved here) | n/a | 0.620 |" in text and "Note: no test split" in text

    # evaluation: model-index results go into the same card; its text stays as it was
    body = text.split("---\n", 2)[2]
    update_model_card(str(folder), "ptbxl-superdiagnostic", "test", {"macro_auroc": 0.6, "macro_f1": 0.3}, "ptbxl")
    update_model_card(str(folder), "ptbxl-superdiagnostic", "test", {"macro_auroc": 0.7}, "ptbxl")  # replaces, does not add
    card = HeartBertCardData.load(folder)
    assert card.body.strip() == body.strip() and card.license == "cc-by-4.0"
    assert [(r.dataset_split, r.metric_name, r.metric_value) for r in card.eval_results] == [("test", "macro_auroc", 0.7)]
    assert "model-index" in (folder / "README.md").read_text()


# ------------------------------------------------------------------------------------------ hub
class _StandInApi:
    """Records what an upload asks of the Hub; nothing leaves the machine."""

    def __init__(self):
        self.calls = []

    def create_repo(self, repo_id, **kw):
        self.calls.append(("create_repo", repo_id, kw))

    def upload_folder(self, folder_path, repo_id, **kw):
        self.calls.append(("upload_folder", repo_id, kw | {"files": sorted(p.name for p in Path(folder_path).iterdir())}))
        return type("Info", (), {"commit_url": f"https://hub.example/{repo_id}/commit/abc"})()


def test_push_folder_creates_the_repo_and_uploads_the_folder_once(tmp_path):
    from heartbert_hf.hub import MODEL_IGNORE, push_folder

    (tmp_path / "README.md").write_text("# card\n")
    api = _StandInApi()
    url = push_folder(tmp_path, "me/hb", commit_message="a run", private=True, api=api)
    assert url == "https://hub.example/me/hb/commit/abc"
    (create, repo, create_kw), (upload, repo2, upload_kw) = api.calls
    assert (create, repo, create_kw["repo_type"], create_kw["private"], create_kw["exist_ok"]) == ("create_repo", "me/hb", "model", True, True)
    assert (upload, repo2, upload_kw["repo_type"], upload_kw["commit_message"]) == ("upload_folder", "me/hb", "model", "a run")
    assert upload_kw["ignore_patterns"] == list(MODEL_IGNORE) and "arm-*/**" in MODEL_IGNORE and "checkpoint-*" in MODEL_IGNORE
    with pytest.raises(FileNotFoundError, match="no such folder"):
        push_folder(tmp_path / "missing", "me/hb", commit_message="x", api=api)


def test_push_is_refused_before_any_work(monkeypatch):
    from huggingface_hub import constants

    from heartbert_hf.hub import check_push_possible

    with pytest.raises(SystemExit, match="needs --hub_model_id user/name"):
        check_push_possible(None)
    with pytest.raises(SystemExit, match="needs --hub_model_id user/name"):
        check_push_possible("no-owner")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(SystemExit, match="HF_HUB_OFFLINE=1"):
        check_push_possible("me/hb")


def test_a_capped_probe_with_validation_records_is_described_as_run(tmp_path, tiny_config):
    from heartbert_hf.card import classifier_card, finetune_results_section

    folder = _classifier_folder(tmp_path, tiny_config, "mitdb-aami", ["101", "106"], ["108"])
    report = {
        "scored_split": "validation",
        "n_examples": {"validation": 9},
        "splits": {"validation": ["108"]},
        "notes": [],
        "saved_arm": "pretrained",
        "arms": {},
    }
    card = classifier_card(
        folder, train_command="heartbert finetune", results_section=finetune_results_section(report), arguments={**ARGUMENTS, "max_train_per_class": 400}
    )
    text = card.render()
    assert "on the encoder's embeddings of at most 400 training beats per class" in text
    assert "validation records (not used by the fitted probe) 108" in text and "epoch selected" not in text
