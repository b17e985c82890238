"""Writes for tickets. Views, consumers, webhooks and commands all come through here.

One module per area (``core``: numbering, create, update, resolve, transfer); import the
functions from ``tickets.services``.
"""

from tickets.services.core import (
    category_get_or_create_path,
    department_get_or_create,
    ticket_create,
    ticket_number_allocate,
    ticket_resolve,
    ticket_transfer,
    ticket_update,
)
from tickets.services.department import (
    info_request_pending,
    ticket_answer_deliver,
    ticket_department_answer,
    ticket_department_return,
    ticket_department_transfer,
    ticket_info_provide,
    ticket_info_request,
)
from tickets.services.intake import (
    contact_ticket_number_tell,
    contact_ticket_save,
    contact_ticket_submit,
)
from tickets.services.lifecycle import (
    ticket_assign,
    ticket_attachment_add,
    ticket_close,
    ticket_comment,
    ticket_merge,
    ticket_reopen,
    ticket_repeat_contact_link,
    tickets_bulk_update,
)
from tickets.services.open311 import (
    open311_key_create,
    open311_key_revoke,
    open311_key_verify,
    open311_request_create,
)
from tickets.services.saved_filters import saved_filter_delete, saved_filter_save
from tickets.services.sla import (
    sla_check,
    sla_due_times,
    ticket_sla_pause,
    ticket_sla_recompute,
    ticket_sla_resume,
)
from tickets.services.surveys import (
    citizen_survey_opt_out,
    survey_answer,
    survey_schedule,
    surveys_send_due,
)

__all__ = [
    "contact_ticket_number_tell",
    "info_request_pending",
    "ticket_answer_deliver",
    "ticket_department_answer",
    "ticket_department_return",
    "ticket_department_transfer",
    "ticket_info_provide",
    "ticket_info_request",
    "category_get_or_create_path",
    "contact_ticket_save",
    "contact_ticket_submit",
    "saved_filter_delete",
    "saved_filter_save",
    "department_get_or_create",
    "open311_key_create",
    "open311_key_revoke",
    "open311_key_verify",
    "open311_request_create",
    "ticket_create",
    "ticket_number_allocate",
    "ticket_resolve",
    "ticket_transfer",
    "ticket_update",
    "ticket_assign",
    "ticket_attachment_add",
    "ticket_close",
    "ticket_comment",
    "ticket_merge",
    "ticket_reopen",
    "ticket_repeat_contact_link",
    "tickets_bulk_update",
    "sla_check",
    "sla_due_times",
    "ticket_sla_pause",
    "ticket_sla_recompute",
    "ticket_sla_resume",
    "citizen_survey_opt_out",
    "survey_answer",
    "survey_schedule",
    "surveys_send_due",
]
