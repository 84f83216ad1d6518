"""What a command's failure means, as an exit status the same for every command:

0 ok; 1 not found; 2 usage or validation (the command cannot be done as given); 3 the stack
could not be reached, or did not answer as it should (AWS, network, credentials, a failed
smoke test).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_NOT_FOUND = 1
EXIT_INVALID = 2
EXIT_UNREACHABLE = 3


class CommandError(Exception):
    """A failure a user can act on; the message says what to do."""

    exit_code = EXIT_INVALID


class NotFound(CommandError):
    exit_code = EXIT_NOT_FOUND


class Invalid(CommandError):
    exit_code = EXIT_INVALID


class Unreachable(CommandError):
    exit_code = EXIT_UNREACHABLE
