/* Diagnostics: errors and warnings that name file:line:column. */
#ifndef RDAPSYNC_HOST_DIAG_H
#define RDAPSYNC_HOST_DIAG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum diag_severity { DIAG_ERROR = 0, DIAG_WARNING = 1 } diag_severity;

typedef struct diag {
    diag_severity severity;
    char *file;    /* owned; may be NULL */
    int line;      /* 1-based; 0 when unknown */
    int column;    /* 1-based; 0 when unknown */
    char *check;   /* owned; short id of the validate check (e.g. "literal-secret"); may be NULL */
    char *message; /* owned; never contains a secret value */
} diag;

typedef struct diag_list {
    diag *items; /* owned */
    size_t count;
    size_t capacity;
} diag_list;

void diag_list_init(diag_list *list);
void diag_list_free(diag_list *list);
/* Appends a formatted diagnostic (copies file). */
void diag_add(diag_list *list, diag_severity severity, const char *file, int line, int column, const char *check,
              const char *fmt, ...) __attribute__((format(printf, 7, 8)));
size_t diag_error_count(const diag_list *list);
/* Orders by file, line, column (stable: equal places keep their order). */
void diag_sort(diag_list *list);
/* Prints "file:line:column: error: message" lines, in order, to stream. */
void diag_print(const diag_list *list, void *stream);

#endif
