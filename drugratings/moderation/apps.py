from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "drugratings.moderation"
    label = "moderation"

    def ready(self) -> None:
        from drugratings.core.events import comment_written
        from drugratings.moderation import actions

        comment_written.subscribe(actions.screen_written_comment)
