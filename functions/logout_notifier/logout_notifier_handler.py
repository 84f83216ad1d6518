"""Logout notifier: not behind the API. The login function invokes it asynchronously with the
sessions a user ended; it signs a logout token for each app those sessions signed into and POSTs
it to the app's back-channel logout URI (oauth_core.admin.backchannel_logout)."""

from oauth_core.wiring import logout_notifier

lambda_handler = logout_notifier()
