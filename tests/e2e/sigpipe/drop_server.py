#!/usr/bin/env python3
"""The server sink-rawtcp talks to, which goes away while the sink writes.

Data connections: lines of JSON documents, then "COMMIT <n>"; the server
answers "OK <n>" when it holds exactly n lines since the last commit on
that connection, and only then stores the documents under their "handle"
member (the last one wins). The lines of a connection that drops are
forgotten, as a database forgets an uncommitted transaction.

Two ways to lose a connection:

* --drops N --drop-after BYTES: each of the first N data connections is
  closed once BYTES have arrived, while the sink is still sending: a FIN
  (shutdown), then an RST (SO_LINGER 0 with unread data). An RST after a
  FIN puts the sink's socket where its next write(2) fails with EPIPE and
  raises SIGPIPE (an RST alone gives ECONNRESET first, which a sink may
  answer without ever writing again).
* "CTL drop" from the control client: every open data connection is shut
  down with a FIN, as a server does when it ends an idle session; the
  sink's next write into it meets the peer's RST, then EPIPE.

Control: `drop_server.py --ctl PORT reset|dump|drop` connects, sends
"CTL <command>" and prints the answer; `dump` prints the stored state as
{"key": handle, "value": document} lines (the conformance kit's read-back
format). The control client exits 0 on success.

The port goes to --port-file once listening; counts go to --status-file
(JSON, replaced atomically) after every commit and drop. The server exits
after --lifetime seconds at most, so it never outlives a broken test.
"""
import argparse
import json
import os
import socket
import struct
import sys
import threading
import time


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w") as out:
        json.dump(data, out)
    os.replace(tmp, path)


class Server:
    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.stored = {}
        self.open = set()
        self.status = {"connections": 0, "dropped": 0, "dropped_bytes": [], "ctl_drops": 0, "commits": 0,
                       "committed_lines": 0, "keys": 0, "bad_commits": 0}

    def save(self):  # with self.lock held
        self.status["keys"] = len(self.stored)
        write_json(self.args.status_file, self.status)

    def control(self, conn, command):
        with self.lock:
            if command == "reset":
                self.stored.clear()
                self.save()
                conn.sendall(b"OK\n")
            elif command == "dump":
                for key, doc in self.stored.items():
                    conn.sendall(json.dumps({"key": key, "value": doc}).encode() + b"\n")
            elif command == "drop":
                for other in list(self.open):  # data connections only
                    try:
                        other.shutdown(socket.SHUT_RDWR)
                    except OSError:
                        pass
                self.status["ctl_drops"] += 1
                self.save()
                conn.sendall(b"OK\n")
            else:
                conn.sendall(b"ERR unknown command\n")

    def serve(self, conn):
        try:
            chunk = conn.recv(65536)
            if chunk.startswith(b"CTL "):
                while b"\n" not in chunk:
                    more = conn.recv(65536)
                    if not more:
                        break
                    chunk += more
                self.control(conn, chunk.split(b"\n")[0][4:].decode())
            elif chunk:
                self.data(conn, chunk)
        except (ConnectionError, socket.timeout, OSError):
            pass
        finally:
            with self.lock:
                self.open.discard(conn)
            conn.close()

    def data(self, conn, chunk):
        with self.lock:
            self.status["connections"] += 1
            drop = self.status["dropped"] < self.args.drops
            if drop:  # counted now: a reconnect while this one ends is served
                self.status["dropped"] += 1
            self.open.add(conn)
        received = 0
        buffered = b""
        pending = []
        while chunk:
            received += len(chunk)
            if drop and received >= self.args.drop_after:
                conn.shutdown(socket.SHUT_WR)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                with self.lock:
                    self.status["dropped_bytes"].append(received)
                    self.save()
                return
            buffered += chunk
            lines = buffered.split(b"\n")
            buffered = lines.pop()
            for line in lines:
                if line.startswith(b"COMMIT "):
                    n = int(line[7:])
                    with self.lock:
                        if n != len(pending):
                            self.status["bad_commits"] += 1
                            reply = b"ERR %d\n" % len(pending)
                        else:
                            for doc in pending:
                                self.stored[doc["handle"]] = doc
                            self.status["commits"] += 1
                            self.status["committed_lines"] += n
                            reply = b"OK %d\n" % n
                        self.save()
                    conn.sendall(reply)
                    pending = []
                elif line:
                    pending.append(json.loads(line))
            chunk = conn.recv(65536)

    def run(self):
        deadline = time.monotonic() + self.args.lifetime
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # A small receive window (inherited by accepted sockets): the sink's
        # multi-MB write cannot fit in the buffers, so it is still writing
        # when the connection goes away.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        with self.lock:
            self.save()
        with open(self.args.port_file + ".tmp", "w") as out:
            out.write("%d\n" % listener.getsockname()[1])
        os.replace(self.args.port_file + ".tmp", self.args.port_file)
        while time.monotonic() < deadline:
            listener.settimeout(max(0.1, min(1.0, deadline - time.monotonic())))
            try:
                conn, _ = listener.accept()
            except socket.timeout:
                continue
            conn.settimeout(max(0.1, deadline - time.monotonic()))
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()


def control_client(port, command):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(b"CTL %s\n" % command.encode())
        conn.shutdown(socket.SHUT_WR)
        answer = b""
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            answer += chunk
    if command == "dump":
        sys.stdout.write(answer.decode())
        return 0
    return 0 if answer == b"OK\n" else 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ctl", nargs=2, metavar=("PORT", "COMMAND"))
    ap.add_argument("--port-file")
    ap.add_argument("--status-file")
    ap.add_argument("--drop-after", type=int, default=256 * 1024)
    ap.add_argument("--drops", type=int, default=0)
    ap.add_argument("--lifetime", type=float, default=300.0)
    args = ap.parse_args()
    if args.ctl:
        sys.exit(control_client(int(args.ctl[0]), args.ctl[1]))
    if not args.port_file or not args.status_file:
        ap.error("--port-file and --status-file are required to serve")
    Server(args).run()


if __name__ == "__main__":
    main()
