"""The API's docs page: Swagger UI served by the shop itself, under its own CSP."""
