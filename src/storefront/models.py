"""Every table of the shop, imported in one place so Alembic sees the whole schema."""

from .accounts.models import User
from .catalog.models import Product
from .media.models import ProductImage, StoredFile
from .orders.models import CartItem, Order, OrderItem
from .pages.models import ContactMessage
from .sessions import StoredSession, UserSession

__all__ = [
    "CartItem",
    "ContactMessage",
    "Order",
    "OrderItem",
    "Product",
    "ProductImage",
    "StoredFile",
    "StoredSession",
    "User",
    "UserSession",
]
