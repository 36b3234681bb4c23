"""Sandboxed rendering and validation of editable email templates.

Merchants and platform staff edit templates, so a template is untrusted code. It is checked
statically when it is saved (:func:`validate_template`, which reports what is wrong and on
which line), then rendered with sample values; every send renders it again. Rendering never
happens in this process: it runs in a sandbox worker process (:mod:`messaging.sandbox_pool`)
with a time budget, CPU and memory limits, and the checks of :mod:`messaging.sandbox` that
refuse any operation whose result would be too large before it runs. A template that
slipped past validation still cannot reach Python internals or exhaust a worker: it fails
the send instead, with the reason and the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from flask import current_app, has_app_context
from flask_babel import format_decimal
from jinja2 import TemplateSyntaxError, meta, nodes

from messaging.catalog import get_spec
from messaging.html_text import html_to_text
from messaging.sandbox import (
    ALLOWED_METHODS,
    FORBIDDEN_FILTERS,
    MAX_INT_DIGITS,
    MAX_SIZE,
    MAX_SOURCE_LENGTH,
    html_env,
    text_env,
)
from messaging.sandbox_pool import SandboxUnavailable, pool
from platform_core.i18n_lazy import _

#: Longest string or list an expression may build (``'x' * 10**9`` would exhaust memory).
MAX_BUILT_LENGTH = MAX_SIZE
#: Largest rendered message (subject and bodies together), in bytes of UTF-8.
MAX_OUTPUT_BYTES = 256 * 1024
#: Names Jinja defines by itself that give a template a handle on its own machinery.
_RESERVED_NAMES = frozenset({"self", "caller", "varargs", "kwargs", "loop", "super"})
#: String methods that are harmless and occasionally useful in a template.
_ALLOWED_ATTRIBUTES = ALLOWED_METHODS
#: Filters that look up attributes by name; with them a template bypasses the attribute check.
_FORBIDDEN_FILTERS = FORBIDDEN_FILTERS
#: Statement nodes that need other templates or define reusable code.
_FORBIDDEN_NODES: dict[type[nodes.Node], str] = {
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.Block: "block",
}


class TemplateProblem(NamedTuple):
    """One reason a template cannot be saved. ``line`` is 1-based, or ``None``."""

    field: str
    line: int | None
    message: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    body_html: str
    body_text: str


class TemplateRenderError(Exception):
    """A template could not be rendered (syntax, unknown variable, sandbox refusal, limit).

    :ivar field: ``subject``, ``body_html``, ``body_text`` (or ``code``: no template).
    :ivar message: the reason, in the current locale.
    :ivar line: the template line, when known.
    """

    def __init__(self, field: str, message: str, line: int | None = None) -> None:
        where = _("Line %(line)s: %(message)s", line=line, message=message) if line else message
        super().__init__(f"{field}: {where}")
        self.field = field
        self.message = message
        self.line = line


# --- validation -------------------------------------------------------------------------


def _field_label(field: str) -> str:
    return {"subject": _("Subject"), "body_html": _("HTML body"), "body_text": _("Text body")}.get(
        field, field
    )


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _number(value: int) -> str:
    return format_decimal(value) if has_app_context() else str(value)


def _problems_in_source(
    field: str, source: str, allowed: frozenset[str], *, html: bool
) -> list[TemplateProblem]:
    env = html_env if html else text_env
    if len(source) > MAX_SOURCE_LENGTH:
        return [
            TemplateProblem(
                field,
                None,
                _(
                    "A template part can be at most %(limit)s characters long.",
                    limit=_number(MAX_SOURCE_LENGTH),
                ),
            )
        ]
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as exc:
        return [
            TemplateProblem(
                field, exc.lineno, _("Syntax error: %(reason)s", reason=exc.message or "")
            )
        ]
    except RecursionError:
        return [TemplateProblem(field, None, _("Syntax error: %(reason)s", reason="nesting"))]

    problems: list[TemplateProblem] = []
    assigned = {n.name for n in _walk(ast) if isinstance(n, nodes.Name) and n.ctx != "load"}
    undeclared = meta.find_undeclared_variables(ast) | _RESERVED_NAMES
    # A method is fine when called (``name.upper()``); on its own it would print nothing.
    called = {id(n.node) for n in _walk(ast) if isinstance(n, nodes.Call)}
    reported: set[tuple[str, int]] = set()

    def add(line: int | None, message: str, key: str) -> None:
        if (key, line or 0) not in reported:
            reported.add((key, line or 0))
            problems.append(TemplateProblem(field, line, message))

    for node in _walk(ast):
        if isinstance(node, nodes.Name) and node.ctx == "load":
            name = node.name
            if name in _RESERVED_NAMES:
                add(
                    node.lineno,
                    _("“%(name)s” is not available in email templates.", name=name),
                    name,
                )
            elif name in undeclared and name not in allowed and name not in assigned:
                add(node.lineno, _("Unknown variable “%(name)s”.", name=name), name)
        elif isinstance(node, nodes.Getattr):
            if node.attr not in _ALLOWED_ATTRIBUTES:
                add(
                    node.lineno,
                    _(
                        "Attribute access “.%(attr)s” is not allowed in email templates.",
                        attr=node.attr,
                    ),
                    "." + node.attr,
                )
            elif id(node) not in called:
                add(
                    node.lineno,
                    _("“.%(attr)s” is a method: write “.%(attr)s()” to use it.", attr=node.attr),
                    "." + node.attr,
                )
        elif isinstance(node, nodes.Getitem):
            add(node.lineno, _("Index access with [...] is not allowed in email templates."), "[]")
        elif isinstance(node, nodes.Filter | nodes.Test):
            if node.name in _FORBIDDEN_FILTERS:
                add(
                    node.lineno,
                    _("The filter “%(name)s” is not allowed in email templates.", name=node.name),
                    "|" + node.name,
                )
            elif isinstance(node, nodes.Filter) and node.name not in env.filters:
                add(node.lineno, _("Unknown filter “%(name)s”.", name=node.name), "|" + node.name)
            elif isinstance(node, nodes.Test) and node.name not in env.tests:
                add(node.lineno, _("Unknown test “%(name)s”.", name=node.name), "is " + node.name)
        elif isinstance(node, nodes.Const) and isinstance(node.value, str):
            if node.value.startswith("_"):
                add(node.lineno, _("Names starting with an underscore are not allowed."), "_")
        elif (
            isinstance(node, nodes.Const)
            and isinstance(node.value, int)
            and len(str(abs(node.value))) > MAX_INT_DIGITS
        ):
            add(node.lineno, _limit_message("number"), "number")
        else:
            for node_type, keyword in _FORBIDDEN_NODES.items():
                if isinstance(node, node_type):
                    add(
                        node.lineno,
                        _("“%(keyword)s” is not allowed in email templates.", keyword=keyword),
                        keyword,
                    )
    return sorted(problems, key=lambda p: p.line or 0)


def validate_template(
    code: str, subject: str, body_html: str, body_text: str = ""
) -> list[TemplateProblem]:
    """Everything that stops these sources from being saved as a template of ``code``.

    Checks syntax, variables against the catalog, attribute and item access, forbidden
    statements and filters, then renders with the catalog's sample values in the sandbox so
    anything the static checks missed (a limit reached, the time budget exceeded) is caught
    too, with its line. Messages are in the current locale.

    :param code: the template code, declared in :mod:`messaging.catalog`.
    :param subject: the subject template (one line).
    :param body_html: the HTML body template.
    :param body_text: the text body template; empty means derived from the HTML.
    :return: the problems, in field order; empty when the template can be saved.
    """
    allowed = get_spec(code).variable_names
    problems: list[TemplateProblem] = []
    if not subject.strip():
        problems.append(TemplateProblem("subject", None, _("The subject cannot be empty.")))
    elif "\n" in subject.strip() or "\r" in subject:
        problems.append(TemplateProblem("subject", None, _("The subject must be one line.")))
    if not body_html.strip():
        problems.append(TemplateProblem("body_html", None, _("The HTML body cannot be empty.")))
    for field, source, html in (
        ("subject", subject, False),
        ("body_html", body_html, True),
        ("body_text", body_text, False),
    ):
        problems.extend(_problems_in_source(field, source, allowed, html=html))
    if problems:
        return problems
    # The static checks passed; a trial render catches what they cannot see.
    sample = {name: "Sample" for name in allowed}
    try:
        _render_parts(
            [
                ("subject", subject, False),
                ("body_html", body_html, True),
                ("body_text", body_text, False),
            ],
            sample,
        )
    except TemplateRenderError as exc:
        problems.append(TemplateProblem(exc.field, exc.line, exc.message))
    except SandboxUnavailable:
        problems.append(
            TemplateProblem(
                "body_html", None, _("The template could not be checked now. Try again shortly.")
            )
        )
    return problems


# --- rendering --------------------------------------------------------------------------


def _limit_message(code: str, reason: str = "") -> str:
    """The reason a sandbox worker gave (``code``), in the current locale."""
    budget = _setting("TEMPLATE_RENDER_TIMEOUT", 2.0)
    messages = {
        "number": lambda: _(
            "The result would be a number with more than %(digits)s digits.",
            digits=_number(MAX_INT_DIGITS),
        ),
        "size": lambda: _(
            "The result would be longer than %(limit)s characters or items.",
            limit=_number(MAX_SIZE),
        ),
        "output": lambda: _(
            "The message would be larger than %(size)s KB.", size=_number(MAX_OUTPUT_BYTES // 1024)
        ),
        "timeout": lambda: _(
            "Rendering took longer than %(seconds)s seconds and was stopped.",
            seconds=_number(int(budget)) if budget == int(budget) else str(budget),
        ),
        "stopped": lambda: _("Rendering was stopped: it needed more time or memory than allowed."),
        "memory": lambda: _("Rendering needed more memory than allowed and was stopped."),
        "not_allowed": lambda: _(
            "The template tried something not allowed: %(reason)s", reason=reason
        ),
        "undefined": lambda: _("Unknown variable: %(reason)s", reason=reason),
        "syntax": lambda: _("Syntax error: %(reason)s", reason=reason),
    }
    found = messages.get(code)
    return found() if found is not None else (reason or code)


def _setting(name: str, default: Any) -> Any:
    return current_app.config.get(name, default) if has_app_context() else default


def _render_parts(parts: list[tuple[str, str, bool]], context: Mapping[str, str]) -> dict[str, str]:
    """Render ``parts`` (field, source, html) in a sandbox worker, within one budget.

    :raises TemplateRenderError: a part cannot be rendered; the reason is localized.
    :raises SandboxUnavailable: no sandbox worker could be reached (not the template's fault).
    """
    answer = pool.render(
        parts,
        {key: str(value) for key, value in context.items()},
        budget=float(_setting("TEMPLATE_RENDER_TIMEOUT", 2.0)),
        max_output=MAX_OUTPUT_BYTES,
        size=int(_setting("TEMPLATE_SANDBOX_WORKERS", 2)),
        memory_mb=int(_setting("TEMPLATE_SANDBOX_MEMORY_MB", 512)),
    )
    if answer["ok"]:
        return answer["parts"]
    raise TemplateRenderError(
        answer.get("field") or "body_html",
        _limit_message(answer["code"], answer.get("reason") or ""),
        answer.get("line"),
    )


def render_source(
    source: str, context: Mapping[str, str], *, html: bool, field: str = "body"
) -> str:
    """Render one template source in the sandbox; any failure is a :class:`TemplateRenderError`."""
    return _render_parts([(field, source, html)], context)[field]


def render_email(
    subject: str, body_html: str, body_text: str, context: Mapping[str, str]
) -> RenderedEmail:
    """Render a template's three parts with ``context`` in the sandbox (one worker round trip).

    The subject is folded onto one line; an empty text body is derived from the HTML.

    :raises TemplateRenderError: the template cannot be rendered.
    :raises SandboxUnavailable: no sandbox worker could be reached; retrying may help.
    """
    parts = [("subject", subject, False), ("body_html", body_html, True)]
    if body_text.strip():
        parts.append(("body_text", body_text, False))
    rendered = _render_parts(parts, context)
    # Only ASCII whitespace is folded: a French non-breaking space before "!" stays.
    rendered_subject = re.sub(r"[ \t\r\n\f\v]+", " ", rendered["subject"]).strip()
    rendered_html = rendered["body_html"]
    rendered_text = (
        rendered["body_text"] if "body_text" in rendered else html_to_text(rendered_html)
    )
    return RenderedEmail(rendered_subject, rendered_html, rendered_text)
