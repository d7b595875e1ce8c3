"""Every page at 360 px and 1280 px: screenshots for people to look at, audits for the suite.

`make screenshots` runs just this module; the pictures land in
`test-artifacts/screens/<page>-360.png` and `<page>-1280.png`.
"""

from __future__ import annotations

import pytest

from storefront.testing.browser import artifacts_dir, audit_page

pytestmark = pytest.mark.e2e

WIDTHS = (360, 1280)
PAGES = {
    "contact": "/form",
    "contact-thanks": "/form/thanks",
    "not-found": "/no-such-page",
}


@pytest.mark.parametrize("name", PAGES)
def test_page_reads_well_at_phone_and_desktop_widths(page, pytestconfig, name):
    screens = artifacts_dir(pytestconfig) / "screens"
    screens.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 800})
        page.goto(PAGES[name])
        page.screenshot(path=str(screens / f"{name}-{width}.png"), full_page=True)
        assert audit_page(page) == [], f"{name} at {width} px"
