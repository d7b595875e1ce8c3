"""The browser fixtures catch what a user would hit but the DOM would not show."""

from __future__ import annotations

import pytest

from storefront.testing.browser import audit_page

pytestmark = pytest.mark.e2e


def test_the_page_is_served_by_the_live_server_in_chromium(page, live_server, browser):
    response = page.goto("/form")

    assert response.url == f"{live_server.url}/form"
    assert browser.browser_type.name == "chromium"
    assert "HeadlessChrome" in page.evaluate("navigator.userAgent")


def test_console_errors_and_failed_requests_are_recorded(page, browser_watch):
    page.goto("/form")
    page.evaluate("console.error('something broke')")
    page.evaluate(
        """() => new Promise((resolve) => {
             const img = new Image();
             img.onerror = resolve;
             img.src = '/static/missing.png';
           })"""
    )
    page.evaluate("setTimeout(() => { throw new Error('uncaught') }, 0)")
    page.wait_for_timeout(100)

    problems = browser_watch.take()

    assert any("something broke" in problem for problem in problems)
    assert any("/static/missing.png: 404" in problem for problem in problems)
    assert any("uncaught exception" in problem for problem in problems)
    assert browser_watch.problems == []


def test_a_page_error_left_unread_fails_the_test_and_keeps_what_the_page_showed(pytester):
    """The `page` fixture's promise, kept in a run of its own: a console error nobody took
    fails an otherwise passing test, with a screenshot and the page's HTML left behind."""
    pytester.makepyfile(
        """
        def test_passes_but_its_page_logged_an_error(page):
            page.goto("/form")
            page.evaluate("console.error('hidden breakage')")
        """
    )

    pytester.makeconftest(
        'pytest_plugins = ["storefront.testing.plugin", "storefront.testing.browser"]'
    )

    run = pytester.runpytest_subprocess()

    run.assert_outcomes(passed=1, errors=1)
    run.stdout.fnmatch_lines(["*the page had errors a user would hit*", "*hidden breakage*"])
    (kept,) = (pytester.path / "test-artifacts").iterdir()
    assert {path.name for path in kept.iterdir()} >= {"screenshot.png", "page.html"}
    assert "Contact" in (kept / "page.html").read_text(encoding="utf-8")


def test_an_inline_script_is_blocked_by_the_content_security_policy(page, browser_watch):
    page.goto("/form")
    page.evaluate(
        """() => { const s = document.createElement('script');
                   s.textContent = 'document.title = "pwned"';
                   document.body.append(s); }"""
    )

    assert page.title() != "pwned"
    assert any("Content Security Policy" in problem for problem in browser_watch.take())


def test_the_audit_finds_unlabelled_inputs_missing_alt_text_low_contrast_and_overflow(page):
    page.goto("/form")
    assert audit_page(page) == []
    page.evaluate(
        """() => {
             const main = document.querySelector('main');
             main.append(document.createElement('input'));
             const img = document.createElement('img');
             img.src = '/static/favicon.svg';
             main.append(img);
             const faint = document.createElement('p');
             faint.textContent = 'faint text';
             faint.style.color = '#bbbbbb';
             main.append(faint);
             const wide = document.createElement('div');
             wide.style.width = '3000px';
             wide.textContent = 'wide';
             main.append(wide);
           }"""
    )

    problems = "\n".join(audit_page(page))

    assert "input has no label" in problems
    assert "has no alt text" in problems
    assert "low contrast" in problems and "faint text" in problems
    assert "page scrolls sideways" in problems


def test_mail_from_the_live_server_reaches_the_outbox_with_links_to_it(
    page, live_server, live_mail_outbox
):
    response = page.request.post(
        "/api/users",
        data={"username": "ada", "email": "ada@example.com", "password": "a long passphrase 42"},
    )

    assert response.status == 201
    link = live_mail_outbox.link_in(live_mail_outbox.last_to("ada@example.com"), "/confirm/")
    assert link.startswith(f"{live_server.url}/confirm/")
