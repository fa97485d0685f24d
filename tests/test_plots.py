"""Figures a clinician can read (heartbert_hf.plotting), and `heartbert plot` errors a user can act on."""

import math

import numpy as np
import pytest

import heartbert_hf.plotting as plots


@pytest.fixture()
def figures(monkeypatch):
    """Keep the figures the plot functions draw (they are still written)."""
    kept = []
    save = plots._save

    def keep(plt, fig, path):
        kept.append(fig)
        fig.canvas.draw()
        return save(plt, fig, path)

    monkeypatch.setattr(plots, "_save", keep)
    return kept


@pytest.fixture()
def processor(tiny_tokenizer):
    from heartbert_hf.processing_heartbert import HeartBertProcessor

    return HeartBertProcessor.from_tokenizer(tiny_tokenizer)


def test_token_plot_names_record_and_lead_in_mv_with_a_legend(processor, sample_signals, tmp_path, figures):
    ecg = sample_signals[2]  # record 118, mV
    plots.plot_tokens(processor, ecg, 360, tmp_path / "t.png", window=1, lead=0, record="118", lead_name="MLII", ecg_grid=True)
    ax = figures[0].axes[0]
    assert ax.get_title().startswith("record 118, lead MLII (0), window 1 (11.1-22.2 s)")
    assert ax.get_ylabel() == "amplitude (mV)" and ax.get_xlabel() == "time in the record (s)"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("number above = samples in the token" in t for t in legend) and any("ECG (mV" in t for t in legend)
    # the black raw trace is drawn over the step reconstruction, in mV: the window's own values
    raw_line = next(line for line in ax.get_lines() if line.get_color() == "black")
    step_line = next(line for line in ax.get_lines() if line.get_color() == "C0" or line.get_drawstyle() == "steps-post")
    assert raw_line.get_zorder() > step_line.get_zorder()
    window = ecg[0, 4000:8000]
    np.testing.assert_allclose(raw_line.get_ydata(), window[: len(raw_line.get_ydata())], atol=1e-6)
    assert np.abs(step_line.get_ydata() - raw_line.get_ydata()).max() < 0.1 * np.ptp(window)  # reconstruction in mV too
    # ECG paper: major lines every 0.2 s and 0.5 mV
    xt = ax.xaxis.get_majorticklocs()
    np.testing.assert_allclose(np.diff(xt), 0.2, atol=1e-9)
    np.testing.assert_allclose(np.diff(ax.yaxis.get_majorticklocs()), 0.5, atol=1e-9)
    # the scaled levels on a twin axis
    assert any("[0, 1]" in child.get_ylabel() for child in ax.child_axes)


def test_token_plot_window_out_of_range_gives_the_valid_range(processor, sample_signals, tmp_path):
    with pytest.raises(ValueError, match=r"no window 99 on lead 0: this record has windows 0\.\.53 \(11\.1 s each\) and leads 0\.\.1"):
        plots.plot_tokens(processor, sample_signals[2], 360, tmp_path / "x.png", window=99)
    with pytest.raises(ValueError, match=r"leads 0\.\.1"):
        plots.plot_tokens(processor, sample_signals[2], 360, tmp_path / "x.png", lead=2)


def test_curves_show_the_uniform_guess(tmp_path, figures):
    plots.plot_curves([{"step": 1, "loss": 6.0}, {"step": 2, "eval_loss": 5.5, "eval_masked_accuracy": 0.1}], tmp_path / "c.png", vocab_size=1000)
    ax_loss, ax_acc = figures[0].axes[:2]
    flat = [line for line in ax_loss.get_lines() if len(set(line.get_ydata())) == 1 and line.get_linestyle() == "--"]
    assert len(flat) == 1 and math.isclose(flat[0].get_ydata()[0], math.log(1000))
    assert any("uniform guess: ln 1,000 = 6.91" in t.get_text() for t in ax_loss.get_legend().get_texts())
    assert any(math.isclose(line.get_ydata()[0], 1e-3) for line in ax_acc.get_lines() if line.get_linestyle() == "--")


def test_confusion_matrix_shows_counts_and_row_shares(tmp_path, figures):
    plots.plot_confusion_matrix(np.array([[5, 1, 0], [0, 3, 1], [0, 0, 0]]), ["N", "S", "V"], tmp_path / "cm.png")
    ax = figures[0].axes[0]
    cells = {t.get_text() for t in ax.texts}
    assert {"5\n83%", "1\n17%", "3\n75%", "1\n25%", "0\n-"} <= cells  # V has no true beat: no share
    assert [t.get_text() for t in ax.get_yticklabels()] == ["N (n=6)", "S (n=4)", "V (n=0)"]


def test_plot_command_errors_and_suffix(tiny_model_dir, sample_dir, tmp_path, capsys):
    from heartbert_hf.plots import main

    out = tmp_path / "p.png"
    assert main(["--record", str(sample_dir / "208.hea"), "--tokenizer", str(tiny_model_dir), "--output", str(out), "--lead", "1"]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["--record", str(sample_dir / "209"), "--tokenizer", str(tiny_model_dir)]) == 2
    assert "209.hea does not exist. Did you mean" in capsys.readouterr().err
    assert main(["--record", str(sample_dir / "208"), "--tokenizer", str(tiny_model_dir), "--window", "60"]) == 2
    assert "windows 0..53" in capsys.readouterr().err
    assert main(["--record", str(sample_dir / "208"), "--tokenizer", str(tmp_path / "no" / "such")]) == 2
    assert "tokenizer folder" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["plot", "quickstart", "prepare", "pretrain", "embed"])
def test_help_names_the_subcommand(command, capsys):
    from heartbert_hf.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: heartbert {command} ") and "--torch_threads" in out


def test_plot_needs_only_the_drawn_lead_and_window_valid(tiny_model_dir, sample_dir, tmp_path, capsys):
    """Before: `heartbert plot --lead 1 --window 3` refused the record because lead 0 held an invalid sample at 7200."""
    import wfdb

    from heartbert_hf.plots import main

    x = wfdb.rdrecord(str(sample_dir / "101"), sampto=360 * 60).p_signal
    x[7200, 0] = np.nan  # lead 0, in window 0 (4000 samples at 360 Hz a window)
    x[20000, 1] = np.nan  # lead 1, in window 5
    wfdb.wrsamp(
        "gap", fs=360, units=["mV", "mV"], sig_name=["MLII", "V1"], p_signal=x, fmt=["16", "16"], adc_gain=[200, 200], baseline=[0, 0], write_dir=str(tmp_path)
    )
    args = ["--record", str(tmp_path / "gap"), "--tokenizer", str(tiny_model_dir), "--output", str(tmp_path / "p.png")]
    assert main([*args, "--lead", "1", "--window", "3"]) == 0, capsys.readouterr().err
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main([*args, "--lead", "0", "--window", "3"]) == 0, capsys.readouterr().err
    assert main([*args, "--lead", "1", "--window", "5"]) == 2
    assert "record gap: lead 1, window 5: invalid (NaN or inf) input sample 20000; choose another window or lead." in capsys.readouterr().err


def test_a_window_without_invalid_samples_is_drawn_as_before(processor, sample_signals):
    """Bridging invalid samples elsewhere must not change a record without any: the window is resampled as the feature extractor does."""
    from heartbert_hf.ecg_signal import resample

    ecg = sample_signals[0]
    raw, _, start = plots._raw_window(processor.feature_extractor, ecg, 250.0, 1, 0)
    full = resample(ecg, 250.0, processor.feature_extractor.target_rate)[0]  # all leads at once, as before
    assert start == 4000 and np.allclose(raw, full[start : start + len(raw)], rtol=0, atol=1e-12)  # float rounding only
