/*
 * Calendar arithmetic shared by the source plugins that read RDAP event
 * dates (file, rdap). Compiled into each plugin that lists it: plugins
 * share no code at run time, and this is too small to ship in the SDK.
 */
#ifndef RDAPSYNC_PLUGINS_COMMON_RFC3339_H
#define RDAPSYNC_PLUGINS_COMMON_RFC3339_H

#include <stdint.h>

/* An RFC 3339 timestamp (RDAP eventDate) to Unix milliseconds, without the
 * C library's time zone machinery. 0, or -1 when it does not parse. */
int rfc3339_to_ms(const char *text, int64_t *ms);

/* Unix milliseconds of a UTC calendar time (proleptic Gregorian); no range
 * check: see rfc3339_civil_ok(). */
int64_t rfc3339_civil_ms(int year, int month, int day, int hour, int minute, int second);
/* Whether the fields are in range (a leap second 60 allowed). */
int rfc3339_civil_ok(int month, int day, int hour, int minute, int second);
/* `n` decimal digits at `s` into *out: 0, or -1 on a non-digit. */
int rfc3339_digits(const char *s, int n, int *out);

#endif
