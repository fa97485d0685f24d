"""HeartBert models: config defaults and version stamp, MLM learning on real data, the MLM loss weighting under
Trainer, classification heads, pooling (every head's save/reload: test_heads.py)."""

import json
import warnings

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification, DataCollatorForLanguageModeling

import heartbert_hf
from heartbert_hf import HeartBertConfig, HeartBertForMaskedLM, HeartBertForSequenceClassification, HeartBertModel


def _no_dropout(config: HeartBertConfig) -> HeartBertConfig:
    """A copy of ``config`` without dropout (the session fixture is shared: never mutate it)."""
    return HeartBertConfig(**{**config.to_dict(), "hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0})


def test_config_defaults_are_the_published_shape():
    c = HeartBertConfig()
    assert (c.num_hidden_layers, c.num_attention_heads, c.hidden_size, c.max_position_embeddings, c.type_vocab_size) == (6, 12, 768, 514, 1)
    assert c.model_type == "heartbert"


def test_saved_config_has_version_and_full_auto_map(tiny_config, tmp_path):
    HeartBertForMaskedLM(tiny_config).save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["heartbert_version"] == heartbert_hf.__version__
    assert set(saved["auto_map"]) == {"AutoConfig", "AutoModel", "AutoModelForMaskedLM", "AutoModelForSequenceClassification", "AutoTokenizer"}
    for name in ("configuration_heartbert.py", "modeling_heartbert.py", "version.py"):
        assert (tmp_path / name).is_file()
    assert isinstance(AutoConfig.from_pretrained(tmp_path), HeartBertConfig)
    assert isinstance(AutoModel.from_pretrained(tmp_path), HeartBertModel)
    assert isinstance(AutoModelForMaskedLM.from_pretrained(tmp_path), HeartBertForMaskedLM)


def _mlm_batches(tokenizer, signals, n, size, seed=0):
    enc = tokenizer(ecg=signals, sampling_rate=360, truncation=True, max_length=64)
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15)
    rng = np.random.default_rng(seed)
    rows = enc["input_ids"]
    return [collator([{"input_ids": rows[i]} for i in rng.choice(len(rows), size, replace=False)]) for _ in range(n)]


def test_mlm_loss_is_finite_and_decreases_on_real_data(tiny_tokenizer, tiny_config, sample_signals):
    torch.manual_seed(0)
    model = HeartBertForMaskedLM(tiny_config)
    batch = _mlm_batches(tiny_tokenizer, sample_signals[:2], 1, 32)[0]
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    model.train()
    losses = []
    for _ in range(25):  # fit one fixed batch: the loss must fall
        loss = model(**batch).loss
        assert torch.isfinite(loss)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.item())
    assert losses[-1] < 0.8 * losses[0]


def test_sparse_training_head_matches_the_full_head(tiny_tokenizer, tiny_config, sample_signals):
    torch.manual_seed(0)
    model = HeartBertForMaskedLM(_no_dropout(tiny_config))
    batch = _mlm_batches(tiny_tokenizer, sample_signals[:1], 1, 8)[0]
    model.train()
    sparse = model(**batch)
    model.eval()
    full = model(**batch)
    n_masked = int((batch["labels"] != -100).sum())
    assert sparse.logits.shape == (n_masked, tiny_config.vocab_size)
    assert full.logits.shape == (*batch["input_ids"].shape, model.config.vocab_size)
    torch.testing.assert_close(sparse.loss, full.loss, rtol=1e-5, atol=1e-5)


def test_classification_single_and_multi_label(tiny_tokenizer, tiny_config, sample_signals):
    enc = tiny_tokenizer(ecg=sample_signals[0][:, :8000], sampling_rate=360, truncation=True, max_length=64, padding=True, return_tensors="pt")
    ids, mask = enc["input_ids"][:6], enc["attention_mask"][:6]
    single = HeartBertForSequenceClassification(HeartBertConfig(**{**tiny_config.to_dict(), "num_labels": 5}))
    out = single(input_ids=ids, attention_mask=mask, labels=torch.tensor([0, 1, 2, 3, 4, 0]))
    assert out.logits.shape == (6, 5) and torch.isfinite(out.loss) and single.config.problem_type == "single_label_classification"
    multi = HeartBertForSequenceClassification(HeartBertConfig(**{**tiny_config.to_dict(), "num_labels": 5, "problem_type": "multi_label_classification"}))
    labels = torch.zeros(6, 5)
    labels[:, [0, 3]] = 1.0
    out = multi(input_ids=ids, attention_mask=mask, labels=labels)
    expected = torch.nn.functional.binary_cross_entropy_with_logits(out.logits, labels)
    torch.testing.assert_close(out.loss, expected)


def test_pooler_output_is_the_masked_mean(tiny_tokenizer, tiny_config, sample_signals):
    model = HeartBertModel(tiny_config).eval()
    enc = tiny_tokenizer([tiny_tokenizer.ecg_to_text(sample_signals[0][0, :4000], 360)[0][0][:100], "ABCDEF"], padding=True, return_tensors="pt")
    with torch.no_grad():
        out = model(**enc)
        short = model(**tiny_tokenizer(["ABCDEF"], return_tensors="pt"))
    assert out.pooler_output.shape == (2, tiny_config.hidden_size)
    # padding must not change the embedding of the short sequence
    torch.testing.assert_close(out.pooler_output[1], short.pooler_output[0], rtol=1e-4, atol=1e-5)


def test_classifier_loads_from_an_mlm_checkpoint(tiny_config, tmp_path):
    mlm = HeartBertForMaskedLM(tiny_config)
    mlm.save_pretrained(tmp_path)
    clf = AutoModelForSequenceClassification.from_pretrained(tmp_path, num_labels=3)
    assert isinstance(clf, HeartBertForSequenceClassification)
    torch.testing.assert_close(clf.roberta.embeddings.word_embeddings.weight, mlm.roberta.embeddings.word_embeddings.weight)


def test_only_the_mlm_takes_trainer_loss_kwargs():
    # the MLM divides by Trainer's num_items_in_batch; the classifier's loss is a per-batch mean Trainer must not rescale
    assert HeartBertForMaskedLM.accepts_loss_kwargs is True
    assert HeartBertForSequenceClassification.accepts_loss_kwargs is False


# ------------------------------------------------------------------------------------------ loss weighting
def _two_rows_with_different_mask_counts(vocab: int) -> dict:
    """Two rows of 24 tokens: 2 masked tokens in row 0, 9 in row 1 (per-row means would weigh them 1:1)."""
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab, (2, 24), generator=g)
    labels = torch.full_like(ids, -100)
    labels[0, [3, 7]] = ids[0, [3, 7]]
    labels[1, 2:20:2] = ids[1, 2:20:2]
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}


def _grads(model, batches, **kw) -> dict[str, torch.Tensor]:
    model.zero_grad()
    for b in batches:
        model(**b, **kw).loss.backward()
    return {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}


def test_mlm_loss_is_the_sum_over_masked_tokens_divided_by_num_items_in_batch(tiny_config):
    torch.manual_seed(0)
    model = HeartBertForMaskedLM(_no_dropout(tiny_config)).train()
    batch = _two_rows_with_different_mask_counts(tiny_config.vocab_size)
    rows = [{k: v[i : i + 1] for k, v in batch.items()} for i in range(2)]
    whole = _grads(model, [batch])  # no num_items_in_batch: the batch's own 11 masked tokens
    split = _grads(model, rows, num_items_in_batch=torch.tensor(11))  # two micro-batches of one optimizer step
    per_row_mean = _grads(model, rows)  # what a per-micro-batch mean would give
    for name in whole:
        torch.testing.assert_close(split[name], whole[name], rtol=1e-5, atol=1e-7)
    # Trainer's old weighting, (mean of row 0 + mean of row 1) / 2 accumulation steps, is visibly different
    assert any(not torch.allclose(per_row_mean[n] / 2, whole[n], rtol=1e-3) for n in whole)
    model.eval()
    with torch.no_grad():  # the eval path (full logits) gives the same loss
        torch.testing.assert_close(model(**batch).loss, model.train()(**batch).loss, rtol=1e-5, atol=1e-6)


def _one_trainer_step(model, batch, tmp_path, per_device: int, accumulation: int) -> dict[str, torch.Tensor]:
    """One SGD step (lr 1, no clipping, no decay) through Trainer; returns the parameter change (= -gradient)."""
    from transformers import Trainer, TrainingArguments

    rows = [{k: v[i] for k, v in batch.items()} for i in range(batch["input_ids"].shape[0])]
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_train_batch_size=per_device,
        gradient_accumulation_steps=accumulation,
        max_steps=1,
        learning_rate=1.0,
        optim="sgd",
        weight_decay=0.0,
        max_grad_norm=0.0,
        lr_scheduler_type="constant",
        use_cpu=True,
        report_to="none",
        save_strategy="no",
        disable_tqdm=True,
        dataloader_num_workers=0,
        seed=0,
    )
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    Trainer(model=model, args=args, train_dataset=rows, data_collator=lambda items: {k: torch.stack([i[k] for i in items]) for k in items[0]}).train()
    return {n: p.detach() - before[n] for n, p in model.named_parameters()}


def test_trainer_gradient_accumulation_weighs_every_masked_token_the_same(tiny_config, tmp_path):
    """2 accumulation steps x batch 1 vs 1 step x batch 2, rows with 2 and 9 masked tokens: same update."""
    config = _no_dropout(tiny_config)
    batch = _two_rows_with_different_mask_counts(config.vocab_size)
    updates = {}
    for name, per_device, accumulation, loss_kwargs in [("2x1", 1, 2, True), ("1x2", 2, 1, True), ("2x1 per-batch mean", 1, 2, False)]:
        torch.manual_seed(0)
        model = HeartBertForMaskedLM(config)
        model.accepts_loss_kwargs = loss_kwargs  # False: Trainer's old behaviour, each micro-batch a plain mean
        updates[name] = _one_trainer_step(model, batch, tmp_path / name.replace(" ", "_"), per_device, accumulation)
    for n, delta in updates["1x2"].items():
        torch.testing.assert_close(updates["2x1"][n], delta, rtol=1e-5, atol=1e-7, msg=n)
    word = "roberta.embeddings.word_embeddings.weight"
    assert not torch.allclose(updates["2x1 per-batch mean"][word], updates["1x2"][word], rtol=1e-2, atol=1e-6)  # the test can see the difference


# ------------------------------------------------------------------ masked-LM loads of checkpoints without an lm_head
def _lm_head_warnings(caught) -> list[str]:
    return [str(w.message) for w in caught if "no masked-LM head" in str(w.message)]


def test_mlm_load_of_a_fine_tuned_classifier_is_refused(tiny_config, tiny_tokenizer, tmp_path):
    from transformers import pipeline

    folder = tmp_path / "classifier"
    torch.manual_seed(0)
    classifier = HeartBertForSequenceClassification(HeartBertConfig(**{**tiny_config.to_dict(), "num_labels": 3}))
    classifier.save_pretrained(folder)
    tiny_tokenizer.save_pretrained(folder)
    refused = r"is a fine-tuned classifier \(config.architectures \['HeartBertForSequenceClassification'\]\) and has no masked-LM head.*from_encoder"
    for load in (AutoModelForMaskedLM.from_pretrained, HeartBertForMaskedLM.from_pretrained):
        with pytest.raises(ValueError, match=refused):
            load(folder)
    with pytest.raises(ValueError, match=refused):  # the pipeline wraps the loader's error in its own ValueError
        pipeline("fill-mask", model=str(folder), device="cpu")
    # continuing MLM pretraining from the classifier's encoder: allowed, and said
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mlm, info = HeartBertForMaskedLM.from_encoder(folder, output_loading_info=True)
    assert len(_lm_head_warnings(caught)) == 1 and "starts from random weights" in _lm_head_warnings(caught)[0]
    assert info["missing_keys"] and all(k.startswith("lm_head.") for k in info["missing_keys"])
    for name, value in classifier.roberta.state_dict().items():
        torch.testing.assert_close(mlm.roberta.state_dict()[name], value, msg=name)


def test_mlm_load_of_an_encoder_save_warns_and_of_an_mlm_checkpoint_is_silent(tiny_config, tiny_model_dir, tmp_path):
    HeartBertModel(tiny_config).save_pretrained(tmp_path / "encoder")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = AutoModelForMaskedLM.from_pretrained(tmp_path / "encoder")
    assert isinstance(model, HeartBertForMaskedLM)
    [message] = _lm_head_warnings(caught)
    assert "saved as ['HeartBertModel']" in message and "starts from random weights" in message
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = AutoModelForMaskedLM.from_pretrained(tiny_model_dir)
        b, info = HeartBertForMaskedLM.from_encoder(tiny_model_dir, output_loading_info=True)
        # the normal start of fine-tuning: a fresh classifier on the MLM checkpoint's encoder, no refusal
        clf = AutoModelForSequenceClassification.from_pretrained(tiny_model_dir, num_labels=4)
    assert not _lm_head_warnings(caught) and not info["missing_keys"]
    torch.testing.assert_close(a.lm_head.dense.weight, b.lm_head.dense.weight)
    assert isinstance(clf, HeartBertForSequenceClassification) and clf.num_labels == 4


def test_shipped_classifier_refuses_masked_lm_and_still_loads_as_classifier_and_encoder():
    from heartbert_hf.beat_classifier import DEFAULT_MODEL

    with pytest.raises(ValueError, match="fine-tuned classifier"):
        AutoModelForMaskedLM.from_pretrained(DEFAULT_MODEL)
    assert isinstance(AutoModelForSequenceClassification.from_pretrained(DEFAULT_MODEL), HeartBertForSequenceClassification)
    assert isinstance(AutoModel.from_pretrained(DEFAULT_MODEL), HeartBertModel)
