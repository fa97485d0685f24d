"""Label mappings shared by the builders: AAMI beat classes, PTB-XL SCP aggregation, sleep stages,
European ST-T episodes."""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

# --- MIT-BIH beats → AAMI EC57 classes -------------------------------------------------------------
AAMI_CLASSES = ["N", "S", "V", "F", "Q"]
"""AAMI EC57 heartbeat classes: normal, supraventricular ectopic, ventricular ectopic, fusion, unknown."""

AAMI_MAPPING: dict[str, str] = {
    # N: normal, bundle branch block, escape beats
    "N": "N",
    "L": "N",
    "R": "N",
    "e": "N",
    "j": "N",
    "B": "N",
    # S: supraventricular ectopic
    "A": "S",
    "a": "S",
    "J": "S",
    "S": "S",
    "n": "S",
    # V: ventricular ectopic
    "V": "V",
    "E": "V",
    "r": "V",
    # F: fusion of ventricular and normal
    "F": "F",
    # Q: paced, fusion of paced and normal, unclassifiable
    "/": "Q",
    "f": "Q",
    "Q": "Q",
    "?": "Q",
}
"""MIT-BIH beat symbol → AAMI class (ANSI/AAMI EC57, as used by de Chazal et al. 2004). Symbols not
listed (rhythm ``+``, noise ``~``, artefact ``|``, non-conducted P ``x``, ...) are not beats."""


def aami_class(symbol: str) -> str | None:
    """The AAMI class of a MIT-BIH annotation symbol, or ``None`` when it is not a beat."""
    return AAMI_MAPPING.get(symbol)


# --- PTB-XL SCP statements -------------------------------------------------------------------------
SUPERCLASSES = ["NORM", "MI", "STTC", "CD", "HYP"]


def parse_scp_codes(text: str) -> dict[str, float]:
    """Parse the ``scp_codes`` column of ``ptbxl_database.csv`` (a Python dict literal)."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError) as err:
        raise ValueError(f"malformed scp_codes {text!r}: {err}") from None
    if not isinstance(value, dict):
        raise ValueError(f"scp_codes must be a dict literal, got {text!r}.")
    return {str(k): float(v) for k, v in value.items()}


def load_scp_statements(path: str | Path) -> dict[str, dict[str, str]]:
    """Read ``scp_statements.csv``: SCP code → ``{"diagnostic_class", "diagnostic_subclass"}`` for
    the diagnostic statements (``diagnostic == 1``) only.

    Args:
        path: the CSV file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"PTB-XL statement table {path} is missing.")
    table: dict[str, dict[str, str]] = {}
    with path.open(newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            code = row.get("") or row.get("Unnamed: 0")
            if code is None:
                raise ValueError(f"{path}: first column (the SCP code) not found; columns are {list(row)}.")
            if row.get("diagnostic", "").strip() in ("1", "1.0"):
                table[code] = {
                    "diagnostic_class": row["diagnostic_class"].strip(),
                    "diagnostic_subclass": row["diagnostic_subclass"].strip(),
                }
    return table


def aggregate_scp(scp_codes: dict[str, float], statements: dict[str, dict[str, str]], min_likelihood: float = 0.0):
    """Aggregate one record's SCP codes to diagnostic superclasses and subclasses.

    As the PTB-XL example code does: every code that is a diagnostic statement contributes its
    class, whatever its likelihood (unless ``min_likelihood`` > 0).

    Args:
        scp_codes: code → likelihood (0-100).
        statements: from :func:`load_scp_statements`.
        min_likelihood: codes with a lower likelihood are ignored.

    Returns:
        ``(superclasses, subclasses)``, both sorted lists (superclasses in :data:`SUPERCLASSES` order).
    """
    supers, subs = set(), set()
    for code, likelihood in scp_codes.items():
        if code in statements and likelihood >= min_likelihood:
            supers.add(statements[code]["diagnostic_class"])
            subs.add(statements[code]["diagnostic_subclass"])
    return [c for c in SUPERCLASSES if c in supers], sorted(subs)


# --- slpdb sleep stages ----------------------------------------------------------------------------
SLEEP_STAGES_5 = ["W", "S1", "S2", "S3+S4", "R"]
SLEEP_STAGES_3 = ["W", "NREM", "R"]
_STAGE_TO_5 = {"W": "W", "1": "S1", "2": "S2", "3": "S3+S4", "4": "S3+S4", "R": "R"}
_STAGE_TO_3 = {"W": "W", "1": "NREM", "2": "NREM", "3": "NREM", "4": "NREM", "R": "R"}


def sleep_stage(aux_note: str) -> str | None:
    """The sleep stage (``W 1 2 3 4 R``) of an slpdb aux note, whose first token is the stage
    (e.g. ``"2 OA"``); ``None`` for movement time (``MT``) or a note with no stage."""
    tokens = aux_note.strip().split()
    if not tokens:
        return None
    stage = tokens[0].upper()
    return stage if stage in _STAGE_TO_5 else None


def stage_5class(stage: str) -> str:
    """W/1/2/3/4/R → W, S1, S2, S3+S4, R."""
    return _STAGE_TO_5[stage]


def stage_3class(stage: str) -> str:
    """W/1/2/3/4/R → W, NREM, R."""
    return _STAGE_TO_3[stage]


# --- European ST-T episodes ------------------------------------------------------------------------
_EPISODE_START = re.compile(r"^\((ST|T)(\d*)([+-]?)$")
_EPISODE_END = re.compile(r"^(ST|T)(\d*)([+-]?)\)$")


def st_episodes(samples, aux_notes, n_samples: int) -> list[tuple[str, int, int]]:
    """ST and T episodes from European ST-T aux notes (``"(ST0+"`` opens, ``"ST0+)"`` closes).

    Args:
        samples: annotation sample positions.
        aux_notes: the matching aux notes.
        n_samples: record length (an episode still open at the end closes there).

    Returns:
        ``[(name, start, stop)]`` with names like ``"ST0+"`` or ``"T1-"``.
    """
    open_: dict[str, int] = {}
    episodes = []
    for sample, note in zip(samples, aux_notes):
        note = note.strip()
        if m := _EPISODE_START.match(note):
            if m.group(1) == "T" and not m.group(2) and not m.group(3):
                continue  # "(T" is the rhythm label ventricular trigeminy, not a T episode
            open_[m.group(1) + m.group(2) + m.group(3)] = int(sample)
        elif m := _EPISODE_END.match(note):
            name = m.group(1) + m.group(2) + m.group(3)
            if name in open_:
                episodes.append((name, open_.pop(name), int(sample)))
    episodes += [(name, start, n_samples) for name, start in open_.items()]
    return sorted(episodes, key=lambda e: (e[1], e[0]))
