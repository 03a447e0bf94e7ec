// SPDX-License-Identifier: MIT
/* lib/json.c: the strict reader (every rule of its grammar, accepted and
 * refused) and the writer (escaping, commas, bounds). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "lib/json.h"

static char buf[8192];

static int parse(const char *s, struct json_object *o, struct json_error *e)
{
	return json_parse_object(s, strlen(s), o, buf, sizeof(buf), e);
}

static void assert_parses(const char *s)
{
	struct json_object o;
	struct json_error e;
	int ret = parse(s, &o, &e);

	if (ret)
		fail_msg("'%s' refused at byte %zu: %s", s, e.offset, e.what);
}

static void assert_refused(const char *s, int want)
{
	struct json_object o;
	struct json_error e;
	int ret = parse(s, &o, &e);

	if (ret != want)
		fail_msg("'%s': %d, expected %d", s, ret, want);
	assert_non_null(e.what);
	assert_true(e.offset <= strlen(s));
}

static void test_request(void **state)
{
	struct json_object o;
	struct json_error e;
	const struct json_field *f;

	assert_int_equal(parse("{\"cmd\":\"status\"}", &o, &e), 0);
	assert_int_equal(o.nr, 1);
	f = json_get(&o, "cmd");
	assert_non_null(f);
	assert_int_equal(f->type, JSON_STRING);
	assert_string_equal(f->str, "status");
	assert_int_equal(f->len, 6);
	assert_null(json_get(&o, "CMD"));

	assert_int_equal(parse(" \t\r\n{ \"a\" : 1 , \"b\":true,\"c\":false,\"d\":null,"
			       "\"e\":-0.5e+3, \"f\":\"\"}\r\n", &o, &e), 0);
	assert_int_equal(o.nr, 6);
	assert_int_equal(json_get(&o, "a")->type, JSON_NUMBER);
	assert_string_equal(json_get(&o, "a")->str, "1");
	assert_true(json_get(&o, "b")->boolean);
	assert_int_equal(json_get(&o, "c")->type, JSON_BOOL);
	assert_false(json_get(&o, "c")->boolean);
	assert_int_equal(json_get(&o, "d")->type, JSON_NULL);
	assert_string_equal(json_get(&o, "e")->str, "-0.5e+3");
	assert_string_equal(json_get(&o, "f")->str, "");

	assert_int_equal(parse("{}", &o, &e), 0);
	assert_int_equal(o.nr, 0);
}

static void test_nested_values(void **state)
{
	struct json_object o;
	struct json_error e;
	const struct json_field *f;
	const char *s = "{\"ok\":true,\"devices\":[\"uart\",\"rtc\"],\"x\":{\"a\":[1,{\"b\":[]}],\"c\":{}}}";

	assert_int_equal(parse(s, &o, &e), 0);
	f = json_get(&o, "devices");
	assert_int_equal(f->type, JSON_ARRAY);
	assert_int_equal(f->len, strlen("[\"uart\",\"rtc\"]"));
	assert_memory_equal(f->str, "[\"uart\",\"rtc\"]", f->len);
	f = json_get(&o, "x");
	assert_int_equal(f->type, JSON_OBJECT);
	assert_memory_equal(f->str, "{\"a\":[1,{\"b\":[]}],\"c\":{}}", f->len);
	/* Nested strings are checked as strictly as the top level's. */
	assert_refused("{\"a\":[\"\\x\"]}", -EINVAL);
	assert_refused("{\"a\":[1,]}", -EINVAL);
	assert_refused("{\"a\":{\"b\"}}", -EINVAL);
	assert_refused("{\"a\":{1:2}}", -EINVAL);
	assert_refused("{\"a\":[1 2]}", -EINVAL);
	assert_refused("{\"a\":[", -EINVAL);
}

static void test_depth(void **state)
{
	char s[256] = "{\"a\":";
	size_t n = strlen(s);

	/* JSON_MAX_DEPTH arrays inside the object are fine, one more is not. */
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		s[n++] = '[';
	for (int i = 0; i < JSON_MAX_DEPTH; i++)
		s[n++] = ']';
	strcpy(s + n, "}");
	assert_parses(s);
	n = strlen("{\"a\":");
	for (int i = 0; i <= JSON_MAX_DEPTH; i++)
		s[n++] = '[';
	for (int i = 0; i <= JSON_MAX_DEPTH; i++)
		s[n++] = ']';
	strcpy(s + n, "}");
	assert_refused(s, -E2BIG);
}

static void test_strings(void **state)
{
	struct json_object o;
	struct json_error e;

	assert_int_equal(parse("{\"s\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\"}", &o, &e), 0);
	assert_string_equal(json_get(&o, "s")->str, "a\"b\\c/d\b\f\n\r\t");
	/* \u: 1, 2 and 3 UTF-8 bytes, and a surrogate pair (U+1F600) */
	assert_int_equal(parse("{\"s\":\"\\u0041\\u00e9\\u20AC\\ud83d\\ude00\"}", &o, &e), 0);
	assert_string_equal(json_get(&o, "s")->str, "A\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* raw UTF-8 passes as it is */
	assert_int_equal(parse("{\"s\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}", &o, &e), 0);
	assert_string_equal(json_get(&o, "s")->str, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	/* keys are decoded too */
	assert_int_equal(parse("{\"c\\u006dd\":\"x\"}", &o, &e), 0);
	assert_non_null(json_get(&o, "cmd"));

	assert_refused("{\"s\":\"\\u0000\"}", -EINVAL);		/* would cut a C string */
	assert_refused("{\"s\":\"\\ud83d\"}", -EINVAL);		/* high surrogate alone */
	assert_refused("{\"s\":\"\\ud83d\\u0041\"}", -EINVAL);	/* ... before a non-low */
	assert_refused("{\"s\":\"\\ude00\"}", -EINVAL);		/* low surrogate alone */
	assert_refused("{\"s\":\"\\u12\"}", -EINVAL);
	assert_refused("{\"s\":\"\\u12g4\"}", -EINVAL);
	assert_refused("{\"s\":\"\\a\"}", -EINVAL);
	assert_refused("{\"s\":\"\\", -EINVAL);
	assert_refused("{\"s\":\"a\nb\"}", -EINVAL);		/* raw control character */
	assert_refused("{\"s\":\"a\tb\"}", -EINVAL);
	assert_refused("{\"s\":\"abc}", -EINVAL);
	assert_refused("{'s':1}", -EINVAL);
	/* not UTF-8: a lone continuation byte, overlong forms, a surrogate,
	 * past U+10FFFF, a truncated sequence, 0xff */
	assert_refused("{\"s\":\"\x80\"}", -EINVAL);
	assert_refused("{\"s\":\"\xc0\xaf\"}", -EINVAL);
	assert_refused("{\"s\":\"\xe0\x80\xaf\"}", -EINVAL);
	assert_refused("{\"s\":\"\xed\xa0\x80\"}", -EINVAL);
	assert_refused("{\"s\":\"\xf4\x90\x80\x80\"}", -EINVAL);
	assert_refused("{\"s\":\"\xe2\x82\"}", -EINVAL);
	assert_refused("{\"s\":\"\xff\"}", -EINVAL);
}

static void test_numbers(void **state)
{
	static const char *const good[] = { "0", "-0", "7", "-12", "1.5", "0.0", "1e9", "1E-9",
					    "2e+10", "123456789012345678901234567890" };
	static const char *const bad[] = { "01", "-", "+1", ".5", "1.", "1e", "1e+", "0x10",
					   "NaN", "Infinity", "--1", "1.2.3" };
	char s[64];
	struct json_object o;
	struct json_error e;
	uint64_t v;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		snprintf(s, sizeof(s), "{\"n\":%s}", good[i]);
		assert_int_equal(parse(s, &o, &e), 0);
		assert_int_equal(json_get(&o, "n")->type, JSON_NUMBER);
		assert_string_equal(json_get(&o, "n")->str, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(s, sizeof(s), "{\"n\":%s}", bad[i]);
		assert_refused(s, -EINVAL);
	}
	assert_int_equal(parse("{\"a\":18446744073709551615,\"b\":18446744073709551616,\"c\":1.0,"
			       "\"d\":-1,\"e\":\"1\",\"f\":0}", &o, &e), 0);
	assert_int_equal(json_field_u64(json_get(&o, "a"), &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(json_field_u64(json_get(&o, "b"), &v), -EINVAL);	/* overflow */
	assert_int_equal(json_field_u64(json_get(&o, "c"), &v), -EINVAL);
	assert_int_equal(json_field_u64(json_get(&o, "d"), &v), -EINVAL);
	assert_int_equal(json_field_u64(json_get(&o, "e"), &v), -EINVAL);	/* a string */
	assert_int_equal(json_field_u64(json_get(&o, "f"), &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(json_field_u64(NULL, &v), -EINVAL);
}

static void test_structure(void **state)
{
	char many[2048];
	size_t n = 0;
	struct json_object o;
	struct json_error e;

	assert_refused("", -EINVAL);
	assert_refused("   ", -EINVAL);
	assert_refused("[]", -EINVAL);			/* not an object */
	assert_refused("\"cmd\"", -EINVAL);
	assert_refused("42", -EINVAL);
	assert_refused("null", -EINVAL);
	assert_refused("{", -EINVAL);
	assert_refused("{\"a\"", -EINVAL);
	assert_refused("{\"a\":", -EINVAL);
	assert_refused("{\"a\":1", -EINVAL);
	assert_refused("{\"a\":1,}", -EINVAL);		/* trailing comma */
	assert_refused("{,}", -EINVAL);
	assert_refused("{\"a\" 1}", -EINVAL);
	assert_refused("{\"a\":1}{}", -EINVAL);		/* text after it */
	assert_refused("{\"a\":1} x", -EINVAL);
	assert_refused("{\"a\":tru}", -EINVAL);
	assert_refused("{\"a\":True}", -EINVAL);
	assert_refused("{\"a\":nul}", -EINVAL);
	assert_refused("{\"a\":undefined}", -EINVAL);
	assert_refused("{\"a\":1,\"a\":2}", -EINVAL);	/* a key twice */
	assert_refused("{a:1}", -EINVAL);
	assert_refused("/* */{}", -EINVAL);
	assert_refused("\xef\xbb\xbf{}", -EINVAL);		/* a byte-order mark is not whitespace */
	assert_refused("{\"a\":1}\v", -EINVAL);		/* neither is \v */
	/* a NUL byte anywhere ends nothing: it is just not JSON */
	assert_int_equal(json_parse_object("{\"a\":1}\0", 8, &o, buf, sizeof(buf), &e), -EINVAL);
	assert_int_equal(e.offset, 7);
	assert_int_equal(json_parse_object("{\"a\0\":1}", 8, &o, buf, sizeof(buf), &e), -EINVAL);
	/* and the length is honoured: what follows it is not read */
	assert_int_equal(json_parse_object("{\"a\":1}garbage", 7, &o, buf, sizeof(buf), &e), 0);

	/* the error says where */
	assert_int_equal(parse("{\"a\":1,  x}", &o, &e), -EINVAL);
	assert_int_equal(e.offset, 9);
	assert_string_equal(e.what, "expected a key (a string)");

	/* JSON_MAX_FIELDS members, then one too many */
	n += (size_t)sprintf(many + n, "{");
	for (int i = 0; i < JSON_MAX_FIELDS; i++)
		n += (size_t)sprintf(many + n, "%s\"k%d\":%d", i ? "," : "", i, i);
	strcpy(many + n, "}");
	assert_parses(many);
	strcpy(many + n, ",\"one-more\":1}");
	assert_refused(many, -E2BIG);
}

static void test_buffer_bound(void **state)
{
	const char *s = "{\"cmd\":\"status\"}";
	char small[8];
	struct json_object o;
	struct json_error e;

	/* len + 1 is always enough; much less is refused, not overrun */
	assert_int_equal(json_parse_object(s, strlen(s), &o, buf, strlen(s) + 1, &e), 0);
	assert_int_equal(json_parse_object(s, strlen(s), &o, small, sizeof(small), &e), -E2BIG);
}

static void test_utf8_len(void **state)
{
	assert_int_equal(json_utf8_len((const unsigned char *)"a", 1), 1);
	assert_int_equal(json_utf8_len((const unsigned char *)"\xc3\xa9", 2), 2);
	assert_int_equal(json_utf8_len((const unsigned char *)"\xc3\xa9", 1), 0);
	assert_int_equal(json_utf8_len((const unsigned char *)"\xef\xbf\xbf", 3), 3);
	assert_int_equal(json_utf8_len((const unsigned char *)"\xf4\x8f\xbf\xbf", 4), 4);
	assert_int_equal(json_utf8_len((const unsigned char *)"\xf5\x80\x80\x80", 4), 0);
	assert_int_equal(json_utf8_len((const unsigned char *)"\xc1\xbf", 2), 0);
	assert_int_equal(json_utf8_len((const unsigned char *)"\xe2\x28\xa1", 3), 0);
	assert_int_equal(json_utf8_len((const unsigned char *)"", 0), 0);
}

static void test_writer(void **state)
{
	char out[256];
	struct json_out o;

	json_out_init(&o, out, sizeof(out));
	json_out_open(&o, '{');
	json_out_key(&o, "ok");
	json_out_bool(&o, true);
	json_out_key(&o, "n");
	json_out_u64(&o, UINT64_MAX);
	json_out_key(&o, "list");
	json_out_open(&o, '[');
	json_out_string(&o, "a");
	json_out_open(&o, '{');
	json_out_close(&o, '}');
	json_out_u64(&o, 0);
	json_out_close(&o, ']');
	json_out_key(&o, "us");
	json_out_fixed2(&o, 1.005);
	json_out_key(&o, "nan");
	json_out_fixed2(&o, __builtin_nan(""));
	json_out_key(&o, "raw");
	json_out_raw(&o, "null", 4);
	json_out_close(&o, '}');
	assert_false(o.overflow);
	assert_int_equal(o.depth, 0);
	assert_string_equal(out, "{\"ok\":true,\"n\":18446744073709551615,\"list\":[\"a\",{},0],"
			    "\"us\":1.00,\"nan\":0.00,\"raw\":null}");
	assert_int_equal(o.len, strlen(out));
	assert_parses(out);
}

static void test_writer_escapes(void **state)
{
	char out[256];
	struct json_out o;
	struct json_object obj;
	struct json_error e;

	json_out_init(&o, out, sizeof(out));
	json_out_open(&o, '{');
	json_out_key(&o, "k\"\\");
	/* quotes, backslash, the short escapes, other controls, UTF-8 kept,
	 * bytes that are not UTF-8 replaced */
	json_out_string(&o, "\"\\\b\f\n\r\t\x01\x1f\xc3\xa9\xff\xc3");
	json_out_close(&o, '}');
	assert_string_equal(out, "{\"k\\\"\\\\\":\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\xc3\xa9"
			    "\\ufffd\\ufffd\"}");
	/* what the writer writes, the reader reads back */
	assert_int_equal(json_parse_object(out, strlen(out), &obj, buf, sizeof(buf), &e), 0);
	assert_string_equal(json_get(&obj, "k\"\\")->str,
			    "\"\\\b\f\n\r\t\x01\x1f\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd");
}

static void test_writer_max(void **state)
{
	char out[64];
	struct json_out o;

	json_out_init(&o, out, sizeof(out));
	json_out_string_max(&o, "abcdef", 3);
	assert_string_equal(out, "\"abc...\"");
	/* never inside a UTF-8 sequence: é is 2 bytes */
	json_out_init(&o, out, sizeof(out));
	json_out_string_max(&o, "a\xc3\xa9z", 2);
	assert_string_equal(out, "\"a...\"");
	json_out_init(&o, out, sizeof(out));
	json_out_string_max(&o, "abc", 3);
	assert_string_equal(out, "\"abc\"");
}

static void test_writer_overflow(void **state)
{
	char out[8];
	struct json_out o;

	json_out_init(&o, out, sizeof(out));
	json_out_string(&o, "abcdef");	/* 8 bytes with quotes: no room for the NUL */
	assert_true(o.overflow);
	assert_true(strlen(out) < sizeof(out));
	json_out_u64(&o, 1);		/* nothing more is written */
	assert_true(strlen(out) < sizeof(out));

	json_out_init(&o, out, sizeof(out));
	json_out_string(&o, "abcd");	/* 6 + NUL */
	assert_false(o.overflow);
	assert_string_equal(out, "\"abcd\"");

	json_out_init(&o, out, 0);
	assert_true(o.overflow);
	json_out_bool(&o, true);

	/* nesting past JSON_MAX_DEPTH is an overflow, not an overrun */
	{
		char big[256];

		json_out_init(&o, big, sizeof(big));
		for (int i = 0; i <= JSON_MAX_DEPTH; i++)
			json_out_open(&o, '[');
		assert_true(o.overflow);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request),
		cmocka_unit_test(test_nested_values),
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_structure),
		cmocka_unit_test(test_buffer_bound),
		cmocka_unit_test(test_utf8_len),
		cmocka_unit_test(test_writer),
		cmocka_unit_test(test_writer_escapes),
		cmocka_unit_test(test_writer_max),
		cmocka_unit_test(test_writer_overflow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
