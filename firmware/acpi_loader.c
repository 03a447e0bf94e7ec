// SPDX-License-Identifier: MIT
/*
 * The "etc/table-loader" script: QEMU's BIOS linker/loader interface
 * (hw/acpi/bios-linker-loader.c), as OVMF reads it (OvmfPkg/Include/
 * IndustryStandard/QemuLoader.h). Each command is 128 bytes, little
 * endian and packed:
 *
 *   u32 command, then by command
 *   ALLOCATE       char file[56]; u32 align; u8 zone
 *   ADD_POINTER    char pointer_file[56]; char pointee_file[56];
 *                  u32 pointer_offset; u8 pointer_size
 *   ADD_CHECKSUM   char file[56]; u32 result_offset; u32 start; u32 length
 *   WRITE_POINTER  char pointer_file[56]; char pointee_file[56];
 *                  u32 pointer_offset; u32 pointee_offset; u8 pointer_size
 *
 * and zero padding up to 128. File names are NUL-terminated inside their
 * 56 bytes; OVMF rejects a command whose name's last byte is not NUL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "firmware/acpi.h"
#include "firmware/acpi_internal.h"

int acpi_blob_put(struct acpi_blob *b, const void *data, size_t len)
{
	size_t cap;
	uint8_t *p;

	if (len > SIZE_MAX / 2 - b->len)
		return -ENOMEM;
	if (b->len + len > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (cap < b->len + len)
			cap *= 2;
		p = realloc(b->data, cap);
		if (!p)
			return -ENOMEM;
		b->data = p;
		b->cap = cap;
	}
	if (data)
		memcpy(b->data + b->len, data, len);
	else
		memset(b->data + b->len, 0, len);
	b->len += len;
	return 0;
}

void acpi_blob_free(struct acpi_blob *b)
{
	free(b->data);
	*b = (struct acpi_blob){ 0 };
}

static int put_name(uint8_t *cmd, size_t off, const char *file)
{
	size_t len = strlen(file);

	if (!len)
		return -EINVAL;
	if (len >= ACPI_LOADER_FNAME_SIZE)
		return -ENAMETOOLONG;
	memcpy(cmd + off, file, len);	/* the rest stays NUL */
	return 0;
}

static bool pointer_size_ok(uint8_t size)
{
	return size == 1 || size == 2 || size == 4 || size == 8;
}

static int append(struct acpi_blob *script, const uint8_t *cmd)
{
	return acpi_blob_put(script, cmd, ACPI_LOADER_CMD_SIZE);
}

int acpi_loader_allocate(struct acpi_blob *script, const char *file,
			 uint32_t align, enum acpi_loader_zone zone)
{
	uint8_t cmd[ACPI_LOADER_CMD_SIZE] = { 0 };
	int ret;

	/* OVMF's ProcessCmdAllocate() refuses alignments past a page. */
	if (!align || (align & (align - 1)) || align > 4096)
		return -EINVAL;
	if (zone != ACPI_ZONE_HIGH && zone != ACPI_ZONE_FSEG)
		return -EINVAL;
	acpi_le_store(cmd, ACPI_LOADER_ALLOCATE, 4);
	ret = put_name(cmd, 4, file);
	if (ret)
		return ret;
	acpi_le_store(cmd + 4 + 56, align, 4);
	cmd[4 + 56 + 4] = (uint8_t)zone;
	return append(script, cmd);
}

int acpi_loader_add_pointer(struct acpi_blob *script, const char *pointer_file,
			    uint32_t pointer_offset, uint8_t pointer_size,
			    const char *pointee_file)
{
	uint8_t cmd[ACPI_LOADER_CMD_SIZE] = { 0 };
	int ret;

	if (!pointer_size_ok(pointer_size))
		return -EINVAL;
	acpi_le_store(cmd, ACPI_LOADER_ADD_POINTER, 4);
	ret = put_name(cmd, 4, pointer_file);
	if (!ret)
		ret = put_name(cmd, 4 + 56, pointee_file);
	if (ret)
		return ret;
	acpi_le_store(cmd + 4 + 112, pointer_offset, 4);
	cmd[4 + 112 + 4] = pointer_size;
	return append(script, cmd);
}

int acpi_loader_add_checksum(struct acpi_blob *script, const char *file,
			     uint32_t result, uint32_t start, uint32_t length)
{
	uint8_t cmd[ACPI_LOADER_CMD_SIZE] = { 0 };
	int ret;

	if (result < start || result - start >= length)
		return -EINVAL;		/* the result byte must be summed too */
	acpi_le_store(cmd, ACPI_LOADER_ADD_CHECKSUM, 4);
	ret = put_name(cmd, 4, file);
	if (ret)
		return ret;
	acpi_le_store(cmd + 4 + 56, result, 4);
	acpi_le_store(cmd + 4 + 56 + 4, start, 4);
	acpi_le_store(cmd + 4 + 56 + 8, length, 4);
	return append(script, cmd);
}

int acpi_loader_write_pointer(struct acpi_blob *script, const char *pointer_file,
			      uint32_t pointer_offset, uint8_t pointer_size,
			      const char *pointee_file, uint32_t pointee_offset)
{
	uint8_t cmd[ACPI_LOADER_CMD_SIZE] = { 0 };
	int ret;

	if (!pointer_size_ok(pointer_size))
		return -EINVAL;
	acpi_le_store(cmd, ACPI_LOADER_WRITE_POINTER, 4);
	ret = put_name(cmd, 4, pointer_file);
	if (!ret)
		ret = put_name(cmd, 4 + 56, pointee_file);
	if (ret)
		return ret;
	acpi_le_store(cmd + 4 + 112, pointer_offset, 4);
	acpi_le_store(cmd + 4 + 112 + 4, pointee_offset, 4);
	cmd[4 + 112 + 8] = pointer_size;
	return append(script, cmd);
}
