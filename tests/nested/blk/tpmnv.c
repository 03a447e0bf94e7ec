// SPDX-License-Identifier: MIT
/*
 * tpmnv — raw TPM 2.0 commands through /dev/tpm0 for the nested TPM test
 * (tests/nested/cases/51-tpm.sh), so the guest needs no tpm2-tools:
 *
 *   tpmnv write INDEX HEX    define an 8-byte-or-less NV index (owner
 *                            authorisation, empty password) and write HEX
 *   tpmnv read INDEX LEN     print the index's first LEN bytes as hex
 *
 * TPM 2.0 Library Part 3: TPM2_NV_DefineSpace (§31.3), TPM2_NV_Write
 * (§31.7), TPM2_NV_Read (§31.13); one password session (TPM_RS_PW) each.
 * Exit status 0, or 1 with the response code on stderr.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TPM_ST_SESSIONS		0x8002
#define TPM_RH_OWNER		0x40000001
#define TPM_RS_PW		0x40000009
#define TPM_ALG_SHA256		0x000B
#define CC_NV_DEFINE		0x0000012A
#define CC_NV_WRITE		0x00000137
#define CC_NV_READ		0x0000014E
/* TPMA_NV: OWNERWRITE, AUTHWRITE, OWNERREAD, AUTHREAD, NO_DA */
#define NV_ATTRS		((1u << 1) | (1u << 2) | (1u << 17) | (1u << 18) | (1u << 25))

static uint8_t cmd[1024], rsp[4096];
static size_t len;

static void u8(uint8_t v) { cmd[len++] = v; }
static void u16(uint16_t v) { u8((uint8_t)(v >> 8)); u8((uint8_t)v); }
static void u32(uint32_t v) { u16((uint16_t)(v >> 16)); u16((uint16_t)v); }

static void begin(uint32_t cc, uint32_t h1, int h2, uint32_t handle2)
{
	len = 0;
	u16(TPM_ST_SESSIONS);
	u32(0);			/* size, filled in by run() */
	u32(cc);
	u32(h1);
	if (h2)
		u32(handle2);
	/* authorization area: one password session, empty password */
	u32(9);
	u32(TPM_RS_PW);
	u16(0);			/* nonce */
	u8(0);			/* session attributes */
	u16(0);			/* hmac = password */
}

static uint32_t run(size_t *rlen)
{
	int fd = open("/dev/tpm0", O_RDWR);
	ssize_t n;

	cmd[2] = (uint8_t)(len >> 24);
	cmd[3] = (uint8_t)(len >> 16);
	cmd[4] = (uint8_t)(len >> 8);
	cmd[5] = (uint8_t)len;
	if (fd < 0 || write(fd, cmd, len) != (ssize_t)len) {
		perror("tpmnv: /dev/tpm0");
		exit(1);
	}
	n = read(fd, rsp, sizeof(rsp));
	close(fd);
	if (n < 10) {
		fprintf(stderr, "tpmnv: short response (%zd bytes)\n", n);
		exit(1);
	}
	*rlen = (size_t)n;
	return (uint32_t)rsp[6] << 24 | (uint32_t)rsp[7] << 16 | (uint32_t)rsp[8] << 8 | rsp[9];
}

int main(int argc, char **argv)
{
	uint32_t index, rc;
	size_t rlen;

	if (argc != 4)
		return 2;
	index = (uint32_t)strtoul(argv[2], NULL, 0);
	if (!strcmp(argv[1], "write")) {
		const char *hex = argv[3];
		size_t n = strlen(hex) / 2;

		if (!n || n > 64)
			return 2;
		begin(CC_NV_DEFINE, TPM_RH_OWNER, 0, 0);
		u16(0);			/* auth: empty */
		u16(14);		/* TPM2B_NV_PUBLIC */
		u32(index);
		u16(TPM_ALG_SHA256);
		u32(NV_ATTRS);
		u16(0);			/* authPolicy: empty */
		u16((uint16_t)n);	/* dataSize */
		rc = run(&rlen);
		if (rc) {
			fprintf(stderr, "tpmnv: NV_DefineSpace: response code %#x\n", rc);
			return 1;
		}
		begin(CC_NV_WRITE, TPM_RH_OWNER, 1, index);
		u16((uint16_t)n);
		for (size_t i = 0; i < n; i++) {
			unsigned int b;

			sscanf(hex + 2 * i, "%2x", &b);
			u8((uint8_t)b);
		}
		u16(0);			/* offset */
		rc = run(&rlen);
		if (rc) {
			fprintf(stderr, "tpmnv: NV_Write: response code %#x\n", rc);
			return 1;
		}
		return 0;
	}
	if (!strcmp(argv[1], "read")) {
		uint16_t n = (uint16_t)strtoul(argv[3], NULL, 0), got;

		begin(CC_NV_READ, TPM_RH_OWNER, 1, index);
		u16(n);
		u16(0);			/* offset */
		rc = run(&rlen);
		if (rc) {
			fprintf(stderr, "tpmnv: NV_Read: response code %#x\n", rc);
			return 1;
		}
		/* header (10), parameterSize (4), TPM2B_MAX_NV_BUFFER */
		if (rlen < 16)
			return 1;
		got = (uint16_t)(rsp[14] << 8 | rsp[15]);
		if (16 + (size_t)got > rlen)
			return 1;
		for (unsigned int i = 0; i < got; i++)
			printf("%02x", rsp[16 + i]);
		printf("\n");
		return 0;
	}
	return 2;
}
