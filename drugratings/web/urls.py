from django.urls import path, register_converter

from drugratings.bounds import IdConverter
from drugratings.web.views import (
    accounts,
    catalog,
    moderation,
    pages,
    portal,
    ratings,
    signup,
    trust,
)

app_name = "web"
# Path ids beyond the id range are a 404, not a database overflow.
register_converter(IdConverter, "id")

urlpatterns = [
    path("", catalog.home, name="home"),
    path("methodology/", pages.methodology, name="methodology"),
    path("search/", catalog.search_page, name="search"),
    path("search/suggest", catalog.suggest, name="suggest"),
    path("drugs/<slug:slug>/", catalog.drug_page, name="drug"),
    path("drugs/<slug:slug>/rate/", ratings.rate, name="rate"),
    path("drugs/<slug:slug>/withdraw/", ratings.withdraw, name="withdraw"),
    path("comments/<id:comment_id>/helpful/", ratings.helpful, name="helpful"),
    path("comments/<id:comment_id>/flag/", ratings.flag, name="flag"),
    path("me/ratings/", ratings.my_ratings, name="my_ratings"),
    path("search/indications", ratings.indication_suggest, name="indication_suggest"),
    path("portal/", portal.dashboard, name="portal"),
    path("portal/keys/", portal.keys, name="portal_keys"),
    path("portal/webhooks/", portal.webhooks, name="portal_webhooks"),
    path("portal/<str:kind>/<id:pk>/", portal.report, name="portal_report"),
    path("portal/<str:kind>/<id:pk>/export.<str:fmt>", portal.export, name="portal_export"),
    path("moderation/", moderation.queue, name="moderation"),
    path("moderation/quarantine/", trust.quarantine, name="quarantine"),
    path("moderation/quarantine/<id:case_id>/", trust.decide, name="quarantine_decide"),
    path("me/interests/", trust.interests, name="interests"),
    path("moderation/comments/<id:comment_id>/", moderation.act, name="moderate_comment"),
    path("indications/", catalog.indication_list, name="indications"),
    path("indications/<slug:slug>/", catalog.indication_page, name="indication"),
    path("classes/", catalog.class_list, name="classes"),
    path("classes/<slug:slug>/", catalog.class_page, name="drug_class"),
    path("accounts/login/", accounts.login_view, name="login"),
    path("accounts/logout/", accounts.logout_view, name="logout"),
    path("accounts/two-factor/", accounts.two_factor, name="two_factor"),
    path("accounts/signup/", signup.signup, name="signup"),
    path("accounts/confirm/<str:secret>/", signup.confirm_email, name="confirm_email"),
    path("accounts/licence/", signup.licence, name="licence"),
    path("accounts/", signup.account, name="account"),
]
