"""Request and response models of the identity API (pydantic v2)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from argus.identity.principal import AuthMethod, Role

USERNAME_PATTERN = r"^[a-z0-9][a-z0-9._@-]{1,63}$"


def _fold(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


def _unique_roles(roles: list[Role]) -> list[Role]:
    return sorted(set(roles), key=list(Role).index)


Username = Annotated[
    str,
    BeforeValidator(_fold),
    Field(
        min_length=2,
        max_length=64,
        pattern=USERNAME_PATTERN,
        description="2–64 characters: a-z, 0-9 and . _ @ -, starting with a letter or digit "
        "(upper case is folded to lower case)",
    ),
]
Password = Annotated[str, Field(min_length=1, max_length=1024)]
Roles = Annotated[
    list[Role],
    Field(min_length=1, description="roles within the user's own agency"),
    AfterValidator(_unique_roles),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Strict):
    username: str = Field(min_length=1, max_length=200)
    password: Password


class PasswordChange(_Strict):
    current_password: Password
    new_password: Password


class PasswordReset(_Strict):
    password: Password


class UserCreate(_Strict):
    username: Username
    agency_id: int
    roles: Roles
    password: Password
    display_name: str | None = Field(default=None, max_length=200)


class UserUpdate(_Strict):
    display_name: str | None = Field(default=None, max_length=200)
    roles: Roles | None = None
    agency_id: int | None = Field(default=None, description="move the user (system admins)")


class UserOut(BaseModel):
    id: int
    username: str
    display_name: str | None
    agency_id: int
    agency_name: str
    roles: list[Role]
    disabled: bool
    disabled_at: datetime | None
    last_login_at: datetime | None
    password_changed_at: datetime
    created_at: datetime
    updated_at: datetime


class SignedIn(BaseModel):
    user: UserOut
    csrf_token: str = Field(description="send it as X-CSRF-Token with every unsafe request")
    expires_at: datetime = Field(description="the session ends then at the latest")
    idle_timeout_s: int = Field(description="the session ends after this long without use")


class Me(BaseModel):
    user: UserOut
    method: AuthMethod
    csrf_token: str | None = Field(
        default=None, description="for a browser session: the token for X-CSRF-Token"
    )


class BearerToken(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int
    expires_at: datetime


class ApiKeyCreate(_Strict):
    name: str = Field(min_length=1, max_length=100, description="what the key is for")
    expires_at: datetime | None = None


class ApiKeyOut(BaseModel):
    id: int
    user_id: int
    username: str
    name: str
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the key itself: shown this once, stored only as a digest")
