// SPDX-License-Identifier: MIT
/*
 * --trace vfio: the events of passed functions as JSON lines (lib/trace.h
 * has the format and the writer; docs/latency.md lists the events). Every
 * caller has tested trace_on(TRACE_VFIO) already, so nothing here runs
 * when tracing is off.
 */
#include <string.h>

#include "devices/vfio/internal.h"
#include "lib/sysfs.h"
#include "lib/trace.h"

static const char *const irq_index_names[VFIO_PCI_NUM_IRQS] = {
	[VFIO_PCI_INTX_IRQ_INDEX] = "intx",
	[VFIO_PCI_MSI_IRQ_INDEX] = "msi",
	[VFIO_PCI_MSIX_IRQ_INDEX] = "msix",
	[VFIO_PCI_ERR_IRQ_INDEX] = "err",
	[VFIO_PCI_REQ_IRQ_INDEX] = "req",
};

void vfio_trace_probe_reset_method(struct vfio_pci *v)
{
	char path[HOST_PATH_MAX];

	/* Linux 5.15+: the methods VFIO_DEVICE_RESET tries, in order
	 * (drivers/pci/pci.c, pci_reset_fn_methods); the first that works
	 * is used. Read now: no open() once seccomp confines us. */
	v->reset_method[0] = '\0';
	if (host_path(path, sizeof(path), "%s/bus/pci/devices/%s/reset_method", v->c->env.sysfs,
		      v->bdf) ||
	    host_read_str(path, v->reset_method, sizeof(v->reset_method)))
		v->reset_method[0] = '\0';
	v->reset_method[strcspn(v->reset_method, "\n")] = '\0';
}

void vfio_trace_cfg_begin(struct vfio_pci *v)
{
	v->cfg_trace.active = true;
	v->cfg_trace.n = 0;
	v->cfg_trace.lost = 0;
}

void vfio_trace_hw_cfg_write(struct vfio_pci *v, unsigned int off, const void *buf,
			     unsigned int len, int ret)
{
	struct vfio_cfg_trace *t = &v->cfg_trace;
	struct trace_event e;
	uint32_t val = 0;

	memcpy(&val, buf, len > 4 ? 4 : len);
	if (t->active) {
		if (t->n < VFIO_CFG_TRACE_MAX)
			t->w[t->n++] = (struct vfio_cfg_hw_write){ off, len, val, ret };
		else
			t->lost++;
		return;
	}
	/* Not on behalf of a guest write: COMMAND at open, reset and exit. */
	trace_begin(&e, v->bdf, "cfg-hw-write");
	trace_hex(&e, "off", off);
	trace_u64(&e, "size", len);
	trace_hex(&e, "value", val);
	if (ret)
		trace_u64(&e, "error", (uint64_t)-ret);
	trace_end(&e);
}

void vfio_trace_cfg_end(struct vfio_pci *v, unsigned int off, uint32_t val, unsigned int len)
{
	struct vfio_cfg_trace *t = &v->cfg_trace;
	struct trace_event e;

	t->active = false;
	trace_begin(&e, v->bdf, "cfg-write");
	trace_hex(&e, "off", off);
	trace_u64(&e, "size", len);
	trace_hex(&e, "value", val);
	/* What reached the device's config space for this write: the bytes
	 * it owns and the COMMAND bits minivmm passes on; nothing else. */
	json_out_key(&e.o, "hw");
	if (!t->n) {
		json_out_string(&e.o, "virtualized");
	} else {
		json_out_open(&e.o, '[');
		for (unsigned int i = 0; i < t->n; i++) {
			json_out_open(&e.o, '{');
			trace_hex(&e, "off", t->w[i].off);
			trace_u64(&e, "size", t->w[i].len);
			trace_hex(&e, "value", t->w[i].val);
			if (t->w[i].ret)
				trace_u64(&e, "error", (uint64_t)-t->w[i].ret);
			json_out_close(&e.o, '}');
		}
		json_out_close(&e.o, ']');
	}
	if (t->lost)
		trace_u64(&e, "hw_not_listed", t->lost);
	trace_end(&e);
}

void vfio_trace_bar(struct vfio_pci *v, const char *event, unsigned int bar, uint64_t gpa,
		    uint64_t size, int ret)
{
	struct trace_event e;

	trace_begin(&e, v->bdf, event);
	if (bar == PCI_ROM_BAR)
		trace_str(&e, "bar", "rom");
	else
		trace_u64(&e, "bar", bar);
	trace_hex(&e, "gpa", gpa);
	trace_u64(&e, "size", size);
	if (ret)
		trace_u64(&e, "error", (uint64_t)-ret);
	trace_end(&e);
}

void vfio_trace_piece(struct vfio_pci *v, const struct vfio_piece *p, bool add, int ret)
{
	struct trace_event e;
	bool slot = p->hva != NULL;

	trace_begin(&e, v->bdf, slot ? (add ? "memslot-add" : "memslot-remove")
				     : (add ? "trap-add" : "trap-remove"));
	trace_u64(&e, "bar", p->bar);
	trace_hex(&e, "off", p->off);
	trace_hex(&e, "gpa", p->gpa);
	trace_u64(&e, "size", p->len);
	if (slot && p->slot >= 0)
		trace_u64(&e, "slot", (uint64_t)p->slot);
	if (ret)
		trace_u64(&e, "error", (uint64_t)-ret);
	trace_end(&e);
}

void vfio_trace_rom_slot(struct vfio_pci *v, bool add, uint64_t gpa, int slot, int ret)
{
	struct trace_event e;

	trace_begin(&e, v->bdf, add ? "memslot-add" : "memslot-remove");
	trace_str(&e, "bar", "rom");
	trace_hex(&e, "gpa", gpa);
	trace_u64(&e, "size", v->rom_size);
	trace_bool(&e, "readonly", true);
	if (slot >= 0)
		trace_u64(&e, "slot", (uint64_t)slot);
	if (ret)
		trace_u64(&e, "error", (uint64_t)-ret);
	trace_end(&e);
}

static void vector_event(struct vfio_pci *v, const char *event, const char *type,
			 unsigned int i, const struct msi_vector *s)
{
	struct trace_event e;

	trace_begin(&e, v->bdf, event);
	trace_str(&e, "type", type);
	trace_u64(&e, "vector", i);
	if (strcmp(event, "msi-route-remove") && strncmp(event, "vector-", 7)) {
		trace_hex(&e, "addr", s->addr);
		trace_hex(&e, "data", s->data);
	}
	trace_u64(&e, "gsi", s->gsi);
	trace_end(&e);
}

void vfio_trace_vector(struct vfio_pci *v, const char *type, unsigned int i,
		       const struct msi_vector *before, const struct msi_vector *after)
{
	/* A route first (KVM's GSI for the message), then the irqfd on it:
	 * the vector unmasked; and the reverse on the way down. */
	if (after->routed && !before->routed)
		vector_event(v, "msi-route-add", type, i, after);
	else if (after->routed && (after->addr != before->addr || after->data != before->data))
		vector_event(v, "msi-route-update", type, i, after);
	if (after->attached && !before->attached)
		vector_event(v, "vector-unmask", type, i, after);
	else if (!after->attached && before->attached)
		vector_event(v, "vector-mask", type, i, before);
	if (!after->routed && before->routed)
		vector_event(v, "msi-route-remove", type, i, before);
}

void vfio_trace_set_irqs(struct vfio_pci *v, unsigned int index, uint32_t action,
			 unsigned int start, unsigned int count, int ret)
{
	struct trace_event e;

	trace_begin(&e, v->bdf, "set-irqs");
	trace_str(&e, "index", index < VFIO_PCI_NUM_IRQS && irq_index_names[index] ?
				irq_index_names[index] : "?");
	trace_str(&e, "action", action & VFIO_IRQ_SET_ACTION_UNMASK ? "unmask" :
				action & VFIO_IRQ_SET_ACTION_MASK ? "mask" : "trigger");
	trace_u64(&e, "start", start);
	trace_u64(&e, "count", count);
	if (ret)
		trace_u64(&e, "error", (uint64_t)-ret);
	trace_end(&e);
}

void vfio_trace_intx(struct vfio_pci *v, bool on, int ret)
{
	struct trace_event e;

	trace_begin(&e, v->bdf, on ? "intx-on" : "intx-off");
	trace_u64(&e, "gsi", (uint64_t)v->intx.gsi);
	/* Each assertion is then KVM's and VFIO's alone: the guest's EOI
	 * signals the resample eventfd, which unmasks the line in VFIO
	 * (ACTION_UNMASK): no event reaches minivmm. */
	if (on)
		trace_str(&e, "resample", "irqfd resampler -> VFIO unmask eventfd");
	if (ret)
		trace_u64(&e, "error", (uint64_t)-ret);
	trace_end(&e);
}

void vfio_trace_reset(struct vfio_pci *v, const char *why, const char *method, int ret)
{
	struct trace_event e;

	trace_begin(&e, v->bdf, "reset");
	trace_str(&e, "why", why);
	trace_str(&e, "method", method);
	/* VFIO_DEVICE_RESET: the kernel picks; these are its candidates in
	 * order (flr, pm, bus, ...), the first that works wins. */
	if (!strcmp(method, "VFIO_DEVICE_RESET") && v->reset_method[0])
		trace_str(&e, "kernel_methods", v->reset_method);
	trace_bool(&e, "ok", !ret);
	if (ret)
		trace_u64(&e, "error", (uint64_t)-ret);
	trace_end(&e);
}

void vfio_trace_dma(const char *event, uint64_t iova, uint64_t size, int ret)
{
	struct trace_event e;

	trace_begin(&e, NULL, event);
	trace_hex(&e, "iova", iova);
	trace_u64(&e, "size", size);
	if (ret)
		trace_u64(&e, "error", (uint64_t)-ret);
	trace_end(&e);
}
