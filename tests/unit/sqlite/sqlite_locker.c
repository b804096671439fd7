/*
 * sqlite_locker DB HOLD_MS WAIT_MS: takes SQLite's write lock on DB from
 * another process and holds it for HOLD_MS, the way a second writer (a
 * user's sqlite3 shell, another process) would. Returns as soon as the lock
 * is held, or after WAIT_MS if it is not free yet; the holder goes on in
 * the background either way. The SQLite sink's tests use it as the
 * conformance kit's --fail-cmd: the sink must answer RETRY while the lock
 * is held and lose nothing.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

static void sleep_ms(long ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int hold(const char *path, long hold_ms, int ready_fd)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        fprintf(stderr, "sqlite_locker: cannot open %s: %s\n", path, db ? sqlite3_errmsg(db) : "?");
        return 1;
    }
    sqlite3_busy_timeout(db, 120000);
    char *message = NULL;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &message) != SQLITE_OK) {
        fprintf(stderr, "sqlite_locker: BEGIN IMMEDIATE: %s\n", message ? message : "?");
        sqlite3_free(message);
        sqlite3_close(db);
        return 1;
    }
    if (write(ready_fd, "x", 1) != 1)
        perror("sqlite_locker: write");
    close(ready_fd);
    sleep_ms(hold_ms);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: sqlite_locker DB HOLD_MS WAIT_MS\n");
        return 2;
    }
    long hold_ms = atol(argv[2]), wait_ms = atol(argv[3]);
    int fds[2];
    if (pipe(fds) != 0) {
        perror("sqlite_locker: pipe");
        return 1;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("sqlite_locker: fork");
        return 1;
    }
    if (pid == 0) {
        close(fds[0]);
        _exit(hold(argv[1], hold_ms, fds[1]));
    }
    close(fds[1]);
    struct pollfd p = { .fd = fds[0], .events = POLLIN };
    char c;
    int held = poll(&p, 1, (int)wait_ms) == 1 && read(fds[0], &c, 1) == 1;
    fprintf(stderr, "sqlite_locker: %s\n", held ? "lock held" : "lock not free yet, still waiting in the background");
    return 0;
}
