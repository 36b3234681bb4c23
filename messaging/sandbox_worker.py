"""A sandbox worker process: renders templates under a time budget and CPU and memory limits.

Started by :mod:`messaging.sandbox_pool` as ``python -m messaging.sandbox_worker``; it reads
requests from stdin and answers on stdout, one JSON document each, prefixed by its length.
It imports only Jinja2 and :mod:`messaging.sandbox`, so it starts in a fraction of a second
and a template cannot reach the application (no database, no configuration, no secrets).

The limits, from the innermost to the outermost:

- every growing operation is checked before it runs (:mod:`messaging.sandbox`);
- the output is counted as it is produced and refused past ``max_output`` bytes;
- ``SIGALRM`` stops a render after ``budget`` seconds of wall-clock time, between two Python
  steps, so the template line being run is known;
- ``RLIMIT_CPU`` kills the process if that ever fails (a long C-level step), a few seconds
  of CPU later; ``RLIMIT_AS`` bounds its memory, so a huge allocation is a ``MemoryError``.

The pool also kills a worker that does not answer in time, so a render cannot hold anything
for longer than its budget and a grace second.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import resource
import signal
import struct
import sys
from collections import OrderedDict
from types import FrameType, GeneratorType, TracebackType
from typing import Any, BinaryIO, cast

from jinja2 import Template, TemplateSyntaxError
from jinja2.exceptions import SecurityError, TemplateError, UndefinedError

from messaging.sandbox import SandboxLimit, html_env, text_env

_HEADER = struct.Struct(">I")
#: Compiled templates kept per worker; a send renders the same few templates over and over.
_CACHE_SIZE = 256
_cache: OrderedDict[tuple[bool, str], Template] = OrderedDict()


class RenderTimeout(BaseException):
    """The time budget ran out (a BaseException, so no ``except Exception`` swallows it)."""


def _on_alarm(signum: int, frame: FrameType | None) -> None:
    raise RenderTimeout


def _compiled(source: str, html: bool) -> Template:
    key = (html, hashlib.sha256(source.encode("utf-8")).hexdigest())
    template = _cache.get(key)
    if template is None:
        template = (html_env if html else text_env).from_string(source)
        _cache[key] = template
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    else:
        _cache.move_to_end(key)
    return template


def _template_line(template: Template | None, tb: TracebackType | None) -> int | None:
    """The template line of the innermost template frame of a traceback."""
    line = None
    while tb is not None:
        if template is not None and tb.tb_frame.f_code.co_filename == "<template>":
            line = template.get_corresponding_lineno(tb.tb_lineno)
        tb = tb.tb_next
    return line


def _render_one(
    template: Template, context: dict[str, Any], room: int
) -> tuple[str, int | None, int]:
    """Render, counting UTF-8 bytes; past ``room`` the render stops with the current line."""
    # Jinja types root_render_func as an Iterator; it is a generator function, and the
    # generator's frame and close() are what stop the render at the right line.
    generator = cast(
        "GeneratorType[str, None, None]", template.root_render_func(template.new_context(context))
    )
    pieces: list[str] = []
    used = 0
    for piece in generator:
        used += len(piece.encode("utf-8", "surrogatepass"))
        if used > room:
            frame = generator.gi_frame
            line = template.get_corresponding_lineno(frame.f_lineno) if frame else None
            generator.close()
            raise _OutputTooLarge(line)
        pieces.append(piece)
    return "".join(pieces), None, used


class _OutputTooLarge(Exception):
    def __init__(self, line: int | None) -> None:
        super().__init__("output too large")
        self.line = line


def _failure(field: str, code: str, line: int | None = None, reason: str = "") -> dict[str, Any]:
    return {"ok": False, "field": field, "code": code, "line": line, "reason": reason}


def render_request(request: dict[str, Any]) -> dict[str, Any]:
    """Render every part of ``request`` (in order) within one budget and one output cap."""
    context = request["context"]
    room = int(request["max_output"])
    budget = float(request["budget"])
    rendered: dict[str, str] = {}
    field = ""
    template: Template | None = None
    used_cpu = resource.getrusage(resource.RUSAGE_SELF)
    cpu_so_far = used_cpu.ru_utime + used_cpu.ru_stime
    # The soft limit can be raised again later (up to the hard one), so it follows the CPU
    # this process has used: this render gets its budget plus two seconds, then SIGXCPU.
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = math.ceil(cpu_so_far + budget) + 2
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    signal.setitimer(signal.ITIMER_REAL, budget)
    try:
        for field, source, html in request["parts"]:
            template = None
            template = _compiled(source, bool(html))
            text, _, used = _render_one(template, context, room)
            room -= used
            rendered[field] = text
    except RenderTimeout as exc:
        return _failure(field, "timeout", _template_line(template, exc.__traceback__))
    except _OutputTooLarge as exc:
        return _failure(field, "output", exc.line)
    except SandboxLimit as exc:
        return _failure(field, exc.code, _template_line(template, exc.__traceback__))
    except SecurityError as exc:
        return _failure(field, "not_allowed", _template_line(template, exc.__traceback__), str(exc))
    except UndefinedError as exc:
        return _failure(field, "undefined", _template_line(template, exc.__traceback__), str(exc))
    except TemplateSyntaxError as exc:
        return _failure(field, "syntax", exc.lineno, exc.message or "")
    except MemoryError:
        return _failure(field, "memory")
    except (TemplateError, Exception) as exc:
        # Whatever else a template can provoke (TypeError, ZeroDivisionError, ...) is its own
        # failure, never the worker's.
        line = _template_line(template, exc.__traceback__)
        return _failure(field, "error", line, str(exc) or exc.__class__.__name__)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return {"ok": True, "parts": rendered}


def _read(stream: BinaryIO, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = stream.read(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def _send(stream: BinaryIO, message: dict[str, Any]) -> None:
    body = json.dumps(message, ensure_ascii=False).encode("utf-8", "surrogatepass")
    stream.write(_HEADER.pack(len(body)) + body)
    stream.flush()


def main() -> None:
    memory_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 512
    limit = memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    signal.signal(signal.SIGALRM, _on_alarm)
    # The protocol owns the original stdout; anything printed by mistake goes to stderr.
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    _send(answers, {"ok": True, "ready": True})
    while True:
        header = _read(requests, _HEADER.size)
        if header is None:
            return  # the parent closed the pipe or exited
        body = _read(requests, _HEADER.unpack(header)[0])
        if body is None:
            return
        try:
            answer = render_request(json.loads(body))
        except MemoryError:
            answer = _failure("", "memory")
        _send(answers, answer)


if __name__ == "__main__":
    main()
