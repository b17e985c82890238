from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class CallcenterConfig(AppConfig):
    name = "callcenter"
    verbose_name = _("Contact centre")

    def ready(self) -> None:
        from callcenter.roles import role_groups_sync

        # The role groups need every app's permissions, which auth creates in each app's
        # own post_migrate; "knowledge" is the last app with models, so hook onto it.
        post_migrate.connect(
            role_groups_sync,
            sender=apps.get_app_config("knowledge"),
            dispatch_uid="open120_role_groups_sync",
        )
