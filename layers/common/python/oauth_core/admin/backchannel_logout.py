"""OpenID Connect Back-Channel Logout 1.0, the server's side: when a session ends (a sign-out, a
user's "sign out everywhere", an operator ending it), every app it signed into that registered
a `backchannel_logout_uri` is sent a logout token naming the user and the session.

Two halves, so that no app can delay a user's sign-out:

- `LogoutNotices`, in whatever ended the session: which apps to tell (the session's record of
  the registrations it signed into, each still registered, enabled and taking back-channel
  logout), handed to the notifier in one call that does not wait for it (LogoutDispatch: on AWS
  an asynchronous invocation of the logout notifier function; on the local stack a thread). A
  failure to hand them over is logged and counted, and the user is signed out all the same.
- `BackchannelNotifier`, the logout notifier: reads each client again, signs its logout token
  (oauth_core.tokens.logout_token) and POSTs it as a form, under the rules of
  oauth_core.http.outbound (https; public addresses only, loopback only on a local stack; no
  redirect followed), within LOGOUT_POST_TIMEOUT seconds an attempt. An attempt that reached no
  one, or was answered 5xx, is made once more; an app that still does not take it is logged
  (never the token) and counted (BackchannelLogoutFailed).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from oauth_core.clock import Clock, Random
from oauth_core.http.outbound import FetchRefused, Unreachable
from oauth_core.keys import KeySet
from oauth_core.models import Client, LogoutNotice, Session
from oauth_core.observability import count, logger
from oauth_core.ports import ClientStore, KeyStore, LogoutDispatch
from oauth_core.tokens.logout_token import logout_token

LOGOUT_POST_TIMEOUT = 2.0
ATTEMPTS = 2  # the first, and one more for an app that could not be reached or answered 5xx
PARALLEL_POSTS = 8
JTI_BYTES = 16


class FormPoster(Protocol):
    """oauth_core.http.outbound.SafeFetcher's POST: the answer's status, or FetchRefused
    (Unreachable when trying again may help)."""

    def post_form(self, url: str, fields: dict[str, str]) -> int: ...


def registered_client(clients: ClientStore, entry: str) -> Client | None:
    """The client a session's entry names, if that registration still takes back-channel
    logout: a client deleted and registered again under the same id is not told (D8)."""
    client_id, _, registration = entry.partition(" ")
    client = clients.get(client_id)
    if client is None or client.disabled or client.registration_id != registration:
        return None
    return client if client.backchannel_logout_uri else None


class LogoutNotices:
    """Telling the apps of sessions that ended, without waiting for them."""

    def __init__(self, clients: ClientStore, dispatch: LogoutDispatch):
        self._clients = clients
        self._dispatch = dispatch

    def notices_for(self, issuer: str, sessions: Iterable[Session]) -> list[LogoutNotice]:
        notices = []
        for session in sessions:
            entries = tuple(
                entry
                for entry in dict.fromkeys(session.signed_into)
                if registered_client(self._clients, entry) is not None
            )
            if entries:
                notices.append(LogoutNotice(issuer, session.sub, session.sid, entries))
        return notices

    def sessions_ended(self, issuer: str, sessions: Iterable[Session]) -> int:
        """Hand the apps of these ended sessions to the notifier; how many apps are to be told.
        Never raises: the sessions have ended, whatever happens to the notices."""
        try:
            notices = self.notices_for(issuer, sessions)
            if notices:
                self._dispatch.send(notices)
        except Exception:
            count("BackchannelLogoutNotSent")
            logger.exception("ended sessions could not be handed to the logout notifier")
            return 0
        return sum(len(notice.clients) for notice in notices)


@dataclass(frozen=True)
class _Delivery:
    client_id: str
    url: str
    token: str


class BackchannelNotifier:
    """The logout notifier: signs and sends the logout tokens of ended sessions. The Lambda
    handler of functions/logout_notifier (the event: {"notices": [LogoutNotice items]})."""

    def __init__(
        self,
        clients: ClientStore,
        keys: KeyStore,
        fetcher: FormPoster,
        clock: Clock,
        random: Random,
        attempts: int = ATTEMPTS,
    ):
        self._clients = clients
        self._keys = keys
        self._fetcher = fetcher
        self._clock = clock
        self._random = random
        self._attempts = attempts

    def __call__(self, event: dict[str, Any], context: Any = None) -> dict[str, int]:
        notices = [LogoutNotice.from_item(item) for item in event.get("notices") or ()]
        return self.notify(notices)

    def notify(self, notices: list[LogoutNotice]) -> dict[str, int]:
        deliveries = self._deliveries(notices)
        if not deliveries:
            return {"delivered": 0, "failed": 0}
        with ThreadPoolExecutor(max_workers=min(PARALLEL_POSTS, len(deliveries))) as pool:
            results = list(pool.map(self._deliver, deliveries))
        for delivered in results:
            if delivered:
                count("BackchannelLogoutDelivered")
            else:
                count("BackchannelLogoutFailed")
        return {"delivered": sum(results), "failed": len(results) - sum(results)}

    def _deliveries(self, notices: list[LogoutNotice]) -> list[_Delivery]:
        keys: KeySet | None = None
        deliveries = []
        now = self._clock.now()
        for notice in notices:
            for entry in dict.fromkeys(notice.clients):
                client = registered_client(self._clients, entry)
                if client is None:
                    continue  # deleted, disabled or no longer taking back-channel logout
                keys = keys or self._keys.load()
                token = logout_token(
                    issuer=notice.issuer,
                    client_id=client.client_id,
                    sub=notice.sub,
                    sid=notice.sid,
                    now=now,
                    jti=self._random.token(JTI_BYTES),
                    key=keys.current(client.id_token_signed_response_alg),
                )
                deliveries.append(_Delivery(client.client_id, client.backchannel_logout_uri, token))
        return deliveries

    def _deliver(self, delivery: _Delivery) -> bool:
        reason = ""
        for _ in range(self._attempts):
            try:
                status = self._fetcher.post_form(delivery.url, {"logout_token": delivery.token})
            except Unreachable as exc:
                reason = str(exc)
                continue
            except FetchRefused as exc:
                reason = str(exc)
                break  # a URL this server does not call: trying again changes nothing
            if 200 <= status < 300:
                return True
            reason = f"the app answered {status}"
            if status < 500:
                break  # refused (or a redirect, which is not followed): said once is enough
        # The reason names the URL's fault, never the token.
        logger.warning(
            "back-channel logout not delivered",
            extra={"client_id": delivery.client_id, "reason": reason},
        )
        return False


class ThreadedLogoutDispatch:
    """The local stack's stand-in for the notifier function: the same notifier, on a thread of
    its own, so the sign-out that hands it the notices does not wait."""

    def __init__(self, notifier: BackchannelNotifier):
        self._notifier = notifier

    def send(self, notices: list[LogoutNotice]) -> None:
        threading.Thread(target=self._run, args=(notices,), daemon=True).start()

    def _run(self, notices: list[LogoutNotice]) -> None:
        try:
            self._notifier.notify(notices)
        except Exception:
            logger.exception("the logout notifier failed")


class InlineLogoutDispatch:
    """The notifier run in the caller, which waits: for oauthctl, whose operator may."""

    def __init__(self, notifier: BackchannelNotifier):
        self._notifier = notifier

    def send(self, notices: list[LogoutNotice]) -> None:
        self._notifier.notify(notices)
