"""The workshop's web server: Starlette routes behind a guard, served by uvicorn on the
loopback address only.

Secure by default, because whoever reaches the page can change the council's file:

* it listens on 127.0.0.1 only;
* every request needs the one-time token printed at the start: in the address once (it
  is then kept in a cookie, ``HttpOnly`` and ``SameSite=Strict``, and taken out of the
  address), or in that cookie;
* a request whose ``Host`` is not this server's own address (DNS rebinding), or whose
  ``Origin`` or ``Sec-Fetch-Site`` says it comes from another site, is refused;
* every form carries a CSRF token, and a change needs it;
* every response carries a strict Content-Security-Policy (nothing but this server's own
  files: the styles and the one script are files, never inline), ``nosniff``, no
  referrer to other sites, no framing and no caching; every page is rendered autoescaped.

Forms work without JavaScript (POST, then a redirect to the page that shows the effect);
``/static/workshop.js`` only makes the present view answer the arrow keys.
"""

from __future__ import annotations

import contextlib
import secrets
import socket
import threading
import time
import webbrowser
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..errors import UsageError
from ..render.jinja import render
from .edits import Form, alongside, apply_values, remove, values_from
from .edits import add_after as add_step_after
from .pages import easy_page, overview, present_page, refused_page, step_page
from .session import Effect, Outcome, Workshop

HOST = "127.0.0.1"
COOKIE = "sdsaudit_workshop"
MAX_BODY = 256 * 1024
"""The largest form accepted, in bytes (a step's form is a few kilobytes)."""
MAX_FIELDS = 400

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'; connect-src 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    # not no-referrer: under it Chromium sends "Origin: null" with a form, and the
    # Origin check needs the real one; other sites are never sent a referrer
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}

STATIC = {
    "report.css": ("_report.css.j2", "text/css; charset=utf-8"),
    "workshop.css": ("workshop.css.j2", "text/css; charset=utf-8"),
    "workshop.js": ("workshop.js.j2", "text/javascript; charset=utf-8"),
}
"""The files the pages load, rendered once from ``templates/``."""


@dataclass(frozen=True)
class Guard:
    """The secrets of one workshop run and the checks every request passes."""

    port: int
    token: str
    csrf: str

    @classmethod
    def new(cls, port: int) -> Guard:
        return cls(port, secrets.token_urlsafe(32), secrets.token_urlsafe(32))

    @property
    def hosts(self) -> tuple[str, ...]:
        return (f"{HOST}:{self.port}", f"localhost:{self.port}")

    @property
    def origins(self) -> tuple[str, ...]:
        return tuple(f"http://{h}" for h in self.hosts)

    @property
    def address(self) -> str:
        """The address to open, with the token."""
        return f"http://{HOST}:{self.port}/?{urlencode({'token': self.token})}"

    def refusal(self, request: Request) -> tuple[int, str] | None:
        """Why a request is refused (status and words), or ``None`` when it may go on."""
        host = request.headers.get("host", "").lower()
        if host not in self.hosts:
            return 421, (
                f"This workshop answers only at {self.hosts[0]}: the address used was another "
                "(a page elsewhere may be trying to reach it)."
            )
        origin = request.headers.get("origin")
        if origin is not None and origin.lower() not in self.origins:
            return 403, "This request came from another site, so it was refused."
        site = request.headers.get("sec-fetch-site")
        if site is not None and site not in ("same-origin", "none"):
            return 403, "This request came from another site, so it was refused."
        if request.method == "POST" and origin is None:
            referer = request.headers.get("referer", "")
            if not any(referer.startswith(o + "/") for o in self.origins):
                return 403, "A change must come from the workshop's own page."
        if not self.has_token(request):
            return 401, (
                "This page needs the address with its token, as printed by 'sdsaudit "
                "workshop'. Open that address again (or start the workshop again for a new one)."
            )
        return None

    def has_token(self, request: Request) -> bool:
        given = request.cookies.get(COOKIE) or request.query_params.get("token") or ""
        return secrets.compare_digest(given.encode(), self.token.encode())

    def csrf_ok(self, form: Form) -> bool:
        given = (form.get("csrf") or [""])[0]
        return secrets.compare_digest(given.encode(), self.csrf.encode())


def _secure(response: Response) -> Response:
    for key, value in HEADERS.items():
        response.headers[key] = value
    return response


def _html(text: str, status: int = 200) -> Response:
    return _secure(HTMLResponse(text, status_code=status))


def _redirect(url: str) -> Response:
    return _secure(RedirectResponse(url, status_code=303))


async def _form(request: Request) -> Form | None:
    """The form in a POST body (URL-encoded), or ``None`` when it is too big or not one."""
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        return None
    size = request.headers.get("content-length")
    if size is not None and (not size.isdigit() or int(size) > MAX_BODY):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            return None
    try:
        return parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return None


def create_app(ws: Workshop, guard: Guard) -> Starlette:
    """The workshop as an ASGI application (``guard`` holds its secrets and port)."""
    static = {name: render(template) for name, (template, _) in STATIC.items()}

    async def locked(fn: Callable[..., Response], *args: Any) -> Response:
        # Run in the server's own thread, one request at a time: no worker threads, so
        # the map's 'dot' (started with a memory limit set between fork and exec) never
        # starts beside another thread, and nothing shares the Markdown converter.
        with ws.lock:
            return fn(*args)

    def effect_of(request: Request) -> Effect | None:
        raw = request.query_params.get("change", "")
        if raw.isdigit() and int(raw) < len(ws.effects):
            return ws.effects[int(raw)]
        return None

    # -- pages

    def _overview(request: Request) -> Response:
        return _html(overview(ws, guard.csrf, effect_of(request)))

    def _step(request: Request, sid: str) -> Response:
        if sid not in ws.model.step_by_id:
            return _html(refused_page(f"The model has no step '{sid[:60]}'.", "Not found"), 404)
        return _html(step_page(ws, guard.csrf, sid, shown=effect_of(request)))

    def _present(request: Request) -> Response:
        raw = request.query_params.get("item", "1")
        return _html(present_page(ws, guard.csrf, int(raw) if raw.isdigit() else 1))

    def _easy(request: Request) -> Response:
        return _html(easy_page(ws, guard.csrf))

    # -- changes

    def _change(sid: str, form: Form) -> Response:
        if sid not in ws.model.step_by_id:
            return _html(refused_page(f"The model has no step '{sid[:60]}'.", "Not found"), 404)
        action = (form.get("action") or ["save"])[0]
        revision = (form.get("revision") or [""])[0]
        step = ws.model.step(sid)
        name = step.name
        if action == "save":
            values = values_from(form, step.kind)

            def edit(text: str, data: dict) -> dict | list:
                errors = apply_values(data, sid, values)
                return errors or data

            outcome = ws.change(revision, f"Saved '{name}'.", edit, sid)
            if outcome.effect is None:
                return _step_again(sid, outcome, values)
            return _redirect(f"/?change={outcome.effect}#result")
        if action == "add-after":
            made: list[str] = []

            def add(text: str, data: dict) -> dict:
                made.append(add_step_after(data, sid))
                return data

            outcome = ws.change(revision, f"Added a step after '{name}'.", add, sid)
            if outcome.effect is None:
                return _step_again(sid, outcome, None)
            return _redirect(f"/step/{made[0]}?change={outcome.effect}#result")
        if action == "remove":
            outcome = ws.change(
                revision, f"Removed '{name}'.", lambda text, data: remove(text, ws.path, sid), sid
            )
            if outcome.effect is None:
                return _step_again(sid, outcome, None)
            return _redirect(f"/?change={outcome.effect}#result")
        if action == "alongside":
            other = (form.get("other") or [""])[0]
            model = ws.model
            other_name = model.step(other).name if other in model.step_by_id else other
            outcome = ws.change(
                revision,
                f"'{name}' now runs alongside '{other_name}'.",
                lambda text, data: alongside(text, ws.path, model, sid, other),
                sid,
            )
            if outcome.effect is None:
                return _step_again(sid, outcome, None)
            return _redirect(f"/?change={outcome.effect}#result")
        return _html(refused_page("That is not something the form can do.", "Bad request"), 400)

    def _step_again(sid: str, outcome: Outcome, values: Any) -> Response:
        if outcome.errors:
            page = step_page(ws, guard.csrf, sid, values=values, errors=outcome.errors)
            return _html(page, 400)
        if sid not in ws.model.step_by_id:
            return _html(refused_page(outcome.refused or "", "Not saved"), 409)
        return _html(step_page(ws, guard.csrf, sid, refused=outcome.refused), 409)

    def _undo(form: Form) -> Response:
        outcome = ws.undo((form.get("revision") or [""])[0])
        if outcome.effect is None:
            return _html(refused_page(outcome.refused or "", "Nothing undone"), 409)
        return _redirect(f"/?change={outcome.effect}#result")

    def _reload(form: Form) -> Response:
        outcome = ws.reload()
        if outcome.effect is None:
            return _html(refused_page(outcome.refused or "", "Not loaded"), 409)
        return _redirect(f"/?change={outcome.effect}#result")

    # -- the guard around every route

    def guarded(handler: Callable[..., Response], post: bool = False) -> Callable:
        async def endpoint(request: Request) -> Response:
            refusal = guard.refusal(request)
            if refusal is not None:
                status, words = refusal
                return _html(refused_page(words, "Refused"), status)
            if request.query_params.get("token") and request.method == "GET":
                # the token leaves the address (history, a screen shared in the workshop)
                response = _redirect(request.url.path)
                response.set_cookie(COOKIE, guard.token, httponly=True, samesite="strict", path="/")
                return response
            args = [request.path_params[k] for k in request.path_params]
            if not post:
                return await locked(handler, request, *args)
            form = await _form(request)
            if form is None:
                return _html(refused_page("The form could not be read.", "Bad request"), 400)
            if not guard.csrf_ok(form):
                return _html(
                    refused_page(
                        "This form is out of date (its security token is not this "
                        "workshop's). Nothing was changed. Go back, reload the page and try "
                        "again.",
                        "Refused",
                    ),
                    403,
                )
            return await locked(handler, *args, form)

        return endpoint

    async def static_file(request: Request) -> Response:
        refusal = guard.refusal(request)
        if refusal is not None:
            return _html(refused_page(refusal[1], "Refused"), refusal[0])
        name = request.path_params["name"]
        if name not in static:
            return _html(refused_page("No such file.", "Not found"), 404)
        response = _secure(Response(static[name], media_type=STATIC[name][1]))
        # the style sheets and script never change while the workshop runs, and hold
        # nothing private: the browser keeps them rather than fetching them on every page
        response.headers["Cache-Control"] = "private, max-age=86400, immutable"
        return response

    async def no_icon(request: Request) -> Response:
        return _secure(Response(status_code=204))

    routes = [
        Route("/", guarded(_overview), methods=["GET"]),
        Route("/step/{sid}", guarded(_step), methods=["GET"]),
        Route("/step/{sid}", guarded(_change, post=True), methods=["POST"]),
        Route("/undo", guarded(_undo, post=True), methods=["POST"]),
        Route("/reload", guarded(_reload, post=True), methods=["POST"]),
        Route("/present", guarded(_present), methods=["GET"]),
        Route("/easy-read", guarded(_easy), methods=["GET"]),
        Route("/static/{name}", static_file, methods=["GET"]),
        Route("/favicon.ico", no_icon, methods=["GET"]),
    ]
    return Starlette(routes=routes)


def bind(port: int | None) -> socket.socket:
    """A listening socket on the loopback address (``port`` 0 or ``None``: a free one)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.bind((HOST, port or 0))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"cannot listen on {HOST}:{port} ({exc.strerror}): choose another port with "
            "--port, or leave --port out to use a free one"
        ) from None
    sock.listen(16)
    return sock


@contextlib.contextmanager
def running(ws: Workshop, port: int | None = None) -> Iterator[Guard]:
    """Serve the workshop in a background thread while the block runs (the browser tests
    and the benchmark); yields the guard, whose ``address`` opens the page."""
    import uvicorn

    sock = bind(port)
    guard = Guard.new(sock.getsockname()[1])
    config = uvicorn.Config(
        create_app(ws, guard), log_level="warning", access_log=False, lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    try:
        yield guard
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def serve(
    ws: Workshop,
    *,
    port: int | None = None,
    open_browser: bool = True,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the workshop until Ctrl+C (uvicorn stops cleanly on SIGINT and SIGTERM)."""
    import uvicorn

    sock = bind(port)
    guard = Guard.new(sock.getsockname()[1])
    app = create_app(ws, guard)
    announce(f"Workshop for {ws.path}: open {guard.address}")
    announce(
        "The address carries a one-time token: anyone with it can change the model, so keep "
        "it to the workshop. Press Ctrl+C to stop."
    )
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        server_header=False,
        date_header=False,
    )
    server = uvicorn.Server(config)
    if open_browser:
        threading.Timer(0.5, webbrowser.open, args=(guard.address,)).start()
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # uvicorn has shut down cleanly, then passes Ctrl+C on: it means "stop"
    finally:
        sock.close()
    announce("Workshop stopped.")


__all__ = ["CSP", "Guard", "bind", "create_app", "running", "serve"]
