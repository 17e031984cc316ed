"""Read YAML/JSON manifests safely into an Inventory, with a LoadIssue or Notice for everything odd.

Safety: SafeLoader only (libyaml's when present), limits on file size, document count, nesting depth
and alias expansion; gzip is decompressed with a cap. A bad document becomes a ``LoadIssue`` (file,
document number, field) and the documents around it still load.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import stat
import sys
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..errors import LimitExceeded, ManifestError
from ..model import (
    Binding,
    Inventory,
    KubeObject,
    LabelRequirement,
    LabelSelector,
    LoadIssue,
    Notice,
    PolicyRule,
    Role,
    RoleRef,
    ServiceAccount,
    SourceRef,
    Subject,
)
from ..runtime import OWN_THREAD_PREFIX, gc_paused
from ..semantics.resources import BUILTIN_RESOURCES

__all__ = ["Limits", "ParseContext", "load_manifests", "load_texts", "parse_objects", "parse_rule", "read_documents", "finish",
           "FieldError", "MANIFEST_SUFFIXES"]

logger = logging.getLogger(__name__)

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json", ".yaml.gz", ".yml.gz", ".json.gz")
Progress = Callable[[str, int, int], None]

_RBAC_KINDS = {"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"}
_CLUSTER_SCOPED_KINDS = {t.kind for t in BUILTIN_RESOURCES if not t.namespaced}
_NAMESPACED_KINDS = {t.kind for t in BUILTIN_RESOURCES if t.namespaced}
_KNOWN_KINDS = _CLUSTER_SCOPED_KINDS | _NAMESPACED_KINDS | {"List"}


@dataclass(frozen=True, kw_only=True)
class Limits:
    """Safety limits for one input file (and for a whole load where said)."""

    max_file_bytes: int = 256 * 1024 * 1024
    max_documents: int = 1_000_000  # non-empty documents per file
    max_depth: int = 100
    max_alias_nodes: int = 1_000_000  # nodes a document may expand to through aliases
    max_files: int = 200_000


class FieldError(Exception):
    """A field of a document has the wrong shape: the object is dropped with a LoadIssue."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass
class ParseContext:
    """Accumulates typed objects, issues and notices while documents are parsed."""

    default_namespace: str = "default"
    inventory: Inventory = field(default_factory=Inventory)
    _keys: dict[tuple[str, str, str], tuple[str, int]] = field(default_factory=dict)
    # equal rules and rule lists are shared: less memory, and queries can cache per rules tuple
    _rule_pool: dict[Any, Any] = field(default_factory=dict)

    def shared(self, value: Any) -> Any:
        return self._rule_pool.setdefault(value, value)

    def issue(self, src: SourceRef, fld: str, message: str) -> None:
        self.inventory.load_issues.append(LoadIssue(file=src.file, document=src.document, field=fld,
                                                    message=message, line=src.line))

    def notice(self, code: str, src: SourceRef, fld: str, message: str) -> None:
        self.inventory.notices.append(Notice(code=code, message=message, file=src.file, document=src.document,
                                             field=fld, line=src.line))


# ---------------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------------

def _iter_files(path: str, limits: Limits, problems: list[tuple[str, str]] | None = None) -> Iterator[str]:
    """The manifest files under ``path`` (itself if a file), sorted; unreadable directories and entries
    that are not regular files go to ``problems`` as (path, message)."""
    if path == "-":
        yield path
        return
    p = Path(path)
    try:
        p.stat()
    except OSError as exc:
        if os.path.islink(path):
            raise ManifestError(f"{path}: dangling symlink or symlink loop ({exc.strerror or exc})") from None
        if isinstance(exc, FileNotFoundError):
            raise ManifestError(f"{path}: no such file or directory") from None
        raise ManifestError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if p.is_file():
        yield path
        return
    if not p.is_dir():
        raise ManifestError(f"{path}: not a regular file or directory")
    count = 0

    def walk_error(exc: OSError) -> None:
        if problems is not None:
            problems.append((exc.filename or path, f"cannot read directory: {exc.strerror or exc}"))

    # followlinks=False: a symlinked directory is not entered, so symlink loops cannot recurse
    for root, dirs, files in os.walk(path, onerror=walk_error, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.lower().endswith(MANIFEST_SUFFIXES) and not name.startswith("."):
                count += 1
                if count > limits.max_files:
                    raise LimitExceeded(f"{path}: more than {limits.max_files} manifest files (limit max_files)")
                yield os.path.join(root, name)


def _read_bytes(path: str, limits: Limits) -> bytes:
    try:
        if path == "-":
            data = _read_capped(sys.stdin.buffer, limits.max_file_bytes + 1)
        else:
            st = os.stat(path)
            if not stat.S_ISREG(st.st_mode):  # a FIFO or device named *.yaml would block or never end
                raise ManifestError(f"{path}: not a regular file")
            if st.st_size > limits.max_file_bytes:
                raise LimitExceeded(_too_big(path, limits))
            with open(path, "rb") as fh:
                data = _read_capped(fh, limits.max_file_bytes + 1, st.st_size)
    except OSError as exc:
        if os.path.islink(path):
            raise ManifestError(f"{path}: dangling symlink or symlink loop ({exc.strerror or exc})") from None
        raise ManifestError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(data) > limits.max_file_bytes:
        raise LimitExceeded(_too_big(path, limits))
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(path, data, limits)
    return data


def _read_capped(fh: Any, cap: int, expected: int = 0) -> bytes:
    """At most ``cap`` bytes; never allocates ``cap`` up front (read(n) would)."""
    chunks = [fh.read(min(expected + 1, cap))] if expected else []
    size = len(chunks[0]) if chunks else 0
    if chunks and size <= expected:
        return chunks[0]
    while size < cap:
        chunk = fh.read(min(1 << 20, cap - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _too_big(path: str, limits: Limits, what: str = "larger than") -> str:
    return (f"{path}: {what} {limits.max_file_bytes} bytes "
            "(limit max_file_bytes; raise it with --max-file-size)")


def _gunzip(path: str, data: bytes, limits: Limits) -> bytes:
    """Decompress every gzip member, never producing more than the file size limit (bombs stop early)."""
    out = bytearray()
    rest = data
    while rest:
        d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            out += d.decompress(rest, limits.max_file_bytes + 1 - len(out))
        except zlib.error as exc:
            raise ManifestError(f"{path}: not a valid gzip file ({exc})") from None
        if len(out) > limits.max_file_bytes or d.unconsumed_tail:
            raise LimitExceeded(_too_big(path, limits, "decompresses to more than"))
        if not d.eof:
            raise ManifestError(f"{path}: truncated gzip file")
        rest = d.unused_data
        if rest and rest[:2] != b"\x1f\x8b":
            break  # trailing garbage after the last member, as gzip(1) tolerates
    return bytes(out)


def _decode(path: str, data: bytes) -> str:
    if b"\x00" in data[:8192]:
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            try:
                return data.decode("utf-16")
            except UnicodeDecodeError:
                pass
        raise ManifestError(f"{path}: binary file (NUL bytes), not YAML or JSON")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ManifestError(f"{path}: invalid UTF-8 at byte {exc.start}") from None


# ---------------------------------------------------------------------------------------------
# Parsing streams into (document, line) pairs
# ---------------------------------------------------------------------------------------------

_Base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR, _MAP, _SEQ = "tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_MERGE, _VALUE = "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"
# The plain-scalar constructors of SafeConstructor; any other tag (e.g. !!python/object) takes the slow
# path, where SafeConstructor refuses it as it always did.
_SCALAR_CONSTRUCTORS = {
    t: yaml.constructor.SafeConstructor.yaml_constructors[t]
    for t in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
              "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:binary")
}
_RESOLVE_CACHE: dict[tuple[Any, Any, Any], str] = {}
_RESOLVE_CACHE_MAX = 100_000


class _Loader(_Base):  # type: ignore[misc,valid-type]
    """SafeLoader whose implicit tag resolution is memoised: the composer asks it for every scalar, and
    manifests repeat the same keys and values endlessly. Safe: SafeLoader has no path resolvers, so the
    tag depends on (kind, value, implicit) only."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        key = (kind, value, implicit)
        tag = _RESOLVE_CACHE.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)
            if value is None or len(value) <= 64:
                if len(_RESOLVE_CACHE) >= _RESOLVE_CACHE_MAX:
                    _RESOLVE_CACHE.clear()
                _RESOLVE_CACHE[key] = tag
        return tag


class _Fallback(Exception):
    """The fast constructor met something unusual (tags, merge keys, complex keys): use SafeConstructor."""


def _fast_construct(loader: Any, node: yaml.Node) -> Any:
    """Plain dicts, lists and scalars from a node tree WITHOUT aliases, iteratively; exactly what
    SafeConstructor builds, minus its generic machinery. Raises _Fallback for anything else."""
    scalar_node, mapping_node = yaml.ScalarNode, yaml.MappingNode
    constructors = _SCALAR_CONSTRUCTORS
    intern = sys.intern

    def scalar(n: yaml.Node) -> Any:
        if n.tag == _STR:
            return n.value
        f = constructors.get(n.tag)
        if f is None:
            raise _Fallback
        return f(loader, n)

    def new(n: yaml.Node) -> Any:
        if type(n) is mapping_node:
            if n.tag != _MAP:
                raise _Fallback
            return {}
        if n.tag != _SEQ or type(n) is not yaml.SequenceNode:
            raise _Fallback
        return []

    if type(node) is scalar_node:
        return scalar(node)
    root = new(node)
    stack = [(node, root)]
    while stack:
        n, out = stack.pop()
        if type(out) is dict:
            for k, v in n.value:
                if type(k) is not scalar_node:
                    raise _Fallback
                if k.tag == _STR:
                    key = intern(k.value)  # keys repeat in every object: share them
                elif k.tag in (_MERGE, _VALUE):
                    raise _Fallback
                else:
                    key = scalar(k)
                if type(v) is scalar_node:
                    out[key] = scalar(v)
                else:
                    c = out[key] = new(v)
                    stack.append((v, c))
        else:
            for v in n.value:
                if type(v) is scalar_node:
                    out.append(scalar(v))
                else:
                    c = new(v)
                    out.append(c)
                    stack.append((v, c))
    return root


def _node_stats(node: yaml.Node, limits: Limits, path: str, doc: int) -> None:
    """Refuse documents whose alias expansion or nesting exceeds the limits (iterative, memoized per node,
    so a "billion laughs" costs only its few distinct nodes)."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(node, False)]
    on_stack: set[int] = set()
    while stack:
        n, done = stack.pop()
        nid = id(n)
        if done:
            on_stack.discard(nid)
            if isinstance(n, yaml.SequenceNode):
                kids = n.value
            elif isinstance(n, yaml.MappingNode):
                kids = [x for pair in n.value for x in pair]
            else:
                size[nid], depth[nid] = 1, 0
                continue
            s = 1 + sum(size[id(k)] for k in kids)
            dpt = 1 + max((depth[id(k)] for k in kids), default=0)
            size[nid], depth[nid] = s, dpt
            if s > limits.max_alias_nodes:
                raise LimitExceeded(f"{path}: document {doc}: expands to more than {limits.max_alias_nodes} nodes "
                                    "through YAML aliases (limit max_alias_nodes)")
            if dpt > limits.max_depth:
                raise _depth_error(path, doc, limits)
            continue
        if nid in size:
            continue
        if nid in on_stack:  # a recursive alias: refuse rather than loop
            raise LimitExceeded(f"{path}: document {doc}: recursive YAML alias (limit max_alias_nodes)")
        on_stack.add(nid)
        stack.append((n, True))
        if isinstance(n, yaml.SequenceNode):
            stack.extend((k, False) for k in n.value)
        elif isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                stack.append((k, False))
                stack.append((v, False))


def _depth_error(path: str, doc: int, limits: Limits) -> LimitExceeded:
    where = f"{path}: document {doc}" if doc else path
    return LimitExceeded(f"{where}: nested deeper than {limits.max_depth} levels (limit max_depth)")


def _data_too_deep(data: Any, limit: int) -> bool:
    """Collections nested deeper than ``limit`` (no aliases here, so no sharing to blow up)."""
    if type(data) is not dict and type(data) is not list:
        return False
    stack = [(data, 1)]
    while stack:
        v, d = stack.pop()
        if d > limit:
            return True
        kids = v.values() if type(v) is dict else v
        for x in kids:
            if type(x) is dict or type(x) is list:
                stack.append((x, d + 1))
    return False


@functools.lru_cache(maxsize=64)
def _indent_run(k: int) -> re.Pattern[str]:
    # a line whose leading indentation and block indicators ("- ", "? ", ": ") span k characters: block
    # nesting can only go one level deeper per such character
    return re.compile(r"[\n\r\x85\u2028\u2029][ \t?:-]{" + str(k) + "}")


def _depth_bound(text: str, start: int, end: int, k: int) -> bool:
    """Cheap and conservative: True when text[start:end] MAY nest deeper than ``k`` collections.

    Block depth is bounded by the leading run of spaces/indicators of a line, flow depth by the number
    of non-empty brackets (plus one empty innermost one).
    """
    opens = (text.count("[", start, end) + text.count("{", start, end)
             - text.count("[]", start, end) - text.count("{}", start, end))
    budget = k - opens - 3
    if budget <= 0:
        return True
    if text[start:start + budget].strip(" \t?:-") == "":
        return True
    return _indent_run(budget).search(text, start, end) is not None


_ANCHOR = re.compile(r"(?:^|[\s\[\]{},])&[^\s\[\]{},]")


def _has_anchors(text: str) -> bool:
    return "&" in text and _ANCHOR.search(text) is not None


# The C composer recurses once per nesting level; parsing runs on a worker thread with a large stack
# so that anything under _COMPOSE_CAP levels is safe, and deeper candidates are pre-scanned by events.
_WORKER_STACK = 256 * 1024 * 1024
_COMPOSE_CAP = 50_000
_INLINE_CAP = 500  # what fits any thread's stack (macOS gives threads 512 KiB)
_worker: ThreadPoolExecutor | None = None
_worker_ident: int | None = None
_worker_lock = threading.Lock()


def _on_big_stack(fn: Callable[..., Any], *args: Any) -> Any:
    """Run ``fn(*args)`` on the big-stack worker (inline where stacks cannot be sized)."""
    global _worker, _worker_ident
    if threading.get_ident() == _worker_ident:
        return fn(*args)
    with _worker_lock:
        if _worker is None:
            try:
                old = threading.stack_size(_WORKER_STACK)
            except (ValueError, RuntimeError):  # platform without settable stacks: stay inline
                return fn(*args)
            try:
                ex = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{OWN_THREAD_PREFIX}yaml")
                _worker_ident = ex.submit(threading.get_ident).result()
            finally:
                threading.stack_size(old)
            _worker = ex
    return _worker.submit(fn, *args).result()


def _event_depth_ok(text: str, limits: Limits) -> bool:
    """Exact nesting depth from the event stream (iterative: never recurses); slow, for rare inputs."""
    loader = _Loader(text)
    starts = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
    ends = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
    depth = 0
    try:
        while loader.check_event():
            ev = loader.get_event()
            if isinstance(ev, starts):
                depth += 1
                if depth > min(limits.max_depth, _COMPOSE_CAP):  # what the composer can take
                    return False
            elif isinstance(ev, ends):
                depth -= 1
    except yaml.YAMLError:
        return True  # the composer will report the syntax error with its line
    finally:
        loader.dispose()
    return True


def _items_lines(node: yaml.Node) -> list[int] | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == "items" and isinstance(v, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in v.value]
    return None


_Doc = tuple[int, Any, "int | None", "list[int] | None", str]


def _yaml_documents(text: str, path: str, limits: Limits) -> list[_Doc]:
    """(document number, data, line, list item lines, error) for each non-empty document of a stream."""
    out = _on_big_stack(_yaml_documents_here, text, path, limits, 0)
    if out is None:  # too deep for even the big stack to compose blindly: check by events first
        if not _event_depth_ok(text, limits):
            raise _depth_error(path, 0, limits)
        out = _on_big_stack(_yaml_documents_here, text, path, limits, 1)
    return out


def _yaml_documents_here(text: str, path: str, limits: Limits, checked: int) -> list[_Doc] | None:
    cap = _COMPOSE_CAP if threading.get_ident() == _worker_ident else _INLINE_CAP
    if not checked and _depth_bound(text, 0, len(text), cap):
        return None
    anchors = _has_anchors(text)
    loader = _Loader(text)
    out: list[_Doc] = []
    doc = 0
    non_empty = 0
    try:
        while True:
            try:
                if not loader.check_node():
                    break
                doc += 1
                node = loader.get_node()
            except yaml.YAMLError as exc:
                out.append((doc or 1, None, _mark_line(exc), None, _yaml_error(exc)))
                return out
            except RecursionError:
                raise _depth_error(path, doc, limits) from None
            if node is None:
                continue
            line = node.start_mark.line + 1
            try:
                if anchors:
                    _node_stats(node, limits, path, doc)
                    data = loader.construct_document(node)
                else:
                    try:
                        data = _fast_construct(loader, node)
                    except _Fallback:
                        data = loader.construct_document(node)
                    if _depth_bound(text, node.start_mark.index, node.end_mark.index, limits.max_depth) \
                            and _data_too_deep(data, limits.max_depth):
                        raise _depth_error(path, doc, limits)
            except yaml.YAMLError as exc:
                out.append((doc, None, line, None, _yaml_error(exc)))
                continue
            except RecursionError:  # e.g. merge keys nested inline without end
                raise _depth_error(path, doc, limits) from None
            except (ValueError, OverflowError) as exc:  # e.g. an integer of 5000 digits
                out.append((doc, None, line, None, f"invalid YAML value: {str(exc).splitlines()[0][:200]}"))
                continue
            finally:
                loader.constructed_objects, loader.recursive_objects, loader.state_generators = {}, {}, []
            if data is None:
                continue
            non_empty += 1
            if non_empty > limits.max_documents:
                raise LimitExceeded(f"{path}: more than {limits.max_documents} documents (limit max_documents)")
            out.append((doc, data, line, _items_lines(node), ""))
    finally:
        loader.dispose()
    return out


def _mark_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    return mark.line + 1 if mark is not None else None


def _yaml_error(exc: yaml.YAMLError) -> str:
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    msg = f"invalid YAML: {problem}"
    if context:
        msg += f" ({context})"
    return msg.replace("\r", "\\r").replace("\n", "\\n")[:300]  # one line, whatever the input holds


def _json_document(text: str, path: str, limits: Limits) -> tuple[bool, Any]:
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return False, None  # maybe YAML flow style or several JSON documents: let the YAML parser say
    if _depth_bound(text, 0, len(text), limits.max_depth) and _data_too_deep(data, limits.max_depth):
        raise _depth_error(path, 1, limits)
    return True, data


def _documents(text: str, path: str, limits: Limits) -> list[_Doc]:
    stripped = text.lstrip()
    if stripped[:1] in ("{", "["):
        ok, data = _on_big_stack(_json_document, text, path, limits)
        if ok:
            return [(1, data, text[: len(text) - len(stripped)].count("\n") + 1, None, "")]
    return _yaml_documents(text, path, limits)


@gc_paused()
def load_texts(texts: Iterable[tuple[str, str]], *, default_namespace: str = "default",
               limits: Limits | None = None, context: ParseContext | None = None) -> Inventory:
    """Parse in-memory (name, text) pairs, e.g. uploads. Same rules as files."""
    limits = limits or Limits()
    ctx = context or ParseContext(default_namespace=default_namespace)
    for name, text in texts:
        if len(text) > limits.max_file_bytes:
            raise LimitExceeded(_too_big(name, limits))
        ctx.inventory.files.append(name)
        _parse_text(ctx, name, text, limits)
    finish(ctx)
    return ctx.inventory


def _parse_text(ctx: ParseContext, path: str, text: str, limits: Limits) -> None:
    for doc, data, line, item_lines, error in _documents(text, path, limits):
        src = SourceRef(file=path, document=doc, line=line)
        if error:
            ctx.issue(src, "", error)
            continue
        parse_objects(ctx, [(data, src)], item_lines=item_lines)


@gc_paused()
def load_manifests(paths: Iterable[str], *, default_namespace: str = "default", limits: Limits | None = None,
                   on_progress: Progress | None = None, context: ParseContext | None = None) -> Inventory:
    """Load manifests from files, directories (recursively) and ``-`` (stdin) into an Inventory.

    Example::

        inv = load_manifests(["sample_policies/"], default_namespace="default")
        inv.load_issues, inv.notices

    Raises ``ManifestError`` (or ``LimitExceeded``) when an input named here cannot be read at all; a
    file found inside a directory that cannot be read becomes a LoadIssue instead.
    """
    limits = limits or Limits()
    ctx = context or ParseContext(default_namespace=default_namespace)
    all_files: list[tuple[str, bool]] = []
    problems: list[tuple[str, str]] = []
    for path in paths:
        files = list(_iter_files(path, limits, problems))
        explicit = len(files) == 1 and files[0] == path
        all_files.extend((f, explicit) for f in files)
    total = len(all_files)
    for i, (f, explicit) in enumerate(all_files):
        if on_progress:
            on_progress("loading", i, total)
        display = "<stdin>" if f == "-" else f
        try:
            text = _decode(display, _read_bytes(f, limits))
            ctx.inventory.files.append(display)
            _parse_text(ctx, display, text, limits)
        except LimitExceeded:
            raise
        except ManifestError as exc:
            if explicit:
                raise
            msg = str(exc)
            ctx.inventory.load_issues.append(LoadIssue(file=display, document=0, field="",
                                                       message=msg[len(display) + 2:] if msg.startswith(display + ": ") else msg))
    for where, msg in problems:
        ctx.inventory.load_issues.append(LoadIssue(file=where, document=0, field="", message=msg))
    if on_progress:
        on_progress("loading", total, total)
    finish(ctx)
    return ctx.inventory


# ---------------------------------------------------------------------------------------------
# Documents → typed objects
# ---------------------------------------------------------------------------------------------

def _type_name(v: Any) -> str:
    if v is None:
        return "null"
    return {dict: "a map", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number"}.get(type(v), type(v).__name__)


def _str_list(v: Any, fld: str, *, allow_null: bool = True) -> tuple[str, ...]:
    if v is None and allow_null:
        return ()
    if not isinstance(v, list):
        raise FieldError(fld, f"must be a list of strings, got {_type_name(v)}")
    for i, item in enumerate(v):
        if not isinstance(item, str):
            raise FieldError(f"{fld}[{i}]", f"must be a string, got {_type_name(item)}")
    return tuple(v)


def _opt_str(d: Mapping[str, Any], key: str, fld: str) -> str:
    v = d.get(key)
    if v is None:
        return ""
    if not isinstance(v, str):
        raise FieldError(fld, f"must be a string, got {_type_name(v)}")
    return v


def _str_map(v: Any, fld: str) -> dict[str, str]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise FieldError(fld, f"must be a map of strings, got {_type_name(v)}")
    for k, val in v.items():
        if not isinstance(k, str):
            raise FieldError(f"{fld}", f"keys must be strings, got {_type_name(k)} {str(k)[:40]!r}")
        if not isinstance(val, str):
            raise FieldError(f"{fld}.{k}", f"must be a string, got {_type_name(val)}")
    return v


def parse_rule(d: Any, fld: str = "rules[0]") -> PolicyRule:
    """A PolicyRule from its JSON shape; missing lists are empty. Raises FieldError on wrong types."""
    if not isinstance(d, dict):
        raise FieldError(fld, f"must be a map, got {_type_name(d)}")
    return PolicyRule(
        verbs=_str_list(d.get("verbs"), f"{fld}.verbs"),
        api_groups=_str_list(d.get("apiGroups"), f"{fld}.apiGroups"),
        resources=_str_list(d.get("resources"), f"{fld}.resources"),
        resource_names=_str_list(d.get("resourceNames"), f"{fld}.resourceNames"),
        non_resource_urls=_str_list(d.get("nonResourceURLs"), f"{fld}.nonResourceURLs"),
    )


def parse_selector(d: Any, fld: str) -> LabelSelector:
    if d is None:
        return LabelSelector()
    if not isinstance(d, dict):
        raise FieldError(fld, f"must be a label selector map, got {_type_name(d)}")
    labels = _str_map(d.get("matchLabels"), f"{fld}.matchLabels")
    exprs_raw = d.get("matchExpressions")
    exprs: list[LabelRequirement] = []
    if exprs_raw is not None:
        if not isinstance(exprs_raw, list):
            raise FieldError(f"{fld}.matchExpressions", f"must be a list, got {_type_name(exprs_raw)}")
        for i, e in enumerate(exprs_raw):
            efld = f"{fld}.matchExpressions[{i}]"
            if not isinstance(e, dict):
                raise FieldError(efld, f"must be a map, got {_type_name(e)}")
            exprs.append(LabelRequirement(key=_opt_str(e, "key", f"{efld}.key"),
                                          operator=_opt_str(e, "operator", f"{efld}.operator"),
                                          values=_str_list(e.get("values"), f"{efld}.values")))
    return LabelSelector(match_labels=tuple(sorted(labels.items())), match_expressions=tuple(exprs))


def parse_subject(d: Any, fld: str) -> Subject:
    if not isinstance(d, dict):
        raise FieldError(fld, f"must be a map, got {_type_name(d)}")
    return Subject(kind=_opt_str(d, "kind", f"{fld}.kind"), name=_opt_str(d, "name", f"{fld}.name"),
                   namespace=_opt_str(d, "namespace", f"{fld}.namespace"),
                   api_group=_opt_str(d, "apiGroup", f"{fld}.apiGroup"))


def _metadata(obj: Mapping[str, Any]) -> tuple[str, str, dict[str, str], dict[str, str]]:
    meta = obj.get("metadata")
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise FieldError("metadata", f"must be a map, got {_type_name(meta)}")
    name = _opt_str(meta, "name", "metadata.name")
    namespace = _opt_str(meta, "namespace", "metadata.namespace")
    labels = _str_map(meta.get("labels"), "metadata.labels")
    annotations = _str_map(meta.get("annotations"), "metadata.annotations")
    return name, namespace, labels, annotations


def parse_objects(ctx: ParseContext, docs: Iterable[tuple[Any, SourceRef]], *,
                  item_lines: list[int] | None = None) -> None:
    """Parse documents (already-loaded JSON-shaped values) into ``ctx.inventory``.

    The live loader hands the API's objects here too, so files and clusters share one parser.
    """
    for data, src in docs:
        _parse_one(ctx, data, src, "", item_lines)


def _parse_one(ctx: ParseContext, data: Any, src: SourceRef, prefix: str, item_lines: list[int] | None,
               list_kind: str = "") -> None:
    if not isinstance(data, dict):
        ctx.issue(src, prefix.rstrip("."), f"document is not a map (got {_type_name(data)})")
        return
    kind = data.get("kind")
    if kind is None and list_kind:
        kind = list_kind
    if kind is None:
        ctx.issue(src, f"{prefix}kind", "missing: every object needs a kind")
        return
    if not isinstance(kind, str) or not kind:
        ctx.issue(src, f"{prefix}kind", f"must be a non-empty string, got {_type_name(kind)}")
        return
    if kind == "List" or (kind.endswith("List") and "items" in data):
        if not prefix and "rbacAnalyzer" in data:
            _snapshot_header(ctx, data["rbacAnalyzer"], src)
        items = data.get("items")
        if items is None:
            return
        if not isinstance(items, list):
            ctx.issue(src, f"{prefix}items", f"must be a list, got {_type_name(items)}")
            return
        inner_kind = "" if kind == "List" else kind[: -len("List")]
        for i, item in enumerate(items):
            line = item_lines[i] if item_lines and i < len(item_lines) and not prefix else src.line
            _parse_one(ctx, item, SourceRef(file=src.file, document=src.document, line=line),
                       f"{prefix}items[{i}].", None, inner_kind)
        return
    try:
        obj = _build(ctx, kind, data, src, prefix)
    except FieldError as exc:
        ctx.issue(src, prefix + exc.field, exc.message)
        return
    _add(ctx, obj, src, prefix)


_MAX_INCOMPLETE = 10_000


def _snapshot_header(ctx: ParseContext, header: Any, src: SourceRef) -> None:
    """A snapshot's ``rbacAnalyzer:`` block → ``inventory.metadata`` and ``inventory.incomplete``."""
    if not isinstance(header, dict):
        ctx.issue(src, "rbacAnalyzer", f"must be a map, got {_type_name(header)}")
        return
    inv = ctx.inventory
    for key in ("clusterVersion", "capturedAt", "context"):
        v = header.get(key)
        if v is None:
            continue
        if not isinstance(v, str):
            ctx.issue(src, f"rbacAnalyzer.{key}", f"must be a string, got {_type_name(v)}")
            continue
        inv.metadata[key] = v[:1000]
    inv.metadata["snapshot"] = src.file
    incomplete = header.get("incomplete")
    if incomplete is None:
        return
    if not isinstance(incomplete, list):
        ctx.issue(src, "rbacAnalyzer.incomplete", f"must be a list of strings, got {_type_name(incomplete)}")
        return
    for i, item in enumerate(incomplete[:_MAX_INCOMPLETE]):
        if not isinstance(item, str):
            ctx.issue(src, f"rbacAnalyzer.incomplete[{i}]", f"must be a string, got {_type_name(item)}")
        elif item[:1000] not in inv.incomplete:
            inv.incomplete.append(item[:1000])


def _build(ctx: ParseContext, kind: str, data: dict[str, Any], src: SourceRef, prefix: str) -> Any:
    api_version = data.get("apiVersion", "")
    if not isinstance(api_version, str):
        raise FieldError("apiVersion", f"must be a string, got {_type_name(api_version)}")
    name, namespace, labels, annotations = _metadata(data)
    if not name:
        ctx.notice("missing-name", src, f"{prefix}metadata.name",
                   f"{kind} has no metadata.name (the API would reject it; loaded as written)")
    if kind in _CLUSTER_SCOPED_KINDS or kind in ("ClusterRole", "ClusterRoleBinding"):
        namespace = ""
    elif not namespace and (kind in _NAMESPACED_KINDS or kind in _RBAC_KINDS):
        namespace = ctx.default_namespace

    if kind in ("Role", "ClusterRole"):
        raw_rules = data.get("rules")
        if raw_rules is None:
            if "rules" in data and data.get("aggregationRule") is None:
                ctx.notice("null-rules", src, f"{prefix}rules", f"{kind} {name} has rules: null (grants nothing)")
            raw_rules = []
        if not isinstance(raw_rules, list):
            raise FieldError("rules", f"must be a list, got {_type_name(raw_rules)}")
        rules = ctx.shared(tuple(ctx.shared(parse_rule(r, f"rules[{i}]")) for i, r in enumerate(raw_rules)))
        for i, r in enumerate(rules):
            if r.non_resource_urls and kind == "Role":
                ctx.notice("url-in-role", src, f"{prefix}rules[{i}].nonResourceURLs",
                           "a Role cannot grant non-resource URLs (the API would reject it; never matches)")
            elif r.non_resource_urls and (r.resources or r.api_groups or r.resource_names):
                ctx.notice("mixed-rule", src, f"{prefix}rules[{i}]",
                           "rule mixes resources and nonResourceURLs (the API would reject it; each half is read alone)")
            if not r.verbs:
                ctx.notice("no-verbs", src, f"{prefix}rules[{i}].verbs", "rule has no verbs (grants nothing)")
        agg_raw = data.get("aggregationRule")
        aggregation: tuple[LabelSelector, ...] | None = None
        if agg_raw is not None:
            if not isinstance(agg_raw, dict):
                raise FieldError("aggregationRule", f"must be a map, got {_type_name(agg_raw)}")
            sels = agg_raw.get("clusterRoleSelectors")
            if sels is not None and not isinstance(sels, list):
                raise FieldError("aggregationRule.clusterRoleSelectors", f"must be a list, got {_type_name(sels)}")
            parsed = tuple(parse_selector(s, f"aggregationRule.clusterRoleSelectors[{i}]")
                           for i, s in enumerate(sels or []))
            if kind == "Role":
                ctx.notice("role-aggregation", src, f"{prefix}aggregationRule",
                           "a namespaced Role cannot aggregate; aggregationRule ignored")
            else:
                aggregation = parsed
        return Role(kind=kind, name=name, namespace=namespace, rules=rules, labels=labels, annotations=annotations,
                    aggregation_rule=aggregation, source=src)

    if kind in ("RoleBinding", "ClusterRoleBinding"):
        ref = data.get("roleRef")
        if ref is None:
            raise FieldError("roleRef", "missing: a binding needs roleRef {kind, name}")
        if not isinstance(ref, dict):
            raise FieldError("roleRef", f"must be a map, got {_type_name(ref)}")
        ref_kind = ref.get("kind")
        ref_name = ref.get("name")
        if not isinstance(ref_kind, str) or not ref_kind:
            raise FieldError("roleRef.kind", "missing or not a string" if ref_kind is None or isinstance(
                ref_kind, str) else f"must be a string, got {_type_name(ref_kind)}")
        if not isinstance(ref_name, str):
            raise FieldError("roleRef.name", "missing" if ref_name is None else
                             f"must be a string, got {_type_name(ref_name)}")
        ref_group = _opt_str(ref, "apiGroup", "roleRef.apiGroup")
        raw_subjects = data.get("subjects")
        if raw_subjects is None:
            if "subjects" in data:
                ctx.notice("null-subjects", src, f"{prefix}subjects", f"{kind} {name} has subjects: null (binds nobody)")
            raw_subjects = []
        if not isinstance(raw_subjects, list):
            raise FieldError("subjects", f"must be a list, got {_type_name(raw_subjects)}")
        subjects = tuple(parse_subject(s, f"subjects[{i}]") for i, s in enumerate(raw_subjects))
        for i, s in enumerate(subjects):
            sf = f"{prefix}subjects[{i}]"
            if s.kind not in ("User", "Group", "ServiceAccount"):
                ctx.notice("unknown-subject-kind", src, f"{sf}.kind",
                           f"subject kind {s.kind!r} matches nobody (kinds are User, Group, ServiceAccount)")
            elif s.kind in ("User", "Group") and not s.api_group:
                ctx.notice("subject-api-group", src, f"{sf}.apiGroup",
                           f"{s.kind} subject {s.name!r} has no apiGroup (defaulted to rbac.authorization.k8s.io)")
            elif s.kind == "ServiceAccount" and not s.namespace and kind == "ClusterRoleBinding":
                ctx.notice("sa-without-namespace", src, f"{sf}.namespace",
                           f"ServiceAccount subject {s.name!r} of a ClusterRoleBinding has no namespace: matches nobody")
        if ref_kind not in ("Role", "ClusterRole"):
            ctx.notice("unsupported-role-ref", src, f"{prefix}roleRef.kind",
                       f'unsupported role reference kind: "{ref_kind}" (grants nothing)')
        elif ref_kind == "Role" and kind == "ClusterRoleBinding":
            ctx.notice("crb-to-role", src, f"{prefix}roleRef.kind",
                       "a ClusterRoleBinding cannot reference a Role (grants nothing)")
        return Binding(kind=kind, name=name, namespace=namespace,
                       role_ref=RoleRef(kind=ref_kind, name=ref_name, api_group=ref_group or "rbac.authorization.k8s.io"),
                       subjects=subjects, labels=labels, annotations=annotations, source=src)

    if kind == "ServiceAccount":
        automount = data.get("automountServiceAccountToken")
        if automount is not None and not isinstance(automount, bool):
            raise FieldError("automountServiceAccountToken", f"must be a boolean, got {_type_name(automount)}")
        secrets_raw = data.get("secrets") or []
        if not isinstance(secrets_raw, list):
            raise FieldError("secrets", f"must be a list, got {_type_name(secrets_raw)}")
        secrets = tuple(s["name"] for s in secrets_raw if isinstance(s, dict) and isinstance(s.get("name"), str))
        return ServiceAccount(name=name, namespace=namespace, automount_token=automount, secrets=secrets,
                              labels=labels, source=src)

    return KubeObject(kind=kind, api_version=api_version, name=name, namespace=namespace, labels=labels,
                      body=data, source=src)


def _add(ctx: ParseContext, obj: Any, src: SourceRef, prefix: str) -> None:
    inv = ctx.inventory
    if isinstance(obj, Role):
        bucket, kind = inv.roles, obj.kind
    elif isinstance(obj, Binding):
        bucket, kind = inv.bindings, obj.kind
    elif isinstance(obj, ServiceAccount):
        bucket, kind = inv.service_accounts, "ServiceAccount"
    else:
        bucket, kind = inv.objects, f"{obj.kind}.{obj.api_group}"
    if obj.name:
        key = (kind, obj.namespace, obj.name)
        prev = ctx._keys.get(key)
        if prev is not None:
            _, idx = prev
            old = bucket[idx]
            bucket[idx] = obj
            where = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
            ctx.notice("duplicate", src, f"{prefix}metadata.name",
                       f"{kind.split('.')[0]} {where} defined again; replaces the one from {old.source}")
            return
        ctx._keys[key] = (kind, len(bucket))
    bucket.append(obj)


def _unreadable(incomplete: list[str], label: str, namespace: str) -> bool:
    """Does ``incomplete`` (as the live loader words it) say these objects could not be read?"""
    for entry in incomplete:
        if entry.startswith((f"{label} (", f"{label} in namespaces other than")):
            return True
        if namespace and entry.startswith(f"{label} in namespace {namespace} ("):
            return True
        if namespace and entry.startswith(f"{label} in ") and " namespaces (forbidden): " in entry and \
                namespace in entry.split(": ", 1)[1].split(", "):
            return True
    return False


def finish(ctx: ParseContext) -> None:
    """Post-load checks over the whole inventory: unknown kinds, unresolvable references."""
    inv = ctx.inventory
    crd_kinds: set[str] = set()
    for o in inv.objects:
        if o.kind == "CustomResourceDefinition":
            names = (o.body.get("spec") or {}).get("names") if isinstance(o.body.get("spec"), dict) else None
            if isinstance(names, dict) and isinstance(names.get("kind"), str):
                crd_kinds.add(names["kind"])
    unknown: dict[str, int] = {}
    first: dict[str, SourceRef] = {}
    workload_like = {"Pod", "Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job", "CronJob",
                     "ReplicationController"}
    for o in inv.objects:
        if o.kind not in _KNOWN_KINDS and o.kind not in crd_kinds and o.kind not in workload_like:
            unknown[o.kind] = unknown.get(o.kind, 0) + 1
            first.setdefault(o.kind, o.source)
    for kind, n in sorted(unknown.items()):
        src = first[kind]
        ctx.notice("unknown-kind", src, "kind",
                   f"kind {kind} is neither built in nor defined by a CRD in the inputs ({n} object(s) kept, not analysed)")
    cluster_roles = {r.name for r in inv.roles if r.kind == "ClusterRole"}
    roles = {(r.namespace, r.name) for r in inv.roles if r.kind == "Role"}
    for b in inv.bindings:
        ref = b.role_ref
        missing = (ref.kind == "ClusterRole" and ref.name not in cluster_roles) or (
            ref.kind == "Role" and b.kind == "RoleBinding" and (b.namespace, ref.name) not in roles)
        if missing:
            where = f"{b.namespace}/{b.name}" if b.namespace else b.name
            unread = _unreadable(inv.incomplete, "clusterroles" if ref.kind == "ClusterRole" else "roles", b.namespace)
            ctx.notice("missing-role", b.source, "roleRef",
                       f"{b.kind} {where} refers to {ref.kind} {ref.name}, which is not in the inputs (grants nothing)"
                       + ("; those roles could not be read from the cluster, so it may exist" if unread else ""))
    # Subjects that do not exist: only judged where the inputs hold that namespace's service accounts.
    sa_namespaces = {s.namespace for s in inv.service_accounts}
    sas = {(s.namespace, s.name) for s in inv.service_accounts}
    for b in inv.bindings:
        for s in b.subjects:
            if s.kind != "ServiceAccount":
                continue
            ns = s.namespace or (b.namespace if b.kind == "RoleBinding" else "")
            if ns in sa_namespaces and s.name != "default" and (ns, s.name) not in sas:
                where = f"{b.namespace}/{b.name}" if b.namespace else b.name
                ctx.notice("missing-subject", b.source, "subjects",
                           f"{b.kind} {where} binds ServiceAccount {ns}/{s.name}, which is not in the inputs")



def read_documents(path: str, *, limits: Limits | None = None) -> list[tuple[int, Any, str]]:
    """Read one file (or ``-``) as raw documents, ``List`` items flattened: [(document, data, error)].

    For inputs that are not policy (e.g. SubjectAccessReview files); same safety limits.
    """
    limits = limits or Limits()
    display = "<stdin>" if path == "-" else path
    if path != "-" and not Path(path).is_file():
        raise ManifestError(f"{path}: no such file")
    text = _decode(display, _read_bytes(path, limits))
    out: list[tuple[int, Any, str]] = []
    for doc, data, _line, _items, error in _documents(text, display, limits):
        if error:
            out.append((doc, None, error))
        elif isinstance(data, dict) and (data.get("kind") == "List" or str(data.get("kind", "")).endswith("List")) \
                and isinstance(data.get("items"), list):
            out.extend((doc, item, "") for item in data["items"])
        else:
            out.append((doc, data, ""))
    return out
