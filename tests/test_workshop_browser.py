"""The workshop in a real browser (Debian's Chromium through Playwright, axe-core injected
as the report's tests do, the page under its own strict CSP): a group opens the page with
its token, changes a panel's "How the person takes part" from absent to consulted, saves,
and sees HEARD-03 go, in the findings and in the live region; the file keeps its comments.
axe-core finds nothing on the overview, a step form, the error state and the present
view; the pages reflow at 320 px; the keyboard alone goes from a field to Save."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdsaudit.workshop.server import running
from sdsaudit.workshop.session import Workshop
from tests.browser import _RUN_AXE, DEFAULT_TAGS, _use_session, format_violations

from .models import ROOT

EXAMPLE = ROOT / "examples" / "exampleshire" / "process.yaml"


@pytest.fixture
def workshop(tmp_path) -> Iterator[tuple[str, Path]]:
    path = tmp_path / "process.yaml"
    shutil.copy(EXAMPLE, path)
    with running(Workshop.open(path)) as guard:
        yield guard.address, path


@pytest.fixture
def page(workshop):
    address, _ = workshop
    with _use_session() as session:
        context, page = session.new_page(1280, 900, with_axe=True)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(address, wait_until="load")
        yield page
        context.close()
    # a Content-Security-Policy violation is reported on the console
    assert not [e for e in errors if "Content Security Policy" in e], errors


def _axe(page) -> None:
    result = page.evaluate(_RUN_AXE, list(DEFAULT_TAGS))
    assert not result["unknownTags"]
    assert result["violations"] == [], format_violations(result["violations"])


def _overflow(page, width: int = 320) -> int:
    page.set_viewport_size({"width": width, "height": 800})
    wide = page.evaluate(
        "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    return max(0, int(wide) - width)


def test_changing_how_the_person_takes_part_fixes_heard_03(page, workshop) -> None:
    _, path = workshop
    before = path.read_text(encoding="utf-8")
    assert page.url.endswith("/") and "token" not in page.url  # the token left the address
    assert page.locator('li.finding-line[data-rule="HEARD-03"]').count() == 1
    _axe(page)
    assert _overflow(page) == 0
    page.get_by_role("link", name=re.compile(r"^Change this step\s*: Funding panel$")).click()
    page.wait_for_load_state("load")
    assert page.get_by_role("heading", level=1).inner_text() == "Change a step: Funding panel"
    _axe(page)
    assert _overflow(page) == 0
    person = page.get_by_label("How the person takes part")
    assert person.input_value() == "absent"
    person.select_option("consulted")
    page.get_by_role("button", name="Save").click()
    page.wait_for_load_state("load")
    status = page.get_by_role("status")
    assert "Fixed: a panel decides without the person, at Funding panel (HEARD-03)." in (
        " ".join(status.inner_text().split())
    )
    assert "New: none." in " ".join(status.inner_text().split())
    # focus is not lost: it is on what the change did
    assert page.evaluate("document.activeElement.id") == "result"
    assert page.locator('li.finding-line[data-rule="HEARD-03"]').count() == 0
    after = path.read_text(encoding="utf-8")
    assert re.search(r"id: panel_review\n(    .*\n)*    person: consulted\n", after)
    comments = [line for line in before.splitlines() if "#" in line]
    assert comments and comments == [line for line in after.splitlines() if "#" in line]
    _axe(page)


def test_the_error_state_is_accessible_and_links_to_its_field(page, workshop) -> None:
    _, path = workshop
    before = path.read_text(encoding="utf-8")
    page.goto(page.url.rstrip("/") + "/step/assessment", wait_until="load")
    # keyboard only: type into the field and press Enter, which is Save
    page.focus("#days")
    page.keyboard.press("Control+A")
    page.keyboard.type("three weeks")
    page.keyboard.press("Enter")
    page.wait_for_load_state("load")
    summary = page.get_by_role("alert")
    assert "There is a problem" in summary.inner_text()
    assert page.evaluate("document.activeElement.className") == "error-summary"
    assert page.title().startswith("Error: ")
    _axe(page)
    page.get_by_role("link", name=re.compile("Enter the days as a number")).click()
    assert page.evaluate("document.activeElement.id") == "days"
    assert path.read_text(encoding="utf-8") == before


def test_the_present_view_is_accessible_and_answers_the_arrow_keys(page) -> None:
    page.goto(page.url.rstrip("/") + "/present", wait_until="load")
    assert page.locator(".counter").inner_text().startswith("1 of ")
    _axe(page)
    assert _overflow(page) == 0
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(r"/present\?item=2$"))
    assert page.locator(".counter").inner_text().startswith("2 of ")
    page.goto(page.url.split("/present")[0] + "/easy-read", wait_until="load")
    _axe(page)
