"""Proves the browser harness really runs axe-core in headless Debian Chromium."""

from __future__ import annotations

import pathlib

import pytest

from tests.browser import (
    DEFAULT_TAGS,
    axe_version,
    axe_violations,
    chromium_path,
    format_violations,
    max_horizontal_overflow,
    screenshot,
)

CSP = "default-src 'none'; script-src 'none'; style-src 'unsafe-inline'; img-src data:"

# 1x1 PNG, so images load under the CSP without a file.
PIXEL = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)


def page(body: str, *, lang: str = "en", head: str = "") -> str:
    return f"""<!doctype html>
<html lang="{lang}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Harness test page</title>
<style>
  body {{ font-family: sans-serif; color: #1a1a1a; background: #ffffff; margin: 1rem; }}
  {head}
</style>
</head>
<body>
<main>
{body}
</main>
</body>
</html>
"""


GOOD = page(
    f"""<h1>Care process audit</h1>
<p>All <a href="#details">steps</a> were checked.</p>
<img src="{PIXEL}" alt="Process map" width="20" height="20">
<table>
  <caption>Findings</caption>
  <thead><tr><th scope="col">Step</th><th scope="col">Status</th></tr></thead>
  <tbody><tr><td>Referral</td><td>OK</td></tr></tbody>
</table>
<h2 id="details">Details</h2>
<p>Nothing else to report.</p>
<script>document.querySelector('h1').textContent = 'script ran';</script>"""
)

BAD = page(
    f"""<h1>Audit</h1>
<img src="{PIXEL}" width="20" height="20">
<p style="color: #bbbbbb; background: #ffffff">Pale grey text that fails contrast.</p>"""
)


@pytest.fixture
def good_html(tmp_path: pathlib.Path) -> pathlib.Path:
    path = tmp_path / "good.html"
    path.write_text(GOOD, encoding="utf-8")
    return path


def test_chromium_is_installed():
    assert chromium_path() == "/usr/bin/chromium"


def test_axe_is_pinned_and_knows_wcag22():
    major, minor, *_ = (int(x) for x in axe_version().split("."))
    assert (major, minor) >= (4, 7), axe_version()
    assert "wcag22aa" in DEFAULT_TAGS


def test_good_page_has_no_violations(good_html: pathlib.Path):
    violations = axe_violations(good_html)
    assert violations == [], format_violations(violations)


def test_bad_page_reports_expected_violations(tmp_path: pathlib.Path):
    bad = tmp_path / "bad.html"
    bad.write_text(BAD, encoding="utf-8")
    violations = axe_violations(bad)
    ids = {v["id"] for v in violations}
    assert {"image-alt", "color-contrast"} <= ids, format_violations(violations)
    for v in violations:
        assert v["nodes"], v
        assert set(v["tags"]) & set(DEFAULT_TAGS), v


def test_missing_lang_and_title_are_reported(tmp_path: pathlib.Path):
    path = tmp_path / "nolang.html"
    path.write_text(
        GOOD.replace(' lang="en"', "").replace("<title>Harness test page</title>", ""),
        encoding="utf-8",
    )
    ids = {v["id"] for v in axe_violations(path)}
    assert {"html-has-lang", "document-title"} <= ids


def test_wcag22_only_rules_run(tmp_path: pathlib.Path):
    # target-size is axe's wcag22aa rule: a 10x10 px button touching another one.
    path = tmp_path / "target.html"
    path.write_text(
        page(
            '<h1>Targets</h1><p><button style="width:10px;height:10px;padding:0;margin:0;border:0">'
            '<span style="position:absolute;left:-9999px">a</span></button>'
            '<button style="width:10px;height:10px;padding:0;margin:0;border:0">'
            '<span style="position:absolute;left:-9999px">b</span></button></p>'
        ),
        encoding="utf-8",
    )
    ids = {v["id"] for v in axe_violations(path, tags=("wcag22aa",))}
    assert ids == {"target-size"}


def test_unknown_tag_is_an_error(good_html: pathlib.Path):
    with pytest.raises(ValueError, match="wcag99"):
        axe_violations(good_html, tags=("wcag2a", "wcag99"))


def test_page_csp_stays_enforced(good_html: pathlib.Path):
    # axe is injected without bypass_csp, so the page's own inline script
    # (forbidden by its CSP meta tag) must not run: the h1 keeps its text.
    from tests.browser import _use_session

    with _use_session() as session:
        context, pg = session.new_page(800, 600, with_axe=True)
        try:
            pg.goto(good_html.resolve().as_uri())
            assert pg.evaluate("typeof window.axe") == "object"
            assert pg.inner_text("h1") == "Care process audit"
        finally:
            context.close()


def test_screenshot_writes_png(good_html: pathlib.Path, tmp_path: pathlib.Path):
    png = tmp_path / "shots" / "good.png"
    out = screenshot(good_html, png, width=800, height=600)
    assert out == png
    data = png.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 1000
    width = int.from_bytes(data[16:20], "big")
    height = int.from_bytes(data[20:24], "big")
    assert width == 800 and height >= 600


def test_overflow_detects_wide_element(tmp_path: pathlib.Path):
    path = tmp_path / "wide.html"
    path.write_text(
        page('<h1>Wide</h1><div style="width:1000px;height:10px"></div>'), encoding="utf-8"
    )
    overflow = max_horizontal_overflow(path, width=320)
    assert overflow >= 1000 - 320


def test_overflow_zero_for_fluid_page(good_html: pathlib.Path):
    assert max_horizontal_overflow(good_html, width=320) == 0


def test_missing_file_raises(tmp_path: pathlib.Path):
    with pytest.raises(FileNotFoundError):
        axe_violations(tmp_path / "nope.html")
