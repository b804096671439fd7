/* sd_notify's protocol by hand: one datagram to $NOTIFY_SOCKET, nothing
 * without it. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

static int receiver = -1;
static char dir[] = "/tmp/rdapsync-notify-XXXXXX";
static char path[128];

static void teardown(void)
{
    if (receiver >= 0)
        close(receiver);
    receiver = -1;
    if (path[0])
        unlink(path);
    rmdir(dir);
    unsetenv("NOTIFY_SOCKET");
}

TestSuite(notify, .fini = teardown);

/* A datagram socket bound to `name` (a path, or @abstract). */
static void listen_on(const char *name)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(name));
    memcpy(addr.sun_path, name, strlen(name));
    if (name[0] == '@')
        addr.sun_path[0] = '\0';
    receiver = socket(AF_UNIX, SOCK_DGRAM, 0);
    cr_assert_geq(receiver, 0);
    cr_assert_eq(bind(receiver, (struct sockaddr *)&addr, len), 0);
    setenv("NOTIFY_SOCKET", name, 1);
}

static void expect_datagram(const char *want)
{
    char got[256];
    ssize_t n = recv(receiver, got, sizeof(got) - 1, MSG_DONTWAIT);
    cr_assert_gt(n, 0, "no datagram arrived");
    got[n] = '\0';
    cr_assert_str_eq(got, want);
}

Test(notify, sends_the_state_to_the_socket_path)
{
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/notify", dir);
    listen_on(path);
    cr_assert_eq(notify_send("READY=1\nSTATUS=running"), 1);
    expect_datagram("READY=1\nSTATUS=running");
    cr_assert_eq(notify_send("STOPPING=1"), 1);
    expect_datagram("STOPPING=1");
}

Test(notify, reaches_an_abstract_socket)
{
    char name[64];
    snprintf(name, sizeof(name), "@rdapsync-notify-test-%d", (int)getpid());
    listen_on(name);
    cr_assert_eq(notify_send("READY=1"), 1);
    expect_datagram("READY=1");
}

Test(notify, does_nothing_outside_systemd)
{
    unsetenv("NOTIFY_SOCKET");
    cr_assert_eq(notify_send("READY=1"), 0);
}

Test(notify, refuses_a_relative_socket_name)
{
    setenv("NOTIFY_SOCKET", "relative/socket", 1);
    cr_assert_eq(notify_send("READY=1"), -1);
}
