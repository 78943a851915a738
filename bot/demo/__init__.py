"""A realistic demo bus: `seed(bus)` fills it; `catalog` has the pieces (tenants, event
factory, error catalogue) a live publisher can reuse."""
from bot.demo.seeder import seed

__all__ = ["seed"]
