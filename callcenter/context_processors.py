from django.http import HttpRequest

from callcenter.roles import ROLE_LABELS, user_roles


def workspace(request: HttpRequest) -> dict:
    """The signed-in user's roles, for the role menu in the base template."""
    roles = user_roles(request.user) if hasattr(request, "user") else frozenset()
    return {
        "user_roles": roles,
        "user_role_labels": [str(ROLE_LABELS[role]) for role in ROLE_LABELS if role in roles],
    }
