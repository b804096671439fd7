/*
 * systemd readiness notification (Type=notify) without libsystemd: one
 * datagram on the unix socket named by $NOTIFY_SOCKET, as sd_notify(3)
 * describes the protocol. Without $NOTIFY_SOCKET nothing happens, so the
 * daemon behaves the same outside systemd.
 */
#ifndef RDAPSYNC_HOST_NOTIFY_H
#define RDAPSYNC_HOST_NOTIFY_H

/* Sends `state` (e.g. "READY=1", "STOPPING=1", "STATUS=...", newline
 * separated). Returns 1 if sent, 0 if $NOTIFY_SOCKET is unset, -1 on an
 * error (errno set). Thread-safe; never blocks. */
int notify_send(const char *state);

#endif
