/*
 * A batch as rows. In upsert mode a key may come several times in one
 * batch; only its greatest version is worth writing (the store's guard
 * would keep the older ones out anyway, and one statement or bulk cannot
 * touch a key twice). The older ones stay behind as fallbacks in case the
 * store refuses the newest, so the outcome does not depend on how records
 * were batched.
 */
#include <stdlib.h>
#include <string.h>

#include <rdapsync/sinktk.h>

/* Key ascending (bytewise, shorter first on a common prefix), then version
 * descending: the first record of each key is the one to write. Key order
 * also makes concurrent writers lock rows in the same order (fewer
 * deadlocks) and walks a B-tree in order. */
static int record_order(const void *pa, const void *pb)
{
    const rdapsync_record *a = *(const rdapsync_record *const *)pa;
    const rdapsync_record *b = *(const rdapsync_record *const *)pb;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c != 0)
        return c;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    return -rdapsync_version_compare(&a->version, &b->version);
}

static bool same_key(const rdapsync_record *a, const rdapsync_record *b)
{
    return a->key_len == b->key_len && memcmp(a->key, b->key, a->key_len) == 0;
}

/* Why a record can never be stored, or NULL. The same rules for every
 * sink, so that the same records are refused everywhere. */
static const char *record_problem(const rdapsync_record *record, rdapsync_sinktk_mode mode)
{
    if (!record->key && mode == RDAPSYNC_SINKTK_UPSERT)
        return "record has no key (upsert mode needs one)";
    if (record->key && memchr(record->key, '\0', record->key_len))
        return "key contains a NUL byte";
    if (record->op == RDAPSYNC_OP_UPSERT && !record->value)
        return record->error ? record->error : "upsert without a document";
    return NULL;
}

/* The row of sorted_[at], with the key's next older record as fallback. */
static rdapsync_sinktk_row row_at(const rdapsync_sinktk_plan *plan, size_t at, rdapsync_sinktk_mode mode)
{
    const rdapsync_record *record = plan->sorted_[at];
    bool has_older = mode == RDAPSYNC_SINKTK_UPSERT && at + 1 < plan->sorted_count_ &&
                     same_key(record, plan->sorted_[at + 1]);
    return (rdapsync_sinktk_row){ .record = record, .older_ = has_older ? at + 1 : SIZE_MAX, .at_ = at };
}

int rdapsync_sinktk_plan_build(rdapsync_sinktk_plan *plan, const rdapsync_host *host, const rdapsync_batch *batch,
                               const rdapsync_sinktk_plan_config *config, rdapsync_sinktk_rejects *rejects)
{
    size_t n = host->batch_count(batch);
    memset(plan, 0, sizeof(*plan));
    plan->release_ = config->release;
    if (n == 0)
        return 0;
    plan->sorted_ = malloc(n * sizeof(*plan->sorted_));
    plan->rows = malloc(n * sizeof(*plan->rows));
    if (!plan->sorted_ || !plan->rows)
        goto fail;

    for (size_t i = 0; i < n; i++) {
        const rdapsync_record *record = host->batch_get(batch, i);
        if (rdapsync_sinktk_positions_cover(config->stored, record)) {
            plan->already_stored++;
            continue;
        }
        const char *problem = record_problem(record, config->mode);
        if (problem) {
            if (rdapsync_sinktk_rejects_add(rejects, record, "%s: %s (key \"%.200s\")", config->label, problem,
                                            record->key ? record->key : "") != 0)
                goto fail;
            continue;
        }
        plan->sorted_[plan->sorted_count_++] = record;
    }

    if (config->mode == RDAPSYNC_SINKTK_UPSERT)
        qsort(plan->sorted_, plan->sorted_count_, sizeof(*plan->sorted_), record_order);
    for (size_t i = 0; i < plan->sorted_count_; i++) {
        if (config->mode == RDAPSYNC_SINKTK_UPSERT && i > 0 && same_key(plan->sorted_[i - 1], plan->sorted_[i]))
            continue;
        plan->rows[plan->count++] = row_at(plan, i, config->mode);
    }
    return 0;

fail:
    rdapsync_sinktk_plan_free(plan);
    return -1;
}

bool rdapsync_sinktk_plan_fallback(rdapsync_sinktk_plan *plan, size_t index)
{
    rdapsync_sinktk_row *row = &plan->rows[index];
    size_t next = row->older_;
    if (next == SIZE_MAX)
        return false;
    if (row->data && plan->release_)
        plan->release_(row->data);
    /* Only upsert rows have an older record, so the mode is upsert. */
    *row = row_at(plan, next, RDAPSYNC_SINKTK_UPSERT);
    return true;
}

void rdapsync_sinktk_plan_free(rdapsync_sinktk_plan *plan)
{
    for (size_t i = 0; plan->release_ && i < plan->count; i++)
        if (plan->rows[i].data)
            plan->release_(plan->rows[i].data);
    free(plan->rows);
    free(plan->sorted_);
    memset(plan, 0, sizeof(*plan));
}
