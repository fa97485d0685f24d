"""benchmarks/ptbxl_sinus_specificity.py's record selection, on a tiny PTB-XL-like folder (the benchmark itself never runs here)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "ptbxl_sinus_specificity.py"


def test_select_records_keeps_sinus_rhythm_without_ectopy(tmp_path):
    spec = importlib.util.spec_from_file_location("ptbxl_sinus_specificity_script", SCRIPT)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    (tmp_path / "scp_statements.csv").write_text(
        ",description,diagnostic,form,rhythm\nNORM,normal ECG,1,,\nSR,sinus rhythm,,,1\nSBRAD,sinus bradycardia,,,1\n"
        "AFIB,atrial fibrillation,,,1\nPVC,ventricular premature complex,,1,\nPAC,atrial premature complex,,1,\n"
    )
    rows = {
        "00001": "{'NORM': 100.0, 'SR': 0.0}",  # sinus, no ectopy: kept
        "00002": "{'SBRAD': 0.0}",  # sinus bradycardia: kept
        "00003": "{'SR': 0.0, 'PVC': 100.0}",  # premature beats: the other group
        "00004": "{'AFIB': 100.0}",  # not sinus: neither
        "00005": "{'SR': 0.0, 'AFIB': 50.0}",  # sinus and another rhythm statement: neither
        "00006": "{'NORM': 100.0}",  # no rhythm statement: neither
        "00007": "{'SR': 0.0}",  # files absent: skipped
    }
    lines = ["ecg_id,scp_codes,filename_hr"] + [f'{i},"{codes}",records500/00000/{i}_hr' for i, codes in rows.items()]
    (tmp_path / "ptbxl_database.csv").write_text("\n".join(lines) + "\n")
    (tmp_path / "records500" / "00000").mkdir(parents=True)
    for i in list(rows)[:-1]:
        (tmp_path / "records500" / "00000" / f"{i}_hr.hea").write_text("")
    sinus, ectopic = script.select_records(tmp_path)
    assert sinus == ["records500/00000/00001_hr", "records500/00000/00002_hr"]
    assert ectopic == ["records500/00000/00003_hr"]
