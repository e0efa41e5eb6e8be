#!/usr/bin/env python3
"""N sequential HTTPS requests, one per TLS 1.3 connection (Connection: close), for bench/server/tls_instructions.sh.

   tls_client.py PORT N resume|new

resume: every connection after the first resumes the session from the last ticket received; new: full handshakes.
Prints "N reused R". Certificates are not checked (the benchmark's own self-signed one)."""
import socket, ssl, sys
port, n, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
ctx.minimum_version = ssl.TLSVersion.TLSv1_3
session = None; reused = 0
for i in range(n):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost", session=session if mode == "resume" else None)
    s.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        try:
            c = s.recv(4096)
        except (ssl.SSLError, ConnectionResetError):
            break
        if not c: break
        data += c
    assert data.endswith(b"Hello, World!"), data
    reused += s.session_reused
    if s.session is not None and s.session.has_ticket: session = s.session
    s.close()
print(n, "reused", reused)
