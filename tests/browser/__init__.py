"""Headless-Chromium helpers for the sdsaudit browser tests.

Usage from any test::

    from tests.browser import axe_violations, screenshot, max_horizontal_overflow

    assert axe_violations(report_html) == []
    assert max_horizontal_overflow(report_html, width=320) == 0

What it needs (``scripts/setup.sh --test`` installs all of it):

* Debian's Chromium at ``/usr/bin/chromium`` (``apt-get install chromium``);
  Playwright's own browser downloads are NOT used (they cannot be fetched here);
* ``playwright`` from PyPI (the Python client; it drives the system Chromium);
* axe-core from npm, pinned in ``tests/browser/package.json`` /
  ``package-lock.json`` and installed by ``npm ci --prefix tests/browser``.

Nothing here ever skips: if a piece is missing the helpers raise with an
explanation, because in CI these checks must really run.

CSP note: the report pages carry ``<meta http-equiv="Content-Security-Policy"
content="script-src 'none'">``.  Under that policy ``page.add_script_tag``
fails ("Executing inline script violates ... script-src 'none'").  Playwright's
``bypass_csp=True`` would fix that, but it switches the page's CSP off
entirely, so any script the report wrongly contains would run and change the
DOM being audited.  Instead axe-core is injected with
``BrowserContext.add_init_script`` (CDP ``Page.addScriptToEvaluateOnNewDocument``),
which CSP does not govern, and the page keeps its real policy.
"""

from __future__ import annotations

import atexit
import json
import os
import pathlib
import threading
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = [
    "CHROMIUM_ARGS",
    "DEFAULT_TAGS",
    "axe_source_path",
    "axe_version",
    "axe_violations",
    "chromium_path",
    "close_browser",
    "format_violations",
    "max_horizontal_overflow",
    "screenshot",
]

HERE = pathlib.Path(__file__).resolve().parent
AXE_PACKAGE_DIR = HERE / "node_modules" / "axe-core"
DEFAULT_CHROMIUM = "/usr/bin/chromium"

#: WCAG 2.2 AA as axe-core tags it (axe >= 4.7 knows ``wcag22aa``).
DEFAULT_TAGS: tuple[str, ...] = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")

#: Flags Debian Chromium needs as root on a machine with a closed network.
#: (Playwright adds a fresh temporary --user-data-dir on every launch.)
CHROMIUM_ARGS: tuple[str, ...] = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

_SETUP_HINT = "Run `scripts/setup.sh --test` from the repository root."


class BrowserHarnessError(RuntimeError):
    """A prerequisite of the browser tests is missing or axe could not run."""


# --------------------------------------------------------------------------
# prerequisites


def _playwright_chromium() -> str | None:
    """Playwright's own Chromium, where ``playwright install chromium`` put one
    (Ubuntu, whose Chromium package is a snap that containers cannot run)."""
    try:
        with _sync_playwright()() as p:
            path = p.chromium.executable_path
    except Exception:
        return None
    return path if os.path.isfile(path) else None


def chromium_path() -> str:
    """Path of Debian's Chromium; raise (never skip) when it is not installed.

    ``SDSAUDIT_CHROMIUM`` may point at another Chromium binary. Without it,
    Debian's ``/usr/bin/chromium`` is used, else Playwright's own Chromium
    when ``scripts/setup.sh --test`` installed one (Ubuntu).
    """
    path = os.environ.get("SDSAUDIT_CHROMIUM", DEFAULT_CHROMIUM)
    if "SDSAUDIT_CHROMIUM" not in os.environ and not os.path.isfile(path):
        path = _playwright_chromium() or path
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        raise BrowserHarnessError(
            f"Chromium not found at {path}. The browser tests (axe-core "
            "accessibility, screenshots, 320px reflow) need Debian's Chromium: "
            "`apt-get install -y --no-install-recommends chromium "
            f"fonts-dejavu-core` (as root). {_SETUP_HINT} "
            "(On Ubuntu, `scripts/setup.sh --test` installs Playwright's own Chromium instead.)"
        )
    return path


def launch_check() -> None:
    """Start the browser as the tests do and load a page; raise if it cannot.

    ``scripts/setup.sh --test`` calls this last, so that a setup which cannot
    run the browser tests never says "done".
    """
    session = _Session()
    try:
        context, page = session.new_page(320, 200, with_axe=True)
        page.set_content("<!doctype html><title>check</title><p>sdsaudit</p>")
        if page.inner_text("p") != "sdsaudit" or not page.evaluate("typeof axe"):
            raise BrowserHarnessError("the browser started but did not render a page")
        context.close()
    finally:
        session.close()


def axe_source_path() -> pathlib.Path:
    """Path of the pinned ``axe.min.js``; raise when npm has not installed it."""
    path = AXE_PACKAGE_DIR / "axe.min.js"
    if not path.is_file():
        raise BrowserHarnessError(
            f"axe-core not found at {path}. Install it with "
            "`npm ci --prefix tests/browser` (pinned in tests/browser/"
            f"package-lock.json). {_SETUP_HINT}"
        )
    return path


def axe_version() -> str:
    """Version of the installed axe-core (from its package.json)."""
    axe_source_path()
    meta = json.loads((AXE_PACKAGE_DIR / "package.json").read_text(encoding="utf-8"))
    return str(meta["version"])


def _sync_playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise BrowserHarnessError(
            "The Python package `playwright` is not installed in this "
            f"environment ({exc}). It belongs in the `test` extra. {_SETUP_HINT}"
        ) from exc
    return sync_playwright


# --------------------------------------------------------------------------
# one shared browser per process (launching costs ~0.6 s)


class _Session:
    def __init__(self) -> None:
        executable = chromium_path()
        self._axe_js = axe_source_path().read_text(encoding="utf-8")
        self._manager = _sync_playwright()()
        self._playwright = self._manager.start()
        try:
            self.browser = self._playwright.chromium.launch(
                executable_path=executable,
                headless=True,
                args=list(CHROMIUM_ARGS),
            )
        except Exception:
            self._manager.__exit__(None, None, None)
            raise

    def new_page(self, width: int, height: int, *, with_axe: bool = False):
        # bypass_csp stays False: the page is audited under its own CSP.
        context = self.browser.new_context(
            viewport={"width": width, "height": height},
            device_scale_factor=1,
        )
        if with_axe:
            context.add_init_script(script=self._axe_js)
        return context, context.new_page()

    def close(self) -> None:
        try:
            self.browser.close()
        finally:
            self._manager.__exit__(None, None, None)


_lock = threading.Lock()
_shared: _Session | None = None
_shared_owner: tuple[int, int] | None = None  # (pid, thread id)


class _use_session:
    """Context manager yielding the shared session (or a private one when
    called off the thread that owns it: Playwright's sync API is per-thread)."""

    def __enter__(self) -> _Session:
        global _shared, _shared_owner
        me = (os.getpid(), threading.get_ident())
        with _lock:
            if _shared is not None and _shared_owner == me:
                self._private = None
                return _shared
            if _shared is None or _shared_owner[0] != me[0]:
                _shared = _Session()
                _shared_owner = me
                self._private = None
                return _shared
        self._private = _Session()
        return self._private

    def __exit__(self, *exc: Any) -> None:
        if self._private is not None:
            self._private.close()


def close_browser() -> None:
    """Close the shared browser (also done automatically at interpreter exit)."""
    global _shared, _shared_owner
    with _lock:
        session, owner = _shared, _shared_owner
        _shared = _shared_owner = None
    if session is not None and owner == (os.getpid(), threading.get_ident()):
        session.close()


atexit.register(close_browser)


def _file_url(html_path: os.PathLike[str] | str) -> str:
    path = pathlib.Path(html_path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"HTML file not found: {path}")
    return path.as_uri()


# --------------------------------------------------------------------------
# public helpers

_RUN_AXE = """
async (tags) => {
  if (typeof window.axe === 'undefined') {
    throw new Error('axe-core was not injected into the page');
  }
  const unknown = tags.filter((t) => axe.getRules([t]).length === 0);
  if (unknown.length) {
    return { unknownTags: unknown, violations: [] };
  }
  const results = await axe.run(document, {
    runOnly: { type: 'tag', values: tags },
    resultTypes: ['violations'],
  });
  return { unknownTags: [], violations: results.violations };
}
"""


def axe_violations(
    html_path: os.PathLike[str] | str,
    tags: Sequence[str] = DEFAULT_TAGS,
    *,
    width: int = 1280,
    height: int = 800,
) -> list[dict[str, Any]]:
    """Run axe-core (restricted to ``tags``) on a local HTML file.

    Returns axe's ``violations`` list: dicts with ``id``, ``impact``,
    ``tags``, ``help``, ``helpUrl`` and ``nodes``. An empty list means no
    violation. A tag axe does not know raises ``ValueError`` (axe itself would
    silently run zero rules for it).
    """
    tags = list(tags)
    if not tags:
        raise ValueError("tags must not be empty")
    url = _file_url(html_path)
    with _use_session() as session:
        context, page = session.new_page(width, height, with_axe=True)
        try:
            page.goto(url, wait_until="load")
            result = page.evaluate(_RUN_AXE, tags)
        finally:
            context.close()
    if result["unknownTags"]:
        raise ValueError(f"axe-core {axe_version()} has no rules tagged {result['unknownTags']}")
    return result["violations"]


def format_violations(violations: Iterable[dict[str, Any]]) -> str:
    """Readable summary of axe violations, for assertion messages."""
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v.get('impact')}): {v.get('help')} [{v.get('helpUrl')}]")
        for node in v.get("nodes", [])[:5]:
            lines.append(
                f"    {', '.join(map(str, node.get('target', [])))}: {node.get('html', '')[:120]}"
            )
    return "\n".join(lines) or "no violations"


def screenshot(
    html_path: os.PathLike[str] | str,
    png_path: os.PathLike[str] | str,
    width: int = 1280,
    height: int = 800,
    full_page: bool = True,
) -> pathlib.Path:
    """Render ``html_path`` at ``width`` x ``height`` CSS px into a PNG file."""
    url = _file_url(html_path)
    out = pathlib.Path(png_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    with _use_session() as session:
        context, page = session.new_page(width, height)
        try:
            page.goto(url, wait_until="load")
            page.screenshot(path=str(out), full_page=full_page, type="png")
        finally:
            context.close()
    return out


_OVERFLOW = """
() => Math.max(
  document.documentElement.scrollWidth,
  document.body ? document.body.scrollWidth : 0
)
"""


def max_horizontal_overflow(html_path: os.PathLike[str] | str, width: int = 320) -> int:
    """CSS px the document is wider than a ``width``-px viewport (0 = reflows).

    WCAG 1.4.10 Reflow: at 320 CSS px content should not need horizontal
    scrolling, so a report should give 0 here.
    """
    url = _file_url(html_path)
    with _use_session() as session:
        context, page = session.new_page(width, 800)
        try:
            page.goto(url, wait_until="load")
            scroll_width = int(page.evaluate(_OVERFLOW))
        finally:
            context.close()
    return max(0, scroll_width - width)
