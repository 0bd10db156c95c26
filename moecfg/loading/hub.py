"""Hugging Face Hub ids (`org/name[@revision]`) read through huggingface_hub.

Only reached when the argument is not a local path. The library (extra `moecfg[hub]`) is
imported here and nowhere else, and does the caching: it honours HF_HUB_OFFLINE, HF_HOME and
HF_HUB_CACHE and reuses the user's cache, so an id already downloaded works offline. Every
failure says the argument was read as a Hub id, because the user may have meant a path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from moecfg.errors import MissingExtraError, SourceError
from moecfg.loading.files import INDEX_FILE

if TYPE_CHECKING:
    from moecfg.loading.files import RawConfig

#: Hub repo ids: one slash, name parts of letters, digits, '-', '_' and '.' (96 chars at most).
_HUB_ID = re.compile(r"^(?P<repo>[A-Za-z0-9][\w.-]{0,95}/[\w.-]{1,96})(?:@(?P<revision>[\w./-]{1,256}))?$")


@dataclass(frozen=True, slots=True)
class HubId:
    repo_id: str
    revision: str | None

    def __str__(self) -> str:
        return self.repo_id + (f"@{self.revision}" if self.revision else "")

    @property
    def revision_name(self) -> str:
        return self.revision or "main"


def parse_hub_id(spec: str) -> HubId | None:
    """`org/name` or `org/name@revision`, else None (then it can only be a missing path)."""
    match = _HUB_ID.match(spec)
    if match is None or ".." in match["repo"]:
        return None
    return HubId(match["repo"], match["revision"])


def _hub_error(hub_id: HubId, message: str, code: str) -> SourceError:
    return SourceError(f"no such local path; read as Hub id '{hub_id}': {message}", code=code)


def download(hub_id: HubId, filename: str) -> Path:
    """One file of the repo at the revision, from the cache or the Hub."""
    try:
        import huggingface_hub
        from huggingface_hub import errors
    except ImportError:
        raise MissingExtraError(
            f"no such local path; reading it as Hub id '{hub_id}' needs huggingface_hub: "
            "pip install 'moecfg[hub]'"
        ) from None
    try:
        return Path(huggingface_hub.hf_hub_download(hub_id.repo_id, filename, revision=hub_id.revision))
    except errors.LocalEntryNotFoundError:
        why = "HF_HUB_OFFLINE is set" if huggingface_hub.constants.HF_HUB_OFFLINE else "the Hub is unreachable"
        raise _hub_error(
            hub_id,
            f"{filename} at revision '{hub_id.revision_name}' is not in the local Hub cache "
            f"({huggingface_hub.constants.HF_HUB_CACHE}) and {why}",
            "hub_not_cached",
        ) from None
    except errors.RevisionNotFoundError:
        raise _hub_error(hub_id, f"revision '{hub_id.revision_name}' does not exist", "hub_no_revision") from None
    except errors.EntryNotFoundError:
        raise _hub_error(
            hub_id, f"the repo has no {filename} at revision '{hub_id.revision_name}'", "hub_no_file"
        ) from None
    except errors.GatedRepoError:
        raise _hub_error(hub_id, "the repo is gated: log in with `hf auth login` and accept its terms",
                         "hub_gated") from None
    except errors.RepositoryNotFoundError:
        raise _hub_error(hub_id, "no such repo on the Hub (or it is private)", "hub_no_repo") from None
    except errors.HfHubHTTPError as exc:
        status = exc.response.status_code if exc.response is not None else "?"
        raise _hub_error(hub_id, f"Hub request failed (HTTP {status})", "hub_http") from None
    except (OSError, ValueError) as exc:
        raise _hub_error(hub_id, f"cannot fetch {filename}: {exc}", "hub_error") from None


def load_hub(hub_id: HubId) -> RawConfig:
    """config.json of a Hub repo; `folder` is its snapshot, for the checkpoint cross-check."""
    from moecfg.loading.files import RawConfig, load_file

    config_path = download(hub_id, "config.json")
    raw = load_file(config_path)
    return RawConfig(
        source=str(hub_id),
        data=raw.data,
        duplicate_keys=raw.duplicate_keys,
        folder=config_path.parent,
    )


def fetch_index(hub_id: HubId) -> Path | None:
    """The safetensors index into the snapshot folder when the repo has one, else None."""
    try:
        return download(hub_id, INDEX_FILE)
    except SourceError as error:
        if error.code in ("hub_no_file", "hub_not_cached"):
            return None
        raise
