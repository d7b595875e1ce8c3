"""Picture and file writes racing each other on a real server (see tests/live.py).

On PostgreSQL these requests really overlap: a write that read a row and then changes it,
without holding it, finds it gone (a 500) or leaves a picture behind that nothing shows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any

from media_samples import make_image
from sqlalchemy import func, select

from live import TIMEOUT, all_at_once, logged_in_session
from storefront.extensions import db
from storefront.media import service
from storefront.media.models import ProductImage, StoredFile
from storefront.media.storage import FileSystemStorage
from storefront.testing.factories import ProductFactory, UserFactory

ROUNDS = 5


def new_id(live_server: Any, factory: Any, **fields: Any) -> int:
    with live_server.app.app_context():
        return factory(**fields).id


def staff_tabs(live_server: Any, n: int) -> list[Any]:
    """Sessions of `n` staff members, each registered by a first request."""
    tabs = []
    for _ in range(n):
        tab = logged_in_session(live_server, new_id(live_server, UserFactory, role="staff"))
        assert tab.get(f"{live_server.url}/api/me", timeout=TIMEOUT).status_code == 200
        tabs.append(tab)
    return tabs


def put_picture(live_server: Any, tab: Any, product_id: int, color: tuple) -> Any:
    data = make_image("PNG", color=color)
    url = f"{live_server.url}/api/products/{product_id}/image"
    return lambda: tab.put(url, files={"file": ("a.png", data, "image/png")}, timeout=TIMEOUT)


def meanwhile(
    request: Callable[[], Any], paused: threading.Event, may_go: threading.Event, action: Any
) -> tuple[Any, Any]:
    """Send `request` from a thread; once it has `paused`, run `action`, then let the request
    go on. Returns the request's response and what `action` returned."""
    responses: list[Any] = []
    thread = threading.Thread(target=lambda: responses.append(request()))
    thread.start()
    try:
        assert paused.wait(timeout=TIMEOUT)
        done = action()
    finally:
        may_go.set()
        thread.join(timeout=TIMEOUT)
    return responses[0], done


def pictures(live_server: Any) -> tuple[int, int]:
    """(public files, product links) as committed."""
    with live_server.app.app_context():
        public = db.session.scalar(
            select(func.count()).select_from(StoredFile).where(StoredFile.public.is_(True))
        )
        links = db.session.scalar(select(func.count()).select_from(ProductImage))
        db.session.remove()
    return public, links


def test_two_pictures_at_once_keep_one_and_leave_none_behind(live_server):
    tabs = staff_tabs(live_server, 2)
    for round_ in range(ROUNDS):
        product_id = new_id(live_server, ProductFactory)
        assert put_picture(live_server, tabs[0], product_id, (round_, 0, 0))().status_code == 200

        responses = all_at_once(
            [
                put_picture(live_server, tab, product_id, (round_, k + 1, 0))
                for k, tab in enumerate(tabs)
            ]
        )

        assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
        assert pictures(live_server) == (round_ + 1, round_ + 1)


def test_a_picture_for_a_product_deleted_meanwhile_is_a_404(live_server):
    uploader, deleter = staff_tabs(live_server, 2)
    for round_ in range(ROUNDS):
        product_id = new_id(live_server, ProductFactory)
        url = f"{live_server.url}/api/products/{product_id}"

        put, deleted = all_at_once(
            [
                put_picture(live_server, uploader, product_id, (round_, 9, 9)),
                lambda url=url: deleter.delete(url, timeout=TIMEOUT),
            ]
        )

        assert (put.status_code, deleted.status_code) in {(200, 204), (404, 204)}, put.text


def test_deleting_a_file_twice_at_once_is_one_204_and_one_404(live_server):
    owner = new_id(live_server, UserFactory)
    tabs = [logged_in_session(live_server, owner) for _ in range(2)]
    for round_ in range(ROUNDS):
        files = {"file": ("a.txt", f"text {round_}\n".encode(), "text/plain")}
        created = tabs[0].post(f"{live_server.url}/api/upload", files=files, timeout=TIMEOUT)
        assert created.status_code == 201, created.text
        url = f"{live_server.url}/api/files/{created.json()['id']}"

        responses = all_at_once(
            [lambda tab=tab, url=url: tab.delete(url, timeout=TIMEOUT) for tab in tabs]
        )

        assert sorted(r.status_code for r in responses) == [204, 404]


def test_an_image_whose_owner_is_deleted_while_it_is_decoded_is_a_401(live_server, monkeypatch):
    owner = new_id(live_server, UserFactory)
    tab = logged_in_session(live_server, owner)
    admin = logged_in_session(live_server, new_id(live_server, UserFactory, role="admin"))
    decoding, may_finish = threading.Event(), threading.Event()
    process_image = service.process_image

    def slow_process_image(*args: Any, **kwargs: Any) -> Any:
        decoding.set()
        may_finish.wait(timeout=TIMEOUT)
        return process_image(*args, **kwargs)

    monkeypatch.setattr(service, "process_image", slow_process_image)
    data = make_image("PNG")
    upload = partial(
        tab.post,
        f"{live_server.url}/api/images",
        files={"file": ("a.png", data, "image/png")},
        timeout=TIMEOUT,
    )
    delete = partial(admin.delete, f"{live_server.url}/api/users/{owner}", timeout=TIMEOUT)

    uploaded, deleted = meanwhile(upload, decoding, may_finish, delete)

    assert deleted.status_code == 204
    assert uploaded.status_code == 401, uploaded.text
    with live_server.app.app_context():
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 0
        db.session.remove()


def upload_file(live_server: Any, tab: Any, data: bytes) -> Any:
    url = f"{live_server.url}/api/upload"
    return lambda: tab.post(url, files={"file": ("a.txt", data, "text/plain")}, timeout=TIMEOUT)


def test_two_uploads_at_once_cannot_pass_the_quota_together(live_server, monkeypatch):
    monkeypatch.setitem(live_server.app.config, "MEDIA_QUOTA_BYTES", 150_000)
    for _ in range(ROUNDS):
        tab = logged_in_session(live_server, new_id(live_server, UserFactory))
        assert tab.get(f"{live_server.url}/api/me", timeout=TIMEOUT).status_code == 200
        upload = upload_file(live_server, tab, b"x" * 100_000)

        answers = all_at_once([upload, upload])

        assert sorted(answer.status_code for answer in answers) == [201, 413]


def test_a_picture_set_while_its_uploader_checks_out_that_product_is_no_deadlock(
    live_server, monkeypatch
):
    """Checkout holds the buyer's account, then the products; setting a picture takes the
    uploader's account and the product in the same order, or each would wait for the other
    (PostgreSQL then fails one of them, a 503)."""
    staff_id = new_id(live_server, UserFactory, role="staff")
    tab = logged_in_session(live_server, staff_id)
    product_id = new_id(live_server, ProductFactory, stock=5)
    cart = f"{live_server.url}/api/cart"
    assert tab.post(f"{cart}/items", json={"product_id": product_id, "quantity": 1}).ok
    checkouts: list[threading.Thread] = []
    orders: list[Any] = []
    lock_product = service.lock_product

    def checkout_meanwhile(product_id: int) -> Any:
        product = lock_product(product_id)
        checkouts.append(
            threading.Thread(
                target=lambda: orders.append(tab.post(f"{cart}/checkout", timeout=TIMEOUT))
            )
        )
        checkouts[0].start()
        checkouts[0].join(timeout=0.5)  # it waits for the picture, which holds the product
        return product

    monkeypatch.setattr(service, "lock_product", checkout_meanwhile)
    pictured = put_picture(live_server, tab, product_id, (0, 0, 255))()
    checkouts[0].join(timeout=TIMEOUT)

    assert pictured.status_code == 200, pictured.text
    assert [order.status_code for order in orders] == [201], orders[0].text


def test_an_upload_keeps_its_bytes_when_a_file_of_the_same_content_is_deleted_meanwhile(
    live_server, monkeypatch
):
    """Identical content is stored once: deleting one copy while a second upload of the
    same bytes has stored them but not yet committed its row must not remove them."""
    bob = logged_in_session(live_server, new_id(live_server, UserFactory))
    alice = logged_in_session(live_server, new_id(live_server, UserFactory))
    content = b"the same bytes, uploaded twice\n"
    first = upload_file(live_server, bob, content)()
    assert first.status_code == 201
    stored, may_go = threading.Event(), threading.Event()
    storage = FileSystemStorage(live_server.app.config["UPLOAD_FOLDER"])

    class PausingStorage(FileSystemStorage):
        def save(self, stream: Any) -> tuple[str, str, int]:
            saved = storage.save(stream)
            if not stored.is_set():
                stored.set()
                may_go.wait(timeout=TIMEOUT)
            return saved

    monkeypatch.setattr(service, "get_storage", lambda: PausingStorage(storage.root))

    def delete_first() -> Any:
        # SQLite: the delete waits for the upload's write lock; let the upload go on then.
        threading.Timer(1.0, may_go.set).start()
        return bob.delete(f"{live_server.url}{first.json()['url']}", timeout=TIMEOUT)

    second, deleted = meanwhile(
        upload_file(live_server, alice, content), stored, may_go, delete_first
    )

    assert deleted.status_code == 204
    assert second.status_code == 201, second.text
    download = alice.get(f"{live_server.url}{second.json()['url']}", timeout=TIMEOUT)
    assert download.status_code == 200
    assert download.content == content
