"""Safe YAML loading that refuses tags, alias bombs, huge or deep input and duplicate keys.

Every node's line is kept (by JSON-pointer path) so later errors can name the line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from service.playbooks.model import PlaybookError, ValidationIssue

MAX_BYTES = 256 * 1024
MAX_ALIASES = 20
MAX_DEPTH = 32
MAX_NODES = 20_000
_MERGE_TAG = "tag:yaml.org,2002:merge"
_STR_TAG = "tag:yaml.org,2002:str"

Path = tuple[str | int, ...]


def pointer(path: Path) -> str:
    """The JSON pointer (RFC 6901) for a path of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _line(mark: Any) -> int:
    """The 1-based line of a YAML mark (0 when the parser gave none)."""
    return mark.line + 1 if mark is not None else 0


@dataclass
class LineMap:
    """1-based lines of every value (and of every mapping key) by path."""

    values: dict[Path, int] = field(default_factory=dict)
    keys: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path, *, key: bool = False) -> int:
        """The line of `path` (its key's line if `key`), else of its nearest known ancestor."""
        if key and path in self.keys:
            return self.keys[path]
        path = tuple(path)
        while path:
            if path in self.values:
                return self.values[path]
            path = path[:-1]
        return self.values.get((), 1)


class _Refused(Exception):
    def __init__(self, rule: str, message: str, mark: Any, path: Path = ()) -> None:
        super().__init__(message)
        self.rule, self.message, self.path = rule, message, path
        self.line = mark if isinstance(mark, int) else mark.line + 1


class _Loader(yaml.SafeLoader):
    """A SafeLoader whose composer refuses explicit tags, many aliases and deep nesting."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._aliases = 0
        self._depth = 0
        self.alias_lines: dict[tuple[int, int], int] = {}  # (id(parent), index) -> alias line

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            self._aliases += 1
            if parent is not None and index is not None:
                slot = index if isinstance(index, int) else id(index)
                self.alias_lines[(id(parent), slot)] = _line(event.start_mark)
            if self._aliases > MAX_ALIASES:
                raise _Refused(
                    "too-many-aliases",
                    f"more than {MAX_ALIASES} aliases (*name): refused as a possible alias bomb",
                    event.start_mark,
                )
        elif getattr(event, "tag", None) is not None:
            raise _Refused(
                "unsafe-tag",
                f"explicit YAML tag {event.tag!r} is not allowed in a playbook",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _Refused(
                    "too-deep", f"nesting deeper than {MAX_DEPTH} levels", event.start_mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _Builder:
    """Turns a composed node tree into plain data, recording lines and checking keys."""

    def __init__(self, loader: _Loader) -> None:
        self.loader = loader
        self.lines = LineMap()
        self.count = 0

    def build(self, node: yaml.Node, path: Path, alias: int | None = None) -> Any:
        """Plain data for `node`; `alias` is the line of the alias being expanded, if any."""
        line = alias or node.start_mark.line + 1
        self.count += 1
        if self.count > MAX_NODES or len(path) > MAX_DEPTH:
            raise _Refused(
                "too-many-nodes",
                f"the document expands to more than {MAX_NODES} nodes or {MAX_DEPTH} levels "
                "(alias bomb?)",
                line,
                path,
            )
        self.lines.values.setdefault(path, line)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, alias)
        if isinstance(node, yaml.SequenceNode):
            aliases = self.loader.alias_lines
            return [
                self.build(item, (*path, i), aliases.get((id(node), i), alias))
                for i, item in enumerate(node.value)
            ]
        return self.loader.construct_object(node, deep=True)

    def _mapping(self, node: yaml.MappingNode, path: Path, alias: int | None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                raise _Refused(
                    "merge-key", "merge keys (<<) are not supported", key_node.start_mark, path
                )
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _STR_TAG:
                shown = key_node.value if isinstance(key_node, yaml.ScalarNode) else "a collection"
                raise _Refused(
                    "non-string-key",
                    f"mapping keys must be strings, got {shown!r} (quote it)",
                    key_node.start_mark,
                    path,
                )
            key = key_node.value
            child = (*path, key)
            if key in result:
                first = self.lines.keys[child]
                raise _Refused(
                    "duplicate-key",
                    f"key {key!r} appears twice in one mapping (first on line {first})",
                    key_node.start_mark,
                    child,
                )
            self.lines.keys[child] = alias or key_node.start_mark.line + 1
            alias_line = self.loader.alias_lines.get((id(node), id(key_node)), alias)
            result[key] = self.build(value_node, child, alias_line)
        return result


def load_yaml(text: str, name: str) -> tuple[Any, LineMap]:
    """Parse one YAML document safely; return (data, lines) or raise PlaybookError."""
    size = len(text.encode("utf-8", errors="surrogatepass"))
    if size > MAX_BYTES:
        raise PlaybookError(
            [ValidationIssue(name, 1, "file-too-large", f"{size} bytes; the limit is {MAX_BYTES}")]
        )
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise PlaybookError([ValidationIssue(name, 1, "empty-file", "the file is empty")])
        builder = _Builder(loader)
        data = builder.build(node, ())
    except _Refused as refused:
        issue = ValidationIssue(
            name, refused.line, refused.rule, refused.message, pointer(refused.path)
        )
        raise PlaybookError([issue]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = "; ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise PlaybookError([ValidationIssue(name, line, "yaml-syntax", message)]) from None
    except yaml.YAMLError as exc:
        raise PlaybookError([ValidationIssue(name, 1, "yaml-syntax", str(exc))]) from None
    except RecursionError:
        raise PlaybookError(
            [ValidationIssue(name, 1, "too-deep", "the document is nested too deeply")]
        ) from None
    finally:
        loader.dispose()
    return data, builder.lines
