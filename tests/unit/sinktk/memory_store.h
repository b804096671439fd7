/*
 * A store in memory for the writer's tests: keyed rows under the version
 * guard, a transaction that is a copy of them, positions, a count of every
 * call and a failure to inject into the next call of any operation.
 */
#ifndef RDAPSYNC_TEST_SINKTK_MEMORY_STORE_H
#define RDAPSYNC_TEST_SINKTK_MEMORY_STORE_H

#include <rdapsync/sinktk.h>

enum memory_op { OP_CONNECT, OP_DISCONNECT, OP_BEGIN, OP_COMMIT, OP_ROLLBACK, OP_APPLY, OP_LOAD, OP_SAVE, OP_COUNT };

#define MEMORY_ROWS 32

typedef struct memory_row {
    char key[32];
    int64_t ts;
    bool deleted;
} memory_row;

typedef struct memory_table {
    memory_row rows[MEMORY_ROWS];
    size_t count;
} memory_table;

typedef struct memory_store {
    int calls[OP_COUNT];
    /* The next call of that operation answers this instead of doing its
     * work (OK: no failure); reset once used. */
    rdapsync_status fail[OP_COUNT];
    int64_t refuse_ts; /* apply refuses records of this event time (0: none) */
    bool connected, in_transaction;
    memory_table durable, txn;
    rdapsync_sinktk_positions durable_positions, txn_positions;
} memory_store;

/* With transactions, and without (each apply is durable at once). */
extern const rdapsync_sinktk_store_ops memory_store_ops;
extern const rdapsync_sinktk_store_ops memory_store_autocommit_ops;

/* The event time stored for `key`, or -1; deleted rows count too. */
int64_t memory_table_ts(const memory_table *table, const char *key);
void memory_store_free(memory_store *store);

#endif
