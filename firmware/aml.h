/* SPDX-License-Identifier: MIT */
/*
 * A small AML (ACPI Machine Language) encoder, ACPI 6.4 §20 "ACPI Machine
 * Language (AML) Specification", for the DSDT minivmm hands to firmware.
 *
 * Every constructor returns a node: a growable byte buffer holding one
 * encoded term, or an open block (Scope, Device, Method, If, Else, While,
 * Package, Buffer, ResourceTemplate, Field) whose contents are appended
 * afterwards. aml_append(parent, child) encodes child into parent and
 * frees child, so a tree is built bottom-up, exactly like the ASL it
 * mirrors:
 *
 *	struct aml *dev = aml_device("COM1");
 *	aml_append(dev, aml_name_decl("_HID", aml_eisaid("PNP0501")));
 *	aml_append(scope, dev);
 *
 * Expression constructors (aml_store(), aml_and(), ...) take ownership of
 * their operand nodes too. Errors are sticky instead of checked per call:
 * a bad argument makes a node carrying -EINVAL, a failed allocation a NULL
 * node, and both poison whatever they are appended to, so the caller
 * checks aml_error() once, on the root, when done.
 */
#ifndef MINIVMM_AML_H
#define MINIVMM_AML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct aml;

/* A node with no opcode of its own: the root of a definition block's
 * body, or a scratch buffer in tests. NULL on allocation failure. */
struct aml *aml_new(void);
void aml_free(struct aml *node);
/* Encode child at the end of parent's contents, then free child. A
 * Package counts it as one element. NULL child: parent gets -ENOMEM;
 * NULL parent: child is just freed (the NULL surfaces further up). */
void aml_append(struct aml *parent, struct aml *child);
/* A node that carries only err, so code contributing AML can report a
 * failure through the tree (NULL if even that cannot be allocated). */
struct aml *aml_error_node(int err);
/* 0, or the first error parent or anything appended to it hit. */
int aml_error(const struct aml *node);
/* The encoded contents so far (for a block: its body, without opcode,
 * PkgLength or name). Valid until the next append. */
const uint8_t *aml_data(const struct aml *node);
size_t aml_len(const struct aml *node);

/* §20.2.4 PkgLength for a package whose contents after the PkgLength are
 * len bytes: writes 1-4 bytes to out, returns how many, or -E2BIG past
 * the 28-bit limit. */
int aml_pkglength(size_t len, uint8_t out[4]);

/* --- Data objects (§20.2.3) ------------------------------------------- */

/* The shortest encoding: Zero, One, Ones (all 64 bits set: DSDT revision
 * 2 integers), else Byte/Word/DWord/QWordPrefix. */
struct aml *aml_int(uint64_t value);
/* StringPrefix, ASCII 0x01-0x7F, NUL. */
struct aml *aml_string(const char *s);
/* EISAID("PNP0A08"): the compressed 32-bit ID (§6.1.5 _HID). */
struct aml *aml_eisaid(const char *id);
/* ToUUID("33DB4D5B-1FF7-401C-9657-7441C03DD766"): a 16-byte Buffer with
 * the first three fields little-endian (§19.6.142). */
struct aml *aml_touuid(const char *uuid);
/* Buffer(len){data} with the bytes given. */
struct aml *aml_buffer(const uint8_t *data, size_t len);
/* An open Package; its element count is that of the nodes appended.
 * More than 255 elements become a VarPackage (§20.2.5.4). */
struct aml *aml_package(void);

/* --- Names (§20.2.2) --------------------------------------------------- */

/*
 * A NameString reference: "\\_SB.PCI0", "^^FOO", "_CRS", "\\" (root).
 * Segments of 1-4 characters [A-Z_][A-Z0-9_]* are padded with '_' as
 * ASL does; a path of two segments uses DualNamePrefix, more use
 * MultiNamePrefix.
 */
struct aml *aml_name(const char *path);
/* Name(name, value). */
struct aml *aml_name_decl(const char *name, struct aml *value);
struct aml *aml_arg(unsigned int n);	/* Arg0-Arg6 */
struct aml *aml_local(unsigned int n);	/* Local0-Local7 */

/* --- Named objects and blocks (§20.2.5) -------------------------------- */

struct aml *aml_scope(const char *path);
struct aml *aml_device(const char *path);
/* Method(name, nargs (0-7), Serialized|NotSerialized), sync level 0. */
struct aml *aml_method(const char *path, unsigned int nargs, bool serialized);

enum aml_region_space {
	AML_SYSTEM_MEMORY = 0x00,
	AML_SYSTEM_IO = 0x01,
	AML_PCI_CONFIG = 0x02,
};
enum aml_access {
	AML_ANY_ACC = 0, AML_BYTE_ACC = 1, AML_WORD_ACC = 2,
	AML_DWORD_ACC = 3, AML_QWORD_ACC = 4, AML_BUFFER_ACC = 5,
};
enum aml_update {
	AML_PRESERVE = 0, AML_WRITE_AS_ONES = 1, AML_WRITE_AS_ZEROS = 2,
};
/* OperationRegion(name, space, offset, length). */
struct aml *aml_operation_region(const char *name, enum aml_region_space space,
				 uint64_t offset, uint64_t length);
/* An open Field(region, access, Lock|NoLock, update); append
 * aml_named_field() / aml_reserved_field() to it. */
struct aml *aml_field(const char *region, enum aml_access access, bool lock,
		      enum aml_update update);
struct aml *aml_named_field(const char *name, unsigned int bits);
struct aml *aml_reserved_field(unsigned int bits);

/* CreateDWordField(buffer, byte_index, name). */
struct aml *aml_create_dword_field(struct aml *buffer, struct aml *index,
				   const char *name);

/* --- Statements (§20.2.5.3) ------------------------------------------- */

struct aml *aml_if(struct aml *predicate);	/* open */
struct aml *aml_else(void);			/* open; append right after its If */
struct aml *aml_while(struct aml *predicate);	/* open */
struct aml *aml_return(struct aml *value);
struct aml *aml_notify(struct aml *object, struct aml *value);
struct aml *aml_break(void);

/* --- Expressions (§20.2.5.4) ------------------------------------------ */

/*
 * A NULL operand always means an allocation failed (and poisons the
 * result); an operator whose result is only returned, not stored, takes
 * aml_no_target() as its Target.
 */
struct aml *aml_no_target(void);	/* NullName */
struct aml *aml_store(struct aml *value, struct aml *target);
struct aml *aml_add(struct aml *a, struct aml *b, struct aml *target);
struct aml *aml_subtract(struct aml *a, struct aml *b, struct aml *target);
struct aml *aml_and(struct aml *a, struct aml *b, struct aml *target);
struct aml *aml_or(struct aml *a, struct aml *b, struct aml *target);
struct aml *aml_xor(struct aml *a, struct aml *b, struct aml *target);
struct aml *aml_shiftleft(struct aml *a, struct aml *count, struct aml *target);
struct aml *aml_shiftright(struct aml *a, struct aml *count, struct aml *target);
struct aml *aml_increment(struct aml *target);
struct aml *aml_decrement(struct aml *target);
struct aml *aml_land(struct aml *a, struct aml *b);
struct aml *aml_lor(struct aml *a, struct aml *b);
struct aml *aml_lnot(struct aml *a);
struct aml *aml_equal(struct aml *a, struct aml *b);	/* LEqual */
struct aml *aml_lless(struct aml *a, struct aml *b);
struct aml *aml_lgreater(struct aml *a, struct aml *b);
struct aml *aml_index(struct aml *object, struct aml *index);
struct aml *aml_derefof(struct aml *ref);
struct aml *aml_sizeof(struct aml *object);
/* method(args...): a MethodInvocation with nargs (0-7) operand nodes. */
struct aml *aml_call(const char *method, unsigned int nargs, ...);

/* --- Resource templates (§6.4 Resource Data Types) --------------------- */

/* An open ResourceTemplate(): a Buffer that gets its EndTag (checksum 0,
 * §6.4.2.9) when it is appended somewhere. */
struct aml *aml_resource_template(void);

/* IO(Decode16|Decode10, min, max, align, length), §6.4.2.5. */
struct aml *aml_io(bool decode16, uint16_t min, uint16_t max, uint8_t align,
		   uint8_t length);
/* IRQNoFlags(){irq}: edge, active high, exclusive, §6.4.2.1. */
struct aml *aml_irq_no_flags(unsigned int irq);
/* Interrupt(ResourceConsumer, Edge|Level, ActiveHigh|ActiveLow,
 * Shared|Exclusive){irqs...}, §6.4.3.6 Extended Interrupt Descriptor. */
struct aml *aml_interrupt(bool edge, bool active_low, bool shared,
			  const uint32_t *irqs, unsigned int nr_irqs);
/* Memory32Fixed(ReadWrite|ReadOnly, base, length), §6.4.3.4. */
struct aml *aml_memory32_fixed(uint32_t base, uint32_t length, bool rw);

/*
 * Word/DWord/QWord Address Space Descriptors, §6.4.3.5.1-3. The flags
 * default to what a PCI host bridge's _CRS says of its windows:
 * ResourceProducer, PosDecode, MinFixed, MaxFixed.
 */
enum aml_addr_type { AML_ADDR_MEMORY = 0, AML_ADDR_IO = 1, AML_ADDR_BUS = 2 };
enum aml_mem_cache {
	AML_NON_CACHEABLE = 0, AML_CACHEABLE = 1, AML_WRITE_COMBINING = 2,
	AML_PREFETCHABLE = 3,
};
struct aml_addr_space {
	enum aml_addr_type type;
	unsigned int size;		/* 2 (Word), 4 (DWord) or 8 (QWord) */
	bool consumer;			/* else ResourceProducer */
	bool sub_decode;		/* else PosDecode */
	bool min_not_fixed, max_not_fixed;
	uint8_t type_flags;		/* §6.4.3.5.4 */
	uint64_t granularity, min, max, translation, length;
};
struct aml *aml_addr_space(const struct aml_addr_space *d);
/* The root-bridge forms; length is max - min + 1. */
struct aml *aml_word_bus_number(uint16_t min, uint16_t max);
/* WordIO(..., EntireRange). */
struct aml *aml_word_io(uint16_t min, uint16_t max);
/* DWordMemory / QWordMemory(..., cache, ReadWrite). */
struct aml *aml_dword_memory(enum aml_mem_cache cache, uint32_t min, uint32_t max);
struct aml *aml_qword_memory(enum aml_mem_cache cache, uint64_t min, uint64_t max);

#endif
