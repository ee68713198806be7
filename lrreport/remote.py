"""Logs where they live: object storage and other fsspec URLs (``s3://``, ``gs://``, ``az://``, ``memory://``).

Every reader works on local files (memory-mapped event files, streamed CSVs),
so a URL is read through a local mirror: :func:`mirror` lists the prefix with
fsspec, fetches the files that are new or changed (by size and modification
time or ETag, as the store reports them) into the cache folder, drops the ones
that vanished, and hands back the local folder. A second analysis of a growing
bucket fetches only what changed. Outputs name the URL, never the mirror.

The back-ends are extras: ``pip install 'lrreport[s3]'`` (s3fs), ``[gcs]``
(gcsfs), ``[azure]`` (adlfs); a missing one gives a one-line install hint.
Credentials and endpoints come from the back-end's usual places (environment
variables such as ``AWS_PROFILE`` or ``AWS_ENDPOINT_URL``, config files).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

__all__ = ["RemoteError", "is_url", "mirror", "to_url"]

URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://", re.I)
EXTRAS = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs", "az": "azure", "abfs": "azure", "abfss": "azure", "adl": "azure"}
MANIFEST = "manifest.json"


class RemoteError(Exception):
    """A URL that cannot be read: a missing back-end, no such bucket, no permission."""


def is_url(path: Any) -> bool:
    m = URL.match(str(path))
    return bool(m) and m.group("scheme").lower() not in ("file",)


def _filesystem(url: str):
    try:
        import fsspec
    except ImportError:  # pragma: no cover - fsspec is a dependency
        raise RemoteError("reading URLs needs fsspec: pip install fsspec") from None
    scheme = URL.match(url).group("scheme").lower()
    try:
        return fsspec.core.url_to_fs(url)
    except ImportError as exc:
        extra = EXTRAS.get(scheme)
        hint = f"pip install 'lrreport[{extra}]'" if extra else str(exc).splitlines()[0]
        raise RemoteError(f"{url}: no fsspec back-end for {scheme}:// installed ({hint})") from None
    except ValueError as exc:
        raise RemoteError(f"{url}: {exc}") from None


def _stamp(info: dict[str, Any]) -> str:
    """What tells a changed object: its size and whatever version mark the store gives."""
    mark = next((info[k] for k in ("ETag", "etag", "md5Hash", "mtime", "LastModified", "last_modified", "created") if info.get(k)), "")
    return f"{info.get('size')}:{mark}"


def mirror(url: str, root: Path | None = None) -> tuple[Path, dict[str, int]]:
    """The local mirror of ``url`` (a prefix or one object), up to date; and what was done:
    {"files": n, "fetched": k, "removed": r}."""
    from .cache import default_cache_dir

    fs, path = _filesystem(url)
    root = Path(root) if root is not None else default_cache_dir() / "mirrors"
    name = PurePosixPath(path.rstrip("/")).name or "root"
    home = root / hashlib.sha256(url.encode()).hexdigest()[:16]
    local = home / name
    local.mkdir(parents=True, exist_ok=True)
    try:
        if fs.isfile(path):
            listing = {path: fs.info(path)}
            base = str(PurePosixPath(path).parent)
        else:
            listing = fs.find(path, detail=True, withdirs=False)
            base = path.rstrip("/")
            if not listing and not fs.exists(path):
                raise FileNotFoundError(path)
    except FileNotFoundError:
        raise RemoteError(f"{url}: no such object or prefix") from None
    except PermissionError as exc:
        raise RemoteError(f"{url}: permission denied ({exc})") from None
    except OSError as exc:
        raise RemoteError(f"{url}: {exc}".splitlines()[0]) from None
    manifest_path = home / MANIFEST  # beside the mirror, never inside it (it would be read as a log)
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        manifest = {}
    fetched = 0
    seen: dict[str, str] = {}
    for remote, info in sorted(listing.items()):
        rel = str(PurePosixPath(remote).relative_to(base)) if remote != base else PurePosixPath(remote).name
        if rel.startswith(".."):
            continue
        stamp = _stamp(info)
        seen[rel] = stamp
        target = local / rel
        if manifest.get(rel) == stamp and target.is_file():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + ".part")
        try:
            fs.get_file(remote, str(part))
            os.replace(part, target)
        except OSError as exc:
            raise RemoteError(f"{url}: cannot fetch {rel} ({exc})".splitlines()[0]) from None
        fetched += 1
    removed = 0
    for rel in set(manifest) - set(seen):
        try:
            (local / rel).unlink()
            removed += 1
        except OSError:
            pass
    tmp = manifest_path.with_suffix(".tmp")
    tmp.write_text(json.dumps(seen, sort_keys=True))
    os.replace(tmp, manifest_path)
    return local, {"files": len(seen), "fetched": fetched, "removed": removed}


def to_url(text: str, local: Path, url: str) -> str:
    """A path inside the mirror, as the URL it came from."""
    prefix = str(local)
    if text == prefix:
        return url.rstrip("/")
    if text.startswith(prefix + os.sep):
        return url.rstrip("/") + "/" + text[len(prefix) + 1 :].replace(os.sep, "/")
    return text
