"""MIT-BIH Polysomnographic Database (``slpdb`` 1.0.0) as a ``datasets`` builder.

Config ``epochs``: one example per 30-s epoch of the ``ECG`` channel (250 Hz), labelled from the
sleep-stage annotation file (``.st``). Each stage annotation sits at the start of its epoch and its
aux note begins with the stage: ``W``, ``1``, ``2``, ``3``, ``4``, ``R`` (``MT``, movement time, and
notes without a stage are skipped); apnea codes may follow (``"2 OA"``). Labels: ``stage`` (raw),
``stage5`` (W, S1, S2, S3+S4, R) and ``stage3`` (W, NREM, R). Splits are by subject: records
``slp01a``/``slp01b`` and ``slp02a``/``slp02b`` are one subject each.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import datasets

from heartbert_hf.data.builder_base import PhysioNetBuilder, PhysioNetConfig, read_annotations_in_signal, signal_features
from heartbert_hf.data.labels import SLEEP_STAGES_3, SLEEP_STAGES_5, sleep_stage, stage_3class, stage_5class
from heartbert_hf.data.splits import group_splits
from heartbert_hf.data.wfdb_io import read_record

_CITATION = """\
@article{ichimaru1999slpdb,
  title={Development of the polysomnographic database on CD-ROM},
  author={Ichimaru, Yuhei and Moody, George B},
  journal={Psychiatry and Clinical Neurosciences}, volume={53}, number={2}, pages={175--177}, year={1999}
}"""


def slpdb_subject(record_id: str) -> str:
    """``slp01a`` → ``slp01``: the subject of an slpdb record."""
    return re.sub(r"[a-z]$", "", record_id)


@dataclass
class SlpdbConfig(PhysioNetConfig):
    """slpdb options (plus those of :class:`PhysioNetConfig`; ``leads`` defaults to ``["ECG"]``).

    Args:
        epoch_seconds: epoch length (30 s in slpdb).
        annotation_extension: the sleep-stage annotator (``st``).
        split_fractions: split name → fraction of subjects.
    """

    epoch_seconds: float = 30.0
    annotation_extension: str = "st"
    split_fractions: dict[str, float] = field(default_factory=lambda: {"train": 0.8, "validation": 0.1, "test": 0.1})


class SlpdbBuilder(PhysioNetBuilder):
    """slpdb: 18 overnight polysomnograms (16 subjects) with 30-s sleep-stage annotations."""

    DB_NAME = "slpdb"
    DB_VERSION = "1.0.0"
    EXTENSIONS = ("hea", "dat", "st")
    BUILDER_CONFIG_CLASS = SlpdbConfig
    BUILDER_CONFIGS = [SlpdbConfig(name="epochs", description="30-s ECG epochs with sleep stages")]
    DEFAULT_CONFIG_NAME = "epochs"

    def _info(self) -> datasets.DatasetInfo:
        features = signal_features()
        features.update(
            {
                "epoch": datasets.Value("int64"),
                "stage": datasets.Value("string"),
                "stage5": datasets.ClassLabel(names=SLEEP_STAGES_5),
                "stage3": datasets.ClassLabel(names=SLEEP_STAGES_3),
                "aux_note": datasets.Value("string"),
            }
        )
        return datasets.DatasetInfo(
            description=__doc__,
            features=datasets.Features(features),
            homepage="https://physionet.org/content/slpdb/1.0.0/",
            license="odc-by",
            citation=_CITATION,
        )

    @classmethod
    def annotation_extensions(cls, config: SlpdbConfig) -> tuple[str, ...]:
        """The sleep-stage annotations (``annotation_extension``, ``.st``)."""
        return (config.annotation_extension,)

    def example_requirement(self) -> str:
        """An epoch: a sleep-stage annotation followed by ``epoch_seconds`` of signal."""
        return f"an epoch needs a sleep-stage note in .{self.config.annotation_extension} followed by {self.config.epoch_seconds:g} s of signal"

    def _split_generators(self, dl_manager):
        root, records = self.resolve_records(dl_manager, extensions=("hea", "dat", self.config.annotation_extension))
        by_subject: dict[str, list[str]] = {}
        for rec in records:
            by_subject.setdefault(slpdb_subject(rec), []).append(rec)
        splits = group_splits(list(by_subject), self.config.split_fractions, self.config.seed)
        return [
            datasets.SplitGenerator(name=name, gen_kwargs={"root": str(root), "records": sorted(r for s in subjects for r in by_subject[s])})
            for name, subjects in splits.items()
        ]

    def _generate_examples(self, root: str, records: list[str]):
        cfg = self.config
        for record_id in records:
            path = Path(root) / record_id
            rec = read_record(path, leads=cfg.leads or ["ECG"])
            size = int(round(cfg.epoch_seconds * rec.sampling_rate))
            n = rec.signal.shape[1]
            samples, _, notes = read_annotations_in_signal(path, cfg.annotation_extension, n, rec.sampling_rate, "slpdb")
            for sample, note in zip(samples, notes):
                stage = sleep_stage(note)
                start = int(sample)
                if stage is None or start + size > n:
                    continue
                yield (
                    f"{record_id}_{start}",
                    {
                        "signal": rec.signal[:, start : start + size],
                        "sampling_rate": rec.sampling_rate,
                        "lead_names": rec.lead_names,
                        "record_id": record_id,
                        "patient_id": slpdb_subject(record_id),
                        "start": start,
                        "epoch": start // size,
                        "stage": stage,
                        "stage5": stage_5class(stage),
                        "stage3": stage_3class(stage),
                        "aux_note": note,
                    },
                )
