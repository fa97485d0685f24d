"""PTB-XL (``ptb-xl`` 1.0.3) as a ``datasets`` builder: 12-lead 10-s ECGs with SCP-ECG statements.

One example per record, with the diagnostic superclasses (NORM/MI/STTC/CD/HYP, multi-label), the
diagnostic subclasses and the raw SCP codes. Splits follow ``strat_fold``: 1-8 ``train``, 9
``validation``, 10 ``test`` (PTB-XL keeps each patient inside one fold).

Options: ``sampling_rate`` 100 or 500 (which record set is read), ``leads``, ``metadata_file``
(default ``ptbxl_database.csv``, or ``ptbxl_database_subset.csv`` when only that is present),
``skip_missing`` (skip metadata rows whose record files are absent instead of failing).
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from pathlib import Path

import datasets

from heartbert_hf.data.builder_base import PhysioNetBuilder, PhysioNetConfig, signal_features
from heartbert_hf.data.labels import SUPERCLASSES, aggregate_scp, load_scp_statements, parse_scp_codes
from heartbert_hf.data.record_files import download_records
from heartbert_hf.data.splits import PTBXL_FOLDS
from heartbert_hf.data.wfdb_io import read_record

logger = logging.getLogger(__name__)

_CITATION = """\
@article{wagner2020ptbxl,
  title={PTB-XL, a large publicly available electrocardiography dataset},
  author={Wagner, Patrick and Strodthoff, Nils and Bousseljot, Ralf-Dieter and others},
  journal={Scientific Data}, volume={7}, number={1}, pages={154}, year={2020}
}"""

METADATA_NAMES = ("ptbxl_database.csv", "ptbxl_database_subset.csv")


@dataclass
class PtbXlConfig(PhysioNetConfig):
    """PTB-XL options (plus those of :class:`PhysioNetConfig`; ``records`` are ``ecg_id`` values).

    Args:
        sampling_rate: 100 or 500 (Hz): reads ``records100`` or ``records500``.
        metadata_file: the metadata CSV name inside the data dir (default: see module doc).
        min_likelihood: SCP codes below this likelihood do not count for the aggregated labels.
        skip_missing: skip metadata rows whose record files are absent (else fail).
    """

    sampling_rate: int = 500
    metadata_file: str | None = None
    min_likelihood: float = 0.0
    skip_missing: bool = False

    def validate(self) -> None:
        super().validate()
        if self.sampling_rate not in (100, 500):
            raise ValueError(f"PTB-XL sampling_rate must be 100 or 500, got {self.sampling_rate}.")


class PtbXlBuilder(PhysioNetBuilder):
    """PTB-XL: 21,799 12-lead records of 10 s at 100/500 Hz from 18,869 patients."""

    DB_NAME = "ptb-xl"
    DB_VERSION = "1.0.3"
    BUILDER_CONFIG_CLASS = PtbXlConfig
    BUILDER_CONFIGS = [PtbXlConfig(name="diagnostic", description="12-lead records with SCP diagnostic labels")]
    DEFAULT_CONFIG_NAME = "diagnostic"

    def _info(self) -> datasets.DatasetInfo:
        features = signal_features()
        features.update(
            {
                "ecg_id": datasets.Value("int64"),
                "superdiagnostic": datasets.List(datasets.ClassLabel(names=SUPERCLASSES)),
                "diagnostic_subclass": datasets.List(datasets.Value("string")),
                "scp_codes": datasets.List(datasets.Value("string")),
                "scp_likelihoods": datasets.List(datasets.Value("float32")),
                "strat_fold": datasets.Value("int32"),
                "age": datasets.Value("float32"),
                "sex": datasets.Value("int32"),
            }
        )
        return datasets.DatasetInfo(
            description=__doc__,
            features=datasets.Features(features),
            homepage="https://physionet.org/content/ptb-xl/1.0.3/",
            license="cc-by-4.0",
            citation=_CITATION,
        )

    def _metadata_paths(self, dl_manager) -> tuple[Path, Path, Path | None]:
        cfg = self.config
        if cfg.data_dir:
            root = Path(cfg.data_dir).expanduser()
            names = [cfg.metadata_file] if cfg.metadata_file else list(METADATA_NAMES)
            meta = next((root / n for n in names if (root / n).is_file()), None)
            if meta is None:
                raise FileNotFoundError(f"PTB-XL metadata not found in {root}: looked for {names}.")
            return root, meta, root / "scp_statements.csv"
        name = cfg.metadata_file or METADATA_NAMES[0]
        files = dl_manager.download({"meta": f"{self.url_root()}/{name}", "scp": f"{self.url_root()}/scp_statements.csv"})
        return None, Path(files["meta"]), Path(files["scp"])

    def _split_generators(self, dl_manager):
        cfg = self.config
        root, meta, scp = self._metadata_paths(dl_manager)
        statements = load_scp_statements(scp)
        column = "filename_hr" if cfg.sampling_rate == 500 else "filename_lr"
        with meta.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        missing_cols = {"ecg_id", "patient_id", "scp_codes", "strat_fold", column} - set(rows[0] if rows else {})
        if missing_cols:
            raise ValueError(f"PTB-XL metadata {meta} lacks column(s) {sorted(missing_cols)}.")
        if cfg.records is not None:
            wanted = {str(int(float(r))) for r in cfg.records}
            rows = [r for r in rows if str(int(float(r["ecg_id"]))) in wanted]
        if root is None:
            root = download_records(dl_manager, self.url_root(), [r[column] for r in rows], ["hea", "dat"], self._stage_dir())
        kept = []
        for row in rows:
            if not (root / f"{row[column]}.hea").is_file() or not (root / f"{row[column]}.dat").is_file():
                if cfg.skip_missing:
                    logger.warning("PTB-XL record %s is missing under %s: skipped (skip_missing=True).", row[column], root)
                    continue
                raise FileNotFoundError(
                    f"PTB-XL record {row[column]} (ecg_id {row['ecg_id']}) listed in {meta.name} is missing under {root}; "
                    "pass skip_missing=True to skip absent records."
                )
            kept.append(row)
        splits = []
        for name, folds in PTBXL_FOLDS.items():
            part = [r for r in kept if int(float(r["strat_fold"])) in folds]
            if part:
                splits.append(datasets.SplitGenerator(name=name, gen_kwargs={"root": str(root), "rows": part, "statements": statements, "column": column}))
        if not splits:
            raise ValueError(f"no PTB-XL records to load from {meta} (records={cfg.records}).")
        return splits

    def _generate_examples(self, root: str, rows: list[dict], statements: dict, column: str):
        cfg = self.config
        for row in rows:
            rec = read_record(Path(root) / row[column], leads=cfg.leads)
            codes = parse_scp_codes(row["scp_codes"])
            supers, subs = aggregate_scp(codes, statements, cfg.min_likelihood)
            ecg_id = int(float(row["ecg_id"]))
            yield (
                str(ecg_id),
                {
                    "signal": rec.signal,
                    "sampling_rate": rec.sampling_rate,
                    "lead_names": rec.lead_names,
                    "record_id": row[column].rsplit("/", 1)[-1],
                    "patient_id": str(int(float(row["patient_id"]))),
                    "start": 0,
                    "ecg_id": ecg_id,
                    "superdiagnostic": supers,
                    "diagnostic_subclass": subs,
                    "scp_codes": list(codes),
                    "scp_likelihoods": list(codes.values()),
                    "strat_fold": int(float(row["strat_fold"])),
                    "age": float(row["age"]) if row.get("age") else float("nan"),
                    "sex": int(float(row["sex"])) if row.get("sex") else -1,
                },
            )
