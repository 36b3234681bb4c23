"""A template cannot exhaust a worker: every growing operation is refused before it runs.

Each hostile payload sits on line 3 of an otherwise good body; it must be refused at save
with that line and the reason, quickly, and the sandbox worker that refused it stays warm
(the next render is served by the same process).
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

import pytest
from flask import Flask
from flask_babel import force_locale

from messaging.rendering import TemplateRenderError, render_email, validate_template
from messaging.sandbox_pool import pool

CODE = "loyalty_enrollment"
HEAD = "<p>Hello {{ customer_first_name }},</p>\n<p>Welcome.</p>\n"  # payload on line 3

NUMBER = "The result would be a number with more than 300 digits."
SIZE = "The result would be longer than 100,000 characters or items."
OUTPUT = "The message would be larger than 256 KB."
TIMEOUT = "Rendering took longer than 2 seconds and was stopped."

DOUBLING = (
    "{% set s = customer_first_name %}" + "{% set s = s ~ s %}" * 20 + "<p>{{ s|length }}</p>"
)
#: name -> (payload, reason). Each one builds far more than the limits if it is let run.
HOSTILE = {
    "power tower": ("{{ ((((9**64)**64)**64)**64) > 1 }}", NUMBER),
    "power of a huge exponent": ("{{ 2 ** (10 ** 20) }}", NUMBER),
    "product of big numbers": ("{% set n = 9 ** 200 %}{{ n * n * n }}", NUMBER),
    "string doubling with ~": (DOUBLING, SIZE),
    "string doubling with +": (
        "{% set s = customer_first_name %}" + "{% set s = s + s %}" * 20 + "{{ s|length }}",
        SIZE,
    ),
    "repetition": ("{{ customer_first_name * 1000000000 }}", SIZE),
    "list repetition": ("{{ (['x' * 100000] * 100000)|length }}", SIZE),
    "center": ("{{ customer_first_name|center(1000000000) }}", SIZE),
    "indent": ("{{ ('a' ~ '\\n' * 60000)|indent(100000) }}", SIZE),
    "format filter with a width": ("{{ '%1000000000s'|format(customer_first_name) }}", SIZE),
    "% with a width": ("{{ '%1000000000s' % customer_first_name }}", SIZE),
    "% with a * width": ("{{ '%*s' % (1000000000, customer_first_name) }}", SIZE),
    "replace": ("{{ ('a' * 50000)|replace('a', 'b' * 50000) }}", SIZE),
    "replace of the empty string": ("{{ ('a' * 50000)|replace('', 'bb') }}", SIZE),
    "batch": ("{{ customer_first_name|batch(1000000000, 'x')|list|length }}", SIZE),
    "slice": ("{{ customer_first_name|slice(1000000000, 'x')|list|length }}", SIZE),
    "join": ("{% set s = 'x' * 90000 %}{{ s|list|join(s) }}", SIZE),
    "wordwrap": ("{{ ('x ' * 40000)|wordwrap(1, wrapstring='<br>' * 5000) }}", SIZE),
    "upper of ligatures": ("{{ ('\ufb03' * 40000).upper() }}", SIZE),
    "constant filters joined": ("{{ " + " ~ ".join(["'x'|center(90000)"] * 30) + " }}", SIZE),
    "output": (
        "{% set s = 'x' * 1000 %}{% for a in s %}{% for b in s %}{{ b }}{% endfor %}{% endfor %}",
        OUTPUT,
    ),
    "loop without output": (
        "{% set s = 'x' * 100000 %}{% for a in s %}{% for b in s %}{% endfor %}{% endfor %}",
        TIMEOUT,
    ),
}


@pytest.mark.usefixtures("app_ctx")
@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_payload_is_refused_at_save_with_line_and_reason(name: str) -> None:
    payload, reason = HOSTILE[name]
    started = time.monotonic()

    problems = validate_template(CODE, "Welcome", HEAD + payload + "\n<p>Bye</p>")

    elapsed = time.monotonic() - started
    assert [(p.field, p.line, str(p.message)) for p in problems] == [("body_html", 3, reason)]
    assert elapsed < 3.0, f"{name} took {elapsed:.2f} s to refuse"
    if reason not in {TIMEOUT, OUTPUT}:  # those two are cut off as they run
        assert elapsed < 1.5, f"{name} must be refused before it runs, not cut off"


@pytest.mark.usefixtures("app_ctx")
@pytest.mark.parametrize(
    ("lang", "number", "size"),
    [
        (
            "fr",
            "Le résultat serait un nombre de plus de 300 chiffres.",
            "Le résultat dépasserait 100\u202f000 caractères ou éléments.",
        ),
        (
            "de",
            "Das Ergebnis wäre eine Zahl mit mehr als 300 Ziffern.",
            "Das Ergebnis wäre länger als 100.000 Zeichen oder Elemente.",
        ),
        (
            "lb",
            "D'Resultat wier eng Zuel mat méi wéi 300 Zifferen.",
            "D'Resultat wier méi laang wéi 100.000 Zeechen oder Elementer.",
        ),
    ],
)
def test_the_reason_is_in_the_editors_language(lang: str, number: str, size: str) -> None:
    with force_locale(lang):
        tower = validate_template(CODE, "x", HEAD + HOSTILE["power tower"][0])
        center = validate_template(CODE, "x", HEAD + HOSTILE["center"][0])
    assert [(p.line, str(p.message)) for p in tower] == [(3, number)]
    assert [(p.line, str(p.message)) for p in center] == [(3, size)]


@pytest.mark.usefixtures("app_ctx")
def test_limits_leave_ordinary_templates_alone() -> None:
    body = (
        HEAD
        + "{% set s = customer_first_name ~ ' ' %}{{ (s * 5000)|length }}"
        + "{{ customer_first_name|center(40) }}{{ 'x\\ny'|indent(8) }}"
        + "{{ '%-20s|' % customer_first_name }}{{ '%05d'|format(42) }}"
        + "{{ (customer_first_name|list)|join(', ') }}{{ 'a b c'|wordwrap(3) }}"
        + "{{ 2 ** 100 }} {{ 7 * 6 }} {{ 10 // 3 }} {{ customer_first_name.upper() }}"
    )
    assert validate_template(CODE, "Hi {{ customer_first_name|title }}", body) == []
    rendered = render_email("Hi", body, "", {"customer_first_name": "Léa"})
    assert "20000" in rendered.body_html
    assert "1267650600228229401496703205376" in rendered.body_html
    assert "LÉA" in rendered.body_html


@pytest.mark.usefixtures("app_ctx")
def test_a_method_without_parentheses_is_refused_at_save_and_prints_nothing_at_send() -> None:
    body = HEAD + "<p>{{ customer_first_name.upper }}</p>"

    problems = validate_template(CODE, "x", body)
    assert [(p.line, str(p.message)) for p in problems] == [
        (3, "“.upper” is a method: write “.upper()” to use it.")
    ]

    # A template written before this check existed: the method prints as nothing.
    rendered = render_email(
        "{{ customer_first_name.lower }}",
        body + "{% set m = customer_first_name.strip %}{{ [m] }}{{ m ~ '' }}",
        "",
        {"customer_first_name": "Léa"},
    )
    for text in (rendered.subject, rendered.body_html, rendered.body_text):
        assert "built-in" not in text
        assert "0x" not in text
    assert "<p></p>[]" in rendered.body_html


@pytest.mark.usefixtures("app_ctx")
def test_at_run_time_attributes_and_calls_stay_closed() -> None:
    # The static checks would refuse these; here the sandbox itself is tested.
    for source in (
        "{{ customer_first_name.__class__ }}",
        "{% set f = customer_first_name.format %}{{ f }}",
        "{{ customer_first_name|attr('upper') }}",
        "{{ customer_first_name|tojson }}",
    ):
        with pytest.raises(TemplateRenderError) as refused:
            render_email("x", source, "", {"customer_first_name": "Léa"})
        assert "not allowed" in refused.value.message


def _worker_pid() -> int:
    assert pool._idle, "a worker is kept warm"
    return pool._idle[-1].process.pid


@pytest.mark.usefixtures("app_ctx")
def test_a_refusal_or_a_timeout_keeps_the_worker_warm() -> None:
    render_email("x", "<p>warm up</p>", "", {})
    pid = _worker_pid()

    with pytest.raises(TemplateRenderError):
        render_email("x", HOSTILE["power tower"][0], "", {})
    with pytest.raises(TemplateRenderError) as stopped:
        render_email("x", HOSTILE["loop without output"][0], "", {})
    assert stopped.value.message == TIMEOUT
    assert stopped.value.line == 1

    assert render_email("x", "<p>{{ 1 + 1 }}</p>", "", {}).body_html == "<p>2</p>"
    assert _worker_pid() == pid, "no fresh interpreter per render"


@pytest.mark.usefixtures("app_ctx")
def test_the_worker_runs_under_cpu_and_memory_limits() -> None:
    render_email("x", "<p>hi</p>", "", {})
    limits = Path(f"/proc/{_worker_pid()}/limits").read_text()
    lines = {line[:26].strip(): line[26:].split() for line in limits.splitlines()[1:]}
    assert lines["Max address space"][0] == str(512 * 1024 * 1024)
    cpu_soft = lines["Max cpu time"][0]
    assert cpu_soft != "unlimited"
    assert int(cpu_soft) <= 60


def test_a_worker_that_stops_answering_is_killed_and_replaced(
    app: Flask, app_ctx: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "TEMPLATE_RENDER_TIMEOUT", 0.5)
    render_email("x", "<p>hi</p>", "", {})
    frozen = _worker_pid()
    os.kill(frozen, signal.SIGSTOP)  # as stuck as a C-level loop would leave it
    try:
        started = time.monotonic()
        with pytest.raises(TemplateRenderError) as stopped:
            render_email("x", "<p>hi</p>", "", {})
        elapsed = time.monotonic() - started
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(frozen, signal.SIGCONT)
    assert "stopped" in stopped.value.message
    assert elapsed < 2.0, "budget (0.5 s) and one grace second"
    with pytest.raises(ProcessLookupError):
        os.kill(frozen, 0)  # killed and reaped
    assert render_email("x", "<p>back</p>", "", {}).body_html == "<p>back</p>"
    assert _worker_pid() != frozen


@pytest.mark.usefixtures("app_ctx")
def test_a_forked_process_starts_its_own_workers() -> None:
    # gunicorn and Huey's process workers fork: the parent's workers and pipes are not theirs.
    render_email("x", "<p>hi</p>", "", {})
    parents_worker = _worker_pid()
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        try:
            body = render_email("x", "<p>{{ 6 * 7 }}</p>", "", {}).body_html
            os.write(write_end, f"{body} {_worker_pid()}".encode())
        finally:
            os._exit(0)
    os.close(write_end)
    _, status = os.waitpid(child, 0)
    with os.fdopen(read_end, "rb") as answer:
        body, childs_worker = answer.read().decode().split()
    assert os.waitstatus_to_exitcode(status) == 0
    assert body == "<p>42</p>"
    assert int(childs_worker) != parents_worker
    # The parent's worker is untouched and still serves the parent.
    assert render_email("x", "<p>ok</p>", "", {}).body_html == "<p>ok</p>"
    assert _worker_pid() == parents_worker
