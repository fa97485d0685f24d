"""European ST-T Database (``edb`` 1.0.0) as a ``datasets`` builder.

Config ``windows``: continuous 2-lead windows at 250 Hz, each with the ST/T episodes that overlap it
(from the aux notes of ``.atr``: ``"(ST0+"`` opens an ST elevation episode in lead 0, ``"ST0+)"``
closes it; ``T`` for T-wave episodes). Splits are by subject (``patient_id``).

The 90 records come from 79 subjects; the record → subject table is not in the headers, so
``patient_id`` defaults to the record name. Pass ``subjects={"e0105": "e0104", ...}`` to merge
records of one subject (then the split keeps them together).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import datasets

from heartbert_hf.data.builder_base import PhysioNetBuilder, PhysioNetConfig, iter_signal_windows, read_annotations_in_signal, signal_features
from heartbert_hf.data.labels import st_episodes
from heartbert_hf.data.splits import group_splits
from heartbert_hf.data.wfdb_io import annotation_file, read_record

logger = logging.getLogger(__name__)

_CITATION = """\
@article{taddei1992edb,
  title={The European ST-T database: standard for evaluating systems for the analysis of ST-T changes in ambulatory electrocardiography},
  author={Taddei, A and Distante, G and Emdin, M and others},
  journal={European Heart Journal}, volume={13}, number={9}, pages={1164--1172}, year={1992}
}"""


@dataclass
class EdbConfig(PhysioNetConfig):
    """European ST-T options (plus those of :class:`PhysioNetConfig`).

    Args:
        subjects: record → subject id overrides (default: each record is its own subject).
        split_fractions: split name → fraction of subjects.
    """

    subjects: dict[str, str] | None = None
    split_fractions: dict[str, float] = field(default_factory=lambda: {"train": 0.8, "validation": 0.1, "test": 0.1})


class EuropeanStTBuilder(PhysioNetBuilder):
    """European ST-T: 90 two-hour 2-lead records at 250 Hz with ST and T episode annotations."""

    DB_NAME = "edb"
    DB_VERSION = "1.0.0"
    EXTENSIONS = ("hea", "dat", "atr")
    BUILDER_CONFIG_CLASS = EdbConfig
    BUILDER_CONFIGS = [EdbConfig(name="windows", description="continuous windows with ST/T episode labels")]
    DEFAULT_CONFIG_NAME = "windows"

    def _info(self) -> datasets.DatasetInfo:
        features = signal_features()
        features.update(
            {
                "episodes": datasets.List(datasets.Value("string")),
                "st_episode": datasets.Value("bool"),
                "t_episode": datasets.Value("bool"),
                "has_annotations": datasets.Value("bool"),
            }
        )
        return datasets.DatasetInfo(
            description=__doc__,
            features=datasets.Features(features),
            homepage="https://physionet.org/content/edb/1.0.0/",
            license="odc-by",
            citation=_CITATION,
        )

    def _patient(self, record_id: str) -> str:
        return (self.config.subjects or {}).get(record_id, record_id)

    def _split_generators(self, dl_manager):
        root, records = self.resolve_records(dl_manager)
        by_patient: dict[str, list[str]] = {}
        for rec in records:
            by_patient.setdefault(self._patient(rec), []).append(rec)
        splits = group_splits(list(by_patient), self.config.split_fractions, self.config.seed)
        return [
            datasets.SplitGenerator(name=name, gen_kwargs={"root": str(root), "records": sorted(r for p in patients for r in by_patient[p])})
            for name, patients in splits.items()
        ]

    def _generate_examples(self, root: str, records: list[str]):
        for record_id in records:
            path = Path(root) / record_id
            rec = read_record(path, leads=self.config.leads)
            n = rec.signal.shape[1]
            if annotation_file(path, "atr") is not None:
                samples, _, notes = read_annotations_in_signal(path, "atr", n, rec.sampling_rate, "edb")
                episodes, annotated = st_episodes(samples, notes, n), True
            else:
                logger.warning("edb record %s has no .atr: its windows carry no episode labels.", record_id)
                episodes, annotated = [], False
            for start, window in iter_signal_windows(rec.signal, rec.sampling_rate, self.config.window_seconds):
                stop = start + window.shape[1]
                active = sorted({name for name, lo, hi in episodes if lo < stop and hi > start})
                yield (
                    f"{record_id}_{start}",
                    {
                        "signal": window,
                        "sampling_rate": rec.sampling_rate,
                        "lead_names": rec.lead_names,
                        "record_id": record_id,
                        "patient_id": self._patient(record_id),
                        "start": start,
                        "episodes": active,
                        "st_episode": any(e.startswith("ST") for e in active),
                        "t_episode": any(e.startswith("T") for e in active),
                        "has_annotations": annotated,
                    },
                )
