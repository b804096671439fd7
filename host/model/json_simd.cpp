// simdjson behind a C interface (json_simd.h): the only C++ in the host.
// No exception crosses the boundary: simdjson is used through its error
// codes, and allocation failure is caught here.
#include "model/json_simd.h"

#include <atomic>
#include <memory>
#include <new>

#include <simdjson.h>

namespace {

// One parser per thread: its buffers are reused from text to text, which
// is what makes a parse cost no allocation once the largest text was seen.
thread_local std::unique_ptr<simdjson::dom::parser> tls_parser;
// What the thread's parser holds: the root of the last text it parsed, the
// text and its ticket (tickets are unique across threads, so a text freed
// and another one allocated at its address is never mistaken for it).
thread_local simdjson::dom::element tls_root;
thread_local const char *tls_text;
thread_local size_t tls_len;
thread_local uint32_t tls_ticket;
std::atomic<uint32_t> next_ticket{1};

// Texts larger than this do not keep their parser's buffers afterwards.
constexpr size_t keep_limit = 4u << 20;

struct walker {
    const jsimd_events *ev;
    void *ctx;

    int element(simdjson::dom::element e)
    {
        using simdjson::dom::element_type;
        switch (e.type()) {
        case element_type::OBJECT: {
            simdjson::dom::object o = e.get_object().value_unsafe();
            if (ev->open(ctx, 1, o.size()))
                return JSIMD_STOPPED;
            for (simdjson::dom::key_value_pair kv : o) {
                if (ev->key(ctx, kv.key.data(), kv.key.size()))
                    return JSIMD_STOPPED;
                int st = element(kv.value);
                if (st)
                    return st;
            }
            return ev->close(ctx, 1) ? JSIMD_STOPPED : JSIMD_OK;
        }
        case element_type::ARRAY: {
            simdjson::dom::array a = e.get_array().value_unsafe();
            if (ev->open(ctx, 0, a.size()))
                return JSIMD_STOPPED;
            for (simdjson::dom::element item : a) {
                int st = element(item);
                if (st)
                    return st;
            }
            return ev->close(ctx, 0) ? JSIMD_STOPPED : JSIMD_OK;
        }
        case element_type::STRING: {
            std::string_view s = e.get_string().value_unsafe();
            return ev->scalar(ctx, JSIMD_STRING, 0, 0.0, s.data(), s.size()) ? JSIMD_STOPPED : JSIMD_OK;
        }
        case element_type::INT64:
            return ev->scalar(ctx, JSIMD_INT, e.get_int64().value_unsafe(), 0.0, nullptr, 0) ? JSIMD_STOPPED : JSIMD_OK;
        case element_type::UINT64:
            return ev->scalar(ctx, JSIMD_UINT, 0, 0.0, nullptr, 0) ? JSIMD_STOPPED : JSIMD_OK;
        case element_type::DOUBLE:
            return ev->scalar(ctx, JSIMD_REAL, 0, e.get_double().value_unsafe(), nullptr, 0) ? JSIMD_STOPPED : JSIMD_OK;
        case element_type::BOOL:
            return ev->scalar(ctx, e.get_bool().value_unsafe() ? JSIMD_TRUE : JSIMD_FALSE, 0, 0.0, nullptr, 0)
                       ? JSIMD_STOPPED
                       : JSIMD_OK;
        case element_type::NULL_VALUE:
            return ev->scalar(ctx, JSIMD_NULL, 0, 0.0, nullptr, 0) ? JSIMD_STOPPED : JSIMD_OK;
        }
        return JSIMD_REFUSED;
    }
};

} // namespace

extern "C" size_t jsimd_padding(void) { return simdjson::SIMDJSON_PADDING; }

extern "C" void jsimd_thread_release(void)
{
    tls_parser.reset();
    tls_text = nullptr;
    tls_ticket = 0;
}

static int parse_and_walk(const char *text, size_t len, int padded, const jsimd_events *events, void *ctx,
                          uint32_t ticket)
{
    tls_text = nullptr;
    tls_ticket = 0;
    if (!tls_parser)
        tls_parser.reset(new simdjson::dom::parser(simdjson::SIMDJSON_MAXSIZE_BYTES));
    simdjson::dom::parser &p = *tls_parser;
    if (p.max_depth() != JSIMD_MAX_DEPTH || p.capacity() < len) {
        if (p.allocate(len < 4096 ? 4096 : len, JSIMD_MAX_DEPTH) != simdjson::SUCCESS)
            return JSIMD_NO_MEMORY;
    }
    simdjson::dom::element root;
    simdjson::error_code err = p.parse(text, len, !padded).get(root);
    if (err == simdjson::MEMALLOC)
        return JSIMD_NO_MEMORY;
    if (err)
        return JSIMD_REFUSED;
    walker w{events, ctx};
    int st = w.element(root);
    if (len > keep_limit) {
        tls_parser.reset();
    } else if (padded) {
        tls_root = root;
        tls_text = text;
        tls_len = len;
        tls_ticket = ticket;
    }
    return st;
}

extern "C" int jsimd_walk(const char *text, size_t len, int padded, const jsimd_events *events, void *ctx,
                          uint32_t *ticket)
{
    uint32_t t = next_ticket.fetch_add(1, std::memory_order_relaxed);

    if (t == 0) // 0 is "none"
        t = next_ticket.fetch_add(1, std::memory_order_relaxed);
    if (ticket)
        *ticket = t;
    try {
        return parse_and_walk(text, len, padded, events, ctx, t);
    } catch (const std::bad_alloc &) {
        return JSIMD_NO_MEMORY;
    }
}

extern "C" int jsimd_walk_again(const char *text, size_t len, uint32_t ticket, const jsimd_events *events,
                                void *ctx)
{
    try {
        if (ticket && ticket == tls_ticket && text == tls_text && len == tls_len) {
            walker w{events, ctx};
            return w.element(tls_root);
        }
        return parse_and_walk(text, len, 1, events, ctx, ticket);
    } catch (const std::bad_alloc &) {
        return JSIMD_NO_MEMORY;
    }
}
