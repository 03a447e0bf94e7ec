/* SPDX-License-Identifier: MIT */
/*
 * Logging. Every user-facing error is ONE line on stderr that names the
 * problem and the fix: "minivmm: <what>: <why> (<what to do>)".
 */
#ifndef MINIVMM_LOG_H
#define MINIVMM_LOG_H

#include <stdbool.h>

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

extern enum log_level log_threshold;

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define pr_err(...)   log_msg(LOG_ERROR, __VA_ARGS__)
#define pr_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define pr_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define pr_debug(...) do { if (log_threshold >= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

/*
 * Log once per call site: for guest-triggered conditions (unhandled port,
 * malformed ring) that a hostile guest could otherwise use to flood the log.
 */
#define pr_warn_once(...) do {                                   \
	static bool warned_;                                     \
	if (!__atomic_exchange_n(&warned_, true, __ATOMIC_RELAXED)) \
		pr_warn(__VA_ARGS__);                            \
} while (0)

#endif
