"""HeartBert models: config defaults and version stamp, MLM learning on real data, classification heads, pooling."""

import json

import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModel, AutoModelForMaskedLM, AutoModelForSequenceClassification, DataCollatorForLanguageModeling

import heartbert_hf
from heartbert_hf import HeartBertConfig, HeartBertForMaskedLM, HeartBertForSequenceClassification, HeartBertModel


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
    tiny_config.hidden_dropout_prob = tiny_config.attention_probs_dropout_prob = 0.0
    model = HeartBertForMaskedLM(tiny_config)
    batch = _mlm_batches(tiny_tokenizer, sample_signals[:1], 1, 8)[0]
    model.train()
    sparse = model(**batch)
    model.eval()
    full = model(**batch)
    n_masked = int((batch["labels"] != -100).sum())
    assert sparse.logits.shape == (n_masked, tiny_config.vocab_size)
    assert full.logits.shape == (*batch["input_ids"].shape, tiny_config.vocab_size)
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
