// SPDX-License-Identifier: MIT
/*
 * ICH9 ACPI power-management I/O registers, ICH9 datasheet §13.8.3 "Power
 * Management I/O Registers", which are the ACPI spec's fixed hardware
 * registers (ACPI spec, "ACPI Register Model") as the FADT points at them:
 *
 *   0x00 PM1_STS   16 bits, write-1-to-clear   (PM1a_EVT_BLK)
 *   0x02 PM1_EN    16 bits
 *   0x04 PM1_CNT   32 bits: SCI_EN, SLP_TYP, SLP_EN   (PM1a_CNT_BLK)
 *   0x08 PM1_TMR   24-bit 3.579545 MHz counter, read-only (PM_TMR_BLK)
 *   0x20 GPE0_STS  64 bits, write-1-to-clear   (GPE0_BLK, 16 bytes)
 *   0x28 GPE0_EN   64 bits
 *
 * The remaining bytes (PROC_CNT, SMI_EN, SMI_STS, ...) are kept as plain
 * storage: nothing behind them exists in a VM, but firmware does
 * read-modify-write them and must read back what it wrote.
 *
 * Accesses are handled one byte at a time, so any width at any offset
 * (e.g. one dword over PM1_STS and PM1_EN) means what it would on the
 * chip's byte-enabled LPC interface.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "devices/legacy/acpi_pm.h"
#include "lib/log.h"

#define NS_PER_SEC	1000000000ll

#define PM1_STS		0x00
#define PM1_EN		0x02
#define PM1_CNT		0x04
#define PM1_TMR		0x08
#define GPE0_STS	0x20
#define GPE0_EN		0x28
#define GPE0_END	0x30

/* PM1_STS / PM1_EN bits (§13.8.3.1, §13.8.3.2). */
#define PM1_TMROF	(1u << 0)
#define PM1_BM		(1u << 4)
#define PM1_GBL		(1u << 5)
#define PM1_PWRBTN	(1u << 8)
#define PM1_RTC		(1u << 10)
#define PM1_PRBTNOR	(1u << 11)
#define PM1_PCIEXPWAK	(1u << 14)
#define PM1_WAK		(1u << 15)
#define PM1_STS_MASK	(PM1_TMROF | PM1_BM | PM1_GBL | PM1_PWRBTN | PM1_RTC | \
			 PM1_PRBTNOR | PM1_PCIEXPWAK | PM1_WAK)
/* PM1_EN bit 14 is PCIEXPWAK_DIS, the rest enable the matching status. */
#define PM1_EN_MASK	(PM1_TMROF | PM1_GBL | PM1_PWRBTN | PM1_RTC | PM1_PCIEXPWAK)
/* The events that signal an SCI when enabled (ACPI spec, "PM1 Event
 * Grouping"). */
#define PM1_SCI_EVENTS	(PM1_TMROF | PM1_GBL | PM1_PWRBTN | PM1_RTC)

/* PM1_CNT bits (§13.8.3.3). GBL_RLS (bit 2) only raises an SMI, and
 * SLP_EN (bit 13) is write-only: neither is stored. */
#define CNT_SCI_EN	(1u << 0)
#define CNT_BM_RLD	(1u << 1)
#define CNT_SLP_TYP_SHIFT 10
#define CNT_SLP_TYP	(7u << CNT_SLP_TYP_SHIFT)
#define CNT_SLP_EN	(1u << 13)
#define CNT_MASK	(CNT_SCI_EN | CNT_BM_RLD | CNT_SLP_TYP)

/*
 * Soft-off encodings: QEMU's DSDT declares \_S5 as SLP_TYP 0 (its PIIX4
 * heritage), while the ICH9's own S5 encoding is 111b (§13.8.3.3).
 */
#define SLP_TYP_QEMU_S5	0
#define SLP_TYP_ICH9_S5	7

#define TMR_MASK	0xffffffu	/* 24-bit timer: FADT TMR_VAL_EXT = 0 */
#define TMR_MSB		(1ull << 23)	/* its toggling sets TMROF_STS */

struct acpi_pm {
	struct device dev;
	pthread_mutex_t lock;
	const struct vm_ops *ops;
	unsigned int sci_gsi;
	int sci_level;

	uint16_t pm1_sts, pm1_en;
	uint32_t pm1_cnt;
	uint64_t gpe_sts, gpe_en;
	uint8_t other[ACPI_PM_LEN];	/* the unmodelled registers */

	int64_t (*now_ns)(void *opaque);
	void *now_opaque;
	int64_t start_ns;		/* the timer counts from here */
	uint64_t tmr_last;		/* ticks when TMROF was last checked */

	struct bus *pio;
	uint16_t base;
	bool attached, mapped;
};

static int64_t acpi_pm_host_now(void *opaque)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * NS_PER_SEC + ts.tv_nsec;
}

static uint64_t acpi_pm_ticks(const struct acpi_pm *pm)
{
	int64_t ns = pm->now_ns(pm->now_opaque) - pm->start_ns;
	uint64_t s, rem;

	if (ns < 0)
		ns = 0;
	s = (uint64_t)ns / NS_PER_SEC;
	rem = (uint64_t)ns % NS_PER_SEC;
	return s * ACPI_PM_TIMER_HZ + rem * ACPI_PM_TIMER_HZ / NS_PER_SEC;
}

/*
 * TMROF_STS is set whenever bit 23 of the timer toggles (§13.8.3.1). It
 * is noticed lazily, on the next access to the block; no thread is kept
 * just for this interrupt, which Linux and Windows never enable.
 */
static uint32_t acpi_pm_timer(struct acpi_pm *pm)
{
	uint64_t t = acpi_pm_ticks(pm);

	if (t / TMR_MSB != pm->tmr_last / TMR_MSB)
		pm->pm1_sts |= PM1_TMROF;
	pm->tmr_last = t;
	return (uint32_t)(t & TMR_MASK);
}

/* The SCI is a level interrupt (ACPI spec §5.2.9, FADT SCI_INT): high while
 * an enabled event is pending and the OS has put the chip in ACPI mode. */
static void acpi_pm_update_sci(struct acpi_pm *pm)
{
	int level = (pm->pm1_cnt & CNT_SCI_EN) &&
		    ((pm->pm1_sts & pm->pm1_en & PM1_SCI_EVENTS) ||
		     (pm->gpe_sts & pm->gpe_en));

	if (level == pm->sci_level)
		return;
	pm->sci_level = level;
	pm->ops->set_irq_line(pm->ops->vm, pm->sci_gsi, level);
}

static uint8_t acpi_pm_read_byte(struct acpi_pm *pm, unsigned int off,
				 uint32_t tmr)
{
	unsigned int shift = 8 * (off % 8);

	if (off < PM1_EN)
		return (uint8_t)(pm->pm1_sts >> 8 * (off - PM1_STS));
	if (off < PM1_CNT)
		return (uint8_t)(pm->pm1_en >> 8 * (off - PM1_EN));
	if (off < PM1_TMR)
		return (uint8_t)(pm->pm1_cnt >> 8 * (off - PM1_CNT));
	if (off < PM1_TMR + 4)
		return (uint8_t)(tmr >> 8 * (off - PM1_TMR));
	if (off >= GPE0_STS && off < GPE0_EN)
		return (uint8_t)(pm->gpe_sts >> shift);
	if (off >= GPE0_EN && off < GPE0_END)
		return (uint8_t)(pm->gpe_en >> shift);
	return off < ACPI_PM_LEN ? pm->other[off] : 0xff;
}

/* Returns the SLP_TYP requested if this byte set SLP_EN, else -1. */
static int acpi_pm_write_byte(struct acpi_pm *pm, unsigned int off, uint8_t v)
{
	unsigned int shift;
	uint32_t cnt;

	if (off < PM1_EN) {
		shift = 8 * (off - PM1_STS);
		pm->pm1_sts &= ~((uint16_t)(v << shift) & PM1_STS_MASK);
	} else if (off < PM1_CNT) {
		shift = 8 * (off - PM1_EN);
		pm->pm1_en = (uint16_t)((pm->pm1_en & ~(0xffu << shift)) |
					(((uint32_t)v << shift) & PM1_EN_MASK));
		if (pm->pm1_en & PM1_TMROF)
			pr_warn_once("acpi_pm: the PM timer overflow SCI is only raised when the guest next accesses the PM block");
	} else if (off < PM1_TMR) {
		shift = 8 * (off - PM1_CNT);
		cnt = (pm->pm1_cnt & ~(0xffu << shift)) | ((uint32_t)v << shift);
		pm->pm1_cnt = cnt & CNT_MASK;
		if (cnt & CNT_SLP_EN & (0xffu << shift))
			return (int)((cnt & CNT_SLP_TYP) >> CNT_SLP_TYP_SHIFT);
	} else if (off < PM1_TMR + 4) {
		/* PM1_TMR is read-only. */
	} else if (off >= GPE0_STS && off < GPE0_EN) {
		pm->gpe_sts &= ~((uint64_t)v << 8 * (off % 8));
	} else if (off >= GPE0_EN && off < GPE0_END) {
		shift = 8 * (off % 8);
		pm->gpe_en = (pm->gpe_en & ~(0xffull << shift)) |
			     ((uint64_t)v << shift);
	} else if (off < ACPI_PM_LEN) {
		pm->other[off] = v;
	}
	return -1;
}

static void acpi_pm_read(void *opaque, uint64_t offset, void *data,
			 unsigned int len)
{
	struct acpi_pm *pm = opaque;
	uint8_t *out = data;
	uint32_t tmr;

	pthread_mutex_lock(&pm->lock);
	/* One sample per access: a dword read of PM1_TMR is consistent. */
	tmr = acpi_pm_timer(pm);
	for (unsigned int i = 0; i < len; i++)
		out[i] = offset + i < ACPI_PM_LEN ?
			 acpi_pm_read_byte(pm, (unsigned int)(offset + i), tmr) : 0xff;
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static void acpi_pm_write(void *opaque, uint64_t offset, const void *data,
			  unsigned int len)
{
	struct acpi_pm *pm = opaque;
	const uint8_t *in = data;
	int slp_typ = -1, t;

	pthread_mutex_lock(&pm->lock);
	acpi_pm_timer(pm);
	for (unsigned int i = 0; i < len && offset + i < ACPI_PM_LEN; i++) {
		t = acpi_pm_write_byte(pm, (unsigned int)(offset + i), in[i]);
		if (t >= 0)
			slp_typ = t;
	}
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);

	if (slp_typ == SLP_TYP_QEMU_S5 || slp_typ == SLP_TYP_ICH9_S5)
		pm->ops->request_stop(pm->ops->vm, VM_STOP_POWEROFF, 0);
	else if (slp_typ >= 0)
		pr_warn_once("acpi_pm: guest asked for sleep type %d, which minivmm does not emulate (ignored; only S5 soft-off is supported)",
			     slp_typ);
}

static const struct bus_dev_ops acpi_pm_ops = {
	.read = acpi_pm_read,
	.write = acpi_pm_write,
};

void acpi_pm_power_button(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->pm1_sts |= PM1_PWRBTN;
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

int acpi_pm_gpe_raise(struct acpi_pm *pm, unsigned int bit)
{
	if (bit >= ACPI_PM_NR_GPE)
		return -EINVAL;
	pthread_mutex_lock(&pm->lock);
	pm->gpe_sts |= 1ull << bit;
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

void acpi_pm_set_acpi_mode(struct acpi_pm *pm, bool enable)
{
	pthread_mutex_lock(&pm->lock);
	if (enable)
		pm->pm1_cnt |= CNT_SCI_EN;
	else
		pm->pm1_cnt &= ~CNT_SCI_EN;
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_set_clock(struct acpi_pm *pm, int64_t (*now_ns)(void *opaque),
		       void *opaque)
{
	pthread_mutex_lock(&pm->lock);
	pm->now_ns = now_ns ? now_ns : acpi_pm_host_now;
	pm->now_opaque = opaque;
	pm->start_ns = pm->now_ns(pm->now_opaque);
	pm->tmr_last = 0;
	pthread_mutex_unlock(&pm->lock);
}

/*
 * Power-on values (ICH9 §13.8.3): status and enable bits clear, sleep
 * type 0, the SCI released. SCI_EN is what the platform set up with
 * acpi_pm_set_acpi_mode() and stays: without SMI_CMD there is no legacy
 * mode to come back up in (ACPI 6.4 §4.8.2.5). The PM timer runs on.
 */
static void acpi_pm_dev_reset(struct device *dev)
{
	struct acpi_pm *pm = container_of(dev, struct acpi_pm, dev);

	pthread_mutex_lock(&pm->lock);
	pm->pm1_sts = pm->pm1_en = 0;
	pm->pm1_cnt &= CNT_SCI_EN;
	pm->gpe_sts = pm->gpe_en = 0;
	memset(pm->other, 0, sizeof(pm->other));
	acpi_pm_update_sci(pm);
	pthread_mutex_unlock(&pm->lock);
}

static void acpi_pm_dev_destroy(struct device *dev)
{
	acpi_pm_destroy(container_of(dev, struct acpi_pm, dev));
}

static const struct device_ops acpi_pm_device_ops = {
	.reset = acpi_pm_dev_reset,
	.destroy = acpi_pm_dev_destroy,
};

struct acpi_pm *acpi_pm_create(const struct vm_ops *ops, unsigned int sci_gsi)
{
	struct acpi_pm *pm;
	int ret;

	if (!ops || !ops->set_irq_line || !ops->request_stop) {
		errno = EINVAL;
		return NULL;
	}
	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return NULL;
	ret = pthread_mutex_init(&pm->lock, NULL);
	if (ret)
		goto free_pm;
	pm->ops = ops;
	pm->sci_gsi = sci_gsi;
	pm->now_ns = acpi_pm_host_now;
	pm->start_ns = pm->now_ns(NULL);
	device_register(ops, &pm->dev, "acpi-pm", &acpi_pm_device_ops);
	return pm;

free_pm:
	free(pm);
	errno = ret;
	return NULL;
}

/* PMBASE bits 15:7 hold the address; 6:1 are reserved, bit 0 means I/O. */
static uint16_t acpi_pm_align(uint16_t base)
{
	return base & (uint16_t)~(ACPI_PM_LEN - 1);
}

int acpi_pm_attach(struct acpi_pm *pm, struct bus *pio, uint16_t base)
{
	int ret;

	pthread_mutex_lock(&pm->lock);
	if (pm->attached) {
		ret = -EBUSY;
		goto out_unlock;
	}
	base = acpi_pm_align(base);
	ret = bus_register(pio, base, ACPI_PM_LEN, &acpi_pm_ops, pm, "acpi-pm");
	if (ret)
		goto out_unlock;
	pm->pio = pio;
	pm->base = base;
	pm->attached = pm->mapped = true;
out_unlock:
	pthread_mutex_unlock(&pm->lock);
	return ret;
}

int acpi_pm_set_base(struct acpi_pm *pm, uint16_t base, bool enabled)
{
	int ret = 0;

	base = acpi_pm_align(base);
	pthread_mutex_lock(&pm->lock);
	if (!pm->attached) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (pm->mapped && enabled && pm->base == base)
		goto out_unlock;
	if (pm->mapped) {
		bus_unregister(pm->pio, pm->base);
		pm->mapped = false;
	}
	if (!enabled)
		goto out_unlock;
	ret = bus_register(pm->pio, base, ACPI_PM_LEN, &acpi_pm_ops, pm,
			   "acpi-pm");
	if (ret) {
		pr_warn_once("acpi_pm: cannot move the PM block to %#x: %d (it stays unmapped until the guest picks a free base)",
			     base, ret);
		goto out_unlock;
	}
	pm->base = base;
	pm->mapped = true;
out_unlock:
	pthread_mutex_unlock(&pm->lock);
	return ret;
}

void acpi_pm_destroy(struct acpi_pm *pm)
{
	if (!pm)
		return;
	device_unregister(&pm->dev);
	if (pm->mapped)
		bus_unregister(pm->pio, pm->base);
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}
