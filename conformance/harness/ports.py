"""Free TCP ports on the loopback interface.

The kernel picks the port: bind to port 0, read it back, close. Another process can
take the port between the close and the server's own bind, so starters treat an early
exit as a reason to retry with a fresh port (see procs.start_listening).
"""

import socket

LOOPBACK = "127.0.0.1"

# Ports already handed out by this process, never handed out twice, so two servers
# started back to back cannot be given the same port.
_issued: set[int] = set()


def free_port() -> int:
    """A loopback port that nothing was listening on a moment ago."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((LOOPBACK, 0))
            port = sock.getsockname()[1]
        if port not in _issued:
            _issued.add(port)
            return port


def is_accepting(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """Whether a TCP connection to host:port succeeds right now."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
