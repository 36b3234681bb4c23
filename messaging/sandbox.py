"""The Jinja2 sandbox for editable email templates, and the limits it enforces.

This module imports nothing but Jinja2, because it also runs in the sandbox worker processes
(:mod:`messaging.sandbox_worker`), which stay small and hold no application state.

Every operation that can build a large value is checked *before* it runs: a result that
would be an integer of more than :data:`MAX_INT_DIGITS` digits, or a string or list of more
than :data:`MAX_SIZE` items, raises :class:`SandboxLimit` instead. That covers the operators
(``+ - * / // % **`` through :meth:`EmailSandbox.call_binop`, ``~`` through a code generator
that routes it to :meth:`EmailSandbox.guarded_concat`), every filter (each is wrapped, see
:func:`_guard_filters`) and the few string methods a template may call. A big-integer
operation is the one single step of Python that can run for seconds, and it is refused
beforehand; everything else is cut off by the worker's time budget.

Filters are wrapped as ``pass_context`` functions on purpose: Jinja never evaluates those at
compile time, so a filter call cannot be folded into a constant behind the checks' back.
"""

from __future__ import annotations

import contextlib
import operator
import re
from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.compiler import CodeGenerator, Frame, optimizeconst
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import _PassArg, pass_context

from platform_core.i18n_lb import lb_n_rule

#: Longest string or list (items, counted through nested lists) an operation may build.
MAX_SIZE = 100_000
#: Largest integer an operation may build, in decimal digits.
MAX_INT_DIGITS = 300
_MAX_INT_BITS = int(MAX_INT_DIGITS * 3.3219) + 1
#: Longest template source accepted (each of subject, HTML body, text body).
MAX_SOURCE_LENGTH = 100_000
#: String methods a template may call; none reaches anything but the string.
ALLOWED_METHODS = frozenset({"upper", "lower", "title", "capitalize", "strip", "lstrip", "rstrip"})
#: Filters that look up attributes by name (a way round the attribute check) or print the
#: internals of what they are given.
FORBIDDEN_FILTERS = frozenset(
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
        "pprint",
        "tojson",
    }
)


class SandboxLimit(SecurityError):
    """An operation was refused because its result would exceed a limit.

    :ivar code: ``"number"`` (integer too large), ``"size"`` (string or list too long) or
        ``"output"`` (the rendered message too large); the caller words it.
    """

    def __init__(self, code: str) -> None:
        super().__init__(f"limit exceeded: {code}")
        self.code = code


# --- measuring -------------------------------------------------------------------------


def size_of(value: Any) -> int:
    """The size of ``value`` in the units the limits use; stops counting past the limit.

    A string counts its characters, an integer its decimal digits, a list or tuple its items
    plus the size of each (so ``[s] * n`` counts ``n`` times ``s``), a dict its keys and values.
    """
    if isinstance(value, str):
        return len(value)
    if isinstance(value, bool) or not isinstance(value, int | list | tuple | dict):
        return 1
    if isinstance(value, int):
        return value.bit_length() * 30103 // 100000 + 1
    items: Iterable[Any] = value.items() if isinstance(value, dict) else value
    total = len(value)
    for item in items:
        total += size_of(item)
        if total > MAX_SIZE:
            break
    return total


def check_size(size: int) -> None:
    if size > MAX_SIZE:
        raise SandboxLimit("size")


def _check_int_bits(bits: int) -> None:
    if bits > _MAX_INT_BITS:
        raise SandboxLimit("number")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_number_result(name: str, left: Any, right: Any) -> None:
    """Refuse an integer operation whose result would have too many digits."""
    if not (_is_int(left) or isinstance(left, bool)) or not (
        _is_int(right) or isinstance(right, bool)
    ):
        return
    bits_left, bits_right = int(left).bit_length(), int(right).bit_length()
    if name in {"+", "-"}:
        _check_int_bits(max(bits_left, bits_right) + 1)
    elif name == "*":
        _check_int_bits(bits_left + bits_right)
    elif (
        name == "**"
        and right > 0
        and abs(left) > 1
        # Compared bit by bit so that even a huge exponent costs nothing to check.
        and (bits_right > 64 or bits_left * int(right) > _MAX_INT_BITS)
    ):
        raise SandboxLimit("number")


_FORMAT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?[hlL]?[a-zA-Z%]")
#: Room for what one ``%`` conversion prints beyond its width (``%f`` of 1e308: 316 chars).
_CONVERSION_ROOM = 400


def check_format(template: str, values: Any) -> None:
    """Refuse ``template % values`` when its result could exceed the size limit."""
    if isinstance(values, dict):
        arguments = list(values.values())
    elif isinstance(values, tuple):
        arguments = list(values)
    else:
        arguments = [values]
    specs = _FORMAT_SPEC.findall(template)
    widest = 0
    for width, precision in specs:
        for part in (width, precision):
            if part == "*":
                widest = max([widest] + [abs(a) for a in arguments if _is_int(a)])
            elif part:
                if len(part) > 6:
                    raise SandboxLimit("size")
                widest = max(widest, int(part))
    largest = max((size_of(a) for a in arguments), default=0)
    check_size(len(template) + len(specs) * (widest + largest + _CONVERSION_ROOM))


def _case_growth(text: str) -> int:
    # Case mapping can turn one character into up to three ("ﬃ".upper() == "FFI"), but only
    # outside ASCII.
    return len(text) + 2 * (len(text) - len(text.encode("ascii", "ignore")))


# --- the string methods ------------------------------------------------------------------


class SafeMethod:
    """A string method as a template sees it: callable, and printing as nothing.

    ``{{ name.upper }}`` would otherwise print ``<built-in method upper of str object at
    0x7f...>``, a memory address.
    """

    __slots__ = ("_name", "_text")

    def __init__(self, text: str, name: str) -> None:
        self._text = text
        self._name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if self._name in {"upper", "lower", "title", "capitalize"}:
            check_size(_case_growth(self._text))
        return getattr(self._text, self._name)(*args, **kwargs)

    def __str__(self) -> str:
        return ""

    __repr__ = __str__

    def __html__(self) -> str:
        return ""


# --- filters -------------------------------------------------------------------------


def _strings(value: Any) -> int:
    return size_of(value) if isinstance(value, str) else 3 * size_of(value)


def _lines(text: Any) -> int:
    return str(text).count("\n") + 1 if isinstance(text, str) else size_of(text)


def _pre_center(value: Any, width: int = 80) -> None:
    check_size(max(_strings(value), int(width)))


def _pre_indent(s: Any, width: Any = 4, first: bool = False, blank: bool = False) -> None:
    pad = len(width) if isinstance(width, str) else int(width)
    check_size(_strings(s) + (_lines(s) + 1) * max(pad, 0))


def _pre_format(value: Any, *args: Any, **kwargs: Any) -> None:
    if isinstance(value, str):
        check_format(value, kwargs or tuple(args))


def _pre_replace(s: Any, old: Any, new: Any, count: Any = None) -> None:
    text, old, new = str(s), str(old), str(new)
    check_size(len(text))
    found = len(text) + 1 if old == "" else text.count(old)
    if count is not None:
        found = min(found, max(int(count), 0))
    check_size(len(text) + found * max(len(new) - len(old), 0))


def _pre_batch(value: Any, linecount: Any, fill_with: Any = None) -> None:
    padding = int(linecount) * max(size_of(fill_with), 1) if fill_with is not None else 0
    check_size(size_of(value) + max(int(linecount), 0) + padding)


def _pre_slice(value: Any, slices: Any, fill_with: Any = None) -> None:
    padding = int(slices) * max(size_of(fill_with), 1) if fill_with is not None else 0
    check_size(size_of(value) + max(int(slices), 0) + padding)


def _pre_join(value: Any, d: Any = "", attribute: Any = None) -> None:
    if not isinstance(value, list | tuple | str):
        return
    check_size(sum(_strings(item) for item in value) + max(len(value) - 1, 0) * len(str(d)))


def _pre_wordwrap(
    s: Any,
    width: Any = 79,
    break_long_words: bool = True,
    wrapstring: Any = None,
    break_on_hyphens: bool = True,
) -> None:
    text = str(s)
    check_size(len(text))
    breaks = min(len(text), len(text) // max(int(width), 1) + text.count(" ") + text.count("\n"))
    check_size(len(text) + (breaks + 1) * len(wrapstring if wrapstring is not None else "\n"))


def _pre_truncate(
    s: Any,
    length: Any = 255,
    killwords: bool = False,
    end: Any = "...",
    leeway: Any = None,
) -> None:
    check_size(_strings(s) + len(str(end)))


def _pre_case(s: Any) -> None:
    check_size(_case_growth(str(s)) if isinstance(s, str) else 3 * size_of(s))


def _pre_escape(s: Any) -> None:
    # "&" becomes "&amp;", '"' becomes "&#34;": at most five characters for one.
    check_size(5 * _strings(s))


def _pre_urlencode(value: Any) -> None:
    # One character is at most four UTF-8 bytes, each "%XX".
    check_size(12 * _strings(value))


def _pre_urlize(value: Any, *args: Any, **kwargs: Any) -> None:
    text = str(value)
    check_size(len(text) * 3 + 128 * (text.count(" ") + text.count("\n") + 1))


def _pre_int(value: Any, default: Any = 0, base: Any = 10) -> None:
    if isinstance(value, str) and len(value.strip()) > MAX_INT_DIGITS:
        raise SandboxLimit("number")


def _pre_value(value: Any, *args: Any, **kwargs: Any) -> None:
    check_size(_strings(value))


#: What each filter that can grow a value must check before it runs (filters that return
#: something no larger than their input only get the check on their result).
_PRE_CHECKS: dict[str, Callable[..., None]] = {
    "center": _pre_center,
    "indent": _pre_indent,
    "format": _pre_format,
    "replace": _pre_replace,
    "batch": _pre_batch,
    "slice": _pre_slice,
    "join": _pre_join,
    "wordwrap": _pre_wordwrap,
    "truncate": _pre_truncate,
    "upper": _pre_case,
    "lower": _pre_case,
    "title": _pre_case,
    "capitalize": _pre_case,
    "escape": _pre_escape,
    "e": _pre_escape,
    "forceescape": _pre_escape,
    "urlencode": _pre_urlencode,
    "urlize": _pre_urlize,
    "int": _pre_int,
    "list": _pre_value,
    "string": _pre_value,
    "reverse": _pre_value,
}


def _forbidden_filter(name: str) -> Callable[..., Any]:
    @pass_context
    def refuse(context: Context, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError(f"the filter {name!r} is not allowed")

    return refuse


def _guarded_filter(name: str, original: Callable[..., Any]) -> Callable[..., Any]:
    pre_check = _PRE_CHECKS.get(name)
    pass_arg = _PassArg.from_obj(original)

    @pass_context
    def guarded(context: Context, *args: Any, **kwargs: Any) -> Any:
        if pre_check is not None:
            # Wrong arguments are let through: the filter itself says what is wrong.
            with contextlib.suppress(TypeError, ValueError, OverflowError):
                pre_check(*args, **kwargs)
        if pass_arg is _PassArg.context:
            result = original(context, *args, **kwargs)
        elif pass_arg is _PassArg.eval_context:
            result = original(context.eval_ctx, *args, **kwargs)
        elif pass_arg is _PassArg.environment:
            result = original(context.environment, *args, **kwargs)
        else:
            result = original(*args, **kwargs)
        check_size(size_of(result))
        return result

    return guarded


def _guard_filters(filters: dict[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    return {
        name: _forbidden_filter(name) if name in FORBIDDEN_FILTERS else _guarded_filter(name, f)
        for name, f in filters.items()
    }


# --- the environment -----------------------------------------------------------------------


class _GuardedCodeGenerator(CodeGenerator):
    """Jinja's code generator, with ``~`` going through :meth:`EmailSandbox.guarded_concat`."""

    @optimizeconst
    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"environment.guarded_concat({join}, (")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


_BINOPS: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "//": operator.floordiv,
    "%": operator.mod,
    "**": operator.pow,
}


class EmailSandbox(ImmutableSandboxedEnvironment):
    """The sandbox: no globals, string methods only, and every growing operation checked."""

    code_generator_class = _GuardedCodeGenerator
    intercepted_binops = frozenset(_BINOPS)

    def call_binop(self, context: Context, operator_name: str, left: Any, right: Any) -> Any:
        _check_number_result(operator_name, left, right)
        if operator_name == "*":
            for seq, count in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and _is_int(count):
                    check_size(size_of(seq) * max(count, 0))
        elif operator_name == "+" and isinstance(left, str | list | tuple):
            check_size(size_of(left) + size_of(right))
        elif operator_name == "%" and isinstance(left, str):
            check_format(left, right)
        result = _BINOPS[operator_name](left, right)
        check_size(size_of(result))
        return result

    def guarded_concat(self, join: Callable[[Any], str], items: tuple[Any, ...]) -> str:
        check_size(sum(_strings(item) for item in items))
        result = join(items)
        check_size(len(result))
        return result

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Undefined):
            return super().getattr(obj, attribute)
        if isinstance(obj, str) and attribute in ALLOWED_METHODS:
            return SafeMethod(obj, attribute)
        raise SecurityError(f"access to attribute {attribute!r} is not allowed")

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Undefined):
            return super().getitem(obj, argument)
        sequence_index = isinstance(obj, str | list | tuple) and isinstance(argument, int | slice)
        if sequence_index or (isinstance(obj, dict) and not str(argument).startswith("_")):
            try:
                return obj[argument]
            except (IndexError, KeyError, TypeError):
                return self.undefined(obj=obj, name=argument)
        raise SecurityError("index access is not allowed")

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        if isinstance(__obj, SafeMethod):
            return __obj(*args, **kwargs)
        raise SecurityError("calling this is not allowed")


def make_env(*, autoescape: bool) -> EmailSandbox:
    env = EmailSandbox(
        autoescape=autoescape,
        undefined=StrictUndefined,
        keep_trailing_newline=True,
        auto_reload=False,
        cache_size=0,
    )
    # range, lipsum, cycler, joiner, namespace, dict: none is needed by an email, and each is
    # one more object a template could poke at.
    env.globals.clear()
    # ``{{ "vun"|n_rule(merchant_name) }}``: the Luxembourgish n-rule before an inserted name.
    env.filters["n_rule"] = lb_n_rule
    env.filters = _guard_filters(env.filters)
    return env


#: HTML bodies are autoescaped: a customer named ``<script>`` stays text.
html_env = make_env(autoescape=True)
#: Subjects and text bodies are plain text.
text_env = make_env(autoescape=False)
