"""Writes for tickets. Views, consumers, webhooks and commands all come through here.

One module per area (``core``: numbering, create, update, resolve, transfer); import the
functions from ``tickets.services``.
"""

from tickets.services.core import (
    category_get_or_create_path,
    contact_ticket_save,
    department_get_or_create,
    ticket_create,
    ticket_number_allocate,
    ticket_resolve,
    ticket_transfer,
    ticket_update,
)

__all__ = [
    "category_get_or_create_path",
    "contact_ticket_save",
    "department_get_or_create",
    "ticket_create",
    "ticket_number_allocate",
    "ticket_resolve",
    "ticket_transfer",
    "ticket_update",
]
