// simdjson behind a C interface (json_simd.h): the only C++ in the host.
// No exception crosses the boundary: simdjson is used through its error
// codes, and allocation failure is caught here.
#include "model/json_simd.h"

#include <atomic>
#include <cstring>
#include <memory>
#include <new>

#include <simdjson.h>

namespace {

// One parser per thread: its buffers are reused from text to text, which
// is what makes a parse cost no allocation once the largest text was seen.
thread_local std::unique_ptr<simdjson::dom::parser> tls_parser;
// What the thread's parser holds: the last text it parsed and that parse's
// ticket (tickets are unique across threads, so a text freed and another
// one allocated at its address is never mistaken for it).
thread_local const char *tls_text;
thread_local size_t tls_len;
thread_local uint32_t tls_ticket;
std::atomic<uint32_t> next_ticket{1};
std::atomic<int> layout_ok{-1};

// Texts larger than this do not keep their parser's buffers afterwards.
constexpr size_t keep_limit = 4u << 20;

int parse(const char *text, size_t len, bool padded, jsimd_tape *out)
{
    tls_text = nullptr;
    tls_ticket = 0;
    if (!tls_parser)
        tls_parser.reset(new simdjson::dom::parser(simdjson::SIMDJSON_MAXSIZE_BYTES));
    simdjson::dom::parser &p = *tls_parser;
    if (p.max_depth() != JSIMD_MAX_DEPTH || p.capacity() < len) {
        // Grows geometrically (texts of a stream vary in size), up to the
        // size kept between texts.
        size_t cap = p.capacity() * 2 < keep_limit ? p.capacity() * 2 : keep_limit;
        if (cap < 4096)
            cap = 4096;
        if (cap < len)
            cap = len;
        if (p.allocate(cap, JSIMD_MAX_DEPTH) != simdjson::SUCCESS)
            return JSIMD_NO_MEMORY;
    }
    simdjson::dom::element root;
    simdjson::error_code err = p.parse(text, len, !padded).get(root);
    if (err == simdjson::MEMALLOC)
        return JSIMD_NO_MEMORY;
    if (err)
        return JSIMD_REFUSED;
    out->tape = p.doc.tape.get();
    out->strings = p.doc.string_buf.get();
    return JSIMD_OK;
}

// The layout json_simd.h describes, checked once on a probe text.
bool layout_holds()
{
    static const char probe[] = "{\"a\":[-5,\"bc\",true]}";
    jsimd_tape t;
    uint32_t len = 0;

    if (parse(probe, sizeof(probe) - 1, false, &t) != JSIMD_OK)
        return false;
    const uint64_t *w = t.tape;
    if (JSIMD_TYPE(w[0]) != 'r' || JSIMD_END(w) != 10 || JSIMD_TYPE(w[1]) != '{' || JSIMD_COUNT(w[1]) != 1 ||
        (w[1] & 0xFFFFFFFFu) != 10 || JSIMD_TYPE(w[2]) != '"' || JSIMD_TYPE(w[3]) != '[' || JSIMD_COUNT(w[3]) != 3 ||
        JSIMD_TYPE(w[4]) != 'l' || static_cast<int64_t>(w[5]) != -5 || JSIMD_TYPE(w[6]) != '"' ||
        JSIMD_TYPE(w[7]) != 't' || JSIMD_TYPE(w[8]) != ']' || JSIMD_TYPE(w[9]) != '}' || JSIMD_TYPE(w[10]) != 'r')
        return false;
    std::memcpy(&len, t.strings + JSIMD_PAYLOAD(w[6]), sizeof(len));
    return len == 2 && std::memcmp(t.strings + JSIMD_PAYLOAD(w[6]) + 4, "bc", 3) == 0;
}

int parse_kept(const char *text, size_t len, bool padded, jsimd_tape *out, uint32_t ticket)
{
    int ok = layout_ok.load(std::memory_order_relaxed);
    if (ok < 0) {
        ok = layout_holds() ? 1 : 0;
        layout_ok.store(ok, std::memory_order_relaxed);
    }
    if (!ok)
        return JSIMD_UNAVAILABLE;
    int st = parse(text, len, padded, out);
    if (st == JSIMD_OK && len > keep_limit) {
        // The caller reads the tape before anything else runs on this
        // thread: the parser goes at the next parse, not now.
        tls_ticket = 0;
    } else if (st == JSIMD_OK && padded) {
        tls_text = text;
        tls_len = len;
        tls_ticket = ticket;
    }
    return st;
}

} // namespace

extern "C" size_t jsimd_padding(void) { return simdjson::SIMDJSON_PADDING; }

extern "C" void jsimd_thread_release(void)
{
    tls_parser.reset();
    tls_text = nullptr;
    tls_ticket = 0;
}

extern "C" int jsimd_parse(const char *text, size_t len, int padded, jsimd_tape *out, uint32_t *ticket)
{
    uint32_t t = next_ticket.fetch_add(1, std::memory_order_relaxed);

    if (t == 0) // 0 means "none"
        t = next_ticket.fetch_add(1, std::memory_order_relaxed);
    if (ticket)
        *ticket = t;
    try {
        if (tls_parser && tls_parser->capacity() > keep_limit && len <= keep_limit)
            tls_parser.reset();
        return parse_kept(text, len, padded != 0, out, t);
    } catch (const std::bad_alloc &) {
        return JSIMD_NO_MEMORY;
    }
}

extern "C" int jsimd_reparse(const char *text, size_t len, uint32_t ticket, jsimd_tape *out)
{
    try {
        if (ticket && ticket == tls_ticket && text == tls_text && len == tls_len && tls_parser) {
            out->tape = tls_parser->doc.tape.get();
            out->strings = tls_parser->doc.string_buf.get();
            return JSIMD_OK;
        }
        return parse_kept(text, len, true, out, ticket);
    } catch (const std::bad_alloc &) {
        return JSIMD_NO_MEMORY;
    }
}
