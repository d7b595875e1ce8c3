"""The catalogue over HTTP: browsing, searching, sorting, paging and managing products."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

NEW_PRODUCT = {
    "sku": "MUG-RED",
    "name": "Red mug",
    "description": "Holds tea.",
    "price_cents": 1250,
    "stock": 7,
}


def names(response) -> list[str]:
    return [p["name"] for p in response.get_json()]


# --- reading ---------------------------------------------------------------------------


def test_anyone_lists_active_products_only(client, product_factory):
    product_factory(name="Visible")
    product_factory(name="Hidden", active=False)

    response = client.get("/api/products")

    assert response.status_code == 200
    assert names(response) == ["Visible"]
    assert response.headers["X-Total-Count"] == "1"


def test_a_product_has_every_documented_field(client, product_factory):
    product = product_factory(sku="TEA-1", name="Tea", price_cents=450, stock=3)

    body = client.get(f"/api/products/{product.id}").get_json()

    assert body["id"] == product.id
    assert body["sku"] == "TEA-1"
    assert body["price_cents"] == 450
    assert body["currency"] == "EUR"
    assert body["stock"] == 3
    assert body["active"] is True
    assert body["image_url"] is None
    assert body["created_at"].endswith("Z") and body["updated_at"].endswith("Z")
    assert set(body) == {
        "id", "sku", "name", "description", "price_cents", "currency", "stock", "active",
        "image_url", "created_at", "updated_at",
    }  # fmt: skip


@pytest.mark.parametrize("path", ["/api/products/999999", f"/api/products/{2**63}"])
def test_an_unknown_product_is_404(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "error" in response.get_json()


def test_an_inactive_product_is_404_for_customers_but_visible_to_staff(
    client, login_as, product_factory, user, staff
):
    product = product_factory(active=False)
    assert client.get(f"/api/products/{product.id}").status_code == 404
    login_as(client, user)
    assert client.get(f"/api/products/{product.id}").status_code == 404
    login_as(client, staff)
    assert client.get(f"/api/products/{product.id}").get_json()["active"] is False


def test_the_id_of_a_deleted_product_is_never_given_again(client, login_as, staff):
    """SQLite would hand the newest row's id to the next one; a stale link or a retried
    DELETE would then reach another product."""
    login_as(client, staff)
    first = client.post("/api/products", json=NEW_PRODUCT).get_json()["id"]
    assert client.delete(f"/api/products/{first}").status_code == 204

    second = client.post("/api/products", json=NEW_PRODUCT).get_json()["id"]

    assert second > first
    assert client.delete(f"/api/products/{first}").status_code == 404
    assert client.get(f"/api/products/{second}").status_code == 200


# --- search, sort, pagination ----------------------------------------------------------


def test_search_matches_name_or_description_ignoring_case(client, product_factory):
    product_factory(name="Blue Teapot", description="Porcelain.")
    product_factory(name="Cup", description="Goes with any TEAPOT.")
    product_factory(name="Spoon", description="Steel.")

    response = client.get("/api/products?q=teapot&sort=name")

    assert names(response) == ["Blue Teapot", "Cup"]
    assert response.headers["X-Total-Count"] == "2"


def test_search_ignores_case_beyond_ascii_too(client, product_factory):
    product_factory(name="Crème brûlée dish", description="Oven-safe.")
    product_factory(name="Cup", description="ÉMAIL finish, ΣΟΦΙΑ pattern.")
    product_factory(name="Creme jar", description="Glass.")

    assert names(client.get("/api/products?q=CRÈME")) == ["Crème brûlée dish"]
    assert names(client.get("/api/products?q=émail")) == ["Cup"]
    assert names(client.get("/api/products?q=σοφια")) == ["Cup"]


def test_search_takes_wildcards_literally(client, product_factory):
    product_factory(name="100% cotton shirt")
    product_factory(name="Cotton shirt")
    product_factory(name="50 cm vase")

    assert names(client.get("/api/products?q=100%25")) == ["100% cotton shirt"]
    assert names(client.get("/api/products?q=5%25")) == []
    assert names(client.get("/api/products?q=_")) == []


def test_search_ignores_spaces_around_the_words(client, product_factory):
    product_factory(name="Desk lamp")
    product_factory(name="Lampshade")

    spaced = client.get("/api/products?q=%20lamp%20")

    assert names(spaced) == names(client.get("/api/products?q=lamp")) == ["Desk lamp", "Lampshade"]
    assert spaced.headers["X-Total-Count"] == "2"


def test_a_search_of_several_words_finds_products_holding_each_in_any_order(
    client, product_factory
):
    product_factory(name="Blue mug", description="Porcelain, 300 ml.")
    product_factory(name="Blue teapot", description="Cast iron.")
    product_factory(name="Red mug", description="Porcelain.")

    assert names(client.get("/api/products?q=mug%20blue")) == ["Blue mug"]
    assert names(client.get("/api/products?q=blue%20%20porcelain")) == ["Blue mug"]
    assert names(client.get("/api/products?q=porcelain&sort=name")) == ["Blue mug", "Red mug"]
    assert names(client.get("/api/products?q=blue%20green")) == []


def test_a_search_counts_its_first_five_words(client, product_factory):
    """Each word scans the catalogue twice: sixty one-letter words cost seconds."""
    product_factory(name="Blue mug", description="Porcelain, 300 ml.")

    past_five = client.get("/api/products?q=blue%20mug%20300%20ml%20porcelain%20green")

    assert names(past_five) == ["Blue mug"]  # "green", the sixth, does not count


def test_products_equal_in_their_sort_key_keep_a_fixed_order(client, product_factory):
    """By id: the older first by name, the later first by newest, so pages never shift."""
    from datetime import UTC, datetime

    moment = datetime(2026, 1, 1, tzinfo=UTC)
    made = [product_factory(name="Twin", created_at=moment) for _ in range(3)]
    ids = [product.id for product in made]

    def listed(sort: str) -> list[int]:
        return [p["id"] for p in client.get(f"/api/products?sort={sort}").get_json()]

    assert listed("name") == ids
    assert listed("newest") == ids[::-1]


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["Apple", "Banana", "Cherry"]),
        ("price", ["Banana", "Cherry", "Apple"]),
        ("-price", ["Apple", "Cherry", "Banana"]),
        ("newest", ["Cherry", "Banana", "Apple"]),
    ],
)
def test_sort_orders(client, product_factory, sort, expected):
    from datetime import UTC, datetime, timedelta

    start = datetime(2026, 1, 1, tzinfo=UTC)
    product_factory(name="Apple", price_cents=300, created_at=start)
    product_factory(name="Banana", price_cents=100, created_at=start + timedelta(days=1))
    product_factory(name="Cherry", price_cents=200, created_at=start + timedelta(days=2))

    assert names(client.get(f"/api/products?sort={sort}")) == expected


def test_pages_and_link_header(client, product_factory):
    for i in range(5):
        product_factory(name=f"Item {i}")

    response = client.get("/api/products?per_page=2&page=2")

    assert names(response) == ["Item 2", "Item 3"]
    assert response.headers["X-Total-Count"] == "5"
    assert pages_linked(response) == {"first": 1, "prev": 1, "next": 3, "last": 3}


def test_a_page_holds_twenty_products_unless_asked_otherwise(client, product_factory):
    product_factory.create_batch(21)

    response = client.get("/api/products")

    assert len(response.get_json()) == 20
    assert response.headers["X-Total-Count"] == "21"
    assert '?page=2&per_page=20>; rel="next"' in response.headers["Link"]


def pages_linked(response) -> dict[str, int]:
    """The `Link` header as `{rel: page}`."""
    links = {}
    for part in response.headers["Link"].split(","):
        url, rel = re.fullmatch(r'\s*<([^>]*)>;\s*rel="(\w+)"\s*', part).groups()
        links[rel] = int(parse_qs(urlsplit(url).query)["page"][0])
    return links


@pytest.mark.parametrize(
    ("number", "links"),
    [
        (1, {"first": 1, "next": 2, "last": 3}),
        (3, {"first": 1, "prev": 2, "last": 3}),
        (7, {"first": 1, "prev": 3, "last": 3}),  # past the end: back to the last page
    ],
)
def test_link_header_names_only_pages_that_exist(client, product_factory, number, links):
    product_factory.create_batch(5)

    response = client.get(f"/api/products?per_page=2&page={number}")

    assert pages_linked(response) == links


@pytest.mark.parametrize("extra", ["_external=1", "_method=POST", "endpoint=x", "_anchor=x"])
def test_link_header_carries_any_other_query_parameter_as_it_came(client, product_factory, extra):
    """The client's query string is copied into the links, never read as `url_for` options."""
    product_factory()

    response = client.get(f"/api/products?q=&{extra}&per_page=1")

    assert response.status_code == 200
    first = response.headers["Link"].split(", ")[0]
    assert first == f'<http://localhost/api/products?q=&{extra}&per_page=1&page=1>; rel="first"'


def test_a_page_past_the_end_is_an_empty_list(client, product_factory):
    product_factory()
    response = client.get("/api/products?page=50")
    assert response.status_code == 200
    assert response.get_json() == []
    assert response.headers["X-Total-Count"] == "1"


@pytest.mark.parametrize(
    "query",
    [
        "per_page=101",
        "per_page=0",
        "per_page=-1",
        "page=0",
        "page=abc",
        "per_page=1.5",
        "per_page=10.0",
        "page=1_0",
        "page=+1",
        "page=%201",
        "page=",
        "sort=cheapest",
        "q=" + "x" * 201,
    ],
)
def test_bad_list_parameters_are_400(client, query):
    response = client.get(f"/api/products?{query}")
    assert response.status_code == 400
    assert "error" in response.get_json()


def test_equal_keys_keep_a_stable_order_across_pages(client, product_factory):
    for _ in range(5):
        product_factory(price_cents=100)
    ids = [p["id"] for p in client.get("/api/products?sort=price").get_json()]
    paged = [
        p["id"]
        for page in (1, 2, 3)
        for p in client.get(f"/api/products?sort=price&per_page=2&page={page}").get_json()
    ]
    assert paged == ids == sorted(ids)


@pytest.mark.parametrize("sort", ["name", "price", "-price", "newest"])
def test_deep_pages_hold_the_same_products_as_near_ones(client, product_factory, monkeypatch, sort):
    """Past `DEEP_PAGE_OFFSET` pages are read another way; what they hold must not change."""
    from storefront.catalog import service

    for number in range(12):
        product_factory(name=f"Lamp {number % 4}", price_cents=100 * (number % 3))
    product_factory(name="Lamp hidden", active=False)

    def pages(query: str) -> list[list[int]]:
        return [
            [p["id"] for p in client.get(f"/api/products?{query}&page={n}").get_json()]
            for n in (1, 2, 3, 4)
        ]

    query = f"sort={sort}&per_page=5&q=lamp"
    near = pages(query)
    monkeypatch.setattr(service, "DEEP_PAGE_OFFSET", 0)
    assert pages(query) == near
    assert [len(page) for page in near] == [5, 5, 2, 0]


def test_large_totals_are_counted_once_then_kept_briefly(
    client, login_as, staff, product_factory, monkeypatch, assert_max_queries
):
    from storefront.catalog import service

    monkeypatch.setattr(service, "EXACT_COUNT_LIMIT", 3)
    product_factory.create_batch(5)

    def total() -> int:
        return int(client.get("/api/products?per_page=1").headers["X-Total-Count"])

    assert total() == 5
    product_factory()  # written behind the shop's back: the kept total does not see it
    with assert_max_queries(1):  # the page alone: a kept total costs no reading
        assert total() == 5
    login_as(client, staff)
    client.post("/api/products", json=NEW_PRODUCT)  # a change made through the shop
    monkeypatch.setattr(service, "COUNT_TTL_SECONDS", 0.0)
    assert total() == 7
    product_factory()  # once the kept total expires, the count is exact again
    assert total() == 8


def test_a_product_deleted_through_the_shop_leaves_the_kept_total_at_once(
    client, login_as, staff, product_factory, monkeypatch
):
    from storefront.catalog import service

    monkeypatch.setattr(service, "EXACT_COUNT_LIMIT", 3)
    gone, *_ = product_factory.create_batch(5)
    assert client.get("/api/products").headers["X-Total-Count"] == "5"
    login_as(client, staff)

    assert client.delete(f"/api/products/{gone.id}").status_code == 204

    assert client.get("/api/products").headers["X-Total-Count"] == "4"


def test_kept_totals_are_shared_by_a_searchs_spellings_and_bounded_in_number(
    client, product_factory, monkeypatch, assert_max_queries
):
    from storefront.catalog import service

    monkeypatch.setattr(service, "EXACT_COUNT_LIMIT", 3)
    monkeypatch.setattr(service, "MAX_KEPT_COUNTS", 2)
    product_factory.create_batch(5, name="Lantern")

    def total(q: str) -> int:
        return int(client.get(f"/api/products?per_page=1&q={q}").headers["X-Total-Count"])

    assert total("lantern") == 5
    with assert_max_queries(1):  # another spelling of the same search: the kept total
        assert total("LANTERN") == 5
    assert total("lant") == total("ante") == 5  # two more searches push out the first
    with assert_max_queries(3) as counted_again:
        assert total("Lantern") == 5
    assert len(counted_again) == 3


def test_product_list_runs_a_constant_number_of_queries(
    client, product_factory, assert_max_queries
):
    product_factory.create_batch(2)
    with assert_max_queries(10) as small:
        assert len(client.get("/api/products").get_json()) == 2
    product_factory.create_batch(30)
    with assert_max_queries(len(small)) as large:
        assert len(client.get("/api/products?per_page=100").get_json()) == 32
    assert len(large) == len(small)


# --- managing --------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["staff", "admin"])
def test_staff_and_admins_create_products(client, login_as, user_factory, role):
    login_as(client, user_factory(role=role))

    response = client.post("/api/products", json=NEW_PRODUCT)

    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"].endswith(f"/api/products/{body['id']}")
    assert body["currency"] == "EUR"
    assert client.get(response.headers["Location"]).get_json()["stock"] == 7


def test_the_currency_follows_the_setting(app, client, login_as, staff, monkeypatch):
    monkeypatch.setitem(app.config, "CURRENCY", "USD")
    login_as(client, staff)
    assert client.post("/api/products", json=NEW_PRODUCT).get_json()["currency"] == "USD"
    other = {**NEW_PRODUCT, "sku": "OTHER", "currency": "EUR"}
    response = client.post("/api/products", json=other)
    assert response.status_code == 400
    assert "currency" in response.get_json()["fields"]


def test_customers_get_403_and_anonymous_401_on_writes(client, login_as, user, product_factory):
    product = product_factory()
    writes = [
        ("post", "/api/products", NEW_PRODUCT),
        ("patch", f"/api/products/{product.id}", {"name": "X"}),
        ("delete", f"/api/products/{product.id}", None),
    ]
    for method, path, body in writes:
        assert getattr(client, method)(path, json=body).status_code == 401
    login_as(client, user)
    for method, path, body in writes:
        assert getattr(client, method)(path, json=body).status_code == 403
    assert client.get(f"/api/products/{product.id}").get_json()["name"] == product.name


def test_a_duplicate_sku_is_409(client, login_as, staff, product_factory):
    product_factory(sku="MUG-RED")
    login_as(client, staff)
    response = client.post("/api/products", json=NEW_PRODUCT)
    assert response.status_code == 409
    assert "sku" in response.get_json()["fields"]


def test_a_sku_taken_by_a_product_saved_at_the_same_moment_is_409(
    client, login_as, staff, product_factory, checked_too_early
):
    product_factory(sku="MUG-RED")
    other = product_factory(sku="MUG-BLUE")
    login_as(client, staff)
    checked_too_early("storefront.catalog.service._ensure_sku_free")
    created = client.post("/api/products", json={**NEW_PRODUCT, "sku": "mug-red"})
    checked_too_early("storefront.catalog.service._ensure_sku_free")
    renamed = client.patch(f"/api/products/{other.id}", json={"sku": "Mug-Red"})

    assert (created.status_code, renamed.status_code) == (409, 409)
    assert (
        created.get_json()["fields"]
        == renamed.get_json()["fields"]
        == {"sku": "already used by another product"}
    )
    assert client.get(f"/api/products/{other.id}").get_json()["sku"] == "MUG-BLUE"


def test_a_sku_differing_only_in_case_is_a_duplicate(client, login_as, staff, product_factory):
    product = product_factory(sku="MUG-RED")
    other = product_factory(sku="MUG-BLUE")
    login_as(client, staff)

    created = client.post("/api/products", json={**NEW_PRODUCT, "sku": "mug-red"})
    renamed = client.patch(f"/api/products/{other.id}", json={"sku": "Mug-Red"})
    recased = client.patch(f"/api/products/{product.id}", json={"sku": "Mug-Red"})

    assert (created.status_code, renamed.status_code) == (409, 409)
    assert "sku" in created.get_json()["fields"]
    assert recased.status_code == 200
    assert recased.get_json()["sku"] == "Mug-Red"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("price_cents", -1),
        ("price_cents", True),
        ("price_cents", 12.5),
        ("price_cents", "1250"),
        ("price_cents", 10**12),
        ("stock", -1),
        ("stock", False),
        ("stock", None),
        ("name", ""),
        ("name", "   "),
        ("name", "\u200b\u2060"),
        ("name", "\u3000\ufeff\n"),
        ("name", "nul\x00byte"),
        ("name", "x" * 201),
        ("sku", "has space"),
        ("currency", "eur"),
        ("colour", "red"),
    ],
)
def test_invalid_products_are_400(client, login_as, staff, field, value):
    login_as(client, staff)
    response = client.post("/api/products", json={**NEW_PRODUCT, field: value})
    assert response.status_code == 400
    assert field in response.get_json()["fields"]


@pytest.mark.parametrize("missing", ["sku", "name", "price_cents"])
def test_required_fields_are_required(client, login_as, staff, missing):
    login_as(client, staff)
    body = {k: v for k, v in NEW_PRODUCT.items() if k != missing}
    response = client.post("/api/products", json=body)
    assert response.status_code == 400
    assert missing in response.get_json()["fields"]


def test_staff_update_a_product(client, login_as, staff, product_factory):
    product = product_factory(price_cents=100, stock=1)
    login_as(client, staff)

    response = client.patch(f"/api/products/{product.id}", json={"price_cents": 250, "stock": 9})

    assert response.status_code == 200
    body = client.get(f"/api/products/{product.id}").get_json()
    assert (body["price_cents"], body["stock"], body["name"]) == (250, 9, product.name)


def test_staff_reactivate_a_product(client, login_as, staff, product_factory):
    product = product_factory(active=False)
    login_as(client, staff)
    assert client.patch(f"/api/products/{product.id}", json={"active": True}).status_code == 200
    client.post("/api/logout")
    assert client.get(f"/api/products/{product.id}").status_code == 200


@pytest.mark.parametrize(
    "body", [{"name": None}, {"stock": -5}, {"sku": "bad sku"}, {"unknown": 1}]
)
def test_invalid_updates_are_400_and_change_nothing(client, login_as, staff, product_factory, body):
    product = product_factory(name="Kept", stock=4)
    login_as(client, staff)
    assert client.patch(f"/api/products/{product.id}", json=body).status_code == 400
    kept = client.get(f"/api/products/{product.id}").get_json()
    assert (kept["name"], kept["stock"]) == ("Kept", 4)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"sku": "bad sku"}, {"sku": "must start with a letter or digit, then hold only letters"}),
        ({"currency": "eur"}, {"currency": "must be an ISO 4217 code in capitals, such as EUR"}),
    ],
)
def test_a_sku_or_currency_outside_its_form_says_what_it_takes(
    client, login_as, staff, product_factory, body, said
):
    product = product_factory()
    login_as(client, staff)

    fields = client.patch(f"/api/products/{product.id}", json=body).json["fields"]

    assert {name: why[: len(said[name])] for name, why in fields.items()} == said


def test_changing_to_a_taken_sku_is_409(client, login_as, staff, product_factory):
    product_factory(sku="TAKEN")
    product = product_factory()
    login_as(client, staff)
    response = client.patch(f"/api/products/{product.id}", json={"sku": "TAKEN"})
    assert response.status_code == 409


def test_updating_an_unknown_product_is_404(client, login_as, staff):
    login_as(client, staff)
    assert client.patch("/api/products/424242", json={"name": "X"}).status_code == 404
    assert client.delete("/api/products/424242").status_code == 404


def test_deleting_a_product_never_ordered_erases_it(client, login_as, admin, product_factory):
    product = product_factory()
    login_as(client, admin)

    response = client.delete(f"/api/products/{product.id}")

    assert response.status_code == 204
    assert response.data == b""
    assert client.get(f"/api/products/{product.id}").status_code == 404


def test_the_database_refuses_negative_stock_and_price(db, product_factory):
    product = product_factory()
    for column in ("stock", "price_cents"):
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.execute(
                text(f"UPDATE products SET {column} = -1 WHERE id = :id"),  # noqa: S608
                {"id": product.id},
            )
