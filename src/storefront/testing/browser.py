"""Browser fixtures for the e2e suite: Playwright driving Debian's Chromium against `live_server`.

Loaded next to `storefront.testing.plugin`. Browsers cannot be downloaded here, so the
pytest-playwright `browser` fixture is pointed at `/usr/bin/chromium` (or `$CHROMIUM_PATH`).
The `page` fixture watches the page: a console error, an uncaught exception or a failed
request fails the test, and a failing test leaves a screenshot and the page's HTML under
`test-artifacts/<test>/`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..extensions import db as _db
from .mail import MailOutbox, SmtpServer
from .plugin import LiveServer

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS_DIR = "test-artifacts"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9_.-]+")


def chromium_path() -> str:
    """Where Debian's Chromium lives; `CHROMIUM_PATH` overrides it."""
    return os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def artifacts_dir(config: pytest.Config) -> Path:
    """`test-artifacts/` at the project root: failure artifacts and screenshots go there."""
    return Path(config.rootpath) / ARTIFACTS_DIR


@dataclass
class BrowserWatch:
    """What went wrong in a page that a user would not see in the DOM.

    Console errors, uncaught exceptions, requests that failed on the network and
    sub-resources (styles, images…) answered with an error status. A document answered
    with an error status is the page under test (a 404 page, a refused form) and only
    counts if a test did not expect it: its console echo is ignored.
    """

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)
    error_documents: set[str] = field(default_factory=set)

    def attach(self, page: Any) -> None:
        """Start listening to `page`'s events."""
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def _on_console(self, message: Any) -> None:
        if message.type != "error":
            return
        source = (message.location or {}).get("url", "")
        if source in self.error_documents and message.text.startswith("Failed to load resource"):
            return
        self.console_errors.append(f"{message.text} ({source})")

    def _on_request_failed(self, request: Any) -> None:
        if request.failure == "net::ERR_ABORTED":
            return  # the browser dropped it for a newer navigation: nothing went wrong
        self.failed_requests.append(f"{request.method} {request.url}: {request.failure}")

    def _on_response(self, response: Any) -> None:
        if response.status < 400:
            return
        if response.request.resource_type == "document":
            self.error_documents.add(response.url)
        else:
            self.failed_requests.append(
                f"{response.request.method} {response.url}: {response.status}"
            )

    def take(self) -> list[str]:
        """The problems so far, forgotten afterwards: for a test that provokes one on purpose."""
        problems = self.problems
        self.console_errors.clear()
        self.page_errors.clear()
        self.failed_requests.clear()
        return problems

    @property
    def problems(self) -> list[str]:
        """Everything recorded, one line each; empty when the page behaved."""
        return [
            *(f"console error: {text}" for text in self.console_errors),
            *(f"uncaught exception: {text}" for text in self.page_errors),
            *(f"failed request: {text}" for text in self.failed_requests),
        ]


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """Keep each phase's report on the item so fixtures can tell whether the test failed."""
    report = yield
    setattr(item, f"storefront_report_{report.when}", report)
    return report


def _test_failed(item: pytest.Item) -> bool:
    return any(
        getattr(getattr(item, f"storefront_report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )


def save_page_artifacts(page: Any, folder: Path) -> None:
    """Write `screenshot.png` and `page.html` of `page` into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "screenshot.png"), full_page=True)
    (folder / "page.html").write_text(page.content(), encoding="utf-8")


@pytest.fixture(scope="session")
def browser_type_launch_args(pytestconfig: pytest.Config) -> dict[str, Any]:
    """Launch Debian's Chromium headless (pytest-playwright's `--headed` still works)."""
    return {
        "executable_path": chromium_path(),
        "headless": not pytestconfig.getoption("--headed", default=False),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(_live_server_session: LiveServer) -> dict[str, Any]:
    """Every browser context talks to the live server: `page.goto("/cart")` works."""
    return {"base_url": _live_server_session.url, "viewport": {"width": 1280, "height": 800}}


@pytest.fixture
def browser_watch() -> BrowserWatch:
    """The `BrowserWatch` of this test's `page`; a test may read it or accept an error."""
    return BrowserWatch()


@pytest.fixture
def page(
    context: Any,
    live_server: LiveServer,
    browser_watch: BrowserWatch,
    request: pytest.FixtureRequest,
) -> Iterator[Any]:
    """A Chromium page on the freshly emptied `live_server`, watched for hidden errors.

    After the test, console errors, uncaught exceptions and failed requests fail it; a
    failed test leaves `test-artifacts/<test>/screenshot.png` and `page.html`.
    """
    browser_page = context.new_page()
    browser_page.set_default_timeout(10_000)
    browser_watch.attach(browser_page)
    yield browser_page
    problems = browser_watch.problems
    if problems or _test_failed(request.node):
        name = _UNSAFE_NAME.sub("-", request.node.nodeid).strip("-")
        save_page_artifacts(browser_page, artifacts_dir(request.config) / name)
    if problems:
        pytest.fail("the page had errors a user would hit:\n" + "\n".join(problems))


#: Runs in the page; returns one line per accessibility or layout problem a user would hit.
_AUDIT_SCRIPT = (Path(__file__).parent / "audit.js").read_text(encoding="utf-8")


def audit_page(page: Any) -> list[str]:
    """Accessibility and layout problems of the page as shown now (empty when none).

    Checks what a user would trip over: sideways scrolling, inputs without a label,
    images without alt text or that did not load, and text below WCAG AA contrast.
    """
    return page.evaluate(_AUDIT_SCRIPT)


@pytest.fixture
def live_data(live_server: LiveServer) -> Callable[..., Any]:
    """`live_data(ProductFactory, name=...)`: a row committed to the live server's database.

    The object comes back loaded and detached, so a test can read its fields afterwards.
    """

    def create(factory: Any, **fields: Any) -> Any:
        with live_server.app.app_context():
            row = factory(**fields)
            _db.session.refresh(row)
            _db.session.expunge(row)
        return row

    return create


def log_in(page: Any, user: Any) -> None:
    """Log `user` in on the browser's cookies through `POST /api/login` (faster than the form)."""
    response = page.request.post(
        "/api/login", data={"username": user.username, "password": user.password}
    )
    assert response.ok, f"login of {user.username} failed: {response.status} {response.text()}"


@pytest.fixture
def live_mail_outbox(
    live_server: LiveServer, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MailOutbox]:
    """The mail the live server sends during this test, received by a real SMTP server.

    Links in the mail point at the live server, so a browser can follow them.
    """
    outbox = MailOutbox(smtp_server)
    settings = {**outbox.settings, "PUBLIC_BASE_URL": live_server.url}
    for key, value in settings.items():
        monkeypatch.setitem(live_server.app.config, key, value)
    yield outbox
    outbox.close()
