from django.apps import AppConfig


class TrustConfig(AppConfig):
    name = "drugratings.trust"
    label = "trust"

    def ready(self) -> None:
        from drugratings.core.events import rating_changed, scores_refitted
        from drugratings.trust import reactions

        rating_changed.subscribe(reactions.flag_conflict_on_rating)
        # By path: the detectors import scipy, needed by the worker only.
        scores_refitted.subscribe("drugratings.trust.detection.detect_after_refit")
