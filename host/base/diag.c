/* Diagnostics: a growable list of errors and warnings with their places. */
#include "base/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/secrets.h"

void diag_list_init(diag_list *list)
{
    memset(list, 0, sizeof(*list));
}

void diag_list_free(diag_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].file);
        free(list->items[i].check);
        free(list->items[i].message);
    }
    free(list->items);
    diag_list_init(list);
}

static char *copy_or_null(const char *text)
{
    return text ? strdup(text) : NULL;
}

/* Formats into a heap string and masks registered secrets: a message built
 * from a resolved value must not carry it out even by mistake. */
static char *format_masked(const char *fmt, va_list args)
{
    char stack[512];
    va_list copy;
    va_copy(copy, args);
    int needed = vsnprintf(stack, sizeof(stack), fmt, copy);
    va_end(copy);
    if (needed < 0)
        return strdup("(unprintable message)");
    char *raw = malloc((size_t)needed + 1);
    if (!raw)
        return NULL;
    vsnprintf(raw, (size_t)needed + 1, fmt, args);
    size_t masked_len = secrets_mask(raw, NULL, 0);
    char *masked = malloc(masked_len + 1);
    if (masked)
        secrets_mask(raw, masked, masked_len + 1);
    free(raw);
    return masked;
}

void diag_add(diag_list *list, diag_severity severity, const char *file, int line, int column, const char *check,
              const char *fmt, ...)
{
    if (list->count == list->capacity) {
        size_t capacity = list->capacity ? list->capacity * 2 : 8;
        diag *items = realloc(list->items, capacity * sizeof(*items));
        if (!items)
            return;
        list->items = items;
        list->capacity = capacity;
    }
    va_list args;
    va_start(args, fmt);
    char *message = format_masked(fmt, args);
    va_end(args);
    if (!message)
        return;
    diag *d = &list->items[list->count++];
    d->severity = severity;
    d->file = copy_or_null(file);
    d->line = line;
    d->column = column;
    d->check = copy_or_null(check);
    d->message = message;
}

size_t diag_error_count(const diag_list *list)
{
    size_t errors = 0;
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].severity == DIAG_ERROR)
            errors++;
    return errors;
}

static int compare_places(const diag *a, const diag *b)
{
    int files = strcmp(a->file ? a->file : "", b->file ? b->file : "");
    if (files)
        return files;
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->column < b->column ? -1 : a->column > b->column;
}

void diag_sort(diag_list *list)
{
    /* Insertion sort: stable, and lists are short. */
    for (size_t i = 1; i < list->count; i++) {
        diag moving = list->items[i];
        size_t j = i;
        for (; j > 0 && compare_places(&list->items[j - 1], &moving) > 0; j--)
            list->items[j] = list->items[j - 1];
        list->items[j] = moving;
    }
}

void diag_print(const diag_list *list, void *stream)
{
    FILE *out = stream;
    for (size_t i = 0; i < list->count; i++) {
        const diag *d = &list->items[i];
        const char *severity = d->severity == DIAG_ERROR ? "error" : "warning";
        if (d->file && d->line > 0)
            fprintf(out, "%s:%d:%d: ", d->file, d->line, d->column > 0 ? d->column : 1);
        else
            fprintf(out, "%s: ", d->file ? d->file : "rdapsync");
        fprintf(out, "%s: %s", severity, d->message);
        if (d->check)
            fprintf(out, " [%s]", d->check);
        fputc('\n', out);
    }
}
