// SPDX-License-Identifier: MIT
/*
 * The control socket's JSON (json.h): a strict reader for one object per
 * line and a bounded writer. Every input byte is looked at through an
 * explicit length (a request may hold NUL bytes, or end anywhere), and
 * the reader keeps no state between calls, so tests/fuzz/fuzz_control.c
 * can throw anything at it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "lib/json.h"

size_t json_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (!n)
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] < 0xc2)		/* a continuation byte, or an overlong 2-byte form */
		return 0;
	if (s[0] < 0xe0) {
		len = 2;
	} else if (s[0] < 0xf0) {
		len = 3;
		if (s[0] == 0xe0)
			lo = 0xa0;	/* overlong */
		else if (s[0] == 0xed)
			hi = 0x9f;	/* UTF-16 surrogates */
	} else if (s[0] < 0xf5) {
		len = 4;
		if (s[0] == 0xf0)
			lo = 0x90;	/* overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f;	/* past U+10FFFF */
	} else {
		return 0;
	}
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* ---- reader ---- */

struct parser {
	const unsigned char *p;
	size_t n, i;
	char *buf;		/* decoded strings; NULL while only checking */
	size_t cap, used;
	struct json_error *err;
};

static int fail(struct parser *ps, int ret, const char *what)
{
	ps->err->offset = ps->i;
	ps->err->what = what;
	return ret;
}

static void skip_ws(struct parser *ps)
{
	while (ps->i < ps->n && (ps->p[ps->i] == ' ' || ps->p[ps->i] == '\t' ||
				 ps->p[ps->i] == '\n' || ps->p[ps->i] == '\r'))
		ps->i++;
}

static int emit(struct parser *ps, const void *s, size_t n)
{
	if (!ps->buf)
		return 0;
	if (n > ps->cap - ps->used)
		return fail(ps, -E2BIG, "the decoded text does not fit the buffer");
	memcpy(ps->buf + ps->used, s, n);
	ps->used += n;
	return 0;
}

static int hex4(struct parser *ps, unsigned int *out)
{
	unsigned int v = 0;

	if (ps->n - ps->i < 4)
		return fail(ps, -EINVAL, "\\u needs four hex digits");
	for (int k = 0; k < 4; k++) {
		unsigned char c = ps->p[ps->i + (size_t)k];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= c - '0';
		else if (c >= 'a' && c <= 'f')
			v |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			v |= c - 'A' + 10;
		else
			return fail(ps, -EINVAL, "\\u needs four hex digits");
	}
	ps->i += 4;
	*out = v;
	return 0;
}

/* After the backslash of a \u escape: the code point, a surrogate pair
 * joined, as UTF-8. */
static int unicode_escape(struct parser *ps)
{
	unsigned int cp, lo;
	unsigned char u[4];
	size_t n;
	int ret = hex4(ps, &cp);

	if (ret)
		return ret;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(ps, -EINVAL, "a lone low surrogate in a \\u escape");
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (ps->n - ps->i < 2 || ps->p[ps->i] != '\\' || ps->p[ps->i + 1] != 'u')
			return fail(ps, -EINVAL, "a high surrogate without its low half");
		ps->i += 2;
		ret = hex4(ps, &lo);
		if (ret)
			return ret;
		if (lo < 0xdc00 || lo > 0xdfff)
			return fail(ps, -EINVAL, "a high surrogate without its low half");
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	/* Decoded strings are C strings: a NUL inside would cut them short
	 * without anyone noticing, so it is refused instead. */
	if (cp == 0)
		return fail(ps, -EINVAL, "\\u0000 in a string");
	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return emit(ps, u, n);
}

/* At the opening quote. With ps->buf, the decoded string goes there,
 * NUL-terminated, and *out points at it. */
static int parse_string(struct parser *ps, const char **out, size_t *len)
{
	size_t start = ps->used;
	int ret = 0;

	ps->i++;
	for (;;) {
		unsigned char c;
		size_t l;

		if (ps->i >= ps->n)
			return fail(ps, -EINVAL, "a string is not closed");
		c = ps->p[ps->i];
		if (c == '"') {
			ps->i++;
			break;
		}
		if (c == '\\') {
			static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
			const char *e;

			if (++ps->i >= ps->n)
				return fail(ps, -EINVAL, "a string is not closed");
			c = ps->p[ps->i];
			if (c == 'u') {
				ps->i++;
				ret = unicode_escape(ps);
			} else if (c && (e = strchr(from, c))) {
				ps->i++;
				ret = emit(ps, &to[e - from], 1);
			} else {
				return fail(ps, -EINVAL, "an unknown escape in a string");
			}
		} else if (c < 0x20) {
			return fail(ps, -EINVAL, "a control character in a string (escape it)");
		} else {
			l = json_utf8_len(ps->p + ps->i, ps->n - ps->i);
			if (!l)
				return fail(ps, -EINVAL, "a string that is not UTF-8");
			ret = emit(ps, ps->p + ps->i, l);
			ps->i += l;
		}
		if (ret)
			return ret;
	}
	ret = emit(ps, "", 1);
	if (ret)
		return ret;
	if (ps->buf) {
		*out = ps->buf + start;
		*len = ps->used - start - 1;
	}
	return 0;
}

static bool digit(const struct parser *ps)
{
	return ps->i < ps->n && ps->p[ps->i] >= '0' && ps->p[ps->i] <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int parse_number(struct parser *ps, const char **out, size_t *len)
{
	size_t start = ps->i, at = ps->used;
	int ret;

	if (ps->p[ps->i] == '-')
		ps->i++;
	if (!digit(ps))
		return fail(ps, -EINVAL, "a number without digits");
	if (ps->p[ps->i] == '0') {
		ps->i++;
		if (digit(ps))
			return fail(ps, -EINVAL, "a number with a leading zero");
	} else {
		while (digit(ps))
			ps->i++;
	}
	if (ps->i < ps->n && ps->p[ps->i] == '.') {
		ps->i++;
		if (!digit(ps))
			return fail(ps, -EINVAL, "a number without digits after its '.'");
		while (digit(ps))
			ps->i++;
	}
	if (ps->i < ps->n && (ps->p[ps->i] == 'e' || ps->p[ps->i] == 'E')) {
		ps->i++;
		if (ps->i < ps->n && (ps->p[ps->i] == '+' || ps->p[ps->i] == '-'))
			ps->i++;
		if (!digit(ps))
			return fail(ps, -EINVAL, "a number without digits in its exponent");
		while (digit(ps))
			ps->i++;
	}
	ret = emit(ps, ps->p + start, ps->i - start);
	if (!ret)
		ret = emit(ps, "", 1);
	if (!ret && ps->buf) {
		*out = ps->buf + at;
		*len = ps->i - start;
	}
	return ret;
}

static int parse_literal(struct parser *ps, const char *word)
{
	size_t n = strlen(word);

	if (ps->n - ps->i < n || memcmp(ps->p + ps->i, word, n))
		return fail(ps, -EINVAL, "expected a value (a string, number, object, array, true, false or null)");
	ps->i += n;
	return 0;
}

static int skip_value(struct parser *ps, unsigned int depth);

/* At '{' or '[': check it, decode nothing. */
static int skip_container(struct parser *ps, unsigned int depth)
{
	char close = ps->p[ps->i] == '{' ? '}' : ']';
	bool object = close == '}';
	char *buf = ps->buf;
	int ret = 0;

	if (depth > JSON_MAX_DEPTH)
		return fail(ps, -E2BIG, "arrays or objects nested too deep");
	ps->buf = NULL;		/* only checking: nothing is decoded */
	ps->i++;
	skip_ws(ps);
	if (ps->i < ps->n && ps->p[ps->i] == close) {
		ps->i++;
		goto out;
	}
	for (;;) {
		skip_ws(ps);
		if (object) {
			if (ps->i >= ps->n || ps->p[ps->i] != '"') {
				ret = fail(ps, -EINVAL, "expected a key (a string)");
				goto out;
			}
			ret = parse_string(ps, NULL, NULL);
			if (ret)
				goto out;
			skip_ws(ps);
			if (ps->i >= ps->n || ps->p[ps->i] != ':') {
				ret = fail(ps, -EINVAL, "expected ':' after a key");
				goto out;
			}
			ps->i++;
			skip_ws(ps);
		}
		ret = skip_value(ps, depth);
		if (ret)
			goto out;
		skip_ws(ps);
		if (ps->i < ps->n && ps->p[ps->i] == ',') {
			ps->i++;
			continue;
		}
		if (ps->i < ps->n && ps->p[ps->i] == close) {
			ps->i++;
			break;
		}
		ret = fail(ps, -EINVAL, object ? "expected ',' or '}'" : "expected ',' or ']'");
		goto out;
	}
out:
	ps->buf = buf;
	return ret;
}

static int skip_value(struct parser *ps, unsigned int depth)
{
	if (ps->i >= ps->n)
		return fail(ps, -EINVAL, "expected a value, found the end");
	switch (ps->p[ps->i]) {
	case '"':
		return parse_string(ps, NULL, NULL);
	case '{':
	case '[':
		return skip_container(ps, depth + 1);
	case 't':
		return parse_literal(ps, "true");
	case 'f':
		return parse_literal(ps, "false");
	case 'n':
		return parse_literal(ps, "null");
	default:
		if (ps->p[ps->i] == '-' || (ps->p[ps->i] >= '0' && ps->p[ps->i] <= '9'))
			return parse_number(ps, NULL, NULL);
		return fail(ps, -EINVAL, "expected a value (a string, number, object, array, true, false or null)");
	}
}

/* One member's value, decoded into f. */
static int parse_member_value(struct parser *ps, struct json_field *f)
{
	size_t start = ps->i;
	int ret;

	if (ps->i >= ps->n)
		return fail(ps, -EINVAL, "expected a value, found the end");
	switch (ps->p[ps->i]) {
	case '"':
		f->type = JSON_STRING;
		return parse_string(ps, &f->str, &f->len);
	case '{':
	case '[':
		f->type = ps->p[ps->i] == '{' ? JSON_OBJECT : JSON_ARRAY;
		ret = skip_container(ps, 1);
		f->str = (const char *)ps->p + start;
		f->len = ps->i - start;
		return ret;
	case 't':
	case 'f':
		f->type = JSON_BOOL;
		f->boolean = ps->p[ps->i] == 't';
		return parse_literal(ps, f->boolean ? "true" : "false");
	case 'n':
		f->type = JSON_NULL;
		return parse_literal(ps, "null");
	default:
		f->type = JSON_NUMBER;
		if (ps->p[ps->i] == '-' || (ps->p[ps->i] >= '0' && ps->p[ps->i] <= '9'))
			return parse_number(ps, &f->str, &f->len);
		return fail(ps, -EINVAL, "expected a value (a string, number, object, array, true, false or null)");
	}
}

int json_parse_object(const char *text, size_t len, struct json_object *obj,
		      char *buf, size_t buf_cap, struct json_error *err)
{
	struct parser ps = {
		.p = (const unsigned char *)text, .n = len,
		.buf = buf, .cap = buf_cap, .err = err,
	};
	int ret;

	obj->nr = 0;
	err->offset = 0;
	err->what = NULL;
	skip_ws(&ps);
	if (ps.i >= ps.n)
		return fail(&ps, -EINVAL, "no JSON object (the line is empty)");
	if (ps.p[ps.i] != '{')
		return fail(&ps, -EINVAL, "not a JSON object (it must start with '{')");
	ps.i++;
	skip_ws(&ps);
	if (ps.i < ps.n && ps.p[ps.i] == '}') {
		ps.i++;
		goto end;
	}
	for (;;) {
		struct json_field *f;
		const char *key;
		size_t key_len;

		skip_ws(&ps);
		if (ps.i >= ps.n || ps.p[ps.i] != '"')
			return fail(&ps, -EINVAL, "expected a key (a string)");
		if (obj->nr == JSON_MAX_FIELDS)
			return fail(&ps, -E2BIG, "too many members in the object");
		ret = parse_string(&ps, &key, &key_len);
		if (ret)
			return ret;
		for (unsigned int k = 0; k < obj->nr; k++)
			if (!strcmp(obj->field[k].key, key))
				return fail(&ps, -EINVAL, "a key given twice");
		f = &obj->field[obj->nr];
		memset(f, 0, sizeof(*f));
		f->key = key;
		skip_ws(&ps);
		if (ps.i >= ps.n || ps.p[ps.i] != ':')
			return fail(&ps, -EINVAL, "expected ':' after a key");
		ps.i++;
		skip_ws(&ps);
		ret = parse_member_value(&ps, f);
		if (ret)
			return ret;
		obj->nr++;
		skip_ws(&ps);
		if (ps.i < ps.n && ps.p[ps.i] == ',') {
			ps.i++;
			continue;
		}
		if (ps.i < ps.n && ps.p[ps.i] == '}') {
			ps.i++;
			break;
		}
		return fail(&ps, -EINVAL, "expected ',' or '}'");
	}
end:
	skip_ws(&ps);
	if (ps.i != ps.n)
		return fail(&ps, -EINVAL, "text after the object");
	return 0;
}

const struct json_field *json_get(const struct json_object *obj, const char *key)
{
	for (unsigned int i = 0; i < obj->nr; i++)
		if (!strcmp(obj->field[i].key, key))
			return &obj->field[i];
	return NULL;
}

int json_field_u64(const struct json_field *f, uint64_t *out)
{
	uint64_t v = 0;

	if (!f || f->type != JSON_NUMBER || !f->len)
		return -EINVAL;
	for (size_t i = 0; i < f->len; i++) {
		unsigned int d;

		if (f->str[i] < '0' || f->str[i] > '9')
			return -EINVAL;
		d = (unsigned int)(f->str[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

/* ---- writer ---- */

void json_out_init(struct json_out *o, char *buf, size_t cap)
{
	memset(o, 0, sizeof(*o));
	o->buf = buf;
	o->cap = cap;
	if (cap)
		buf[0] = '\0';
	else
		o->overflow = true;
}

static void put(struct json_out *o, const char *s, size_t n)
{
	if (o->overflow)
		return;
	if (n >= o->cap - o->len) {	/* and the NUL */
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, s, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

/* The comma before an item, unless it is the value of a key just written
 * or the first item of its container. */
static void sep(struct json_out *o)
{
	if (o->after_key) {
		o->after_key = false;
		return;
	}
	if (o->depth && o->count[o->depth - 1]++)
		put(o, ",", 1);
}

void json_out_open(struct json_out *o, char bracket)
{
	sep(o);
	put(o, &bracket, 1);
	if (o->depth == JSON_MAX_DEPTH) {
		o->overflow = true;
		return;
	}
	o->count[o->depth++] = 0;
}

void json_out_close(struct json_out *o, char bracket)
{
	if (o->depth)
		o->depth--;
	put(o, &bracket, 1);
}

static void put_string(struct json_out *o, const char *s, size_t max)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t len = strlen(s);

	put(o, "\"", 1);
	for (size_t i = 0; i < len;) {
		unsigned char c = u[i];
		size_t l = 1;
		char esc[8];

		if (i >= max) {
			put(o, "...", 3);
			break;
		}
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			/* a run of what needs no escape, in one go */
			while (i + l < len && i + l < max && u[i + l] >= 0x20 && u[i + l] < 0x80 &&
			       u[i + l] != '"' && u[i + l] != '\\')
				l++;
			put(o, s + i, l);
		} else if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(o, esc, 2);
		} else if (c < 0x20) {
			static const char short_esc[] = "\b\f\n\r\t", letter[] = "bfnrt";
			const char *e = strchr(short_esc, c);

			if (e)
				snprintf(esc, sizeof(esc), "\\%c", letter[e - short_esc]);
			else
				snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(o, esc, strlen(esc));
		} else {
			l = json_utf8_len(u + i, len - i);
			if (!l) {
				/* Never pass on what is not UTF-8: the
				 * reply must parse on the other side. */
				put(o, "\\ufffd", 6);
				l = 1;
			} else {
				if (i + l > max) {
					put(o, "...", 3);
					break;
				}
				put(o, s + i, l);
			}
		}
		i += l;
	}
	put(o, "\"", 1);
}

void json_out_key(struct json_out *o, const char *key)
{
	sep(o);
	put_string(o, key, SIZE_MAX);
	put(o, ":", 1);
	o->after_key = true;
}

void json_out_string(struct json_out *o, const char *s)
{
	sep(o);
	put_string(o, s, SIZE_MAX);
}

void json_out_string_max(struct json_out *o, const char *s, size_t max)
{
	sep(o);
	put_string(o, s, max);
}

void json_out_u64(struct json_out *o, uint64_t v)
{
	char num[24];

	sep(o);
	snprintf(num, sizeof(num), "%" PRIu64, v);
	put(o, num, strlen(num));
}

void json_out_bool(struct json_out *o, bool v)
{
	sep(o);
	put(o, v ? "true" : "false", v ? 4 : 5);
}

void json_out_fixed2(struct json_out *o, double v)
{
	char num[48];

	sep(o);
	/* JSON has no NaN or infinity; nor does a count of microseconds.
	 * (v != v: NaN, without libm.) */
	if (v != v || v > 1e15 || v < -1e15)
		v = 0;
	snprintf(num, sizeof(num), "%.2f", v);
	put(o, num, strlen(num));
}

void json_out_raw(struct json_out *o, const char *s, size_t n)
{
	sep(o);
	put(o, s, n);
}
