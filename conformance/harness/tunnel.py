"""A loopback HTTP proxy that sends every connection to one fixed address.

gsutil's boto reaches an S3 host name without DNS only through an HTTP proxy (see
clients.gsutil). Over TLS it opens `CONNECT s3.us-east-1.cloak.test:443` there, then
speaks TLS inside the tunnel; this proxy answers the CONNECT and splices the bytes to
`target`, whatever host and port the CONNECT named. A request that is not a CONNECT
(plain HTTP in absolute form) is passed to `target` unchanged, head included.

It runs on threads inside the test process; close() (or the context manager) stops it.
"""

import socket
import threading

from .ports import LOOPBACK

# A request head longer than this is not from a client we drive.
_MAX_HEAD = 16 * 1024


class Tunnel:
    """Listens on a free loopback port; `address` is what a client uses as its proxy."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.connections = 0
        self._listener = socket.create_server((LOOPBACK, 0))
        self.address: tuple[str, int] = self._listener.getsockname()[:2]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        threading.Thread(target=self._accept_loop, name="tunnel", daemon=True).start()

    def close(self) -> None:
        # shutdown() wakes the thread blocked in accept(); close() alone may not.
        _quietly(self._listener.shutdown, socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for sock in self._open:
                _quietly(sock.close)

    def __enter__(self) -> "Tunnel":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _peer = self._listener.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        try:
            head, rest = _read_head(client)
            upstream = socket.create_connection(self.target, timeout=10)
            upstream.settimeout(None)
            self._track(client, upstream)
            if head.startswith(b"CONNECT "):
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                upstream.sendall(rest)
            else:
                upstream.sendall(head + rest)
            _splice(client, upstream)
        except OSError:
            pass
        finally:
            with self._lock:
                self._open.difference_update((client, upstream))
            for sock in (client, upstream):
                if sock is not None:
                    _quietly(sock.close)

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.update(socks)


def _read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The request head through its blank line, and any bytes read past it."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk or len(data) > _MAX_HEAD:
            raise ConnectionError("no complete request head")
        data += chunk
    end = data.index(b"\r\n\r\n") + 4
    return data[:end], data[end:]


def _splice(a: socket.socket, b: socket.socket) -> None:
    back = threading.Thread(target=_copy, args=(b, a), daemon=True)
    back.start()
    _copy(a, b)
    back.join()


def _copy(src: socket.socket, dst: socket.socket) -> None:
    # Pass on the end of one direction, so each side sees the other's EOF.
    try:
        while chunk := src.recv(65536):
            dst.sendall(chunk)
    except OSError:
        pass
    _quietly(dst.shutdown, socket.SHUT_WR)


def _quietly(call, *args) -> None:
    try:
        call(*args)
    except OSError:
        pass
