#!/usr/bin/env python3
"""Where a tunnel's set-up time goes: the shared harness's tunnel_setup (sequential CONNECT + TLS + GET, read to
EOF), timed phase by phase from the client's side, so that two proxies (or a proxy and the direct connection)
can be compared step by step in one sitting.

  bench/tunnel-phases.py --proxy 127.0.0.1:PORT --target 127.0.0.1:ORIGIN_TLS_PORT --cafile cert.pem [--n 1000]
  bench/tunnel-phases.py --proxy direct --target ...            # TCP + TLS straight to the origin

Phases: tcp (connect to the proxy), connect200 (CONNECT sent until the 200's head is read), tls (handshake through
the tunnel), ttfb (GET sent until the first bytes of the answer), eof (the rest of the answer and the close), total.
Prints p50, p90 and p99 of each, in milliseconds. Loopback only, as the rest of the harness.
"""
import argparse
import socket
import ssl
import time

PHASES = ["tcp", "connect200", "tls", "ttfb", "eof", "total"]


def host_port(text):
    host, _, port = text.rpartition(":")
    return host, int(port)


def one_tunnel(proxy, target, context):
    marks = [time.perf_counter()]
    sock = socket.create_connection(target if proxy is None else proxy)
    marks.append(time.perf_counter())
    if proxy is not None:
        authority = "%s:%d" % target
        sock.sendall(("CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n" % (authority, authority)).encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(4096)
            if not chunk:
                raise OSError("the proxy closed during CONNECT: %r" % head[:80])
            head += chunk
        if head.split(b" ", 2)[1] != b"200":
            raise OSError("CONNECT refused: %r" % head[:80])
    marks.append(time.perf_counter())
    tls = context.wrap_socket(sock, server_hostname=target[0])
    marks.append(time.perf_counter())
    tls.sendall(b"GET /small HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n\r\n" % (target[0].encode(), target[1]))
    tls.recv(65536)
    marks.append(time.perf_counter())
    while tls.recv(65536):
        pass
    tls.close()
    marks.append(time.perf_counter())
    steps = [(b - a) * 1e3 for a, b in zip(marks, marks[1:])]
    return steps + [(marks[-1] - marks[0]) * 1e3]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--proxy", required=True, help="HOST:PORT of the proxy, or direct")
    parser.add_argument("--target", required=True, help="HOST:PORT of the TLS origin")
    parser.add_argument("--cafile", required=True, help="the origin's certificate")
    parser.add_argument("--n", type=int, default=1000, help="tunnels, one after the other")
    args = parser.parse_args()
    proxy = None if args.proxy == "direct" else host_port(args.proxy)
    target = host_port(args.target)
    context = ssl.create_default_context(cafile=args.cafile)
    samples = {phase: [] for phase in PHASES}
    for _ in range(args.n):
        for phase, ms in zip(PHASES, one_tunnel(proxy, target, context)):
            samples[phase].append(ms)
    for phase in PHASES:
        values = sorted(samples[phase])
        pick = lambda q: values[min(len(values) - 1, int(q * len(values)))]
        print("%-10s p50 %7.3f  p90 %7.3f  p99 %7.3f ms" % (phase, pick(0.50), pick(0.90), pick(0.99)))


if __name__ == "__main__":
    main()
