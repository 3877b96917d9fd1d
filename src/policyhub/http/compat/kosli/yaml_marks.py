"""Where a field of an uploaded policy YAML sits in the file, so validation errors can name the line.

The policy type reports schema errors by field path (``artifacts.attestations.0.type``); Kosli users
edit a file, so the dialect adds ``line L, column C`` to each such error. Only called on the error
path, for text that the type has already parsed safely (one document, no aliases).
"""

from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def locate(source: str, path: list[str]) -> tuple[int, int] | None:
    """1-based (line, column) of the node at ``path``, or of its deepest existing ancestor."""
    try:
        node = yaml.compose(source, Loader=_Loader)
    except (yaml.YAMLError, RecursionError):
        return None
    if node is None:
        return None
    mark = node.start_mark
    for part in path:
        child = _child(node, part)
        if child is None:
            break
        key_node, node = child
        mark = (key_node or node).start_mark
    return mark.line + 1, mark.column + 1


def _child(node: Node, part: str) -> tuple[Node | None, Node] | None:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if getattr(key, "value", None) == part:
                return key, value
        return None
    if isinstance(node, SequenceNode) and part.isdigit() and int(part) < len(node.value):
        return None, node.value[int(part)]
    return None
