"""OpenID Connect sign-in: authorization code flow with PKCE (S256), state and nonce.

Discovery reads the provider's `/.well-known/openid-configuration`. What must survive the trip
to the provider (state, nonce, PKCE verifier, where to return) travels in a short-lived cookie
signed with the service's secret key, so a changed `state` or a forged cookie is refused. The
ID token is verified against the provider's keys (issuer, audience, expiry, nonce) before any
claim is believed. Sign-in is rare, so each one uses its own short-lived HTTP client.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from authlib.common.security import generate_token
from authlib.common.urls import add_params_to_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from app.auth.identity import AccessDenied, Identity, from_claims
from app.errors import AllianceError
from app.settings import Settings

PENDING_COOKIE = "alliance_oidc"
PENDING_MAX_AGE = 600
METADATA_TTL = 3600.0
ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]


class SignInFailed(AllianceError):
    """The sign-in could not be completed; starting again usually works."""

    status_code = 400
    kind = "sign_in_failed"


class ProviderUnavailable(AllianceError):
    status_code = 503
    kind = "sign_in_unavailable"


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    end_session_endpoint: str | None


@dataclass(frozen=True, slots=True)
class PendingLogin:
    state: str
    nonce: str
    verifier: str
    redirect_uri: str
    created: int


def _sign(secret: str, payload: bytes) -> str:
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def seal(pending: PendingLogin, secret: str) -> str:
    payload = base64.urlsafe_b64encode(json.dumps(asdict(pending)).encode())
    return payload.decode() + "." + _sign(secret, payload)


def unseal(value: str | None, secret: str) -> PendingLogin:
    """The pending login from its cookie; a missing, forged or stale cookie is refused."""
    if not value or "." not in value:
        raise SignInFailed(
            "This sign-in was not started in this browser, or it took too long. "
            "Please sign in again."
        )
    payload, signature = value.rsplit(".", 1)
    if not hmac.compare_digest(signature, _sign(secret, payload.encode())):
        raise SignInFailed("This sign-in could not be verified. Please sign in again.")
    try:
        data = json.loads(base64.urlsafe_b64decode(payload.encode()))
        pending = PendingLogin(**data)
    except (ValueError, TypeError) as exc:
        raise SignInFailed("This sign-in could not be verified. Please sign in again.") from exc
    if time.time() - pending.created > PENDING_MAX_AGE:
        raise SignInFailed("This sign-in took too long. Please sign in again.")
    return pending


class OidcClient:
    """One configured provider. Holds cached discovery metadata and keys, nothing else."""

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.issuer = settings.oidc_issuer.rstrip("/")
        self._transport = transport
        self._metadata: tuple[float, ProviderMetadata] | None = None
        self._keys: tuple[float, KeySet] | None = None

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self._transport, timeout=10.0, follow_redirects=False)

    async def _get_json(self, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            async with self._http() as http:
                response = await http.get(url, **kwargs)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                "Your institution's sign-in service could not be reached. Try again shortly."
            ) from exc
        if response.status_code != 200:
            raise ProviderUnavailable(
                f"Your institution's sign-in service answered {response.status_code}. "
                "Try again shortly; if it persists, tell your administrator."
            )
        body = response.json()
        if not isinstance(body, dict):
            raise ProviderUnavailable("Your institution's sign-in service answered oddly.")
        return body

    async def metadata(self) -> ProviderMetadata:
        if self._metadata and time.monotonic() - self._metadata[0] < METADATA_TTL:
            return self._metadata[1]
        doc = await self._get_json(self.issuer + "/.well-known/openid-configuration")
        if str(doc.get("issuer", "")).rstrip("/") != self.issuer:
            raise ProviderUnavailable(
                f"The sign-in provider calls itself {doc.get('issuer')!r}, not the configured "
                f"ALLIANCE_OIDC_ISSUER {self.issuer!r}; correct the setting."
            )
        try:
            meta = ProviderMetadata(
                issuer=str(doc["issuer"]),
                authorization_endpoint=str(doc["authorization_endpoint"]),
                token_endpoint=str(doc["token_endpoint"]),
                jwks_uri=str(doc["jwks_uri"]),
                userinfo_endpoint=doc.get("userinfo_endpoint"),
                end_session_endpoint=doc.get("end_session_endpoint"),
            )
        except KeyError as exc:
            raise ProviderUnavailable(
                f"The sign-in provider's discovery document lacks {exc.args[0]}."
            ) from exc
        self._metadata = (time.monotonic(), meta)
        return meta

    async def _key_set(self, meta: ProviderMetadata, *, refresh: bool = False) -> KeySet:
        if not refresh and self._keys and time.monotonic() - self._keys[0] < METADATA_TTL:
            return self._keys[1]
        keys = KeySet.import_key_set(await self._get_json(meta.jwks_uri))  # type: ignore[arg-type]
        self._keys = (time.monotonic(), keys)
        return keys

    async def begin(self, redirect_uri: str) -> tuple[str, PendingLogin]:
        """The provider's authorization URL, and what to keep until the browser returns."""
        meta = await self.metadata()
        pending = PendingLogin(
            state=generate_token(32),
            nonce=generate_token(32),
            verifier=generate_token(64),
            redirect_uri=redirect_uri,
            created=int(time.time()),
        )
        url = add_params_to_uri(
            meta.authorization_endpoint,
            [
                ("response_type", "code"),
                ("client_id", self.settings.oidc_client_id),
                ("redirect_uri", redirect_uri),
                ("scope", self.settings.oidc_scopes),
                ("state", pending.state),
                ("nonce", pending.nonce),
                ("code_challenge", create_s256_code_challenge(pending.verifier)),
                ("code_challenge_method", "S256"),
            ],
        )
        return url, pending

    async def finish(self, pending: PendingLogin, params: dict[str, str]) -> Identity:
        """Check the returned state, redeem the code, verify the ID token, map the claims."""
        if not secrets.compare_digest(params.get("state", ""), pending.state):
            raise SignInFailed("This sign-in could not be verified. Please sign in again.")
        if "error" in params:
            if params["error"] == "access_denied":
                raise AccessDenied("The sign-in was cancelled or refused at your institution.")
            raise SignInFailed(
                f"Your institution's sign-in reported {params['error']!r}. Please try again."
            )
        code = params.get("code", "")
        if not code:
            raise SignInFailed("The sign-in returned no code. Please sign in again.")
        meta = await self.metadata()
        tokens = await self._redeem(meta, code, pending)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise SignInFailed("The sign-in provider sent no ID token; check the 'openid' scope.")
        claims = await self._verify(meta, id_token, pending.nonce)
        access_token = tokens.get("access_token")
        if meta.userinfo_endpoint and isinstance(access_token, str):
            info = await self._get_json(
                meta.userinfo_endpoint, headers={"Authorization": f"Bearer {access_token}"}
            )
            if info.get("sub") == claims.get("sub"):
                claims = {**info, **claims}
        return from_claims(claims, self.settings, id_token=id_token)

    async def _redeem(
        self, meta: ProviderMetadata, code: str, pending: PendingLogin
    ) -> dict[str, Any]:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": pending.redirect_uri,
            "code_verifier": pending.verifier,
            "client_id": self.settings.oidc_client_id,
        }
        secret = self.settings.oidc_client_secret.get_secret_value()
        # A confidential client authenticates with HTTP Basic; a public one by PKCE alone.
        auth: dict[str, Any] = (
            {"auth": httpx.BasicAuth(self.settings.oidc_client_id, secret)} if secret else {}
        )
        try:
            async with self._http() as http:
                response = await http.post(meta.token_endpoint, data=form, **auth)
        except httpx.HTTPError as exc:
            raise ProviderUnavailable(
                "Your institution's sign-in service could not be reached. Try again shortly."
            ) from exc
        if response.status_code != 200:
            raise SignInFailed(
                "Your institution's sign-in service did not accept this sign-in "
                f"({response.status_code}). Please sign in again."
            )
        body = response.json()
        return body if isinstance(body, dict) else {}

    async def _verify(self, meta: ProviderMetadata, id_token: str, nonce: str) -> dict[str, Any]:
        registry = jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": meta.issuer},
            aud={"essential": True, "value": self.settings.oidc_client_id},
            sub={"essential": True},
            exp={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        for refresh in (False, True):  # a key rotated since we cached the set: fetch once more
            keys = await self._key_set(meta, refresh=refresh)
            try:
                token = jwt.decode(id_token, keys, algorithms=ALGORITHMS)
                registry.validate(token.claims)
            except ValueError as exc:
                if refresh or "key" not in str(exc).lower():
                    raise SignInFailed(
                        "The sign-in provider's ID token could not be verified. "
                        "Please sign in again."
                    ) from exc
                continue
            except JoseError as exc:
                raise SignInFailed(
                    "The sign-in provider's ID token could not be verified. Please sign in again."
                ) from exc
            return dict(token.claims)
        raise SignInFailed("The sign-in provider's ID token could not be verified.")

    async def logout_url(self, id_token: str | None, post_logout_redirect_uri: str) -> str | None:
        """Where to send the browser to end the provider's session too (RP-initiated logout)."""
        try:
            meta = await self.metadata()
        except ProviderUnavailable:
            return None
        if not meta.end_session_endpoint:
            return None
        params = {
            "client_id": self.settings.oidc_client_id,
            "post_logout_redirect_uri": post_logout_redirect_uri,
        }
        if id_token:
            params["id_token_hint"] = id_token
        separator = "&" if "?" in meta.end_session_endpoint else "?"
        return meta.end_session_endpoint + separator + urlencode(params)
