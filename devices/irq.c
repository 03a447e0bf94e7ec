// SPDX-License-Identifier: MIT
/* Wired-OR level interrupt lines; see irq.h. */
#include <errno.h>

#include "devices/irq.h"

int irq_line_init(struct irq_line *line, irq_sink_fn sink, void *opaque)
{
	line->count = 0;
	line->level = false;
	line->sink = sink;
	line->opaque = opaque;
	return -pthread_mutex_init(&line->lock, NULL);
}

void irq_line_exit(struct irq_line *line)
{
	pthread_mutex_destroy(&line->lock);
}

/* Line lock held. */
static void irq_line_drive(struct irq_line *line)
{
	bool level = line->count > 0;

	if (level == line->level)
		return;
	__atomic_store_n(&line->level, level, __ATOMIC_RELEASE);
	if (line->sink)
		line->sink(line->opaque, level);
}

void irq_line_raise(struct irq_line *line)
{
	pthread_mutex_lock(&line->lock);
	line->count++;
	irq_line_drive(line);
	pthread_mutex_unlock(&line->lock);
}

void irq_line_lower(struct irq_line *line)
{
	pthread_mutex_lock(&line->lock);
	if (line->count)
		line->count--;
	irq_line_drive(line);
	pthread_mutex_unlock(&line->lock);
}

void irq_line_reset(struct irq_line *line)
{
	pthread_mutex_lock(&line->lock);
	line->count = 0;
	irq_line_drive(line);
	pthread_mutex_unlock(&line->lock);
}

bool irq_line_level(struct irq_line *line)
{
	return __atomic_load_n(&line->level, __ATOMIC_ACQUIRE);
}

bool irq_wired_or(unsigned int *count, bool level)
{
	if (level)
		return (*count)++ == 0;
	if (!*count)
		return false;
	return --*count == 0;
}

void irq_gsi_sink(void *opaque, bool level)
{
	struct irq_gsi *g = opaque;

	g->ops->set_irq_line(g->ops->vm, g->gsi, level);
}
