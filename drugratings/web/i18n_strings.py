"""Interface strings defined outside the web app (dimension names and questions, periods, flag
reasons) marked here so `makemessages` puts them in the catalogue; templates and forms
translate them by value."""

from django.utils.translation import gettext_noop

STRINGS = [
    gettext_noop("Efficacy"),
    gettext_noop("Safety"),
    gettext_noop("Tolerability"),
    gettext_noop("Accessibility"),
    gettext_noop("Adherence"),
    gettext_noop("How well does it work for this indication?"),
    gettext_noop("How rarely does it cause serious harm?"),
    gettext_noop("How well do patients tolerate its side effects?"),
    gettext_noop("How easy is it to obtain (cost, coverage, supply)?"),
    gettext_noop("How well do patients keep taking it as prescribed?"),
    gettext_noop("All time"),
    gettext_noop("Trailing 12 months"),
    gettext_noop("Contains patient-identifying information"),
    gettext_noop("Promotional or conflict of interest"),
    gettext_noop("Off-topic"),
    gettext_noop("Abusive or unprofessional"),
    gettext_noop("Clinically misleading"),
    gettext_noop("Other"),
]
