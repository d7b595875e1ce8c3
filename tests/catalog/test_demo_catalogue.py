"""`storefront demo` fills the shop with a catalogue worth browsing, once."""

from __future__ import annotations

import os

from storefront import cli


def test_demo_loads_at_least_30_products_once_and_prints_logins(run_cli, client):
    first = run_cli("demo", "--no-serve")
    again = run_cli("demo", "--no-serve")

    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    assert "customer" in first.output and "demo-customer-password" in first.output
    assert "staff" in first.output and "demo-staff-password" in first.output
    response = client.get("/api/products?per_page=100")
    products = response.get_json()
    assert int(response.headers["X-Total-Count"]) == len(products) >= 30
    assert len({p["sku"] for p in products}) == len(products)
    assert all(p["price_cents"] > 0 and p["stock"] > 0 for p in products)


def test_demo_keeps_a_product_whose_sku_differs_only_in_case(run_cli, product_factory):
    """SKUs are unique regardless of case: the shop's `mug-wht` is the demo's `MUG-WHT`."""
    product_factory(sku="mug-wht")

    result = run_cli("demo", "--no-serve")

    assert result.exit_code == 0, result.output


def test_demo_mail_links_lead_to_the_port_it_serves(run_cli, monkeypatch):
    monkeypatch.setenv("PUBLIC_BASE_URL", "restored after the test")
    monkeypatch.delenv("PUBLIC_BASE_URL")
    served = {}
    monkeypatch.setattr(cli, "serve_command", lambda **options: served.update(options))

    result = run_cli("demo", "--port", "5099")

    assert result.exit_code == 0, result.output
    assert served["port"] == 5099
    assert os.environ["PUBLIC_BASE_URL"] == "http://127.0.0.1:5099"
