"""Users, roles, physician and pharma profiles, API tokens and login throttling.

A physician's real identity (name, NPI, licence) is *not* here: it lives in
`verification.PhysicianIdentity`, readable by verification staff only. Everything other users
can see of a physician is `PhysicianProfile.handle` and its specialty.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Role(models.TextChoices):
    PHYSICIAN = "physician", "Physician"
    PHARMA = "pharma", "Pharma analyst"
    MODERATOR = "moderator", "Moderator / verifier"
    ADMIN = "admin", "Administrator"


class VerificationStatus(models.TextChoices):
    UNVERIFIED = "unverified", "Unverified"
    PENDING = "pending", "Pending review"
    VERIFIED = "verified", "Verified"
    REJECTED = "rejected", "Rejected"
    SUSPENDED = "suspended", "Suspended"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> User:
        if not email:
            raise ValueError("email is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> User:
        fields.update(is_staff=True, is_superuser=True, role=Role.ADMIN)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A login. Deliberately holds no real name: see the module docstring."""

    email = models.EmailField(unique=True)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.PHYSICIAN)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May sign in to the admin site.")
    date_joined = models.DateTimeField(default=timezone.now)
    email_confirmed_at = models.DateTimeField(null=True, blank=True)
    # Two-factor authentication (RFC 6238 TOTP). Required for pharma and staff.
    totp_secret = models.CharField(max_length=64, blank=True)
    totp_confirmed_at = models.DateTimeField(null=True, blank=True)
    totp_last_counter = models.BigIntegerField(default=0, help_text="Replay protection.")
    # Who created the account together with whom: signals for trust and safety.
    signup_ip = models.GenericIPAddressField(null=True, blank=True)
    signup_device = models.CharField(max_length=64, blank=True)
    # When the holder was last emailed about a burst of failed sign-ins (once per burst).
    login_alert_sent_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]), name="user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"user #{self.pk} ({self.role})"

    @property
    def needs_two_factor(self) -> bool:
        return self.role in (Role.PHARMA, Role.MODERATOR, Role.ADMIN) or self.is_staff

    @property
    def has_two_factor(self) -> bool:
        return bool(self.totp_secret and self.totp_confirmed_at)


class Specialty(models.Model):
    """A physician specialty, as shown beside a handle and used as the model's rater group."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=80, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "specialties"

    def __str__(self) -> str:
        return self.name


class PhysicianProfile(models.Model):
    """What the product knows of a physician apart from identity: handle, specialty, status."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="physician")
    handle = models.CharField(max_length=40, unique=True)
    specialty = models.ForeignKey(Specialty, on_delete=models.PROTECT, related_name="physicians")
    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2")
    region = models.CharField(
        max_length=40, blank=True, help_text="ISO code: US-CA for a US state, else the country (GB)"
    )
    verification_status = models.CharField(
        max_length=16, choices=VerificationStatus.choices, default=VerificationStatus.UNVERIFIED
    )
    status_reason = models.CharField(max_length=300, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["verification_status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(verification_status__in=[s.value for s in VerificationStatus]),
                name="physician_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.handle

    @property
    def is_verified(self) -> bool:
        return self.verification_status == VerificationStatus.VERIFIED


class TokenKind(models.TextChoices):
    SESSION = "session", "Sign-in token"
    API_KEY = "api_key", "Portal API key"


class ApiToken(models.Model):
    """A bearer credential. Only a SHA-256 of the secret is stored; the secret is shown once."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tokens")
    kind = models.CharField(max_length=16, choices=TokenKind.choices, default=TokenKind.SESSION)
    name = models.CharField(max_length=80, blank=True)
    prefix = models.CharField(max_length=12, help_text="First characters, to recognise a key.")
    digest = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.kind} {self.prefix}… of user #{self.user_id}"

    @staticmethod
    def digest_of(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @staticmethod
    def new_secret(kind: str) -> str:
        prefix = "drk_" if kind == TokenKind.API_KEY else "drt_"
        return prefix + secrets.token_urlsafe(32)

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class LoginAttempt(models.Model):
    """Failed sign-ins, kept in the database so throttling holds across server processes."""

    email = models.CharField(max_length=254, db_index=True)
    address = models.GenericIPAddressField(null=True, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    succeeded = models.BooleanField(default=False)


class EmailConfirmation(models.Model):
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="confirmations")
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)
