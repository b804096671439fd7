/*
 * RFC 7386 JSON Merge Patch: the patch that turns one document into
 * another. Pure logic over the SDK's JSON table (unit-tested with the
 * host's JSON library).
 */
#ifndef RDAPSYNC_MPATCH_H
#define RDAPSYNC_MPATCH_H

#include <stdbool.h>

#include <rdapsync/rdapsync.h>

/*
 * The merge patch from `from` to `to` (both borrowed): applying it to
 * `from` by RFC 7386 gives `to`. Objects are diffed member by member (a
 * removed member becomes null, an equal one is left out); anything else
 * that differs is replaced whole (arrays too, as the RFC says). Returns a
 * new value the caller owns (it may reference parts of `to`), or NULL
 * with *inexpressible set when `to` holds a null member where the patch
 * would need it (RFC 7386 cannot write a null: send the whole document),
 * or NULL on allocation failure (*inexpressible false).
 */
rdapsync_value *mpatch_diff(const rdapsync_json_api *json, const rdapsync_value *from, rdapsync_value *to,
                            bool *inexpressible);

/* Applies `patch` to `target` by RFC 7386 and returns the result (caller
 * owns; `target` is consumed). NULL on allocation failure. For tests and
 * for consumers written in C. */
rdapsync_value *mpatch_apply(const rdapsync_json_api *json, rdapsync_value *target, const rdapsync_value *patch);

#endif
