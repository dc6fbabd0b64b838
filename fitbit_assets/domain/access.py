"""Who may do what in the HTTP API (pure: no database).

Roles: a *coordinator* reads and contacts the participants of their study sites; a *data engineer* reads every
participant's pipeline views (series, adherence, cohort) but contacts no one and sees no contact details; an
*admin* manages users and reads no participant data. ``LOCAL`` is the one principal of a server started without
sign-in (loopback only): the person at the machine, with a coordinator's and an engineer's rights on every site.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

COORDINATOR, DATA_ENGINEER, ADMIN, LOCAL = "coordinator", "data_engineer", "admin", "local"
ROLES = (COORDINATOR, DATA_ENGINEER, ADMIN)
USER_NAME_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
MIN_PASSWORD_LENGTH = 12


class AccessError(ValueError):
    """A user definition or a secret that is refused, and why."""


@dataclass(frozen=True)
class Principal:
    name: str
    role: str
    sites: tuple[str, ...] = ()

    @property
    def reads_participants(self) -> bool:
        return self.role in (COORDINATOR, DATA_ENGINEER, LOCAL)

    @property
    def contacts_participants(self) -> bool:
        return self.role in (COORDINATOR, LOCAL)

    @property
    def manages_users(self) -> bool:
        return self.role in (ADMIN, LOCAL)

    def sees(self, site: str | None) -> bool:
        """A participant of ``site`` (None: no site): coordinators only see their own sites."""
        if self.role in (DATA_ENGINEER, LOCAL):
            return True
        return self.role == COORDINATOR and site is not None and site in self.sites


def check_user(name: str, role: str, sites: tuple[str, ...]) -> None:
    if not USER_NAME_PATTERN.match(name):
        raise AccessError(f"user name {name!r} must match {USER_NAME_PATTERN.pattern}")
    if role not in ROLES:
        raise AccessError(f"role {role!r} must be one of {', '.join(ROLES)}")
    if role == COORDINATOR and not sites:
        raise AccessError("a coordinator needs at least one --site (they see the participants of their sites only)")
    if role != COORDINATOR and sites:
        raise AccessError(f"--site is for coordinators; a {role} is not limited to sites")


def check_password(password: str) -> None:
    if len(password.strip()) < MIN_PASSWORD_LENGTH:
        raise AccessError(f"password refused: at least {MIN_PASSWORD_LENGTH} characters (not counting spaces at the ends)")
