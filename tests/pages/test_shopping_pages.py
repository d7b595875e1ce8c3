"""Cart, checkout and orders through the HTML forms, as a logged-in shopper."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from storefront.catalog.models import Product
from storefront.orders.models import Order


def post(client, csrf_token, page_url, action, **data):
    """Submit a form the way a browser would: with the CSRF token of the page it is on."""
    data["csrf_token"] = csrf_token(client, page_url)
    return client.post(action, data=data, follow_redirects=True)


def add(client, csrf_token, product, quantity):
    return post(
        client, csrf_token, f"/products/{product.id}", f"/cart/add/{product.id}", quantity=quantity
    )


def checkout_page(client) -> dict[str, str]:
    """The hidden fields of the checkout page as it is now: its key and the cart it shows."""
    html = client.get("/checkout").get_data(as_text=True)
    fields = ("idempotency_key", "cart_fingerprint")
    return {
        name: re.search(rf'name="{name}" type="hidden" value="([^"]+)"', html).group(1)
        for name in fields
    }


def test_visitors_are_sent_to_log_in_before_the_cart(client):
    for path in ("/cart", "/checkout", "/orders", "/orders/1"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"] == f"/login?next={path}"


def test_adding_to_the_cart_shows_the_cart_with_a_message(
    client, shopper, csrf_token, product_factory
):
    kettle = product_factory(name="Kettle", price_cents=2500)

    response = add(client, csrf_token, kettle, 2)

    html = response.get_data(as_text=True)
    assert response.request.path == "/cart"
    assert "Added 2 × Kettle to your cart." in html
    assert "€50.00" in html


@pytest.mark.parametrize("quantity", ["0", "1000", "abc"])
def test_adding_a_quantity_out_of_range_names_the_range_that_adds(
    client, shopper, csrf_token, product_factory, quantity
):
    mug = product_factory(name="Mug")

    response = add(client, csrf_token, mug, quantity)

    html = response.get_data(as_text=True)
    assert response.request.path == f"/products/{mug.id}"
    assert "Choose 1 to 999." in html
    assert "Choose 0 to 999." not in html


def test_more_than_in_stock_is_refused_with_a_message(client, shopper, csrf_token, product_factory):
    lamp = product_factory(name="Lamp", stock=1)

    response = add(client, csrf_token, lamp, 3)

    assert response.request.path == f"/products/{lamp.id}"
    assert "Only 1 of “Lamp” in stock: your cart is unchanged." in response.get_data(as_text=True)
    assert client.get("/cart").get_data(as_text=True).count("Lamp") == 0


def test_adding_what_sold_out_since_the_page_was_shown_says_it_sold_out(
    client, shopper, csrf_token, product_factory, db
):
    lamp = product_factory(name="Lamp", stock=1)
    token = csrf_token(client, f"/products/{lamp.id}")
    db.session.get(Product, lamp.id).stock = 0
    db.session.commit()

    response = client.post(
        f"/cart/add/{lamp.id}", data={"quantity": "1", "csrf_token": token}, follow_redirects=True
    )

    assert "“Lamp” has sold out: your cart is unchanged." in response.get_data(as_text=True)
    assert client.get("/api/cart").json["items"] == []


def test_more_than_in_stock_counting_the_cart_says_what_the_cart_holds(
    client, shopper, csrf_token, product_factory
):
    apron = product_factory(name="Apron", stock=1)
    add(client, csrf_token, apron, 1)

    response = add(client, csrf_token, apron, 1)

    page = response.get_data(as_text=True)
    assert (
        "Your cart already holds 1 of “Apron”; the shop has only 1: your cart is unchanged." in page
    )


def test_a_quantity_can_be_changed_and_a_line_removed(client, shopper, csrf_token, product_factory):
    kettle, lamp = product_factory(name="Kettle", price_cents=1000), product_factory(name="Lamp")
    add(client, csrf_token, kettle, 1)
    add(client, csrf_token, lamp, 1)

    changed = post(client, csrf_token, "/cart", f"/cart/items/{kettle.id}", quantity=3)
    assert "Your cart was updated." in changed.get_data(as_text=True)
    quantity_box = f'id="quantity-{kettle.id}" name="quantity" type="number" min="0" max="999"'
    assert f'{quantity_box} value="3"' in changed.get_data(as_text=True)

    removed = post(client, csrf_token, "/cart", f"/cart/items/{lamp.id}/remove")
    html = removed.get_data(as_text=True)
    assert "The item was removed from your cart." in html
    assert "Lamp" not in html and "€30.00" in html


def test_a_bad_quantity_is_reported_and_changes_nothing(
    client, shopper, csrf_token, product_factory
):
    kettle = product_factory(name="Kettle")
    add(client, csrf_token, kettle, 1)

    response = post(client, csrf_token, "/cart", f"/cart/items/{kettle.id}", quantity="lots")

    assert "Not a valid integer value." in response.get_data(as_text=True)
    assert 'value="1"' in client.get("/cart").get_data(as_text=True)


@pytest.mark.parametrize("quantity", ["1_0", "+2", " 2", "2 ", "١", "２", "2.0", "0x2"])
def test_a_quantity_not_in_plain_digits_is_reported_and_adds_nothing(
    client, shopper, csrf_token, product_factory, quantity
):
    mug = product_factory(name="Mug")

    response = add(client, csrf_token, mug, quantity)

    assert response.request.path == f"/products/{mug.id}"
    assert "Not a valid integer value." in response.get_data(as_text=True)
    assert "Mug" not in client.get("/cart").get_data(as_text=True)


def test_a_quantity_of_hundreds_of_digits_is_a_form_error_not_a_crash(
    client, shopper, csrf_token, product_factory
):
    kettle = product_factory(name="Kettle")
    add(client, csrf_token, kettle, 1)
    huge = "9" * 400  # past what a float holds: WTForms' range check raised OverflowError

    added = add(client, csrf_token, kettle, huge)
    changed = post(client, csrf_token, "/cart", f"/cart/items/{kettle.id}", quantity=huge)

    assert added.status_code == changed.status_code == 200
    assert "That number is too large." in added.get_data(as_text=True)
    assert "That number is too large." in changed.get_data(as_text=True)
    assert 'value="1"' in client.get("/cart").get_data(as_text=True)


def test_a_cart_post_without_its_csrf_token_is_refused(client, shopper, product_factory):
    kettle = product_factory()

    response = client.post(f"/cart/add/{kettle.id}", data={"quantity": 1})

    assert response.status_code == 400
    assert "This form has expired or did not come from this site." in response.get_data(
        as_text=True
    )


def test_checkout_places_one_order_even_when_submitted_twice(
    client, shopper, csrf_token, product_factory, db
):
    kettle = product_factory(name="Kettle", price_cents=2500, stock=5)
    add(client, csrf_token, kettle, 2)
    page = checkout_page(client)

    first = post(client, csrf_token, "/cart", "/checkout", **page)
    second = post(client, csrf_token, "/cart", "/checkout", **page)

    assert re.fullmatch(r"/orders/\d+", first.request.path)
    assert second.request.path == first.request.path
    assert "is placed." in first.get_data(as_text=True)
    assert "was already placed" in second.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Order)) == 1
    assert db.session.get(Product, kettle.id).stock == 3
    assert "Your cart is empty" in client.get("/cart").get_data(as_text=True)


def test_two_checkouts_one_after_the_other_place_two_orders(
    client, shopper, csrf_token, product_factory
):
    kettle = product_factory(name="Kettle", stock=5)
    placed = []
    for _ in range(2):
        add(client, csrf_token, kettle, 1)
        page = checkout_page(client)
        placed.append(post(client, csrf_token, "/cart", "/checkout", **page).request.path)

    assert placed[0] != placed[1]
    assert all(re.fullmatch(r"/orders/\d+", path) for path in placed)


@pytest.mark.parametrize(
    ("referrer", "then"),
    [
        ("/products/{id}", "/login?next=/products/{id}"),
        ("/?q=kettle", "/login?next=/%3Fq%3Dkettle"),
        (None, "/login"),
        ("[::1/x", "/login"),  # no URL at all: no page to go back to, and no 500
    ],
    ids=["back-to-its-page", "back-to-its-search", "no-referrer", "not-a-url"],
)
def test_a_cart_form_sent_after_a_logout_in_another_tab_leads_to_log_in(
    client, shopper, csrf_token, product_factory, referrer, then
):
    """Its token died with the session: the shopper is asked to log in, not shown an error."""
    kettle = product_factory()
    stale = csrf_token(client, f"/products/{kettle.id}")
    assert post(client, csrf_token, "/cart", "/logout").request.path == "/"
    headers = {"Referer": f"http://localhost{referrer.format(id=kettle.id)}"} if referrer else {}

    response = client.post(
        f"/cart/add/{kettle.id}", data={"quantity": "1", "csrf_token": stale}, headers=headers
    )

    assert response.status_code == 303
    assert response.headers["Location"] == then.format(id=kettle.id)
    assert "You were logged out meanwhile: log in again" in client.get("/login").get_data(
        as_text=True
    )


def test_a_cart_form_from_another_site_is_still_refused(client, shopper, product_factory):
    kettle = product_factory()
    headers = {"Referer": "https://elsewhere.example/"}

    response = client.post(f"/cart/add/{kettle.id}", data={"quantity": "1"}, headers=headers)

    assert response.status_code == 400
    assert client.get("/api/cart").json["items"] == []


@pytest.mark.parametrize("gone", ["off-sale", "deleted"])
def test_adding_a_product_gone_since_its_page_was_shown_says_so_in_the_shop(
    client, shopper, csrf_token, product_factory, db, gone
):
    kettle = product_factory(name="Kettle")
    token = csrf_token(client, f"/products/{kettle.id}")
    if gone == "off-sale":
        kettle.active = False
    else:
        db.session.delete(kettle)
    db.session.commit()

    response = client.post(f"/cart/add/{kettle.id}", data={"quantity": "1", "csrf_token": token})

    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    assert "Sorry, that product is no longer on sale." in client.get("/").get_data(as_text=True)
    assert client.get("/api/cart").json["items"] == []


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ("price", "“Kettle” now costs €99.00 (it was €25.00)."),
        ("quantity", "“Kettle”: 7 now (it was 2)."),
        ("added", "“Mug” was added."),
        ("removed", "Something you had in the cart is no longer in it."),
    ],
)
def test_checkout_orders_only_what_the_page_showed_and_says_what_changed(
    client, shopper, csrf_token, product_factory, db, change, said
):
    """A price changed by staff, or a line changed in another tab, after the page was
    opened: nothing is ordered, and the page shows the cart as it is now, saying which
    line changed how."""
    kettle = product_factory(name="Kettle", price_cents=2500, stock=9)
    mug = product_factory(name="Mug", price_cents=800, stock=9)
    add(client, csrf_token, kettle, 2)
    if change == "removed":
        add(client, csrf_token, mug, 1)
    page = checkout_page(client)
    if change == "price":
        db.session.get(Product, kettle.id).price_cents = 9900
        db.session.commit()
    elif change == "quantity":
        post(client, csrf_token, "/cart", f"/cart/items/{kettle.id}", quantity=7)
    elif change == "added":
        add(client, csrf_token, mug, 1)
    else:
        post(client, csrf_token, "/cart", f"/cart/items/{mug.id}/remove")

    refused = post(client, csrf_token, "/cart", "/checkout", **page)

    html = refused.get_data(as_text=True)
    assert refused.request.path == "/checkout"
    assert "changed since you reviewed it" in html
    assert said in html
    assert db.session.scalar(select(func.count()).select_from(Order)) == 0
    placed = post(client, csrf_token, "/cart", "/checkout", **checkout_page(client))
    assert "is placed." in placed.get_data(as_text=True)


def test_a_line_taken_off_sale_says_so_and_can_only_be_removed(
    client, shopper, csrf_token, product_factory, db
):
    kettle = product_factory(name="Kettle")
    add(client, csrf_token, kettle, 2)
    db.session.get(Product, kettle.id).active = False
    db.session.commit()

    html = client.get("/cart").get_data(as_text=True)

    assert "No longer on sale: remove it to check out." in html
    assert f'href="/products/{kettle.id}"' not in html  # that page is a 404 now
    assert f'action="/cart/items/{kettle.id}"' not in html
    removed = post(client, csrf_token, "/cart", f"/cart/items/{kettle.id}/remove")
    assert "Your cart is empty" in removed.get_data(as_text=True)


def test_checkout_with_a_line_taken_off_sale_offers_no_order(
    client, shopper, csrf_token, product_factory, db
):
    kettle, mug = product_factory(name="Kettle"), product_factory(name="Mug")
    add(client, csrf_token, kettle, 1)
    add(client, csrf_token, mug, 1)
    db.session.get(Product, kettle.id).active = False
    db.session.commit()

    html = client.get("/checkout").get_data(as_text=True)

    assert 'Kettle <strong class="off-sale">No longer on sale</strong>' in html
    assert "change the cart</a> to place the order" in html
    assert "Place order" not in html


def test_a_line_asking_for_more_than_is_left_says_so_in_cart_and_checkout(
    client, shopper, csrf_token, product_factory, db
):
    """Someone else bought some meanwhile: the order would be refused as it is."""
    kettle = product_factory(name="Kettle", stock=5)
    add(client, csrf_token, kettle, 3)
    db.session.get(Product, kettle.id).stock = 2
    db.session.commit()

    cart = client.get("/cart").get_data(as_text=True)
    checkout = client.get("/checkout").get_data(as_text=True)

    assert "Only 2 left: lower the quantity or remove it to check out." in cart
    assert 'Kettle <strong class="off-sale">Only 2 left</strong>' in checkout
    assert "Place order" not in checkout and "Total to pay" not in checkout
    assert "Total as it stands" in checkout
    db.session.get(Product, kettle.id).stock = 0
    db.session.commit()
    assert "Sold out: remove it to check out." in client.get("/cart").get_data(as_text=True)


def test_a_line_asking_for_all_that_is_left_can_be_ordered(
    client, shopper, csrf_token, product_factory
):
    """The last units are for sale too."""
    kettle = product_factory(name="Kettle", stock=3)
    add(client, csrf_token, kettle, 3)

    cart = client.get("/cart").get_data(as_text=True)
    checkout = client.get("/checkout").get_data(as_text=True)

    assert "lower the quantity" not in cart
    assert "off-sale" not in checkout
    assert "Place order" in checkout and "Total to pay" in checkout


def test_checkout_of_an_empty_cart_says_so_and_offers_no_order(client, shopper):
    response = client.get("/checkout")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert "Your cart is empty: add something first." in html
    assert "Place order" not in html and 'href="/"' in html


def test_the_shopper_sees_and_cancels_an_order(client, shopper, csrf_token, product_factory, db):
    kettle = product_factory(name="Kettle", price_cents=2500, stock=5)
    add(client, csrf_token, kettle, 2)
    placed = post(client, csrf_token, "/cart", "/checkout", **checkout_page(client))
    order_path = placed.request.path

    listing = client.get("/orders").get_data(as_text=True)
    assert f'href="{order_path}"' in listing and "Placed" in listing and "€50.00" in listing

    stale_tab = csrf_token(client, order_path)
    cancelled = post(client, csrf_token, order_path, f"{order_path}/cancel")
    html = cancelled.get_data(as_text=True)
    assert "is cancelled." in html and 'Status: <span class="status status-cancelled">' in html
    assert "Cancel this order" not in html
    assert db.session.get(Product, kettle.id).stock == 5

    again = client.post(
        f"{order_path}/cancel", data={"csrf_token": stale_tab}, follow_redirects=True
    )
    assert "This order is already cancelled." in again.get_data(as_text=True)
    assert db.session.get(Product, kettle.id).stock == 5


def test_another_shoppers_order_is_a_404(
    client, csrf_token, user_factory, login_as, product_factory
):
    owner, other = user_factory(), user_factory()
    kettle = product_factory()
    login_as(client, owner)
    add(client, csrf_token, kettle, 1)
    order_path = post(
        client, csrf_token, "/cart", "/checkout", **checkout_page(client)
    ).request.path

    login_as(client, other)

    assert client.get(order_path).status_code == 404
    token = csrf_token(client, "/orders")
    assert client.post(f"{order_path}/cancel", data={"csrf_token": token}).status_code == 404


@pytest.mark.parametrize("number", ["1_0", "+2", "%D9%A2", "abc", "0"])
def test_an_orders_page_number_not_in_plain_digits_shows_the_first_page(client, shopper, number):
    response = client.get(f"/orders?page={number}")

    assert response.status_code == 200
    assert "There is no page" not in response.get_data(as_text=True)


def test_an_orders_page_past_any_list_is_a_404_page(client, shopper):
    assert client.get("/orders?page=2000000").status_code == 404


def test_the_page_of_a_missing_order_is_titled_as_it_is_headed(client, shopper):
    """Screen readers read the title first: it said "Request refused" under a heading
    saying the page was not found."""
    html = client.get("/orders/987654").get_data(as_text=True)

    assert "<title>404 We could not find that page · Storefront</title>" in html
    assert '<h1 id="error-heading">We could not find that page</h1>' in html


def test_an_orders_page_past_the_last_is_a_404_naming_it(client, shopper):
    response = client.get("/orders?page=3")

    assert response.status_code == 404
    assert "There is no page 3: this list has 1." in response.get_data(as_text=True)


def _order_placed_by(app, login_as, buyer, product) -> int:
    own = app.test_client()
    login_as(own, buyer)
    added = own.post("/api/cart/items", json={"product_id": product.id, "quantity": 1})
    assert added.status_code == 200, added.json
    placed = own.post("/api/cart/checkout")
    assert placed.status_code == 201, placed.json
    return placed.json["id"]


def test_staff_see_who_placed_each_order(
    app, client, login_as, user, user_factory, admin, staff, product_factory
):
    kettle = product_factory()
    kept = _order_placed_by(app, login_as, user, kettle)
    leaver = user_factory()
    orphaned = _order_placed_by(app, login_as, leaver, kettle)
    login_as(client, admin)
    assert client.delete(f"/api/users/{leaver.id}").status_code == 204
    login_as(client, staff)

    listing = client.get("/orders").get_data(as_text=True)
    customers = {
        order_id: re.search(rf"Order #{order_id}</a></td>\s*<td[^>]*>([^<]*)</td>", listing)[1]
        for order_id in (kept, orphaned)
    }
    page = client.get(f"/orders/{kept}").get_data(as_text=True)

    assert customers == {kept: user.username, orphaned: "(account deleted)"}
    assert "<title>All orders · Storefront</title>" in listing
    assert f"Customer: {user.username}" in page and f'href="mailto:{user.email}"' in page


def test_staff_orders_page_reads_its_buyers_at_once(
    app, client, login_as, user_factory, staff, product_factory, assert_max_queries
):
    """One query for all the page's buyers, not one per order."""
    kettle = product_factory()
    login_as(client, staff)
    client.get("/orders")  # the session's first request also registers it

    def statements_of_the_page() -> int:
        with assert_max_queries(100) as counted:
            assert client.get("/orders").status_code == 200
        return len(counted.statements)

    _order_placed_by(app, login_as, user_factory(), kettle)
    with_one = statements_of_the_page()
    for _ in range(3):
        _order_placed_by(app, login_as, user_factory(), kettle)

    assert statements_of_the_page() == with_one


def test_a_customer_is_not_shown_a_customer_column(app, client, login_as, shopper, product_factory):
    order_id = _order_placed_by(app, login_as, shopper, product_factory())

    assert "Customer" not in client.get("/orders").get_data(as_text=True)
    assert "Customer:" not in client.get(f"/orders/{order_id}").get_data(as_text=True)


def test_a_product_name_holding_markup_is_shown_as_text_everywhere(
    client, shopper, csrf_token, product_factory, db
):
    """A staff member's `<script>` in a name must not run on a shopper's page: the product
    page, the flash after adding it, and the cart once it is off sale."""
    script = "<script>alert(1)</script>"
    product = product_factory(name=script, stock=5)

    product_page = client.get(f"/products/{product.id}").get_data(as_text=True)
    added = add(client, csrf_token, product, 1).get_data(as_text=True)
    product.active = False
    db.session.commit()
    cart = client.get("/cart").get_data(as_text=True)

    for html in (product_page, added, cart):
        assert script not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
