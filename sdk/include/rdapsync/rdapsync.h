/*
 * rdapsync SDK: the one header a plugin includes.
 *
 *   abi.h      ABI version, result codes, plugin kinds
 *   options.h  declared configuration options
 *   value.h    JSON documents (opaque values, host->json)
 *   record.h   records, positions, versions, batches
 *   host.h     the services the host gives plugins
 *   plugin.h   the descriptor and the entry function
 *
 * See docs/plugin-guide.md for a walk-through and sdk/examples/ for a
 * complete out-of-tree sink.
 */
#ifndef RDAPSYNC_RDAPSYNC_H
#define RDAPSYNC_RDAPSYNC_H

#include "abi.h"
#include "options.h"
#include "value.h"
#include "record.h"
#include "host.h"
#include "plugin.h"

#endif
