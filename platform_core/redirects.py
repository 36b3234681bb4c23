"""Where a posted ``url``/``next`` may send the browser: paths on this site only.

An open redirect turns any of our pages into a phishing aid, so anything with a scheme, a
host, a protocol-relative ``//`` or a backslash (browsers read ``/\\`` as ``//``) is refused,
and so are control characters and spaces browsers strip before reading the URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def is_local_path(target: str | None) -> bool:
    """Whether ``target`` is an absolute path on this site (``/admin/…``)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return False
    if "\\" in target or any(ord(ch) < 33 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def local_path_or(target: str | None, fallback: str) -> str:
    """``target`` when it is a local path, else ``fallback``."""
    return target if target is not None and is_local_path(target) else fallback
