"""Django settings. Every value comes from an environment variable (see README, "Configuration").

DRUGRATINGS_MODE picks the defaults: `development` (the default), `demo` (fixed demo logins and
secrets, short release interval) or `production` (refuses to start with a default secret key,
DEBUG on, or a missing ALLOWED_HOSTS). DEBUG is off in every mode unless DEBUG=1.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from drugratings.env import (
    envbool,
    envint,
    envlist,
    envnetworks,
    envstr,
    parse_database_url,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("DRUGRATINGS_VAR_DIR", str(BASE_DIR / "var")))

MODE = envstr("DRUGRATINGS_MODE", "development").strip().lower()
if MODE not in {"development", "demo", "production"}:
    raise ImproperlyConfigured(f"DRUGRATINGS_MODE={MODE!r}: use development, demo or production")
PRODUCTION = MODE == "production"
DEMO_MODE = MODE == "demo"

_INSECURE_KEY = "insecure-development-key-never-use-in-production"
SECRET_KEY = envstr("SECRET_KEY", _INSECURE_KEY)
# Debug pages show settings and source: only with an explicit DEBUG=1, never by mode, because the
# demo is what newcomers expose on their network.
DEBUG = envbool("DEBUG", False)
ALLOWED_HOSTS = envlist(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "testserver"]
)

if PRODUCTION:
    if SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("production mode needs SECRET_KEY (50+ random characters)")
    if DEBUG:
        raise ImproperlyConfigured("production mode refuses DEBUG=1")
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("production mode needs ALLOWED_HOSTS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # django-ninja's own static files: the API docs load Swagger UI from us, never from a CDN.
    "ninja",
    "drugratings.core",
    "drugratings.accounts",
    "drugratings.verification",
    "drugratings.catalog",
    "drugratings.ratings",
    "drugratings.moderation",
    "drugratings.analytics",
    "drugratings.portal",
    "drugratings.trust",
    "drugratings.web",
    "drugratings.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "drugratings.web.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "drugratings.accounts.middleware.TwoFactorRequiredMiddleware",
    "drugratings.portal.middleware.PortalAuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "drugratings.urls"
WSGI_APPLICATION = "drugratings.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "drugratings.web.context.site",
                "drugratings.web.context.notifications",
            ],
        },
    }
]

# PostgreSQL connections per process kept open in a pool (0: open one per request).
DATABASE_POOL_SIZE = envint("DATABASE_POOL_SIZE", 8)
if DATABASE_POOL_SIZE < 0:
    raise ImproperlyConfigured(f"DATABASE_POOL_SIZE={DATABASE_POOL_SIZE}: use 0 (no pool) or more.")
DATABASES = {
    "default": parse_database_url(
        envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'drugratings.sqlite3'}"),
        BASE_DIR,
        pool_size=DATABASE_POOL_SIZE,
    )
}
# A PostgreSQL read replica (streaming or logical) of DATABASE_URL: catalogue and released pharma
# figures are read from it inside web requests, everything else from the primary
# (core/dbrouter.py). A client that wrote reads the primary for the next STICKY seconds, longer
# than the replica's lag. Tests never touch it: it mirrors the test database.
DATABASE_REPLICA_URL = envstr("DATABASE_REPLICA_URL", "")
DATABASE_REPLICA_STICKY_SECONDS = envint("DATABASE_REPLICA_STICKY_SECONDS", 10)
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = {
        **parse_database_url(
            DATABASE_REPLICA_URL, BASE_DIR, "DATABASE_REPLICA_URL", pool_size=DATABASE_POOL_SIZE
        ),
        "TEST": {"MIRROR": "default"},
    }
    DATABASE_ROUTERS = ["drugratings.core.dbrouter.ReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1,
        "drugratings.core.middleware.ReplicaReadsMiddleware",
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Ours reads the session's user in one compiled query (core/rows.py); Django's stays second so
# sessions it signed in keep working.
AUTHENTICATION_BACKENDS = [
    "drugratings.accounts.backends.UserBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:home"

# Caches shared by every web process (and machine): Redis when REDIS_URL is set, else the
# database's own table (created by core's migrations), so that stored documents, sessions and
# anything else cached hold across processes. `locmem` is per process: one process only.
REDIS_URL = envstr("REDIS_URL", "")
CACHE_BACKEND = envstr("CACHE_BACKEND", "redis" if REDIS_URL else "database")
CACHE_TABLE = "drugratings_cache"
if CACHE_BACKEND == "redis":
    if not REDIS_URL:
        raise ImproperlyConfigured("CACHE_BACKEND=redis needs REDIS_URL (redis://host:port/db).")
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "drugratings",
            "OPTIONS": {"CLIENT_CLASS": "django_redis.client.DefaultClient"},
        }
    }
elif CACHE_BACKEND == "database":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": CACHE_TABLE,
            "OPTIONS": {"MAX_ENTRIES": envint("CACHE_MAX_ENTRIES", 50_000)},
        }
    }
elif CACHE_BACKEND == "locmem":
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "drugratings",
        }
    }
else:
    raise ImproperlyConfigured(f"CACHE_BACKEND={CACHE_BACKEND!r}: use redis, database or locmem.")
# Sessions read from the cache and fall back to the database; with a per-process cache a
# signed-out session could live on in another process, so then the database alone.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.db"
    if CACHE_BACKEND == "locmem"
    else "django.contrib.sessions.backends.cached_db"
)

LANGUAGE_CODE = "en"
# The interface in four languages, chosen from the browser (Accept-Language) or the switch in
# the footer; drug and indication names stay as the catalogue has them.
LANGUAGES = [("en", "English"), ("es", "Español"), ("fr", "Français"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "drugratings" / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(VAR_DIR / "static")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    # The embedded default keeps its SQLite file and collected assets under var/.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Licence documents uploaded for manual verification: never served as static media.
PRIVATE_MEDIA_ROOT = Path(envstr("PRIVATE_MEDIA_ROOT", str(VAR_DIR / "private")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Email: console in development, a file folder in demo, SMTP by settings in production.
EMAIL_BACKEND = envstr(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend"
    if DEMO_MODE
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Drug Ratings <no-reply@drugratings.org>")

# Security headers; `manage.py check --deploy` is clean with DRUGRATINGS_MODE=production.
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = envint("SESSION_COOKIE_AGE", 14 * 24 * 3600)
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = PRODUCTION
SECURE_HSTS_PRELOAD = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if envbool("BEHIND_TLS_PROXY", PRODUCTION) else None
)
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", [])

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "WARNING")},
    "loggers": {"drugratings": {"level": envstr("LOG_LEVEL", "INFO"), "propagate": True}},
}

# --- Product settings -------------------------------------------------------------------------
# Refits of the score model are debounced: ratings queue a request, the worker fits once the
# queue has been quiet this long (or the oldest request is REFIT_MAX_DELAY old).
REFIT_DEBOUNCE_SECONDS = envint("REFIT_DEBOUNCE_SECONDS", 10)
REFIT_MAX_DELAY_SECONDS = envint("REFIT_MAX_DELAY_SECONDS", 30)
# Processes the refit's 20 fits run in (ratingstats.run_tasks). Each fit is one BLAS thread of
# dense factorisations, so two cores fit about twice as fast; 1 runs them in the worker itself.
FIT_PROCESSES = envint("FIT_PROCESSES", min(2, os.cpu_count() or 1))
# Processes a large release plans its chunks of drugs in, on PostgreSQL (portal.release_processes).
RELEASE_PROCESSES = envint("RELEASE_PROCESSES", min(2, os.cpu_count() or 1))
RELEASE_INTERVAL_SECONDS = envint("RELEASE_INTERVAL_SECONDS", 120 if DEMO_MODE else 15 * 60)
PORTAL_MIN_CELL_RATERS = envint("PORTAL_MIN_CELL_RATERS", 11)
# Differential privacy of pharma releases (METHODOLOGY.md, "Privacy route for pharma reports").
# Before issue 13: count 3.0, sum 6.0, 1024 steps (rho 122 per new rating; bench/run.py prints
# both). The smaller scales keep a 300-physician cell's noise below what it was.
PORTAL_COUNT_NOISE = float(envstr("PORTAL_COUNT_NOISE", "2.4"))
PORTAL_SUM_NOISE = float(envstr("PORTAL_SUM_NOISE", "4.8"))
PORTAL_TREE_MAX_STEPS = envint("PORTAL_TREE_MAX_STEPS", 256)
PORTAL_RHO_BUDGET = float(envstr("PORTAL_RHO_BUDGET", "50000"))
# A step of a cell needs this many physicians' changes, and never fewer than k.
PORTAL_MIN_BATCH = envint("PORTAL_MIN_BATCH", 11)
# Region x specialty combined breakdowns need a fourth noise tree per rating (drawn at twice the
# noise scale): per-rating rho 28.0 with it, 26.0 without (issue 13's target: 30.5).
PORTAL_REGION_SPECIALTY = envbool("PORTAL_REGION_SPECIALTY", True)
PORTAL_WEBHOOK_TIMEOUT_SECONDS = envint("PORTAL_WEBHOOK_TIMEOUT_SECONDS", 5)
# Plain-http webhook endpoints are for local development and tests only.
PORTAL_WEBHOOK_ALLOW_HTTP = envbool("PORTAL_WEBHOOK_ALLOW_HTTP", not PRODUCTION)
# Webhooks never reach loopback, private, link-local, multicast or reserved addresses, except
# networks listed here (an on-premises receiver; the tests' local server). Empty by default.
PORTAL_WEBHOOK_ALLOWED_NETWORKS = envnetworks("PORTAL_WEBHOOK_ALLOWED_NETWORKS", [])
# Server-sent release streams end after this (clients reconnect with Last-Event-ID); each
# server process polls the newest release id once per interval for all its open streams.
PORTAL_STREAM_SECONDS = envint("PORTAL_STREAM_SECONDS", 300)
PORTAL_STREAM_POLL_SECONDS = float(envstr("PORTAL_STREAM_POLL_SECONDS", "2.0"))
# Sign-in throttling (accounts/actions.py). Guessing is slowed per (account, client address):
# after the free attempts each failure doubles the wait before that client may try again. Past
# the per-account ceiling (failures from anywhere) the holder is emailed and every check on the
# account is slowed, but a client that has not failed is never refused. The per-address limit
# stops one address guessing across many accounts.
LOGIN_THROTTLE_WINDOW_SECONDS = envint("LOGIN_THROTTLE_WINDOW_SECONDS", 15 * 60)
LOGIN_THROTTLE_FREE_ATTEMPTS = envint("LOGIN_THROTTLE_FREE_ATTEMPTS", 3)
LOGIN_THROTTLE_BASE_DELAY_SECONDS = envint("LOGIN_THROTTLE_BASE_DELAY_SECONDS", 2)
LOGIN_THROTTLE_MAX_DELAY_SECONDS = envint("LOGIN_THROTTLE_MAX_DELAY_SECONDS", 15 * 60)
LOGIN_THROTTLE_PER_ACCOUNT = envint("LOGIN_THROTTLE_PER_ACCOUNT", 10)
LOGIN_THROTTLE_SLOWDOWN_SECONDS = float(envstr("LOGIN_THROTTLE_SLOWDOWN_SECONDS", "1.0"))
LOGIN_THROTTLE_PER_ADDRESS = envint("LOGIN_THROTTLE_PER_ADDRESS", 30)
# Reverse proxies whose X-Forwarded-For is believed (addresses or CIDRs); empty: none is.
TRUSTED_PROXIES = envnetworks("TRUSTED_PROXIES", [])
API_TOKEN_DAYS = envint("API_TOKEN_DAYS", 30)
SIGNUPS_PER_ADDRESS_PER_HOUR = envint("SIGNUPS_PER_ADDRESS_PER_HOUR", 10)
WRITE_LIMITS_PER_HOUR = {
    "rate": envint("RATINGS_PER_HOUR", 60),
    "comment": envint("COMMENTS_PER_HOUR", 30),
    "vote": envint("VOTES_PER_HOUR", 120),
    "flag": envint("FLAGS_PER_HOUR", 20),
}
PUBLIC_BASE_URL = envstr("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
SITE_NAME = "Drug Ratings"
