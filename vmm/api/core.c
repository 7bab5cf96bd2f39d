// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control API's request parser and dispatcher (vmm/api/core.h). Every
 * input is a client's and may be hostile: anything unexpected gets an error
 * reply and changes nothing.
 */
#include "vmm/api/core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vmm/api/api.h"
#include "vmm/config_fd.h"
#include "vmm/exitcode.h"

#ifndef KITE_VERSION
#define KITE_VERSION "0.1.0"
#endif

const char *api_state_name(enum api_state s)
{
	switch (s) {
	case API_PREBOOT:
		return "pre-boot";
	case API_BOOTING:
		return "booting";
	case API_RUNNING:
		return "running";
	case API_PAUSED:
		return "paused";
	case API_STOPPING:
		return "stopping";
	}
	return "unknown";
}

int api_core_init(struct api_core *c, const struct vm_config *base, const struct api_backend *be,
		  void *opaque)
{
	memset(c, 0, sizeof(*c));
	c->be = be;
	c->be_opaque = opaque;
	c->boot_ms = -1;
	c->fds = fd_registry_create();
	if (!c->fds)
		return -ENOMEM;
	if (config_copy(&c->cfg, base)) {
		fd_registry_destroy(c->fds);
		c->fds = NULL;
		return -ENOMEM;
	}
	c->cfg.fds = c->fds;
	return 0;
}

void api_core_destroy(struct api_core *c)
{
	config_free(&c->cfg);
	fd_registry_destroy(c->fds);
	c->fds = NULL;
}

json_t *api_reply(json_t *id, json_t *result)
{
	json_t *o = json_object();

	if (!o) {
		json_decref(result);
		return NULL;
	}
	json_object_set(o, "id", id ? id : json_null());
	json_object_set_new(o, "result", result ? result : json_object());
	return o;
}

json_t *api_error(json_t *id, const char *code, const char *fmt, ...)
{
	json_t *o = json_object(), *e = json_object(), *m;
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!o || !e) {
		json_decref(o);
		json_decref(e);
		return NULL;
	}
	json_object_set_new(e, "code", json_string(code));
	/* A message may quote client bytes: keep it valid UTF-8 for the encoder. */
	m = json_string(msg);
	json_object_set_new(e, "message", m ? m : json_string("(message not UTF-8)"));
	json_object_set(o, "id", id ? id : json_null());
	json_object_set_new(o, "error", e);
	return o;
}

json_t *api_event(const char *name, json_t *data)
{
	json_t *o = json_object();

	if (!o) {
		json_decref(data);
		return NULL;
	}
	json_object_set_new(o, "event", json_string(name));
	json_object_set_new(o, "data", data ? data : json_object());
	return o;
}

char *api_line(json_t *obj, size_t *len)
{
	char *s, *line;
	size_t n;

	if (!obj)
		return NULL;
	s = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(obj);
	if (!s)
		return NULL;
	n = strlen(s);
	line = realloc(s, n + 2);
	if (!line) {
		free(s);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	*len = n + 1;
	return line;
}

/* Methods and the states they are valid in. */
enum {
	S_PRE = 1 << API_PREBOOT,
	S_BOOTING = 1 << API_BOOTING,
	S_RUN = 1 << API_RUNNING,
	S_PAUSED = 1 << API_PAUSED,
	S_STOP = 1 << API_STOPPING,
	S_ANY = 0x1f
};

struct method {
	const char *name;
	unsigned int states;
	const char *const *params; /* allowed keys; NULL: params is free-form (configure) */
	json_t *(*fn)(struct api_core *c, json_t *id, json_t *params, struct api_fdq *fdq,
		      json_t **deferred);
};

static const char *const no_params[] = { NULL };
static const char *const add_fd_params[] = { "name", NULL };

static json_t *state_result(struct api_core *c)
{
	return json_pack("{s:s}", "state", api_state_name(c->state));
}

static json_t *m_info(struct api_core *c, json_t *id, json_t *params, struct api_fdq *fdq,
		      json_t **deferred)
{
	json_t *r = json_object(), *names = json_array();
	unsigned int n = fd_registry_count(c->fds);

	if (!r || !names)
		goto oom;
	json_object_set_new(r, "version", json_integer(API_VERSION));
	json_object_set_new(r, "kite", json_string(KITE_VERSION));
	json_object_set_new(r, "state", json_string(api_state_name(c->state)));
	json_object_set_new(r, "config", config_to_json(&c->cfg));
	for (unsigned int i = 0; i < n; i++) {
		char name[FD_NAME_MAX];

		if (!fd_registry_name(c->fds, i, name))
			json_array_append_new(names, json_string(name));
	}
	json_object_set_new(r, "fds", names);
	names = NULL;
	if (c->boot_ms >= 0)
		json_object_set_new(r, "boot_ms", json_real(c->boot_ms));
	if ((c->state == API_RUNNING || c->state == API_PAUSED) && c->be->info &&
	    c->be->info(c->be_opaque, r)) {
		json_decref(r);
		return api_error(id, API_E_FAILED, "cannot collect the VM's state");
	}
	return api_reply(id, r);
oom:
	json_decref(r);
	json_decref(names);
	return api_error(id, API_E_FAILED, "out of memory");
}

static json_t *m_metrics(struct api_core *c, json_t *id, json_t *params, struct api_fdq *fdq,
			 json_t **deferred)
{
	json_t *r = json_pack("{s:s, s:[]}", "state", api_state_name(c->state), "devices");

	if (!r)
		return api_error(id, API_E_FAILED, "out of memory");
	if ((c->state == API_RUNNING || c->state == API_PAUSED) && c->be->metrics &&
	    c->be->metrics(c->be_opaque, r)) {
		json_decref(r);
		return api_error(id, API_E_FAILED, "cannot collect metrics");
	}
	return api_reply(id, r);
}

static json_t *m_configure(struct api_core *c, json_t *id, json_t *params, struct api_fdq *fdq,
			   json_t **deferred)
{
	struct vm_config next;
	char msg[512];
	int ret;

	if (config_copy(&next, &c->cfg))
		return api_error(id, API_E_FAILED, "out of memory");
	/* The config parsers' own messages, word for word, go into the reply. */
	config_capture_errors(msg, sizeof(msg));
	ret = config_apply_json(params, "params", &next);
	if (!ret)
		ret = config_fds_check(&next);
	config_capture_errors(NULL, 0);
	if (ret) {
		config_free(&next);
		return api_error(id, API_E_PARAMS, "%s", msg);
	}
	config_free(&c->cfg);
	c->cfg = next;
	return api_reply(id, config_to_json(&c->cfg));
}

static json_t *m_add_fd(struct api_core *c, json_t *id, json_t *params, struct api_fdq *fdq,
			json_t **deferred)
{
	json_t *jn = json_object_get(params, "name");
	const char *name = json_string_value(jn);
	int ret;

	if (!name)
		return api_error(id, API_E_PARAMS, "add-fd needs a string 'name'");
	if (!fdq || fdq->n == 0)
		return api_error(id, API_E_NOFD,
				 "no file descriptor came with this request "
				 "(send one with SCM_RIGHTS)");
	ret = fd_registry_add(c->fds, name, fdq->fd[0]);
	if (ret == -EINVAL)
		return api_error(id, API_E_PARAMS,
				 "invalid fd name (a letter, then up to 30 of "
				 "A-Z a-z 0-9 _ . -)");
	if (ret == -EEXIST)
		return api_error(id, API_E_PARAMS, "fd name '%s' is already in use", name);
	if (ret == -ENOSPC)
		return api_error(id, API_E_PARAMS, "too many named fds (at most %d)",
				 FD_REGISTRY_MAX);
	/* The registry owns it now. */
	memmove(fdq->fd, fdq->fd + 1, --fdq->n * sizeof(fdq->fd[0]));
	return api_reply(id, json_pack("{s:s}", "name", name));
}

static json_t *m_boot(struct api_core *c, json_t *id, json_t *params, struct api_fdq *fdq,
		      json_t **deferred)
{
	char msg[512];
	int ret;

	config_capture_errors(msg, sizeof(msg));
	ret = config_validate(&c->cfg);
	if (!ret)
		ret = config_fds_check(&c->cfg);
	config_capture_errors(NULL, 0);
	if (ret)
		return api_error(id, API_E_PARAMS, "%s", msg);
	if (c->be->boot(c->be_opaque))
		return api_error(id, API_E_FAILED, "cannot start the boot");
	c->state = API_BOOTING;
	*deferred = json_incref(id ? id : json_null());
	return NULL;
}

static json_t *m_pause(struct api_core *c, json_t *id, json_t *params, struct api_fdq *fdq,
		       json_t **deferred)
{
	if (c->be->pause(c->be_opaque))
		return api_error(id, API_E_FAILED, "the VM is stopping");
	c->state = API_PAUSED;
	return api_reply(id, state_result(c));
}

static json_t *m_resume(struct api_core *c, json_t *id, json_t *params, struct api_fdq *fdq,
			json_t **deferred)
{
	if (c->be->resume(c->be_opaque))
		return api_error(id, API_E_FAILED, "cannot resume");
	c->state = API_RUNNING;
	return api_reply(id, state_result(c));
}

static json_t *m_shutdown(struct api_core *c, json_t *id, json_t *params, struct api_fdq *fdq,
			  json_t **deferred)
{
	int ret = c->be->shutdown(c->be_opaque);

	if (ret == -ENODEV)
		return api_error(id, API_E_FAILED, "this VM has no ACPI power button");
	if (ret)
		return api_error(id, API_E_FAILED, "cannot press the power button: %s",
				 strerror(-ret));
	return api_reply(id, json_pack("{s:s, s:s}", "state", api_state_name(c->state), "requested",
				       "acpi-power-button"));
}

static json_t *m_kill(struct api_core *c, json_t *id, json_t *params, struct api_fdq *fdq,
		      json_t **deferred)
{
	c->be->kill(c->be_opaque);
	c->state = API_STOPPING;
	return api_reply(id, json_pack("{s:s, s:i}", "state", api_state_name(c->state), "exit_code",
				       KITE_EXIT_SIGNAL));
}

static const struct method methods[] = {
	{ "info", S_ANY, no_params, m_info },
	{ "metrics", S_ANY, no_params, m_metrics },
	{ "configure", S_PRE, NULL, m_configure },
	{ "add-fd", S_ANY & ~S_STOP, add_fd_params, m_add_fd },
	{ "boot", S_PRE, no_params, m_boot },
	{ "pause", S_RUN, no_params, m_pause },
	{ "resume", S_PAUSED, no_params, m_resume },
	{ "shutdown", S_RUN, no_params, m_shutdown },
	{ "kill", S_PRE | S_RUN | S_PAUSED, no_params, m_kill },
};

json_t *api_core_boot_done(struct api_core *c, json_t *id, int code, const char *why)
{
	if (code) {
		c->state = API_STOPPING;
		return api_error(id, API_E_BOOT, "boot failed with exit code %d (%s)%s%s", code,
				 kite_exit_name(code), why && *why ? ": " : "", why ? why : "");
	}
	c->state = API_RUNNING;
	return api_reply(id, state_result(c));
}

/* Only scalars make sense as ids; objects could be made arbitrarily deep for no use. */
static bool id_ok(json_t *id)
{
	return json_is_string(id) || json_is_integer(id) || json_is_null(id);
}

json_t *api_core_handle(struct api_core *c, const char *line, size_t len, struct api_fdq *fdq,
			json_t **deferred)
{
	const struct method *m = NULL;
	json_t *req, *id, *jm, *params, *reply;
	const char *name, *key;
	json_error_t jerr;
	json_t *val;

	*deferred = NULL;
	req = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req)
		return api_error(NULL, API_E_PARSE, "malformed JSON at column %d: %s", jerr.column,
				 jerr.text);
	if (!json_is_object(req)) {
		json_decref(req);
		return api_error(NULL, API_E_REQUEST, "a request is a JSON object");
	}
	id = json_object_get(req, "id");
	if (id && !id_ok(id)) {
		json_decref(req);
		return api_error(NULL, API_E_REQUEST, "'id' must be a string, an integer or null");
	}
	json_object_foreach (req, key, val) {
		if (strcmp(key, "id") && strcmp(key, "method") && strcmp(key, "params")) {
			reply = api_error(id, API_E_REQUEST, "unknown request member '%s'", key);
			json_decref(req);
			return reply;
		}
	}
	jm = json_object_get(req, "method");
	name = json_string_value(jm);
	params = json_object_get(req, "params");
	if (!name) {
		reply = api_error(id, API_E_REQUEST, "'method' must be a string");
		goto out;
	}
	if (params && !json_is_object(params)) {
		reply = api_error(id, API_E_REQUEST, "'params' must be an object");
		goto out;
	}
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (!strcmp(methods[i].name, name))
			m = &methods[i];
	if (!m) {
		reply = api_error(id, API_E_METHOD, "unknown method '%.64s'", name);
		goto out;
	}
	if (m->params && params) {
		json_object_foreach (params, key, val) {
			bool known = false;

			for (const char *const *p = m->params; *p; p++)
				known |= !strcmp(*p, key);
			if (!known) {
				reply = api_error(id, API_E_PARAMS, "%s: unknown parameter '%.64s'",
						  m->name, key);
				goto out;
			}
		}
	}
	if (!(m->states & (1u << c->state))) {
		reply = api_error(id, API_E_STATE, "%s is not allowed in state %s", m->name,
				  api_state_name(c->state));
		goto out;
	}
	if (!params)
		params = json_object();
	else
		json_incref(params);
	reply = m->fn(c, id, params, fdq, deferred);
	json_decref(params);
out:
	json_decref(req);
	return reply;
}
