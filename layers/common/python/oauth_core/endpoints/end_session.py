"""/logout: the end_session_endpoint of OpenID Connect RP-Initiated Logout 1.0, and the server's
own sign-out page (SECURITY L1-L5).

A GET, or a POST that is not this page's own form, is a logout request, with the parameters
`id_token_hint`, `client_id`, `post_logout_redirect_uri` and `state` (`ui_locales` and
`logout_hint` are accepted and ignored: there is one language, and the hint below says who).

- An `id_token_hint` must be an ID token this server signed, for this issuer (an expired one is
  still a hint); its `aud` must hold `client_id` when both are given. Anything else is refused
  with a page, never a redirect (L2).
- `post_logout_redirect_uri` must be, as a string, one the app (named by the hint or by
  `client_id`) registered; anything else is refused with a page (L1).
- With a valid hint of the browser's own session (same `sub` and `sid`), the user is signed out
  at once: only an app the user signed into holds that ID token, and the worst a forged request
  could do with one is sign the user out. Otherwise (no hint, or a stale one naming another
  session or user) the user is asked, on a page whose form carries the CSRF token of its cookie;
  a POST without it is refused (L3). With no session, there is nothing to end: the browser goes
  straight on.
- Signing out deletes the session and clears its cookie, and every app the session signed into
  that registered a `backchannel_logout_uri` is sent a logout token, without the user waiting
  (oauth_core.admin.backchannel_logout; L4, L5). Then the browser goes to the
  `post_logout_redirect_uri` with `state`, or sees a signed-out page.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from oauth_core.admin.backchannel_logout import LogoutNotices
from oauth_core.clock import Random
from oauth_core.endpoints.flow import AuthorizationFlow
from oauth_core.endpoints.signin import csrf_of, verified_form
from oauth_core.errors import TemporarilyUnavailable
from oauth_core.http.forms import parse_form, parse_query
from oauth_core.http.pages import (
    SESSION_COOKIE,
    logout_form,
    origin_of,
    page,
    refused_logout_page,
    see_other,
    signed_out,
    with_query,
)
from oauth_core.http.request import HttpRequest
from oauth_core.http.response import HttpResponse
from oauth_core.models import Client, Session, looks_like_client_id
from oauth_core.observability import count
from oauth_core.ports import ClientStore, GrantStore
from oauth_core.rules.hashing import token_hash
from oauth_core.tokens.logout_token import (
    HintRefused,
    HintUnverifiable,
    IdTokenHint,
    read_id_token_hint,
)

if TYPE_CHECKING:
    from oauth_core.tokens.bearer import JwksCache

MAX_STATE_LENGTH = 2048
_VSCHAR = re.compile(r"^[\x20-\x7e]+\Z")  # as /authorize's state (A12)
JWKS_PATH = "/.well-known/jwks.json"


@dataclass(frozen=True)
class AfterLogout:
    """Where the browser goes once signed out: a verified return address, or our page."""

    client: Client | None = None
    redirect_uri: str | None = None
    state: str | None = None

    def fields(self) -> dict[str, str]:
        """What the confirmation form carries (verified again when it comes back)."""
        carried = {
            "client_id": self.client.client_id if self.client else None,
            "post_logout_redirect_uri": self.redirect_uri,
            "state": self.state,
        }
        return {name: value for name, value in carried.items() if value is not None}


class Refused(Exception):
    """A logout request this server cannot verify: a page, never a redirect."""


class EndSessionEndpoint:
    def __init__(
        self,
        flow: AuthorizationFlow,
        clients: ClientStore,
        grants: GrantStore,
        notices: LogoutNotices,
        random: Random,
        jwks: JwksCache | None = None,
    ):
        self._flow = flow
        self._clients = clients
        self._grants = grants
        self._notices = notices
        self._jwks = jwks  # made when the first hint comes: PyJWT is loaded only then
        self._random = random

    # --- GET /logout, and POST /logout ---------------------------------------------------------

    def get(self, request: HttpRequest) -> HttpResponse:
        return self._logout_request(request, parse_query(request))

    def post(self, request: HttpRequest) -> HttpResponse:
        form = parse_form(request)
        if "csrf_token" in form:  # this page's own form: the user said yes
            return self._confirmed(request)
        return self._logout_request(request, form)  # an app's logout request, POSTed

    # --- a logout request ----------------------------------------------------------------------

    def _logout_request(self, request: HttpRequest, params: dict[str, str]) -> HttpResponse:
        issuer = self._flow.issuer(request)
        try:
            hint = self._hint(params.get("id_token_hint"), issuer)
            after = self._after_logout(params, hint)
        except Refused as exc:
            return refused_logout_page(str(exc), request)
        session = self._flow.live_session(request)
        if session is None:
            return self._go_on(after, was_signed_in=False)  # nothing to end
        if hint is not None and hint.sub == session.sub and hint.sid == session.sid:
            return self._end(request, session, after)  # the app's own sign-in: no question
        return self._ask(request, session, after)

    def _hint(self, value: str | None, issuer: str) -> IdTokenHint | None:
        if value is None:
            return None
        if self._jwks is None:
            from oauth_core.tokens.bearer import JwksCache

            # The issuer's published key set, read over HTTP as an app reads it: the login
            # function holds no signing key.
            self._jwks = JwksCache()
        try:
            return read_id_token_hint(
                value, issuer=issuer, jwks=self._jwks, jwks_uri=f"{issuer}{JWKS_PATH}"
            )
        except HintRefused as exc:
            raise Refused(f"The id_token_hint is not an ID token of this server ({exc}).") from exc
        except HintUnverifiable as exc:
            raise TemporarilyUnavailable("the server keys could not be read; retry") from exc

    def _after_logout(self, params: dict[str, str], hint: IdTokenHint | None) -> AfterLogout:
        """The app the request names (by its hint, its client_id, or both, which must agree),
        and where it may send the user back to: exactly a registered address of that app."""
        client_id = params.get("client_id")
        if hint is not None:
            if client_id is not None and client_id not in hint.audiences:
                raise Refused("The client_id is not an audience of the id_token_hint.")
            if client_id is None and len(hint.audiences) == 1:
                client_id = hint.audiences[0]
        client = None
        if client_id is not None:
            found = self._clients.get(client_id) if looks_like_client_id(client_id) else None
            if found is None or found.disabled:
                raise Refused("The client_id names no registered client.")
            client = found
        redirect_uri = params.get("post_logout_redirect_uri")
        if redirect_uri is not None:
            if client is None:
                raise Refused("A post_logout_redirect_uri needs an id_token_hint or client_id.")
            if redirect_uri not in client.post_logout_redirect_uris:
                raise Refused("The post_logout_redirect_uri is not registered for the client.")
        state = params.get("state")
        if state is not None and (len(state) > MAX_STATE_LENGTH or not _VSCHAR.match(state)):
            raise Refused("The state is not visible ASCII of at most 2048 characters.")
        return AfterLogout(client, redirect_uri, state if redirect_uri else None)

    def _ask(self, request: HttpRequest, session: Session, after: AfterLogout) -> HttpResponse:
        csrf, cookies = csrf_of(self._flow.cookies, request, self._random)
        client = after.client
        body = logout_form(
            csrf=csrf,
            username=session.username,
            client_name=(client.client_name or client.client_id) if client else None,
            fields=after.fields(),
        )
        # Chrome applies form-action to the redirect after a POST: the app's origin too.
        targets = (origin_of(after.redirect_uri),) if after.redirect_uri else ()
        return page("Sign out", body, cookies=cookies, form_targets=targets)

    # --- the user said yes ---------------------------------------------------------------------

    def _confirmed(self, request: HttpRequest) -> HttpResponse:
        form = verified_form(self._flow.cookies, request)  # the CSRF check (G1, L3)
        try:
            after = self._after_logout(form, None)  # what the form carried, verified again
        except Refused as exc:
            return refused_logout_page(str(exc), request)
        session_id = self._flow.cookies.read(request, SESSION_COOKIE)
        session = self._grants.get_session(token_hash(session_id)) if session_id else None
        if session is None:
            return self._go_on(after, was_signed_in=False)
        return self._end(request, session, after)

    # --- signing out ---------------------------------------------------------------------------

    def _end(self, request: HttpRequest, session: Session, after: AfterLogout) -> HttpResponse:
        self._grants.delete_session(session.session_hash)
        count("LoggedOut")
        # Every app this session signed into is told, by the notifier: nothing here waits.
        self._notices.sessions_ended(self._flow.issuer(request), [session])
        return self._go_on(after, was_signed_in=True)

    def _go_on(self, after: AfterLogout, *, was_signed_in: bool) -> HttpResponse:
        cleared = [self._flow.cookies.clear(SESSION_COOKIE)]
        if after.redirect_uri is not None:
            query = {"state": after.state} if after.state is not None else {}
            return see_other(with_query(after.redirect_uri, query), cleared)
        client = after.client
        body = signed_out(
            client_name=(client.client_name or client.client_id) if client else None,
            was_signed_in=was_signed_in,
        )
        return page("Signed out", body, cookies=cleared)
