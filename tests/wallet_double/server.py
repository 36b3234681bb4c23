"""A real HTTP server on 127.0.0.1 playing Google: OAuth token endpoint + Wallet Objects API.

- ``POST /token``: the JWT-bearer grant a service account sends. The assertion's signature is
  checked with the test key's public certificate, its audience and scope too; the answer is
  an access token the API then requires.
- ``loyaltyClass`` and ``loyaltyObject`` insert (POST), get (GET), patch (PATCH) and update
  (PUT) under ``/walletobjects/v1/``, routed from the discovery document's paths. Bodies are
  validated against its schemas (400 with the problems), a duplicate insert answers 409, an
  unknown id 404.
- Switches (faults), each for the next N calls matching an operation and/or resource id:
  :meth:`WalletDouble.fail_next` answers with a status (503, 400, 409, ...), optional
  headers and Google error reasons; :meth:`WalletDouble.rate_limit_next` answers 429 with
  ``Retry-After``; :meth:`WalletDouble.quota_exceeded_next` answers 403 with the reason
  ``quotaExceeded`` (or another); :meth:`WalletDouble.hang_next` holds calls unanswered
  until the client times out (or :meth:`stop`).
- :attr:`WalletDouble.requests` records every call (method, path, operation, body, status,
  arrival time on the monotonic clock).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from google.auth import exceptions as auth_exceptions
from google.auth import jwt

from tests.wallet_double.schema import discovery, validate

WALLET_SCOPE = "https://www.googleapis.com/auth/wallet_object.issuer"
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
#: google-auth always addresses its assertion to Google's token endpoint, whatever token_uri
#: the request goes to; Google accepts that audience, and so do we (or our own URL).
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
_RESOURCES = {"loyaltyclass": "LoyaltyClass", "loyaltyobject": "LoyaltyObject"}
_METHODS = ("insert", "get", "patch", "update")


@dataclass
class Recorded:
    method: str
    path: str
    #: ``token`` or ``<resource>.<method>``, e.g. ``loyaltyObject.insert``.
    operation: str
    body: Any
    status: int = 0
    #: The LoyaltyClass/LoyaltyObject id the call is about (URL or body).
    resource_id: str | None = None
    #: ``time.monotonic()`` when the call arrived.
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Fault:
    operation: str | None
    resource_id: str | None
    remaining: int
    status: int | None  # None: hang until released
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()


@dataclass
class _Route:
    http_method: str
    pattern: re.Pattern[str]
    operation: str
    schema: str
    method: str


def _routes() -> list[_Route]:
    routes = []
    for resource, schema in _RESOURCES.items():
        for name in _METHODS:
            spec = discovery()["resources"][resource]["methods"][name]
            regex = re.escape("/" + spec["path"]).replace(r"\{resourceId\}", r"(?P<rid>[^/]+)")
            routes.append(
                _Route(
                    spec["httpMethod"],
                    re.compile(f"^{regex}$"),
                    f"{schema[0].lower()}{schema[1:]}.{name}",
                    schema,
                    name,
                )
            )
    return routes


@dataclass
class WalletDouble:
    """The server and its state; start with :meth:`start`, stop with :meth:`stop`."""

    public_cert_pem: str
    service_account_email: str
    requests: list[Recorded] = field(default_factory=list)
    classes: dict[str, dict[str, Any]] = field(default_factory=dict)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._release = threading.Event()
        self._routes = _routes()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self.api_base = f"{self.base_url}/walletobjects/v1"
        self.token_uri = f"{self.base_url}/token"
        # A short poll interval keeps stop() (one per test) quick.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    def start(self) -> WalletDouble:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- switches --------------------------------------------------------------------------
    def fail_next(
        self,
        count: int,
        status: int = 503,
        operation: str | None = None,
        message: str = "",
        resource_id: str | None = None,
        headers: dict[str, str] | None = None,
        reasons: tuple[str, ...] = (),
    ) -> None:
        """Answer the next ``count`` API calls matching ``operation`` (all when None) and
        ``resource_id`` (the id in the URL or body; any when None) with ``status``, the
        extra response ``headers`` and Google's ``error.errors[].reason`` list. The token
        endpoint is never affected unless ``operation='token'``."""
        with self._lock:
            self._faults.append(
                _Fault(
                    operation,
                    resource_id,
                    count,
                    status,
                    message or f"injected failure {status}",
                    dict(headers or {}),
                    tuple(reasons),
                )
            )

    def rate_limit_next(
        self,
        count: int,
        retry_after: str | float | None,
        operation: str | None = None,
        resource_id: str | None = None,
    ) -> None:
        """429 Too Many Requests, with ``Retry-After`` when given (seconds or an HTTP date)."""
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        self.fail_next(
            count,
            429,
            operation,
            "Quota exceeded for quota metric 'Write requests'",
            resource_id,
            headers,
            ("rateLimitExceeded",),
        )

    def quota_exceeded_next(
        self,
        count: int,
        reason: str = "quotaExceeded",
        operation: str | None = None,
        resource_id: str | None = None,
    ) -> None:
        """403 with Google's error ``reason`` (``quotaExceeded``, ``forbidden``, ...)."""
        self.fail_next(
            count,
            403,
            operation,
            f"The request was refused ({reason})",
            resource_id,
            None,
            (reason,),
        )

    def hang_next(
        self, count: int, operation: str | None = None, resource_id: str | None = None
    ) -> None:
        """Hold the next ``count`` matching calls without answering until :meth:`stop`."""
        with self._lock:
            self._faults.append(_Fault(operation, resource_id, count, None))

    def calls(self, operation: str | None = None) -> list[Recorded]:
        """Recorded API calls (token requests excluded unless asked for)."""
        return [
            r
            for r in self.requests
            if (r.operation == operation if operation else r.operation != "token")
        ]

    def _take_fault(self, operation: str, resource_id: str | None) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                matches = fault.operation == operation or (
                    fault.operation is None and operation != "token"
                )
                if fault.resource_id is not None and fault.resource_id != resource_id:
                    matches = False
                if matches and fault.remaining > 0:
                    fault.remaining -= 1
                    return fault
        return None

    # -- behaviour -------------------------------------------------------------------------
    def handle(
        self, method: str, path: str, headers: Any, raw: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if path == "/token" and method == "POST":
            record = Recorded(method, path, "token", parse_qs(raw.decode()))
        else:
            route, match = self._match(method, path)
            if route is None:
                self.requests.append(Recorded(method, path, "unknown", None, 404))
                return 404, _error(404, f"no such endpoint: {method} {path}"), {}
            try:
                body = json.loads(raw) if raw else None
            except ValueError:
                body = raw.decode(errors="replace")
            record = Recorded(
                method,
                path,
                route.operation,
                body,
                resource_id=match.groupdict().get("rid")
                or (body.get("id") if isinstance(body, dict) else None),
            )
        self.requests.append(record)
        fault = self._take_fault(record.operation, record.resource_id)
        if fault is not None and fault.status is None:
            self._release.wait()
            record.status = 599
            return 503, _error(503, "released"), {}
        if fault is not None:
            record.status = fault.status or 0
            return record.status, _error(record.status, fault.message, fault.reasons), fault.headers
        if record.operation == "token":
            status, answer = self._token(record.body)
        else:
            status, answer = self._api(route, match, headers, record.body)
        record.status = status
        return status, answer, {}

    def _match(self, method: str, path: str) -> tuple[Any, Any]:
        for route in self._routes:
            match = route.pattern.match(path)
            if match and route.http_method == method:
                return route, match
        return None, None

    def _token(self, form: dict[str, list[str]]) -> tuple[int, Any]:
        if form.get("grant_type") != [JWT_BEARER] or "assertion" not in form:
            return 400, {"error": "unsupported_grant_type"}
        try:
            claims = jwt.decode(
                form["assertion"][0],
                certs=self.public_cert_pem,
                audience=[self.token_uri, GOOGLE_TOKEN_AUDIENCE],
            )
        except (ValueError, auth_exceptions.GoogleAuthError) as exc:
            return 400, {"error": "invalid_grant", "error_description": str(exc)}
        if claims.get("iss") != self.service_account_email:
            return 400, {"error": "invalid_grant", "error_description": "unknown issuer"}
        if WALLET_SCOPE not in str(claims.get("scope", "")).split():
            return 400, {"error": "invalid_scope", "error_description": "wallet scope missing"}
        token = secrets.token_urlsafe(24)
        self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600}

    def _api(self, route: _Route, match: Any, headers: Any, body: Any) -> tuple[int, Any]:
        auth = headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth[len("Bearer ") :] not in self.tokens:
            return 401, _error(401, "Request had invalid authentication credentials.")
        store = self.classes if route.schema == "LoyaltyClass" else self.objects
        rid = match.groupdict().get("rid")
        if route.method == "get":
            if rid not in store:
                return 404, _error(404, f"{route.schema} {rid} not found")
            return 200, store[rid]
        problems = validate(body, route.schema, partial=route.method == "patch")
        if rid is not None and isinstance(body, dict) and body.get("id", rid) != rid:
            problems.append("id: does not match the id in the URL")
        if problems:
            return 400, _error(400, "; ".join(problems))
        if route.method == "insert":
            if body["id"] in store:
                return 409, _error(409, f"{route.schema} {body['id']} already exists")
            if route.schema == "LoyaltyObject" and body["classId"] not in self.classes:
                return 404, _error(404, f"class {body['classId']} not found")
            store[body["id"]] = body
            return 200, body
        if rid not in store:
            return 404, _error(404, f"{route.schema} {rid} not found")
        store[rid] = body if route.method == "update" else store[rid] | body
        return 200, store[rid]


def _error(status: int, message: str, reasons: tuple[str, ...] = ()) -> dict[str, Any]:
    # Google's JSON error shape: code, message, and (for quota errors) errors[].reason.
    error: dict[str, Any] = {"code": status, "message": message}
    if reasons:
        error["errors"] = [
            {"message": message, "domain": "usageLimits", "reason": r} for r in reasons
        ]
    return {"error": error}


def _make_handler(double: WalletDouble) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            status, answer, extra = double.handle(
                self.command, self.path.split("?")[0], self.headers, raw
            )
            payload = json.dumps(answer).encode()
            try:
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (timeout test)

        do_GET = do_POST = do_PATCH = do_PUT = _serve

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
