"""Quantizer: Lloyd-Max optimality, MSE ordering on a real record, round trips, determinism, state."""

import numpy as np
import pytest

from heartbert_hf import ecg_signal as S
from heartbert_hf.quantization import Quantizer, ids_to_text, level_alphabet, text_to_ids


@pytest.fixture(scope="module")
def values(sample_signals):
    windows, _ = S.prepare_windows(sample_signals[0], 360)  # record 101, both leads
    return np.concatenate(windows)


@pytest.fixture(scope="module")
def lloyd(values):
    return Quantizer(method="lloyd-max").fit(values)


def test_lloyd_max_optimality_conditions(lloyd, values):
    assert lloyd.converged
    # thresholds are the midpoints of adjacent levels
    np.testing.assert_allclose(lloyd.thresholds, (lloyd.levels[:-1] + lloyd.levels[1:]) / 2, atol=1e-12)
    # every level is the mean of the training values in its cell (centroid condition)
    ids = lloyd.encode(values)
    for level in np.unique(ids):
        assert abs(values[ids == level].mean() - lloyd.levels[level]) < 1e-9


def test_lloyd_max_beats_quantile_and_uniform_on_a_real_record(lloyd, values):
    mse = {m: Quantizer(method=m).fit(values).mse(values) for m in ("quantile", "uniform")}
    assert lloyd.mse(values) < mse["quantile"]
    assert lloyd.mse(values) < mse["uniform"]


def test_encode_decode_round_trip(lloyd, values):
    ids = lloyd.encode(values)
    assert ids.dtype == np.uint8 and ids.max() < 100
    assert np.array_equal(lloyd.encode(lloyd.decode(ids)), ids)  # a level value encodes to its own id
    assert np.max(np.abs(lloyd.decode(ids) - values)) < 0.05


def test_fit_is_deterministic(values):
    a = Quantizer(sample_size=50_000, seed=3).fit(values)
    b = Quantizer(sample_size=50_000, seed=3).fit(values)
    assert np.array_equal(a.levels, b.levels) and np.array_equal(a.thresholds, b.thresholds)


def test_text_round_trip_all_levels():
    ids = np.arange(100)
    text = ids_to_text(ids)
    assert text == "".join(level_alphabet(100)) and text[0] == "A" and ord(text[-1]) == 164
    assert np.array_equal(text_to_ids(text, 100), ids)
    with pytest.raises(ValueError, match="outside"):
        text_to_ids("AB@", 100)
    with pytest.raises(ValueError, match="outside"):
        text_to_ids("AB\u20ac", 100)


def test_state_round_trip_and_corruption(lloyd):
    state = lloyd.to_dict()
    again = Quantizer.from_dict(state)
    assert np.array_equal(again.levels, lloyd.levels)
    broken = dict(state, levels=state["levels"][:-1])
    with pytest.raises(ValueError, match="corrupt"):
        Quantizer.from_dict(broken)
    with pytest.raises(ValueError, match="corrupt"):
        Quantizer.from_dict(dict(state, thresholds=[float("nan")] * 99))
    with pytest.raises(ValueError, match="missing"):
        Quantizer.from_dict({"method": "lloyd-max"})


def test_unfitted_quantizer_is_an_error():
    with pytest.raises(ValueError, match="not fitted"):
        Quantizer().encode([0.5])
