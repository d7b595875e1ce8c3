"""Product changes and deletes racing a delete on a real server (see tests/live.py).

On PostgreSQL the delete may commit between the change's read of the product and its
write: the change must then be a 404, or come first and answer 200, never a 500.
"""

from __future__ import annotations

from live import TIMEOUT, all_at_once, logged_in_session
from storefront.testing.factories import ProductFactory, UserFactory

ROUNDS = 6


def test_a_change_racing_the_product_delete_is_200_or_404(live_server):
    with live_server.app.app_context():
        staff_ids = [UserFactory(role="staff").id for _ in range(2)]
    editor, deleter = (logged_in_session(live_server, i) for i in staff_ids)
    for tab in (editor, deleter):
        assert tab.get(f"{live_server.url}/api/me", timeout=TIMEOUT).status_code == 200
    for _ in range(ROUNDS):
        with live_server.app.app_context():
            url = f"{live_server.url}/api/products/{ProductFactory().id}"

        changed, deleted = all_at_once(
            [
                lambda url=url: editor.patch(url, json={"price_cents": 5}, timeout=TIMEOUT),
                lambda url=url: deleter.delete(url, timeout=TIMEOUT),
            ]
        )

        assert deleted.status_code == 204, deleted.text
        assert changed.status_code in (200, 404), changed.text


def test_deleting_a_product_many_times_at_once_is_one_204_and_the_rest_404(live_server):
    with live_server.app.app_context():
        staff_ids = [UserFactory(role="staff").id for _ in range(6)]
    tabs = [logged_in_session(live_server, i) for i in staff_ids]
    for tab in tabs:
        assert tab.get(f"{live_server.url}/api/me", timeout=TIMEOUT).status_code == 200
    for _ in range(ROUNDS):
        with live_server.app.app_context():
            url = f"{live_server.url}/api/products/{ProductFactory().id}"

        answers = all_at_once(
            [lambda tab=tab, url=url: tab.delete(url, timeout=TIMEOUT) for tab in tabs]
        )

        assert sorted(a.status_code for a in answers) == [204] + [404] * (len(tabs) - 1)
