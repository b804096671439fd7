#!/usr/bin/env python3
"""A fault-injecting HTTP proxy for the rdap source's tests, loopback only.

icann-rdap-srv sends no ETag, no Last-Modified and never limits anyone; this
proxy adds what a production RDAP server does:

  * ETag (a hash of the body) and Last-Modified (first time this body was
    seen), and 304 for a matching If-None-Match / If-Modified-Since;
  * on demand, 429 (or 503) with Retry-After for the next N requests, in
    seconds or (retry_after=date:S) as an HTTP-date; a request that comes
    before the window it announced ends counts as "early";
  * on demand (mode=garbage&kinds=html,errorcode,badjson,big), answers that
    are not RDAP, one kind per request;
  * on demand (mode=stamp), a "last update of RDAP database" event of the
    current instant in every object, so no two answers are the same bytes;
  * on demand (mode=redirect&same=NAME&other=NAME&to=URL), a 301 for the
    object NAME named by `same` to /moved/... on this proxy (the path that
    it then serves from the server), and a 302 for the object named by
    `other` to URL + the path (another authority); /moved/... is always served;
  * with --tls CERT KEY, HTTPS instead of HTTP (a self-signed test server);
  * counts of requests and answers, at GET /_stats (JSON);
  * control: GET /_ctl?mode=throttle&count=N&retry_after=S&status=429
             GET /_ctl?mode=normal

Usage: proxy.py LISTEN_PORT UPSTREAM_PORT PORT_FILE [--max-seconds S] [--tls CERT KEY]
It writes its port to PORT_FILE when ready and exits after --max-seconds
(default 1800) so that a forgotten proxy cannot linger.
"""
import email.utils
import hashlib
import json
import os
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {"requests": 0, "status": {}, "conditional": 0, "throttled": 0, "early": 0, "by_path": {}}
# End of the last Retry-After window announced: a request before it is "early".
WINDOW = {"until": 0.0}
FAULT = {"mode": "normal", "count": 0, "retry_after": "1", "status": 429, "kinds": [], "same": "", "other": "",
         "to": ""}
# What mode=garbage answers instead of the object, one kind per request.
GARBAGE = {
    "html": (200, "text/html", b"<html><body>maintenance</body></html>"),
    "errorcode": (200, "application/rdap+json", b'{"errorCode": 500, "title": "internal error"}'),
    "badjson": (200, "application/rdap+json", b'{"objectClassName": "domain", "ldhName": '),
    "big": (200, "application/rdap+json", b'{"objectClassName":"domain","pad":"' + b"x" * 300000 + b'"}'),
}
FIRST_SEEN = {}
UPSTREAM = None


def count(path, status):
    with LOCK:
        STATS["requests"] += 1
        STATS["status"][str(status)] = STATS["status"].get(str(status), 0) + 1
        STATS["by_path"][path] = STATS["by_path"].get(path, 0) + 1


def stamped(body):
    """The body with a "last update of RDAP database" event of this instant,
    as servers that fill it from their clock send it."""
    doc = json.loads(body)
    events = [e for e in doc.get("events", []) if e.get("eventAction") != "last update of RDAP database"]
    now = time.time()
    events.append({"eventAction": "last update of RDAP database",
                   "eventDate": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + ".%06dZ" % (now % 1 * 1e6)})
    doc["events"] = events
    return json.dumps(doc).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/_stats":
            with LOCK:
                body = json.dumps(STATS).encode()
            return self.reply(200, body, [("Content-Type", "application/json")])
        if url.path == "/_ctl":
            q = dict(urllib.parse.parse_qsl(url.query))
            with LOCK:
                FAULT["mode"] = q.get("mode", "normal")
                FAULT["count"] = int(q.get("count", "0"))
                FAULT["retry_after"] = q.get("retry_after", "1")
                FAULT["status"] = int(q.get("status", "429"))
                FAULT["kinds"] = [k for k in q.get("kinds", "").split(",") if k]
                FAULT["same"], FAULT["other"], FAULT["to"] = q.get("same", ""), q.get("other", ""), q.get("to", "")
                if q.get("reset"):
                    STATS.update({"requests": 0, "status": {}, "conditional": 0, "throttled": 0, "early": 0,
                                  "by_path": {}})
            return self.reply(200, b"ok\n", [("Content-Type", "text/plain")])
        path = self.path
        if url.path.startswith("/moved/"):
            path = path[len("/moved"):]
        else:
            with LOCK:
                redirect = FAULT["mode"] == "redirect"
                name = url.path.rsplit("/", 1)[-1]
                if redirect and name and name == FAULT["same"]:
                    where = "http://%s/moved%s" % (self.headers.get("Host", ""), self.path)
                    status = 301
                elif redirect and name and name == FAULT["other"]:
                    where, status = FAULT["to"] + self.path, 302
                else:
                    where = None
            if where:
                count(url.path, status)
                return self.reply(status, b"moved\n", [("Content-Type", "text/plain"), ("Location", where)])
        now = time.time()
        with LOCK:
            # 50 ms of slack: the client's clock reading and ours are not the same instant.
            if now < WINDOW["until"] - 0.05:
                STATS["early"] += 1
            throttle = FAULT["mode"] == "throttle" and FAULT["count"] > 0
            if throttle:
                FAULT["count"] -= 1
                STATS["throttled"] += 1
                retry_after, status = FAULT["retry_after"], FAULT["status"]
                if retry_after.startswith("date:"):
                    # An HTTP-date has whole seconds: the window ends at the second it names.
                    until = float(int(now + float(retry_after[5:])))
                    retry_after = email.utils.formatdate(until, usegmt=True)
                else:
                    until = now + float(retry_after)
                WINDOW["until"] = max(WINDOW["until"], until)
            garbage = GARBAGE[FAULT["kinds"].pop(0)] if FAULT["mode"] == "garbage" and FAULT["kinds"] else None
        if garbage:
            count(url.path, garbage[0])
            return self.reply(garbage[0], garbage[2], [("Content-Type", garbage[1])])
        if throttle:
            count(url.path, status)
            return self.reply(status, b"slow down\n", [("Content-Type", "text/plain"), ("Retry-After", retry_after)])
        try:
            req = urllib.request.Request(UPSTREAM + path, headers={"Accept": self.headers.get("Accept", "*/*")})
            with urllib.request.urlopen(req, timeout=20) as r:
                status, body, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
        except urllib.error.HTTPError as e:
            status, body, ctype = e.code, e.read(), e.headers.get("Content-Type", "")
        except OSError:
            count(url.path, 502)
            return self.reply(502, b"upstream down\n", [("Content-Type", "text/plain")])
        with LOCK:
            stamp = FAULT["mode"] == "stamp"
        if stamp and status == 200:
            body = stamped(body)
        headers = [("Content-Type", ctype)]
        if status == 200:
            # The volatile event is left in the body: the ETag covers what the server sends.
            etag = '"%s"' % hashlib.sha256(body).hexdigest()[:32]
            with LOCK:
                first = FIRST_SEEN.setdefault(etag, time.time())
            headers += [("ETag", etag), ("Last-Modified", email.utils.formatdate(first, usegmt=True))]
            if self.headers.get("If-None-Match") == etag:
                with LOCK:
                    STATS["conditional"] += 1
                count(url.path, 304)
                return self.reply(304, b"", [("ETag", etag)])
        count(url.path, status)
        self.reply(status, body, headers)


def main():
    global UPSTREAM
    port, upstream, port_file = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    max_seconds, tls, rest = 1800.0, None, sys.argv[4:]
    while rest:
        if rest[0] == "--max-seconds" and len(rest) > 1:
            max_seconds, rest = float(rest[1]), rest[2:]
        elif rest[0] == "--tls" and len(rest) > 2:
            tls, rest = (rest[1], rest[2]), rest[3:]
        else:
            sys.exit("proxy.py: unknown argument %s" % rest[0])
    UPSTREAM = "http://127.0.0.1:%d" % upstream
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    srv.daemon_threads = True
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls[0], tls[1])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(port_file + ".tmp", "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.replace(port_file + ".tmp", port_file)
    stopper = threading.Timer(max_seconds, srv.shutdown)
    stopper.daemon = True
    stopper.start()
    srv.serve_forever()


if __name__ == "__main__":
    main()
