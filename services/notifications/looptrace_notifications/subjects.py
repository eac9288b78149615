"""A notification's subject when it is stored, with its templates checked against its values.

A notification whose templates cannot be rendered is refused when its event arrives, not when
its mail is due. Whether a context renders depends on which values it has and how templates
branch on them, not on the texts themselves: so both templates are rendered once per *shape*
of context (its keys, each value's type and truthiness, nested; the exact value of names a
template compares) and the verdict is kept; the subject line alone is rendered per
notification. A template that compares a name it binds itself (a loop variable) is rendered in
full each time.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from functools import cache
from typing import Any

import jinja2
from jinja2 import meta, nodes

from looptrace_notifications.domain.errors import NotificationRuleViolation
from looptrace_notifications.rendering import _environment, _with_derived, render

# what a shape was found to give: None (renders) or the refusal (its class and message)
Verdict = tuple[type[NotificationRuleViolation], str] | None


class _Verdicts(dict[Hashable, Verdict]):
    """At most ``limit`` verdicts: the oldest goes first (a dict keeps insertion order)."""

    def keep(self, key: Hashable, verdict: Verdict, limit: int) -> None:
        self[key] = verdict
        while len(self) > limit:
            del self[next(iter(self))]


_VERDICTS = _Verdicts()
_UNKNOWN: Any = object()


def subject(notification_type: str, context: Mapping[str, Any], cache_entries: int) -> str:
    """The subject ``render`` would give; raises what ``render`` would (``cache_entries``:
    how many context shapes' verdicts are kept)."""
    plan = _plan(notification_type)
    key = _key(notification_type, context, plan[0]) if plan is not None else None
    verdict = _VERDICTS.get(key, _UNKNOWN) if key is not None else _UNKNOWN
    if verdict is _UNKNOWN:
        try:
            rendered = render(notification_type, context)
        except NotificationRuleViolation as err:
            if key is not None:
                _VERDICTS.keep(key, (type(err), str(err)), cache_entries)
            raise
        if key is not None:
            _VERDICTS.keep(key, None, cache_entries)
        return rendered.subject
    if verdict is not None:
        raise verdict[0](verdict[1])
    assert plan is not None
    _, line, derived = plan
    values = _with_derived(context) if derived else context
    # the context as the template's own (``shared``): not merged with the globals each time
    text = "".join(
        line.root_render_func(
            line.new_context(values if isinstance(values, dict) else dict(values), shared=True)
        )
    )
    return text.partition("\n")[0].strip()


def _key(kind: str, context: Mapping[str, Any], compared: tuple[str, ...]) -> Hashable:
    try:
        exact = tuple([context.get(n) for n in compared])
        hash(exact)
    except TypeError:
        return None
    return (kind, _shape(context), exact)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _shape(value: Any) -> Hashable:
    kind = type(value)
    if kind is dict or (kind not in _SCALARS and isinstance(value, Mapping)):
        return tuple(
            [
                (k, (t, bool(v))) if (t := type(v)) in _SCALARS else (k, _shape(v))
                for k, v in value.items()
            ]
        )
    if kind in _SCALARS:
        return (kind, bool(value))
    if isinstance(value, list | tuple):
        return ("[]", frozenset(_shape(v) for v in value))
    return (kind, bool(value))


@cache
def _plan(kind: str) -> tuple[tuple[str, ...], jinja2.Template, bool] | None:
    """The names the type's templates compare, its subject line as a template of its own and
    whether that line uses a derived value (``_with_derived``); ``None`` when the templates
    must be rendered in full each time."""
    env = _environment()
    try:
        compared = frozenset().union(*(_compared(env, f"{kind}.{k}.j2") for k in ("txt", "html")))
        source = env.loader.get_source(env, f"{kind}.txt.j2")[0]  # type: ignore[union-attr]
    except (jinja2.TemplateNotFound, _Unsure):
        return None
    first = source.partition("\n")[0]
    if "{%" in first or "{#" in first:  # a statement may span lines: not a line of its own
        return None
    used = meta.find_undeclared_variables(env.parse(first))
    derived = bool(used & _DERIVED)
    return tuple(sorted(compared)), env.from_string(first), derived


# what ``_with_derived`` adds to a context
_DERIVED = frozenset(
    {"inspection_title", "inspection_lot", "timeline_url", "buyer_name", "supplier_name"}
)


class _Unsure(Exception):
    """A template compares a name it binds itself: its verdict depends on more than a shape."""


def _compared(env: jinja2.Environment, name: str) -> set[str]:
    names: set[str] = set()
    todo, seen = [name], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        tree = env.parse(env.loader.get_source(env, current)[0])  # type: ignore[union-attr]
        bound = {n.name for t in tree.find_all((nodes.For, nodes.Assign)) for n in _targets(t)}
        for compare in tree.find_all(nodes.Compare):
            used = {n.name for n in compare.find_all(nodes.Name)}
            if used & bound:
                raise _Unsure(current)
            names |= used
        todo += [t for t in meta.find_referenced_templates(tree) if t]
    return names


def _targets(node: nodes.Node) -> list[nodes.Name]:
    target = getattr(node, "target", None)
    if target is None:
        return []
    return (
        [target, *target.find_all(nodes.Name)]
        if isinstance(target, nodes.Name)
        else list(target.find_all(nodes.Name))
    )
