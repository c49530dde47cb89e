"""Console accounts: argon2 password hashes, roles, and who may do what.

Roles: `admin` does everything; `operator` enters letters and calls and reads reports, but
never the personal data of confidential or anonymous reports nor the raw messages'.
"""

from __future__ import annotations

import re
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import User, utcnow

ROLES: Final = ("admin", "operator")
ROLE_LABELS: Final = {"admin": "Admin", "operator": "Operator"}
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_hasher = PasswordHasher()
# Verified when a username is unknown, so a login takes as long either way.
_DUMMY_HASH = _hasher.hash("sp4n-gateway-not-a-password")


class AccountError(ValueError):
    """A request about an account that cannot be done; the message is for the admin."""


def check_password_rules(password: str) -> None:
    """Raise AccountError when a new password is too weak."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"kata sandi minimal {MIN_PASSWORD} karakter")
    if len(set(password)) < 4:
        raise AccountError("kata sandi terlalu sederhana")


def find_user(session: Session, username: str) -> User | None:
    """The account with this name."""
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def add_user(
    session: Session, username: str, password: str, role: str, display_name: str | None = None
) -> User:
    """Create an account; raises AccountError for a bad name, role, password or a repeat."""
    name = username.strip().lower()
    if not _USERNAME.match(name):
        raise AccountError("nama pengguna: huruf kecil, angka, titik, garis; 2-64 karakter")
    if role not in ROLES:
        raise AccountError(f"peran harus salah satu dari: {', '.join(ROLES)}")
    if find_user(session, name) is not None:
        raise AccountError(f"pengguna {name} sudah ada")
    check_password_rules(password)
    user = User(
        username=name,
        display_name=display_name,
        password_hash=_hasher.hash(password),
        role=role,
        active=True,
    )
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    """Replace the password; every session signed in with the old one ends."""
    check_password_rules(password)
    user.password_hash = _hasher.hash(password)
    user.password_changed_at = utcnow()


def set_active(user: User, active: bool) -> None:
    """Disable (or enable again) an account; a disabled one's sessions end at once."""
    user.active = active
    user.password_changed_at = utcnow()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None (same work either way)."""
    user = find_user(session, username)
    if user is None:
        _verify(_DUMMY_HASH, password)
        return None
    if not _verify(user.password_hash, password) or not user.active:
        return None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.last_login_at = utcnow()
    return user


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def session_stamp(user: User) -> str:
    """Changes whenever the password changes or the account is disabled: old sessions end."""
    return str(int(user.password_changed_at.timestamp() * 1000))
