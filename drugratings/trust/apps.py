from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "drugratings.trust"
    label = "trust"

    def ready(self) -> None:
        from drugratings.core.events import rating_changed, scores_refitted
        from drugratings.trust import reactions

        rating_changed.subscribe(reactions.flag_conflict_on_rating)
        scores_refitted.subscribe(reactions.detect_after_refit)
