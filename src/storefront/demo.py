"""Demo data for `storefront demo` / `make run`: loaded once, printed on the console."""

from __future__ import annotations

from sqlalchemy import func, select

from .accounts import service as accounts
from .apikit import Conflict
from .catalog import service as catalog
from .catalog.models import Product
from .extensions import db

DEMO_USERS = (
    ("admin", "admin@example.com", "demo-admin-password", "admin"),
    ("staff", "staff@example.com", "demo-staff-password", "staff"),
    ("customer", "customer@example.com", "demo-customer-password", "customer"),
)

#: (sku, name, description, price in cents, stock): enough to browse, search and page.
DEMO_PRODUCTS = (
    ("MUG-WHT", "White mug", "A plain 300 ml stoneware mug.", 899, 40),
    ("MUG-BLU", "Blue mug", "A 300 ml stoneware mug in deep blue.", 999, 25),
    ("MUG-TRV", "Travel mug", "Keeps coffee hot for three hours.", 2499, 12),
    ("TEA-EGB", "English breakfast tea", "Strong black tea, 50 bags.", 549, 60),
    ("TEA-GRN", "Sencha green tea", "Loose-leaf green tea from Japan, 100 g.", 1290, 30),
    ("TEA-CHA", "Chamomile tea", "Caffeine-free herbal tea, 20 bags.", 399, 45),
    ("POT-CER", "Ceramic teapot", "A 1 litre teapot with a steel infuser.", 3490, 8),
    ("POT-GLS", "Glass teapot", "Heat-resistant glass, 800 ml.", 2790, 6),
    ("COF-ESP", "Espresso beans", "Dark roast, 1 kg bag.", 1899, 20),
    ("COF-FLT", "Filter coffee", "Medium roast, ground, 500 g.", 999, 35),
    ("COF-DEC", "Decaf coffee beans", "Swiss water process, 500 g.", 1149, 15),
    ("GRN-HND", "Hand grinder", "Ceramic burrs, adjustable grind.", 4590, 5),
    ("PRS-FRN", "French press", "Borosilicate glass, 1 litre.", 2990, 10),
    ("PRS-AER", "Coffee press", "Single-cup pressure brewer.", 3499, 7),
    ("KTL-ELC", "Electric kettle", "1.7 litres, temperature control.", 5990, 9),
    ("KTL-GOO", "Gooseneck kettle", "Stovetop pour-over kettle, 1 litre.", 3990, 4),
    ("CUP-ESP", "Espresso cups (set of 4)", "Porcelain, 80 ml each.", 1990, 18),
    ("CUP-LAT", "Latte glasses (set of 2)", "Double-walled glass, 350 ml.", 2290, 14),
    ("SPN-TEA", "Teaspoons (set of 6)", "Stainless steel.", 1290, 22),
    ("TRY-BMB", "Bamboo tray", "Serving tray, 40 x 30 cm.", 1790, 11),
    ("CSY-KNT", "Knitted tea cosy", "Hand-knitted wool, fits a 1 litre pot.", 1590, 3),
    ("HNY-WLD", "Wildflower honey", "Raw honey, 450 g jar.", 890, 28),
    ("SGR-CNE", "Cane sugar cubes", "Brown sugar cubes, 500 g.", 349, 50),
    ("BSC-BTR", "Butter biscuits", "Danish butter biscuits, 400 g tin.", 699, 32),
    ("BSC-GNG", "Ginger biscuits", "Crunchy and spicy, 250 g.", 379, 27),
    ("CHC-DRK", "Dark chocolate", "70% cocoa, 100 g bar.", 299, 70),
    ("CHC-MLK", "Milk chocolate", "Alpine milk chocolate, 100 g bar.", 279, 65),
    ("FLT-PPR", "Paper filters", "Size 4, 100 filters.", 299, 80),
    ("SCL-DIG", "Coffee scale", "Digital scale with timer, 0.1 g steps.", 2990, 6),
    ("BOX-GFT", "Gift box", "A mug, a tea and biscuits in a gift box.", 2990, 2),
    ("NTB-TST", "Tasting notebook", "Notes for 100 tastings, A5.", 1290, 13),
    ("APR-CNV", "Barista apron", "Canvas apron with leather straps.", 3990, 1),
)


def load_demo_products() -> None:
    """Add the demo catalogue's products whose SKU is not in the shop yet, in any case."""
    existing = set(db.session.scalars(select(func.lower(Product.sku))))
    for sku, name, description, price_cents, stock in DEMO_PRODUCTS:
        if sku.lower() not in existing:
            catalog.create_product(
                sku=sku,
                name=name,
                description=description,
                price_cents=price_cents,
                stock=stock,
            )


def load_demo_data() -> list[tuple[str, str, str, str]]:
    """Create the demo accounts and products that are missing; returns the demo logins that
    still work (one whose account has another password, or whose email another account
    holds, is left out)."""
    working = []
    for login in DEMO_USERS:
        username, email, password, role = login
        user = accounts.find_by_login(username)
        if user is None:
            try:
                accounts.create_user(username, email, password, role=role, confirmed=True)
            except Conflict:
                continue
            working.append(login)
        elif accounts.check_password(user, password):
            working.append(login)
    load_demo_products()
    return working
