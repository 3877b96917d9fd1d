"""Safe loading of policy YAML: one document, no aliases, no duplicate keys, no Python tags, size-capped."""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode

from policyhub.errors import InvalidInput

MAX_SOURCE_BYTES = 10 * 1024 * 1024  # Kosli's documented policy file limit
MAX_DEPTH = 64
MAX_NODES = 50_000  # a real policy has a few hundred; this bounds parsing time


# libyaml's parser when available: the pure-Python one takes tens of seconds on a 1 MiB document.
_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe loader (no Python tags) that also refuses duplicate mapping keys."""

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                raise ConstructorError(None, None, "mapping keys must be scalars", key_node.start_mark) from None
            if duplicate:
                raise ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


def _prescan(source: str) -> None:
    """Reject aliases (billion laughs), several documents and deep nesting before building anything."""
    depth = documents = 0
    for count, event in enumerate(yaml.parse(source, Loader=_BaseLoader)):
        problem = None
        if count > MAX_NODES:
            problem = f"YAML document has more than {MAX_NODES} nodes"
        elif isinstance(event, yaml.AliasEvent):
            problem = "YAML aliases (*name) are not allowed"
        elif isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            problem = "multiple YAML documents are not allowed; send exactly one" if documents > 1 else None
        elif isinstance(event, _OPEN):
            depth += 1
            problem = "YAML nests too deeply" if depth > MAX_DEPTH else None
        elif isinstance(event, _CLOSE):
            depth -= 1
        if problem:
            mark: Any = event.start_mark
            raise yaml.MarkedYAMLError(None, None, problem, mark)


def load_yaml_mapping(source: Any, field: str = "source") -> dict[str, Any]:
    """Parse ``source`` as a single YAML document whose root is a mapping, or raise InvalidInput."""
    if not isinstance(source, str):
        raise InvalidInput.field(field, "must be YAML text")
    if len(source) > MAX_SOURCE_BYTES or len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        raise InvalidInput.field(field, f"YAML larger than {MAX_SOURCE_BYTES} bytes")
    try:
        _prescan(source)
        data = yaml.load(source, Loader=_StrictLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        raise InvalidInput.field(field, _describe(exc)) from None
    except yaml.YAMLError as exc:
        raise InvalidInput.field(field, f"invalid YAML: {exc}") from None
    except RecursionError:
        raise InvalidInput.field(field, "YAML nests too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a timestamp such as 2024-13-45
        raise InvalidInput.field(field, f"invalid YAML value: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput.field(field, "the YAML document must be a mapping (key: value pairs)")
    return data


def dump_yaml(data: dict[str, Any]) -> str:
    """Render ``data`` as block-style YAML, keys in their given order."""
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)


def _describe(exc: yaml.MarkedYAMLError) -> str:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "invalid YAML"
    if "nesting depth" in problem:  # libyaml >= 0.2.5 stops at its own depth limit before our scan does
        problem = "YAML nests too deeply"
    if mark is None:
        return f"invalid YAML: {problem}"
    return f"invalid YAML at line {mark.line + 1}, column {mark.column + 1}: {problem}"
