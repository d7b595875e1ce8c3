"""The catalogue and product pages, as a visitor sees them."""

from __future__ import annotations

import re

import pytest

from storefront.pages.display import money


def test_the_catalogue_lists_active_products_with_price_and_stock(client, product_factory):
    product_factory(name="Blue Kettle", price_cents=2450, stock=2)
    product_factory(name="Red Kettle", price_cents=1999, stock=0)
    product_factory(name="Hidden Kettle", active=False)

    html = client.get("/").get_data(as_text=True)

    assert "Blue Kettle" in html and "€24.50" in html and "Only 2 left" in html
    assert "Red Kettle" in html and "Sold out" in html
    assert "Hidden Kettle" not in html
    assert "2 products" in html


def test_search_and_sort_narrow_and_order_the_list(client, product_factory):
    product_factory(name="Cheap Mug", price_cents=500)
    product_factory(name="Dear Mug", price_cents=9000)
    product_factory(name="Teapot", price_cents=3000)

    html = client.get("/?q=mug&sort=-price").get_data(as_text=True)

    assert "Teapot" not in html
    assert html.index("Dear Mug") < html.index("Cheap Mug")
    assert 'value="mug"' in html
    assert '<option selected value="-price">' in html


def test_the_catalogue_is_paginated_twelve_to_a_page(client, product_factory):
    for number in range(30):
        product_factory(name=f"Item {number:02d}")

    first = client.get("/").get_data(as_text=True)
    last = client.get("/?page=3").get_data(as_text=True)

    assert "Item 11" in first and "Item 12" not in first
    assert "page 1 of 3" in first and 'rel="next"' in first
    assert "Item 24" in last and "Item 29" in last and 'rel="next"' not in last


def test_a_page_past_the_last_is_a_404_page_naming_the_last(client, product_factory):
    for number in range(13):
        product_factory(name=f"Item {number:02d}")

    response = client.get("/?page=7")

    assert response.status_code == 404
    assert "There is no page 7: this list has 2." in response.get_data(as_text=True)
    assert client.get("/?q=nothing-matches&page=1").status_code == 200


@pytest.mark.parametrize(
    "query",
    ["?sort=bogus", "?page=abc", "?page=0", "?q=%00", "?q=" + "x" * 300],
)
def test_odd_query_strings_show_the_catalogue_instead_of_failing(client, product_factory, query):
    product_factory(name="Lamp")

    response = client.get("/" + query)

    assert response.status_code == 200
    assert "Lamp" in response.get_data(as_text=True)


@pytest.mark.parametrize("number", ["1000000", "1000001", "0002000000", "9" * 400])
def test_a_page_past_any_list_is_a_404_page_as_one_past_the_last(client, product_factory, number):
    product_factory(name="Lamp")

    response = client.get(f"/?page={number}")

    assert response.status_code == 404
    assert "There is no" in response.get_data(as_text=True)


@pytest.mark.parametrize("asked", ["1_0", "+2", "%202", "%D9%A2", "2.0"])
def test_a_page_number_not_in_plain_digits_shows_the_first_page(client, product_factory, asked):
    for number in range(13):
        product_factory(name=f"Item {number:02d}")

    response = client.get(f"/?page={asked}")

    assert response.status_code == 200
    assert "page 1 of 2" in response.get_data(as_text=True)


def test_a_visitor_is_asked_to_log_in_before_buying(client, product_factory):
    product = product_factory()

    html = client.get(f"/products/{product.id}").get_data(as_text=True)

    assert f'href="/login?next=/products/{product.id}">Log in to buy</a>' in html
    assert "Add to cart" not in html


def test_the_product_page_shows_details_and_an_add_to_cart_form(
    client, product_factory, user, login_as
):
    product = product_factory(name="Lamp", description="Warm light.", price_cents=123456)
    login_as(client, user)

    html = client.get(f"/products/{product.id}").get_data(as_text=True)

    assert "<h1>Lamp</h1>" in html and "Warm light." in html and "€1,234.56" in html
    assert f'action="/cart/add/{product.id}"' in html
    assert 'name="csrf_token"' in html


def test_a_sold_out_product_has_no_add_to_cart_button(client, product_factory):
    product = product_factory(stock=0)

    html = client.get(f"/products/{product.id}").get_data(as_text=True)

    assert "Sold out" in html and "Add to cart" not in html


def test_unknown_and_inactive_products_are_a_404_page(client, product_factory):
    hidden = product_factory(active=False)

    assert client.get(f"/products/{hidden.id}").status_code == 404
    assert client.get("/products/999999").status_code == 404
    assert client.get(f"/products/{2**64}").status_code == 404


@pytest.mark.parametrize(
    ("cents", "currency", "shown"),
    [
        (0, "EUR", "€0.00"),
        (5, "USD", "$0.05"),
        (123456789, "GBP", "£1,234,567.89"),
        (1250, "CHF", "12.50 CHF"),
    ],
)
def test_prices_are_shown_with_their_currency(cents, currency, shown):
    assert money(cents, currency) == shown


def test_a_catalogue_page_costs_two_queries_however_many_products(
    client, product_factory, assert_max_queries
):
    for number in range(40):
        product_factory(name=f"Item {number:02d}")

    with assert_max_queries(2):
        html = client.get("/?page=2&sort=-price").get_data(as_text=True)

    assert html.count('class="product-card"') == 12


def test_the_pager_links_the_ends_and_the_pages_near_the_current_one(client, product_factory):
    for number in range(12 * 9):
        product_factory(name=f"Item {number:03d}")

    html = client.get("/?page=5").get_data(as_text=True)
    start = html.index('<nav class="pagination"')
    pager = html[start : html.index("</nav>", start)]

    linked = [int(n) for n in re.findall(r'page=(\d+)"><span class="visually-hidden">Page', pager)]
    assert linked == [1, 3, 4, 6, 7, 9]
    assert 'aria-current="page"><span class="visually-hidden">Page </span>5<' in pager
    assert pager.count("…") == 2


@pytest.mark.parametrize(
    "stray", ["endpoint=x", "_method=POST", "_external=1", "_scheme=javascript", "_anchor=x"]
)
def test_the_pager_links_keep_the_search_and_sort_but_nothing_else(client, product_factory, stray):
    for number in range(13):
        product_factory(name=f"Tea {number:02d}")

    response = client.get(f"/?q=tea&sort=-price&{stray}")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    start = html.index('<nav class="pagination"')
    pager = html[start : html.index("</nav>", start)]
    assert 'href="/?q=tea&amp;sort=-price&amp;page=2"' in pager
    assert re.findall(r'href="([^"]+)"', pager) == ["/?q=tea&amp;sort=-price&amp;page=2"] * 2
