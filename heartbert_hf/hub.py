"""Upload a saved HeartBert folder to the Hugging Face Hub: the one upload path of every command.

``heartbert pretrain`` and ``heartbert finetune`` save a folder (weights, ``config.json``, the text
tokenizer, the quantizer / preprocessor config, the remote-code ``.py`` files written by
``save_pretrained``, the ``README.md`` card from :mod:`heartbert_hf.card`) and, with ``--push_to_hub
--hub_model_id user/name``, upload it once at the end with :func:`push_folder`; Trainer's own
per-checkpoint pushing is turned off. The API honours ``HF_ENDPOINT`` and ``HF_TOKEN``; tests pass a
loopback ``endpoint`` or a stand-in ``api`` (never the real Hub).
"""

from __future__ import annotations

from pathlib import Path

MODEL_IGNORE = ("checkpoint-*", "checkpoint-*/**", "runs/**", "tokenizer/**", "arm-*/**", "fold*/**", "ship-train/**", "*.pt", "*.pth")
"""Not uploaded from a model folder: Trainer checkpoints and optimizer states, TensorBoard logs, the
pretraining's tokenizer sub-folder (the tokenizer files are at the top level), the other arms and
cross-validation folds of ``heartbert finetune``."""


def check_push_possible(repo_id: str | None) -> None:
    """Fail before any work, with a message saying what to do, when a push to ``repo_id`` cannot happen.

    Raises:
        SystemExit: ``repo_id`` is not ``user/name``, or ``HF_HUB_OFFLINE=1`` is set.
    """
    from huggingface_hub import constants

    if not repo_id or repo_id.count("/") != 1:
        raise SystemExit(f"--push_to_hub needs --hub_model_id user/name (got {repo_id!r}).")
    if constants.HF_HUB_OFFLINE:
        raise SystemExit(
            "--push_to_hub was given but HF_HUB_OFFLINE=1 is set: nothing can be uploaded. Unset HF_HUB_OFFLINE "
            "(and log in with `hf auth login`), or drop --push_to_hub and upload the output folder later."
        )


def push_folder(
    folder: str | Path,
    repo_id: str,
    *,
    commit_message: str,
    repo_type: str = "model",
    token: str | None = None,
    private: bool | None = None,
    endpoint: str | None = None,
    api=None,
    ignore_patterns: tuple[str, ...] = MODEL_IGNORE,
) -> str:
    """Create ``repo_id`` if needed and upload ``folder`` to it in one commit.

    Args:
        folder: a saved model folder (or, with ``repo_type="dataset"``, a dataset folder).
        repo_id: ``user/name``.
        commit_message: the Hub commit's message (say which run and how many steps).
        repo_type: ``model`` or ``dataset``.
        token, private, endpoint: passed to ``huggingface_hub.HfApi`` / ``create_repo`` (default: the
            logged-in token, the account's default visibility, ``HF_ENDPOINT`` or huggingface.co).
        api: an ``HfApi``-like object with ``create_repo`` and ``upload_folder`` (tests); overrides
            ``token`` and ``endpoint``.
        ignore_patterns: paths left out (default :data:`MODEL_IGNORE`).

    Returns:
        The commit URL.

    Raises:
        FileNotFoundError: ``folder`` does not exist.
        huggingface_hub.errors.OfflineModeIsEnabled, HfHubHTTPError: from the Hub client.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder to upload; save the model first.")
    if api is None:
        from huggingface_hub import HfApi

        api = HfApi(endpoint=endpoint, token=token)
    api.create_repo(repo_id, private=private, exist_ok=True, repo_type=repo_type)
    info = api.upload_folder(
        folder_path=str(folder), repo_id=repo_id, repo_type=repo_type, commit_message=commit_message, ignore_patterns=list(ignore_patterns)
    )
    return str(getattr(info, "commit_url", info))
