"""The workshop: the comment-keeping writer, the model file's guards, the edits a step's
form makes, and every refusal of the server (token, Host, Origin, CSRF, a stale form,
a change made elsewhere, an invalid edit that writes nothing)."""

from __future__ import annotations

import re
import shutil
import signal
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdsaudit.model.loader import load_model_text
from sdsaudit.stocktake.patch import Raw
from sdsaudit.workshop.keep import merge_lines, plain_data, rewrite
from sdsaudit.workshop.modelfile import ChangedElsewhere, ModelFile
from sdsaudit.workshop.server import CSP, Guard, create_app
from sdsaudit.workshop.session import Workshop

from .models import ROOT

EXAMPLE = ROOT / "examples" / "exampleshire" / "process.yaml"
MODELS = sorted(
    p
    for p in [*ROOT.glob("examples/**/*.yaml"), *ROOT.glob("process_models/*.yaml")]
    if "steps:" in p.read_text(encoding="utf-8") and "sdsaudit_patch" not in p.read_text()
)
PORT = 8123
BASE = f"http://127.0.0.1:{PORT}"


def _step(data: dict, sid: str) -> dict:
    return next(s for s in data["steps"] if s["id"].text == sid)


# ----------------------------------------------------------------------------- the writer


@pytest.mark.parametrize("path", MODELS, ids=lambda p: str(p.relative_to(ROOT)))
def test_writing_back_the_same_data_gives_the_same_bytes(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert rewrite(text, plain_data(text)) == text


def test_a_change_touches_only_its_own_lines_and_keeps_every_comment() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    data = plain_data(text)
    panel = _step(data, "panel_review")
    panel["days"] = Raw("10")
    new = rewrite(text, data)
    old_lines, new_lines = text.splitlines(), new.splitlines()
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    # the one line, with its end-of-line comment kept
    assert changed == [
        (
            '    days: 14                       # the terms of reference say "monthly"; 14 is our estimate',
            '    days: 10                       # the terms of reference say "monthly"; 14 is our estimate',
        )
    ]
    assert load_model_text(new).step("panel_review").days == 10


@pytest.mark.parametrize(
    ("value", "gap"),
    [("14.75", 20), ("7", 24), ("1" * 40, 1)],
    ids=["longer", "shorter", "longer-than-the-gap"],
)
def test_a_longer_or_shorter_value_keeps_its_comment_in_its_column(value: str, gap: int) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    data = plain_data(text)
    _step(data, "panel_review")["days"] = Raw(value)
    line = next(x for x in rewrite(text, data).splitlines() if x.startswith(f"    days: {value} "))
    assert (
        line
        == f'    days: {value}{" " * gap}# the terms of reference say "monthly"; 14 is our estimate'
    )


def test_new_keys_and_steps_go_where_the_format_puts_them() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    data = plain_data(text)
    from sdsaudit.workshop.edits import add_after

    new_id = add_after(data, "assessment")
    new = rewrite(text, data)
    model = load_model_text(new)
    assert [t.to for t in model.step("assessment").next] == [new_id]
    assert [t.to for t in model.step(new_id).next] == ["eligibility"]
    assert all(line in new for line in text.splitlines() if line.lstrip().startswith("#"))


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.sampled_from(["a: 1\n", "b: [x, y]\n", "# c\n", "\n", "d:   {e: 1}\n"]), max_size=8
    ),
    st.lists(st.sampled_from(["a: 1\n", "b: [x,y]\n", "# c\n", "d: {e: 1}\n"]), max_size=8),
)
def test_merging_no_change_gives_the_original(original: list[str], base: list[str]) -> None:
    # whatever the two layouts, no change between base and edited leaves the original
    assert merge_lines("".join(original), "".join(base), "".join(base)) == "".join(original)


# ----------------------------------------------------------------------------- the file


def test_a_change_made_elsewhere_is_refused_and_the_previous_version_kept(tmp_path) -> None:
    path = tmp_path / "m.yaml"
    shutil.copy(EXAMPLE, path)
    file = ModelFile(path)
    original = path.read_text(encoding="utf-8")
    file.write(original.replace("days: 21", "days: 20"))
    assert file.backup.read_text(encoding="utf-8") == original
    path.write_text(original + "# edited in another program\n", encoding="utf-8")
    with pytest.raises(ChangedElsewhere):
        file.write(original)
    assert path.read_text(encoding="utf-8").endswith("# edited in another program\n")


def test_a_symbolic_link_is_refused(tmp_path) -> None:
    shutil.copy(EXAMPLE, tmp_path / "m.yaml")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "m.yaml")
    from sdsaudit.errors import UsageError

    with pytest.raises(UsageError, match="symbolic link"):
        ModelFile(tmp_path / "link.yaml")


# ----------------------------------------------------------------------------- the server


@pytest.fixture
def model(tmp_path) -> Path:
    path = tmp_path / "process.yaml"
    shutil.copy(EXAMPLE, path)
    return path


@pytest.fixture
def client(model):
    from starlette.testclient import TestClient

    ws = Workshop.open(model)
    guard = Guard(PORT, "the-token", "the-csrf")
    client = TestClient(create_app(ws, guard), base_url=BASE)
    client.cookies.set("sdsaudit_workshop", "the-token")
    return client


def _form(client, sid: str, **changes: str) -> dict[str, str]:
    page = client.get(f"/step/{sid}").text
    form: dict[str, str] = {}
    main = page.split('class="step-form"', 1)[1].split("</form>", 1)[0]
    for m in re.finditer(r'<input id="[^"]*" name="([^"]+)" type="text"[^>]*value="([^"]*)"', main):
        form[m.group(1)] = m.group(2)
    for m in re.finditer(r'name="([^"]+)" value="([^"]*)"', main):
        form.setdefault(m.group(1), m.group(2))
    for m in re.finditer(r'<select id="([^"]+)" name="[^"]+"[^>]*>(.*?)</select>', main, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected', m.group(2))
        form[m.group(1)] = chosen.group(1) if chosen else ""
    for m in re.finditer(
        r'name="(tells|[^"]*rework|days-unknown)" type="checkbox" value="([^"]+)" checked', main
    ):
        form[m.group(1)] = m.group(2)
    form["note"] = re.search(r'<textarea id="note"[^>]*>(.*?)</textarea>', main, re.S).group(1)
    form.update(changes)
    return form


POST = {"origin": BASE}


def test_saving_a_step_fixes_its_finding_and_says_so(client, model) -> None:
    before = model.read_text(encoding="utf-8")
    form = _form(client, "panel_review", person="consulted")
    response = client.post("/step/panel_review", data=form, headers=POST, follow_redirects=False)
    assert response.status_code == 303
    page = client.get(response.headers["location"]).text
    status = re.search(r'<div id="result"[^>]*role="status".*?</div>', page, re.S).group(0)
    assert (
        "Fixed:</strong> a panel decides without the person, at Funding panel (HEARD-03)" in status
    )
    assert "New:</strong> none" in status
    assert 'data-rule="HEARD-03"' not in page
    after = model.read_text(encoding="utf-8")
    assert "    person: consulted\n" in after
    assert [line for line in before.splitlines() if "#" in line] == [
        line for line in after.splitlines() if "#" in line
    ]
    assert Path(str(model) + ".bak").read_text(encoding="utf-8") == before
    assert response.headers["content-security-policy"] == CSP
    assert "'unsafe-inline'" not in CSP and "default-src 'none'" in CSP


def test_an_invalid_edit_writes_nothing_and_shows_the_error_beside_its_field(client, model) -> None:
    before = model.read_text(encoding="utf-8")
    form = _form(client, "assessment", days="three weeks")
    response = client.post("/step/assessment", data=form, headers=POST)
    assert response.status_code == 400
    page = response.text
    assert '<a href="#days">Enter the days as a number' in page
    assert 'id="days-error"' in page and 'aria-describedby="days-hint days-error"' in page
    assert model.read_text(encoding="utf-8") == before


def test_an_edit_the_loader_refuses_is_shown_at_its_field(client, model) -> None:
    before = model.read_text(encoding="utf-8")
    # an approval with no team (actor) is refused by the loader, not by the form
    response = client.post("/step/sign_off", data=_form(client, "sign_off", actor=""), headers=POST)
    assert response.status_code == 400
    assert "There is a problem" in response.text
    assert model.read_text(encoding="utf-8") == before


@pytest.mark.parametrize(
    "headers, status",
    [
        ({}, 401),  # no token
        ({"host": "evil.example"}, 421),  # DNS rebinding: a foreign Host
        ({"host": f"attacker.example:{PORT}"}, 421),
        ({"origin": "http://evil.example"}, 403),  # a foreign Origin
        ({"sec-fetch-site": "cross-site"}, 403),
    ],
)
def test_refusals(model, headers, status) -> None:
    from starlette.testclient import TestClient

    app = create_app(Workshop.open(model), Guard(PORT, "the-token", "the-csrf"))
    client = TestClient(app, base_url=BASE)
    if headers:
        client.cookies.set("sdsaudit_workshop", "the-token")
    for path in ("/", "/step/assessment", "/static/report.css"):
        response = client.get(path, headers=headers)
        assert response.status_code == status, path
        assert "Exampleshire" not in response.text


def test_a_wrong_token_is_refused_and_the_right_one_leaves_the_address(model) -> None:
    from starlette.testclient import TestClient

    client = TestClient(create_app(Workshop.open(model), Guard(PORT, "tok", "c")), base_url=BASE)
    assert client.get("/?token=wrong").status_code == 401
    response = client.get("/?token=tok", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"
    assert "HttpOnly" in response.headers["set-cookie"] and "samesite=strict" in (
        response.headers["set-cookie"].lower()
    )
    assert client.get("/").status_code == 200


def test_a_stale_or_missing_csrf_token_and_a_foreign_origin_change_nothing(client, model) -> None:
    before = model.read_text(encoding="utf-8")
    form = _form(client, "panel_review", person="consulted")
    stale = {**form, "csrf": "a-token-from-another-workshop"}
    assert client.post("/step/panel_review", data=stale, headers=POST).status_code == 403
    no_csrf = {k: v for k, v in form.items() if k != "csrf"}
    assert client.post("/step/panel_review", data=no_csrf, headers=POST).status_code == 403
    foreign = {"origin": "http://evil.example"}
    assert client.post("/step/panel_review", data=form, headers=foreign).status_code == 403
    # a POST with neither Origin nor a Referer of this workshop
    assert client.post("/step/panel_review", data=form).status_code == 403
    assert client.post("/undo", data={"csrf": "x"}, headers=POST).status_code == 403
    assert model.read_text(encoding="utf-8") == before


def test_a_form_from_before_another_save_is_refused(client, model) -> None:
    old = _form(client, "assessment", days="20")
    first = _form(client, "planning", days="10")
    assert client.post("/step/planning", data=first, headers=POST).status_code == 200
    saved = model.read_text(encoding="utf-8")
    response = client.post("/step/assessment", data=old, headers=POST)
    assert response.status_code == 409 and "changed after this page was opened" in response.text
    assert model.read_text(encoding="utf-8") == saved


def test_a_change_on_disk_is_detected_not_overwritten(client, model) -> None:
    form = _form(client, "assessment", days="20")
    elsewhere = model.read_text(encoding="utf-8") + "# a line added in an editor\n"
    model.write_text(elsewhere, encoding="utf-8")
    assert "The file was changed outside the workshop" in client.get("/").text
    response = client.post("/step/assessment", data=form, headers=POST)
    assert response.status_code == 409
    assert model.read_text(encoding="utf-8") == elsewhere
    # loading it as it is now, then saving, keeps the line added elsewhere
    page = client.get("/").text
    revision = re.search(r'name="revision" value="(\w+)"', page).group(1)
    reload = {"csrf": "the-csrf", "revision": revision}
    assert client.post("/reload", data=reload, headers=POST).status_code == 200
    assert (
        client.post(
            "/step/assessment", data=_form(client, "assessment", days="20"), headers=POST
        ).status_code
        == 200
    )
    assert model.read_text(encoding="utf-8").endswith("# a line added in an editor\n")


def test_undo_puts_back_the_previous_versions(client, model) -> None:
    original = model.read_text(encoding="utf-8")
    client.post("/step/assessment", data=_form(client, "assessment", days="20"), headers=POST)
    client.post("/step/planning", data=_form(client, "planning", days="9"), headers=POST)
    for _ in range(2):
        page = client.get("/").text
        revision = re.search(r'name="revision" value="(\w+)"', page).group(1)
        response = client.post(
            "/undo", data={"csrf": "the-csrf", "revision": revision}, headers=POST
        )
        assert response.status_code == 200 and "Undone:" in response.text
    assert model.read_text(encoding="utf-8") == original


def test_remove_add_and_run_alongside(client, model) -> None:
    def act(sid: str, action: str, **extra: str):
        page = client.get(f"/step/{sid}").text
        revision = re.search(r'name="revision" value="(\w+)"', page).group(1)
        data = {"csrf": "the-csrf", "revision": revision, "action": action, **extra}
        return client.post(f"/step/{sid}", data=data, headers=POST)

    assert act("financial_assessment", "alongside", other="arrange").status_code == 200
    model_now = load_model_text(model.read_text(encoding="utf-8"))
    block = model_now.step("financial_assessment_alongside")
    assert block.kind == "parallel" and block.branches == ("financial_assessment", "arrange")
    assert model_now.version == "1.1"
    response = act("assessment", "add-after")
    assert (
        response.status_code == 200
        and "Change a step: New step after Needs assessment" in response.text
    )
    assert act("new_step", "remove").status_code == 200
    assert "new_step" not in model.read_text(encoding="utf-8")
    # a step that cannot go is refused in words, and nothing changes
    before = model.read_text(encoding="utf-8")
    response = act("financial_assessment_alongside", "remove")
    assert response.status_code == 409 and "Nothing was changed" in response.text
    assert model.read_text(encoding="utf-8") == before


def test_nothing_from_the_model_is_rendered_unescaped(tmp_path) -> None:
    from starlette.testclient import TestClient

    path = tmp_path / "hostile.yaml"
    shutil.copy(ROOT / "tests" / "data" / "hostile.yaml", path)
    ws = Workshop.open(path)
    client = TestClient(create_app(ws, Guard(PORT, "t", "c")), base_url=BASE)
    client.cookies.set("sdsaudit_workshop", "t")
    pages = [
        client.get("/").text,
        client.get("/present?item=3").text,
        client.get("/easy-read").text,
    ]
    pages += [client.get(f"/step/{s.id}").text for s in ws.model.steps]
    for page in pages:
        parser = _Elements()
        parser.feed(page)
        assert parser.scripts == ["/static/workshop.js"]
        assert not [a for _, attrs in parser.found for a, _ in attrs if a.startswith("on")]
        # every link, form and file stays on the workshop's own pages
        links = [v for _, attrs in parser.found for a, v in attrs if a in ("href", "src", "action")]
        assert all(v.startswith(("/", "#")) for v in links), links
        assert "style" not in [t for t, _ in parser.found]
        assert not [a for _, attrs in parser.found for a, _ in attrs if a == "style"]


class _Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, list[tuple[str, str]]]] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag, attrs):
        pairs = [(a, v or "") for a, v in attrs]
        self.found.append((tag, pairs))
        if tag == "script":
            self.scripts.append(dict(pairs).get("src", "inline"))


def test_the_command_serves_until_interrupted(model) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "sdsaudit", "workshop", str(model), "--no-browser"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline()
        address = re.search(r"open (http://127\.0\.0\.1:\d+/\?token=\S+)", line).group(1)
        import http.cookiejar
        import urllib.request

        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        deadline = time.time() + 10
        while True:
            try:
                with opener.open(address, timeout=5) as answer:
                    assert answer.status == 200 and "Exampleshire" in answer.read().decode()
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.2)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert "Workshop stopped." in out
