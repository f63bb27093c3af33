/*
 * specredis._hotloop: the server's request loop for the common case, in C.
 *
 * It does, for a run of pipelined requests, what specredis/server.py's pure-Python
 * path does (RequestParser.drain -> Engine.execute -> Engine.call -> encode_into),
 * for the requests it can take:
 *
 *   - frames in canonical multibulk form (every count and length header the exact
 *     decimal spelling of the number that follows it, every line ended by CRLF), so
 *     that the bytes provably parse to the same arguments the Python parser returns,
 *     and inline requests of plain words (parse_inline);
 *   - commands of the engine's hot table (Engine.hot_commands: plain data commands,
 *     no subcommands, no RESP2 reply rewriting, not protected) with the right arity,
 *     for a client outside MULTI and pub/sub, authenticated, with no engine-wide gate
 *     active -- exactly execute()'s condition for skipping check_gates().
 *
 * The command's Python handler runs as in Engine.call(), with the same effects in the
 * same order (INCR, DECR and HSET have a C version of their handler's plain case, see
 * "handlers in C"): current_client/last_command/current_command, the handler's reply or its
 * RedisError turned into an error reply (failed_calls, errorstats), propagation through
 * Engine._propagate when anything is pending, the slow-command and after-command hooks,
 * blocked clients served through handle_ready_keys. The per-command counters (calls,
 * usec, the latency histogram, total_commands_processed, the client's
 * commands_processed) are added up in C and written to the Python objects whenever this
 * function returns, which it does before any request it does not take: no Python code
 * that could read them runs in between (hot commands do not read them).
 *
 * Replies of the common types (bulk strings, integers, nulls, +OK/+PONG, flat arrays
 * of those) are encoded here, byte for byte as specredis.protocol.encoder does; any
 * other reply goes through encoder.encode_into. A reply the server must handle itself
 * (NO_REPLY, a client flagged to close or with output pending, CLIENT REPLY off/skip)
 * is handed back with its request.
 *
 * run() returns (pos, argv, reply):
 *   (pos, None, None)       stopped at pos: the frame there is not canonical, not
 *                           complete, or the output to write is large; the Python
 *                           parser takes over from pos;
 *   (pos, argv, NOT_RUN)    argv (the frame ending at pos) is not for the hot path:
 *                           the caller runs it through Engine.execute;
 *   (pos, argv, reply)      argv ran, and its reply needs the caller's handling.
 * The pure-Python path stays the reference: tests/perf compares the two.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <string.h>
#include <time.h>

/* Flags of specredis.engine.client, passed in by configure(). */
static long flag_gate_mask;      /* CLIENT_MULTI | CLIENT_PUBSUB */
static long flag_slow_mask;      /* CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP | CLIENT_PENDING_PUSH */

/* Slot offsets of Client and RequestParser attributes (member descriptors). */
static Py_ssize_t off_flags, off_authenticated, off_resp, off_reply_mode, off_skip_next_reply;
static Py_ssize_t off_current_command, off_last_command, off_commands_processed;
static Py_ssize_t off_buf, off_pos;
static PyTypeObject *client_type, *parser_type;

static PyObject *OK_obj, *PONG_obj, *NO_REPLY_obj, *NOT_RUN_obj, *RedisError_type, *encode_into_fn;
static PyObject *str_on;
static PyObject *s_dirty, *s_also, *s_rewritten, *s_prevent, *s_propagation_consumers, *s_propagate;
static PyObject *s_current_client, *s_slow_us, *s_after_command_hooks, *s_ready_keys, *s_handle_ready_keys;
static PyObject *s_run_slow_hooks, *s_run_after_command_hooks, *s_error_reply, *s_gated, *s_stats;
static PyObject *s_calls, *s_usec, *s_failed_calls, *s_latency_us, *s_total_commands_processed;
static int configured = 0;

#define MAX_COUNT 1024            /* arguments per canonical frame taken here */
#define MAX_LEN (512 * 1024)      /* argument length taken here */
#define FLUSH_BYTES (256 * 1024)  /* return to the caller to write past this much output */
#define STAT_CMDS 8               /* distinct commands whose counters are batched */
#define LAT_BUCKETS 8             /* durations in µs batched per command: 0..7 */

/* ---- small helpers ------------------------------------------------------------------- */

static inline PyObject *slot_get(PyObject *obj, Py_ssize_t off) {
    return *(PyObject **)((char *)obj + off);
}

static inline void slot_set(PyObject *obj, Py_ssize_t off, PyObject *value) {
    PyObject **p = (PyObject **)((char *)obj + off);
    PyObject *old = *p;
    Py_INCREF(value);
    *p = value;
    Py_XDECREF(old);
}

static Py_ssize_t member_offset(PyTypeObject *type, const char *name) {
    PyObject *descr = PyObject_GetAttrString((PyObject *)type, name);
    if (descr == NULL)
        return -1;
    if (!PyObject_TypeCheck(descr, &PyMemberDescr_Type)) {
        Py_DECREF(descr);
        PyErr_Format(PyExc_TypeError, "%s.%s is not a slot", type->tp_name, name);
        return -1;
    }
    PyMemberDef *member = ((PyMemberDescrObject *)descr)->d_member;
    Py_ssize_t off = member->type == T_OBJECT_EX || member->type == T_OBJECT ? member->offset : -1;
    Py_DECREF(descr);
    if (off < 0)
        PyErr_Format(PyExc_TypeError, "%s.%s is not an object slot", type->tp_name, name);
    return off;
}

static inline long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- output buffer ------------------------------------------------------------------- */

typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buf;

static int buf_reserve(Buf *b, Py_ssize_t extra) {
    if (b->len + extra <= b->cap)
        return 0;
    Py_ssize_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + extra)
        cap *= 2;
    char *data = PyMem_Realloc(b->data, cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

static inline int buf_put(Buf *b, const char *s, Py_ssize_t n) {
    if (buf_reserve(b, n) < 0)
        return -1;
    memcpy(b->data + b->len, s, n);
    b->len += n;
    return 0;
}

/* Write "<prefix><n>\r\n" at dst (room for 24 bytes); returns its length. snprintf is too
 * slow here: an LRANGE reply has a header per element. */
static inline Py_ssize_t format_header(char *dst, char prefix, long long n) {
    char digits[24];
    int k = 0;
    unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
    do {
        digits[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    Py_ssize_t len = 0;
    dst[len++] = prefix;
    if (n < 0)
        dst[len++] = '-';
    while (k)
        dst[len++] = digits[--k];
    dst[len++] = '\r';
    dst[len++] = '\n';
    return len;
}

/* Append "<prefix><n>\r\n". */
static inline int buf_header(Buf *b, char prefix, long long n) {
    if (buf_reserve(b, 24) < 0)
        return -1;
    b->len += format_header(b->data + b->len, prefix, n);
    return 0;
}

/* Move the buffered output to the caller's list of byte strings. */
static int buf_flush(Buf *b, PyObject *out) {
    if (b->len == 0)
        return 0;
    PyObject *bytes = PyBytes_FromStringAndSize(b->data, b->len);
    if (bytes == NULL)
        return -1;
    int rc = PyList_Append(out, bytes);
    Py_DECREF(bytes);
    b->len = 0;
    return rc;
}

/* Encode the simple replies; 1 if done, 0 if the reply needs the Python encoder, -1 on error. */
static int encode_bulk(Buf *b, PyObject *item) {
    Py_ssize_t n = PyBytes_GET_SIZE(item);
    if (buf_reserve(b, n + 26) < 0)
        return -1;
    b->len += format_header(b->data + b->len, '$', n);
    memcpy(b->data + b->len, PyBytes_AS_STRING(item), n);
    b->len += n;
    b->data[b->len++] = '\r';
    b->data[b->len++] = '\n';
    return 1;
}

static int encode_int(Buf *b, PyObject *item) {
    int overflow;
    long long v = PyLong_AsLongLongAndOverflow(item, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    return buf_header(b, ':', v) < 0 ? -1 : 1;
}

static int encode_simple(Buf *b, PyObject *reply, int resp3) {
    PyTypeObject *type = Py_TYPE(reply);
    if (type == &PyBytes_Type)
        return encode_bulk(b, reply);
    if (reply == OK_obj)
        return buf_put(b, "+OK\r\n", 5) < 0 ? -1 : 1;
    if (type == &PyLong_Type)
        return encode_int(b, reply);
    if (reply == Py_None)
        return (resp3 ? buf_put(b, "_\r\n", 3) : buf_put(b, "$-1\r\n", 5)) < 0 ? -1 : 1;
    if (reply == PONG_obj)
        return buf_put(b, "+PONG\r\n", 7) < 0 ? -1 : 1;
    if (type == &PyList_Type) {
        Py_ssize_t n = PyList_GET_SIZE(reply);
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = PyList_GET_ITEM(reply, i);
            PyTypeObject *t = Py_TYPE(item);
            if (t != &PyBytes_Type && t != &PyLong_Type && item != Py_None)
                return 0;
        }
        Py_ssize_t mark = b->len;
        if (buf_header(b, '*', n) < 0)
            return -1;
        for (Py_ssize_t i = 0; i < n; i++) {
            PyObject *item = PyList_GET_ITEM(reply, i);
            int rc;
            if (Py_TYPE(item) == &PyBytes_Type)
                rc = encode_bulk(b, item);
            else if (item == Py_None)
                rc = (resp3 ? buf_put(b, "_\r\n", 3) : buf_put(b, "$-1\r\n", 5)) < 0 ? -1 : 1;
            else
                rc = encode_int(b, item);
            if (rc <= 0) {
                b->len = mark;
                return rc;
            }
        }
        return 1;
    }
    return 0;
}

/* ---- canonical frame parsing --------------------------------------------------------- */

/* A canonical decimal (no sign, no leading zero unless "0") ending at "\r\n" within
 * [p, end); returns its value and sets *next past the CRLF; -1 if not canonical, -2 if
 * the line is incomplete. */
static inline long long parse_number(const char *p, const char *end, long long max, const char **next) {
    const char *q = p;
    long long v = 0;
    while (q < end && *q >= '0' && *q <= '9') {
        if (q - p >= 10)
            return -1;
        v = v * 10 + (*q - '0');
        q++;
    }
    if (q == end)
        return -2;
    if (q == p || (*p == '0' && q - p > 1) || v > max)
        return -1;
    if (q + 1 >= end)
        return q + 1 == end && *q == '\r' ? -2 : -1;
    if (q[0] != '\r' || q[1] != '\n')
        return -1;
    *next = q + 2;
    return v;
}

/* Parse the canonical frame at data[pos:]; a new list (with *end_pos set), or NULL
 * with no exception when the frame is not canonical or complete. */
static PyObject *parse_frame(const char *data, Py_ssize_t size, Py_ssize_t pos, Py_ssize_t *end_pos) {
    const char *p = data + pos, *end = data + size;
    if (p >= end || *p != '*')
        return NULL;
    const char *next;
    long long count = parse_number(p + 1, end, MAX_COUNT, &next);
    if (count <= 0)
        return NULL;
    /* Check the whole frame before allocating anything. */
    const char *q = next;
    for (long long i = 0; i < count; i++) {
        if (q >= end || *q != '$')
            return NULL;
        long long len = parse_number(q + 1, end, MAX_LEN, &next);
        if (len < 0)
            return NULL;
        if (end - next < len + 2)
            return NULL;
        if (next[len] != '\r' || next[len + 1] != '\n')
            return NULL;
        q = next + len + 2;
    }
    PyObject *argv = PyList_New((Py_ssize_t)count);
    if (argv == NULL)
        return NULL;
    q = p;
    parse_number(q + 1, end, MAX_COUNT, &next);
    q = next;
    for (long long i = 0; i < count; i++) {
        long long len = parse_number(q + 1, end, MAX_LEN, &next);
        PyObject *arg = PyBytes_FromStringAndSize(next, (Py_ssize_t)len);
        if (arg == NULL) {
            Py_DECREF(argv);
            return NULL;
        }
        PyList_SET_ITEM(argv, (Py_ssize_t)i, arg);
        q = next + len + 2;
    }
    *end_pos = q - data;
    return argv;
}

/* An inline request (a line that does not start with '*') made only of printable ASCII
 * words without quotes, separated by spaces and ended by "\n" or "\r\n": the Python
 * parser splits such a line with bytes.split(), and so does this. Anything else (tabs,
 * quotes, control or non-ASCII bytes, an empty line, no line end yet) is left to it. */
static PyObject *parse_inline(const char *data, Py_ssize_t size, Py_ssize_t pos, Py_ssize_t *end_pos) {
    const char *p = data + pos, *end = data + size;
    const char *nl = memchr(p, '\n', end - p);
    if (nl == NULL)
        return NULL;
    const char *line_end = nl > p && nl[-1] == '\r' ? nl - 1 : nl;
    Py_ssize_t words = 0;
    int in_word = 0;
    for (const char *q = p; q < line_end; q++) {
        unsigned char c = (unsigned char)*q;
        if (c == ' ') {
            in_word = 0;
            continue;
        }
        if (c < 0x21 || c > 0x7e || c == '"' || c == '\'')
            return NULL;
        if (!in_word) {
            words++;
            in_word = 1;
        }
    }
    if (words == 0 || words > MAX_COUNT)
        return NULL;
    PyObject *argv = PyList_New(words);
    if (argv == NULL)
        return NULL;
    Py_ssize_t i = 0;
    const char *q = p;
    while (i < words) {
        while (*q == ' ')
            q++;
        const char *start = q;
        while (q < line_end && *q != ' ')
            q++;
        PyObject *arg = PyBytes_FromStringAndSize(start, q - start);
        if (arg == NULL) {
            Py_DECREF(argv);
            return NULL;
        }
        PyList_SET_ITEM(argv, i++, arg);
    }
    *end_pos = nl + 1 - data;
    return argv;
}

/* ---- batched counters ---------------------------------------------------------------- */

typedef struct {
    PyObject *cmd;                       /* borrowed: the hot table holds it */
    long long calls, usec;
    long long latency[LAT_BUCKETS];
} CmdStats;

typedef struct {
    CmdStats cmds[STAT_CMDS];
    int ncmds;
    long long total;
} Stats;

static int add_to_attr(PyObject *obj, PyObject *name, long long delta) {
    if (delta == 0)
        return 0;
    PyObject *value = PyObject_GetAttr(obj, name);
    if (value == NULL)
        return -1;
    PyObject *d = PyLong_FromLongLong(delta);
    if (d == NULL) {
        Py_DECREF(value);
        return -1;
    }
    PyObject *sum = PyNumber_Add(value, d);
    Py_DECREF(value);
    Py_DECREF(d);
    if (sum == NULL)
        return -1;
    int rc = PyObject_SetAttr(obj, name, sum);
    Py_DECREF(sum);
    return rc;
}

/* latency[elapsed] = latency.get(elapsed, 0) + count */
static int latency_add(PyObject *latency, long long elapsed, long long count) {
    PyObject *key = PyLong_FromLongLong(elapsed);
    if (key == NULL)
        return -1;
    PyObject *old = PyDict_GetItemWithError(latency, key);
    if (old == NULL && PyErr_Occurred()) {
        Py_DECREF(key);
        return -1;
    }
    PyObject *d = PyLong_FromLongLong(count);
    PyObject *sum = d == NULL ? NULL : old == NULL ? (Py_INCREF(d), d) : PyNumber_Add(old, d);
    Py_XDECREF(d);
    int rc = sum == NULL ? -1 : PyDict_SetItem(latency, key, sum);
    Py_XDECREF(sum);
    Py_DECREF(key);
    return rc;
}

static int stats_flush(Stats *st, PyObject *engine_stats, PyObject *client) {
    int rc = 0;
    for (int i = 0; i < st->ncmds; i++) {
        CmdStats *cs = &st->cmds[i];
        if (rc == 0 && (add_to_attr(cs->cmd, s_calls, cs->calls) < 0 || add_to_attr(cs->cmd, s_usec, cs->usec) < 0))
            rc = -1;
        if (rc == 0) {
            PyObject *latency = PyObject_GetAttr(cs->cmd, s_latency_us);
            if (latency == NULL)
                rc = -1;
            else {
                if (PyDict_Check(latency))
                    for (int e = 0; e < LAT_BUCKETS && rc == 0; e++)
                        if (cs->latency[e] && latency_add(latency, e, cs->latency[e]) < 0)
                            rc = -1;
                Py_DECREF(latency);
            }
        }
    }
    st->ncmds = 0;
    if (st->total) {
        if (rc == 0 && add_to_attr(engine_stats, s_total_commands_processed, st->total) < 0)
            rc = -1;
        if (rc == 0) {
            PyObject *old = slot_get(client, off_commands_processed);
            PyObject *d = PyLong_FromLongLong(st->total);
            PyObject *sum = (old == NULL || d == NULL) ? NULL : PyNumber_Add(old, d);
            Py_XDECREF(d);
            if (sum == NULL)
                rc = -1;
            else {
                slot_set(client, off_commands_processed, sum);
                Py_DECREF(sum);
            }
        }
        st->total = 0;
    }
    return rc;
}

/* Count one call; a duration past the batched buckets is added to the histogram at once. */
static int stats_add(Stats *st, PyObject *cmd, long long elapsed_us, PyObject *engine_stats, PyObject *client) {
    CmdStats *cs = NULL;
    for (int i = 0; i < st->ncmds; i++)
        if (st->cmds[i].cmd == cmd) {
            cs = &st->cmds[i];
            break;
        }
    if (cs == NULL) {
        if (st->ncmds == STAT_CMDS && stats_flush(st, engine_stats, client) < 0)
            return -1;
        cs = &st->cmds[st->ncmds++];
        memset(cs, 0, sizeof *cs);
        cs->cmd = cmd;
    }
    cs->calls++;
    cs->usec += elapsed_us;
    st->total++;
    if (elapsed_us < LAT_BUCKETS) {
        cs->latency[elapsed_us]++;
        return 0;
    }
    PyObject *latency = PyObject_GetAttr(cmd, s_latency_us);
    if (latency == NULL)
        return -1;
    int rc = PyDict_Check(latency) ? latency_add(latency, elapsed_us, 1) : 0;
    Py_DECREF(latency);
    return rc;
}

/* ---- handlers in C --------------------------------------------------------------------- */
/*
 * The plain case of the benchmarked commands whose Python handlers cost the most runs
 * here instead of in Python: INCR/DECR of an integer string and HSET of a hash, each
 * doing exactly what its Python handler does in that case (engine/types/string.py
 * incr_command/incr_decr and set_command without options, engine/types/hash.py hset_command
 * and HashValue.set, engine/types/list.py lpush_command/rpush_command's inline case,
 * engine/pubsub.py publish_command with nobody to hear it). Anything
 * else -- a missing key, a key with a TTL, a wrong type, a value that is not a short
 * canonical integer, an encoding conversion, a listpack field or value needing escapes,
 * anyone listening to changes (WATCH, client tracking, keyspace events), a wrong number
 * of arguments -- is detected before anything changes, and the Python handler runs as
 * usual. Whatever happens around the handler (counters, propagation, hooks) stays in
 * run(). tests/perf compares the result with the pure-Python path.
 */
static PyObject *incr_fn, *decr_fn, *hset_fn, *set_fn, *publish_fn, *lpush_fn, *rpush_fn, *shared_values;
static Py_ssize_t shared_max_len, shared_max_count;
static PyTypeObject *database_type, *hash_type, *list_type;
static Py_ssize_t off_list_head, off_list_tail;
static Py_ssize_t off_client_db, off_db_data, off_db_expires, off_db_scan_index, off_db_blocking_keys;
static Py_ssize_t off_hash_blob, off_hash_count, off_hash_table, off_hash_scan_index;
static PyObject *s_key_modified_hooks, *s_notify_flags, *s_config, *s_values, *s_hash_max_entries, *s_hash_max_value;
static PyObject *s_extensions, *s_pubsub, *s_channels, *s_patterns;
static int fast_configured = 0;

#define NEEDLE_STACK 256

/* Per run() call: the config values the fast handlers read. CONFIG SET is not a hot
 * command, so they cannot change before run() returns. */
typedef struct {
    int limits_loaded;
    long long hash_max_entries, hash_max_value;     /* -1: not usable here (Python handles it) */
} FastCtx;

static inline PyObject *edict_get(PyObject *edict, PyObject *name);

/* 1 when nothing listens to key changes (engine.key_modified_hooks empty: no WATCH, no
 * tracking; engine.notify_flags 0: no keyspace events), 0 otherwise, -1 on error. */
static int no_listeners(PyObject *edict) {
    PyObject *hooks = edict_get(edict, s_key_modified_hooks);
    PyObject *flags = hooks == NULL ? NULL : edict_get(edict, s_notify_flags);
    if (flags == NULL)
        return -1;
    if (!PyList_CheckExact(hooks) || PyList_GET_SIZE(hooks) != 0)
        return 0;
    int set = PyObject_IsTrue(flags);
    return set < 0 ? -1 : !set;
}

/* engine.dirty += n */
static int add_dirty(PyObject *edict, long long n) {
    PyObject *dirty = edict_get(edict, s_dirty);
    if (dirty == NULL)
        return -1;
    PyObject *d = PyLong_FromLongLong(n);
    PyObject *sum = d == NULL ? NULL : PyNumber_Add(dirty, d);
    Py_XDECREF(d);
    if (sum == NULL)
        return -1;
    int rc = PyDict_SetItem(edict, s_dirty, sum);
    Py_DECREF(sum);
    return rc;
}

/* The value at key in the client's database (borrowed) and that database's data dict:
 * 1 if the key exists without a TTL, 0 otherwise (the Python handler's lookup may have
 * to expire it), -1 on error. */
static int lookup_plain(PyObject *client, PyObject *key, PyObject **data_out, PyObject **value_out) {
    PyObject *db = slot_get(client, off_client_db);
    if (db == NULL || Py_TYPE(db) != database_type)
        return 0;
    PyObject *data = slot_get(db, off_db_data), *expires = slot_get(db, off_db_expires);
    if (data == NULL || expires == NULL || !PyDict_CheckExact(data) || !PyDict_CheckExact(expires))
        return 0;
    PyObject *value = PyDict_GetItemWithError(data, key);
    if (value == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (PyDict_GET_SIZE(expires) != 0) {
        int has_ttl = PyDict_Contains(expires, key);
        if (has_ttl != 0)
            return has_ttl < 0 ? -1 : 0;
    }
    *data_out = data;
    *value_out = value;
    return 1;
}

/* INCR (delta 1) / DECR (delta -1) of an existing string spelling a canonical integer of
 * at most 18 digits (so that adding 1 cannot overflow): incr_decr's steps for it. */
static int fast_incr(PyObject *edict, PyObject *client, PyObject *argv, long long delta, PyObject **reply) {
    if (PyList_GET_SIZE(argv) != 2)
        return 0;
    PyObject *key = PyList_GET_ITEM(argv, 1), *data, *value;
    int rc = lookup_plain(client, key, &data, &value);
    if (rc <= 0)
        return rc;
    if (!PyBytes_CheckExact(value))
        return 0;
    const char *s = PyBytes_AS_STRING(value);
    Py_ssize_t n = PyBytes_GET_SIZE(value);
    int negative = n > 0 && s[0] == '-';
    const char *digits = s + negative;
    Py_ssize_t ndigits = n - negative;
    /* string2ll's canonical form: no sign but '-', no leading zero, no "-0". */
    if (ndigits < 1 || ndigits > 18 || (digits[0] == '0' && (ndigits > 1 || negative)))
        return 0;
    long long number = 0;
    for (Py_ssize_t i = 0; i < ndigits; i++) {
        if (digits[i] < '0' || digits[i] > '9')
            return 0;
        number = number * 10 + (digits[i] - '0');
    }
    if (negative)
        number = -number;
    rc = no_listeners(edict);
    if (rc <= 0)
        return rc;
    long long result = number + delta;
    char text[24];
    Py_ssize_t len = format_header(text, ' ', result) - 3;     /* the digits between ' ' and CRLF */
    PyObject *stored = PyBytes_FromStringAndSize(text + 1, len);
    PyObject *r = stored == NULL ? NULL : PyLong_FromLongLong(result);
    if (r == NULL || PyDict_SetItem(data, key, stored) < 0 || add_dirty(edict, 1) < 0) {
        Py_XDECREF(stored);
        Py_XDECREF(r);
        return -1;
    }
    Py_DECREF(stored);
    *reply = r;
    return 1;
}

/* SET key value (set_command without options): the value replaces whatever the key held,
 * short values shared through string.py's _SHARED table (shared_value). Not taken when the
 * key has a TTL (it may have expired: Python's lookup deletes it first), during a SCAN
 * (its index learns of new keys), with clients blocked on keys, or with listeners. */
static int fast_set(PyObject *edict, PyObject *client, PyObject *argv, PyObject **reply) {
    if (PyList_GET_SIZE(argv) != 3)
        return 0;
    PyObject *db = slot_get(client, off_client_db);
    if (db == NULL || Py_TYPE(db) != database_type)
        return 0;
    PyObject *data = slot_get(db, off_db_data), *expires = slot_get(db, off_db_expires);
    PyObject *scan_index = slot_get(db, off_db_scan_index), *blocking = slot_get(db, off_db_blocking_keys);
    if (data == NULL || expires == NULL || !PyDict_CheckExact(data) || !PyDict_CheckExact(expires) ||
        scan_index != Py_None || blocking == NULL || !PyDict_CheckExact(blocking) || PyDict_GET_SIZE(blocking))
        return 0;
    PyObject *key = PyList_GET_ITEM(argv, 1), *value = PyList_GET_ITEM(argv, 2);
    if (PyDict_GET_SIZE(expires) != 0) {
        int has_ttl = PyDict_Contains(expires, key);
        if (has_ttl != 0)
            return has_ttl < 0 ? -1 : 0;
    }
    int rc = no_listeners(edict);
    if (rc <= 0)
        return rc;
    if (PyBytes_GET_SIZE(value) <= shared_max_len) {
        PyObject *shared = PyDict_GetItemWithError(shared_values, value);
        if (shared != NULL)
            value = shared;
        else if (PyErr_Occurred())
            return -1;
        else if (PyDict_GET_SIZE(shared_values) < shared_max_count && PyDict_SetItem(shared_values, value, value) < 0)
            return -1;
    }
    if (PyDict_SetItem(data, key, value) < 0 || add_dirty(edict, 1) < 0)
        return -1;
    Py_INCREF(OK_obj);
    *reply = OK_obj;
    return 1;
}

/* PUBLISH channel message when no client is subscribed to the channel or to any pattern and
 * nothing consumes propagation: 0 receivers, and nothing else happens (publish_command's
 * forced propagation would reach no one: Engine._propagate only resets its state). */
static int fast_publish(PyObject *edict, PyObject *argv, PyObject **reply) {
    if (PyList_GET_SIZE(argv) != 3)
        return 0;
    PyObject *consumers = edict_get(edict, s_propagation_consumers);
    PyObject *extensions = consumers == NULL ? NULL : edict_get(edict, s_extensions);
    if (extensions == NULL)
        return -1;
    if (!PyList_CheckExact(consumers) || PyList_GET_SIZE(consumers) || !PyDict_CheckExact(extensions))
        return 0;
    PyObject *pubsub = PyDict_GetItemWithError(extensions, s_pubsub);
    if (pubsub == NULL)
        return PyErr_Occurred() ? -1 : 0;
    PyObject *channels = PyObject_GetAttr(pubsub, s_channels);
    PyObject *patterns = channels == NULL ? NULL : PyObject_GetAttr(pubsub, s_patterns);
    int rc = -1;
    if (patterns != NULL) {
        rc = 0;
        if (PyDict_CheckExact(channels) && PyDict_CheckExact(patterns) && PyDict_GET_SIZE(patterns) == 0) {
            PyObject *subscribers = PyDict_GetItemWithError(channels, PyList_GET_ITEM(argv, 1));
            if (subscribers == NULL && PyErr_Occurred())
                rc = -1;
            else if (subscribers == NULL || (PyDict_CheckExact(subscribers) && PyDict_GET_SIZE(subscribers) == 0)) {
                *reply = PyLong_FromLong(0);
                rc = *reply == NULL ? -1 : 1;
            }
        }
    }
    Py_XDECREF(channels);
    Py_XDECREF(patterns);
    return rc;
}

/* LPUSH/RPUSH key element [element ...] onto an existing list, in a database without any TTL
 * and with nothing listening: the elements go to the end of ListValue.head (LPUSH, which
 * holds the first elements reversed) or .tail (RPUSH), as the Python handlers' inline case
 * does. (An existing list has no client blocked on it.) */
static int fast_push(PyObject *edict, PyObject *client, PyObject *argv, int left, PyObject **reply) {
    Py_ssize_t argc = PyList_GET_SIZE(argv);
    PyObject *db = slot_get(client, off_client_db);
    if (argc < 3 || db == NULL || Py_TYPE(db) != database_type)
        return 0;
    PyObject *data = slot_get(db, off_db_data), *expires = slot_get(db, off_db_expires);
    if (data == NULL || expires == NULL || !PyDict_CheckExact(data) || !PyDict_CheckExact(expires) ||
        PyDict_GET_SIZE(expires) != 0)
        return 0;
    PyObject *value = PyDict_GetItemWithError(data, PyList_GET_ITEM(argv, 1));
    if (value == NULL)
        return PyErr_Occurred() ? -1 : 0;
    if (Py_TYPE(value) != list_type)
        return 0;
    PyObject *head = slot_get(value, off_list_head), *tail = slot_get(value, off_list_tail);
    if (head == NULL || tail == NULL || !PyList_CheckExact(head) || !PyList_CheckExact(tail))
        return 0;
    int rc = no_listeners(edict);
    if (rc <= 0)
        return rc;
    PyObject *side = left ? head : tail;
    for (Py_ssize_t i = 2; i < argc; i++)
        if (PyList_Append(side, PyList_GET_ITEM(argv, i)) < 0)
            return -1;
    PyObject *r = PyLong_FromSsize_t(PyList_GET_SIZE(head) + PyList_GET_SIZE(tail));
    if (r == NULL || add_dirty(edict, argc - 2) < 0) {
        Py_XDECREF(r);
        return -1;
    }
    *reply = r;
    return 1;
}

/* hash-max-listpack-entries / -value, once per run() call. */
static int load_hash_limits(PyObject *edict, FastCtx *ctx) {
    if (ctx->limits_loaded)
        return 0;
    ctx->limits_loaded = 1;
    ctx->hash_max_entries = ctx->hash_max_value = -1;
    PyObject *config = edict_get(edict, s_config);
    if (config == NULL)
        return -1;
    PyObject *values = PyObject_GetAttr(config, s_values);
    if (values == NULL)
        return -1;
    if (PyDict_CheckExact(values)) {
        PyObject *entries = PyDict_GetItemWithError(values, s_hash_max_entries);
        PyObject *size = entries == NULL ? NULL : PyDict_GetItemWithError(values, s_hash_max_value);
        if (size != NULL && PyLong_CheckExact(entries) && PyLong_CheckExact(size)) {
            int overflow_entries, overflow_size;
            long long e = PyLong_AsLongLongAndOverflow(entries, &overflow_entries);
            long long v = PyLong_AsLongLongAndOverflow(size, &overflow_size);
            if (!overflow_entries && !overflow_size && e >= 0 && v >= 0) {
                ctx->hash_max_entries = e;
                ctx->hash_max_value = v;
            }
        }
    }
    Py_DECREF(values);
    return PyErr_Occurred() ? -1 : 0;
}

/* A listpack field or value may be stored as is: no byte the blob format escapes. */
static inline int plain_listpack_bytes(PyObject *b) {
    const unsigned char *p = (const unsigned char *)PyBytes_AS_STRING(b);
    Py_ssize_t n = PyBytes_GET_SIZE(b);
    for (Py_ssize_t i = 0; i < n; i++)
        if (p[i] <= 2)
            return 0;
    return 1;
}

/* HSET into a small hash's blob (HashValue.set without escapes or conversion): a new blob
 * with field set to value; *created is set to 1 if the field was new. NULL on error. */
static PyObject *blob_set(PyObject *blob, PyObject *field, PyObject *val, int *created) {
    const char *data = PyBytes_AS_STRING(blob);
    Py_ssize_t size = PyBytes_GET_SIZE(blob);
    Py_ssize_t flen = PyBytes_GET_SIZE(field), vlen = PyBytes_GET_SIZE(val);
    char stack[NEEDLE_STACK + 2];
    char *needle = flen <= NEEDLE_STACK ? stack : PyMem_Malloc(flen + 2);
    if (needle == NULL)
        return PyErr_NoMemory();
    needle[0] = '\0';
    memcpy(needle + 1, PyBytes_AS_STRING(field), flen);
    needle[flen + 1] = '\1';
    const char *hit = size >= flen + 2 ? memmem(data, size, needle, flen + 2) : NULL;
    PyObject *result;
    if (hit != NULL) {
        Py_ssize_t start = hit - data + flen + 2;
        const char *next = memchr(data + start, '\0', size - start);
        Py_ssize_t end = next == NULL ? size : next - data;
        result = PyBytes_FromStringAndSize(NULL, size - (end - start) + vlen);
        if (result != NULL) {
            char *out = PyBytes_AS_STRING(result);
            memcpy(out, data, start);
            memcpy(out + start, PyBytes_AS_STRING(val), vlen);
            memcpy(out + start + vlen, data + end, size - end);
        }
        *created = 0;
    } else {
        result = PyBytes_FromStringAndSize(NULL, size + flen + 2 + vlen);
        if (result != NULL) {
            char *out = PyBytes_AS_STRING(result);
            memcpy(out, data, size);
            memcpy(out + size, needle, flen + 2);
            memcpy(out + size + flen + 2, PyBytes_AS_STRING(val), vlen);
        }
        *created = 1;
    }
    if (needle != stack)
        PyMem_Free(needle);
    return result;
}

/* HSET key field value [field value ...] on an existing hash (hset_command). */
static int fast_hset(PyObject *edict, FastCtx *ctx, PyObject *client, PyObject *argv, PyObject **reply) {
    Py_ssize_t argc = PyList_GET_SIZE(argv);
    if (argc < 4 || argc % 2)
        return 0;
    PyObject *key = PyList_GET_ITEM(argv, 1), *data, *value;
    int rc = lookup_plain(client, key, &data, &value);
    if (rc <= 0)
        return rc;
    if (Py_TYPE(value) != hash_type)
        return 0;
    rc = no_listeners(edict);
    if (rc <= 0)
        return rc;
    PyObject *table = slot_get(value, off_hash_table);
    if (table == NULL)
        return 0;
    Py_ssize_t pairs = (argc - 2) / 2;
    long long created = 0;
    if (table != Py_None) {
        /* The hashtable encoding: a dict. */
        if (!PyDict_CheckExact(table))
            return 0;
        slot_set(value, off_hash_scan_index, Py_None);
        for (Py_ssize_t i = 2; i < argc; i += 2) {
            PyObject *field = PyList_GET_ITEM(argv, i);
            int present = PyDict_Contains(table, field);
            if (present < 0 || PyDict_SetItem(table, field, PyList_GET_ITEM(argv, i + 1)) < 0)
                return -1;
            created += !present;
        }
    } else {
        /* The listpack encoding: taken only when no field can convert the hash. */
        if (load_hash_limits(edict, ctx) < 0)
            return -1;
        PyObject *blob = slot_get(value, off_hash_blob), *count_obj = slot_get(value, off_hash_count);
        if (ctx->hash_max_entries < 0 || blob == NULL || count_obj == NULL || !PyBytes_CheckExact(blob) ||
            !PyLong_CheckExact(count_obj))
            return 0;
        long long count = PyLong_AsLongLong(count_obj);
        if (count == -1 && PyErr_Occurred())
            return -1;
        if (count + pairs > ctx->hash_max_entries)
            return 0;
        for (Py_ssize_t i = 2; i < argc; i++) {
            PyObject *arg = PyList_GET_ITEM(argv, i);
            if (PyBytes_GET_SIZE(arg) > ctx->hash_max_value || !plain_listpack_bytes(arg))
                return 0;
        }
        Py_INCREF(blob);
        for (Py_ssize_t i = 2; i < argc; i += 2) {
            int is_new = 0;
            PyObject *next = blob_set(blob, PyList_GET_ITEM(argv, i), PyList_GET_ITEM(argv, i + 1), &is_new);
            Py_DECREF(blob);
            if (next == NULL)
                return -1;
            blob = next;
            created += is_new;
        }
        slot_set(value, off_hash_blob, blob);
        Py_DECREF(blob);
        if (created) {
            PyObject *new_count = PyLong_FromLongLong(count + created);
            if (new_count == NULL)
                return -1;
            slot_set(value, off_hash_count, new_count);
            Py_DECREF(new_count);
        }
    }
    PyObject *r = PyLong_FromLongLong(created);
    if (r == NULL || add_dirty(edict, pairs) < 0) {
        Py_XDECREF(r);
        return -1;
    }
    *reply = r;
    return 1;
}

/* Run handler's C version if it has one: 1 with *reply set, 0 if the Python handler must
 * run (nothing was changed), -1 on error. */
static inline int run_fast(PyObject *handler, PyObject *edict, FastCtx *ctx, PyObject *client, PyObject *argv,
                           PyObject **reply) {
    if (!fast_configured)
        return 0;
    if (handler == incr_fn)
        return fast_incr(edict, client, argv, 1, reply);
    if (handler == hset_fn)
        return fast_hset(edict, ctx, client, argv, reply);
    if (handler == set_fn)
        return fast_set(edict, client, argv, reply);
    if (handler == publish_fn)
        return fast_publish(edict, argv, reply);
    if (handler == lpush_fn)
        return fast_push(edict, client, argv, 1, reply);
    if (handler == rpush_fn)
        return fast_push(edict, client, argv, 0, reply);
    if (handler == decr_fn)
        return fast_incr(edict, client, argv, -1, reply);
    return 0;
}


/* ---- the loop ------------------------------------------------------------------------ */

static PyObject *call_method(PyObject *obj, PyObject *name, PyObject *const *args, size_t nargs) {
    PyObject *stack[6];
    stack[0] = obj;
    for (size_t i = 0; i < nargs; i++)
        stack[i + 1] = args[i];
    return PyObject_VectorcallMethod(name, stack, (nargs + 1) | PY_VECTORCALL_ARGUMENTS_OFFSET, NULL);
}

/* engine_dict[name] (borrowed), or NULL with an AttributeError. */
static inline PyObject *edict_get(PyObject *edict, PyObject *name) {
    PyObject *v = PyDict_GetItemWithError(edict, name);
    if (v == NULL && !PyErr_Occurred())
        PyErr_SetObject(PyExc_AttributeError, name);
    return v;
}

/* After a command whose dirty count changed or that asked for more propagation:
 * Engine._propagate when anything is pending (it resets the pending state). */
static int maybe_propagate(PyObject *engine, PyObject *edict, PyObject *client, PyObject *cmd, PyObject *argv,
                           PyObject *dirty0) {
    PyObject *dirty = edict_get(edict, s_dirty);
    PyObject *also = edict_get(edict, s_also);
    if (dirty == NULL || also == NULL)
        return -1;
    int changed = dirty != dirty0;
    if (changed) {
        changed = PyObject_RichCompareBool(dirty, dirty0, Py_NE);
        if (changed < 0)
            return -1;
    }
    int also_pending = PyList_Check(also) ? PyList_GET_SIZE(also) > 0 : PyObject_IsTrue(also);
    if (!changed && !also_pending)
        return 0;
    PyObject *consumers = edict_get(edict, s_propagation_consumers);
    PyObject *rewritten = edict_get(edict, s_rewritten);
    PyObject *prevent = edict_get(edict, s_prevent);
    if (consumers == NULL || rewritten == NULL || prevent == NULL)
        return -1;
    int pending = also_pending || rewritten != Py_None || PyObject_IsTrue(prevent) || PyObject_IsTrue(consumers);
    if (!pending)
        return 0;
    /* Whether the command changed the dataset: a command that changed nothing is not itself
     * propagated, even when effects are pending (the DEL of a key it found expired). */
    PyObject *args[4] = {client, cmd, argv, changed ? Py_True : Py_False};
    PyObject *r = call_method(engine, s_propagate, args, 4);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* run(parser, engine, client, table, out) -> (pos, argv, reply); see the top of the file. */
static PyObject *run(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError, "run(parser, engine, client, table, out)");
        return NULL;
    }
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "specredis._hotloop is not configured");
        return NULL;
    }
    PyObject *parser = args[0], *engine = args[1], *client = args[2], *table = args[3], *out = args[4];
    if (Py_TYPE(parser) != parser_type || Py_TYPE(client) != client_type || !PyDict_CheckExact(table) ||
        !PyList_CheckExact(out)) {
        PyErr_SetString(PyExc_TypeError, "run: unexpected argument types");
        return NULL;
    }
    PyObject *bufobj = slot_get(parser, off_buf), *posobj = slot_get(parser, off_pos);
    if (bufobj == NULL || posobj == NULL || !PyBytes_CheckExact(bufobj)) {
        PyErr_SetString(PyExc_TypeError, "run: the parser's buffer is not bytes");
        return NULL;
    }
    Py_INCREF(bufobj);      /* handlers cannot reach the parser, but keep the buffer alive anyway */
    const char *data = PyBytes_AS_STRING(bufobj);
    Py_ssize_t size = PyBytes_GET_SIZE(bufobj);
    Py_ssize_t pos = PyLong_AsSsize_t(posobj);
    if (pos == -1 && PyErr_Occurred()) {
        Py_DECREF(bufobj);
        return NULL;
    }

    PyObject *edict = PyObject_GenericGetDict(engine, NULL);
    PyObject *engine_stats = edict == NULL ? NULL : PyDict_GetItemWithError(edict, s_stats);
    if (engine_stats == NULL) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_AttributeError, "engine.stats");
        Py_XDECREF(edict);
        Py_DECREF(bufobj);
        return NULL;
    }
    Py_INCREF(engine_stats);

    Buf b = {NULL, 0, 0};
    Stats st;
    st.ncmds = 0;
    st.total = 0;
    PyObject *result_argv = NULL, *result_reply = NULL;
    int failed = 0;
    FastCtx fast_ctx = {0, -1, -1};

    /* Engine-wide state no hot command changes: read once per run. */
    PyObject *gated = edict_get(edict, s_gated);
    PyObject *slow_us_obj = gated == NULL ? NULL : edict_get(edict, s_slow_us);
    PyObject *after_hooks = slow_us_obj == NULL ? NULL : edict_get(edict, s_after_command_hooks);
    PyObject *handle_ready = after_hooks == NULL ? NULL : edict_get(edict, s_handle_ready_keys);
    long long slow_us = slow_us_obj == NULL ? 0 : PyLong_AsLongLong(slow_us_obj);
    int gate_active = gated == NULL ? 1 : PyObject_IsTrue(gated);
    if (handle_ready == NULL || (slow_us == -1 && PyErr_Occurred()) || gate_active < 0 ||
        !PyList_Check(after_hooks)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "engine.after_command_hooks is not a list");
        failed = 1;
        goto done;
    }
    if (gate_active)
        goto done;

    while (pos < size) {
        if (b.len >= FLUSH_BYTES)
            break;
        Py_ssize_t end_pos;
        PyObject *argv = data[pos] == '*' ? parse_frame(data, size, pos, &end_pos)
                                          : parse_inline(data, size, pos, &end_pos);
        if (argv == NULL) {
            if (PyErr_Occurred())
                failed = 1;
            break;
        }
        PyObject *entry = PyDict_GetItemWithError(table, PyList_GET_ITEM(argv, 0));
        PyObject *flags_obj = slot_get(client, off_flags);
        PyObject *auth = slot_get(client, off_authenticated);
        long flags = flags_obj == NULL ? -1 : PyLong_AsLong(flags_obj);
        Py_ssize_t argc = PyList_GET_SIZE(argv);
        Py_ssize_t arity = entry == NULL ? 0 : PyLong_AsSsize_t(PyTuple_GET_ITEM(entry, 2));
        if (entry == NULL || flags < 0 || (flags & flag_gate_mask) || auth != Py_True ||
            (arity != argc && (arity > 0 || argc < -arity))) {
            if (PyErr_Occurred()) {
                Py_DECREF(argv);
                failed = 1;
                break;
            }
            /* Not for the hot path (not a hot command, a gate to check, or the wrong
             * number of arguments): Engine.execute gives the same answer the long way. */
            pos = end_pos;
            result_argv = argv;
            result_reply = NOT_RUN_obj;
            Py_INCREF(result_reply);
            break;
        }
        pos = end_pos;
        PyObject *cmd = PyTuple_GET_ITEM(entry, 0), *handler = PyTuple_GET_ITEM(entry, 1);

        /* execute(): the client's current request. */
        if (PyDict_SetItem(edict, s_current_client, client) < 0) {
            Py_DECREF(argv);
            failed = 1;
            break;
        }
        slot_set(client, off_last_command, cmd);
        /* call() */
        PyObject *dirty0 = edict_get(edict, s_dirty);
        if (dirty0 == NULL) {
            Py_DECREF(argv);
            failed = 1;
            break;
        }
        Py_INCREF(dirty0);
        slot_set(client, off_current_command, cmd);
        long long start = now_ns();
        PyObject *hargs[2] = {client, argv};
        PyObject *reply = NULL;
        int fast = run_fast(handler, edict, &fast_ctx, client, argv, &reply);
        if (fast == 0)
            reply = PyObject_Vectorcall(handler, hargs, 2, NULL);
        if (reply == NULL) {
            if (!PyErr_ExceptionMatches(RedisError_type)) {
                Py_DECREF(dirty0);
                Py_DECREF(argv);
                failed = 1;
                break;
            }
            PyObject *type, *value, *tb;
            PyErr_Fetch(&type, &value, &tb);
            PyErr_NormalizeException(&type, &value, &tb);
            Py_XDECREF(type);
            Py_XDECREF(tb);
            if (add_to_attr(cmd, s_failed_calls, 1) == 0) {
                PyObject *eargs[1] = {value};
                reply = call_method(engine, s_error_reply, eargs, 1);
            }
            Py_XDECREF(value);
            if (reply == NULL) {
                Py_DECREF(dirty0);
                Py_DECREF(argv);
                failed = 1;
                break;
            }
        }
        long long elapsed_us = (now_ns() - start) / 1000;
        int rc = stats_add(&st, cmd, elapsed_us, engine_stats, client);
        if (rc == 0)
            rc = maybe_propagate(engine, edict, client, cmd, argv, dirty0);
        Py_DECREF(dirty0);
        if (rc == 0 && elapsed_us >= slow_us) {
            PyObject *e = PyLong_FromLongLong(elapsed_us);
            PyObject *hargs4[4] = {client, cmd, argv, e};
            PyObject *r = e == NULL ? NULL : call_method(engine, s_run_slow_hooks, hargs4, 4);
            Py_XDECREF(e);
            if (r == NULL)
                rc = -1;
            Py_XDECREF(r);
        }
        if (rc == 0 && PyList_GET_SIZE(after_hooks) > 0) {
            PyObject *e = PyLong_FromLongLong(elapsed_us);
            PyObject *hargs4[4] = {client, cmd, argv, e};
            PyObject *r = e == NULL ? NULL : call_method(engine, s_run_after_command_hooks, hargs4, 4);
            Py_XDECREF(e);
            if (r == NULL)
                rc = -1;
            Py_XDECREF(r);
        }
        if (rc == 0) {
            PyObject *ready = edict_get(edict, s_ready_keys);
            if (ready == NULL)
                rc = -1;
            else if (handle_ready != Py_None && PyObject_IsTrue(ready)) {
                PyObject *r = PyObject_CallNoArgs(handle_ready);
                if (r == NULL)
                    rc = -1;
                Py_XDECREF(r);
            }
        }
        if (rc < 0) {
            Py_DECREF(reply);
            Py_DECREF(argv);
            failed = 1;
            break;
        }
        /* The server's reply handling (Connection._run_batch). */
        flags_obj = slot_get(client, off_flags);
        flags = flags_obj == NULL ? -1 : PyLong_AsLong(flags_obj);
        PyObject *skip = slot_get(client, off_skip_next_reply), *mode = slot_get(client, off_reply_mode);
        int mode_on = mode == str_on || (mode != NULL && PyUnicode_Check(mode) &&
                                        PyUnicode_Compare(mode, str_on) == 0);
        if (reply == NO_REPLY_obj || flags < 0 || (flags & flag_slow_mask) || skip != Py_False || !mode_on) {
            if (PyErr_Occurred()) {
                Py_DECREF(reply);
                Py_DECREF(argv);
                failed = 1;
                break;
            }
            result_argv = argv;
            result_reply = reply;
            break;
        }
        PyObject *resp_obj = slot_get(client, off_resp);
        int resp3 = resp_obj != NULL && PyLong_Check(resp_obj) && PyLong_AsLong(resp_obj) == 3;
        rc = encode_simple(&b, reply, resp3);
        if (rc == 0) {
            if (buf_flush(&b, out) < 0)
                rc = -1;
            else {
                PyObject *r = PyObject_CallFunctionObjArgs(encode_into_fn, out, reply, resp_obj, NULL);
                rc = r == NULL ? -1 : 1;
                Py_XDECREF(r);
            }
        }
        Py_DECREF(reply);
        Py_DECREF(argv);
        if (rc < 0) {
            failed = 1;
            break;
        }
    }

done:;
    /* Whatever happened, the counters and output of the requests that ran are kept, and
     * the parser resumes after them. */
    PyObject *exc_type = NULL, *exc_value = NULL, *exc_tb = NULL;
    if (failed)
        PyErr_Fetch(&exc_type, &exc_value, &exc_tb);
    int flush_failed = stats_flush(&st, engine_stats, client) < 0;
    flush_failed |= buf_flush(&b, out) < 0;
    PyMem_Free(b.data);
    PyObject *pos_obj = PyLong_FromSsize_t(pos);
    if (pos_obj != NULL) {
        slot_set(parser, off_pos, pos_obj);
    }
    Py_DECREF(engine_stats);
    Py_DECREF(edict);
    Py_DECREF(bufobj);
    if (failed) {
        Py_XDECREF(pos_obj);
        Py_XDECREF(result_argv);
        Py_XDECREF(result_reply);
        if (flush_failed)
            PyErr_Clear();
        PyErr_Restore(exc_type, exc_value, exc_tb);
        return NULL;
    }
    if (pos_obj == NULL || flush_failed) {
        Py_XDECREF(pos_obj);
        Py_XDECREF(result_argv);
        Py_XDECREF(result_reply);
        return NULL;
    }
    if (result_argv == NULL) {
        result_argv = Py_None;
        result_reply = Py_None;
        Py_INCREF(Py_None);
        Py_INCREF(Py_None);
    }
    PyObject *result = PyTuple_Pack(3, pos_obj, result_argv, result_reply);
    Py_DECREF(pos_obj);
    Py_DECREF(result_argv);
    Py_DECREF(result_reply);
    return result;
}

/* configure(Client, RequestParser, gate_mask, slow_mask, OK, PONG, NO_REPLY, NOT_RUN, RedisError, encode_into) */
static PyObject *configure(PyObject *self, PyObject *args) {
    PyObject *ctype, *ptype, *ok, *pong, *noreply, *notrun, *rerr, *enc;
    long gate_mask, slow_mask;
    if (!PyArg_ParseTuple(args, "O!O!llOOOOOO", &PyType_Type, &ctype, &PyType_Type, &ptype, &gate_mask, &slow_mask,
                          &ok, &pong, &noreply, &notrun, &rerr, &enc))
        return NULL;
    client_type = (PyTypeObject *)ctype;
    parser_type = (PyTypeObject *)ptype;
    if ((off_flags = member_offset(client_type, "flags")) < 0 ||
        (off_authenticated = member_offset(client_type, "authenticated")) < 0 ||
        (off_resp = member_offset(client_type, "resp")) < 0 ||
        (off_reply_mode = member_offset(client_type, "reply_mode")) < 0 ||
        (off_skip_next_reply = member_offset(client_type, "skip_next_reply")) < 0 ||
        (off_current_command = member_offset(client_type, "current_command")) < 0 ||
        (off_last_command = member_offset(client_type, "last_command")) < 0 ||
        (off_commands_processed = member_offset(client_type, "commands_processed")) < 0 ||
        (off_buf = member_offset(parser_type, "_buf")) < 0 || (off_pos = member_offset(parser_type, "_pos")) < 0)
        return NULL;
    Py_INCREF(ctype);
    Py_INCREF(ptype);
    flag_gate_mask = gate_mask;
    flag_slow_mask = slow_mask;
    PyObject **slots[] = {&OK_obj, &PONG_obj, &NO_REPLY_obj, &NOT_RUN_obj, &RedisError_type, &encode_into_fn};
    PyObject *values[] = {ok, pong, noreply, notrun, rerr, enc};
    for (int i = 0; i < 6; i++) {
        Py_INCREF(values[i]);
        Py_XSETREF(*slots[i], values[i]);
    }
    configured = 1;
    Py_RETURN_NONE;
}

/* configure_fast(incr_command, decr_command, hset_command, Database, HashValue, set_command,
 * shared_values, shared_max_len, shared_max_count, publish_command, lpush_command, rpush_command,
 * ListValue): the Python handlers that have a C version here, the classes whose slots those
 * read, and SET's table of shared short values. */
static PyObject *configure_fast(PyObject *self, PyObject *args) {
    PyObject *incr, *decr, *hset, *dbtype, *htype, *set, *shared, *publish, *lpush, *rpush, *ltype;
    Py_ssize_t max_len, max_count;
    if (!PyArg_ParseTuple(args, "OOOO!O!OO!nnOOOO!", &incr, &decr, &hset, &PyType_Type, &dbtype, &PyType_Type, &htype,
                          &set, &PyDict_Type, &shared, &max_len, &max_count, &publish, &lpush, &rpush, &PyType_Type,
                          &ltype))
        return NULL;
    if (!configured) {
        PyErr_SetString(PyExc_RuntimeError, "configure() first");
        return NULL;
    }
    fast_configured = 0;
    if ((off_client_db = member_offset(client_type, "db")) < 0 ||
        (off_db_data = member_offset((PyTypeObject *)dbtype, "data")) < 0 ||
        (off_db_expires = member_offset((PyTypeObject *)dbtype, "expires")) < 0 ||
        (off_db_scan_index = member_offset((PyTypeObject *)dbtype, "scan_index")) < 0 ||
        (off_db_blocking_keys = member_offset((PyTypeObject *)dbtype, "blocking_keys")) < 0 ||
        (off_hash_blob = member_offset((PyTypeObject *)htype, "blob")) < 0 ||
        (off_hash_count = member_offset((PyTypeObject *)htype, "count")) < 0 ||
        (off_hash_table = member_offset((PyTypeObject *)htype, "table")) < 0 ||
        (off_hash_scan_index = member_offset((PyTypeObject *)htype, "scan_index")) < 0 ||
        (off_list_head = member_offset((PyTypeObject *)ltype, "head")) < 0 ||
        (off_list_tail = member_offset((PyTypeObject *)ltype, "tail")) < 0)
        return NULL;
    PyObject **slots[] = {&incr_fn, &decr_fn, &hset_fn, (PyObject **)&database_type, (PyObject **)&hash_type,
                          &set_fn, &shared_values, &publish_fn, &lpush_fn, &rpush_fn, (PyObject **)&list_type};
    PyObject *values[] = {incr, decr, hset, dbtype, htype, set, shared, publish, lpush, rpush, ltype};
    shared_max_len = max_len;
    shared_max_count = max_count;
    for (int i = 0; i < 11; i++) {
        Py_INCREF(values[i]);
        Py_XSETREF(*slots[i], values[i]);
    }
    fast_configured = 1;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"run", (PyCFunction)(void (*)(void))run, METH_FASTCALL, "Run the hot requests at the parser's position."},
    {"configure", configure, METH_VARARGS, "Bind the module to the engine's classes and reply objects."},
    {"configure_fast", configure_fast, METH_VARARGS, "Bind the handlers that have a C version to them."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_hotloop", NULL, -1, methods};

PyMODINIT_FUNC PyInit__hotloop(void) {
    struct {
        PyObject **slot;
        const char *text;
    } names[] = {
        {&str_on, "on"},
        {&s_dirty, "dirty"},
        {&s_also, "_also"},
        {&s_rewritten, "_rewritten"},
        {&s_prevent, "_prevent"},
        {&s_propagation_consumers, "propagation_consumers"},
        {&s_propagate, "_propagate"},
        {&s_current_client, "current_client"},
        {&s_slow_us, "slow_us"},
        {&s_after_command_hooks, "after_command_hooks"},
        {&s_ready_keys, "ready_keys"},
        {&s_handle_ready_keys, "handle_ready_keys"},
        {&s_run_slow_hooks, "run_slow_hooks"},
        {&s_run_after_command_hooks, "run_after_command_hooks"},
        {&s_error_reply, "error_reply"},
        {&s_gated, "gated"},
        {&s_stats, "stats"},
        {&s_calls, "calls"},
        {&s_usec, "usec"},
        {&s_failed_calls, "failed_calls"},
        {&s_latency_us, "latency_us"},
        {&s_total_commands_processed, "total_commands_processed"},
        {&s_key_modified_hooks, "key_modified_hooks"},
        {&s_notify_flags, "notify_flags"},
        {&s_config, "config"},
        {&s_values, "values"},
        {&s_hash_max_entries, "hash-max-listpack-entries"},
        {&s_hash_max_value, "hash-max-listpack-value"},
        {&s_extensions, "extensions"},
        {&s_pubsub, "pubsub"},
        {&s_channels, "channels"},
        {&s_patterns, "patterns"},
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        *names[i].slot = PyUnicode_InternFromString(names[i].text);
        if (*names[i].slot == NULL)
            return NULL;
    }
    return PyModule_Create(&module);
}
