/* SPDX-License-Identifier: MIT */
/*
 * A fake TPM behind struct tpm_backend_ops (devices/tpm/tpm_backend.h),
 * for the CRB device's unit tests and fuzz target: it records what the
 * device asked for and answers every command with a response of rsp_len
 * bytes (tag, size, response code, then 0xA5s). With block set, a command
 * waits in execute() until the test clears it, a cancel or an abort.
 */
#ifndef MINIVMM_TEST_FAKE_TPM_H
#define MINIVMM_TEST_FAKE_TPM_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#include "devices/tpm/tpm_backend.h"

#define FAKE_TPM_RC_CANCELED	0x909

struct fake_tpm {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	/* what the device did */
	unsigned int inits, executes, cancels, aborts, destroys;
	uint32_t buffer_size;
	uint8_t cmd[8192];
	size_t cmd_len;
	bool in_exec;
	/* how the fake behaves */
	int init_ret;
	bool established;
	long exec_err;		/* < 0: execute() fails with it */
	size_t rsp_len;		/* 0: 10 */
	bool block;
	bool cancelled, aborted;
};

static inline int fake_tpm_init_cb(void *opaque, uint32_t buffer_size, bool *established)
{
	struct fake_tpm *t = opaque;

	pthread_mutex_lock(&t->lock);
	t->inits++;
	t->buffer_size = buffer_size;
	*established = t->established;
	pthread_mutex_unlock(&t->lock);
	return t->init_ret;
}

static inline long fake_tpm_execute(void *opaque, const uint8_t *cmd, size_t len, uint8_t *rsp,
				    size_t cap)
{
	struct fake_tpm *t = opaque;
	size_t n;
	uint32_t rc = 0;
	long ret;

	pthread_mutex_lock(&t->lock);
	t->executes++;
	t->cmd_len = len < sizeof(t->cmd) ? len : sizeof(t->cmd);
	memcpy(t->cmd, cmd, t->cmd_len);
	t->in_exec = true;
	t->cancelled = false;
	pthread_cond_broadcast(&t->cond);
	while (t->block && !t->cancelled && !t->aborted)
		pthread_cond_wait(&t->cond, &t->lock);
	if (t->cancelled)
		rc = FAKE_TPM_RC_CANCELED;
	t->in_exec = false;
	n = t->rsp_len ? t->rsp_len : TPM2_HEADER_SIZE;
	ret = t->aborted ? -ECANCELED : t->exec_err ? t->exec_err : n > cap ? -EMSGSIZE : (long)n;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	if (ret > 0) {
		memset(rsp, 0xa5, n);
		rsp[0] = 0x80;
		rsp[1] = 0x01;
		rsp[2] = (uint8_t)(n >> 24);
		rsp[3] = (uint8_t)(n >> 16);
		rsp[4] = (uint8_t)(n >> 8);
		rsp[5] = (uint8_t)n;
		rsp[6] = (uint8_t)(rc >> 24);
		rsp[7] = (uint8_t)(rc >> 16);
		rsp[8] = (uint8_t)(rc >> 8);
		rsp[9] = (uint8_t)rc;
	}
	return ret;
}

static inline void fake_tpm_cancel(void *opaque)
{
	struct fake_tpm *t = opaque;

	pthread_mutex_lock(&t->lock);
	t->cancels++;
	if (t->in_exec)
		t->cancelled = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

static inline void fake_tpm_abort(void *opaque)
{
	struct fake_tpm *t = opaque;

	pthread_mutex_lock(&t->lock);
	t->aborts++;
	t->aborted = true;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

static inline void fake_tpm_destroy(void *opaque)
{
	struct fake_tpm *t = opaque;

	pthread_mutex_lock(&t->lock);
	t->destroys++;
	pthread_mutex_unlock(&t->lock);
}

static const struct tpm_backend_ops fake_tpm_ops = {
	.init = fake_tpm_init_cb,
	.execute = fake_tpm_execute,
	.cancel = fake_tpm_cancel,
	.abort = fake_tpm_abort,
	.destroy = fake_tpm_destroy,
};

static inline void fake_tpm_init(struct fake_tpm *t)
{
	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	pthread_cond_init(&t->cond, NULL);
}

static inline struct tpm_backend fake_tpm_backend(struct fake_tpm *t)
{
	return (struct tpm_backend){ .ops = &fake_tpm_ops, .opaque = t };
}

/* Let a blocked command finish. */
static inline void fake_tpm_release(struct fake_tpm *t)
{
	pthread_mutex_lock(&t->lock);
	t->block = false;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
}

/* Wait until a command is inside execute(). */
static inline void fake_tpm_wait_exec(struct fake_tpm *t)
{
	pthread_mutex_lock(&t->lock);
	while (!t->in_exec)
		pthread_cond_wait(&t->cond, &t->lock);
	pthread_mutex_unlock(&t->lock);
}

#endif
