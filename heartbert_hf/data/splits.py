"""Record- and patient-wise splits: de Chazal DS1/DS2, K-fold on DS1, PTB-XL strat_fold, group splits."""

from __future__ import annotations

import random

MITDB_PACED = ["102", "104", "107", "217"]
MITDB_DS1 = [
    "101",
    "106",
    "108",
    "109",
    "112",
    "114",
    "115",
    "116",
    "118",
    "119",
    "122",
    "124",
    "201",
    "203",
    "205",
    "207",
    "208",
    "209",
    "215",
    "220",
    "223",
    "230",
]
MITDB_DS2 = [
    "100",
    "103",
    "105",
    "111",
    "113",
    "117",
    "121",
    "123",
    "200",
    "202",
    "210",
    "212",
    "213",
    "214",
    "219",
    "221",
    "222",
    "228",
    "231",
    "232",
    "233",
    "234",
]
"""de Chazal, O'Dwyer & Reilly (2004) inter-patient split; the paced records are in neither."""

MITDB_SAME_PATIENT = {"202": "201"}
"""Records from one subject (the MIT-BIH directory: 201 and 202 are the same man). The published
DS1/DS2 split puts 201 in DS1 and 202 in DS2; every DS1→DS2 result in the literature includes
both, so the standard split keeps them (with a warning) and ``strict_patients`` drops 202."""

MITDB_PUBLISHED_SHARED_PATIENTS = ("201",)
"""Patient ids the published DS1/DS2 split shares between its training and test sides."""

MITDB_RECORDS = sorted(MITDB_DS1 + MITDB_DS2 + MITDB_PACED)

PTBXL_FOLDS = {"train": range(1, 9), "validation": (9,), "test": (10,)}


def kfold_records(records: list[str], n_folds: int, fold: int, seed: int = 42) -> tuple[list[str], list[str]]:
    """Split records into (train, validation) for fold ``fold`` of a seeded record-wise K-fold.

    Args:
        records: the records to split (e.g. DS1).
        n_folds: K (2 ≤ K ≤ number of records).
        fold: which fold is held out, ``0 ≤ fold < n_folds``.
        seed: shuffling seed (the same seed gives the same folds).
    """
    if not 2 <= n_folds <= len(records):
        raise ValueError(f"n_folds must be in [2, {len(records)}] for {len(records)} records, got {n_folds}.")
    if not 0 <= fold < n_folds:
        raise ValueError(f"fold must be in [0, {n_folds - 1}], got {fold}.")
    order = sorted(records)
    random.Random(seed).shuffle(order)
    held = set(order[fold::n_folds])
    return [r for r in sorted(records) if r not in held], [r for r in sorted(records) if r in held]


def mitdb_splits(
    available: list[str],
    n_folds: int | None = None,
    fold: int = 0,
    include_paced: bool = False,
    seed: int = 42,
    strict_patients: bool = False,
) -> dict[str, list[str]]:
    """MIT-BIH splits: ``train`` = DS1, ``test`` = DS2; with ``n_folds`` DS1 is split record-wise
    into ``train`` / ``validation``. Paced records go to ``train`` only if ``include_paced``
    (pretraining), else nowhere. Splits with no available record are dropped.

    Args:
        available: the record names present.
        n_folds: K for the K-fold on DS1 (``None``: no validation split).
        fold: the held-out fold.
        include_paced: keep the paced records (in ``train``).
        seed: K-fold seed.
        strict_patients: drop DS2 records whose patient is also in DS1 (202, see
            :data:`MITDB_SAME_PATIENT`) for a strictly patient-disjoint test.
    """
    ds1 = MITDB_DS1
    splits: dict[str, list[str]] = {}
    if n_folds:
        train, val = kfold_records(ds1, n_folds, fold, seed)
        splits["train"], splits["validation"] = train, val
    else:
        splits["train"] = list(ds1)
    if include_paced:
        splits["train"] = splits["train"] + MITDB_PACED
    splits["test"] = [r for r in MITDB_DS2 if not (strict_patients and r in MITDB_SAME_PATIENT)]
    have = set(available)
    unknown = sorted(have - set(MITDB_RECORDS))
    if unknown:  # e.g. a renamed quick-start record: keep it usable, in train
        splits["train"] = splits["train"] + unknown
    return {name: sorted(r for r in recs if r in have) for name, recs in splits.items() if any(r in have for r in recs)}


def group_splits(groups: list[str], fractions: dict[str, float], seed: int = 42) -> dict[str, list[str]]:
    """Assign whole groups (subjects/patients) to splits by a seeded shuffle.

    Each split with a positive fraction gets at least one group when there are enough groups; the
    rest go to the first split.

    Args:
        groups: group ids (duplicates are ignored).
        fractions: split name → fraction, e.g. ``{"train": 0.8, "validation": 0.1, "test": 0.1}``.
        seed: shuffling seed.

    Returns:
        split name → sorted group ids (empty splits dropped).
    """
    if not fractions or any(f < 0 for f in fractions.values()):
        raise ValueError(f"fractions must be non-negative and non-empty, got {fractions}.")
    order = sorted(set(groups))
    random.Random(seed).shuffle(order)
    names = list(fractions)
    total = sum(fractions.values())
    counts = {}
    for name in names[1:]:
        want = round(len(order) * fractions[name] / total)
        if fractions[name] > 0 and len(order) >= len(names):
            want = max(1, want)
        counts[name] = want
    out, pos = {}, 0
    for name in names[1:]:
        out[name] = sorted(order[pos : pos + counts[name]])
        pos += counts[name]
    out[names[0]] = sorted(order[pos:])
    return {name: out[name] for name in names if out[name]}
