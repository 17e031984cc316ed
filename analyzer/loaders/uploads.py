"""Read uploads safely, in memory: manifests and archives → (name, text) documents; one credential → its kind.

Nothing is written to disk. Archives are read member by member into memory with caps on the number of
members, each member's size and the total decompressed size (decompression bombs), and members whose
names are absolute or climb out with ``..`` (path traversal) are refused. Links, devices and other
non-regular members are skipped. Every refusal is reported as a ``LoadIssue``; the rest still loads.
"""

from __future__ import annotations

import io
import logging
import posixpath
import tarfile
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import LimitExceeded, ManifestError
from ..model import LoadIssue

__all__ = ["UploadLimits", "read_uploads", "MANIFEST_SUFFIXES", "CredentialUpload", "read_credential_upload"]

logger = logging.getLogger(__name__)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
_CHUNK = 1 << 16


@dataclass(frozen=True, kw_only=True)
class UploadLimits:
    """Caps for one batch of uploads (all files and archive members together)."""

    max_upload_bytes: int = 64 * 1024 * 1024  # each uploaded file, as received
    max_total_bytes: int = 256 * 1024 * 1024  # everything decompressed, all uploads together
    max_member_bytes: int = 64 * 1024 * 1024  # one archive member (or one .gz) decompressed
    max_members: int = 20_000  # archive members looked at, all archives together


class _Budget:
    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.total = 0
        self.members = 0

    def count_member(self, archive: str) -> None:
        self.members += 1
        if self.members > self.limits.max_members:
            raise LimitExceeded(f"{archive}: more than {self.limits.max_members} archive members (limit max_members)")

    def take(self, name: str, n: int) -> None:
        self.total += n
        if self.total > self.limits.max_total_bytes:
            raise LimitExceeded(f"{name}: uploads decompress to more than {self.limits.max_total_bytes} bytes in total")


def _is_manifest(name: str) -> bool:
    return name.lower().endswith(MANIFEST_SUFFIXES)


def _unsafe_name(name: str) -> str:
    """Why an archive member name is refused, or "" when it stays inside the archive."""
    if "\x00" in name:
        return "NUL byte in name"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":"):
        return "absolute path"
    if ".." in posixpath.normpath(norm).split("/"):
        return "path leaves the archive (..)"
    return ""


def _read_capped(stream: io.BufferedIOBase | io.RawIOBase, name: str, cap: int, budget: _Budget) -> bytes:
    """Read at most ``cap`` bytes; more is a decompression bomb, never trust the declared size."""
    buf = bytearray()
    while True:
        chunk = stream.read(_CHUNK)
        if not chunk:
            return bytes(buf)
        buf += chunk
        budget.take(name, len(chunk))
        if len(buf) > cap:
            raise LimitExceeded(f"{name}: decompresses to more than {cap} bytes (limit max_member_bytes)")


def _gunzip(name: str, data: bytes, budget: _Budget) -> bytes:
    cap = budget.limits.max_member_bytes
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(data, cap + 1)
    except zlib.error as exc:
        raise ManifestError(f"{name}: not a valid gzip file ({exc})") from None
    if len(out) > cap or d.unconsumed_tail:
        raise LimitExceeded(f"{name}: decompresses to more than {cap} bytes (limit max_member_bytes)")
    budget.take(name, len(out))
    return out


def _decode(name: str, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        raise ManifestError(f"{name}: binary file (NUL bytes), not YAML or JSON")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{name}: invalid UTF-8 at byte {exc.start}") from None


def _zip_members(name: str, data: bytes, budget: _Budget, issues: list[LoadIssue]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise ManifestError(f"{name}: not a valid zip archive ({exc})") from None
    with zf:
        for info in zf.infolist():
            budget.count_member(name)
            member = f"{name}/{info.filename}"
            if info.is_dir():
                continue
            why = _unsafe_name(info.filename)
            if why:
                issues.append(LoadIssue(file=member, document=0, field="", message=f"refused: {why}"))
                continue
            if not _is_manifest(info.filename) or posixpath.basename(info.filename).startswith("."):
                continue
            try:
                with zf.open(info) as fh:
                    raw = _read_capped(fh, member, budget.limits.max_member_bytes, budget)
                out.append((member, _decode(member, raw)))
            except LimitExceeded:
                raise
            except (ManifestError, zipfile.BadZipFile, RuntimeError, NotImplementedError, OSError, zlib.error) as exc:
                issues.append(LoadIssue(file=member, document=0, field="", message=_short(exc)))
    return out


def _tar_members(name: str, data: bytes, budget: _Budget, issues: list[LoadIssue]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    try:
        tf = tarfile.open(fileobj=io.BytesIO(data), mode="r:")
    except (tarfile.TarError, OSError) as exc:
        raise ManifestError(f"{name}: not a valid tar archive ({exc})") from None
    with tf:
        while True:
            try:
                info = tf.next()
            except tarfile.TarError as exc:
                issues.append(LoadIssue(file=name, document=0, field="", message=f"archive damaged: {exc}"))
                break
            if info is None:
                break
            budget.count_member(name)
            member = f"{name}/{info.name}"
            if info.isdir():
                continue
            why = _unsafe_name(info.name)
            if why:
                issues.append(LoadIssue(file=member, document=0, field="", message=f"refused: {why}"))
                continue
            if not info.isfile():
                if _is_manifest(info.name):
                    issues.append(LoadIssue(file=member, document=0, field="",
                                            message="skipped: not a regular file (link or device)"))
                continue
            if not _is_manifest(info.name) or posixpath.basename(info.name).startswith("."):
                continue
            fh = tf.extractfile(info)
            if fh is None:
                continue
            try:
                raw = _read_capped(fh, member, budget.limits.max_member_bytes, budget)
                out.append((member, _decode(member, raw)))
            except ManifestError as exc:
                if isinstance(exc, LimitExceeded):
                    raise
                issues.append(LoadIssue(file=member, document=0, field="", message=_short(exc)))
    return out


def _short(exc: Exception) -> str:
    return str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)


def read_uploads(files: Iterable[tuple[str, bytes]], *, limits: UploadLimits | None = None
                 ) -> tuple[list[tuple[str, str]], list[LoadIssue]]:
    """Uploaded (file name, bytes) → ((name, text) documents to parse, issues for what was refused).

    ``.yaml``/``.yml``/``.json`` (optionally ``.gz``), ``.zip``, ``.tar``, ``.tar.gz``/``.tgz``. A file
    that cannot be read at all becomes a LoadIssue; exceeding a size or count limit raises
    ``LimitExceeded`` (the whole upload is refused).
    """
    limits = limits or UploadLimits()
    budget = _Budget(limits)
    texts: list[tuple[str, str]] = []
    issues: list[LoadIssue] = []
    for raw_name, data in files:
        name = posixpath.basename(raw_name.replace("\\", "/")) or "upload"
        if len(data) > limits.max_upload_bytes:
            raise LimitExceeded(f"{name}: larger than {limits.max_upload_bytes} bytes (limit max_upload_bytes)")
        lower = name.lower()
        try:
            if lower.endswith(".zip"):
                texts.extend(_zip_members(name, data, budget, issues))
            elif lower.endswith((".tar.gz", ".tgz")):
                texts.extend(_tar_members(name, _gunzip(name, data, budget), budget, issues))
            elif lower.endswith(".tar"):
                texts.extend(_tar_members(name, data, budget, issues))
            elif lower.endswith(".gz"):
                texts.append((name, _decode(name, _gunzip(name, data, budget))))
            elif _is_manifest(lower):
                budget.take(name, len(data))
                texts.append((name, _decode(name, data)))
            else:
                issues.append(LoadIssue(file=name, document=0, field="",
                                        message="skipped: not .yaml, .yml, .json, .zip, .tar or .tar.gz"))
        except LimitExceeded:
            raise
        except ManifestError as exc:
            issues.append(LoadIssue(file=name, document=0, field="", message=_short(exc)))
    logger.debug("uploads: %d documents, %d issues, %d bytes", len(texts), len(issues), budget.total)
    return texts, issues


# -- credentials (Identity page): classify one uploaded file, keep nothing ----------------------------------

_KUBECONFIG_FILE_KEYS = {
    "users": ("client-certificate", "client-key", "tokenFile"),
    "clusters": ("certificate-authority",),
}


@dataclass(frozen=True, kw_only=True)
class CredentialUpload:
    """An uploaded credential, classified: ``kind`` is kubeconfig, certificate or token.

    ``text`` is the content to resolve (for a kubeconfig: re-serialised with every file reference removed,
    so an uploaded document can never make the server read its own files). Not for logging.
    """

    kind: str
    text: str = field(repr=False)
    warnings: tuple[str, ...] = ()


def read_credential_upload(name: str, data: bytes, *, max_bytes: int = 1024 * 1024) -> CredentialUpload:
    """Uploaded kubeconfig / PEM certificate / bearer token → CredentialUpload; ``IdentityError`` otherwise."""
    import yaml

    from ..errors import IdentityError

    if len(data) > max_bytes:
        raise IdentityError(f"{name}: larger than {max_bytes} bytes; not a kubeconfig, certificate or token")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise IdentityError(f"{name}: not text (a kubeconfig, PEM certificate or token is text)") from None
    if "-----BEGIN CERTIFICATE-----" in text:
        return CredentialUpload(kind="certificate", text=text)
    stripped = text.strip()
    if stripped and len(stripped.split()) == 1 and ":" not in stripped:
        return CredentialUpload(kind="token", text=stripped)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError:
        raise IdentityError(f"{name}: neither a kubeconfig (YAML), a PEM certificate nor a token") from None
    if not isinstance(doc, dict) or not any(k in doc for k in ("contexts", "users", "clusters")):
        raise IdentityError(f"{name}: neither a kubeconfig, a PEM certificate nor a token")
    warnings: list[str] = []
    for section, keys in _KUBECONFIG_FILE_KEYS.items():
        entries = doc.get(section)
        if not isinstance(entries, list):
            continue
        for entry in entries:
            inner = entry.get(section[:-1]) if isinstance(entry, dict) else None
            if not isinstance(inner, dict):
                continue
            for key in keys:
                if key in inner:
                    del inner[key]
                    label = entry.get("name", "?") if isinstance(entry, dict) else "?"
                    embedded = "token" if key == "tokenFile" else f"{key}-data"
                    warnings.append(f"{section[:-1]} {label}: {key} names a file, which an upload cannot use; "
                                    f"embed it as {embedded}")
    return CredentialUpload(kind="kubeconfig", text=yaml.safe_dump(doc, sort_keys=False),
                            warnings=tuple(dict.fromkeys(warnings)))
