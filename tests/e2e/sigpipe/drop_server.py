#!/usr/bin/env python3
"""The server sink-rawtcp talks to, which goes away in the middle of a write.

Protocol (one connection at a time): lines of JSON documents, then
"COMMIT <n>"; the server answers "OK <n>" when it holds exactly n lines
since the last commit on that connection, and only then counts their
"handle" members as stored. The lines of a connection that drops are
forgotten, as a database forgets an uncommitted transaction.

The first --drops connections are closed once --drop-after bytes have
arrived, while the sink is still writing: first a FIN (shutdown), then an
RST (SO_LINGER 0 with unread data). Receiving the RST after the FIN puts
the sink's socket in the state where its next write(2) fails with EPIPE
and raises SIGPIPE (an RST alone gives ECONNRESET first, which a sink may
answer without ever writing again). Later connections are served.

The port goes to --port-file once listening; counts go to --status-file
(JSON, replaced atomically) after every commit and drop. The server exits
after --lifetime seconds at most, so it never outlives a broken test.
"""
import argparse
import json
import os
import socket
import struct
import time


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as out:
        json.dump(data, out)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--status-file", required=True)
    ap.add_argument("--drop-after", type=int, default=256 * 1024)
    ap.add_argument("--drops", type=int, default=1)
    ap.add_argument("--lifetime", type=float, default=300.0)
    args = ap.parse_args()

    deadline = time.monotonic() + args.lifetime
    status = {"connections": 0, "dropped": 0, "dropped_bytes": [], "commits": 0, "committed_lines": 0,
              "keys": 0, "bad_commits": 0}
    stored = set()

    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # A small receive window (inherited by accepted sockets): the sink's
    # multi-MB write cannot fit in the buffers, so it is still writing when
    # the connection goes away.
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    write_json(args.status_file, status)
    with open(args.port_file + ".tmp", "w") as out:
        out.write("%d\n" % listener.getsockname()[1])
    os.replace(args.port_file + ".tmp", args.port_file)

    while time.monotonic() < deadline:
        listener.settimeout(max(0.1, min(1.0, deadline - time.monotonic())))
        try:
            conn, _ = listener.accept()
        except socket.timeout:
            continue
        status["connections"] += 1
        drop = status["dropped"] < args.drops
        conn.settimeout(max(0.1, deadline - time.monotonic()))
        received = 0
        buffered = b""
        pending = []
        try:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                received += len(chunk)
                if drop and received >= args.drop_after:
                    conn.shutdown(socket.SHUT_WR)
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    status["dropped"] += 1
                    status["dropped_bytes"].append(received)
                    write_json(args.status_file, status)
                    break
                buffered += chunk
                lines = buffered.split(b"\n")
                buffered = lines.pop()
                for line in lines:
                    if line.startswith(b"COMMIT "):
                        n = int(line[7:])
                        if n != len(pending):
                            status["bad_commits"] += 1
                            conn.sendall(b"ERR %d\n" % len(pending))
                        else:
                            stored.update(pending)
                            status["commits"] += 1
                            status["committed_lines"] += n
                            status["keys"] = len(stored)
                            conn.sendall(b"OK %d\n" % n)
                        pending = []
                        write_json(args.status_file, status)
                    elif line:
                        pending.append(json.loads(line)["handle"])
        except (ConnectionError, socket.timeout):
            pass
        finally:
            conn.close()


if __name__ == "__main__":
    main()
