"""A minimal FastCGI client for tests that must talk to portaild without
nginx in between: params nginx would refuse or normalise (control bytes in
the URI, huge headers), a CONTENT_LENGTH with no body behind it (to show that
portaild answers before reading), and so on."""

import socket
import struct
import time

FCGI_VERSION = 1
BEGIN_REQUEST = 1
END_REQUEST = 3
PARAMS = 4
STDIN = 5
STDOUT = 6
STDERR = 7
RESPONDER = 1


def _b(x):
    return x if isinstance(x, bytes) else str(x).encode("utf-8")


def _record(rtype, content, request_id=1):
    out = []
    for i in range(0, max(len(content), 1), 65535):
        chunk = content[i:i + 65535]
        pad = (8 - len(chunk) % 8) % 8
        out.append(struct.pack(">BBHHBB", FCGI_VERSION, rtype, request_id, len(chunk), pad, 0))
        out.append(chunk + b"\0" * pad)
    return b"".join(out)


def _length(n):
    return struct.pack(">B", n) if n < 128 else struct.pack(">I", n | 0x80000000)


def encode_params(params):
    out = []
    for k, v in params.items():
        k, v = _b(k), _b(v)
        out.append(_length(len(k)) + _length(len(v)) + k + v)
    return b"".join(out)


def base_params(method="GET", uri="/api/v1/test/hello", **extra):
    path, _, query = uri.partition("?")
    p = {
        "REQUEST_METHOD": method,
        "REQUEST_URI": uri,
        "DOCUMENT_URI": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_SOFTWARE": "fcgi_client",
    }
    p.update(extra)
    return p


class Response:
    def __init__(self, raw, ended, elapsed):
        self.raw = raw
        self.ended = ended
        self.elapsed = elapsed
        head, _, self.body = raw.partition(b"\r\n\r\n")
        self.headers = {}
        self.header_list = []
        for line in head.decode("latin-1").split("\r\n"):
            if ":" in line:
                k, _, v = line.partition(":")
                self.headers[k.strip().lower()] = v.strip()
                self.header_list.append((k.strip(), v.strip()))
        status = self.headers.get("status", "200")
        self.status = int(status.split()[0])

    def json(self):
        import json
        return json.loads(self.body)


def request(sock_path, params, stdin=b"", close_stdin=True, timeout=10.0):
    """Sends one request over the unix socket and reads the whole answer.
    stdin=None sends no body at all (and close_stdin=False leaves the stream
    open): the server must not wait for it."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    t0 = time.monotonic()
    try:
        s.connect(str(sock_path))
        data = _record(BEGIN_REQUEST, struct.pack(">HB5x", RESPONDER, 0))
        data += _record(PARAMS, encode_params(params)) + _record(PARAMS, b"")
        if stdin is not None:
            if stdin:
                data += _record(STDIN, stdin)
            if close_stdin:
                data += _record(STDIN, b"")
        s.sendall(data)
        out = bytearray()
        buf = b""
        ended = False
        while not ended:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 8:
                _, rtype, _, clen, plen, _ = struct.unpack(">BBHHBB", buf[:8])
                if len(buf) < 8 + clen + plen:
                    break
                content = buf[8:8 + clen]
                buf = buf[8 + clen + plen:]
                if rtype == STDOUT:
                    out += content
                elif rtype == END_REQUEST:
                    ended = True
                    break
        return Response(bytes(out), ended, time.monotonic() - t0)
    finally:
        s.close()
