"""MIT-BIH Arrhythmia Database (``mitdb`` 1.0.0) as a ``datasets`` builder.

Configs:
    * ``windows``: continuous multi-lead windows (pretraining); one example per window.
    * ``beats``: one example per annotated beat, with its AAMI EC57 class, R-peak sample and a
      beat-centred segment of ``±beat_seconds``.

Splits: de Chazal DS1 → ``train``, DS2 → ``test`` (paced 102/104/107/217 excluded); with
``n_folds=K`` DS1 is split record-wise into ``train`` / ``validation`` (fold ``fold``). Records 201
(DS1) and 202 (DS2) are one patient: the published split keeps both (``patient_id`` "201" on both),
``strict_patients=True`` drops 202 from ``test``.

``beats`` also carries ``rr_features``: the RR features of :func:`heartbert_hf.rhythm.rr_features`
(names in :data:`heartbert_hf.rhythm.RR_FEATURE_NAMES`), computed from every annotated beat of the
record (reference R peaks, all AAMI classes including Q).

Use: ``heartbert_hf.load_physionet("mitdb", "beats", data_dir=...)`` or
``MitBihBuilder(config_name="beats", data_dir=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import datasets
import numpy as np

from heartbert_hf.data.builder_base import (
    PhysioNetBuilder,
    PhysioNetConfig,
    RecordError,
    iter_signal_windows,
    read_annotations_in_signal,
    signal_features,
)
from heartbert_hf.data.labels import AAMI_CLASSES, aami_class
from heartbert_hf.data.splits import MITDB_SAME_PATIENT, mitdb_splits
from heartbert_hf.data.wfdb_io import read_record
from heartbert_hf.rhythm import RR_FEATURE_NAMES, rr_features

_CITATION = """\
@article{moody2001impact,
  title={The impact of the MIT-BIH Arrhythmia Database},
  author={Moody, George B and Mark, Roger G},
  journal={IEEE Engineering in Medicine and Biology Magazine},
  volume={20}, number={3}, pages={45--50}, year={2001}
}"""

SAME_SUBJECT = MITDB_SAME_PATIENT
"""Records 201 and 202 come from the same subject (MIT-BIH directory); both get patient_id "201"."""


@dataclass
class MitBihConfig(PhysioNetConfig):
    """MIT-BIH options (plus those of :class:`PhysioNetConfig`).

    Args:
        n_folds: K of the record-wise K-fold on DS1 (``None``: no validation split).
        fold: the DS1 fold held out as ``validation``.
        include_paced: put the paced records in ``train`` (pretraining windows only; never for beats).
        beat_seconds: half-width of the beat-centred segment in seconds (``beats``).
        strict_patients: leave record 202 (the DS1 patient of record 201) out of ``test``.
    """

    n_folds: int | None = None
    fold: int = 0
    include_paced: bool = False
    beat_seconds: float = 1.0
    strict_patients: bool = False


class MitBihBuilder(PhysioNetBuilder):
    """MIT-BIH Arrhythmia: 48 half-hour 2-lead records at 360 Hz with beat annotations."""

    DB_NAME = "mitdb"
    DB_VERSION = "1.0.0"
    EXTENSIONS = ("hea", "dat", "atr")
    BUILDER_CONFIG_CLASS = MitBihConfig
    BUILDER_CONFIGS = [
        MitBihConfig(name="windows", description="continuous multi-lead windows for pretraining"),
        MitBihConfig(name="beats", description="beats with AAMI N/S/V/F/Q classes and beat-centred segments"),
    ]
    DEFAULT_CONFIG_NAME = "windows"

    def _info(self) -> datasets.DatasetInfo:
        features = signal_features()
        if self.config.name == "beats":
            features.update(
                {
                    "r_peak": datasets.Value("int64"),
                    "r_peak_index": datasets.Value("int64"),
                    "symbol": datasets.Value("string"),
                    "label": datasets.ClassLabel(names=AAMI_CLASSES),
                    "rr_features": datasets.Sequence(datasets.Value("float32"), length=len(RR_FEATURE_NAMES)),
                }
            )
        return datasets.DatasetInfo(
            description=__doc__,
            features=datasets.Features(features),
            homepage="https://physionet.org/content/mitdb/1.0.0/",
            license="odc-by",
            citation=_CITATION,
        )

    @classmethod
    def annotation_extensions(cls, config: MitBihConfig) -> tuple[str, ...]:
        """``beats`` reads the reference beats (``.atr``); ``windows`` reads no annotation."""
        return ("atr",) if config.name == "beats" else ()

    def example_requirement(self) -> str:
        if self.config.name == "beats":
            return "a beat example needs an annotated beat of the .atr inside the signal"
        return super().example_requirement()

    def _split_generators(self, dl_manager):
        cfg = self.config
        include_paced = cfg.include_paced and cfg.name == "windows"
        if cfg.data_dir:
            root, available = self.resolve_records(dl_manager)
        else:
            from heartbert_hf.data.splits import MITDB_RECORDS

            available = list(cfg.records or MITDB_RECORDS)
            wanted = [r for recs in mitdb_splits(available, cfg.n_folds, cfg.fold, include_paced, cfg.seed, cfg.strict_patients).values() for r in recs]
            root, available = self.resolve_records(dl_manager, records=wanted)
        splits = mitdb_splits(available, cfg.n_folds, cfg.fold, include_paced, cfg.seed, cfg.strict_patients)
        if not splits:
            raise ValueError(f"none of the records {available} belongs to a MIT-BIH split (paced records are excluded from beats).")
        return [datasets.SplitGenerator(name=name, gen_kwargs={"root": str(root), "records": records}) for name, records in splits.items()]

    def _generate_examples(self, root: str, records: list[str]):
        cfg = self.config
        for record_id in records:
            path = f"{root}/{record_id}"
            rec = read_record(path, leads=cfg.leads)
            patient_id = SAME_SUBJECT.get(record_id, record_id)
            base = {"sampling_rate": rec.sampling_rate, "lead_names": rec.lead_names, "record_id": record_id, "patient_id": patient_id}
            if cfg.name == "windows":
                for start, window in iter_signal_windows(rec.signal, rec.sampling_rate, cfg.window_seconds):
                    yield f"{record_id}_{start}", {**base, "signal": window, "start": start}
                continue
            n = rec.signal.shape[1]
            # at the leads' rate, only those inside the signal: a beat past the end would distort every RR feature
            samples, symbols, _ = read_annotations_in_signal(path, "atr", n, rec.sampling_rate, "mitdb")
            half = int(round(cfg.beat_seconds * rec.sampling_rate))
            beats = [(i, int(s), sym) for i, (s, sym) in enumerate(zip(samples, symbols)) if aami_class(sym) is not None]
            if len(beats) < 2:
                raise RecordError(
                    f"mitdb record {record_id}: {len(beats)} annotated beat(s) inside the signal in {path}.atr; the beats config needs "
                    "at least 2 (RR features): leave the record out (records=[...]) or use a longer one.",
                    "mitdb",
                    [record_id],
                )
            rr = rr_features(np.array([b[1] for b in beats]), rec.sampling_rate)  # (n_beats, n_features)
            for (i, r, symbol), rr_row in zip(beats, rr):
                label = aami_class(symbol)
                lo, hi = max(0, r - half), min(n, r + half + 1)
                yield (
                    f"{record_id}_{i}",
                    {
                        **base,
                        "signal": rec.signal[:, lo:hi],
                        "start": lo,
                        "r_peak": r,
                        "r_peak_index": r - lo,
                        "symbol": symbol,
                        "label": label,
                        "rr_features": rr_row,
                    },
                )
