"""The builders ship in the wheel (heartbert_hf.dataset_scripts): build it, install it into a
--target dir, and build mitdb from the installed sample outside the checkout."""

from __future__ import annotations

import subprocess
import sys

import pytest
from conftest import REPO, run_python


@pytest.mark.slow
def test_wheel_ships_builders(tmp_path):
    wheel_dir, target = tmp_path / "wheel", tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", str(REPO), "-w", str(wheel_dir)],
        check=True,
        cwd=tmp_path,
        capture_output=True,
    )
    wheel = next(wheel_dir.glob("heartbert_hf-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), str(wheel)], check=True, capture_output=True)
    code = (
        "import heartbert_hf.data as d, heartbert_hf.dataset_scripts.mitdb as m\n"
        "from pathlib import Path\n"
        "assert Path(m.__file__).parent.parent == Path(d.__file__).parent.parent, (m.__file__, d.__file__)\n"
        "assert (Path(m.__file__).parent / 'cards' / 'mitdb.md').is_file()\n"
        "sample = Path(d.__file__).parent.parent / 'sample_data'\n"
        f"ds = d.load_physionet('mitdb', 'beats', data_dir=sample, cache_dir={str(tmp_path / 'cache')!r}, records=['208'])\n"
        "print('beats', len(ds['train']), m.__file__)"
    )
    proc = run_python(code, cwd=tmp_path, env_extra={"PYTHONPATH": str(target)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "beats 1013" in proc.stdout and str(target) in proc.stdout
