"""Sandboxed rendering and validation of editable email templates.

Merchants and platform staff edit templates, so a template is untrusted code. It is parsed by
an immutable Jinja2 sandbox with no globals and strict undefined handling, both when it is
saved (:func:`validate_template`, which also reports what is wrong and on which line) and when
it is sent (:func:`render_email`), so a template that slipped past validation still cannot
reach Python internals: it fails the send instead.

Compiled templates are cached by source hash: a send renders the same few templates over and
over, and compiling is far slower than rendering.
"""

from __future__ import annotations

import hashlib
import operator
import re
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from messaging.catalog import get_spec
from messaging.html_text import html_to_text
from platform_core.i18n_lazy import _

#: Longest string or list an expression may build (``'x' * 10**9`` would exhaust memory).
MAX_BUILT_LENGTH = 100_000
#: Names Jinja defines by itself that give a template a handle on its own machinery.
_RESERVED_NAMES = frozenset({"self", "caller", "varargs", "kwargs", "loop", "super"})
#: String methods that are harmless and occasionally useful in a template.
_ALLOWED_ATTRIBUTES = frozenset(
    {"upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip"}
)
#: Filters that look up attributes by name; with them a template bypasses the attribute check.
_FORBIDDEN_FILTERS = frozenset(
    {
        "attr",
        "map",
        "selectattr",
        "rejectattr",
        "groupby",
        "sort",
        "sum",
        "unique",
        "min",
        "max",
        "dictsort",
        "xmlattr",
    }
)
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


class _EmailSandbox(ImmutableSandboxedEnvironment):
    """The sandbox, with no globals and a cap on strings built by ``*`` and ``**``."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int | float) and abs(right) > 64:
                raise SecurityError("exponent too large")
            return operator.pow(left, right)
        result_length = 0
        for seq, count in ((left, right), (right, left)):
            if isinstance(seq, str | list | tuple) and isinstance(count, int):
                result_length = len(seq) * count
        if result_length > MAX_BUILT_LENGTH:
            raise SecurityError("result too long")
        return operator.mul(left, right)


def _make_env(autoescape: bool) -> _EmailSandbox:
    env = _EmailSandbox(
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=0,
    )
    # range, lipsum, cycler, joiner, namespace, dict: none is needed by an email, and each is
    # one more object a template could poke at.
    env.globals.clear()
    return env


#: HTML bodies are autoescaped: a customer named ``<script>`` stays text.
html_env = _make_env(autoescape=True)
#: Subjects and text bodies are plain text.
text_env = _make_env(autoescape=False)


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
    """A template could not be rendered (syntax, unknown variable, sandbox refusal)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# --- compiled template cache ------------------------------------------------------------


class _CompiledCache:
    """A small thread-safe LRU of compiled templates keyed by (kind, source hash)."""

    def __init__(self, maxsize: int = 256) -> None:
        self.maxsize = maxsize
        self._items: OrderedDict[tuple[bool, str], Template] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, source: str, *, html: bool) -> Template:
        key = (html, hashlib.sha256(source.encode("utf-8")).hexdigest())
        with self._lock:
            template = self._items.get(key)
            if template is not None:
                self._items.move_to_end(key)
                return template
        template = (html_env if html else text_env).from_string(source)
        with self._lock:
            self._items[key] = template
            if len(self._items) > self.maxsize:
                self._items.popitem(last=False)
        return template

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


compiled_templates = _CompiledCache()


# --- validation -------------------------------------------------------------------------


def _field_label(field: str) -> str:
    return {"subject": _("Subject"), "body_html": _("HTML body"), "body_text": _("Text body")}.get(
        field, field
    )


def _walk(node: nodes.Node) -> Iterator[nodes.Node]:
    yield node
    for child in node.iter_child_nodes():
        yield from _walk(child)


def _problems_in_source(
    field: str, source: str, allowed: frozenset[str], *, html: bool
) -> list[TemplateProblem]:
    env = html_env if html else text_env
    try:
        ast = env.parse(source)
    except TemplateSyntaxError as exc:
        return [
            TemplateProblem(
                field, exc.lineno, _("Syntax error: %(reason)s", reason=exc.message or "")
            )
        ]

    problems: list[TemplateProblem] = []
    assigned = {n.name for n in _walk(ast) if isinstance(n, nodes.Name) and n.ctx != "load"}
    undeclared = meta.find_undeclared_variables(ast) | _RESERVED_NAMES
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
        elif (
            isinstance(node, nodes.Const)
            and isinstance(node.value, str)
            and node.value.startswith("_")
        ):
            add(node.lineno, _("Names starting with an underscore are not allowed."), "_")
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
    anything the static checks missed is caught too. Messages are in the current locale.

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
    for field, source, html in (
        ("subject", subject, False),
        ("body_html", body_html, True),
        ("body_text", body_text, False),
    ):
        try:
            render_source(source, sample, html=html, field=field)
        except TemplateRenderError as exc:
            problems.append(TemplateProblem(field, None, exc.message))
    return problems


# --- rendering --------------------------------------------------------------------------


def render_source(
    source: str, context: Mapping[str, str], *, html: bool, field: str = "body"
) -> str:
    """Render one template source in the sandbox; any failure is a :class:`TemplateRenderError`."""
    try:
        template = compiled_templates.get(source, html=html)
        return template.render(context)
    except SecurityError as exc:
        raise TemplateRenderError(
            field, _("The template tried something not allowed: %(reason)s", reason=str(exc))
        ) from exc
    except UndefinedError as exc:
        raise TemplateRenderError(
            field, _("Unknown variable: %(reason)s", reason=str(exc))
        ) from exc
    except TemplateSyntaxError as exc:
        raise TemplateRenderError(
            field,
            _(
                "Syntax error on line %(line)s: %(reason)s",
                line=exc.lineno,
                reason=exc.message or "",
            ),
        ) from exc
    except (TemplateError, TypeError, ValueError, ArithmeticError, RecursionError) as exc:
        raise TemplateRenderError(field, str(exc) or exc.__class__.__name__) from exc


def render_email(
    subject: str, body_html: str, body_text: str, context: Mapping[str, str]
) -> RenderedEmail:
    """Render a template's three parts with ``context`` in the sandbox.

    The subject is folded onto one line; an empty text body is derived from the HTML.

    :raises TemplateRenderError: the template cannot be rendered.
    """
    # Only ASCII whitespace is folded: a French non-breaking space before "!" stays.
    rendered_subject = re.sub(
        r"[ \t\r\n\f\v]+", " ", render_source(subject, context, html=False, field="subject")
    ).strip()
    rendered_html = render_source(body_html, context, html=True, field="body_html")
    if body_text.strip():
        rendered_text = render_source(body_text, context, html=False, field="body_text")
    else:
        rendered_text = html_to_text(rendered_html)
    return RenderedEmail(rendered_subject, rendered_html, rendered_text)
