"""Signal module: validation errors, resampling, windowing, scaling."""

import numpy as np
import pytest

from heartbert_hf import ecg_signal as S


def test_resample_changes_length_and_keeps_a_sine():
    fs = 500
    t = np.arange(5 * fs) / fs
    x = np.sin(2 * np.pi * 5 * t)
    y = S.resample(x, fs)
    assert y.shape == (5 * 360,)
    t360 = np.arange(5 * 360) / 360
    inner = slice(100, -100)  # away from filter edge effects
    assert np.max(np.abs(y[inner] - np.sin(2 * np.pi * 5 * t360)[inner])) < 1e-2


def test_resample_is_anti_aliased():
    fs = 1000
    t = np.arange(10 * fs) / fs
    alias = np.sin(2 * np.pi * 300 * t)  # above the 180 Hz Nyquist limit of 360 Hz
    y = S.resample(alias, fs)
    assert np.std(y[200:-200]) < 0.05  # removed, not folded back


def test_resample_multilead_keeps_leads():
    x = np.random.default_rng(0).normal(size=(12, 5000))
    assert S.resample(x, 500).shape == (12, 3600)


def test_window_bounds_tail_rule():
    assert S.window_bounds(8000) == [(0, 4000), (4000, 8000)]
    assert S.window_bounds(8400) == [(0, 4000), (4000, 8000), (8000, 8400)]  # tail >= 360 kept
    assert S.window_bounds(8100) == [(0, 4000), (4000, 8000)]  # tail < 360 dropped
    assert S.window_bounds(1000) == [(0, 1000)]


def test_scale_minmax_and_robust():
    x = np.concatenate([np.linspace(0, 1, 1000), [50.0]])  # one artefact spike
    mm = S.scale(x, "minmax")
    assert mm.min() == 0 and mm.max() == 1 and np.median(mm) < 0.02
    rb = S.scale(x, "robust")
    assert rb.min() >= 0 and rb.max() <= 1 and 0.4 < np.median(rb) < 0.6


@pytest.mark.parametrize(
    "signal, error, match",
    [
        (np.array([0.0, np.nan] * 400), ValueError, "NaN or inf"),
        (np.array([0.0, np.inf] * 400), ValueError, "NaN or inf"),
        (np.array([]), ValueError, "empty"),
        (np.zeros((2, 3, 400)), ValueError, "3-D"),
        (np.zeros((1000, 2)), ValueError, "leads"),
        ("ABC", TypeError, "numeric"),
    ],
)
def test_bad_signals(signal, error, match):
    with pytest.raises(error, match=match):
        S.prepare_windows(signal, 360)


def test_too_short_and_flat():
    with pytest.raises(ValueError, match="too short"):
        S.prepare_windows(np.sin(np.arange(100)), 360)
    with pytest.raises(ValueError, match="flat"):
        S.prepare_windows(np.ones(2000), 360)
    windows, index = S.prepare_windows(np.vstack([np.ones(2000), np.sin(np.arange(2000))]), 360, drop_flat=True)
    assert index == [(1, 0)] and len(windows) == 1


@pytest.mark.parametrize("fs, error", [(None, ValueError), (0, ValueError), (-360, ValueError), ("360", TypeError), (float("nan"), ValueError)])
def test_bad_sampling_rate(fs, error):
    with pytest.raises(error, match="sampling_rate"):
        S.prepare_windows(np.sin(np.arange(2000)), fs)


@pytest.mark.parametrize("fs", [100, 250, 257.3, 360, 499.98, 500, 1000 / 3, 1000])
@pytest.mark.parametrize("n", [1, 999, 36_001])
def test_resampled_length_is_what_resample_returns(fs, n):
    from heartbert_hf.ecg_signal import resample, resampled_length

    assert resampled_length(n, fs) == resample(np.zeros(n) + np.arange(n) % 7, fs).shape[-1]


def test_a_one_sample_signal_is_refused_not_a_crash(tiny_tokenizer, tmp_path):
    """scipy's antireflect padding divides by zero on a single sample (SIGFPE kills Python): checked in a subprocess."""
    import subprocess
    import sys

    tiny_tokenizer.save_pretrained(tmp_path)
    code = (
        "import numpy as np, heartbert_hf\n"
        "from heartbert_hf.ecg_signal import resample\n"
        "from transformers import AutoTokenizer\n"
        "assert resample(np.full(1, 3.0), 100).tolist() == [3.0] * 4 and resample(np.zeros((2, 1)), 1000).shape == (2, 1)\n"
        f"tok = AutoTokenizer.from_pretrained({str(tmp_path)!r})\n"
        "try:\n"
        "    tok(ecg=np.zeros(1), sampling_rate=100)\n"
        "except ValueError as e:\n"
        "    print(e)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "signal too short: 4 samples at 360 Hz" in done.stdout


@pytest.mark.parametrize("n_leads", [15, 18, 64])
def test_more_than_16_leads_are_read_as_given(tiny_tokenizer, sample_signals, n_leads):
    """Before: an (18, 10800) leads-first array was refused as swapped axes ('pass p_signal.T'), the 16-lead limit unstated."""
    x = np.resize(sample_signals[0][:, :3600], (n_leads, 3600)) * np.linspace(1, 2, n_leads)[:, None]
    assert S.leads_view(x).shape == (n_leads, 3600)
    enc = tiny_tokenizer(ecg=x, sampling_rate=360)
    assert sorted(set(enc["lead_index"])) == list(range(n_leads))


def test_swapped_axes_are_still_refused_with_the_transposed_shape():
    with pytest.raises(ValueError, match=r"shape \(5000, 18\).*more leads than samples.*pass p_signal\.T \(here signal\.T, shape \(18, 5000\)\)"):
        S.as_leads(np.random.default_rng(0).normal(size=(5000, 18)))
