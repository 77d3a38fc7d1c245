"""What every command module shares."""


class UserError(Exception):
    """Printed as 'error: ...' with exit status 2, never as a traceback."""
