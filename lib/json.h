/* SPDX-License-Identifier: MIT */
/*
 * A small, strict JSON reader and writer for the control socket's
 * one-line messages (docs/control.md). Not a general JSON library:
 *
 * The reader takes one top-level object (RFC 8259 grammar, nothing
 * lenient: no trailing commas, no comments, no single quotes, strings
 * valid UTF-8 without U+0000, no duplicate keys) and hands back its
 * members. String, number, true/false and null members are decoded;
 * nested arrays and objects are checked (to JSON_MAX_DEPTH) and handed
 * back as their raw text, which is all a request or a reply needs.
 *
 * The writer appends to a fixed buffer, escapes every string and tracks
 * the commas; it never writes past the buffer and says when it ran out.
 */
#ifndef MINIVMM_JSON_H
#define MINIVMM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_FIELDS	32	/* members of the top-level object */
#define JSON_MAX_DEPTH	16	/* nesting of the arrays/objects inside it */

enum json_type { JSON_NULL, JSON_BOOL, JSON_NUMBER, JSON_STRING, JSON_ARRAY, JSON_OBJECT };

struct json_field {
	const char *key;	/* decoded, NUL-terminated */
	enum json_type type;
	/*
	 * JSON_STRING: the decoded string, NUL-terminated (a string cannot
	 * hold U+0000, so strlen works); JSON_NUMBER: its text,
	 * NUL-terminated; JSON_ARRAY/JSON_OBJECT: its raw text, inside the
	 * parsed input and not terminated. len is the length of each.
	 */
	const char *str;
	size_t len;
	bool boolean;		/* JSON_BOOL */
};

struct json_object {
	unsigned int nr;
	struct json_field field[JSON_MAX_FIELDS];
};

/* Where and why a parse failed (what: a constant string). */
struct json_error {
	size_t offset;
	const char *what;
};

/*
 * Parse text[0..len) as exactly one JSON object, optionally surrounded by
 * whitespace. Decoded keys and strings go to buf (buf_cap >= len + 1 is
 * always enough: nothing decodes longer than it is written). Returns 0,
 * -EINVAL with *err set for anything that is not one valid object, or
 * -E2BIG (also with *err) past JSON_MAX_FIELDS, JSON_MAX_DEPTH or buf_cap.
 */
int json_parse_object(const char *text, size_t len, struct json_object *obj,
		      char *buf, size_t buf_cap, struct json_error *err);

/* The member named key, or NULL. */
const struct json_field *json_get(const struct json_object *obj, const char *key);

/* A JSON_NUMBER that is a whole number in 0..UINT64_MAX, written without
 * fraction or exponent (all the control socket sends): 0 or -EINVAL. */
int json_field_u64(const struct json_field *f, uint64_t *out);

/* ---- writer ---- */

struct json_out {
	char *buf;
	size_t cap, len;	/* buf[len] is always '\0' (cap > 0) */
	bool overflow;		/* something did not fit; buf holds a prefix */
	bool after_key;		/* the next value belongs to a key just written */
	unsigned int depth;
	unsigned int count[JSON_MAX_DEPTH];	/* items in each open container */
};

void json_out_init(struct json_out *o, char *buf, size_t cap);
/* '{' or '[' / '}' or ']' */
void json_out_open(struct json_out *o, char bracket);
void json_out_close(struct json_out *o, char bracket);
/* "key": inside an object; the next call writes its value. */
void json_out_key(struct json_out *o, const char *key);
/* Values: a string (escaped; bytes that are not UTF-8 become U+FFFD),
 * at most max bytes of s (cut at a character boundary, "..." added). */
void json_out_string(struct json_out *o, const char *s);
void json_out_string_max(struct json_out *o, const char *s, size_t max);
void json_out_u64(struct json_out *o, uint64_t v);
void json_out_bool(struct json_out *o, bool v);
/* A number with two decimals (statistics in microseconds). */
void json_out_fixed2(struct json_out *o, double v);
/* Raw text, for the caller that knows it is valid JSON in place. */
void json_out_raw(struct json_out *o, const char *s, size_t n);

/* Length of the valid UTF-8 sequence at s[0..n) (1-4), or 0 if s does not
 * start one (overlong forms, surrogates and values past U+10FFFF are not). */
size_t json_utf8_len(const unsigned char *s, size_t n);

#endif
