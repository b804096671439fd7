/*
 * What decides a pipeline's redaction, as one hash: its redact transforms'
 * settings and policy files, and how its dead letters are protected. A
 * reload that changes it is written to the audit trail (runtime.c).
 */
#ifndef RDAPSYNC_HOST_POLICY_FINGERPRINT_H
#define RDAPSYNC_HOST_POLICY_FINGERPRINT_H

#include <stdint.h>

struct pipeline_config;

uint64_t config_policy_fingerprint(const struct pipeline_config *pipeline);

#endif
