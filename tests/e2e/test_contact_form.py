"""The contact form in a real browser: sending, field errors, and a forged CSRF token."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from storefront.extensions import db
from storefront.pages.models import ContactMessage

pytestmark = pytest.mark.e2e


def stored_messages(live_server) -> list[tuple[str, str, str]]:
    with live_server.app.app_context():
        rows = db.session.scalars(select(ContactMessage)).all()
        return [(row.name, row.email, row.message) for row in rows]


def test_visitor_sends_a_message_and_is_thanked(page, live_server):
    page.goto("/form")
    page.get_by_label("Name").fill("Ada Lovelace")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("Message").fill("Do you ship engines?")
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_role("heading", name="Thank you!")).to_be_visible()
    assert stored_messages(live_server) == [
        ("Ada Lovelace", "ada@example.com", "Do you ship engines?")
    ]


def test_missing_fields_are_reported_next_to_them(page, live_server):
    page.goto("/form")
    page.get_by_label("Email").fill("not an email")
    page.get_by_role("button", name="Send").click()

    name = page.get_by_label("Name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(name).to_have_accessible_description("This field is required.")
    expect(page.get_by_label("Email")).to_have_accessible_description("Invalid email address.")
    expect(page.get_by_label("Email")).to_have_value("not an email")
    assert stored_messages(live_server) == []


def test_a_tampered_csrf_token_is_refused(page, live_server):
    page.goto("/form")
    page.locator("input[name=csrf_token]").evaluate(
        "input => { input.value = 'forged' + input.value }"
    )
    page.get_by_label("Name").fill("Mallory")
    page.get_by_label("Email").fill("mallory@example.com")
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_role("heading", name="We could not handle that request")).to_be_visible()
    expect(page.get_by_text("reload the page and send it again")).to_be_visible()
    assert stored_messages(live_server) == []
